// SDES (RFC 4568): reading and writing a=crypto lines, and fresh inline keys from an injected random source.
import { asText, type MediaDescription } from './sdp-parse.js';
import { SDP_SRTP_SUITES, type SdpRandomBytes, type SdpSrtpSuite } from './sdp-types.js';

/** RFC 4568 §6.2.1: 128-bit master key + 112-bit master salt. */
export const SDES_KEY_SALT_BYTES = 30;

/** One a=crypto line we can use. */
export interface SdesCrypto {
  /** RFC 4568 §9.1 tag: 1–999999999; the answer repeats the offer's. */
  readonly tag: number;
  readonly suite: SdpSrtpSuite;
  /** Base64 of 30 octets. */
  readonly key: string;
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

function isSuite(name: string): name is SdpSrtpSuite {
  return (SDP_SRTP_SUITES as readonly string[]).includes(name);
}

/** The key of an `inline:` key-params when it is one we can use; undefined otherwise. */
export function inlineKey(keyParams: string): string | undefined {
  // RFC 4568 §9.2: inline:<key||salt>["|" lifetime]["|" MKI ":" length]; several keys are separated by ';'.
  if (!keyParams.startsWith('inline:') || keyParams.includes(';')) return undefined;
  const [key = '', ...rest] = keyParams.slice('inline:'.length).split('|');
  // The engine has no MKI (srtp.ts): a line with one is not usable. A lifetime is informative only.
  if (rest.length > 2 || rest.some((p) => p.includes(':'))) return undefined;
  if (key.length % 4 !== 0 || !BASE64.test(key)) return undefined;
  if (Buffer.from(key, 'base64').length !== SDES_KEY_SALT_BYTES) return undefined;
  return key;
}

/**
 * The usable a=crypto lines of an m-line, in its order (the offerer's preference, RFC 4568 §5.1.1).
 * Lines with a suite we do not run, an MKI, several keys, session parameters (UNENCRYPTED_SRTP ...) or
 * a key that is not 30 octets of base64 are skipped, as §5.1.2 lets an answerer do.
 */
export function usableCryptos(m: MediaDescription, suites: readonly SdpSrtpSuite[]): SdesCrypto[] {
  const lines = Array.isArray(m.crypto) ? m.crypto : [];
  const usable: SdesCrypto[] = [];
  for (const line of lines) {
    const tag = line.id;
    const suite = asText(line.suite);
    if (typeof tag !== 'number' || !Number.isInteger(tag) || tag < 0 || tag > 999999999) continue;
    if (!isSuite(suite) || !suites.includes(suite)) continue;
    if (line.sessionConfig !== undefined && asText(line.sessionConfig) !== '') continue;
    const key = inlineKey(asText(line.config));
    if (key !== undefined) usable.push({ tag, suite, key });
  }
  return usable;
}

/** How many a=crypto lines an m-line has at all (usable or not). */
export function cryptoLineCount(m: MediaDescription): number {
  return Array.isArray(m.crypto) ? m.crypto.length : 0;
}

/** An a=crypto line in sdp-transform's shape. */
export function cryptoAttribute(c: SdesCrypto): { id: number; suite: string; config: string } {
  return { id: c.tag, suite: c.suite, config: `inline:${c.key}` };
}

/** A fresh master key and salt, base64 (RFC 4568 §6.1); a new one per session and suite, never reused across calls. */
export function generateSdesKey(randomBytes: SdpRandomBytes): string {
  const bytes = randomBytes(SDES_KEY_SALT_BYTES);
  if (bytes.length !== SDES_KEY_SALT_BYTES) throw new RangeError(`randomBytes gave ${bytes.length} octets, not ${SDES_KEY_SALT_BYTES}`);
  return Buffer.from(bytes).toString('base64');
}
