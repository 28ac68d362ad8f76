// RFC 2782 ordering of SRV records: by priority, then weighted random selection within a priority.
import type { SrvRecord } from './dns.js';

/** A uniform random number in [0, 1), like Math.random; injected so that tests are deterministic. */
export type RandomSource = () => number;

/**
 * Orders SRV records the way a client tries them (RFC 2782, "Usage rules"): lowest priority first;
 * within one priority, repeatedly pick a record with probability proportional to its weight among
 * those not yet picked. Records with target "." (service decidedly not available) are dropped.
 */
export function orderSrv(records: readonly SrvRecord[], random: RandomSource): SrvRecord[] {
  const usable = records.filter((r) => r.name !== '.' && r.name !== '');
  const priorities = [...new Set(usable.map((r) => r.priority))].sort((a, b) => a - b);
  const out: SrvRecord[] = [];
  for (const priority of priorities) {
    // RFC 2782: "arrange all SRV RRs (that have not been ordered yet) in any order, except that all
    // those with weight 0 are placed at the beginning of the list." A random order, so that records
    // of weight 0 alone share the load instead of the first one taking it all.
    const group = shuffle(usable.filter((r) => r.priority === priority), random);
    const pool = [...group.filter((r) => r.weight === 0), ...group.filter((r) => r.weight !== 0)];
    while (pool.length > 0) {
      const sum = pool.reduce((s, r) => s + r.weight, 0);
      // "choose a uniform random number between 0 and the sum computed (inclusive)"
      const pick = Math.min(sum, Math.floor(random() * (sum + 1)));
      // "select the RR whose running sum value is the first in the selected order which is greater
      // than or equal to the random number selected"
      let running = 0;
      let index = pool.length - 1;
      for (let i = 0; i < pool.length; i++) {
        running += pool[i]?.weight ?? 0;
        if (running >= pick) {
          index = i;
          break;
        }
      }
      const [chosen] = pool.splice(index, 1);
      if (chosen) out.push(chosen);
    }
  }
  return out;
}

/** Fisher–Yates shuffle into a new array. */
function shuffle<T>(items: readonly T[], random: RandomSource): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.min(i, Math.floor(random() * (i + 1)));
    const a = out[i] as T;
    out[i] = out[j] as T;
    out[j] = a;
  }
  return out;
}
