// Digest computations (RFC 2617 §3.2.2, RFC 7616 §3.4, RFC 8760 §2): algorithms, HA1, HA2, request-digest, userhash.
import { createHash } from 'node:crypto';

/** The algorithms of the IANA "HTTP Digest Algorithm Values" registry that SIP uses (RFC 8760 §2.2). */
export type DigestAlgorithm = 'MD5' | 'MD5-sess' | 'SHA-256' | 'SHA-256-sess' | 'SHA-512-256' | 'SHA-512-256-sess';

/** The qop values we can compute (RFC 7616 §3.3): "auth-int" also covers the body. */
export type DigestQop = 'auth' | 'auth-int';

interface AlgorithmInfo {
  readonly name: DigestAlgorithm;
  /** node:crypto (OpenSSL) hash name. */
  readonly hash: string;
  /** RFC 7616 §3.4.2: a "-sess" variant folds nonce and cnonce into HA1. */
  readonly session: boolean;
  /** Higher is stronger: used to pick among several challenges of one realm (RFC 8760 §2.4). */
  readonly strength: number;
}

const ALGORITHMS: readonly AlgorithmInfo[] = [
  { name: 'MD5', hash: 'md5', session: false, strength: 1 },
  { name: 'MD5-sess', hash: 'md5', session: true, strength: 1 },
  { name: 'SHA-256', hash: 'sha256', session: false, strength: 2 },
  { name: 'SHA-256-sess', hash: 'sha256', session: true, strength: 2 },
  // SHA-512/256 (FIPS 180-4 §6.7): its own initial values, not a truncated SHA-512 (RFC 7616 §3.2).
  { name: 'SHA-512-256', hash: 'sha512-256', session: false, strength: 3 },
  { name: 'SHA-512-256-sess', hash: 'sha512-256', session: true, strength: 3 },
];

/** Every algorithm this module computes, weakest first. */
export const DIGEST_ALGORITHMS: readonly DigestAlgorithm[] = ALGORITHMS.map((a) => a.name);

function info(algorithm: DigestAlgorithm): AlgorithmInfo {
  const found = ALGORITHMS.find((a) => a.name === algorithm);
  if (!found) throw new TypeError(`unknown digest algorithm ${algorithm}`);
  return found;
}

/**
 * The algorithm named by an "algorithm" auth-param (case-insensitive, RFC 7616 §3.3); absent means
 * MD5 (RFC 2617 §3.2.1). undefined for an algorithm we do not know: such a challenge is ignored.
 */
export function parseAlgorithm(token: string | undefined): DigestAlgorithm | undefined {
  if (token === undefined) return 'MD5';
  const lower = token.toLowerCase();
  return ALGORITHMS.find((a) => a.name.toLowerCase() === lower)?.name;
}

export function algorithmStrength(algorithm: DigestAlgorithm): number {
  return info(algorithm).strength;
}

export function isSessionAlgorithm(algorithm: DigestAlgorithm): boolean {
  return info(algorithm).session;
}

/** H(data) as lower-case hex (RFC 7616 §3.4.1: "the bits ... four bits at a time", 0-9a-f). */
export function digestHash(algorithm: DigestAlgorithm, data: string | Uint8Array): string {
  const h = createHash(info(algorithm).hash);
  if (typeof data === 'string') h.update(data, 'utf8');
  else h.update(data);
  return h.digest('hex');
}

/** nc: the count of requests sent with one nonce, as 8 hex digits (RFC 7616 §3.4: "00000001"). */
export function formatNonceCount(count: number): string {
  if (!Number.isInteger(count) || count < 1 || count > 0xffffffff) throw new RangeError(`nonce count out of range: ${count}`);
  return count.toString(16).padStart(8, '0');
}

/** The hashed username for a challenge with userhash=true (RFC 7616 §3.4.4): H(username ":" realm). */
export function hashUsername(algorithm: DigestAlgorithm, username: string, realm: string): string {
  return digestHash(algorithm, `${username}:${realm}`);
}

export interface Ha1Input {
  algorithm: DigestAlgorithm;
  username: string;
  realm: string;
  password: string;
  /** Needed by the "-sess" algorithms only. */
  nonce?: string | undefined;
  cnonce?: string | undefined;
}

/**
 * HA1 (RFC 7616 §3.4.2): H(username ":" realm ":" password), and for a "-sess" algorithm
 * H(that ":" nonce ":" cnonce). A secret: never log it.
 */
export function computeHa1(input: Ha1Input): string {
  const base = digestHash(input.algorithm, `${input.username}:${input.realm}:${input.password}`);
  if (!isSessionAlgorithm(input.algorithm)) return base;
  if (input.nonce === undefined || input.cnonce === undefined) throw new TypeError(`${input.algorithm} needs the nonce and cnonce for HA1`);
  return digestHash(input.algorithm, `${base}:${input.nonce}:${input.cnonce}`);
}

export interface DigestResponseInput extends Ha1Input {
  /** The request's method ("REGISTER"): A2 starts with it (RFC 7616 §3.4.3). */
  method: string;
  /** digest-uri: the Request-URI as sent (RFC 3261 §22.4, "uri" auth-param). */
  uri: string;
  nonce: string;
  /** Absent for a challenge without qop (RFC 2069 compatibility, RFC 2617 §3.2.2.1). */
  qop?: DigestQop | undefined;
  /** Required with qop. */
  nc?: number | undefined;
  cnonce?: string | undefined;
  /** The message body, hashed into A2 for qop=auth-int (RFC 7616 §3.4.3). Empty when absent. */
  body?: Uint8Array | undefined;
}

/** The "response" auth-param: the request-digest of RFC 2617 §3.2.2.1 / RFC 7616 §3.4.1. */
export function computeDigestResponse(input: DigestResponseInput): string {
  const alg = input.algorithm;
  const ha1 = computeHa1(input);
  // RFC 7616 §3.4.3: A2 = Method ":" request-uri [ ":" H(entity-body) for auth-int ].
  const a2 = input.qop === 'auth-int' ? `${input.method}:${input.uri}:${digestHash(alg, input.body ?? new Uint8Array(0))}` : `${input.method}:${input.uri}`;
  const ha2 = digestHash(alg, a2);
  if (input.qop === undefined) return digestHash(alg, `${ha1}:${input.nonce}:${ha2}`);
  if (input.nc === undefined || input.cnonce === undefined) throw new TypeError('qop needs nc and cnonce');
  return digestHash(alg, `${ha1}:${input.nonce}:${formatNonceCount(input.nc)}:${input.cnonce}:${input.qop}:${ha2}`);
}
