// RFC 3263 server location over tables of DNS records: transport, port and address selection, errors.
import { describe, expect, it } from 'vitest';
import { sipUri, uri } from '../../../firmware/sip/message/index.js';
import {
  type DnsZone,
  LocateError,
  type NaptrRecord,
  ServerLocator,
  type ServerLocatorOptions,
  type ServerTarget,
  type SrvRecord,
  StaticDnsResolver,
} from '../../../firmware/sip/locate/index.js';
import { VirtualClock } from '../../../firmware/util/clock.js';
import { seededRandom } from './support/seeded-random.js';

const naptr = (order: number, preference: number, service: string, replacement: string, flags = 'S'): NaptrRecord => ({ order, preference, flags, service, regexp: '', replacement });
const srv = (priority: number, weight: number, port: number, name: string): SrvRecord => ({ priority, weight, port, name });

/** "udp 192.0.2.1:5060 example.com" (serverName "-" when there is none): easy to read in a table. */
const show = (t: ServerTarget): string => `${t.protocol} ${t.address.includes(':') ? `[${t.address}]` : t.address}:${t.port} ${t.serverName ?? '-'}`;

/** example.com with the three NAPTRs of RFC 3263 §4.1's example, in scrambled order, and everything they point to. */
const EXAMPLE: DnsZone = {
  naptr: {
    'example.com': [
      naptr(90, 50, 'SIP+D2U', '_sip._udp.example.com.'),
      naptr(50, 50, 'SIPS+D2T', '_sips._tcp.example.com.'),
      naptr(90, 40, 'SIP+D2T', '_sip._tcp.example.com'),
      naptr(10, 10, 'SIP+D2S', '_sip._sctp.example.com'),
      naptr(10, 10, 'E2U+sip', '!^.*$!sip:info@example.com!', 'U'),
    ],
  },
  srv: {
    '_sip._udp.example.com': [srv(0, 0, 5060, 'udp1.example.com')],
    '_sip._tcp.example.com': [srv(0, 0, 5060, 'tcp1.example.com')],
    '_sips._tcp.example.com': [srv(0, 0, 5061, 'tls1.example.com')],
    '_sip._sctp.example.com': [srv(0, 0, 5060, 'sctp.example.com')],
  },
  a: {
    'udp1.example.com': ['192.0.2.11'],
    'tcp1.example.com': ['192.0.2.12'],
    'tls1.example.com': ['192.0.2.13'],
    'example.com': ['192.0.2.10'],
  },
  aaaa: { 'tls1.example.com': ['2001:db8::13'] },
};

/** No NAPTR: SRV for UDP (two priorities, weights) and TCP, none for TLS. */
const SRV_ONLY: DnsZone = {
  srv: {
    '_sip._udp.srv.test': [srv(20, 0, 5070, 'backup.srv.test'), srv(10, 0, 5060, 'main.srv.test')],
    '_sip._tcp.srv.test': [srv(10, 0, 5080, 'main.srv.test')],
  },
  a: { 'main.srv.test': ['198.51.100.1'], 'backup.srv.test': ['198.51.100.2'], 'srv.test': ['198.51.100.9'] },
};

/** Only address records: A and AAAA of the domain itself. */
const A_ONLY: DnsZone = { a: { 'plain.test': ['203.0.113.5', '203.0.113.6'] }, aaaa: { 'plain.test': ['2001:DB8::5'] } };

interface Case {
  name: string;
  zone: DnsZone;
  uri: string;
  options?: Partial<ServerLocatorOptions>;
  targets: string[];
  /** The DNS queries made, in order, when the case cares. */
  queries?: string[];
}

const cases: Case[] = [
  { name: 'numeric IPv4: UDP on 5060, no DNS at all', zone: {}, uri: 'sip:1001@192.0.2.1', targets: ['udp 192.0.2.1:5060 -'], queries: [] },
  { name: 'numeric IPv4 with port and transport=tcp', zone: {}, uri: 'sip:192.0.2.1:5080;transport=TCP', targets: ['tcp 192.0.2.1:5080 -'] },
  { name: 'numeric sips: TLS on 5061', zone: {}, uri: 'sips:1001@192.0.2.1', targets: ['tls 192.0.2.1:5061 -'] },
  { name: 'numeric sips: with transport=tcp is TLS', zone: {}, uri: 'sips:192.0.2.1:6000;transport=tcp', targets: ['tls 192.0.2.1:6000 -'] },
  { name: 'IPv6 reference, brackets removed, lower-cased', zone: {}, uri: 'sip:alice@[2001:DB8::1]:5070', targets: ['udp [2001:db8::1]:5070 -'] },
  { name: 'maddr is the TARGET (RFC 3263 §4)', zone: EXAMPLE, uri: 'sip:alice@example.com;maddr=192.0.2.99', targets: ['udp 192.0.2.99:5060 -'], queries: [] },
  {
    name: 'explicit port on a name: A/AAAA only, no NAPTR or SRV',
    zone: EXAMPLE,
    uri: 'sip:alice@Example.COM:5099',
    targets: ['udp 192.0.2.10:5099 example.com'],
    queries: ['A example.com', 'AAAA example.com'],
  },
  {
    name: 'NAPTR: by order then preference; unsupported services and non-S flags ignored; serverName is the domain',
    zone: EXAMPLE,
    uri: 'sip:alice@example.com',
    targets: ['tls 192.0.2.13:5061 example.com', 'tls [2001:db8::13]:5061 example.com', 'tcp 192.0.2.12:5060 example.com', 'udp 192.0.2.11:5060 example.com'],
  },
  { name: 'NAPTR for sips: only SIPS services', zone: EXAMPLE, uri: 'sips:alice@example.com', targets: ['tls 192.0.2.13:5061 example.com', 'tls [2001:db8::13]:5061 example.com'] },
  {
    name: 'NAPTR restricted to the transports we have',
    zone: EXAMPLE,
    uri: 'sip:alice@example.com',
    options: { transports: ['udp', 'tcp'] },
    targets: ['tcp 192.0.2.12:5060 example.com', 'udp 192.0.2.11:5060 example.com'],
  },
  { name: 'IPv6 first when asked', zone: EXAMPLE, uri: 'sips:example.com', options: { families: [6, 4] }, targets: ['tls [2001:db8::13]:5061 example.com', 'tls 192.0.2.13:5061 example.com'] },
  { name: 'IPv4 only: no AAAA query', zone: EXAMPLE, uri: 'sip:example.com:5060', options: { families: [4] }, targets: ['udp 192.0.2.10:5060 example.com'], queries: ['A example.com'] },
  {
    name: 'explicit transport, no port: SRV of that transport only (no NAPTR)',
    zone: EXAMPLE,
    uri: 'sip:example.com;transport=tcp',
    targets: ['tcp 192.0.2.12:5060 example.com'],
    queries: ['SRV _sip._tcp.example.com', 'A tcp1.example.com', 'AAAA tcp1.example.com'],
  },
  { name: 'transport=tls on sip: uses _sips._tcp', zone: EXAMPLE, uri: 'sip:example.com;transport=tls', options: { families: [4] }, targets: ['tls 192.0.2.13:5061 example.com'] },
  {
    name: 'no NAPTR: SRV per supported transport, in our order of preference, priorities respected',
    zone: SRV_ONLY,
    uri: 'sip:bob@srv.test',
    targets: ['udp 198.51.100.1:5060 srv.test', 'udp 198.51.100.2:5070 srv.test', 'tcp 198.51.100.1:5080 srv.test'],
  },
  {
    name: 'no NAPTR, TCP preferred',
    zone: SRV_ONLY,
    uri: 'sip:bob@srv.test',
    options: { transports: ['tcp', 'udp'] },
    targets: ['tcp 198.51.100.1:5080 srv.test', 'udp 198.51.100.1:5060 srv.test', 'udp 198.51.100.2:5070 srv.test'],
  },
  {
    name: 'no NAPTR, sip: never queries _sips',
    zone: SRV_ONLY,
    uri: 'sip:bob@srv.test',
    options: { families: [4] },
    targets: ['udp 198.51.100.1:5060 srv.test', 'udp 198.51.100.2:5070 srv.test', 'tcp 198.51.100.1:5080 srv.test'],
    queries: ['NAPTR srv.test', 'SRV _sip._udp.srv.test', 'SRV _sip._tcp.srv.test', 'A backup.srv.test', 'A main.srv.test', 'A main.srv.test'],
  },
  { name: 'no NAPTR, no SRV: A and AAAA, UDP on 5060 (§4.1, §4.2)', zone: A_ONLY, uri: 'sip:plain.test', targets: ['udp 203.0.113.5:5060 plain.test', 'udp 203.0.113.6:5060 plain.test', 'udp [2001:db8::5]:5060 plain.test'] },
  { name: 'no NAPTR, no SRV, sips: TLS on 5061', zone: A_ONLY, uri: 'sips:plain.test', options: { families: [4] }, targets: ['tls 203.0.113.5:5061 plain.test', 'tls 203.0.113.6:5061 plain.test'] },
  { name: 'no NAPTR, no SRV, no UDP enabled: TCP', zone: A_ONLY, uri: 'sip:plain.test', options: { transports: ['tcp'], families: [4] }, targets: ['tcp 203.0.113.5:5060 plain.test', 'tcp 203.0.113.6:5060 plain.test'] },
  {
    name: 'NAPTR pointing at a missing SRV: falls back to SRV per transport, then A',
    zone: { naptr: { 'odd.test': [naptr(10, 10, 'SIP+D2U', '_sip._udp.gone.test')] }, a: { 'odd.test': ['192.0.2.77'] } },
    uri: 'sip:odd.test',
    options: { families: [4] },
    targets: ['udp 192.0.2.77:5060 odd.test'],
  },
  {
    name: 'NAPTR with the A flag: addresses of the replacement on the default port',
    zone: { naptr: { 'aflag.test': [naptr(10, 10, 'SIP+D2T', 'proxy.aflag.test', 'A')] }, a: { 'proxy.aflag.test': ['192.0.2.88'] } },
    uri: 'sip:aflag.test',
    options: { families: [4] },
    targets: ['tcp 192.0.2.88:5060 aflag.test'],
  },
  {
    name: 'duplicate targets (same SRV target twice) appear once',
    zone: { srv: { '_sip._udp.dup.test': [srv(10, 1, 5060, 'x.dup.test'), srv(20, 1, 5060, 'x.dup.test')] }, a: { 'x.dup.test': ['192.0.2.5'] } },
    uri: 'sip:dup.test',
    targets: ['udp 192.0.2.5:5060 dup.test'],
  },
  {
    name: 'an SRV target that does not resolve is skipped',
    zone: { srv: { '_sip._udp.half.test': [srv(10, 1, 5060, 'dead.half.test'), srv(20, 1, 5062, 'live.half.test')] }, a: { 'live.half.test': ['192.0.2.6'] } },
    uri: 'sip:half.test',
    options: { families: [4] },
    targets: ['udp 192.0.2.6:5062 half.test'],
  },
];

function locator(zone: DnsZone, options: Partial<ServerLocatorOptions> = {}): { loc: ServerLocator; dns: StaticDnsResolver; clock: VirtualClock } {
  const dns = new StaticDnsResolver(zone);
  const clock = new VirtualClock();
  return { loc: new ServerLocator({ dns, clock, random: seededRandom(42), ...options }), dns, clock };
}

describe('ServerLocator.locate (RFC 3263 §4)', () => {
  it.each(cases)('$name', async (c) => {
    const { loc, dns } = locator(c.zone, c.options);
    const list = await loc.locate(c.uri);
    expect([...list].map(show)).toEqual(c.targets);
    if (c.queries) expect([...dns.queries].sort()).toEqual([...c.queries].sort());
  });

  it('accepts a parsed URI as well as text', async () => {
    const { loc } = locator(EXAMPLE, { families: [4] });
    const list = await loc.locate(sipUri('sips:alice@example.com'));
    expect(list.uri).toBe('sips:alice@example.com');
    expect([...list].map(show)).toEqual(['tls 192.0.2.13:5061 example.com']);
  });

  it('spreads load over SRV records of one priority by weight', async () => {
    const zone: DnsZone = {
      srv: { '_sip._udp.lb.test': [srv(10, 75, 5060, 'a.lb.test'), srv(10, 25, 5060, 'b.lb.test')] },
      a: { 'a.lb.test': ['192.0.2.1'], 'b.lb.test': ['192.0.2.2'] },
    };
    const { loc } = locator(zone, { transports: ['udp'], families: [4], random: seededRandom(5) });
    let aFirst = 0;
    for (let i = 0; i < 1000; i++) if ((await loc.locate('sip:lb.test')).next()?.address === '192.0.2.1') aFirst++;
    expect(aFirst / 1000).toBeGreaterThan(0.68);
    expect(aFirst / 1000).toBeLessThan(0.8);
  });
});

interface ErrorCase {
  name: string;
  zone: DnsZone;
  uri: string;
  options?: Partial<ServerLocatorOptions>;
  code: LocateError['code'];
  message: RegExp;
}

const errorCases: ErrorCase[] = [
  { name: 'NXDOMAIN', zone: EXAMPLE, uri: 'sip:alice@nowhere.test', code: 'NOT_FOUND', message: /cannot locate sip:alice@nowhere\.test: the domain nowhere\.test does not exist \(NXDOMAIN\)/ },
  { name: 'tel: URI', zone: {}, uri: 'tel:+15551234', code: 'UNSUPPORTED_URI', message: /tel: URI has no server to locate/ },
  { name: 'malformed URI', zone: {}, uri: 'sip:', code: 'UNSUPPORTED_URI', message: /malformed URI/ },
  { name: 'sips: over UDP', zone: {}, uri: 'sips:192.0.2.1;transport=udp', code: 'UNSUPPORTED_TRANSPORT', message: /sips: URI cannot be reached over UDP/ },
  { name: 'unknown transport', zone: {}, uri: 'sip:192.0.2.1;transport=sctp', code: 'UNSUPPORTED_TRANSPORT', message: /transport=sctp is not supported/ },
  { name: 'TLS not enabled', zone: EXAMPLE, uri: 'sips:example.com', options: { transports: ['udp', 'tcp'] }, code: 'UNSUPPORTED_TRANSPORT', message: /needs TLS/ },
  { name: 'transport=tcp not enabled', zone: {}, uri: 'sip:192.0.2.1;transport=tcp', options: { transports: ['udp'] }, code: 'UNSUPPORTED_TRANSPORT', message: /TCP is not enabled/ },
  { name: 'DNS times out', zone: { failures: { 'slow.test': 'TIMEOUT' } }, uri: 'sip:slow.test', code: 'DNS_FAILURE', message: /DNS failed: NAPTR slow\.test: TIMEOUT/ },
  { name: 'domain exists without any address', zone: { naptr: { 'empty.test': [] }, a: { 'www.empty.test': ['192.0.2.1'] } }, uri: 'sip:empty.test', code: 'NO_TARGETS', message: /empty\.test has no usable NAPTR, SRV, A or AAAA record/ },
  { name: 'SRV says "." (service not available): no A fallback', zone: { srv: { '_sip._udp.no.test': [srv(0, 0, 0, '.')] }, a: { 'no.test': ['192.0.2.1'] } }, uri: 'sip:no.test', options: { transports: ['udp'] }, code: 'NO_TARGETS', message: /no usable/ },
];

describe('ServerLocator.locate errors', () => {
  it.each(errorCases)('$name → $code', async (c) => {
    const { loc } = locator(c.zone, c.options);
    const err = await loc.locate(c.uri).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(LocateError);
    expect((err as LocateError).code).toBe(c.code);
    expect((err as LocateError).message).toMatch(c.message);
  });

  it('NXDOMAIN skips the SRV queries (nothing exists below a missing name, RFC 8020)', async () => {
    const { loc, dns } = locator(EXAMPLE);
    await expect(loc.locate('sip:nowhere.test')).rejects.toMatchObject({ code: 'NOT_FOUND', dnsError: { code: 'NXDOMAIN', hostname: 'nowhere.test' } });
    expect(dns.queries).toEqual(['NAPTR nowhere.test', 'A nowhere.test', 'AAAA nowhere.test']);
  });

  it('a tel: URI object is refused too', async () => {
    const { loc } = locator({});
    await expect(loc.locate(uri('tel:+15551234'))).rejects.toMatchObject({ code: 'UNSUPPORTED_URI' });
  });
});

describe('ServerLocator.locateSentBy (RFC 3263 §5, responses)', () => {
  it('numeric sent-by: as is, default port per transport', async () => {
    const { loc } = locator({});
    expect([...(await loc.locateSentBy({ protocol: 'tls', host: '[2001:db8::7]' }))].map(show)).toEqual(['tls [2001:db8::7]:5061 -']);
  });

  it('name without port: SRV for the Via transport, no NAPTR', async () => {
    const { loc, dns } = locator(SRV_ONLY, { families: [4] });
    expect([...(await loc.locateSentBy({ protocol: 'tcp', host: 'srv.test' }))].map(show)).toEqual(['tcp 198.51.100.1:5080 srv.test']);
    expect(dns.queries).toEqual(['SRV _sip._tcp.srv.test', 'A main.srv.test']);
  });

  it('name with port: A records on that port', async () => {
    const { loc } = locator(A_ONLY, { families: [4] });
    expect([...(await loc.locateSentBy({ protocol: 'udp', host: 'plain.test', port: 5099 }))].map(show)).toEqual(['udp 203.0.113.5:5099 plain.test', 'udp 203.0.113.6:5099 plain.test']);
  });
});
