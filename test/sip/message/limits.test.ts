// Parser limits (header count, line lengths, message size) and linear time on adversarial 8-64 KiB messages.
import { describe, expect, it } from 'vitest';
import { parseMessage } from '../../../firmware/sip/message/index.js';

const HEAD = 'OPTIONS sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKx\r\nTo: <sip:bob@example.com>\r\nFrom: <sip:a@example.com>;tag=1\r\nCall-ID: c@x\r\nCSeq: 1 OPTIONS\r\n';
const msg = (extra: string, body = ''): Buffer => Buffer.from(`${HEAD}${extra}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`, 'utf8');

describe('limits', () => {
  it('bounds the number of header fields (256 by default, configurable)', () => {
    const many = (n: number): string => Array.from({ length: n }, (_, i) => `X-H${i}: ${i}\r\n`).join('');
    // HEAD has 5 fields, and Content-Length makes 6.
    expect(parseMessage(msg(many(250))).ok).toBe(true);
    const r = parseMessage(msg(many(251)));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatchObject({ limit: 'headerCount', status: 513 });
    expect(parseMessage(msg(many(251)), { limits: { maxHeaders: 300 } }).ok).toBe(true);
  });

  it('bounds a header line, folded lines counted together', () => {
    const r = parseMessage(msg(`Subject: ${'a'.repeat(20_000)}\r\n`));
    expect(!r.ok && r.error.limit).toBe('headerLineChars');
    const folded = parseMessage(msg(`Subject: ${Array.from({ length: 300 }, () => 'x'.repeat(60)).join('\r\n ')}\r\n`));
    expect(!folded.ok && folded.error.limit).toBe('headerLineChars');
    expect(parseMessage(msg(`Subject: ${'a'.repeat(20_000)}\r\n`), { limits: { maxHeaderLineChars: 30_000 } }).ok).toBe(true);
  });

  it('bounds the start line', () => {
    const r = parseMessage(Buffer.from(`OPTIONS sip:${'a'.repeat(9000)}@example.com SIP/2.0\r\n\r\n`));
    expect(!r.ok && r.error.limit).toBe('startLineChars');
  });

  it('bounds the message: 65,535 bytes for a datagram by default', () => {
    const overhead = msg('', 'x'.repeat(10_000)).length - 10_000;
    const body = 'x'.repeat(65_535 - overhead);
    expect(msg('', body).length).toBe(65_535);
    const ok = parseMessage(msg('', body));
    expect(ok.ok).toBe(true);
    const r = parseMessage(msg('', `${body}y`));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatchObject({ limit: 'messageBytes', status: 513 });
    expect(parseMessage(msg('', `${body}y`), { limits: { maxMessageBytes: 70_000 } }).ok).toBe(true);
  });

  it('reports a bare CR or LF', () => {
    for (const bad of ['X-A: 1\nX-B: 2\r\n', 'X-A: 1\rX-B: 2\r\n']) {
      const r = parseMessage(msg(bad));
      expect(!r.ok && r.error.reason).toBe('CR or LF outside a line ending');
    }
  });

  it('never throws, whatever the bytes', () => {
    let seed = 12345;
    const rnd = (): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    const base = msg('Contact: "x" <sip:a@b;p=1>;q=0.5\r\nWWW-Authenticate: Digest realm="r", nonce="n"\r\n', 'body');
    for (let i = 0; i < 2000; i++) {
      const b = Buffer.from(base);
      for (let k = 0; k < 4; k++) b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256);
      const r = parseMessage(b.subarray(0, Math.floor(rnd() * b.length) + 1));
      if (r.ok) expect(() => r.message.parseAllHeaders()).not.toThrow();
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Linear time. Each generator fills a message of about `bytes` bytes with one adversarial shape.
// Parsing (framing plus every header through parseAllHeaders) must cost about the same per byte
// at 8 and at 64 KiB: a quadratic path would cost 8 times more per byte at 64 KiB.

const BIG = { maxMessageBytes: 1 << 20, maxHeaders: 1 << 20, maxHeaderLineChars: 1 << 20, maxStartLineChars: 1 << 20 };

function fill(unit: (i: number) => string, bytes: number, sep = ''): string {
  const parts: string[] = [];
  let n = 0;
  for (let i = 0; n < bytes; i++) {
    const u = unit(i);
    parts.push(u);
    n += u.length + sep.length;
  }
  return parts.join(sep);
}

const SHAPES: Record<string, (bytes: number) => Buffer> = {
  'many headers': (n) => msg(fill((i) => `X-H${i}: v${i}\r\n`, n)),
  'one long unknown line': (n) => msg(`X-Long: ${'a'.repeat(n)}\r\n`),
  'many folded lines': (n) => msg(`Subject: ${fill(() => 'word', n, '\r\n ')}\r\n`),
  'many Via values': (n) => msg(`Via: ${fill((i) => `SIP/2.0/UDP h${i}.example.com;branch=z9hG4bK${i};rport`, n, ', ')}\r\n`),
  'many URIs without @ in Route': (n) => msg(`Route: ${fill((i) => `<sip:p${i}.example.com;lr>`, n, ',')}\r\n`),
  'many addr-specs in Contact': (n) => msg(`Contact: ${fill((i) => `sip:h${i}.example.com;q=0.${i % 10}`, n, ', ')}\r\n`),
  'many params': (n) => msg(`Contact: <sip:a@example.com>${fill((i) => `;p${i}=v${i}`, n)}\r\n`),
  'many URI params': (n) => msg(`Contact: <sip:a@example.com${fill((i) => `;u${i}=%41${i}`, n)}>\r\n`),
  'many quoted auth-params with escapes': (n) => msg(`Authorization: Digest ${fill((i) => `p${i}="a\\"b\\\\c${i}"`, n, ', ')}\r\n`),
  'many quoted strings without escapes': (n) => msg(`Authorization: Digest ${fill((i) => `p${i}="abc${i}"`, n, ', ')}\r\n`),
  // Many lines: per-line searches must not rescan the rest of the header section.
  'many Route lines without @': (n) => msg(fill((i) => `Route: <sip:p${i}.example.com;lr>\r\n`, n)),
  'many lines with quoted strings': (n) => msg(fill((i) => `Contact: "n${i}" <sip:c${i}@example.com>\r\n`, n)),
  'many commas': (n) => msg(`Supported: ${fill((i) => `o${i}`, n, ',')}\r\n`),
  'deeply nested comment': (n) => msg(`Retry-After: 5 ${'('.repeat(n / 2)}${')'.repeat(n / 2)}\r\n`),
  'deep brackets and quotes (rejected)': (n) => msg(`To: ${'<"'.repeat(n / 2)}\r\n`),
  'long display name': (n) => msg(`Contact: ${'a '.repeat(n / 2)}<sip:a@example.com>\r\n`),
};

function costPerByte(make: (bytes: number) => Buffer, bytes: number): number {
  const m = make(bytes);
  const run = (): void => {
    const r = parseMessage(m, { limits: BIG });
    if (r.ok) r.message.parseAllHeaders();
  };
  run();
  // Best of several: the minimum is the least disturbed by other processes on the machine.
  let best = Infinity;
  for (let k = 0; k < 7; k++) {
    const t0 = process.hrtime.bigint();
    const reps = Math.max(1, Math.round(131_072 / bytes));
    for (let j = 0; j < reps; j++) run();
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / reps);
  }
  return best / m.length;
}

describe('linear time on adversarial messages', () => {
  it.each(Object.entries(SHAPES))('%s', (_, make) => {
    const sizes = [8, 16, 32, 64].map((k) => k * 1024);
    // Warm up on every size first, so that the JIT's work does not count against the small ones.
    for (const s of sizes) costPerByte(make, s);
    const costs = sizes.map((s) => costPerByte(make, s));
    const small = Math.min(costs[0] ?? 0, costs[1] ?? 0);
    const last = costs[costs.length - 1] ?? 0;
    if (process.env.SIP_LINEAR_DEBUG) console.log(costs.map((c) => c.toFixed(2)).join(' '));
    // Quadratic growth would make the 64 KiB cost per byte 4 to 8 times the 8-16 KiB one. Allow
    // 3x for noise, caches and a loaded machine.
    expect(last / small, `ns/byte at 8/16/32/64 KiB: ${costs.map((c) => c.toFixed(2)).join(' ')}`).toBeLessThan(3);
  });
});
