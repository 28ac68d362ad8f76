// The DNS cache: answers kept for their TTL on the clock, negative answers briefly, failures never, queries merged.
import { describe, expect, it } from 'vitest';
import { CachingDnsResolver, type DnsAnswer, type DnsResolver, StaticDnsResolver } from '../../../firmware/sip/locate/index.js';
import { VirtualClock } from '../../../firmware/util/clock.js';

function setup(ttlSec = 60): { dns: StaticDnsResolver; cache: CachingDnsResolver; clock: VirtualClock } {
  const clock = new VirtualClock();
  const dns = new StaticDnsResolver({ a: { 'h.test': ['192.0.2.1'] }, srv: { '_sip._udp.h.test': [{ priority: 1, weight: 1, port: 5060, name: 'h.test' }] }, failures: { 'down.test': 'SERVFAIL' }, ttlSec });
  const cache = new CachingDnsResolver(dns, { clock, negativeTtlSec: 10 });
  return { dns, cache, clock };
}

describe('CachingDnsResolver', () => {
  it('serves an answer from the cache until its TTL runs out', async () => {
    const { dns, cache, clock } = setup(60);
    expect((await cache.a('H.test.')).records).toEqual(['192.0.2.1']);
    dns.setZone({ a: { 'h.test': ['192.0.2.2'] } });
    await clock.advance(59_000);
    const cached = await cache.a('h.test');
    expect(cached.records).toEqual(['192.0.2.1']);
    expect(cached.ttlSec).toBe(1);
    await clock.advance(1_000);
    expect((await cache.a('h.test')).records).toEqual(['192.0.2.2']);
    expect(dns.queries).toEqual(['A h.test', 'A h.test']);
  });

  it('uses the default TTL for answers that carry none (node:dns NAPTR/SRV) and caps long TTLs', async () => {
    const clock = new VirtualClock();
    let calls = 0;
    const upstream: DnsResolver = {
      naptr: () => Promise.resolve({ records: [], ttlSec: undefined }),
      srv: () => {
        calls++;
        return Promise.resolve({ records: [{ priority: 1, weight: 1, port: 5060, name: 'x' }], ttlSec: undefined });
      },
      a: () => {
        calls++;
        return Promise.resolve({ records: ['192.0.2.1'], ttlSec: 86_400 });
      },
      aaaa: () => Promise.resolve<DnsAnswer<string>>({ records: [], ttlSec: undefined }),
    };
    const cache = new CachingDnsResolver(upstream, { clock, defaultTtlSec: 20, maxTtlSec: 100 });
    await cache.srv('_sip._udp.x');
    await clock.advance(19_999);
    await cache.srv('_sip._udp.x');
    expect(calls).toBe(1);
    await clock.advance(1);
    await cache.srv('_sip._udp.x');
    expect(calls).toBe(2);
    await cache.a('x');
    await clock.advance(100_000);
    await cache.a('x');
    expect(calls).toBe(4);
  });

  it('remembers NXDOMAIN and NODATA for the negative TTL only', async () => {
    const { dns, cache, clock } = setup();
    await expect(cache.a('missing.test')).rejects.toMatchObject({ code: 'NXDOMAIN' });
    await expect(cache.a('missing.test')).rejects.toMatchObject({ code: 'NXDOMAIN' });
    expect((await cache.aaaa('h.test')).records).toEqual([]);
    expect((await cache.aaaa('h.test')).records).toEqual([]);
    expect(dns.queries).toEqual(['A missing.test', 'AAAA h.test']);
    await clock.advance(10_000);
    await expect(cache.a('missing.test')).rejects.toMatchObject({ code: 'NXDOMAIN' });
    expect(dns.queries).toHaveLength(3);
  });

  it('never caches a server failure', async () => {
    const { dns, cache } = setup();
    await expect(cache.a('down.test')).rejects.toMatchObject({ code: 'SERVFAIL' });
    await expect(cache.a('down.test')).rejects.toMatchObject({ code: 'SERVFAIL' });
    expect(dns.queries).toEqual(['A down.test', 'A down.test']);
  });

  it('merges identical queries in flight into one', async () => {
    const { dns, cache } = setup();
    const answers = await Promise.all([cache.srv('_sip._udp.h.test'), cache.srv('_SIP._udp.h.test'), cache.srv('_sip._udp.h.test.')]);
    expect(answers.map((a) => a.records.length)).toEqual([1, 1, 1]);
    expect(dns.queries).toEqual(['SRV _sip._udp.h.test']);
  });

  it('does not keep answers with TTL 0, and clear() forgets everything', async () => {
    const { dns, cache } = setup(0);
    await cache.a('h.test');
    await cache.a('h.test');
    expect(dns.queries).toHaveLength(2);
    dns.setZone({ a: { 'h.test': ['192.0.2.1'] }, ttlSec: 60 });
    await cache.a('h.test');
    expect(cache.size).toBe(1);
    cache.clear();
    expect(cache.size).toBe(0);
  });
});
