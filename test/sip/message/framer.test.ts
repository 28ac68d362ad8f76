// SipStreamFramer: messages cut by Content-Length at any chunk boundary, RFC 5626 keep-alives, limits.
import { describe, expect, it } from 'vitest';
import { type FramerEvent, SipStreamFramer, parseMessage } from '../../../firmware/sip/message/index.js';
import { sip } from '../fixtures/torture.js';

const A = sip('MESSAGE sip:bob@example.com SIP/2.0\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\nTo: <sip:bob@example.com>\nFrom: <sip:a@example.com>;tag=1\nCall-ID: a\nCSeq: 1 MESSAGE\nContent-Type: text/plain\nl: <CL>', 'hello\r\n\r\nworld');
const B = sip('SIP/2.0 200 OK\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\nTo: <sip:bob@example.com>;tag=2\nFrom: <sip:a@example.com>;tag=1\nCall-ID: a\nCSeq: 1 MESSAGE\nContent-Length: 0');
const STREAM = Buffer.from(`\r\n\r\n${A}\r\n${B}\r\n\r\n${A}`, 'utf8');

type Summary = string;
function summarize(events: readonly FramerEvent[]): Summary[] {
  return events.map((e) => (e.type === 'message' ? `message:${e.bytes.toString('utf8')}` : e.type === 'error' ? `error:${e.error.reason}` : e.type));
}

function feed(chunks: readonly Buffer[], framer = new SipStreamFramer()): Summary[] {
  const out: Summary[] = [];
  for (const c of chunks) out.push(...summarize(framer.push(c)));
  return out;
}

// Pongs depend on where the stream is cut (a lone CRLF at the end of a chunk is reported at once);
// messages and pings do not.
const withoutPongs = (s: Summary[]): Summary[] => s.filter((x) => x !== 'pong');

describe('SipStreamFramer', () => {
  const whole = feed([STREAM]);

  it('frames messages and keep-alives from one chunk', () => {
    expect(whole).toEqual(['ping', `message:${A}`, 'pong', `message:${B}`, 'ping', `message:${A}`]);
    const first = whole[1]?.slice('message:'.length) ?? '';
    const r = parseMessage(Buffer.from(first, 'utf8'), { transport: 'stream' });
    expect(r.ok && r.message.bodyText).toBe('hello\r\n\r\nworld');
  });

  it('gives the same messages for a cut at every byte position', () => {
    for (let i = 0; i <= STREAM.length; i++) {
      const got = feed([STREAM.subarray(0, i), STREAM.subarray(i)]);
      expect(withoutPongs(got), `cut at ${i}`).toEqual(withoutPongs(whole));
    }
  });

  it('gives the same messages byte by byte', () => {
    const chunks = Array.from({ length: STREAM.length }, (_, i) => STREAM.subarray(i, i + 1));
    expect(withoutPongs(feed(chunks))).toEqual(withoutPongs(whole));
  });

  it('reports a lone CRLF as a pong at once, and a ping split in two as a ping too', () => {
    const f = new SipStreamFramer();
    expect(summarize(f.push(Buffer.from('\r\n')))).toEqual(['pong']);
    expect(summarize(f.push(Buffer.from('\r\n')))).toEqual(['ping']);
    expect(summarize(f.push(Buffer.from('\r\n\r\n')))).toEqual(['ping']);
    expect(summarize(f.push(Buffer.from('\r')))).toEqual([]);
    expect(summarize(f.push(Buffer.from('\n')))).toEqual(['pong']);
    expect(f.buffered).toBe(0);
  });

  it('fails on a message without Content-Length, and stays failed', () => {
    const f = new SipStreamFramer();
    const e = f.push(Buffer.from('OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP h\r\n\r\n'));
    expect(summarize(e)).toEqual(['error:missing Content-Length on a stream transport']);
    expect(f.failed).toBe(true);
    expect(f.push(Buffer.from(A))).toEqual([]);
  });

  it.each([
    ['Content-Length: -1', 'malformed Content-Length'],
    ['Content-Length: 1\r\nl: 1', 'multiple Content-Length values'],
  ])('fails on %s', (line, reason) => {
    expect(summarize(new SipStreamFramer().push(Buffer.from(`OPTIONS sip:a@b SIP/2.0\r\n${line}\r\n\r\nx`)))).toEqual([`error:${reason}`]);
  });

  it('enforces the maximum message size, for the body and for an endless header section', () => {
    const f = new SipStreamFramer({ maxMessageBytes: 1000 });
    const [e] = f.push(Buffer.from('OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 990\r\n\r\n'));
    expect(e?.type === 'error' && e.error.limit).toBe('messageBytes');
    const g = new SipStreamFramer({ maxMessageBytes: 1000 });
    let events: FramerEvent[] = [];
    for (let i = 0; i < 20 && events.length === 0; i++) events = g.push(Buffer.from(`X-Filler-${i}: ${'x'.repeat(80)}\r\n`));
    expect(events[0]?.type === 'error' && events[0].error.limit).toBe('messageBytes');
  });

  it('frames a 64 KiB message arriving one byte at a time', () => {
    const body = 'x'.repeat(65_536 - 200);
    const msg = Buffer.from(sip('MESSAGE sip:a@b SIP/2.0\nContent-Type: text/plain\nContent-Length: <CL>', body));
    const f = new SipStreamFramer();
    const events: FramerEvent[] = [];
    for (let i = 0; i < msg.length; i++) events.push(...f.push(msg.subarray(i, i + 1)));
    expect(events.length).toBe(1);
    expect(events[0]?.type === 'message' && events[0].bytes.length).toBe(msg.length);
  });
});

describe('SipStreamFramer cost', () => {
  // Header lines with and without colons: finding Content-Length must read each line once.
  function framingCostPerByte(bytes: number): number {
    const lines: string[] = [];
    for (let i = 0, n = 0; n < bytes; i++) {
      const l = i % 2 ? `X-H${i}: v${i}` : `no-colon-on-this-line-${i}`;
      lines.push(l);
      n += l.length + 2;
    }
    const msg = Buffer.from(`MESSAGE sip:a@b SIP/2.0\r\n${lines.join('\r\n')}\r\nContent-Length: 0\r\n\r\n`);
    let best = Infinity;
    for (let k = 0; k < 5; k++) {
      const t0 = process.hrtime.bigint();
      const f = new SipStreamFramer({ maxMessageBytes: 1 << 20 });
      const events = f.push(msg);
      best = Math.min(best, Number(process.hrtime.bigint() - t0));
      expect(events.length).toBe(1);
    }
    return best / msg.length;
  }

  it('is linear in the size of the header section', () => {
    for (const s of [8, 64]) framingCostPerByte(s * 1024);
    const small = Math.min(framingCostPerByte(8 * 1024), framingCostPerByte(16 * 1024));
    expect(framingCostPerByte(64 * 1024) / small).toBeLessThan(3);
  });
});
