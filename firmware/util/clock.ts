// Injected time source: the real clock for the phone, a virtual clock that tests step by hand.

/** Opaque handle of a scheduled callback. */
export type TimerHandle = { readonly id: number };

/**
 * Every layer takes time from a Clock (DESIGN.md): never from Date.now() or global timers directly,
 * so that a 32 s SIP timer or a 4 s inter-digit timeout is tested in milliseconds of real time.
 */
export interface Clock {
  /** Monotonic milliseconds (may be fractional). */
  now(): number;
  /** Wall-clock time in milliseconds since the epoch, for the date on the screen and in logs. */
  wallNow(): number;
  setTimeout(callback: () => void, delayMs: number): TimerHandle;
  clearTimeout(handle: TimerHandle | undefined): void;
  /** Resolves after delayMs on this clock. */
  sleep(delayMs: number): Promise<void>;
}

/** The clock of the running phone: performance.now() and the event loop's timers. */
export class RealClock implements Clock {
  private readonly timers = new Map<number, NodeJS.Timeout>();
  private nextId = 1;

  now(): number {
    return performance.now();
  }

  wallNow(): number {
    return Date.now();
  }

  setTimeout(callback: () => void, delayMs: number): TimerHandle {
    const id = this.nextId++;
    const t = setTimeout(() => {
      this.timers.delete(id);
      callback();
    }, Math.max(0, delayMs));
    this.timers.set(id, t);
    return { id };
  }

  clearTimeout(handle: TimerHandle | undefined): void {
    if (!handle) return;
    const t = this.timers.get(handle.id);
    if (t) {
      clearTimeout(t);
      this.timers.delete(handle.id);
    }
  }

  sleep(delayMs: number): Promise<void> {
    return new Promise((resolve) => this.setTimeout(resolve, delayMs));
  }
}

interface VirtualTimer {
  id: number;
  at: number;
  seq: number;
  callback: () => void;
}

/** Lets queued promise continuations run, so async code woken by a timer reaches its next await. */
function flushMicrotasks(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * A clock that only moves when a test says so. Timers fire in due order; timers due at the same
 * instant fire in the order they were set.
 */
export class VirtualClock implements Clock {
  private current: number;
  private readonly wallEpochMs: number;
  private readonly timers = new Map<number, VirtualTimer>();
  private nextId = 1;
  private seq = 0;

  constructor(options: { startMs?: number; wallEpochMs?: number } = {}) {
    this.current = options.startMs ?? 0;
    this.wallEpochMs = options.wallEpochMs ?? Date.UTC(2026, 0, 1, 9, 0, 0);
  }

  now(): number {
    return this.current;
  }

  wallNow(): number {
    return this.wallEpochMs + this.current;
  }

  setTimeout(callback: () => void, delayMs: number): TimerHandle {
    const id = this.nextId++;
    this.timers.set(id, { id, at: this.current + Math.max(0, delayMs), seq: this.seq++, callback });
    return { id };
  }

  clearTimeout(handle: TimerHandle | undefined): void {
    if (handle) this.timers.delete(handle.id);
  }

  sleep(delayMs: number): Promise<void> {
    return new Promise((resolve) => this.setTimeout(resolve, delayMs));
  }

  /** Number of timers still pending. */
  get pending(): number {
    return this.timers.size;
  }

  private nextDue(limit: number): VirtualTimer | undefined {
    let best: VirtualTimer | undefined;
    for (const t of this.timers.values()) {
      if (t.at > limit) continue;
      if (!best || t.at < best.at || (t.at === best.at && t.seq < best.seq)) best = t;
    }
    return best;
  }

  /**
   * Moves time forward by deltaMs, firing every timer that falls due, and lets the promise
   * continuations each timer wakes run before the next one fires.
   */
  async advance(deltaMs: number): Promise<void> {
    const target = this.current + deltaMs;
    await flushMicrotasks();
    for (;;) {
      const t = this.nextDue(target);
      if (!t) break;
      this.timers.delete(t.id);
      this.current = Math.max(this.current, t.at);
      t.callback();
      await flushMicrotasks();
    }
    this.current = target;
    await flushMicrotasks();
  }

  /** Advances until no timer is left or maxMs have passed; returns the time advanced. */
  async runAll(maxMs = 3_600_000): Promise<number> {
    const start = this.current;
    for (;;) {
      const t = this.nextDue(start + maxMs);
      if (!t) break;
      await this.advance(t.at - this.current);
    }
    return this.current - start;
  }
}
