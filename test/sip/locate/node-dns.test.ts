// node:dns for real: NodeDnsResolver and the locator against a DNS responder on 127.0.0.1 (NAPTR → SRV → A/AAAA over UDP).
import { createSocket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { type DnsZone, LocateError, NodeDnsResolver, ServerLocator } from '../../../firmware/sip/locate/index.js';
import { VirtualClock } from '../../../firmware/util/clock.js';
import { type DnsResponder, startDnsResponder } from './support/dns-responder.js';
import { seededRandom } from './support/seeded-random.js';

const ZONE: DnsZone = {
  naptr: {
    'voip.test': [
      { order: 20, preference: 10, flags: 'S', service: 'SIP+D2U', regexp: '', replacement: '_sip._udp.voip.test' },
      { order: 10, preference: 10, flags: 's', service: 'SIP+D2T', regexp: '', replacement: '_sip._tcp.voip.test' },
    ],
  },
  srv: {
    '_sip._udp.voip.test': [{ priority: 10, weight: 10, port: 5070, name: 'pbx.voip.test' }],
    '_sip._tcp.voip.test': [{ priority: 10, weight: 10, port: 5080, name: 'pbx.voip.test' }],
  },
  a: { 'pbx.voip.test': ['127.0.0.1'], 'plain.voip.test': ['127.0.0.2'] },
  aaaa: { 'pbx.voip.test': ['::1'] },
  failures: { 'broken.voip.test': 'SERVFAIL', 'silent.voip.test': 'TIMEOUT' },
  ttlSec: 120,
};

describe('NodeDnsResolver against a DNS server on 127.0.0.1', () => {
  let server: DnsResponder | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  async function setup(): Promise<{ dns: NodeDnsResolver; server: DnsResponder }> {
    server = await startDnsResponder(ZONE);
    // Only the local responder: no query may leave the machine.
    const dns = new NodeDnsResolver({ servers: [`127.0.0.1:${server.port}`], queryTimeoutMs: 300, tries: 1 });
    return { dns, server };
  }

  it('decodes NAPTR, SRV, A (with TTL) and AAAA', async () => {
    const { dns } = await setup();
    expect((await dns.naptr('voip.test')).records.map((r) => `${r.order} ${r.preference} ${r.flags} ${r.service} ${r.replacement}`).sort()).toEqual([
      '10 10 s SIP+D2T _sip._tcp.voip.test',
      '20 10 S SIP+D2U _sip._udp.voip.test',
    ]);
    expect((await dns.srv('_sip._udp.voip.test')).records).toEqual([{ priority: 10, weight: 10, port: 5070, name: 'pbx.voip.test' }]);
    expect(await dns.a('pbx.voip.test')).toEqual({ records: ['127.0.0.1'], ttlSec: 120 });
    expect((await dns.aaaa('pbx.voip.test')).records).toEqual(['::1']);
  });

  it('maps NODATA to no records and NXDOMAIN, SERVFAIL, silence to typed errors', async () => {
    const { dns } = await setup();
    expect((await dns.aaaa('plain.voip.test')).records).toEqual([]);
    await expect(dns.a('nowhere.voip.test')).rejects.toMatchObject({ name: 'DnsLookupError', code: 'NXDOMAIN', rrtype: 'A', hostname: 'nowhere.voip.test' });
    await expect(dns.srv('broken.voip.test')).rejects.toMatchObject({ code: 'SERVFAIL' });
    await expect(dns.a('silent.voip.test')).rejects.toMatchObject({ code: 'TIMEOUT' });
  });

  it('with systemFallback, a name DNS does not know is looked up in /etc/hosts (getaddrinfo)', async () => {
    const { server: s } = await setup();
    const withHosts = new NodeDnsResolver({ servers: [`127.0.0.1:${s.port}`], queryTimeoutMs: 300, tries: 1, systemFallback: true });
    // Our DNS server says NXDOMAIN for localhost; /etc/hosts has it.
    expect((await withHosts.a('localhost')).records).toContain('127.0.0.1');
    expect(s.queries).toContain('A localhost');
    // A name DNS answers is not looked up again.
    expect((await withHosts.a('pbx.voip.test')).records).toEqual(['127.0.0.1']);
  });

  it('locates sip:voip.test through NAPTR → SRV → A/AAAA', async () => {
    const { dns, server } = await setup();
    const loc = new ServerLocator({ dns, clock: new VirtualClock(), random: seededRandom(1) });
    const list = await loc.locate('sip:1001@voip.test');
    expect([...list].map((t) => `${t.protocol} ${t.address} ${t.port} ${t.serverName}`)).toEqual([
      'tcp 127.0.0.1 5080 voip.test',
      'tcp ::1 5080 voip.test',
      'udp 127.0.0.1 5070 voip.test',
      'udp ::1 5070 voip.test',
    ]);
    expect(server.queries).toContain('NAPTR voip.test');
    expect(server.queries).toContain('SRV _sip._tcp.voip.test');
  });

  it('reports a missing domain as NOT_FOUND and a dead server as DNS_FAILURE', async () => {
    const { dns } = await setup();
    const loc = new ServerLocator({ dns, clock: new VirtualClock() });
    await expect(loc.locate('sip:nobody@nowhere.test')).rejects.toThrow(/the domain nowhere\.test does not exist \(NXDOMAIN\)/);
    // A "server" that reads every question and answers none.
    const mute = createSocket('udp4');
    await new Promise<void>((resolve) => mute.bind(0, '127.0.0.1', resolve));
    const dead = new ServerLocator({ dns: new NodeDnsResolver({ servers: [`127.0.0.1:${mute.address().port}`], queryTimeoutMs: 200, tries: 1 }), clock: new VirtualClock() });
    const err = await dead.locate('sip:voip.test').catch((e: unknown) => e);
    await new Promise<void>((resolve) => mute.close(resolve));
    expect(err).toBeInstanceOf(LocateError);
    expect(err).toMatchObject({ code: 'DNS_FAILURE' });
  });
});
