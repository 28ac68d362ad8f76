// RFC 2782 SRV ordering: priority first, then the weighted random choice, checked over many seeded draws.
import { describe, expect, it } from 'vitest';
import { type SrvRecord, orderSrv } from '../../../firmware/sip/locate/index.js';
import { seededRandom } from './support/seeded-random.js';

const srv = (priority: number, weight: number, name: string, port = 5060): SrvRecord => ({ priority, weight, port, name });

describe('orderSrv (RFC 2782)', () => {
  it('puts lower priorities first, whatever the weights', () => {
    const random = seededRandom(1);
    const records = [srv(20, 100, 'c'), srv(10, 0, 'a'), srv(30, 5, 'd'), srv(10, 0, 'b')];
    for (let i = 0; i < 50; i++) {
      const names = orderSrv(records, random).map((r) => r.name);
      expect(names.slice(2)).toEqual(['c', 'd']);
      expect([...names.slice(0, 2)].sort()).toEqual(['a', 'b']);
    }
  });

  it('drops the "." target (service decidedly not available)', () => {
    expect(orderSrv([srv(10, 0, '.'), srv(20, 0, 'b')], Math.random).map((r) => r.name)).toEqual(['b']);
  });

  it('returns every record exactly once', () => {
    const random = seededRandom(7);
    const records = [srv(1, 10, 'a'), srv(1, 20, 'b'), srv(1, 0, 'c'), srv(2, 1, 'd'), srv(2, 1, 'e')];
    for (let i = 0; i < 100; i++) expect(orderSrv(records, random).map((r) => r.name).sort()).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('picks the first record in proportion to weight (pick uniform in 0..sum inclusive)', () => {
    const random = seededRandom(20240601);
    const records = [srv(10, 60, 'w60'), srv(10, 30, 'w30'), srv(10, 10, 'w10'), srv(10, 0, 'w0')];
    const runs = 20_000;
    const first = new Map<string, number>();
    const second = new Map<string, number>();
    for (let i = 0; i < runs; i++) {
      const o = orderSrv(records, random);
      first.set(o[0]!.name, (first.get(o[0]!.name) ?? 0) + 1);
      second.set(o[1]!.name, (second.get(o[1]!.name) ?? 0) + 1);
    }
    // Sum 100: the number drawn is one of 101 values; 0 selects the weight-0 record (placed first).
    const share = (name: string): number => (first.get(name) ?? 0) / runs;
    expect(share('w60')).toBeCloseTo(60 / 101, 1);
    expect(share('w30')).toBeCloseTo(30 / 101, 1);
    expect(share('w10')).toBeCloseTo(10 / 101, 1);
    expect(Math.abs(share('w60') - 60 / 101)).toBeLessThan(0.015);
    expect(Math.abs(share('w30') - 30 / 101)).toBeLessThan(0.015);
    expect(Math.abs(share('w10') - 10 / 101)).toBeLessThan(0.01);
    expect(share('w0')).toBeGreaterThan(0);
    expect(share('w0')).toBeLessThan(0.02);
    // Second place: after w60 was taken (p≈0.59) w30 wins 30/41 of the time, so w30 leads there.
    const secondW30 = (second.get('w30') ?? 0) / runs;
    expect(secondW30).toBeGreaterThan(0.45);
  });

  it('is deterministic for a given random source', () => {
    const records = [srv(1, 50, 'a'), srv(1, 50, 'b'), srv(1, 50, 'c')];
    const a = orderSrv(records, seededRandom(99)).map((r) => r.name);
    const b = orderSrv(records, seededRandom(99)).map((r) => r.name);
    expect(a).toEqual(b);
  });

  it('with all weights 0, each record comes first about as often (RFC 2782 "in any order": a random one)', () => {
    const random = seededRandom(3);
    let aFirst = 0;
    const runs = 2000;
    for (let i = 0; i < runs; i++) if (orderSrv([srv(1, 0, 'a'), srv(1, 0, 'b')], random)[0]!.name === 'a') aFirst++;
    expect(aFirst / runs).toBeGreaterThan(0.45);
    expect(aFirst / runs).toBeLessThan(0.55);
  });
});
