// Branches, tags and Call-IDs from an injected random source (RFC 3261 §8.1.1.7, §19.3).
import { randomBytes } from 'node:crypto';

/** A random source: uniform numbers in [0, 1), like Math.random (a seeded one in tests). */
export type RandomSource = () => number;

/**
 * The default source: the operating system's CSPRNG (tags and branches must be unguessable,
 * RFC 3261 §19.3): 48 random bits over 2^48, in [0, 1). (crypto.randomInt cannot span 2^48:
 * its range must stay below it.)
 */
export const cryptoRandom: RandomSource = () => randomBytes(6).readUIntBE(0, 6) / 2 ** 48;

/** RFC 3261 §8.1.1.7: every branch made by an RFC 3261 element starts with this. */
export const MAGIC_COOKIE = 'z9hG4bK';

const ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';

/** `length` characters of [0-9a-z]: valid in a token, so in a branch, a tag and a Call-ID. */
export function randomToken(random: RandomSource, length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += ALPHABET.charAt(Math.floor(random() * ALPHABET.length) % ALPHABET.length);
  return out;
}

/** A new branch, unique across space and time (RFC 3261 §8.1.1.7): the magic cookie and 16 random characters (about 82 bits). */
export function createBranch(random: RandomSource): string {
  return MAGIC_COOKIE + randomToken(random, 16);
}

/** A new From or To tag: at least 32 bits of randomness (RFC 3261 §19.3); 10 characters give about 51. */
export function createTag(random: RandomSource): string {
  return randomToken(random, 10);
}

/** A new Call-ID (RFC 3261 §8.1.1.4): random, optionally "@host". */
export function createCallId(random: RandomSource, host?: string): string {
  const id = randomToken(random, 20);
  return host ? `${id}@${host}` : id;
}

/** An initial CSeq number below 2**31 (RFC 3261 §8.1.1.5, §12.2.1.1). */
export function initialCSeq(random: RandomSource): number {
  return 1 + Math.floor(random() * (2 ** 31 - 2));
}
