// The RFC 3261 §17 timer values (T1, T2, T4 and the timers derived from them) and a per-transaction set of running timers on the injected Clock.
import type { Clock, TimerHandle } from '../../util/clock.js';

export interface TransactionTimerOptions {
  /** RTT estimate, RFC 3261 §17.1.1.1 (default 500 ms). */
  t1Ms?: number;
  /** Longest retransmit interval for non-INVITE requests and INVITE responses (default 4000 ms). */
  t2Ms?: number;
  /** Longest time a message stays in the network (default 5000 ms). */
  t4Ms?: number;
  /** Timer D on unreliable transports: "at least 32 seconds" (RFC 3261 §17.1.1.2), default 32000 ms whatever T1 is. */
  timerDMs?: number;
}

export interface TransactionTimerValues {
  readonly t1Ms: number;
  readonly t2Ms: number;
  readonly t4Ms: number;
  readonly timerDMs: number;
}

export const DEFAULT_TIMERS: TransactionTimerValues = { t1Ms: 500, t2Ms: 4000, t4Ms: 5000, timerDMs: 32_000 };

/** Fills in the defaults and checks the values (a zero or negative T1 would retransmit in a busy loop). */
export function transactionTimers(options: TransactionTimerOptions = {}): TransactionTimerValues {
  const v = { ...DEFAULT_TIMERS, ...stripUndefined(options) };
  for (const [name, ms] of Object.entries(v)) {
    if (!Number.isFinite(ms) || ms <= 0) throw new RangeError(`transaction timer ${name} must be a positive number of ms, got ${ms}`);
  }
  if (v.t2Ms < v.t1Ms) throw new RangeError(`t2Ms (${v.t2Ms}) must not be less than t1Ms (${v.t1Ms})`);
  return v;
}

function stripUndefined(o: TransactionTimerOptions): Partial<TransactionTimerValues> {
  const out: { -readonly [K in keyof TransactionTimerValues]?: number } = {};
  if (o.t1Ms !== undefined) out.t1Ms = o.t1Ms;
  if (o.t2Ms !== undefined) out.t2Ms = o.t2Ms;
  if (o.t4Ms !== undefined) out.t4Ms = o.t4Ms;
  if (o.timerDMs !== undefined) out.timerDMs = o.timerDMs;
  return out;
}

/** The names of RFC 3261 §17 / RFC 6026 timers, plus the 200 ms 100-Trying timer of §17.2.1. */
export type TimerName = 'A' | 'B' | 'D' | 'E' | 'F' | 'G' | 'H' | 'I' | 'J' | 'K' | 'L' | 'M' | 'Trying';

/** The timers one transaction has running; starting one that runs restarts it. */
export class TimerSet {
  private readonly handles = new Map<TimerName, TimerHandle>();

  constructor(private readonly clock: Clock) {}

  start(name: TimerName, delayMs: number, fire: () => void): void {
    this.stop(name);
    const handle = this.clock.setTimeout(() => {
      this.handles.delete(name);
      fire();
    }, delayMs);
    this.handles.set(name, handle);
  }

  stop(name: TimerName): void {
    const h = this.handles.get(name);
    if (h) {
      this.clock.clearTimeout(h);
      this.handles.delete(name);
    }
  }

  stopAll(): void {
    for (const h of this.handles.values()) this.clock.clearTimeout(h);
    this.handles.clear();
  }

  running(name: TimerName): boolean {
    return this.handles.has(name);
  }

  /** Names of the running timers (for tests and debugging). */
  get names(): TimerName[] {
    return [...this.handles.keys()];
  }
}
