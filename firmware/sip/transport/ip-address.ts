// IP address helpers for the transports and the trace: families, IPv4-mapped addresses, equality, byte forms.
import { isIP } from 'node:net';

/** 4 or 6 for an IP address literal (brackets and an IPv6 zone allowed), 0 for anything else. */
export function ipFamily(address: string): 0 | 4 | 6 {
  const v = isIP(stripBrackets(address).split('%')[0] ?? '');
  return v === 4 || v === 6 ? v : 0;
}

export function stripBrackets(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

/**
 * A socket address as the SIP layers should see it: a dual-stack IPv6 socket reports IPv4 peers
 * as "::ffff:a.b.c.d", which must compare equal to the "a.b.c.d" in a Via or a target.
 */
export function normalizeAddress(address: string): string {
  const a = stripBrackets(address);
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(a);
  return m?.[1] ?? a;
}

/** The 4 or 16 bytes of an IP address literal; undefined when it is not one. */
export function ipBytes(address: string): Buffer | undefined {
  const a = normalizeAddress(address).split('%')[0] ?? '';
  const family = isIP(a);
  if (family === 4) return Buffer.from(a.split('.').map(Number));
  if (family !== 6) return undefined;
  // RFC 4291 §2.2 text forms: "::" compression and an IPv4 dotted tail.
  let text = a;
  let tail: number[] = [];
  const v4 = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4?.[1] !== undefined && v4[2] !== undefined) {
    const b = v4[2].split('.').map(Number);
    tail = [((b[0] ?? 0) << 8) | (b[1] ?? 0), ((b[2] ?? 0) << 8) | (b[3] ?? 0)];
    text = v4[1].endsWith('::') ? v4[1] : v4[1].slice(0, -1);
  }
  const hex = (s: string): number[] => (s === '' ? [] : s.split(':').map((h) => parseInt(h, 16)));
  let groups: number[];
  const dbl = text.indexOf('::');
  if (dbl >= 0) {
    const left = hex(text.slice(0, dbl));
    const right = [...hex(text.slice(dbl + 2)), ...tail];
    groups = [...left, ...new Array<number>(Math.max(0, 8 - left.length - right.length)).fill(0), ...right];
  } else {
    groups = [...hex(text), ...tail];
  }
  const out = Buffer.alloc(16);
  for (let i = 0; i < 8; i++) out.writeUInt16BE(groups[i] ?? 0, i * 2);
  return out;
}

/** Whether two IP address literals name the same address (IPv6 in any spelling, IPv4-mapped = IPv4). */
export function ipEquals(a: string, b: string): boolean {
  const x = ipBytes(a);
  const y = ipBytes(b);
  if (!x || !y) return false;
  return x.equals(y);
}

/** "1.2.3.4:5060" or "[::1]:5060". */
export function formatHostPort(address: string, port: number): string {
  return ipFamily(address) === 6 ? `[${stripBrackets(address)}]:${port}` : `${address}:${port}`;
}

/** The IPv4-mapped IPv6 form of an IPv4 address, for sending from a dual-stack IPv6 socket. */
export function mappedIpv6(address: string): string {
  return `::ffff:${address}`;
}
