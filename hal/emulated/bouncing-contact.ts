// A mechanical contact for the emulated input models: it chatters on the Clock for a while before it settles.
import type { Clock, TimerHandle } from '../../firmware/util/clock.js';

export interface BouncingContactOptions {
  clock: Clock;
  /** Called with the contact's new state on every make and break, chatter included. */
  apply: (closed: boolean) => void;
  /** Source of chatter intervals in [0, 1); use seededRandom() so that a test sees the same chatter every run. */
  random: () => number;
  closed?: boolean;
}

/** How a test operates a contact. */
export interface ContactOptions {
  /** How long the contact chatters before it settles, in ms. Default 0 (a clean contact). */
  bounceMs?: number;
}

/** Shortest and longest time between two chatter transitions, in ms (typical of key and micro switches). */
const CHATTER_MIN_MS = 0.2;
const CHATTER_MAX_MS = 2;

/**
 * One switch contact. set(closed, bounceMs) moves it to the new state at once (the first make or
 * break), then toggles it at pseudo-random intervals until bounceMs have passed, when it rests in
 * the new state for good. A new set() cancels any chatter still running.
 */
export class BouncingContact {
  private state: boolean;
  private target: boolean;
  private timer: TimerHandle | undefined;
  private readonly clock: Clock;
  private readonly apply: (closed: boolean) => void;
  private readonly random: () => number;

  constructor(options: BouncingContactOptions) {
    this.clock = options.clock;
    this.apply = options.apply;
    this.random = options.random;
    this.state = options.closed ?? false;
    this.target = this.state;
  }

  /** The contact's state now (may still be chattering). */
  get closed(): boolean {
    return this.state;
  }

  /** The state the contact will settle in. */
  get settlesClosed(): boolean {
    return this.target;
  }

  set(closed: boolean, bounceMs = 0): void {
    this.cancel();
    this.target = closed;
    this.change(closed);
    if (bounceMs <= 0) return;
    const endMs = this.clock.now() + bounceMs;
    const step = (): void => {
      this.timer = undefined;
      const remainingMs = endMs - this.clock.now();
      if (remainingMs <= 0) {
        this.change(this.target);
        return;
      }
      this.change(!this.state);
      const gapMs = CHATTER_MIN_MS + this.random() * (CHATTER_MAX_MS - CHATTER_MIN_MS);
      this.timer = this.clock.setTimeout(step, Math.min(gapMs, remainingMs));
    };
    const firstGapMs = CHATTER_MIN_MS + this.random() * (CHATTER_MAX_MS - CHATTER_MIN_MS);
    this.timer = this.clock.setTimeout(step, Math.min(firstGapMs, bounceMs));
  }

  /** Stops any chatter, leaving the contact in the state it settles in. */
  cancel(): void {
    if (this.timer) {
      this.clock.clearTimeout(this.timer);
      this.timer = undefined;
      this.change(this.target);
    }
  }

  private change(closed: boolean): void {
    if (closed === this.state) return;
    this.state = closed;
    this.apply(closed);
  }
}

/**
 * A small deterministic PRNG (Marsaglia's xorshift32) so that chatter is the same on every run for
 * one seed; statistical quality does not matter for contact bounce.
 */
export function seededRandom(seed: number): () => number {
  // xorshift has a fixed point at 0, so a zero seed is moved off it.
  let x = seed >>> 0 || 0x9e3779b9;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 4294967296;
  };
}
