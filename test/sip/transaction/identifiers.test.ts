// The default random source and the identifiers made from it (RFC 3261 §8.1.1.7, §19.3).
import { describe, expect, it } from 'vitest';
import { MAGIC_COOKIE, createBranch, createCallId, createTag, cryptoRandom } from '../../../firmware/sip/transaction/identifiers.js';

describe('cryptoRandom', () => {
  it('gives numbers in [0, 1) (it threw on every call when it asked crypto.randomInt for a 2^48 range)', () => {
    const values = Array.from({ length: 2000 }, () => cryptoRandom());
    for (const v of values) {
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThan(1);
    }
    // Spread over the interval, not stuck: each tenth gets some of 2000 draws.
    const tenths = new Set(values.map((v) => Math.floor(v * 10)));
    expect(tenths.size).toBe(10);
  });

  it('makes unique branches, tags and Call-IDs', () => {
    const branches = new Set(Array.from({ length: 500 }, () => createBranch(cryptoRandom)));
    expect(branches.size).toBe(500);
    for (const b of branches) expect(b.startsWith(MAGIC_COOKIE)).toBe(true);
    expect(createTag(cryptoRandom)).toMatch(/^[0-9a-z]{10}$/);
    expect(createCallId(cryptoRandom, 'host')).toMatch(/^[0-9a-z]{20}@host$/);
  });
});
