// Typed header values: compact forms, Via and rport, name-addr, auth headers, lists and their comma rules.
import { describe, expect, it } from 'vitest';
import { H, NameAddr, Params, Via, canonicalName, headerSpec, parseMessage, serializeMessage, uri } from '../../../firmware/sip/message/index.js';
import { sip } from '../fixtures/torture.js';

function request(...headers: string[]): ReturnType<typeof parse> {
  return parse(
    sip(
      ['OPTIONS sip:bob@example.com SIP/2.0', 'Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKx', 'To: <sip:bob@example.com>', 'From: <sip:alice@example.com>;tag=1', 'Call-ID: c@x', 'CSeq: 1 OPTIONS', ...headers, 'Content-Length: 0'].join('\n'),
    ),
  );
}

function parse(text: string) {
  const r = parseMessage(Buffer.from(text, 'utf8'));
  if (!r.ok) throw r.error;
  return r.message;
}

describe('header names', () => {
  it.each([
    ['i', 'Call-ID'], ['m', 'Contact'], ['f', 'From'], ['t', 'To'], ['v', 'Via'], ['l', 'Content-Length'], ['c', 'Content-Type'],
    ['k', 'Supported'], ['s', 'Subject'], ['o', 'Event'], ['u', 'Allow-Events'], ['e', 'Content-Encoding'], ['r', 'Refer-To'],
    ['b', 'Referred-By'], ['x', 'Session-Expires'], ['CALL-ID', 'Call-ID'], ['cseq', 'CSeq'], ['www-authenticate', 'WWW-Authenticate'],
    ['X-Custom', 'X-Custom'],
  ])('%s is %s', (name, canonical) => {
    expect(canonicalName(name)).toBe(canonical);
  });

  it('expands compact forms on output and keeps unknown names as received', () => {
    const m = parse(
      sip(['MESSAGE sip:b@example.com SIP/2.0', 'v: SIP/2.0/TCP h;branch=z9hG4bK1', 't: <sip:b@example.com>', 'f: <sip:a@example.com>;tag=9', 'i: abc', 'CSEQ: 2 MESSAGE', 'k: 100rel', 'x-Weird-CASE: 1', 'c: text/plain', 'l: 2'].join('\n'), 'hi'),
    );
    expect(m.supported).toEqual(['100rel']);
    expect(serializeMessage(m).toString()).toBe(
      ['MESSAGE sip:b@example.com SIP/2.0', 'Via: SIP/2.0/TCP h;branch=z9hG4bK1', 'To: <sip:b@example.com>', 'From: <sip:a@example.com>;tag=9', 'Call-ID: abc', 'CSeq: 2 MESSAGE', 'Supported: 100rel', 'x-Weird-CASE: 1', 'Content-Type: text/plain', 'Content-Length: 2', '', 'hi'].join('\r\n'),
    );
    expect(serializeMessage(m, { compact: true }).toString()).toContain('\r\nv: SIP/2.0/TCP h;branch=z9hG4bK1\r\nt: <sip:b@example.com>\r\nf: ');
  });

  it('looks headers up in any case', () => {
    const m = request('X-Foo: 1', 'x-foo: 2');
    expect(m.get('X-FOO')).toBe('1');
    expect(m.getAll('x-Foo')).toEqual(['1', '2']);
    expect(m.get('CALL-id')).toBe('c@x');
    expect(headerSpec('ViA')).toBe(H.via);
  });
});

describe('Via (RFC 3261 §20.42, RFC 3581)', () => {
  it('parses branch, received, rport with and without value, maddr, ttl', () => {
    const m = request();
    m.set('Via', 'SIP/2.0/UDP 192.0.2.1:5062;branch=z9hG4bK74bf9;received=198.51.100.7;rport=6070;maddr=239.255.255.1;ttl=15, SIP/2.0/TCP [2001:db8::9]:5060;branch=z9hG4bKabc;rport;x-own=1');
    const [a, b] = m.via;
    expect(a).toMatchObject({ protocol: 'SIP/2.0', transport: 'UDP', host: '192.0.2.1', port: 5062 });
    expect([a?.branch, a?.received, a?.rport, a?.maddr, a?.ttl, a?.hasMagicCookie]).toEqual(['z9hG4bK74bf9', '198.51.100.7', 6070, '239.255.255.1', 15, true]);
    expect([b?.host, b?.port, b?.rport, b?.params.get('x-own'), b?.sentBy]).toEqual(['[2001:db8::9]', 5060, true, '1', '[2001:db8::9]:5060']);
  });

  it('builds a Via and fills in received and rport (RFC 3581 §4)', () => {
    const v = new Via({ transport: 'UDP', host: '192.0.2.1', port: 5060, params: Params.from({ branch: 'z9hG4bK1', rport: null }) });
    expect(v.toString()).toBe('SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1;rport');
    const filled = v.withParam('received', '203.0.113.9').withParam('rport', '40001');
    expect(filled.toString()).toBe('SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1;rport=40001;received=203.0.113.9');
    expect(filled.rport).toBe(40001);
  });

  it.each([
    ['SIP/2.0/UDP', /host|whitespace/],
    ['SIP/2.0/UDP host;ttl=256', /ttl/],
    ['SIP/2.0/UDP host;rport=70000', /rport/],
    ['SIP/2.0/UDP host;received=not-an-ip', /received/],
    ['SIP/2.0/UDP host;branch', /branch/],
    ['SIP/2.0 host', /'\/'/],
    ['SIP/2.0/UDP host,', /expected a token|protocol/],
  ])('rejects %s', (value, reason) => {
    const m = request();
    m.set('Via', value);
    const e = m.parseAllHeaders();
    expect(e?.header).toBe('Via');
    expect(e?.reason).toMatch(reason);
  });
});

describe('Via, however its protocol is written', () => {
  it.each([
    ['SIP/2.0/UDP h;branch=z9hG4bK1', 'SIP/2.0', 'UDP'],
    ['SIP / 2.0 / TCP h;branch=z9hG4bK1', 'SIP/2.0', 'TCP'],
    ['SIP/2.0/ TLS h;branch=z9hG4bK1', 'SIP/2.0', 'TLS'],
    ['sip/2.0/UDP h;branch=z9hG4bK1', 'sip/2.0', 'UDP'],
    ['SIP/2.1/UDP h;branch=z9hG4bK1', 'SIP/2.1', 'UDP'],
    ['SIP/2.0/X-NEW h;branch=z9hG4bK1', 'SIP/2.0', 'X-NEW'],
  ])('%s', (value, protocol, transport) => {
    const m = request();
    m.set('Via', value);
    expect(m.topVia).toMatchObject({ protocol, transport, host: 'h', branch: 'z9hG4bK1' });
  });

  it.each([
    ['rport=65535', true],
    ['rport=00080', true],
    ['rport=65536', false],
    ['rport=123456', false],
    ['rport=8a', false],
    ['RPORT=1', true],
    ['ttl=255', true],
    ['ttl=256', false],
    ['TTL=', false],
  ])('checks the numbers of %s', (param, ok) => {
    const m = request();
    m.set('Via', `SIP/2.0/UDP h;branch=z9hG4bK1;${param}`);
    expect(m.parseAllHeaders() === undefined).toBe(ok);
  });
});

describe('name-addr and addr-spec (RFC 3261 §20.10)', () => {
  it.each([
    ['"Alice \\"A\\" Liddell" <sip:alice@example.com>;tag=x1', 'Alice "A" Liddell', 'sip:alice@example.com', 'x1'],
    ['Alice Liddell <sip:alice@example.com>', 'Alice Liddell', 'sip:alice@example.com', undefined],
    ['<sip:alice@example.com;transport=tcp>;tag=9', undefined, 'sip:alice@example.com;transport=tcp', '9'],
    ['sip:alice@example.com;tag=88', undefined, 'sip:alice@example.com', '88'],
    ['"\u00c9milie" <tel:+33123456789>', '\u00c9milie', 'tel:+33123456789', undefined],
  ])('%s', (value, displayName, u, tag) => {
    const m = request();
    m.set('From', value);
    expect(m.from.displayName).toBe(displayName);
    expect(m.from.uri.toString()).toBe(u);
    expect(m.from.tag).toBe(tag);
  });

  it.each([
    ['  Bob   <sip:b@example.com>', 'Bob'],
    ['\tBob\t<sip:b@example.com>', 'Bob'],
    ['Bob Lee <sip:b@example.com>', 'Bob Lee'],
    ['<sip:b@example.com>', undefined],
    ['\u00a0Zoë\u00a0<sip:b@example.com>', 'Zoë'],
    ['"" <sip:b@example.com>', ''],
    [`"${'n'.repeat(40)}" <sip:b@example.com>`, 'n'.repeat(40)],
    [`"${'n'.repeat(40)}\\"q" <sip:b@example.com>`, `${'n'.repeat(40)}"q`],
  ])('display name of %s', (value, displayName) => {
    const m = request();
    m.set('To', value);
    expect(m.to.displayName).toBe(displayName);
  });

  it('formats with quotes and brackets', () => {
    const na = new NameAddr({ displayName: 'Bob "B"', uri: uri('sip:bob@example.com'), params: Params.from({ tag: 'abc' }) });
    expect(na.toString()).toBe('"Bob \\"B\\"" <sip:bob@example.com>;tag=abc');
    expect(na.withTag('def').tag).toBe('def');
  });

  it('splits Contact, Route and Record-Route on commas outside quotes and <>', () => {
    const m = request('Contact: "Doe, John" <sip:jd,x@example.com;a=1>;q=0.7, <sip:x@example.com>;expires=60', 'Record-Route: <sip:p1.example.com;lr>, <sip:p2.example.com;lr>', 'Record-Route: <sip:p3.example.com;lr>');
    expect(m.contact.map((c) => [c.displayName, c.uri.toString(), c.params.get('q') ?? c.params.get('expires')])).toEqual([
      ["Doe, John", "sip:jd,x@example.com;a=1", "0.7"],
      [undefined, 'sip:x@example.com', '60'],
    ]);
    expect(m.recordRoute.map((r) => r.uri.toString())).toEqual(['sip:p1.example.com;lr', 'sip:p2.example.com;lr', 'sip:p3.example.com;lr']);
  });

  it('knows the Contact wildcard', () => {
    const m = request('Contact: *', 'Expires: 0');
    expect(m.isContactWildcard).toBe(true);
    expect(m.contact).toEqual([]);
    expect(m.expires).toBe(0);
  });
});

describe('authentication headers (RFC 3261 §20.7, §20.44, §25.1)', () => {
  it('parses a Digest challenge without splitting on its commas', () => {
    const m = request('WWW-Authenticate: Digest realm="atlanta.com", domain="sip:boxesbybob.com", qop="auth,auth-int", nonce="f84f1cec41e6cbe5aea9c8e88d359", opaque="", stale=FALSE, algorithm=MD5', 'Proxy-Authenticate: Digest realm="b, c", nonce="1"');
    const [c] = m.wwwAuthenticate;
    expect(c?.scheme).toBe('Digest');
    expect(c?.isDigest).toBe(true);
    expect([c?.get('realm'), c?.get('qop'), c?.get('opaque'), c?.get('stale'), c?.get('algorithm')]).toEqual(['atlanta.com', 'auth,auth-int', '', 'FALSE', 'MD5']);
    expect(m.proxyAuthenticate[0]?.get('realm')).toBe('b, c');
    expect(c?.toString()).toBe('Digest realm="atlanta.com", domain="sip:boxesbybob.com", qop="auth,auth-int", nonce="f84f1cec41e6cbe5aea9c8e88d359", opaque="", stale=FALSE, algorithm=MD5');
  });

  it('parses credentials, and unknown schemes', () => {
    const m = request(
      'Authorization: Digest username="bob", realm="biloxi.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", uri="sip:bob@biloxi.com", qop=auth, nc=00000001, cnonce="0a4f113b", response="6629fae49393a05397450978507c4ef1", opaque="5ccc069c403ebaf9f0171e9517f40e41"',
      'Proxy-Authorization: NoOneKnowsThisScheme opaque-data=here',
      'Authorization: Bearer eyJhbGciOiJSUzI1NiJ9.e30.sig',
    );
    const [d, bearer] = m.authorization;
    expect([d?.get('username'), d?.get('uri'), d?.get('nc'), d?.get('response')]).toEqual(['bob', 'sip:bob@biloxi.com', '00000001', '6629fae49393a05397450978507c4ef1']);
    expect(m.proxyAuthorization[0]?.get('opaque-data')).toBe('here');
    expect(bearer?.data).toBe('eyJhbGciOiJSUzI1NiJ9.e30.sig');
    expect(m.parseAllHeaders()).toBeUndefined();
  });

  it('rejects unterminated quotes and a Digest without params', () => {
    for (const v of ['Digest realm="x', 'Digest', 'Digest realm']) {
      const m = request(`WWW-Authenticate: ${v}`);
      expect(m.parseAllHeaders()?.header).toBe('WWW-Authenticate');
    }
  });
});

describe('lists and scalars', () => {
  it('parses Require/Supported/Unsupported/Allow, empty lists included', () => {
    const m = request('Require: 100rel', 'Supported: timer, replaces', 'Supported:', 'Unsupported: foo', 'Allow: INVITE, ACK,BYE , CANCEL', 'Allow-Events: talk, hold');
    expect([m.require, m.supported, m.unsupported, m.allow, m.allowEvents]).toEqual([['100rel'], ['timer', 'replaces'], ['foo'], ['INVITE', 'ACK', 'BYE', 'CANCEL'], ['talk', 'hold']]);
  });

  it('parses Content-Type, Event, Subscription-State, Session-Expires, RAck, Refer-To', () => {
    const m = request('Content-Type: multipart/mixed ; boundary="a b"', 'Event: dialog;id=42', 'Subscription-State: active;expires=3599', 'x: 1800;refresher=uac', 'RAck: 776656 1 INVITE', 'RSeq: 988789', 'Refer-To: <sip:carol@example.com?Replaces=abc%40x>', 'Min-Expires: 60', 'Timestamp: 54.2 0.5');
    expect(m.contentType?.essence).toBe('multipart/mixed');
    expect(m.contentType?.params.get('boundary')).toBe('a b');
    expect([m.event?.value, m.event?.get('id')]).toEqual(['dialog', '42']);
    expect([m.subscriptionState?.value, m.subscriptionState?.get('expires')]).toEqual(['active', '3599']);
    expect([m.sessionExpires?.value, m.sessionExpires?.get('refresher')]).toEqual(['1800', 'uac']);
    expect(m.rack).toMatchObject({ rseq: 776656, cseq: 1, method: 'INVITE' });
    expect(m.rseq).toBe(988789);
    expect(m.referTo?.uri.toString()).toBe('sip:carol@example.com?Replaces=abc%40x');
    expect([m.minExpires, m.timestamp]).toEqual([60, '54.2 0.5']);
    expect(m.parseAllHeaders()).toBeUndefined();
  });

  it.each([
    ['Max-Forwards: 256', 'Max-Forwards'],
    ['Max-Forwards: -1', 'Max-Forwards'],
    ['Expires: 4294967296', 'Expires'],
    ['Content-Type: text', 'Content-Type'],
    ['Require: a b', 'Require'],
    ['Allow: INVITE,,BYE', 'Allow'],
    ['Warning: 1812 overture "x"', 'Warning'],
    ['Retry-After: 99999999999999999999', 'Retry-After'],
    ['Date: Sat, 13 Nov 2010 23:29:00 PST', 'Date'],
  ])('%s is malformed', (line, header) => {
    const m = request(line);
    expect(m.parseAllHeaders()?.header).toBe(header);
  });

  it('treats a malformed optional header as absent, and says where it is', () => {
    const m = request('Expires: soon');
    expect(m.expires).toBeUndefined();
    const e = m.parseAllHeaders();
    expect(e).toMatchObject({ header: 'Expires', line: 7, column: 10 });
    expect(e?.message).toMatch(/Expires: expected Expires \(line 7, column 10\)/);
  });

  it('throws for a missing core header when accessed', () => {
    const m = request();
    m.remove('Call-ID');
    expect(() => m.callId).toThrow(/missing Call-ID/);
  });
});
