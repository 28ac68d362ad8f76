// Registration timing: when to refresh a binding, how long to back off after failures (RFC 3261 §10.2.4, RFC 5626 §4.5).

/** A uniform random number in [0, 1) (Math.random in the phone, a fixed sequence in tests). */
export type RandomFraction = () => number;

export interface RegistrationTiming {
  /**
   * RFC 5626 §4.5 base-time: the first retry waits 50-100 % of base * 2 = 30-60 s, the next
   * 60-120 s, and so on. 30 s is the RFC's value for "all flows failed".
   */
  retryBaseMs: number;
  /** RFC 5626 §4.5 max-time: the wait never exceeds it (so retries settle at 900-1800 s). */
  retryMaxMs: number;
  /**
   * Refresh at a random point in [refreshMinFraction, refreshMaxFraction] of the granted
   * interval: at the latest half-way, so that one lost refresh still leaves time for a retry,
   * and spread so that phones rebooted together do not refresh together.
   */
  refreshMinFraction: number;
  refreshMaxFraction: number;
  /** How long stop() waits for the unregister's answer: shutdown never hangs on a dead registrar. */
  unregisterTimeoutMs: number;
}

export const DEFAULT_REGISTRATION_TIMING: Readonly<RegistrationTiming> = {
  retryBaseMs: 30_000,
  retryMaxMs: 1_800_000,
  refreshMinFraction: 0.45,
  refreshMaxFraction: 0.5,
  unregisterTimeoutMs: 2_000,
};

/**
 * The wait before the next attempt after `consecutiveFailures` (>= 1) failures in a row
 * (RFC 5626 §4.5): W = min(max-time, base-time * 2^failures), then a uniform pick in [W/2, W].
 */
export function backoffDelayMs(consecutiveFailures: number, timing: Pick<RegistrationTiming, 'retryBaseMs' | 'retryMaxMs'>, random: RandomFraction): number {
  const n = Math.max(1, Math.min(consecutiveFailures, 30));
  const w = Math.min(timing.retryMaxMs, timing.retryBaseMs * 2 ** n);
  return Math.round(w / 2 + (w / 2) * random());
}

/** The wait before refreshing a binding granted for grantedS seconds (RFC 3261 §10.2.4: before it expires). */
export function refreshDelayMs(grantedS: number, timing: Pick<RegistrationTiming, 'refreshMinFraction' | 'refreshMaxFraction'>, random: RandomFraction): number {
  const f = timing.refreshMinFraction + (timing.refreshMaxFraction - timing.refreshMinFraction) * random();
  return Math.round(grantedS * 1000 * f);
}
