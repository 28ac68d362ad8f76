// The ordered targets of one request and the failover walk over them (RFC 3263 §4.3), with a blacklist of failed targets.
import type { Clock } from '../../util/clock.js';
import type { HostPort } from '../transport/transport.js';

/** Where to send: protocol, IP address (no brackets), port, and the TLS name to check. */
export interface ServerTarget extends HostPort {
  /**
   * The name a TLS certificate must match: the domain of the URI being resolved, never the SRV or
   * NAPTR target (RFC 5922 §4). Undefined when the URI held a numeric IP address.
   * Given for every protocol, so that a transport switching to TLS has it.
   */
  serverName: string | undefined;
}

/** Why a target is given up on (RFC 3263 §4.3). */
export type FailoverReason = 'transport-error' | 'timeout' | 'service-unavailable';

export interface TargetFailure {
  reason: FailoverReason;
  /** For a 503: the Retry-After, ms; the target stays blacklisted that long (RFC 3261 §21.5.4). */
  retryAfterMs?: number | undefined;
}

export interface TargetBlacklistOptions {
  clock: Clock;
  /** How long a failed target is avoided when the failure gives no time of its own, ms. Default 60000. */
  defaultDurationMs?: number | undefined;
  /** Entries kept at most; the soonest to expire go first. Default 128. */
  maxEntries?: number | undefined;
}

function keyOf(t: HostPort): string {
  return `${t.protocol}:${t.address.toLowerCase()}:${t.port}`;
}

/**
 * Targets that failed recently, shared by every TargetList of one ServerLocator so that a server
 * that timed out for one request is tried last by the next ones for a while.
 */
export class TargetBlacklist {
  private readonly until = new Map<string, number>();
  private readonly clock: Clock;
  private readonly defaultDurationMs: number;
  private readonly maxEntries: number;

  constructor(options: TargetBlacklistOptions) {
    this.clock = options.clock;
    this.defaultDurationMs = options.defaultDurationMs ?? 60_000;
    this.maxEntries = options.maxEntries ?? 128;
  }

  add(target: HostPort, durationMs: number = this.defaultDurationMs): void {
    if (durationMs <= 0) return;
    const key = keyOf(target);
    const until = this.clock.now() + durationMs;
    this.until.set(key, Math.max(until, this.until.get(key) ?? 0));
    if (this.until.size > this.maxEntries) this.prune();
  }

  has(target: HostPort): boolean {
    const key = keyOf(target);
    const until = this.until.get(key);
    if (until === undefined) return false;
    if (until > this.clock.now()) return true;
    this.until.delete(key);
    return false;
  }

  remove(target: HostPort): void {
    this.until.delete(keyOf(target));
  }

  clear(): void {
    this.until.clear();
  }

  private prune(): void {
    const now = this.clock.now();
    for (const [k, t] of this.until) if (t <= now) this.until.delete(k);
    const bySoonest = [...this.until.entries()].sort((a, b) => a[1] - b[1]);
    for (const [k] of bySoonest) {
      if (this.until.size <= this.maxEntries) break;
      this.until.delete(k);
    }
  }
}

/**
 * The targets for one request in the order RFC 3263 gives them, walked by the transaction / UA
 * layer: next() for the first target, and again after a transport error, a timeout without any
 * response (Timer B / F) or a 503: RFC 3263 §4.3 then sends an identical request with a new Via
 * branch, i.e. a new transaction, to the next element of the list. Targets blacklisted at the time are kept, but tried only after all the others:
 * a blacklist is a guess, and giving up a call on a guess is worse than a late try.
 */
export class TargetList implements Iterable<ServerTarget> {
  /** The URI that was located, as text (for logs and errors). */
  readonly uri: string;
  readonly targets: readonly ServerTarget[];
  private readonly tried: boolean[];
  private readonly blacklist: TargetBlacklist | undefined;
  private currentIndex = -1;

  constructor(init: { uri: string; targets: readonly ServerTarget[]; blacklist?: TargetBlacklist | undefined }) {
    this.uri = init.uri;
    this.targets = init.targets;
    this.tried = init.targets.map(() => false);
    this.blacklist = init.blacklist;
  }

  /** The target handed out by the last next(), undefined before the first call or once exhausted. */
  get current(): ServerTarget | undefined {
    return this.targets[this.currentIndex];
  }

  /** Targets not handed out yet. */
  get remaining(): number {
    return this.tried.filter((t) => !t).length;
  }

  /**
   * The next target to try: the first not yet tried that is not blacklisted, else the first not yet
   * tried at all; undefined when every target has been handed out (the request fails, §4.3).
   */
  next(): ServerTarget | undefined {
    let pick = -1;
    for (let i = 0; i < this.targets.length; i++) {
      if (this.tried[i]) continue;
      const t = this.targets[i];
      if (t && !this.blacklist?.has(t)) {
        pick = i;
        break;
      }
      if (pick < 0) pick = i;
    }
    // The loop above keeps the first untried index when every untried target is blacklisted.
    this.currentIndex = pick;
    if (pick < 0) return undefined;
    this.tried[pick] = true;
    return this.targets[pick];
  }

  /**
   * Reports that a target failed, so the blacklist avoids it for a while (for a 503 with
   * Retry-After, that long). Then call next() for the target to try instead.
   */
  failed(target: ServerTarget, failure: TargetFailure): void {
    this.blacklist?.add(target, failure.retryAfterMs);
  }

  /** Reports that a target answered: it comes off the blacklist at once. */
  succeeded(target: ServerTarget): void {
    this.blacklist?.remove(target);
  }

  /** Shorthand for failed(current) then next(). */
  failover(failure: TargetFailure): ServerTarget | undefined {
    const current = this.current;
    if (current) this.failed(current, failure);
    return this.next();
  }

  /** The targets in located order (ignores the walk and the blacklist). */
  [Symbol.iterator](): Iterator<ServerTarget> {
    return this.targets[Symbol.iterator]();
  }
}
