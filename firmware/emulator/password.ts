// The emulator server's password: scrypt hashes for the config (`offhook hash-password`), checking HTTP Basic / Bearer credentials, loopback addresses.
import { createHmac, randomBytes, scrypt as scryptCallback, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { isIP } from 'node:net';
import { PASSWORD_HASH_PATTERN } from '../config/emulator-schema.js';

/** scrypt's cost: N = 2^14, r = 8, p = 1 (16 MiB, under Node's default maxmem), a 16-byte salt, a 32-byte key. */
const DEFAULT_COST = { N: 16_384, r: 8, p: 1 } as const;
const SALT_BYTES = 16;
const KEY_BYTES = 32;
/** Hashes from elsewhere must not make the phone spend more than this on one check (128 * N * r bytes). */
const MAX_MEMORY_BYTES = 256 * 1024 * 1024;

function scrypt(password: string, salt: Buffer, keyBytes: number, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scryptCallback(password, salt, keyBytes, options, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

interface ParsedHash {
  N: number;
  r: number;
  p: number;
  salt: Buffer;
  key: Buffer;
}

/** Splits a stored hash; throws a RangeError that says what is wrong (never repeats the hash). */
export function parsePasswordHash(hash: string): ParsedHash {
  const m = PASSWORD_HASH_PATTERN.exec(hash);
  if (!m) throw new RangeError('the password hash is not of the form scrypt$N$r$p$salt$hash (make one with `offhook hash-password`)');
  const [N, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const salt = Buffer.from(m[4] ?? '', 'base64');
  const key = Buffer.from(m[5] ?? '', 'base64');
  if (N < 2 || (N & (N - 1)) !== 0) throw new RangeError(`the password hash's N (${N}) must be a power of two`);
  if (r < 1 || p < 1 || 128 * N * r > MAX_MEMORY_BYTES) throw new RangeError('the password hash asks for more scrypt memory than allowed (256 MiB)');
  if (salt.length < 8 || key.length < 16) throw new RangeError('the password hash has a salt or key that is too short');
  return { N, r, p, salt, key };
}

/** A new hash of the password with a random salt, for `emulator.passwordHash` in the config. */
export async function hashPassword(password: string, cost: { N: number; r: number; p: number } = DEFAULT_COST): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await scrypt(password, salt, KEY_BYTES, { ...cost, maxmem: MAX_MEMORY_BYTES });
  return `scrypt$${cost.N}$${cost.r}$${cost.p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

/** Whether the password matches the hash; the keys are compared in constant time. */
export async function verifyPassword(password: string, hash: string): Promise<boolean> {
  const h = parsePasswordHash(hash);
  const key = await scrypt(password, h.salt, h.key.length, { N: h.N, r: h.r, p: h.p, maxmem: MAX_MEMORY_BYTES });
  return timingSafeEqual(key, h.key);
}

/** 127.0.0.0/8, ::1, IPv4-mapped loopback and "localhost": addresses only this machine can reach. */
export function isLoopbackAddress(address: string): boolean {
  const a = address.replace(/^\[|\]$/g, '').toLowerCase();
  if (a === 'localhost') return true;
  if (isIP(a) === 4) return a.startsWith('127.');
  if (isIP(a) === 6) return a === '::1' || a === '0:0:0:0:0:0:0:1' || /^::ffff:127\./.test(a);
  return false;
}

/** Why a bind address cannot be used without a password, or undefined when it can. */
export function addressProblem(address: string, passwordHash: string | undefined): string | undefined {
  if (passwordHash || isLoopbackAddress(address)) return undefined;
  return `the emulator's server would listen on ${address}, which is not a loopback address: set emulator.passwordHash in the config (make one with \`offhook hash-password\`) or listen on 127.0.0.1`;
}

/** The password a request presents: HTTP Basic (any user name) or a Bearer token that is the password itself. */
export function presentedPassword(headers: IncomingHttpHeaders): string | undefined {
  const auth = headers.authorization;
  if (!auth) return undefined;
  const basic = /^Basic\s+([A-Za-z0-9+/]+={0,2})\s*$/i.exec(auth);
  if (basic) {
    const decoded = Buffer.from(basic[1] ?? '', 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon < 0 ? undefined : decoded.slice(colon + 1);
  }
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(auth);
  return bearer?.[1];
}

/**
 * Checks requests against the configured hash. scrypt is slow on purpose (tens of milliseconds on
 * a Pi), so a password that passed is remembered as a keyed digest (HMAC with a per-process random
 * key, compared in constant time) and later requests with it skip scrypt.
 */
export class PasswordCheck {
  private readonly macKey = randomBytes(32);
  private readonly accepted = new Set<string>();

  constructor(private readonly passwordHash: string) {
    parsePasswordHash(passwordHash);
  }

  async accepts(headers: IncomingHttpHeaders): Promise<boolean> {
    const password = presentedPassword(headers);
    if (password === undefined) return false;
    const digest = createHmac('sha256', this.macKey).update(password).digest();
    for (const known of this.accepted) {
      if (timingSafeEqual(Buffer.from(known, 'base64'), digest)) return true;
    }
    if (!(await verifyPassword(password, this.passwordHash))) return false;
    // One password is configured; a handful of entries covers clients sending it in both forms.
    if (this.accepted.size < 4) this.accepted.add(digest.toString('base64'));
    return true;
  }
}
