// Failover over located targets (RFC 3263 §4.3) and the blacklist of failed targets, on a virtual clock.
import { describe, expect, it } from 'vitest';
import { type DnsZone, ServerLocator, type SrvRecord, StaticDnsResolver, TargetBlacklist, TargetList } from '../../../firmware/sip/locate/index.js';
import { VirtualClock } from '../../../firmware/util/clock.js';
import { seededRandom } from './support/seeded-random.js';

const srv = (priority: number, port: number, name: string): SrvRecord => ({ priority, weight: 0, port, name });

/** Three servers by priority: a (10), b (20), c (30), UDP only, IPv4 only. */
const ZONE: DnsZone = {
  srv: { '_sip._udp.fo.test': [srv(30, 5060, 'c.fo.test'), srv(10, 5060, 'a.fo.test'), srv(20, 5060, 'b.fo.test')] },
  a: { 'a.fo.test': ['192.0.2.1'], 'b.fo.test': ['192.0.2.2'], 'c.fo.test': ['192.0.2.3'] },
};

function setup(): { loc: ServerLocator; clock: VirtualClock } {
  const clock = new VirtualClock();
  const loc = new ServerLocator({ dns: new StaticDnsResolver(ZONE), clock, transports: ['udp'], families: [4], random: seededRandom(1), blacklistMs: 30_000 });
  return { loc, clock };
}

const addr = (t: { address: string } | undefined): string | undefined => t?.address;

describe('TargetList failover (RFC 3263 §4.3)', () => {
  it('walks the targets in order on timeouts, transport errors and 503, then ends', async () => {
    const { loc } = setup();
    const list = await loc.locate('sip:fo.test');
    expect(list.current).toBeUndefined();
    expect(addr(list.next())).toBe('192.0.2.1');
    expect(addr(list.current)).toBe('192.0.2.1');
    expect(addr(list.failover({ reason: 'timeout' }))).toBe('192.0.2.2');
    expect(addr(list.failover({ reason: 'transport-error' }))).toBe('192.0.2.3');
    expect(list.remaining).toBe(0);
    expect(list.failover({ reason: 'service-unavailable' })).toBeUndefined();
    expect(list.current).toBeUndefined();
    expect(list.next()).toBeUndefined();
  });

  it('a later request tries blacklisted targets last, until the blacklist time is over', async () => {
    const { loc, clock } = setup();
    const first = await loc.locate('sip:fo.test');
    first.next();
    first.failover({ reason: 'timeout' }); // a is blacklisted, b is current
    first.succeeded(first.current!);

    const second = await loc.locate('sip:fo.test');
    expect([second.next(), second.next(), second.next(), second.next()].map(addr)).toEqual(['192.0.2.2', '192.0.2.3', '192.0.2.1', undefined]);

    await clock.advance(30_000);
    const third = await loc.locate('sip:fo.test');
    expect(addr(third.next())).toBe('192.0.2.1');
  });

  it('a 503 with Retry-After blacklists for that long', async () => {
    const { loc, clock } = setup();
    const first = await loc.locate('sip:fo.test');
    first.next();
    first.failover({ reason: 'service-unavailable', retryAfterMs: 5_000 });
    expect(addr((await loc.locate('sip:fo.test')).next())).toBe('192.0.2.2');
    await clock.advance(5_000);
    expect(addr((await loc.locate('sip:fo.test')).next())).toBe('192.0.2.1');
  });

  it('a target blacklisted during the walk (by another request) is passed over', async () => {
    const { loc } = setup();
    const list = await loc.locate('sip:fo.test');
    const other = await loc.locate('sip:fo.test');
    list.next();
    other.next();
    other.next();
    other.failed(other.current!, { reason: 'timeout' }); // b
    expect(addr(list.failover({ reason: 'timeout' }))).toBe('192.0.2.3');
    expect(addr(list.next())).toBe('192.0.2.2');
  });

  it('when every target is blacklisted they are still tried, in order', () => {
    const clock = new VirtualClock();
    const blacklist = new TargetBlacklist({ clock });
    const targets = ['192.0.2.1', '192.0.2.2'].map((address) => ({ protocol: 'udp' as const, address, port: 5060, serverName: undefined }));
    for (const t of targets) blacklist.add(t);
    const list = new TargetList({ uri: 'sip:x', targets, blacklist });
    expect([list.next(), list.next(), list.next()].map(addr)).toEqual(['192.0.2.1', '192.0.2.2', undefined]);
  });
});

describe('TargetBlacklist', () => {
  it('forgets entries after their time, keeps the longest time, bounds its size', async () => {
    const clock = new VirtualClock();
    const bl = new TargetBlacklist({ clock, defaultDurationMs: 1000, maxEntries: 2 });
    const t = (port: number): { protocol: 'udp'; address: string; port: number } => ({ protocol: 'udp', address: '192.0.2.1', port });
    bl.add(t(1), 5000);
    bl.add(t(1)); // shorter: keeps 5000
    await clock.advance(2000);
    expect(bl.has(t(1))).toBe(true);
    await clock.advance(3000);
    expect(bl.has(t(1))).toBe(false);
    bl.add(t(2), 100);
    bl.add(t(3), 200);
    bl.add(t(4), 300); // over the bound: the soonest to expire (port 2) goes
    expect([2, 3, 4].map((p) => bl.has(t(p)))).toEqual([false, true, true]);
    bl.add({ protocol: 'tcp', address: '192.0.2.1', port: 3 }, 0); // zero time: nothing
    expect(bl.has({ protocol: 'tcp', address: '192.0.2.1', port: 3 })).toBe(false);
  });
});
