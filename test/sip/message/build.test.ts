// Building requests and responses (RFC 3261 §8.1.1, §8.2.6), header edits, clone, merge key, validation answers.
import { describe, expect, it } from 'vitest';
import {
  CSeq,
  NameAddr,
  Params,
  type SipRequest,
  Via,
  createRequest,
  createResponse,
  mergeKey,
  parseMessage,
  reasonPhrase,
  serializeMessage,
  sipUri,
  validateRequest,
} from '../../../firmware/sip/message/index.js';

function invite(): SipRequest {
  return createRequest({
    method: 'INVITE',
    uri: 'sip:bob@biloxi.example.com',
    from: new NameAddr({ displayName: 'Alice', uri: sipUri('sip:alice@atlanta.example.com'), params: Params.from({ tag: '1928301774' }) }),
    to: new NameAddr({ displayName: 'Bob', uri: sipUri('sip:bob@biloxi.example.com') }),
    callId: 'a84b4c76e66710@pc33.atlanta.example.com',
    cseq: 314159,
    via: new Via({ transport: 'UDP', host: 'pc33.atlanta.example.com', params: Params.from({ branch: 'z9hG4bK776asdhds', rport: null }) }),
    contact: new NameAddr({ uri: sipUri('sip:alice@pc33.atlanta.example.com') }),
    headers: [['Supported', ['replaces', 'timer']], ['Timestamp', '54']],
    body: 'v=0\r\n',
    contentType: 'application/sdp',
  });
}

describe('createRequest', () => {
  it('writes the RFC 3261 §8.1.1 fields in order, and parses back to the same values', () => {
    const req = invite();
    const text = serializeMessage(req).toString();
    expect(text).toBe(
      [
        'INVITE sip:bob@biloxi.example.com SIP/2.0',
        'Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds;rport',
        'Max-Forwards: 70',
        'To: "Bob" <sip:bob@biloxi.example.com>',
        'From: "Alice" <sip:alice@atlanta.example.com>;tag=1928301774',
        'Call-ID: a84b4c76e66710@pc33.atlanta.example.com',
        'CSeq: 314159 INVITE',
        'Contact: <sip:alice@pc33.atlanta.example.com>',
        'Supported: replaces, timer',
        'Timestamp: 54',
        'Content-Type: application/sdp',
        'Content-Length: 5',
        '',
        'v=0\r\n',
      ].join('\r\n'),
    );
    const r = parseMessage(serializeMessage(req));
    if (!r.ok || r.message.kind !== 'request') throw new Error('parse');
    expect(validateRequest(r.message)).toEqual({ ok: true });
    expect(r.message.cseq).toEqual(new CSeq(314159, 'INVITE'));
    expect(req.topVia.branch).toBe('z9hG4bK776asdhds');
    expect(req.supported).toEqual(['replaces', 'timer']);
  });

  it('edits headers: prepend a Via, set, remove, clone independently', () => {
    const req = invite();
    req.prepend('Via', new Via({ transport: 'TCP', host: 'proxy.example.com', params: Params.from({ branch: 'z9hG4bKp' }) }));
    expect(req.via.map((v) => v.host)).toEqual(['proxy.example.com', 'pc33.atlanta.example.com']);
    const copy = req.clone();
    copy.set('Max-Forwards', 69).remove('Supported').append('Route', new NameAddr({ uri: sipUri('sip:p1.example.com;lr') }));
    expect([copy.maxForwards, copy.supported, copy.route.length]).toEqual([69, [], 1]);
    expect([req.maxForwards, req.supported.length, req.route.length]).toEqual([70, 2, 0]);
    expect(() => req.append('Bad Name', 'x')).toThrow(TypeError);
    expect(() => req.append('X-Inject', 'a\r\nVia: evil')).toThrow(TypeError);
  });
});

describe('createResponse (RFC 3261 §8.2.6)', () => {
  it('copies Via, From, To, Call-ID, CSeq and adds the To tag', () => {
    const req = invite();
    req.append('Via', 'SIP/2.0/UDP second.example.com;branch=z9hG4bK2');
    const res = createResponse(req, { status: 180, toTag: 'a6c85cf' });
    expect(res.reason).toBe('Ringing');
    expect(res.getAll('Via')).toEqual(req.getAll('Via'));
    expect(res.get('From')).toBe(req.get('From'));
    expect(res.get('To')).toBe(`${req.get('To') ?? ''};tag=a6c85cf`);
    expect(res.to.tag).toBe('a6c85cf');
    expect([res.callId, res.cseq.seq, res.cseq.method]).toEqual([req.callId, 314159, 'INVITE']);
    expect(res.has('Timestamp')).toBe(false);
  });

  it('copies Timestamp into a 100, which needs no tag (RFC 3261 §8.2.6.1)', () => {
    const res = createResponse(invite(), { status: 100 });
    expect(res.get('Timestamp')).toBe('54');
    expect(res.to.tag).toBeUndefined();
    expect(serializeMessage(res).toString()).toMatch(/^SIP\/2\.0 100 Trying\r\n/);
  });

  it('keeps an existing To tag, and refuses to forget one', () => {
    const req = invite();
    req.set('To', req.to.withTag('known'));
    expect(createResponse(req, { status: 200, toTag: 'other' }).to.tag).toBe('known');
    expect(() => createResponse(invite(), { status: 486 })).toThrow(/To tag/);
  });

  it('answers a request with malformed headers by copying their text', () => {
    const raw = 'INVITE sip:u@example.com SIP/2.0\r\nTo: "Mr. J. User <sip:j.user@example.com>\r\nFrom: sip:c@example.net;tag=93334\r\nCall-ID: quotbal\r\nCSeq: 8 INVITE\r\nVia: SIP/2.0/UDP 192.0.2.59:5050;branch=z9hG4bKq\r\nContent-Length: 0\r\n\r\n';
    const r = parseMessage(Buffer.from(raw));
    if (!r.ok || r.message.kind !== 'request') throw new Error('parse');
    const v = validateRequest(r.message);
    expect(v).toMatchObject({ ok: false, status: 400, reason: 'Bad Request - malformed To' });
    if (v.ok) return;
    const res = createResponse(r.message, { status: v.status, reason: v.reason, toTag: 'x1', headers: v.headers });
    expect(serializeMessage(res).toString()).toContain('To: "Mr. J. User <sip:j.user@example.com>;tag=x1\r\n');
  });

  it('adds the headers a rejection calls for', () => {
    const req = invite();
    req.set('Require', 'foo');
    const v = validateRequest(req);
    if (v.ok) throw new Error('accepted');
    const res = createResponse(req, { status: v.status, toTag: 't', headers: v.headers });
    expect([res.status, res.reason, res.unsupported]).toEqual([420, 'Bad Extension', ['foo']]);
  });

  it('has reason phrases', () => {
    expect([reasonPhrase(200), reasonPhrase(481), reasonPhrase(599), reasonPhrase(499)]).toEqual(['OK', 'Call/Transaction Does Not Exist', 'Server Internal Error', 'Bad Request']);
  });
});

describe('mergeKey (RFC 3261 §8.2.2.2)', () => {
  it('is From tag, Call-ID and CSeq for a request outside a dialog', () => {
    const req = invite();
    expect(mergeKey(req)).toBe('1928301774 a84b4c76e66710@pc33.atlanta.example.com 314159 INVITE');
    const forked = req.clone();
    forked.set('Via', new Via({ transport: 'UDP', host: 'other.example.com', params: Params.from({ branch: 'z9hG4bKother' }) }));
    expect(mergeKey(forked)).toBe(mergeKey(req));
    req.set('To', req.to.withTag('x'));
    expect(mergeKey(req)).toBeUndefined();
  });
});

describe('validateRequest, the other answers', () => {
  it('asks for a Content-Type when there is a body, and checks Content-Encoding', () => {
    const req = invite();
    req.remove('Content-Type');
    expect(validateRequest(req)).toMatchObject({ ok: false, status: 400, reason: 'Bad Request - missing Content-Type' });
    const gz = invite();
    gz.set('Content-Encoding', 'gzip');
    expect(validateRequest(gz)).toMatchObject({ ok: false, status: 415, headers: [['Accept-Encoding', 'identity']] });
  });

  it('does not check Require on ACK and CANCEL', () => {
    const req = invite();
    req.method = 'CANCEL';
    req.set('CSeq', '314159 CANCEL').set('Require', 'foo').setBody('');
    expect(validateRequest(req)).toEqual({ ok: true });
  });

  it('honours the supported schemes', () => {
    const req = invite();
    req.uri = sipUri('sips:bob@biloxi.example.com');
    expect(validateRequest(req, { supportedSchemes: ['sip'] })).toMatchObject({ ok: false, status: 416, reason: 'Unsupported URI Scheme' });
  });
});
