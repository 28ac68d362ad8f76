// Session timers (RFC 4028): negotiating Session-Expires / Min-SE on both sides, 422 retries, and the running refresh / expiry timer of a session.
import type { Clock, TimerHandle } from '../../util/clock.js';
import { H } from '../message/headers.js';
import type { SipRequest, SipResponse } from '../message/message.js';

/** The option tag of the extension (RFC 4028 §3), for Supported and Require. */
export const SESSION_TIMER_OPTION = 'timer';

/** RFC 4028 §4, §5: no session interval may be shorter than 90 s, whatever Min-SE says. */
export const ABSOLUTE_MIN_SE_S = 90;

/** Who sends the refreshes, as the refresher parameter says it: relative to the transaction that carries it (RFC 4028 §4). */
export type Refresher = 'uac' | 'uas';

export interface SessionTimerConfig {
  /** Whether this UA supports session timers at all; when false nothing is sent and nothing is asked. */
  enabled: boolean;
  /** The session interval asked for (UAC) or granted at most (UAS), in seconds (RFC 4028 §4: 1800 recommended). */
  sessionExpiresS: number;
  /** The shortest interval this UA accepts, in seconds (RFC 4028 §5: 90 by default, never lower). */
  minSES: number;
  /**
   * RFC 4028 §9: who refreshes when the UAC supports timers and left the choice to us (UAS side).
   * 'uac' (default) leaves the work to the caller.
   */
  uasPrefersRefresher: Refresher;
  /** At most this many 422 retries of one request (RFC 4028 §7.3 has no limit; a broken peer must not loop us). */
  max422Retries: number;
}

export const DEFAULT_SESSION_TIMER_CONFIG: Readonly<SessionTimerConfig> = {
  enabled: true,
  sessionExpiresS: 1800,
  minSES: ABSOLUTE_MIN_SE_S,
  uasPrefersRefresher: 'uac',
  max422Retries: 2,
};

/**
 * A complete configuration from a partial one: Min-SE is raised to 90 s when lower (RFC 4028 §5),
 * Session-Expires to Min-SE when lower (§7.1). Throws RangeError on values that are not positive
 * whole numbers.
 */
export function sessionTimerConfig(partial: Partial<SessionTimerConfig> = {}): SessionTimerConfig {
  // Fields given as undefined take the default, as if absent.
  const given = Object.fromEntries(Object.entries(partial as Record<string, unknown>).filter(([, v]) => v !== undefined)) as Partial<SessionTimerConfig>;
  const c: SessionTimerConfig = { ...DEFAULT_SESSION_TIMER_CONFIG, ...given };
  for (const k of ['sessionExpiresS', 'minSES'] as const) {
    if (!Number.isInteger(c[k]) || c[k] <= 0) throw new RangeError(`session timer ${k} must be a positive whole number of seconds, got ${c[k]}`);
  }
  if (!Number.isInteger(c.max422Retries) || c.max422Retries < 0) throw new RangeError(`session timer max422Retries must be a whole number >= 0, got ${c.max422Retries}`);
  c.minSES = Math.max(ABSOLUTE_MIN_SE_S, c.minSES);
  c.sessionExpiresS = Math.max(c.minSES, c.sessionExpiresS);
  return c;
}

/** What was agreed for a session: the interval, and whether this UA sends the refreshes. */
export interface SessionTimerAgreement {
  /** The session interval in seconds (RFC 4028 §4). */
  readonly intervalS: number;
  /** The refresher parameter as it was written in the message that settled it (relative to that transaction). */
  readonly refresher: Refresher;
  /** This UA sends the refreshes (RFC 4028 §10); otherwise it only watches for them. */
  readonly weRefresh: boolean;
}

/** What to do with a 422 to a request we sent (RFC 4028 §7.3). */
export type Retry422Decision =
  | { readonly retry: true; /** The headers of the retried request, with the new Session-Expires and Min-SE. */ readonly headers: [string, string][] }
  | { readonly retry: false; readonly reason: string };

/** The UAS verdict on a request carrying (or not) a session timer (RFC 4028 §9). */
export type SessionTimerAnswer =
  | {
      readonly ok: true;
      /** Header fields for the 2xx: Require: timer and Session-Expires when a timer runs; empty otherwise. */
      readonly headers: [string, string][];
      /** The timer to start once the 2xx is sent; undefined: no session timer. */
      readonly agreement: SessionTimerAgreement | undefined;
    }
  | { readonly ok: false; readonly status: 422; readonly reason: string; /** Min-SE for the 422 (RFC 4028 §9). */ readonly headers: [string, string][] };

function secondsOf(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

function refresherOf(v: string | null | undefined): Refresher | undefined {
  const l = v?.toLowerCase();
  return l === 'uac' || l === 'uas' ? l : undefined;
}

/** The Session-Expires of a message: seconds and refresher; undefined when absent or malformed. */
export function readSessionExpires(msg: SipRequest | SipResponse): { intervalS: number; refresher: Refresher | undefined } | undefined {
  const se = msg.sessionExpires;
  const intervalS = secondsOf(se?.value);
  if (se === undefined || intervalS === undefined) return undefined;
  return { intervalS, refresher: refresherOf(se.get('refresher')) };
}

/** The Min-SE of a message in seconds; undefined when absent or malformed. */
export function readMinSE(msg: SipRequest | SipResponse): number | undefined {
  return secondsOf(msg.one(H.minSE)?.value);
}

function hasTag(list: readonly string[], tag: string): boolean {
  return list.some((t) => t.toLowerCase() === tag);
}

export interface RequestHeaderOptions {
  /** Add "Supported: timer" (default true); false when the session writes its own Supported with timer in it. */
  supported?: boolean;
}

/**
 * One session's side of the negotiation (RFC 4028 §7 for the requests we send, §9 for the ones we
 * answer). It remembers the largest Min-SE learned (from 422s and from the peer's requests) and the
 * current agreement, so that every INVITE or UPDATE of the session asks for the same thing.
 *
 * The session calls, per request it sends (initial INVITE, re-INVITE, UPDATE):
 * `requestHeaders()` → on 422 `handle422()` (resend with its headers, or give up) → on 2xx
 * `handle2xx()` → `SessionTimer.start()` with the result. Per INVITE / UPDATE it receives:
 * `answerRequest()` → 422, or the 2xx with its headers and `SessionTimer.start()` with the
 * agreement once the 2xx is sent.
 */
export class SessionTimerNegotiation {
  readonly config: SessionTimerConfig;
  private minSE: number;
  /** The Session-Expires of the next request we send. */
  private askS: number;
  private current: SessionTimerAgreement | undefined;
  private retries = 0;

  constructor(config: Partial<SessionTimerConfig> = {}) {
    this.config = sessionTimerConfig(config);
    this.minSE = this.config.minSES;
    this.askS = this.config.sessionExpiresS;
  }

  /** The agreement in force (the last 2xx's), or undefined when no timer runs. */
  get agreement(): SessionTimerAgreement | undefined {
    return this.current;
  }

  /** The Min-SE this session sends: the largest of ours and every one learned (RFC 4028 §7.1, §7.4). */
  get minSES(): number {
    return this.minSE;
  }

  /**
   * Header fields for an INVITE, re-INVITE or UPDATE we send (RFC 4028 §7.1, §7.4): Supported:
   * timer, Session-Expires and Min-SE. The initial request leaves the refresher open so that the
   * UAS may pick (§7.1 recommends it); later ones keep the roles of the agreement in force
   * (refresher=uac when we refresh, uas when the peer does, §7.4). Empty when disabled.
   */
  requestHeaders(options: RequestHeaderOptions = {}): [string, string][] {
    if (!this.config.enabled) return [];
    const out: [string, string][] = [];
    if (options.supported !== false) out.push(['Supported', SESSION_TIMER_OPTION]);
    const a = this.current;
    const interval = Math.max(this.askS, this.minSE);
    out.push(['Session-Expires', a === undefined ? `${interval}` : `${interval};refresher=${a.weRefresh ? 'uac' : 'uas'}`]);
    out.push(['Min-SE', `${this.minSE}`]);
    return out;
  }

  /**
   * A 422 (Session Interval Too Small) to a request we sent (RFC 4028 §7.3): retry with a
   * Session-Expires of at least the 422's Min-SE, and that Min-SE in the request. Loop-safe: no
   * retry without a usable Min-SE, when it would not raise what we asked for, or after
   * config.max422Retries retries since the last 2xx.
   */
  handle422(response: SipResponse): Retry422Decision {
    if (!this.config.enabled) return { retry: false, reason: 'session timers are disabled' };
    const min = readMinSE(response);
    if (min === undefined) return { retry: false, reason: '422 without a valid Min-SE' };
    const asked = Math.max(this.askS, this.minSE);
    if (min <= asked) return { retry: false, reason: `422 asks for Min-SE ${min}, not more than the ${asked} s already asked for` };
    if (this.retries >= this.config.max422Retries) return { retry: false, reason: `gave up after ${this.retries} 422 retries` };
    this.retries++;
    this.minSE = Math.max(this.minSE, min);
    this.askS = Math.max(this.askS, min);
    return { retry: true, headers: this.requestHeaders() };
  }

  /**
   * A 2xx to an INVITE, re-INVITE or UPDATE we sent (RFC 4028 §7.2). With Session-Expires: its
   * interval, and its refresher (relative to our request: uac is us). Without one, when we asked
   * for a timer (we always do when enabled), the UAS does not support the extension and we run
   * the timer alone, as if the 2xx said our value with refresher=uac (§7.2). Undefined: no timer
   * (disabled). The result is what SessionTimer.start() takes.
   */
  handle2xx(response: SipResponse): SessionTimerAgreement | undefined {
    this.retries = 0;
    if (!this.config.enabled) return (this.current = undefined);
    const se = readSessionExpires(response);
    if (se === undefined) {
      const intervalS = Math.max(this.askS, this.minSE);
      return (this.current = { intervalS, refresher: 'uac', weRefresh: true });
    }
    // §7.2: with Require: timer the refresher "will always be present"; when a peer leaves it out
    // we take the job, the one reading that cannot leave the session unrefreshed. The interval is
    // never below 90 s, whatever the peer wrote (a refresh storm helps nobody).
    const refresher = se.refresher ?? 'uac';
    const intervalS = Math.max(ABSOLUTE_MIN_SE_S, se.intervalS);
    this.askS = intervalS;
    return (this.current = { intervalS, refresher, weRefresh: refresher === 'uac' });
  }

  /**
   * The UAS side (RFC 4028 §9), for an INVITE, re-INVITE or UPDATE received (a request of the
   * peer's that refreshes the session gets the same treatment). Session-Expires below our Min-SE
   * → 422 with Min-SE. Otherwise the interval is the request's, lowered to our sessionExpiresS
   * when longer but never below the request's Min-SE or ours; the refresher is the request's
   * when given, else (§9 table) ours to choose when the UAC supports timers (uasPrefersRefresher)
   * and uas when it does not. A request without Session-Expires from a UAC that supports timers
   * gets our own interval (§9 allows the UAS to insert one). Require: timer goes in the 2xx when
   * the UAC supports the extension (it must when refresher=uac, §9).
   */
  answerRequest(request: SipRequest): SessionTimerAnswer {
    if (!this.config.enabled) return { ok: true, headers: [], agreement: undefined };
    const uacSupports = hasTag(request.supported, SESSION_TIMER_OPTION) || hasTag(request.require, SESSION_TIMER_OPTION);
    const se = readSessionExpires(request);
    const reqMin = readMinSE(request);
    if (reqMin !== undefined) this.minSE = Math.max(this.minSE, reqMin);
    if (se !== undefined && se.intervalS < this.config.minSES) {
      return { ok: false, status: 422, reason: 'Session Interval Too Small', headers: [['Min-SE', `${this.config.minSES}`]] };
    }
    if (se === undefined && !uacSupports) {
      // Neither the UAC nor a proxy asked for a timer: none runs (RFC 4028 §9).
      this.current = undefined;
      return { ok: true, headers: [], agreement: undefined };
    }
    const floor = Math.max(this.config.minSES, reqMin ?? ABSOLUTE_MIN_SE_S);
    const intervalS = Math.max(floor, Math.min(se?.intervalS ?? this.config.sessionExpiresS, this.config.sessionExpiresS));
    const refresher: Refresher = !uacSupports ? 'uas' : (se?.refresher ?? this.config.uasPrefersRefresher);
    const headers: [string, string][] = [];
    if (uacSupports) headers.push(['Require', SESSION_TIMER_OPTION]);
    headers.push(['Session-Expires', `${intervalS};refresher=${refresher}`]);
    this.askS = intervalS;
    this.current = { intervalS, refresher, weRefresh: refresher === 'uas' };
    return { ok: true, headers, agreement: this.current };
  }
}

/** The delay before the non-refresher gives up on a session, in ms: interval − min(32 s, interval/3) (RFC 4028 §10). */
export function expiryDelayMs(intervalS: number): number {
  return Math.round((intervalS - Math.min(32, intervalS / 3)) * 1000);
}

/** The delay before the refresher refreshes, in ms: half the interval (RFC 4028 §10, recommended). */
export function refreshDelayMs(intervalS: number): number {
  return Math.round((intervalS * 1000) / 2);
}

export interface SessionTimerOptions {
  clock: Clock;
  /** Time to send a refresh (a re-INVITE or UPDATE with requestHeaders()): we are the refresher. */
  refresh: () => void;
  /** The session was not refreshed in time: send BYE (RFC 4028 §10). The timer has stopped. */
  expired: () => void;
}

/**
 * The running session timer of one session (RFC 4028 §10). As refresher it calls refresh() at
 * half the interval; either way it calls expired() at interval − min(32 s, interval/3) when no
 * successful refresh came first, so a refresher whose refreshes all fail hangs up too. start()
 * again after every successful refresh — a 2xx to a re-INVITE or UPDATE, ours or the peer's —
 * with the agreement of that exchange; start(undefined) or stop() stops it.
 */
export class SessionTimer {
  private refreshTimer: TimerHandle | undefined;
  private expiryTimer: TimerHandle | undefined;
  private current: SessionTimerAgreement | undefined;
  private startedAt = 0;

  constructor(private readonly options: SessionTimerOptions) {}

  get running(): boolean {
    return this.expiryTimer !== undefined;
  }

  get agreement(): SessionTimerAgreement | undefined {
    return this.current;
  }

  /** When the session expires (ms on the clock) while running; undefined otherwise. */
  get expiresAtMs(): number | undefined {
    return this.current && this.running ? this.startedAt + expiryDelayMs(this.current.intervalS) : undefined;
  }

  /** (Re)starts the timers from now with this agreement; undefined stops them (no session timer). */
  start(agreement: SessionTimerAgreement | undefined): void {
    this.stop();
    this.current = agreement;
    if (!agreement) return;
    const clock = this.options.clock;
    this.startedAt = clock.now();
    if (agreement.weRefresh) {
      this.refreshTimer = clock.setTimeout(() => {
        this.refreshTimer = undefined;
        this.options.refresh();
      }, refreshDelayMs(agreement.intervalS));
    }
    this.expiryTimer = clock.setTimeout(() => {
      this.expiryTimer = undefined;
      this.stop();
      this.options.expired();
    }, expiryDelayMs(agreement.intervalS));
  }

  stop(): void {
    const clock = this.options.clock;
    clock.clearTimeout(this.refreshTimer);
    clock.clearTimeout(this.expiryTimer);
    this.refreshTimer = undefined;
    this.expiryTimer = undefined;
  }
}
