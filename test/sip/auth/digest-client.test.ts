// DigestClient: answering 401/407 challenges, choosing among several, nonce counting, stale, and the realm rule.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DigestClient, type DigestClientOptions } from '../../../firmware/sip/auth/index.js';
import { type AuthValue, NameAddr, type SipRequest, SipResponse, createRequest, createResponse, parseMessage, serializeMessage, sipUri } from '../../../firmware/sip/message/index.js';

const PASSWORD = 'pa55-w0rd';

/** Counting bytes: each call returns the next bytes of 0, 1, 2, ... so every cnonce is different and known. */
function countingBytes(): (n: number) => Uint8Array {
  let next = 0;
  return (n) => Uint8Array.from({ length: n }, () => next++ & 0xff);
}

function client(extra: Partial<DigestClientOptions> = {}): DigestClient {
  return new DigestClient({ authUsername: '1003', password: PASSWORD, randomBytes: countingBytes(), ...extra });
}

function request(method = 'REGISTER', uri = 'sip:test.local', body?: string): SipRequest {
  const aor = new NameAddr({ uri: sipUri('sip:1003@test.local') });
  return createRequest({ method, uri, from: aor.withTag('t1'), to: aor, callId: 'c1', cseq: 1, ...(body !== undefined ? { body, contentType: 'application/sdp' } : {}) });
}

/** A response to req with these header lines, through the wire form. */
function respond(req: SipRequest, status: number, headers: [string, string][]): SipResponse {
  const withVia = req.clone().prepend('Via', 'SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1');
  const res = createResponse(withVia, { status, toTag: 'x', headers });
  const parsed = parseMessage(serializeMessage(res));
  if (!parsed.ok || !(parsed.message instanceof SipResponse)) throw new Error('unparsable');
  return parsed.message;
}

const www = (params: string): [string, string] => ['WWW-Authenticate', `Digest ${params}`];
const proxy = (params: string): [string, string] => ['Proxy-Authenticate', `Digest ${params}`];

const HASH: Record<string, string> = { 'MD5': 'md5', 'SHA-256': 'sha256', 'SHA-512-256': 'sha512-256' };

/** Recomputes the response from the password with node:crypto (RFC 7616 §3.4), independently of the client. */
function verify(auth: AuthValue, req: SipRequest, username = '1003', password = PASSWORD): boolean {
  const p = (n: string): string => auth.get(n) ?? '';
  const algParam = auth.get('algorithm') ?? 'MD5';
  const alg = HASH[algParam.replace(/-sess$/i, '')]!;
  const h = (s: string | Uint8Array): string => createHash(alg).update(s).digest('hex');
  let ha1 = h(`${username}:${p('realm')}:${password}`);
  if (/-sess$/i.test(algParam)) ha1 = h(`${ha1}:${p('nonce')}:${p('cnonce')}`);
  const qop = auth.get('qop');
  const ha2 = h(qop === 'auth-int' ? `${req.method}:${p('uri')}:${h(req.body)}` : `${req.method}:${p('uri')}`);
  const expected = qop === undefined ? h(`${ha1}:${p('nonce')}:${ha2}`) : h(`${ha1}:${p('nonce')}:${p('nc')}:${p('cnonce')}:${qop}:${ha2}`);
  return p('response') === expected && p('uri') === req.uri.toString() && p('username') === username;
}

/** The request as the server gets it (through the wire form), so the header text is what is checked. */
function wire(req: SipRequest): SipRequest {
  const parsed = parseMessage(serializeMessage(req.clone().prepend('Via', 'SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1')));
  if (!parsed.ok || parsed.message.kind !== 'request') throw new Error('unparsable');
  return parsed.message;
}

describe('DigestClient', () => {
  it('answers a 401 with an Authorization the server can verify from the password', () => {
    const c = client();
    const ex = c.begin({ fromConfiguredServer: true });
    const first = request();
    ex.authorize(first);
    expect(first.authorization).toEqual([]);
    const res = respond(first, 401, [www('realm="test.local", nonce="abc123", opaque="xyz", algorithm=MD5, qop="auth,auth-int"')]);
    const out = ex.onChallenge(res);
    expect(out).toMatchObject({ kind: 'retry', realms: ['test.local'], stale: false });
    const second = request();
    ex.authorize(second);
    const got = wire(second);
    const [auth] = got.authorization;
    expect(auth).toBeDefined();
    expect(verify(auth!, got)).toBe(true);
    expect(auth!.get('realm')).toBe('test.local');
    expect(auth!.get('nonce')).toBe('abc123');
    expect(auth!.get('opaque')).toBe('xyz');
    expect(auth!.get('algorithm')).toBe('MD5');
    expect(auth!.get('qop')).toBe('auth');
    expect(auth!.get('nc')).toBe('00000001');
    expect(auth!.get('cnonce')).toMatch(/^[0-9a-f]{32}$/);
    // Tokens unquoted, strings quoted (RFC 3261 §25.1 dig-resp).
    const text = got.get('Authorization')!;
    expect(text).toMatch(/qop=auth(,|$)/);
    expect(text).toMatch(/nc=00000001/);
    expect(text).toMatch(/username="1003"/);
    expect(text).toMatch(/uri="sip:test.local"/);
  });

  it('counts requests per nonce (nc), with a fresh cnonce per request; a new nonce starts at 1 again', () => {
    const c = client();
    const ex = c.begin({ fromConfiguredServer: true });
    ex.onChallenge(respond(request(), 401, [www('realm="test.local", nonce="n1", qop="auth"')]));
    const sent: AuthValue[] = [];
    for (let i = 0; i < 3; i++) {
      const r = request();
      // Later requests of the account reuse the nonce (preemptive), counting on.
      c.begin({ fromConfiguredServer: true }).authorize(r);
      sent.push(wire(r).authorization[0]!);
      expect(verify(sent[i]!, wire(r))).toBe(true);
    }
    expect(sent.map((a) => a.get('nc'))).toEqual(['00000001', '00000002', '00000003']);
    expect(new Set(sent.map((a) => a.get('cnonce'))).size).toBe(3);
    const ex2 = c.begin({ fromConfiguredServer: true });
    ex2.onChallenge(respond(request(), 401, [www('realm="test.local", nonce="n2", qop="auth", stale=true')]));
    const r = request();
    ex2.authorize(r);
    expect(wire(r).authorization[0]!.get('nc')).toBe('00000001');
    expect(wire(r).authorization[0]!.get('nonce')).toBe('n2');
  });

  it('keeps one cnonce per nonce for a -sess algorithm (HA1 is computed once, RFC 7616 §3.4.2)', () => {
    const c = client();
    c.begin({ fromConfiguredServer: true }).onChallenge(respond(request(), 401, [www('realm="test.local", nonce="n1", algorithm=SHA-256-sess, qop="auth"')]));
    const a = request();
    const b = request();
    c.begin({ fromConfiguredServer: true }).authorize(a);
    c.begin({ fromConfiguredServer: true }).authorize(b);
    const [x, y] = [wire(a).authorization[0]!, wire(b).authorization[0]!];
    expect(x.get('algorithm')).toBe('SHA-256-sess');
    expect(x.get('cnonce')).toBe(y.get('cnonce'));
    expect(verify(x, wire(a))).toBe(true);
    expect(verify(y, wire(b))).toBe(true);
  });

  it('answers a 407 with Proxy-Authorization', () => {
    const c = client();
    const ex = c.begin({ fromConfiguredServer: true });
    expect(ex.onChallenge(respond(request(), 407, [proxy('realm="test.local", nonce="p1", algorithm=SHA-256, qop="auth"')])).kind).toBe('retry');
    const r = request('INVITE', 'sip:1004@test.local');
    ex.authorize(r);
    const got = wire(r);
    expect(got.authorization).toEqual([]);
    expect(got.proxyAuthorization).toHaveLength(1);
    expect(verify(got.proxyAuthorization[0]!, got)).toBe(true);
  });

  it('answers WWW-Authenticate and Proxy-Authenticate of one response together', () => {
    const c = client({ realms: ['test.local', 'proxy.test.local'] });
    const ex = c.begin({ fromConfiguredServer: true });
    const out = ex.onChallenge(respond(request(), 407, [proxy('realm="proxy.test.local", nonce="p1", qop="auth"'), www('realm="test.local", nonce="w1", qop="auth"')]));
    expect(out).toMatchObject({ kind: 'retry' });
    expect(out.kind === 'retry' && [...out.realms].sort()).toEqual(['proxy.test.local', 'test.local']);
    const r = request();
    ex.authorize(r);
    const got = wire(r);
    expect(got.authorization.map((a) => a.get('realm'))).toEqual(['test.local']);
    expect(got.proxyAuthorization.map((a) => a.get('realm'))).toEqual(['proxy.test.local']);
    expect(verify(got.authorization[0]!, got) && verify(got.proxyAuthorization[0]!, got)).toBe(true);
  });

  it('picks the strongest algorithm per realm: SHA-256 over MD5, SHA-512-256 over both; unknown ones ignored', () => {
    const pick = (headers: [string, string][]): string | undefined => {
      const c = client();
      const ex = c.begin({ fromConfiguredServer: true });
      ex.onChallenge(respond(request(), 401, headers));
      const r = request();
      ex.authorize(r);
      const got = wire(r);
      expect(got.authorization).toHaveLength(1);
      expect(verify(got.authorization[0]!, got)).toBe(true);
      return got.authorization[0]!.get('algorithm');
    };
    expect(pick([www('realm="test.local", nonce="a", algorithm=MD5, qop="auth"'), www('realm="test.local", nonce="b", algorithm=SHA-256, qop="auth"')])).toBe('SHA-256');
    expect(
      pick([
        www('realm="test.local", nonce="a", algorithm=SHA-256, qop="auth"'),
        www('realm="test.local", nonce="b", algorithm=SHA-512-256, qop="auth"'),
        www('realm="test.local", nonce="c", algorithm=MD5, qop="auth"'),
      ]),
    ).toBe('SHA-512-256');
    expect(
      pick([
        ['WWW-Authenticate', 'Basic realm="test.local"'],
        www('realm="test.local", nonce="x", algorithm=SHA3-512, qop="auth"'),
        www('realm="test.local", nonce="y", qop="auth-conf"'),
        www('realm="test.local", nonce="z", qop="auth"'),
      ]),
    ).toBeUndefined(); // the plain MD5 one, which named no algorithm (and so none is echoed)
  });

  it('retries once, silently, on stale=true after a fresh answer; a second stale is a failure', () => {
    const c = client();
    const ex = c.begin({ fromConfiguredServer: true });
    const r1 = request();
    ex.authorize(r1);
    expect(ex.onChallenge(respond(r1, 401, [www('realm="test.local", nonce="n1", qop="auth"')])).kind).toBe('retry');
    const r2 = request();
    ex.authorize(r2);
    expect(ex.onChallenge(respond(r2, 401, [www('realm="test.local", nonce="n2", qop="auth", stale=TRUE')]))).toMatchObject({ kind: 'retry', stale: true });
    const r3 = request();
    ex.authorize(r3);
    expect(wire(r3).authorization[0]!.get('nonce')).toBe('n2');
    expect(ex.onChallenge(respond(r3, 401, [www('realm="test.local", nonce="n3", qop="auth", stale=true')]))).toMatchObject({ kind: 'rejected', why: 'stale-again' });
  });

  it('a second non-stale challenge after a fresh answer means wrong credentials, and forgets the nonce', () => {
    const c = client();
    const ex = c.begin({ fromConfiguredServer: true });
    ex.onChallenge(respond(request(), 401, [www('realm="test.local", nonce="n1", qop="auth"')]));
    const r = request();
    ex.authorize(r);
    const out = ex.onChallenge(respond(r, 401, [www('realm="test.local", nonce="n2", qop="auth"')]));
    expect(out).toMatchObject({ kind: 'rejected', realm: 'test.local', why: 'credentials-rejected' });
    const next = request();
    c.begin({ fromConfiguredServer: true }).authorize(next);
    expect(next.authorization).toEqual([]);
  });

  it('a challenge to preemptive (reused) credentials is answered, not taken for wrong credentials', () => {
    const c = client();
    c.begin({ fromConfiguredServer: true }).onChallenge(respond(request(), 401, [www('realm="test.local", nonce="old", qop="auth"')]));
    const ex = c.begin({ fromConfiguredServer: true });
    const r = request();
    ex.authorize(r);
    expect(r.authorization[0]!.get('nonce')).toBe('old');
    // A server that does not accept reused nonces challenges without stale.
    expect(ex.onChallenge(respond(r, 401, [www('realm="test.local", nonce="new", qop="auth"')])).kind).toBe('retry');
  });

  it('does not reuse nonces when preemptive is off', () => {
    const c = client({ preemptive: false });
    const ex = c.begin({ fromConfiguredServer: true });
    ex.onChallenge(respond(request(), 401, [www('realm="test.local", nonce="n1", qop="auth"')]));
    const inExchange = request();
    ex.authorize(inExchange);
    expect(inExchange.authorization).toHaveLength(1);
    const later = request();
    c.begin({ fromConfiguredServer: true }).authorize(later);
    expect(later.authorization).toEqual([]);
  });

  describe('credentials go only to the configured realm', () => {
    it('refuses a challenge from a realm other than the configured ones, with a line to log', () => {
      const c = client({ realms: ['test.local'] });
      const ex = c.begin({ fromConfiguredServer: true });
      const out = ex.onChallenge(respond(request(), 401, [www('realm="evil.example", nonce="n", qop="auth"')]));
      expect(out.kind).toBe('refused');
      if (out.kind !== 'refused') return;
      expect(out.refusals).toEqual([expect.objectContaining({ reason: 'foreign-realm', realm: 'evil.example' })]);
      expect(out.message).toBe('challenge from realm "evil.example" not answered: credentials are for "test.local"');
      const r = request();
      ex.authorize(r);
      expect(r.authorization).toEqual([]);
    });

    it('refuses a challenge that did not come through the configured server, even for our realm', () => {
      const c = client({ realms: ['test.local'] });
      // Learn a nonce from the registrar first: it must not leak either.
      c.begin({ fromConfiguredServer: true }).onChallenge(respond(request(), 401, [www('realm="test.local", nonce="n1", qop="auth"')]));
      const direct = c.begin({ fromConfiguredServer: false, peerHost: '198.51.100.7' });
      const bye = request('BYE', 'sip:peer@198.51.100.7');
      direct.authorize(bye);
      expect(bye.authorization).toEqual([]);
      const out = direct.onChallenge(respond(bye, 401, [www('realm="test.local", nonce="peer", qop="auth"')]));
      expect(out).toMatchObject({ kind: 'refused', refusals: [expect.objectContaining({ reason: 'untrusted-source', realm: 'test.local' })] });
      direct.authorize(bye);
      expect(bye.authorization).toEqual([]);
    });

    it('trusts a peer host listed in hosts', () => {
      const c = client({ hosts: ['PBX.test.local'] });
      const ex = c.begin({ fromConfiguredServer: false, peerHost: 'pbx.test.local' });
      expect(ex.onChallenge(respond(request(), 401, [www('realm="test.local", nonce="n1", qop="auth"')])).kind).toBe('retry');
    });

    it('without configured realms, binds to the realm of the first challenge from the configured server', () => {
      const c = client();
      expect(c.realms).toEqual([]);
      // A peer's challenge binds nothing.
      expect(c.begin({ fromConfiguredServer: false }).onChallenge(respond(request(), 401, [www('realm="peer", nonce="x", qop="auth"')])).kind).toBe('refused');
      expect(c.realms).toEqual([]);
      expect(c.begin({ fromConfiguredServer: true }).onChallenge(respond(request(), 401, [www('realm="test.local", nonce="n1", qop="auth"')])).kind).toBe('retry');
      expect(c.realms).toEqual(['test.local']);
      const out = c.begin({ fromConfiguredServer: true }).onChallenge(respond(request(), 407, [proxy('realm="other", nonce="n2", qop="auth"')]));
      expect(out).toMatchObject({ kind: 'refused', message: 'challenge from realm "other" not answered: credentials are for "test.local"' });
    });

    it('refuses algorithms that are switched off', () => {
      const c = client({ algorithms: ['SHA-256', 'SHA-512-256'] });
      const out = c.begin({ fromConfiguredServer: true }).onChallenge(respond(request(), 401, [www('realm="test.local", nonce="n1", algorithm=MD5, qop="auth"')]));
      expect(out).toMatchObject({ kind: 'refused', refusals: [expect.objectContaining({ reason: 'unsupported' })] });
    });
  });

  it('sends the hashed username with userhash=true (RFC 7616 §3.4.4)', () => {
    const c = client();
    const ex = c.begin({ fromConfiguredServer: true });
    ex.onChallenge(respond(request(), 401, [www('realm="test.local", nonce="n1", algorithm=SHA-256, qop="auth", userhash=true')]));
    const r = request();
    ex.authorize(r);
    const auth = wire(r).authorization[0]!;
    expect(auth.get('userhash')).toBe('true');
    expect(auth.get('username')).toBe(createHash('sha256').update('1003:test.local').digest('hex'));
    // The response is still computed with the clear username (only the username field is hashed).
    expect(verify(auth, wire(r), auth.get('username'))).toBe(false);
    const h = (s: string): string => createHash('sha256').update(s).digest('hex');
    expect(auth.get('response')).toBe(h(`${h(`1003:test.local:${PASSWORD}`)}:n1:${auth.get('nc')}:${auth.get('cnonce')}:auth:${h('REGISTER:sip:test.local')}`));
  });

  it('uses qop=auth-int when it is the only one offered, hashing the body', () => {
    const c = client();
    const ex = c.begin({ fromConfiguredServer: true });
    ex.onChallenge(respond(request(), 407, [proxy('realm="test.local", nonce="n1", qop="auth-int"')]));
    const r = request('INVITE', 'sip:1004@test.local', 'v=0\r\no=- 1 1 IN IP4 192.0.2.5\r\n');
    ex.authorize(r);
    const got = wire(r);
    expect(got.proxyAuthorization[0]!.get('qop')).toBe('auth-int');
    expect(verify(got.proxyAuthorization[0]!, got)).toBe(true);
  });

  it('answers a challenge without qop the RFC 2069 way (no nc, no cnonce)', () => {
    const c = client();
    const ex = c.begin({ fromConfiguredServer: true });
    ex.onChallenge(respond(request(), 401, [www('realm="test.local", nonce="n1"')]));
    const r = request();
    ex.authorize(r);
    const auth = wire(r).authorization[0]!;
    expect(auth.get('nc')).toBeUndefined();
    expect(auth.get('cnonce')).toBeUndefined();
    expect(verify(auth, wire(r))).toBe(true);
  });

  it('replaces its own earlier credentials on a re-used request and keeps other realms', () => {
    const c = client();
    const ex = c.begin({ fromConfiguredServer: true });
    ex.onChallenge(respond(request(), 401, [www('realm="test.local", nonce="n1", qop="auth"')]));
    const r = request();
    r.append('Authorization', 'Digest username="x", realm="elsewhere", nonce="q", uri="sip:test.local", response="00"');
    ex.authorize(r);
    ex.authorize(r);
    expect(r.authorization.map((a) => [a.get('realm'), a.get('nc')])).toEqual([
      ['elsewhere', undefined],
      ['test.local', '00000002'],
    ]);
  });

  it('reports a 401 without any Digest challenge as refused', () => {
    const out = client().begin({ fromConfiguredServer: true }).onChallenge(respond(request(), 401, [['WWW-Authenticate', 'Basic realm="x"']]));
    expect(out).toMatchObject({ kind: 'refused', refusals: [expect.objectContaining({ reason: 'unsupported' })] });
  });
});
