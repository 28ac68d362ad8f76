// RFC 4475-style torture messages: valid ones parse and are accepted, invalid ones get the RFC's answer.
import { describe, expect, it } from 'vitest';
import { type SipRequest, parseMessage, serializeMessage, validateRequest } from '../../../firmware/sip/message/index.js';
import { INVALID, type TortureCase, VALID } from '../fixtures/torture.js';

function check(c: TortureCase): void {
  const r = parseMessage(Buffer.from(c.text, 'utf8'));
  if (c.expect.kind === 'parse-error') {
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.message).toMatch(c.expect.reason);
    return;
  }
  if (!r.ok) throw r.error;
  const m = r.message;
  if (m.kind === 'response') {
    expect(c.expect.kind).toBe('valid');
    return;
  }
  const v = validateRequest(m);
  if (c.expect.kind === 'valid') {
    expect(v).toEqual({ ok: true });
  } else {
    expect(v.ok).toBe(false);
    if (v.ok) return;
    expect(v.status).toBe(c.expect.status);
    if (c.expect.reason) expect(v.reason).toMatch(c.expect.reason);
  }
}

describe('RFC 4475 valid messages', () => {
  it.each(VALID.map((c) => [`${c.section} ${c.name}`, c] as const))('%s', (_, c) => check(c));
});

describe('RFC 4475 invalid messages', () => {
  it.each(INVALID.map((c) => [`${c.section} ${c.name}`, c] as const))('%s', (_, c) => check(c));
});

function parsed(name: string): SipRequest {
  const c = VALID.find((x) => x.name.startsWith(name)) ?? INVALID.find((x) => x.name.startsWith(name));
  if (!c) throw new Error(name);
  const r = parseMessage(Buffer.from(c.text, 'utf8'));
  if (!r.ok) throw r.error;
  if (r.message.kind !== 'request') throw new Error('not a request');
  return r.message;
}

describe('what the torture messages parse to', () => {
  it('wsinv: unfolded values, compact forms, escaped display names, Via lists', () => {
    const m = parsed('wsinv');
    expect(m.maxForwards).toBe(68);
    expect(m.cseq).toMatchObject({ seq: 9, method: 'INVITE' });
    expect(m.to.tag).toBe('1918181833n');
    expect(m.from.displayName).toBe('A. Tester \\"');
    expect(m.from.tag).toBe('98asjd8');
    expect(m.get('NewFangledHeader')).toBe('newfangled value continued newfangled value');
    expect(m.get('UnknownHeaderWithUnusualValue')).toBe(';;,,;;,;');
    expect(m.get('Subject')).toBe('');
    const vias = m.via;
    expect(vias.map((v) => [v.transport, v.host, v.branch])).toEqual([
      ['UDP', '192.0.2.2', '390skdjuw'],
      ['TCP', 'spindle.example.org', 'z9hG4bK9ikj8'],
      ['UDP', '192.168.255.111', 'z9hG4bK30239'],
    ]);
    expect(m.contact[0]?.displayName).toBe('Quoted string ""');
    expect(m.contact[0]?.params.get('q')).toBe('0.33');
    expect(m.contact[0]?.params.has('secondparam')).toBe(true);
    expect(m.route[0]?.uri.toString()).toBe('sip:services.example.org;lr;unknownwith=value;unknown-no-value');
    expect(m.parseAllHeaders()).toBeUndefined();
  });

  it('intmeth: odd tokens, password in the Request-URI, control characters in a quoted string', () => {
    const m = parsed('intmeth');
    expect(m.method).toBe("!interesting-Method0123456789_*+`.%indeed'~");
    expect(m.uri.kind).toBe('sip');
    if (m.uri.kind === 'sip') {
      expect(m.uri.user).toBe("1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*");
      expect(m.uri.password).toBe("&it+has=1,weird!*pas$wo~d_too.(doesn't-it)");
    }
    expect(m.to.displayName).toBe('BEL:\x07 NUL:\x00 DEL:\x7F');
    expect(m.from.displayName).toBe("token1~` token2'+_ token3*%!.-");
    expect(m.callId).toBe('intmeth.word%ZK-!.*_+\'@word`~)(><:\\/"][?}{');
    expect(m.get("extensionHeader-!.%*+_`'~")).toBe('\uFEFF\u5927\u505C\u96FB');
    expect(m.parseAllHeaders()).toBeUndefined();
  });

  it('esc01 / escnull: escapes are kept as received', () => {
    const m = parsed('esc01');
    expect(m.uri.kind === 'sip' && m.uri.user).toBe('sips%3Auser%40example.com');
    const c = m.contact[0]?.uri;
    expect(c?.kind === 'sip' && c.params.get('n%61me')).toBe('v%61lue%25%34%31');
    expect(m.contentType?.essence).toBe('application/sdp');
    const n = parsed('escnull');
    expect(n.contact.map((x) => x.uri.toString())).toEqual(['sip:%00@host5.example.com', 'sip:%00%00@host5.example.com']);
  });

  it('dblreq: only the first message of the datagram is read', () => {
    const m = parsed('dblreq');
    expect(m.method).toBe('REGISTER');
    expect(m.body.length).toBe(0);
  });

  it('semiuri: the user part keeps its semicolons; Accept folded over lines', () => {
    const m = parsed('semiuri');
    expect(m.uri.kind === 'sip' && m.uri.user).toBe('user;par=u%40example.net');
    expect(m.accept.map((t) => t.essence)).toEqual(['application/sdp', 'application/pkcs7-mime', 'multipart/mixed', 'multipart/signed', 'message/sip', 'message/sipfrag']);
  });

  it('mpart01: the multipart body is passed through byte for byte', () => {
    const c = VALID.find((x) => x.name.startsWith('mpart01'));
    const raw = Buffer.from(c?.text ?? '', 'utf8');
    const m = parsed('mpart01');
    const bodyStart = raw.indexOf('\r\n\r\n') + 4;
    expect(Buffer.compare(Buffer.from(m.body), raw.subarray(bodyStart))).toBe(0);
    const out = serializeMessage(m);
    expect(Buffer.compare(out.subarray(out.indexOf('\r\n\r\n') + 4), raw.subarray(bodyStart))).toBe(0);
  });

  it('unksm2: unknown schemes in To, From, Contact are kept', () => {
    const m = parsed('unksm2');
    expect(m.to.uri.toString()).toBe('isbn:2983792873');
    expect(m.from.uri.kind).toBe('absolute');
    expect(m.contact[0]?.uri.toString()).toBe('name:John_Smith');
  });

  it('cparam01: addr-spec Contact parameters belong to the header, bracketed ones to the URI', () => {
    const m = parsed('cparam01');
    const [a, b] = m.contact;
    expect(a?.params.has('unknownparam')).toBe(true);
    expect(a?.uri.kind === 'sip' && a.uri.params.size).toBe(0);
    expect(b?.params.size).toBe(0);
    expect(b?.uri.kind === 'sip' && b.uri.params.has('unknownparam')).toBe(true);
  });

  it('regescrt: a URI header inside <> in Contact', () => {
    const u = parsed('regescrt').contact[0]?.uri;
    expect(u?.kind === 'sip' && u.headers.get('Route')).toBe('%3Csip:sip.example.com%3E');
  });

  it('inv2543: no magic cookie', () => {
    const m = parsed('inv2543');
    expect(m.topVia.branch).toBeUndefined();
    expect(m.topVia.hasMagicCookie).toBe(false);
    expect(m.maxForwards).toBeUndefined();
  });

  it('bext01 lists the unsupported Require options; invut offers Accept', () => {
    const bext = validateRequest(parsed('bext01'));
    expect(bext).toMatchObject({ ok: false, status: 420, headers: [['Unsupported', 'nothingSupportsThis, nothingSupportsThisEither']] });
    const invut = validateRequest(parsed('invut'), { acceptedContentTypes: ['application/sdp'] });
    expect(invut).toMatchObject({ ok: false, status: 415, headers: [['Accept', 'application/sdp']] });
    expect(validateRequest(parsed('bext01'), { supportedOptions: ['nothingSupportsThis', 'nothingSupportsThisEither'] })).toEqual({ ok: true });
  });

  it('zeromf: an endpoint may process Max-Forwards 0 when asked to', () => {
    expect(validateRequest(parsed('zeromf'), { rejectZeroMaxForwards: false })).toEqual({ ok: true });
  });

  it('mismatch02 / intmeth: 501 carries Allow with the known methods', () => {
    const v = validateRequest(parsed('mismatch02'), { knownMethods: ['INVITE', 'ACK', 'BYE'] });
    expect(v).toMatchObject({ ok: false, status: 501, headers: [['Allow', 'INVITE, ACK, BYE']] });
  });

  it('baddate: Date is checked when not tolerated', () => {
    const m = parsed('baddate');
    expect(validateRequest(m, { tolerateMalformed: [] })).toMatchObject({ ok: false, status: 400, reason: 'Bad Request - malformed Date' });
    expect(m.parseAllHeaders()?.header).toBe('Date');
  });
});
