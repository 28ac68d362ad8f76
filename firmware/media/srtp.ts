// SRTP (RFC 3711) with SDES keys (RFC 4568): the crypto-suites the engine runs, a stream's SRTP options, key generation and checks.
import { randomBytes as cryptoRandomBytes } from 'node:crypto';
import { MediaEngineError } from './media-engine.js';

/** RFC 4568 §6.2 crypto-suite names, as they appear in `a=crypto` lines. */
export type SrtpSuite = 'AES_CM_128_HMAC_SHA1_80' | 'AES_CM_128_HMAC_SHA1_32';

/** What a suite is (CONVENTIONS.md #4: capabilities are data), for the SDP layer's offer and answer. */
export interface SrtpSuiteCapability {
  readonly name: SrtpSuite;
  /** Master key + salt octets in the inline key-params (RFC 4568 §6.2.1: 16 + 14). */
  readonly keySaltBytes: 30;
  /** Authentication tag appended to each SRTP packet, bits. */
  readonly srtpAuthTagBits: 80 | 32;
  /** SRTCP's tag: 80 bits for both suites (RFC 4568 §6.2.2). */
  readonly srtcpAuthTagBits: 80;
}

/** The suites the engine runs, in order of preference for an offer: RFC 3711 §5.2's default 80-bit tag first (§7.5: a short tag weakens integrity). */
export const SRTP_SUITES: readonly SrtpSuiteCapability[] = [
  { name: 'AES_CM_128_HMAC_SHA1_80', keySaltBytes: 30, srtpAuthTagBits: 80, srtcpAuthTagBits: 80 },
  { name: 'AES_CM_128_HMAC_SHA1_32', keySaltBytes: 30, srtpAuthTagBits: 32, srtcpAuthTagBits: 80 },
];

/** RFC 4568 §6.2.1: a 128-bit master key followed by a 112-bit master salt. */
export const SRTP_KEY_SALT_BYTES = 30;

/**
 * A stream's SRTP, as the SDP offer/answer agreed it (RFC 4568 §5). Keys are the inline key-params'
 * base64 (`a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:<this>`), without lifetime or MKI: the engine
 * takes neither (RFC 4568 §6.1), so the SDP layer must not accept an `a=crypto` that carries an MKI.
 */
export interface SrtpOptions {
  suite: SrtpSuite;
  /** Our key (the one in our `a=crypto`): protects what we send. Base64 of 30 octets. */
  localKey: string;
  /** The peer's key (in its `a=crypto`): checks and decrypts what we receive. Base64 of 30 octets. */
  remoteKey: string;
}

/** Random bytes: node:crypto in the phone, a seeded source in tests. */
export type SrtpRandomBytes = (size: number) => Uint8Array;

/**
 * A fresh master key and salt for our side of a stream, as inline key-params base64 (RFC 4568 §6.1).
 * Keys must be unpredictable (RFC 4086), so the default source is the kernel's CSPRNG; a new key per
 * stream and per re-key, never one reused (RFC 3711 §9.1: the same key with the same SSRC and index
 * is the same keystream, a two-time pad).
 */
export function generateSrtpKey(randomBytes: SrtpRandomBytes = cryptoRandomBytes): string {
  const bytes = randomBytes(SRTP_KEY_SALT_BYTES);
  if (bytes.length !== SRTP_KEY_SALT_BYTES) throw new RangeError(`randomBytes gave ${bytes.length} octets, not ${SRTP_KEY_SALT_BYTES}`);
  return Buffer.from(bytes).toString('base64');
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** The 30 octets of a key in its base64 form; throws MediaEngineError (ERR_MEDIA_CONFIG) naming `field`. */
export function decodeSrtpKey(field: string, key: string): Uint8Array {
  // RFC 4568 §6.1 key-salt is base64 (RFC 4648 §4); Buffer.from() would skip what is not base64, so check first.
  if (typeof key !== 'string' || key.length % 4 !== 0 || !BASE64.test(key)) {
    throw new MediaEngineError('ERR_MEDIA_CONFIG', `${field} must be base64 (RFC 4568 §6.1 key-salt)`, { field });
  }
  const bytes = Buffer.from(key, 'base64');
  if (bytes.length !== SRTP_KEY_SALT_BYTES) {
    throw new MediaEngineError(
      'ERR_MEDIA_CONFIG',
      `${field} must be ${SRTP_KEY_SALT_BYTES} octets (RFC 4568 §6.2.1: 128-bit master key + 112-bit salt), not ${bytes.length}`,
      { field },
    );
  }
  return new Uint8Array(bytes);
}

/** Whether a name is one of the engine's suites. */
export function isSrtpSuite(name: string): name is SrtpSuite {
  return SRTP_SUITES.some((s) => s.name === name);
}
