// parseMessage's two ways in (the whole message decoded at once, or its header section found in the bytes first), header names in every spelling, values read in place.
import { describe, expect, it } from 'vitest';
import { H, type SipMessage, SipParseError, parseMessage, serializeMessage } from '../../../firmware/sip/message/index.js';
import { INVALID, VALID, sip } from '../fixtures/torture.js';

function errorShape(e: SipParseError | undefined): unknown {
  return e && { reason: e.reason, line: e.line, column: e.column, header: e.header, limit: e.limit, status: e.status };
}

/** Everything parseMessage gives, as plain data (typed values as their text). */
function outcome(bytes: Buffer): unknown {
  const r = parseMessage(bytes);
  if (!r.ok) return { error: errorShape(r.error) };
  const m = r.message;
  return {
    start: m.kind === 'request' ? [m.method, m.uri.toString(), m.version, m.defects.map(errorShape)] : [m.status, m.reason, m.version],
    fields: m.fields.map((f) => [f.name, f.key, f.value, f.line, f.column]),
    typed: m.fields.map((f) => {
      const e = f.check();
      if (e) return errorShape(e);
      const v = f.parsed();
      return Array.isArray(v) ? v.map(String) : String(v);
    }),
    body: Buffer.from(m.body).toString('hex'),
    out: serializeMessage(m).toString('hex'),
  };
}

/** The message says where its body ends: one well-formed Content-Length that the bytes satisfy. */
function framed(text: string): boolean {
  if (!/\r\n(content-length|l)[ \t]*:/i.test(text)) return false;
  const r = parseMessage(Buffer.from(text, 'utf8'));
  if (!r.ok) return r.error.header !== 'Content-Length';
  return r.message.kind === 'response' || !r.message.defects.some((d) => d.header === 'Content-Length');
}

describe('decoding', () => {
  // Bytes after the body are not part of the message (RFC 3261 §18.3), so appending some changes
  // nothing, except how the message is decoded: whole when it is ASCII and small, otherwise
  // header section first (a non-ASCII byte after the body, or more than 4 KiB).
  const cases = [...VALID, ...INVALID].filter((c) => framed(c.text));
  it.each(cases.map((c) => [c.name, c.text] as const))('%s: the same either way', (_, text) => {
    const bytes = Buffer.from(text, 'utf8');
    const expected = outcome(bytes);
    expect(outcome(Buffer.concat([bytes, Buffer.from('é', 'utf8')]))).toEqual(expected);
    expect(outcome(Buffer.concat([bytes, Buffer.alloc(5000, 'x')]))).toEqual(expected);
    expect(outcome(Buffer.concat([bytes, Buffer.from([0xff])]))).toEqual(expected);
  });

  const HEAD = 'OPTIONS sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKx\r\nTo: <sip:bob@example.com>\r\nFrom: <sip:a@example.com>;tag=1\r\nCall-ID: c@x\r\nCSeq: 1 OPTIONS\r\n';

  it.each([
    ['a bare LF', `${HEAD}X-A: 1\nX-B: 2\r\nContent-Length: 0\r\n\r\n`, { reason: 'CR or LF outside a line ending', line: 7 }],
    ['a bare CR', `${HEAD}X-A: 1\rX-B: 2\r\nContent-Length: 0\r\n\r\n`, { reason: 'CR or LF outside a line ending', line: 7 }],
    ['a bare LF in a folded line', `${HEAD}X-A: 1\r\n 2\n3\r\nContent-Length: 0\r\n\r\n`, { reason: 'CR or LF outside a line ending', line: 8 }],
    ['no empty line', `${HEAD}Content-Length: 0\r\n`, { reason: 'no empty line after the header section', line: 1 }],
    ['no line end at all', 'OPTIONS sip:bob@example.com SIP/2.0', { reason: 'no empty line after the header section', line: 1 }],
    ['a continuation line first', `${HEAD.replace('\r\nVia', '\r\n Via')}Content-Length: 0\r\n\r\n`, { reason: 'continuation line without a header field', line: 2 }],
    ['a line without colon', `${HEAD}X-A 1\r\nContent-Length: 0\r\n\r\n`, { reason: "expected ':' after header name 'X-A'", line: 7, column: 5 }],
    ['a name that is no token', `${HEAD}X<A>: 1\r\nContent-Length: 0\r\n\r\n`, { reason: "expected ':' after header name 'X'", line: 7 }],
  ])('reports %s the same way whatever the bytes after it', (_, text, error) => {
    for (const tail of ['', 'é', 'x'.repeat(5000)]) {
      const r = parseMessage(Buffer.from(text + tail, 'utf8'));
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.error).toMatchObject(error);
    }
  });

  it('decodes a header section with non-ASCII text as UTF-8, and invalid bytes as U+FFFD', () => {
    const bytes = Buffer.concat([Buffer.from(`${HEAD}Subject: Grüße `), Buffer.from([0xe2, 0x82, 0x41, 0xff]), Buffer.from('\r\nContent-Length: 2\r\n\r\nok')]);
    for (const b of [bytes, Buffer.concat([bytes, Buffer.alloc(5000, 'x')])]) {
      const r = parseMessage(b);
      if (!r.ok) throw r.error;
      expect(r.message.get('Subject')).toBe('Grüße \uFFFDA\uFFFD');
      expect(Buffer.from(r.message.body).toString()).toBe('ok');
    }
  });

  it('finds the body after leading CRLFs, and keeps a binary body byte for byte', () => {
    const body = Buffer.from([0, 1, 0xc3, 0x28, 0xff, 13, 10, 13, 10]);
    const bytes = Buffer.concat([Buffer.from(`\r\n\r\n${HEAD}Content-Type: application/octet-stream\r\nContent-Length: ${body.length}\r\n\r\n`), body, Buffer.from('after')]);
    const r = parseMessage(bytes);
    if (!r.ok) throw r.error;
    expect(Buffer.compare(Buffer.from(r.message.body), body)).toBe(0);
    expect(r.message.fields[0]).toMatchObject({ name: 'Via', line: 4 });
  });
});

describe('header names', () => {
  function fieldOf(name: string): { name: string; key: string } {
    const r = parseMessage(Buffer.from(sip(`OPTIONS sip:b@example.com SIP/2.0\n${name}: x\nContent-Length: 0`), 'utf8'));
    if (!r.ok) throw r.error;
    const f = r.message.fields[0];
    if (!f) throw new Error('no field');
    return { name: f.name, key: f.key };
  }

  const specs = Object.values(H);
  it.each(specs.map((s) => [s.name, s] as const))('%s in every spelling', (_, s) => {
    const spellings = [s.name, s.key, s.name.toUpperCase(), ...(s.compact ? [s.compact, s.compact.toUpperCase()] : [])];
    for (const n of spellings) expect(fieldOf(n)).toEqual({ name: s.name, key: s.key });
    // Near misses are other, unknown headers.
    for (const n of [`${s.name}x`, `x${s.name}`, s.name.slice(0, -1), `${s.name}-`]) {
      if (specs.some((o) => o.key === n.toLowerCase() || o.compact === n.toLowerCase())) continue;
      expect(fieldOf(n)).toEqual({ name: n, key: n.toLowerCase() });
    }
  });

  it('takes a name in canonical spelling only when it ends there', () => {
    expect(fieldOf('Contact')).toEqual({ name: 'Contact', key: 'contact' });
    expect(fieldOf('Content-Type')).toEqual({ name: 'Content-Type', key: 'content-type' });
    expect(fieldOf('Content-Typo')).toEqual({ name: 'Content-Typo', key: 'content-typo' });
    expect(fieldOf('Contact-Me')).toEqual({ name: 'Contact-Me', key: 'contact-me' });
    expect(fieldOf('Via ')).toEqual({ name: 'Via', key: 'via' });
  });

  it('refuses a name with a non-ASCII character', () => {
    const r = parseMessage(Buffer.from(sip('OPTIONS sip:b@example.com SIP/2.0\nVïa: x\nContent-Length: 0'), 'utf8'));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.reason).toBe("expected ':' after header name 'V'");
  });
});

describe('values', () => {
  function parse(text: string): SipMessage {
    const r = parseMessage(Buffer.from(text, 'utf8'));
    if (!r.ok) throw r.error;
    return r.message;
  }

  it('are the received text, trimmed and unfolded, whether read before or after parsing', () => {
    const m = parse(sip('OPTIONS sip:b@example.com SIP/2.0\nX-A:   spaced  \nX-B: folded\n  twice \n\tthrice\nCall-ID:  c@x \nContent-Length: 0'));
    expect(m.callId).toBe('c@x');
    // A folded line's break and the whitespace after it become one SP (RFC 3261 §7.3.1).
    expect(m.fields.map((f) => f.value)).toEqual(['spaced', 'folded twice  thrice', 'c@x', '0']);
    expect(m.fields.map((f) => f.column)).toEqual([8, 6, 11, 17]);
  });

  it('of a request line: the version is read in place, others kept in capitals', () => {
    const line = (first: string): SipMessage => parse(sip(`${first}\nContent-Length: 0`));
    const a = line('INVITE sip:b@example.com SIP/2.0');
    expect(a.kind === 'request' && [a.version, a.defects]).toEqual(['SIP/2.0', []]);
    const b = line('INVITE sip:b@example.com sip/2.0');
    expect(b.kind === 'request' && b.version).toBe('SIP/2.0');
    const c = line('INVITE sip:b@example.com SIP/3.0');
    expect(c.kind === 'request' && c.version).toBe('SIP/3.0');
    const d = line('INVITE sip:b@exa\tmple.com SIP/2.0');
    expect(d.kind === 'request' && d.defects.map((e) => e.reason)).toEqual(['whitespace inside the Request-URI']);
  });
});

describe('the error type', () => {
  it('is SipParseError', () => {
    const r = parseMessage(Buffer.from('OPTIONS sip:b@example.com SIP/2.0\r\nX-A: 1\n\r\n\r\n'));
    expect(!r.ok && r.error instanceof SipParseError).toBe(true);
  });
});
