// URI parsing, formatting and RFC 3261 §19.1.4 comparison: sip, sips, tel and other schemes.
import { describe, expect, it } from 'vitest';
import { Params, SipUri, escapeUser, parseUri, unescapeUri, uri, uriEquals } from '../../../firmware/sip/message/index.js';

describe('parseUri', () => {
  it.each([
    ['sip:alice@atlanta.com', { scheme: 'sip', user: 'alice', host: 'atlanta.com', port: undefined }],
    ['sips:alice@atlanta.com:5061', { scheme: 'sips', user: 'alice', host: 'atlanta.com', port: 5061 }],
    ['SIP:alice:secretword@atlanta.com;transport=tcp', { scheme: 'sip', user: 'alice', password: 'secretword', host: 'atlanta.com' }],
    ['sip:+1-212-555-1212:1234@gateway.com;user=phone', { user: '+1-212-555-1212', password: '1234', host: 'gateway.com' }],
    ['sip:192.0.2.4', { user: undefined, host: '192.0.2.4' }],
    ['sip:[::1]:5070', { host: '[::1]', port: 5070 }],
    ['sip:alice@[2001:db8::10]', { host: '[2001:db8::10]' }],
    ['sip:atlanta.com;method=REGISTER?to=alice%40atlanta.com', { host: 'atlanta.com' }],
    ['sip:alice;day=tuesday@atlanta.com', { user: 'alice;day=tuesday', host: 'atlanta.com' }],
    ['sip:alice:@atlanta.com', { user: 'alice', password: '', host: 'atlanta.com' }],
    ['sip:a%40b:p%3Aw@atlanta.com', { user: 'a%40b', password: 'p%3Aw', host: 'atlanta.com' }],
    ['sip:atlanta.com:5060;transport=udp', { user: undefined, password: undefined, host: 'atlanta.com', port: 5060 }],
    ['sip:atlanta.com;maddr=x@y', { user: 'atlanta.com;maddr=x', host: 'y' }],
  ])('%s', (text, fields) => {
    const r = parseUri(text);
    if (!r.ok) throw r.error;
    expect(r.uri.kind).toBe('sip');
    expect(r.uri).toMatchObject(fields);
  });

  it('keeps parameters and headers in order, case and escapes as received', () => {
    const u = uri('sip:atlanta.com;method=REGISTER;lr;Transport=TCP?to=alice%40atlanta.com&priority=urgent');
    if (u.kind !== 'sip') throw new Error();
    expect(u.params.list.map((p) => [p.name, p.value])).toEqual([['method', 'REGISTER'], ['lr', null], ['Transport', 'TCP']]);
    expect(u.transport).toBe('TCP');
    expect(u.lr).toBe(true);
    expect(u.headers.get('to')).toBe('alice%40atlanta.com');
    expect(u.toString()).toBe('sip:atlanta.com;method=REGISTER;lr;Transport=TCP?to=alice%40atlanta.com&priority=urgent');
  });

  it('parses tel URIs (RFC 3966)', () => {
    const u = uri('tel:+1-201-555-0123;ext=42');
    expect(u.kind).toBe('tel');
    if (u.kind !== 'tel') return;
    expect(u.number).toBe('+1-201-555-0123');
    expect(u.isGlobal).toBe(true);
    expect(u.params.get('ext')).toBe('42');
    expect(uri('tel:7042;phone-context=example.com').kind).toBe('tel');
  });

  it('keeps other schemes opaque', () => {
    const u = uri('urn:service:sos');
    expect(u).toMatchObject({ kind: 'absolute', scheme: 'urn', opaque: 'service:sos' });
    expect(u.toString()).toBe('urn:service:sos');
  });

  it.each([
    ['sip:alice@', /expected a host/],
    ['sip:@host', /empty user/],
    ['sip:alice@host:99999', /port out of range/],
    ['sip:alice@host:', /expected a port/],
    ['sip:al ice@host', /user part|unexpected/],
    ['sip:alice@[::1', /IPv6/],
    ['sip:alice%4@host', /'%' not followed by two hex digits/],
    ['sip:al%zzice@host', /'%' not followed by two hex digits/],
    ['sip:a:b%4@host', /'%' not followed by two hex digits/],
    ['sip::pw@host', /empty user/],
    ['sip:a:b:c@host', /invalid character ':' in the user part/],
    ['sip:a<b@host', /invalid character '<' in the user part/],
    ['sip:host;=x', /empty URI parameter name/],
    ['sip:host?x', /expected '='/],
    ['tel:', /telephone number/],
    ['tel:+1+2', /telephone number/],
    ['1sip:x', /scheme/],
    ['<sip:x>', /scheme/],
    ['http:exa mple', /invalid character/],
  ])('rejects %s', (text, reason) => {
    const r = parseUri(text);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.reason).toMatch(reason);
  });
});

describe('uriEquals (RFC 3261 §19.1.4)', () => {
  // The equivalent and non-equivalent examples of RFC 3261 §19.1.4, and a few more.
  it.each([
    ['sip:%61lice@atlanta.com;transport=TCP', 'sip:alice@AtLanTa.CoM;Transport=tcp'],
    ['sip:carol@chicago.com', 'sip:carol@chicago.com;newparam=5'],
    ['sip:carol@chicago.com', 'sip:carol@chicago.com;security=on'],
    ['sip:carol@chicago.com;newparam=5', 'sip:carol@chicago.com;security=on'],
    ['sip:biloxi.com;transport=tcp;method=REGISTER?to=sip:bob%40biloxi.com', 'sip:biloxi.com;method=REGISTER;transport=tcp?to=sip:bob%40biloxi.com'],
    ['sip:alice@atlanta.com?subject=project%20x&priority=urgent', 'sip:alice@atlanta.com?priority=urgent&subject=project%20x'],
    ['sip:[2001:DB8::1]', 'sip:[2001:db8::1]'],
    ['tel:+1-201-555-0123', 'tel:+1.201.555.0123'],
  ])('%s == %s', (a, b) => {
    expect(uriEquals(uri(a), uri(b))).toBe(true);
    expect(uriEquals(uri(b), uri(a))).toBe(true);
  });

  it.each([
    ['SIP:ALICE@AtLanTa.CoM;Transport=udp', 'sip:alice@AtLanTa.CoM;Transport=UDP'],
    ['sip:bob@biloxi.com', 'sip:bob@biloxi.com:5060'],
    ['sip:bob@biloxi.com', 'sip:bob@biloxi.com;transport=udp'],
    ['sip:bob@biloxi.com', 'sip:bob@biloxi.com:6000;transport=tcp'],
    ['sip:carol@chicago.com', 'sip:carol@chicago.com?Subject=next%20meeting'],
    ['sip:bob@phone21.boxesbybob.com', 'sip:bob@192.0.2.4'],
    ['sip:alice@atlanta.com', 'sips:alice@atlanta.com'],
    ['sip:atlanta.com', 'sip:alice@atlanta.com'],
    ['sip:alice@atlanta.com;maddr=239.255.255.1', 'sip:alice@atlanta.com'],
    ['sip:a%3Ab@host', 'sip:a:b@host'],
    ['tel:+12015550123', 'tel:+12015550123;ext=1'],
    ['sip:alice@atlanta.com', 'tel:+12015550123'],
  ])('%s != %s', (a, b) => {
    expect(uriEquals(uri(a), uri(b))).toBe(false);
    expect(uriEquals(uri(b), uri(a))).toBe(false);
  });
});

describe('building URIs', () => {
  it('escapes a user part and round-trips it', () => {
    const user = escapeUser('alice smith@home');
    expect(user).toBe('alice%20smith%40home');
    const u = new SipUri({ user, host: 'example.com', params: Params.from({ transport: 'tcp', lr: null }) });
    expect(u.toString()).toBe('sip:alice%20smith%40home@example.com;transport=tcp;lr');
    expect(unescapeUri(u.user ?? '')).toBe('alice smith@home');
    expect(uriEquals(uri(u.toString()), u)).toBe(true);
    expect(u.with({ port: 5080 }).toString()).toBe('sip:alice%20smith%40home@example.com:5080;transport=tcp;lr');
    expect(u.aor).toBe('sip:alice%20smith%40home@example.com');
  });
});
