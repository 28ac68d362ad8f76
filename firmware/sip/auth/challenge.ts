// Digest challenges: reading WWW-Authenticate / Proxy-Authenticate values and picking the one to answer per realm.
import type { AuthValue, SipResponse } from '../message/index.js';
import { type DigestAlgorithm, type DigestQop, algorithmStrength, parseAlgorithm } from './digest.js';

/** Which header a challenge came in, and so which header answers it (RFC 3261 §22.2, §22.3). */
export type ChallengeKind = 'www' | 'proxy';

/** The header that carries the credentials for a challenge kind. */
export function credentialsHeader(kind: ChallengeKind): 'Authorization' | 'Proxy-Authorization' {
  return kind === 'www' ? 'Authorization' : 'Proxy-Authorization';
}

/** One Digest challenge we are able to answer (RFC 7616 §3.3, RFC 8760 §2). */
export interface DigestChallenge {
  readonly kind: ChallengeKind;
  readonly realm: string;
  readonly nonce: string;
  readonly opaque: string | undefined;
  readonly algorithm: DigestAlgorithm;
  /** The algorithm token as received, echoed in the credentials; undefined when absent (MD5 implied). */
  readonly algorithmToken: string | undefined;
  /** The qop we will use: "auth" when offered, else "auth-int"; undefined when the challenge offers none. */
  readonly qop: DigestQop | undefined;
  /** RFC 7616 §3.3: the nonce expired but the credentials were good; retry without asking the user. */
  readonly stale: boolean;
  /** RFC 7616 §3.4.4: send H(username ":" realm) instead of the username. */
  readonly userhash: boolean;
  /** Position among the response's challenges (0 = topmost), for RFC 8760 §2.4 ties. */
  readonly index: number;
}

/** A challenge that was read but cannot be answered, and why (for the log). */
export interface UnsupportedChallenge {
  readonly kind: ChallengeKind;
  readonly scheme: string;
  readonly realm: string | undefined;
  readonly why: string;
}

export type ParsedChallenge = { ok: true; challenge: DigestChallenge } | { ok: false; unsupported: UnsupportedChallenge };

/**
 * Reads one challenge value. Schemes other than Digest, unknown algorithms, and qop lists with
 * nothing we support are reported as unsupported: a UAC ignores challenges it does not
 * understand (RFC 8760 §2.4, RFC 7235 §2.1).
 */
export function parseChallenge(value: AuthValue, kind: ChallengeKind, index: number): ParsedChallenge {
  const realm = value.get('realm');
  const no = (why: string): ParsedChallenge => ({ ok: false, unsupported: { kind, scheme: value.scheme, realm, why } });
  if (!value.isDigest) return no(`scheme ${value.scheme} is not supported`);
  const nonce = value.get('nonce');
  if (realm === undefined) return no('no realm');
  if (nonce === undefined) return no('no nonce');
  const algorithmToken = value.get('algorithm');
  const algorithm = parseAlgorithm(algorithmToken);
  if (!algorithm) return no(`algorithm ${algorithmToken ?? ''} is not supported`);
  // qop-options is a quoted, comma-separated list (RFC 7616 §3.3; RFC 3261 §25.1 qop-options).
  const qopParam = value.get('qop');
  let qop: DigestQop | undefined;
  if (qopParam !== undefined) {
    const offered = qopParam.split(',').map((q) => q.trim().toLowerCase());
    // "auth" first: auth-int breaks whenever an element on the path rewrites the body (an SBC
    // rewriting SDP), and REGISTER has no body to protect.
    if (offered.includes('auth')) qop = 'auth';
    else if (offered.includes('auth-int')) qop = 'auth-int';
    else return no(`qop ${qopParam} is not supported`);
  }
  return {
    ok: true,
    challenge: {
      kind,
      realm,
      nonce,
      opaque: value.get('opaque'),
      algorithm,
      algorithmToken,
      qop,
      // RFC 7616 §3.3: stale and userhash are case-insensitive "true"; anything else is false.
      stale: value.get('stale')?.toLowerCase() === 'true',
      userhash: value.get('userhash')?.toLowerCase() === 'true',
      index,
    },
  };
}

/** Every challenge of a response, in order: WWW-Authenticate values, then Proxy-Authenticate values. */
export function readChallenges(response: SipResponse): ParsedChallenge[] {
  // Both kinds are read whatever the status: a forking proxy gathers the WWW-Authenticate and
  // Proxy-Authenticate values of all branches into the one 401 or 407 it forwards (RFC 3261 §16.7 step 6).
  const out: ParsedChallenge[] = [];
  let i = 0;
  for (const v of response.wwwAuthenticate) out.push(parseChallenge(v, 'www', i++));
  for (const v of response.proxyAuthenticate) out.push(parseChallenge(v, 'proxy', i++));
  return out;
}

/**
 * The challenge to answer among several for one realm and header kind: the strongest algorithm
 * (SHA-512-256 > SHA-256 > MD5); among equals, the topmost. RFC 8760 §2.4 has the UAC use the
 * topmost one it supports "unless a local policy dictates otherwise"; our policy is to never
 * let a downgrade-capable ordering choose MD5 over a SHA-2 digest the server also offers.
 */
export function chooseChallenge(candidates: readonly DigestChallenge[]): DigestChallenge | undefined {
  let best: DigestChallenge | undefined;
  for (const c of candidates) {
    if (!best) best = c;
    else {
      const d = algorithmStrength(c.algorithm) - algorithmStrength(best.algorithm);
      if (d > 0 || (d === 0 && c.index < best.index)) best = c;
    }
  }
  return best;
}
