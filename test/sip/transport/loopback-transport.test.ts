// Tests of the in-memory loopback network: wire round trip, routing, streams, and every switch (seeded).
import { describe, expect, it } from 'vitest';
import { SipResponse } from '../../../firmware/sip/message/message.js';
import { LoopbackNetwork, LoopbackSendError, seededRandom } from '../../../firmware/sip/transport/loopback-transport.js';
import type { InboundMessage } from '../../../firmware/sip/transport/transport.js';
import { VirtualClock } from '../../../firmware/util/clock.js';
import { flush } from '../support/flush.js';
import { makeRequest } from '../support/sip-builders.js';

function setup(seed = 1) {
  const clock = new VirtualClock();
  const network = new LoopbackNetwork({ clock, seed });
  const a = network.attach({ address: '10.0.0.1' });
  const b = network.attach({ address: '10.0.0.2' });
  const atB: InboundMessage[] = [];
  const atA: InboundMessage[] = [];
  b.on('message', (m) => atB.push(m));
  a.on('message', (m) => atA.push(m));
  return { clock, network, a, b, atA, atB };
}

const options = (n = 1) => makeRequest({ method: 'OPTIONS', cseq: n, via: { host: '10.0.0.1', port: 5060, branch: `z9hG4bK-${n}` } });
const udpB = { protocol: 'udp', address: '10.0.0.2', port: 5060 } as const;
const tcpB = { protocol: 'tcp', address: '10.0.0.2', port: 5060 } as const;

describe('LoopbackNetwork', () => {
  it('serializes and re-parses every message, and reports source, local address and arrival time', async () => {
    const { a, atB, clock } = setup();
    const req = options();
    const r = await a.send(req, udpB);
    expect(r).toEqual({ ok: true, protocol: 'udp', local: { protocol: 'udp', address: '10.0.0.1', port: 5060 } });
    await flush();
    expect(atB).toHaveLength(1);
    const got = atB[0]!;
    expect(got.message).not.toBe(req);
    expect(got.message.kind).toBe('request');
    expect(got.message.callId).toBe(req.callId);
    expect(got.message.get('Content-Length')).toBe('0');
    expect(got.source).toEqual({ protocol: 'udp', address: '10.0.0.1', port: 5060 });
    expect(got.local).toEqual({ protocol: 'udp', address: '10.0.0.2', port: 5060 });
    expect(got.connectionId).toBeUndefined();
    expect(got.receivedAtMs).toBe(clock.now());
  });

  it('drops a message the receiver cannot parse (a response without Via)', async () => {
    const { a, atB, network } = setup();
    const bad = new SipResponse({ status: 200, reason: 'OK' });
    bad.append('Call-ID', 'x').append('CSeq', '1 OPTIONS').append('From', '<sip:a@x>;tag=1').append('To', '<sip:b@x>');
    expect((await a.send(bad, udpB)).ok).toBe(true);
    await flush();
    expect(atB).toHaveLength(0);
    expect(network.stats.unparseable).toBe(1);
  });

  it('loses a datagram to nowhere but refuses a stream to nowhere', async () => {
    const { a, network } = setup();
    expect((await a.send(options(), { protocol: 'udp', address: '10.9.9.9', port: 5060 })).ok).toBe(true);
    const r = await a.send(options(), { protocol: 'tcp', address: '10.9.9.9', port: 5060 });
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error).toBeInstanceOf(LoopbackSendError);
      expect(r.error instanceof LoopbackSendError && r.error.code).toBe('refused');
    }
    expect(network.stats.unroutable).toBe(2);
  });

  it('reports reliability per protocol and the local address of each protocol it listens on', () => {
    const { network } = setup();
    const t = network.attach({ address: '10.0.0.3', port: 5070, protocols: ['udp'] });
    expect(t.isReliable('udp')).toBe(false);
    expect(t.isReliable('tcp')).toBe(true);
    expect(t.isReliable('tls')).toBe(true);
    expect(t.localAddress('udp')).toEqual({ protocol: 'udp', address: '10.0.0.3', port: 5070 });
    expect(t.localAddress('tcp')).toBeUndefined();
    expect(() => network.attach({ address: '10.0.0.3', port: 5070 })).toThrow(/already attached/);
  });

  it('opens a stream connection on the first send and answers on it', async () => {
    const { a, b, atA, atB, network } = setup();
    const r = await a.send(options(), tcpB);
    expect(r.ok && r.connectionId).toMatch(/^loop-tcp-/);
    await flush();
    const inbound = atB[0]!;
    expect(inbound.connectionId).toBe(r.ok ? r.connectionId : '');
    // A second send reuses it.
    const r2 = await a.send(options(2), tcpB);
    expect(r2.ok && r2.connectionId).toBe(inbound.connectionId);
    // The answer goes back on the connection, whatever address is given.
    await b.send(options(3), { protocol: 'tcp', address: '0.0.0.0', port: 1, connectionId: inbound.connectionId });
    await flush();
    expect(atA).toHaveLength(1);
    expect(atA[0]!.connectionId).toBe(inbound.connectionId);
    expect(network.openConnections).toEqual([inbound.connectionId]);
  });

  it('breaks a connection: both ends hear of it and later sends on it fail', async () => {
    const { a, b, atB, network } = setup();
    const closedA: string[] = [];
    const closedB: string[] = [];
    a.on('connection-closed', (c) => closedA.push(`${c.connectionId} ${c.remote.address}`));
    b.on('connection-closed', (c) => closedB.push(`${c.connectionId} ${c.remote.address}`));
    await a.send(options(), tcpB);
    await flush();
    const id = atB[0]!.connectionId!;
    network.breakConnection(id);
    expect(closedA).toEqual([`${id} 10.0.0.2`]);
    expect(closedB).toEqual([`${id} 10.0.0.1`]);
    const r = await b.send(options(2), { ...tcpB, address: '10.0.0.1', connectionId: id });
    expect(r.ok).toBe(false);
  });

  it('fails sends: always, the next N, by predicate, per transport; a closed transport fails too', async () => {
    const { a, b, network } = setup();
    network.impair({ fail: true });
    expect((await a.send(options(), udpB)).ok).toBe(false);
    network.clearImpairments();
    network.impair({ failNext: 2 });
    const results = [];
    for (let i = 0; i < 3; i++) results.push((await a.send(options(i), udpB)).ok);
    expect(results).toEqual([false, false, true]);
    network.clearImpairments();
    network.impair({ fail: (p) => p.message.kind === 'request' && p.message.cseq.seq === 7 });
    expect((await a.send(options(7), udpB)).ok).toBe(false);
    expect((await a.send(options(8), udpB)).ok).toBe(true);
    network.clearImpairments();
    b.impair({ fail: true });
    expect((await a.send(options(), udpB)).ok).toBe(true);
    expect((await b.send(options(), { ...udpB, address: '10.0.0.1' })).ok).toBe(false);
    await a.close();
    const r = await a.send(options(), udpB);
    expect(!r.ok && r.error instanceof LoopbackSendError && r.error.code).toBe('transport-closed');
    expect(network.stats.failed).toBe(5);
  });

  it('drops the next N and the ones a predicate selects, on every protocol', async () => {
    const { a, atB, network } = setup();
    network.impair({ dropNext: 1 });
    await a.send(options(1), tcpB);
    await a.send(options(2), tcpB);
    network.impair({ dropIf: (p) => p.message.kind === 'request' && p.message.cseq.seq === 3 });
    await a.send(options(3), udpB);
    await a.send(options(4), udpB);
    await flush();
    expect(atB.map((m) => m.message.cseq.seq)).toEqual([2, 4]);
    expect(network.stats.dropped).toBe(2);
  });

  it('drops datagrams with a seeded probability: the same seed loses the same ones', async () => {
    const run = async (seed: number) => {
      const { a, atB, network } = setup(seed);
      network.impair({ dropProbability: 0.3 });
      for (let i = 1; i <= 200; i++) await a.send(options(i), udpB);
      await flush();
      return atB.map((m) => m.message.cseq.seq);
    };
    const first = await run(42);
    expect(await run(42)).toEqual(first);
    expect(await run(43)).not.toEqual(first);
    // About 30 % lost.
    expect(200 - first.length).toBeGreaterThan(40);
    expect(200 - first.length).toBeLessThan(80);
  });

  it('never drops, duplicates or reorders a stream by probability', async () => {
    const { a, atB, network } = setup();
    network.impair({ dropProbability: 1, duplicateProbability: 1, reorderProbability: 1, jitterMs: 100 });
    for (let i = 1; i <= 5; i++) await a.send(options(i), tcpB);
    await flush();
    expect(atB.map((m) => m.message.cseq.seq)).toEqual([1, 2, 3, 4, 5]);
  });

  it('delays by a fixed time plus seeded jitter, on the clock', async () => {
    const { a, atB, network, clock } = setup();
    network.impair({ delayMs: 100, jitterMs: 50 });
    await a.send(options(), udpB);
    await clock.advance(99);
    expect(atB).toHaveLength(0);
    await clock.advance(51);
    expect(atB).toHaveLength(1);
    expect(atB[0]!.receivedAtMs).toBeGreaterThanOrEqual(100);
    expect(atB[0]!.receivedAtMs).toBeLessThan(150);
  });

  it('keeps a stream in order whatever the delays', async () => {
    const { a, atB, clock } = setup();
    a.impair({ delayMs: 100 });
    await a.send(options(1), tcpB);
    a.impair({ delayMs: 0 });
    await a.send(options(2), tcpB);
    await clock.advance(200);
    expect(atB.map((m) => m.message.cseq.seq)).toEqual([1, 2]);
  });

  it('duplicates datagrams', async () => {
    const { a, atB, network } = setup();
    network.impair({ duplicateProbability: 1 });
    await a.send(options(), udpB);
    await flush();
    expect(atB).toHaveLength(2);
    expect(network.stats.duplicated).toBe(1);
  });

  it('reorders datagrams: a held-back one is overtaken', async () => {
    const { a, atB, network, clock } = setup();
    network.impair({ reorderProbability: 1, reorderHoldMs: 30 });
    await a.send(options(1), udpB);
    network.impair({ reorderProbability: 0 });
    await a.send(options(2), udpB);
    await clock.advance(50);
    expect(atB.map((m) => m.message.cseq.seq)).toEqual([2, 1]);
  });

  it('reports the fate of every packet', async () => {
    const { a, network } = setup();
    const fates: string[] = [];
    network.on('packet', (p) => fates.push(p.fate));
    network.impair({ dropNext: 1 });
    await a.send(options(1), udpB);
    await a.send(options(2), udpB);
    await flush();
    expect(fates).toEqual(['dropped', 'delivered']);
  });

  it('seededRandom is deterministic and in [0, 1)', () => {
    const r1 = seededRandom(7);
    const r2 = seededRandom(7);
    const xs = Array.from({ length: 1000 }, () => r1());
    expect(Array.from({ length: 1000 }, () => r2())).toEqual(xs);
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
    expect(seededRandom(0)()).not.toBe(seededRandom(1)());
  });
});
