// A deterministic random source for tests (Park–Miller "minimal standard" generator), one independent stream per call.
import type { RandomSource } from '../../../../firmware/sip/locate/index.js';

const MODULUS = 2147483647; // 2^31 - 1
const MULTIPLIER = 48271;

/** Uniform numbers in [0, 1), the same sequence for the same seed. */
export function seededRandom(seed: number): RandomSource {
  let state = Math.abs(Math.trunc(seed)) % MODULUS || 1;
  return () => {
    state = (state * MULTIPLIER) % MODULUS;
    return (state - 1) / (MODULUS - 1);
  };
}
