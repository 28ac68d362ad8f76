// serializeMessage: received lines copied as they are give the same bytes as writing every field; edits, Content-Length, compact and reformat, UTF-8.
import { describe, expect, it } from 'vitest';
import { HeaderField, type SipMessage, SipRequest, SipResponse, parseMessage, serializeMessage } from '../../../firmware/sip/message/index.js';
import { VALID, sip } from '../fixtures/torture.js';

function parse(text: string | Buffer): SipMessage {
  const r = parseMessage(typeof text === 'string' ? Buffer.from(text, 'utf8') : text);
  if (!r.ok) throw r.error;
  return r.message;
}

/** The same message with every field made in code: nothing received to copy, each field written. */
function rebuilt(m: SipMessage): SipMessage {
  const fields = m.fields.map((f) => new HeaderField(f.name, f.key, f.spec, f.value));
  return m.kind === 'request'
    ? new SipRequest({ method: m.method, uri: m.uri, version: m.version, fields, body: m.body })
    : new SipResponse({ status: m.status, reason: m.reason, version: m.version, fields, body: m.body });
}

const BENCH_LIKE = sip(
  `
INVITE sip:bob@biloxi.example.com SIP/2.0
Via: SIP/2.0/UDP 192.0.2.101:5060;branch=z9hG4bK776asdhds;rport
Max-Forwards: 70
To: Bob <sip:bob@biloxi.example.com>
From: "Alice" <sip:alice@atlanta.example.com>;tag=1928301774
Call-ID: a84b4c76e66710@pc33.atlanta.example.com
CSeq: 314159 INVITE
Contact: <sip:alice@192.0.2.101:5060;transport=udp>
Allow: INVITE, ACK, CANCEL, OPTIONS, BYE
X-Unknown: kept as received
Content-Type: text/plain
Content-Length: <CL>
`,
  'hello',
);

describe('copying received lines', () => {
  const cases: [string, string][] = [['bench-like INVITE', BENCH_LIKE], ...VALID.map((c): [string, string] => [c.name, c.text])];
  it.each(cases)('%s: the same bytes as writing every field', (_, text) => {
    const m = parse(text);
    const r = rebuilt(m);
    for (const options of [{}, { compact: true }, { reformat: true }, { compact: true, reformat: true }]) {
      expect(serializeMessage(m, options).toString('hex')).toBe(serializeMessage(r, options).toString('hex'));
    }
  });

  it('copies a canonical message as it was received', () => {
    expect(serializeMessage(parse(BENCH_LIKE)).toString()).toBe(BENCH_LIKE);
  });

  it('rewrites lines not written as they serialize', () => {
    const m = parse(
      sip(`
MESSAGE sip:b@example.com SIP/2.0
via: SIP/2.0/UDP h1;branch=z9hG4bK1
Via:  SIP/2.0/UDP h2;branch=z9hG4bK2
Via:\tSIP/2.0/UDP h3;branch=z9hG4bK3
Via: SIP/2.0/UDP h4;branch=z9hG4bK4 
Via : SIP/2.0/UDP h5;branch=z9hG4bK5
Via: SIP/2.0/UDP h6;
 branch=z9hG4bK6
v: SIP/2.0/UDP h7;branch=z9hG4bK7
Via: SIP/2.0/UDP h8;branch=z9hG4bK8
X-A:1
x-a: 2
Content-Length: 0
`),
    );
    expect(serializeMessage(m).toString()).toBe(
      [
        'MESSAGE sip:b@example.com SIP/2.0',
        ...[1, 2, 3, 4, 5].map((i) => `Via: SIP/2.0/UDP h${i};branch=z9hG4bK${i}`),
        'Via: SIP/2.0/UDP h6; branch=z9hG4bK6',
        'Via: SIP/2.0/UDP h7;branch=z9hG4bK7',
        'Via: SIP/2.0/UDP h8;branch=z9hG4bK8',
        'X-A: 1',
        'x-a: 2',
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n'),
    );
  });
});

describe('edits', () => {
  it('break the copied lines where fields were added, removed or replaced', () => {
    const m = parse(BENCH_LIKE);
    m.prepend('Via', 'SIP/2.0/UDP proxy.example.com;branch=z9hG4bKp');
    m.remove('Max-Forwards');
    m.set('Contact', '<sip:alice@198.51.100.1>');
    m.append('Subject', 'appended');
    const lines = BENCH_LIKE.split('\r\n');
    const expected = [
      lines[0],
      'Via: SIP/2.0/UDP proxy.example.com;branch=z9hG4bKp',
      lines[1],
      ...lines.slice(3, 7),
      'Contact: <sip:alice@198.51.100.1>',
      ...lines.slice(8, 12),
      'Subject: appended',
      '',
      'hello',
    ];
    expect(serializeMessage(m).toString()).toBe(expected.join('\r\n'));
    // The same as a message whose fields were all made in code.
    expect(serializeMessage(m).toString('hex')).toBe(serializeMessage(rebuilt(m)).toString('hex'));
  });

  it('write Content-Length from the body: the received line only when it says so', () => {
    const m = parse(BENCH_LIKE);
    m.setBody('longer body');
    expect(serializeMessage(m).toString()).toContain('\r\nContent-Length: 11\r\n\r\nlonger body');
    const two = parse(sip('MESSAGE sip:b@example.com SIP/2.0\nContent-Length: 2\nX-A: 1\nContent-Length: 2', 'ok'));
    expect(serializeMessage(two).toString()).toBe('MESSAGE sip:b@example.com SIP/2.0\r\nContent-Length: 2\r\nX-A: 1\r\n\r\nok');
    const padded = parse(sip('MESSAGE sip:b@example.com SIP/2.0\nContent-Length: 02', 'ok'));
    expect(serializeMessage(padded).toString()).toBe('MESSAGE sip:b@example.com SIP/2.0\r\nContent-Length: 2\r\n\r\nok');
  });

  it('of a clone do not touch the original', () => {
    const m = parse(BENCH_LIKE);
    const c = m.clone();
    c.remove('Allow');
    expect(serializeMessage(m).toString()).toBe(BENCH_LIKE);
    expect(serializeMessage(c).toString()).not.toContain('Allow:');
  });
});

describe('text', () => {
  it('is written as UTF-8, whether received or set', () => {
    const m = parse(sip('MESSAGE sip:b@example.com SIP/2.0\nSubject: Grüße\nContent-Length: 0'));
    m.append('X-Name', 'Zoë');
    expect(serializeMessage(m).toString('utf8')).toBe('MESSAGE sip:b@example.com SIP/2.0\r\nSubject: Grüße\r\nContent-Length: 0\r\nX-Name: Zoë\r\n\r\n');
  });

  it('with a lone surrogate is written as U+FFFD, as Buffer.from() does', () => {
    const m = parse(sip('MESSAGE sip:b@example.com SIP/2.0\nContent-Length: 0'));
    m.append('X-Odd', 'a\uD800b');
    const out = serializeMessage(m);
    expect(out.toString('hex')).toBe(Buffer.from('MESSAGE sip:b@example.com SIP/2.0\r\nContent-Length: 0\r\nX-Odd: a\uD800b\r\n\r\n', 'utf8').toString('hex'));
  });

  it('received as invalid UTF-8 is written as U+FFFD', () => {
    const bytes = Buffer.concat([Buffer.from('MESSAGE sip:b@example.com SIP/2.0\r\nSubject: a'), Buffer.from([0xff]), Buffer.from('b\r\nContent-Length: 0\r\n\r\n')]);
    expect(serializeMessage(parse(bytes)).toString('utf8')).toBe('MESSAGE sip:b@example.com SIP/2.0\r\nSubject: a\uFFFDb\r\nContent-Length: 0\r\n\r\n');
  });
});
