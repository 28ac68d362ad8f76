// A generic RFC 6665 subscriber: SUBSCRIBE with digest auth, the dialog from the 2xx or the first NOTIFY, refreshes, NOTIFY handling, resubscription and unsubscribe.
import type { Clock, TimerHandle } from '../../util/clock.js';
import { Emitter, type Unsubscribe } from '../../util/emitter.js';
import { type Logger, silentLogger } from '../../util/log.js';
import { DigestClient, type DigestExchange, type RandomBytes } from '../auth/index.js';
import { Dialog, DialogState } from '../dialog/index.js';
import { H, type MediaType, NameAddr, type SipRequest, type SipResponse, SipUri, type Uri, createRequest, createResponse } from '../message/index.js';
import { type AnyServerTransaction, StateMachine, type TransitionTable } from '../transaction/index.js';
import type { Account } from './account.js';
import type { AccountClientOptions } from './account-client.js';
import { type ContactAddress, contactUri, hexId } from './contact.js';
import { type RandomFraction, backoffDelayMs } from './registration-timing.js';
import type { RequestOutcome, RequestSender } from './request-sender.js';

/**
 * States of a subscription, seen from the subscriber (after the diagram of RFC 6665 §4.1.2).
 *
 * ```text
 *            start()                    NOTIFY pending              NOTIFY active
 *   Idle ─────────────► NotifyWait ─────────────────► Pending ─────────────────► Active
 *    ▲                   │  ▲   │  2xx: dialog, refresh timer;        ▲   NOTIFY pending │
 *    │                   │  │   │  NOTIFY first: dialog from it       └──────────────────┘
 *    │                   │  │   │                                       │ refresh timer: in-dialog SUBSCRIBE
 *    │   failure, no     │  │   └──────────── NOTIFY active ──────────► │ (Pending and Active stay)
 *    │   NOTIFY in time  ▼  │                                           │
 *    │              Retrying ◄── NOTIFY terminated (deactivated, timeout, probation, giveup, other),
 *    │                 │    │    481 / 408 / timeout to a refresh, refresh failing past expiry
 *    │  stop()         │    └─ timer ─► NotifyWait (a new subscription: new Call-ID and tags)
 *    ├─────────────────┘
 *    │                                  489, NOTIFY terminated rejected / noresource / invariant
 *    │                 Terminated ◄──── (from NotifyWait, Pending, Active): no retry; start() again
 *    │                                  is a user's decision
 *    └── Unsubscribing ◄── stop() from NotifyWait / Pending / Active with a dialog: SUBSCRIBE
 *                          Expires: 0, until the NOTIFY terminated, a failure, or the time limit
 * ```
 * Pending and Active also go straight to NotifyWait when a NOTIFY terminated says to subscribe
 * again at once (deactivated, timeout: RFC 6665 §4.1.3).
 */
export enum SubscriptionState {
  Idle = 'idle',
  NotifyWait = 'notify-wait',
  Pending = 'pending',
  Active = 'active',
  Retrying = 'retrying',
  Terminated = 'terminated',
  Unsubscribing = 'unsubscribing',
}

const S = SubscriptionState;

const EDGES: TransitionTable<SubscriptionState> = {
  [S.Idle]: [S.NotifyWait],
  [S.NotifyWait]: [S.NotifyWait, S.Pending, S.Active, S.Retrying, S.Terminated, S.Unsubscribing, S.Idle],
  [S.Pending]: [S.Pending, S.Active, S.NotifyWait, S.Retrying, S.Terminated, S.Unsubscribing, S.Idle],
  [S.Active]: [S.Active, S.Pending, S.NotifyWait, S.Retrying, S.Terminated, S.Unsubscribing, S.Idle],
  [S.Retrying]: [S.NotifyWait, S.Idle],
  [S.Terminated]: [S.NotifyWait, S.Idle],
  [S.Unsubscribing]: [S.Idle],
};

/** Why a subscription attempt failed or ended. */
export type SubscriptionFailureCause =
  /** 489 Bad Event: the server does not know the event package (RFC 6665 §8.3.2). No retry. */
  | 'bad-event'
  /** 401/407 again after a fresh answer, or 403. */
  | 'wrong-credentials'
  /** A challenge we may not or cannot answer. */
  | 'challenge-refused'
  /** Another final non-2xx response to the SUBSCRIBE. */
  | 'rejected'
  /** 423 without a usable Min-Expires. */
  | 'interval-too-brief'
  /** 408, 480 or 5xx. */
  | 'server-unavailable'
  /** No final response (reported as 408). */
  | 'timeout'
  /** The transport could not send (reported as 503). */
  | 'transport-error'
  /** The transport has no local address for the Contact yet. */
  | 'no-local-address'
  /** A 2xx but no NOTIFY within notifyWaitMs (the notifier sends one at once, RFC 6665 §4.2.1.2). */
  | 'no-notify'
  /** 481 or 408 (or a timeout) to a refresh: the notifier lost the subscription (RFC 6665 §4.1.2.2). */
  | 'dialog-lost'
  /** The refreshes failed until the subscription expired. */
  | 'expired'
  /** A NOTIFY with Subscription-State terminated (terminationReason says why, RFC 6665 §4.1.3). */
  | 'terminated-by-notifier';

export interface SubscriptionFailure {
  cause: SubscriptionFailureCause;
  /** The SIP status: the response's, 408 for a timeout, 503 for a transport error, 0 when none applies. */
  statusCode: number;
  reason: string;
  detail?: string | undefined;
  /** Retry-After of the response, or retry-after of Subscription-State, seconds. */
  retryAfterS?: number | undefined;
  /** The reason parameter of Subscription-State: terminated (lower case), when there was one. */
  terminationReason?: string | undefined;
}

/** What the UI and the owner see, with each 'state' event. */
export type SubscriptionStatus =
  | { state: SubscriptionState.Idle }
  | { state: SubscriptionState.NotifyWait; attempt: number; lastFailure: SubscriptionFailure | undefined }
  | { state: SubscriptionState.Pending | SubscriptionState.Active; expiresAtMs: number; refreshAtMs: number }
  | { state: SubscriptionState.Retrying; failure: SubscriptionFailure; retryAtMs: number; consecutiveFailures: number }
  | { state: SubscriptionState.Terminated; failure: SubscriptionFailure }
  | { state: SubscriptionState.Unsubscribing };

/** One NOTIFY of the subscription, after it was answered 200. */
export interface SubscriptionNotify {
  request: SipRequest;
  /** Subscription-State value in lower case ("active", "pending", "terminated", or an extension). */
  substate: string;
  /** Its expires parameter, seconds. */
  expiresS: number | undefined;
  /** Its reason parameter, lower case. */
  reason: string | undefined;
  /** Its retry-after parameter, seconds. */
  retryAfterS: number | undefined;
  contentType: MediaType | undefined;
  body: Uint8Array;
}

export type SubscriptionEvents = {
  state: [SubscriptionStatus];
  notify: [SubscriptionNotify];
};

export interface SubscriptionTiming {
  /** Refresh at min(expires - refreshMarginMs, expires * refreshFraction), never before half the interval. */
  refreshMarginMs: number;
  refreshFraction: number;
  /** Backoff after failures (RFC 5626 §4.5 form, as registration): 30-60 s, 60-120 s, ... up to maxMs. */
  retryBaseMs: number;
  retryMaxMs: number;
  /** How long a 2xx waits for its NOTIFY before the subscription counts as failed (64*T1). */
  notifyWaitMs: number;
  /** How long stop() waits for the unsubscribe's answer and final NOTIFY. */
  unsubscribeTimeoutMs: number;
}

export const DEFAULT_SUBSCRIPTION_TIMING: Readonly<SubscriptionTiming> = {
  refreshMarginMs: 5_000,
  refreshFraction: 0.9,
  retryBaseMs: 30_000,
  retryMaxMs: 1_800_000,
  notifyWaitMs: 32_000,
  unsubscribeTimeoutMs: 2_000,
};

/** When to refresh a subscription granted for expiresS seconds (see SubscriptionTiming). */
export function subscriptionRefreshDelayMs(expiresS: number, timing: Pick<SubscriptionTiming, 'refreshMarginMs' | 'refreshFraction'> = DEFAULT_SUBSCRIPTION_TIMING): number {
  const ms = expiresS * 1000;
  return Math.round(Math.max(Math.min(ms - timing.refreshMarginMs, ms * timing.refreshFraction), ms / 2));
}

export interface SubscriptionClientOptions extends AccountClientOptions<SubscriptionTiming> {
  /** The resource: Request-URI and To of the SUBSCRIBE (RFC 6665 §4.1.2.1); the AOR for MWI. */
  target: Uri;
  /** The event package (Event header, RFC 6665 §8.2.1), e.g. "message-summary". */
  event: string;
  /** The Event id parameter, when the package uses several subscriptions in one dialog. */
  eventId?: string | undefined;
  /** Body types accepted in NOTIFY (Accept). */
  accept: readonly string[];
  /** Interval asked for, seconds (Expires). */
  expiresS: number;
}

export interface SubscriptionStopOptions {
  /** Send SUBSCRIBE Expires: 0 first (default true). */
  unsubscribe?: boolean | undefined;
  /** Give up waiting after this long (default timing.unsubscribeTimeoutMs). */
  timeoutMs?: number | undefined;
}

/** Requests per attempt: digest rounds and 423 retries (as registration). */
const MAX_REQUESTS_PER_ATTEMPT = 6;

/** Termination reasons after which the subscriber does not subscribe again (RFC 6665 §4.1.3). */
const FINAL_REASONS: readonly string[] = ['rejected', 'noresource', 'invariant'];
/** Termination reasons after which it subscribes again at once (RFC 6665 §4.1.3). */
const AT_ONCE_REASONS: readonly string[] = ['deactivated', 'timeout'];


function seconds(v: string | null | undefined): number | undefined {
  return v !== undefined && v !== null && /^\d{1,10}$/.test(v) ? Number(v) : undefined;
}

/**
 * One subscription to one resource and event package (RFC 6665 §4.1), kept alive until stop().
 *
 * - SUBSCRIBE out of a dialog: From the account's AOR with a new tag, To and Request-URI the
 *   target, a new Call-ID per subscription, Event, Accept, Expires, Contact, and a Route to the
 *   outbound proxy when the account has one (as REGISTER). 401/407 are answered by the
 *   account's DigestClient once per challenge; 423 asks again with Min-Expires.
 * - The dialog is made by the 2xx, or by a NOTIFY that arrives before it (RFC 6665 §4.1.2.4:
 *   the NOTIFY may overtake the 2xx); the later 2xx then only updates it. NOTIFYs from another
 *   fork (another From tag) are answered 481, which ends those subscriptions (RFC 6665 §4.5.2,
 *   §4.2.2); we keep one.
 * - The interval is the 2xx's Expires, then each NOTIFY's Subscription-State expires
 *   (authoritative, RFC 6665 §4.1.3); the refresh goes in the dialog at
 *   subscriptionRefreshDelayMs() of it.
 * - NOTIFY in the dialog: 200 (CSeq out of order: 500; another Event: 489), then 'notify'.
 *   terminated: deactivated / timeout → subscribe again at once (at most once per retryBaseMs,
 *   the backoff otherwise); probation / giveup / no or unknown reason → after
 *   retry-after, else the backoff; rejected / noresource / invariant → Terminated, no retry.
 * - Refresh: 481, 408 or a timeout → the subscription is gone: a new one after the backoff;
 *   489 → Terminated; another failure → the subscription still holds until it expires (RFC 6665
 *   §4.1.2.2): the refresh is tried again within that time, then a new subscription.
 * - Initial SUBSCRIBE failures: 489 → Terminated; anything else → Retrying with the backoff
 *   (30-60 s doubling up to 900-1800 s), never sooner than a Retry-After.
 * - stop(): SUBSCRIBE Expires: 0 in the dialog (RFC 6665 §4.1.2.3), bounded in time.
 */
export class SubscriptionClient {
  readonly account: Account;
  readonly target: Uri;
  readonly event: string;
  readonly eventId: string | undefined;
  private readonly accept: readonly string[];
  private readonly sender: RequestSender;
  private readonly clock: Clock;
  private readonly random: RandomFraction;
  private readonly randomBytes: RandomBytes;
  private readonly contactAddress: () => ContactAddress | undefined;
  private readonly digest: DigestClient;
  private readonly log: Logger;
  private readonly userAgent: string | undefined;
  private readonly timing: SubscriptionTiming;
  private readonly events = new Emitter<SubscriptionEvents>();
  private readonly machine: StateMachine<SubscriptionState>;

  private current: SubscriptionStatus = { state: S.Idle };
  /** Call-ID and From tag of the current subscription (new for each one). */
  private callIdValue = '';
  private fromTag = '';
  private cseq = 0;
  /** The last out-of-dialog SUBSCRIBE sent: a NOTIFY that beats its 2xx makes the dialog from it. */
  private lastInitial: SipRequest | undefined;
  private contact: NameAddr | undefined;
  private dialogValue: Dialog | undefined;
  /** Bumped whenever what is in flight stops mattering: late outcomes are dropped. */
  private generation = 0;
  private timer: TimerHandle | undefined;
  private notifyTimer: TimerHandle | undefined;
  private requestedExpiresS: number;
  private expiresAtMs = 0;
  private refreshAtMs = 0;
  private refreshing = false;
  private gotNotify = false;
  private consecutiveFailures = 0;
  /** When the last immediate resubscription (deactivated, timeout) went out. */
  private lastAtOnceMs: number | undefined;
  private attempts = 0;
  private failure: SubscriptionFailure | undefined;
  private stopping: Promise<void> | undefined;
  /** Resolves the wait of stop() for the final NOTIFY. */
  private finalNotify: (() => void) | undefined;

  constructor(options: SubscriptionClientOptions) {
    const a = options.account;
    this.account = a;
    this.target = options.target;
    this.event = options.event.toLowerCase();
    this.eventId = options.eventId;
    this.accept = options.accept;
    this.sender = options.sender;
    this.clock = options.clock;
    this.random = options.random;
    this.randomBytes = options.randomBytes;
    this.contactAddress = options.contactAddress;
    this.log = (options.logger ?? silentLogger()).child({ mod: 'sip/subscription', account: a.id, event: this.event });
    this.digest =
      options.digest ??
      new DigestClient({ authUsername: a.authUsername, password: a.password, realms: a.realms, hosts: a.serverHosts, randomBytes: options.randomBytes, logger: options.logger });
    this.userAgent = options.userAgent;
    this.timing = { ...DEFAULT_SUBSCRIPTION_TIMING, ...options.timing };
    this.requestedExpiresS = options.expiresS;
    this.machine = new StateMachine<SubscriptionState>(`subscription ${this.event}`, EDGES, S.Idle);
  }

  get state(): SubscriptionState {
    return this.current.state;
  }

  get status(): SubscriptionStatus {
    return this.current;
  }

  /** The Call-ID of the current subscription ('' before start()). */
  get callId(): string {
    return this.callIdValue;
  }

  /** The subscription's dialog, once the 2xx or a NOTIFY made it. */
  get dialog(): Dialog | undefined {
    return this.dialogValue;
  }

  /** The last failure, until a NOTIFY says active or pending. */
  get lastFailure(): SubscriptionFailure | undefined {
    return this.failure;
  }

  on<K extends keyof SubscriptionEvents>(event: K, listener: (...args: SubscriptionEvents[K]) => void): Unsubscribe {
    return this.events.on(event, listener);
  }

  /** Subscribes (from Idle or Terminated; otherwise does nothing). */
  start(): void {
    if (this.state !== S.Idle && this.state !== S.Terminated) {
      if (this.state === S.Unsubscribing) this.log.warn('start() while unsubscribing ignored: await stop() first');
      return;
    }
    this.consecutiveFailures = 0;
    this.failure = undefined;
    this.subscribeNew();
  }

  /**
   * Ends the subscription: SUBSCRIBE with Expires: 0 in its dialog (RFC 6665 §4.1.2.3), then
   * waits for the NOTIFY terminated, a failure, or timeoutMs, whichever comes first. Without a
   * dialog (no 2xx nor NOTIFY yet) nothing is sent: a NOTIFY that comes later matches nothing,
   * the UA answers it 481, and that ends the subscription at the notifier (RFC 6665 §4.2.2).
   * Never rejects.
   */
  async stop(options: SubscriptionStopOptions = {}): Promise<void> {
    if (this.stopping) return this.stopping;
    this.generation++;
    this.clearTimers();
    const dialog = this.dialogValue;
    const live = this.state === S.NotifyWait || this.state === S.Pending || this.state === S.Active;
    if (!live || !dialog || dialog.state === DialogState.Terminated || options.unsubscribe === false) {
      this.forgetDialog();
      if (this.state !== S.Idle) this.transition({ state: S.Idle }, 'stop()');
      return;
    }
    this.transition({ state: S.Unsubscribing }, 'stop()');
    this.stopping = this.unsubscribe(dialog, this.generation, options.timeoutMs ?? this.timing.unsubscribeTimeoutMs);
    try {
      await this.stopping;
    } finally {
      this.stopping = undefined;
    }
  }

  /**
   * Offers a request received by the UA (before its dialog registry: this subscription's dialog
   * is not in it). Returns true when it was a NOTIFY of this subscription, now answered: 200,
   * or 489 (another event), 481 (another fork), 500 (CSeq out of order), 400 (no From tag).
   * Returns false, without answering, for anything else.
   */
  receiveRequest(tx: AnyServerTransaction): boolean {
    const request = tx.request;
    if (request.method !== 'NOTIFY') return false;
    const s = this.state;
    if (s !== S.NotifyWait && s !== S.Pending && s !== S.Active && s !== S.Unsubscribing) return false;
    if (request.callId !== this.callIdValue || request.to.tag !== this.fromTag) return false;
    // RFC 6665 §8.2.1: the event package (and id) must be the subscription's.
    const ev = request.event;
    if (ev?.value.toLowerCase() !== this.event || (ev.get('id') ?? undefined) !== this.eventId) {
      tx.reply(489, { headers: [['Allow-Events', this.event]] });
      return true;
    }
    const remoteTag = request.from.tag;
    if (remoteTag === undefined) {
      tx.reply(400, { reason: 'Bad Request - missing From tag' });
      return true;
    }
    let dialog = this.dialogValue;
    if (dialog) {
      if (dialog.id.remoteTag !== remoteTag) {
        this.log.info({ remoteTag }, 'NOTIFY from another fork: 481 (one subscription is kept, RFC 6665 §4.5.2)');
        tx.reply(481);
        return true;
      }
      const verdict = dialog.receiveRequest(request);
      if (!verdict.ok) {
        tx.reply(verdict.status, { reason: verdict.reason });
        return true;
      }
    } else {
      const initial = this.lastInitial;
      if (!initial) return false;
      // RFC 6665 §4.1.2.4: the NOTIFY beat the 2xx; it makes the dialog.
      dialog = this.dialogFromNotify(initial, request);
      this.dialogValue = dialog;
      dialog.receiveRequest(request);
    }
    tx.reply(200);
    this.onNotify(request);
    return true;
  }

  // --- subscribing --------------------------------------------------------------------------

  private subscribeNew(): void {
    this.clearTimers();
    this.forgetDialog();
    const gen = ++this.generation;
    this.callIdValue = hexId(this.randomBytes(16));
    this.fromTag = hexId(this.randomBytes(8));
    this.cseq = 0;
    this.gotNotify = false;
    this.attempts++;
    this.transition({ state: S.NotifyWait, attempt: this.attempts, lastFailure: this.failure }, 'subscribe');
    this.runInitial(gen).catch((e: unknown) => this.unexpected(gen, e));
  }

  private async runInitial(gen: number): Promise<void> {
    const address = this.contactAddress();
    if (!address) {
      this.retry({ cause: 'no-local-address', statusCode: 0, reason: 'no local address for the Contact yet' });
      return;
    }
    this.contact = new NameAddr({ uri: contactUri(this.account.aor.user, address) });
    const exchange = this.digest.begin(this.route(this.firstHop()));
    let expiresS = this.requestedExpiresS;
    for (let n = 0; n < MAX_REQUESTS_PER_ATTEMPT; n++) {
      const request = this.initialRequest(expiresS);
      exchange.authorize(request);
      this.lastInitial = request;
      const outcome = await this.sender.send(request);
      if (gen !== this.generation) return;
      const verdict = this.judge(outcome, exchange, expiresS);
      if (verdict.kind === 'again') {
        expiresS = verdict.expiresS;
        continue;
      }
      if (verdict.kind === 'failed') {
        if (verdict.failure.cause === 'bad-event') this.terminate(verdict.failure);
        else this.retry(verdict.failure);
        return;
      }
      this.accepted(verdict.response, request, expiresS);
      return;
    }
    this.retry({ cause: 'rejected', statusCode: 0, reason: 'too many challenges', detail: `no final answer after ${MAX_REQUESTS_PER_ATTEMPT} requests` });
  }

  /** A 2xx to the initial SUBSCRIBE: the dialog (unless a NOTIFY made it first), the interval, the wait for the NOTIFY. */
  private accepted(res: SipResponse, request: SipRequest, askedS: number): void {
    const grantedS = res.expires ?? askedS;
    const existing = this.dialogValue;
    if (existing) {
      // Made by a NOTIFY that came first. A 2xx from another fork leaves it as it is.
      if (existing.id.remoteTag === res.to.tag) existing.receiveResponse(res);
    } else {
      if (res.to.tag === undefined) {
        this.retry({ cause: 'rejected', statusCode: res.status, reason: res.reason, detail: 'a 2xx without a To tag makes no dialog' });
        return;
      }
      this.dialogValue = Dialog.uac(request, res, { localContact: this.contact });
    }
    if (grantedS <= 0) {
      // An interval of 0 is a fetch (RFC 6665 §4.1.2.4): the NOTIFY terminated that follows ends it.
      this.log.info('the 2xx granted 0 s: waiting for the final NOTIFY');
    } else this.setExpiry(grantedS);
    if (!this.gotNotify) {
      const gen = this.generation;
      this.clock.clearTimeout(this.notifyTimer);
      this.notifyTimer = this.clock.setTimeout(() => {
        this.notifyTimer = undefined;
        if (gen !== this.generation || this.gotNotify) return;
        this.log.warn({ waitedMs: this.timing.notifyWaitMs }, 'no NOTIFY after the 2xx: subscribing again');
        this.dialogValue?.terminate('no NOTIFY');
        this.retry({ cause: 'no-notify', statusCode: res.status, reason: res.reason, detail: `no NOTIFY within ${this.timing.notifyWaitMs} ms of the 2xx` });
      }, this.timing.notifyWaitMs);
    } else this.announceExpiry();
  }

  // --- NOTIFY -------------------------------------------------------------------------------

  private onNotify(request: SipRequest): void {
    const ss = request.subscriptionState;
    // A NOTIFY without Subscription-State breaks RFC 6665 §8.2.3; taken as active rather than refused.
    const substate = ss?.value.toLowerCase() ?? 'active';
    const expiresS = seconds(ss?.get('expires'));
    const reason = ss?.get('reason')?.toLowerCase() ?? undefined;
    const retryAfterS = seconds(ss?.get('retry-after'));
    this.gotNotify = true;
    this.clock.clearTimeout(this.notifyTimer);
    this.notifyTimer = undefined;
    this.events.emit('notify', { request, substate, expiresS, reason, retryAfterS, contentType: request.contentType, body: request.body });
    if (this.state === S.Unsubscribing) {
      if (substate === 'terminated') this.finalNotify?.();
      return;
    }
    if (substate === 'terminated') {
      this.dialogValue?.terminate('NOTIFY terminated');
      this.terminatedByNotifier(reason, retryAfterS);
      return;
    }
    this.consecutiveFailures = 0;
    this.failure = undefined;
    if (expiresS !== undefined && expiresS > 0) this.setExpiry(expiresS);
    else if (this.expiresAtMs === 0) this.setExpiry(this.requestedExpiresS);
    // RFC 6665 §4.1.3: an unknown state is handled as pending.
    this.announceExpiry(substate === 'active' ? S.Active : S.Pending);
  }

  /** RFC 6665 §4.1.3: what the reason of Subscription-State: terminated asks of the subscriber. */
  private terminatedByNotifier(reason: string | undefined, retryAfterS: number | undefined): void {
    const failure: SubscriptionFailure = { cause: 'terminated-by-notifier', statusCode: 0, reason: `terminated${reason !== undefined ? `: ${reason}` : ''}`, retryAfterS, terminationReason: reason };
    if (reason !== undefined && FINAL_REASONS.includes(reason)) {
      this.terminate(failure);
      return;
    }
    const now = this.clock.now();
    const atOnceAllowed = this.lastAtOnceMs === undefined || now - this.lastAtOnceMs >= this.timing.retryBaseMs;
    if (reason !== undefined && AT_ONCE_REASONS.includes(reason) && retryAfterS === undefined && atOnceAllowed) {
      // At once, but at most once per retryBaseMs: a notifier that ends every new subscription
      // at once gets the backoff, not a loop.
      this.lastAtOnceMs = now;
      this.failure = failure;
      this.log.info({ reason }, 'subscription terminated by the notifier: subscribing again at once');
      this.subscribeNew();
      return;
    }
    // probation, giveup, no reason, an unknown one: after retry-after, else the backoff.
    this.retry(failure, retryAfterS !== undefined ? retryAfterS * 1000 : undefined);
  }

  // --- refreshing ---------------------------------------------------------------------------

  private setExpiry(expiresS: number): void {
    const now = this.clock.now();
    this.expiresAtMs = now + expiresS * 1000;
    this.scheduleRefresh(subscriptionRefreshDelayMs(expiresS, this.timing));
  }

  private scheduleRefresh(delayMs: number): void {
    this.clock.clearTimeout(this.timer);
    const gen = this.generation;
    this.refreshAtMs = this.clock.now() + delayMs;
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      if (gen !== this.generation || this.refreshing) return;
      this.refreshing = true;
      this.refresh(gen)
        .catch((e: unknown) => this.unexpected(gen, e))
        .finally(() => {
          if (gen === this.generation) this.refreshing = false;
        });
    }, delayMs);
  }

  /** Emits the current expiry in the Pending / Active state (or the given one). */
  private announceExpiry(to?: SubscriptionState.Pending | SubscriptionState.Active): void {
    const s = this.state;
    const state = to ?? (s === S.Active || s === S.Pending ? s : undefined);
    if (state === undefined) return;
    this.transition({ state, expiresAtMs: this.expiresAtMs, refreshAtMs: this.refreshAtMs }, 'expiry');
  }

  /** SUBSCRIBE in the dialog (RFC 6665 §4.1.2.2). */
  private async refresh(gen: number): Promise<void> {
    const dialog = this.dialogValue;
    if (!dialog || dialog.state === DialogState.Terminated) {
      this.retry({ cause: 'dialog-lost', statusCode: 0, reason: 'no dialog to refresh in' });
      return;
    }
    const exchange = this.digest.begin(this.route(this.inDialogHop(dialog)));
    let expiresS = this.requestedExpiresS;
    for (let n = 0; n < MAX_REQUESTS_PER_ATTEMPT; n++) {
      const request = this.inDialogRequest(dialog, expiresS);
      exchange.authorize(request);
      const outcome = await this.sender.send(request);
      if (gen !== this.generation) return;
      if (outcome.kind === 'response') dialog.receiveResponse(outcome.response);
      const verdict = this.judge(outcome, exchange, expiresS);
      if (verdict.kind === 'again') {
        expiresS = verdict.expiresS;
        continue;
      }
      if (verdict.kind === 'ok') {
        const grantedS = verdict.response.expires ?? expiresS;
        if (grantedS > 0) {
          this.setExpiry(grantedS);
          this.announceExpiry();
        }
        return;
      }
      this.refreshFailed(verdict.failure, outcome);
      return;
    }
    this.refreshFailed({ cause: 'rejected', statusCode: 0, reason: 'too many challenges' }, undefined);
  }

  private refreshFailed(failure: SubscriptionFailure, outcome: RequestOutcome | undefined): void {
    const status = outcome?.kind === 'response' ? outcome.response.status : undefined;
    if (failure.cause === 'bad-event') {
      this.dialogValue?.terminate('489 to a refresh');
      this.terminate(failure);
      return;
    }
    // RFC 6665 §4.1.2.2 and RFC 3261 §12.2.1.2: 481, 408 and a timeout end the dialog.
    if (status === 481 || status === 408 || outcome?.kind === 'timeout') {
      this.dialogValue?.terminate(`${failure.statusCode} to a refresh`);
      this.retry({ ...failure, cause: 'dialog-lost', detail: `${failure.statusCode} ${failure.reason} to a refresh` });
      return;
    }
    // Another failure: the subscription holds until it expires; try again within that time.
    this.consecutiveFailures++;
    this.failure = failure;
    const left = this.expiresAtMs - this.clock.now();
    let delay = backoffDelayMs(this.consecutiveFailures, this.timing, this.random);
    if (failure.retryAfterS !== undefined) delay = Math.max(delay, failure.retryAfterS * 1000);
    if (left <= 2_000 || delay >= left) {
      // Not enough time: let it lapse and subscribe anew once it has.
      this.log.warn({ cause: failure.cause, status: failure.statusCode }, 'refresh failed: subscribing again when the subscription lapses');
      const gen = this.generation;
      this.clock.clearTimeout(this.timer);
      this.refreshAtMs = this.clock.now() + Math.max(0, left);
      this.timer = this.clock.setTimeout(() => {
        this.timer = undefined;
        if (gen !== this.generation) return;
        this.dialogValue?.terminate('expired');
        this.retry({ ...failure, cause: 'expired', detail: `refreshes failed (${failure.statusCode} ${failure.reason}) until the subscription expired` }, 0);
      }, Math.max(0, left));
      this.announceExpiry();
      return;
    }
    this.log.warn({ cause: failure.cause, status: failure.statusCode, retryInMs: Math.min(delay, left / 2) }, 'refresh failed: the subscription holds until it expires, trying again');
    this.scheduleRefresh(Math.round(Math.min(delay, left / 2)));
    this.announceExpiry();
  }

  // --- outcomes -----------------------------------------------------------------------------

  /** What a SUBSCRIBE's outcome calls for: done, send again (auth, 423), or a failure. */
  private judge(outcome: RequestOutcome, exchange: DigestExchange, expiresS: number): { kind: 'ok'; response: SipResponse } | { kind: 'again'; expiresS: number } | { kind: 'failed'; failure: SubscriptionFailure } {
    if (outcome.kind === 'timeout') return { kind: 'failed', failure: { cause: 'timeout', statusCode: 408, reason: 'Request Timeout', detail: 'no answer to the SUBSCRIBE' } };
    if (outcome.kind === 'transport-error') return { kind: 'failed', failure: { cause: 'transport-error', statusCode: 503, reason: 'Service Unavailable', detail: `transport error: ${outcome.error.message}` } };
    const res = outcome.response;
    const status = res.status;
    if (status >= 200 && status < 300) return { kind: 'ok', response: res };
    const base = { statusCode: status, reason: res.reason, retryAfterS: res.one(H.retryAfter)?.seconds };
    if (status === 401 || status === 407) {
      const answer = exchange.onChallenge(res);
      if (answer.kind === 'retry') return { kind: 'again', expiresS };
      const cause = answer.kind === 'refused' ? 'challenge-refused' : 'wrong-credentials';
      return { kind: 'failed', failure: { ...base, cause, detail: answer.message } };
    }
    if (status === 423) {
      // RFC 6665 §4.2.1.1 / RFC 3261 §10.2.8: ask again with at least Min-Expires, and keep asking that much.
      const min = res.minExpires;
      if (min === undefined || min <= expiresS) return { kind: 'failed', failure: { ...base, cause: 'interval-too-brief', detail: min === undefined ? '423 without Min-Expires' : `Min-Expires ${min} s not above ${expiresS} s` } };
      this.requestedExpiresS = min;
      return { kind: 'again', expiresS: min };
    }
    if (status === 489) return { kind: 'failed', failure: { ...base, cause: 'bad-event', detail: `the server does not support the ${this.event} event package` } };
    if (status === 403) return { kind: 'failed', failure: { ...base, cause: 'wrong-credentials' } };
    if (status === 408 || status === 480 || (status >= 500 && status < 600)) return { kind: 'failed', failure: { ...base, cause: 'server-unavailable' } };
    return { kind: 'failed', failure: { ...base, cause: 'rejected' } };
  }

  /** Waits for a new subscription after the backoff (or delayMs), never sooner than a Retry-After. */
  private retry(failure: SubscriptionFailure, delayMs?: number): void {
    this.clearTimers();
    this.forgetDialog();
    this.consecutiveFailures++;
    this.failure = failure;
    let delay = delayMs ?? backoffDelayMs(this.consecutiveFailures, this.timing, this.random);
    if (failure.retryAfterS !== undefined) delay = Math.max(delay, failure.retryAfterS * 1000);
    const gen = ++this.generation;
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      if (gen === this.generation) this.subscribeNew();
    }, delay);
    this.log.warn({ cause: failure.cause, status: failure.statusCode, reason: failure.reason, detail: failure.detail, retryInMs: delay, failures: this.consecutiveFailures }, 'subscription failed');
    this.transition({ state: S.Retrying, failure, retryAtMs: this.clock.now() + delay, consecutiveFailures: this.consecutiveFailures }, failure.cause);
  }

  /** Ends for good: no retry until start() (RFC 6665 §4.1.3, §8.3.2). */
  private terminate(failure: SubscriptionFailure): void {
    this.clearTimers();
    this.forgetDialog();
    this.generation++;
    this.failure = failure;
    this.log.warn({ cause: failure.cause, status: failure.statusCode, reason: failure.reason, detail: failure.detail }, 'subscription ended: not subscribing again');
    this.transition({ state: S.Terminated, failure }, failure.cause);
  }

  private unexpected(gen: number, e: unknown): void {
    // A bug, not a network condition: keep retrying rather than stuck.
    this.log.error({ err: e instanceof Error ? e.message : String(e) }, 'subscription step failed unexpectedly');
    if (gen === this.generation && this.state !== S.Unsubscribing && this.state !== S.Idle) this.retry({ cause: 'rejected', statusCode: 0, reason: 'internal error' });
  }

  // --- unsubscribe --------------------------------------------------------------------------

  private async unsubscribe(dialog: Dialog, gen: number, timeoutMs: number): Promise<void> {
    let handle: TimerHandle | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      handle = this.clock.setTimeout(() => resolve('timeout'), timeoutMs);
    });
    const notified = new Promise<'final NOTIFY'>((resolve) => {
      this.finalNotify = () => resolve('final NOTIFY');
    });
    const sent = this.sendUnsubscribe(dialog, gen).then((r) => (r === 'accepted' ? notified : r));
    const result = await Promise.race([sent, notified, timedOut]);
    this.clock.clearTimeout(handle);
    this.finalNotify = undefined;
    if (result === 'timeout') this.log.warn({ timeoutMs }, 'unsubscribe: no final answer in time, giving up');
    else this.log.info({ result }, 'unsubscribed');
    this.generation++;
    this.forgetDialog();
    this.transition({ state: S.Idle }, 'unsubscribed');
  }

  /** 'accepted' when a 2xx came (the final NOTIFY follows), else what ended it. */
  private async sendUnsubscribe(dialog: Dialog, gen: number): Promise<string> {
    const exchange = this.digest.begin(this.route(this.inDialogHop(dialog)));
    for (let n = 0; n < MAX_REQUESTS_PER_ATTEMPT; n++) {
      if (dialog.state === DialogState.Terminated) return 'dialog ended';
      const request = this.inDialogRequest(dialog, 0);
      exchange.authorize(request);
      const outcome = await this.sender.send(request);
      if (gen !== this.generation) return 'superseded';
      if (outcome.kind !== 'response') return outcome.kind;
      const res = outcome.response;
      dialog.receiveResponse(res);
      if ((res.status === 401 || res.status === 407) && exchange.onChallenge(res).kind === 'retry') continue;
      return res.status >= 200 && res.status < 300 ? 'accepted' : `${res.status} ${res.reason}`;
    }
    return 'too many challenges';
  }

  // --- building -----------------------------------------------------------------------------

  private commonHeaders(expiresS: number): [string, string | number][] {
    const event = this.eventId !== undefined ? `${this.event};id=${this.eventId}` : this.event;
    const headers: [string, string | number][] = [
      ['Event', event],
      ['Expires', expiresS],
    ];
    if (this.accept.length > 0) headers.push(['Accept', this.accept.join(', ')]);
    if (this.userAgent !== undefined) headers.push(['User-Agent', this.userAgent]);
    return headers;
  }

  /** The SUBSCRIBE that creates the subscription (RFC 6665 §4.1.2.1). */
  private initialRequest(expiresS: number): SipRequest {
    const a = this.account;
    return createRequest({
      method: 'SUBSCRIBE',
      uri: this.target,
      from: new NameAddr({ displayName: a.displayName, uri: a.aor }).withTag(this.fromTag),
      to: new NameAddr({ uri: this.target }),
      callId: this.callIdValue,
      cseq: ++this.cseq,
      contact: this.contact,
      route: a.outboundProxy ? [new NameAddr({ uri: a.outboundProxy })] : [],
      headers: this.commonHeaders(expiresS),
    });
  }

  /** A refresh or unsubscribe in the dialog; through the outbound proxy too, when there is one. */
  private inDialogRequest(dialog: Dialog, expiresS: number): SipRequest {
    const request = dialog.createRequest('SUBSCRIBE', { headers: this.commonHeaders(expiresS) });
    const proxy = this.account.outboundProxy;
    const first = request.route[0];
    if (proxy && !(first?.uri.kind === 'sip' && sameHostPort(first.uri, proxy))) {
      const routes = [new NameAddr({ uri: proxy }), ...request.route];
      request.remove('Route');
      for (const r of routes) request.append('Route', r);
    }
    return request;
  }

  private firstHop(): Uri {
    return this.account.outboundProxy ?? this.target;
  }

  private inDialogHop(dialog: Dialog): Uri {
    return this.account.outboundProxy ?? dialog.nextHopUri;
  }

  /** Credentials go to the configured servers only (see DigestClient): the outbound proxy, or the registrar's host. */
  private route(hop: Uri): { fromConfiguredServer: boolean; peerHost: string | undefined } {
    const host = hop.kind === 'sip' ? hop.host.toLowerCase() : undefined;
    const configured = this.account.outboundProxy !== undefined || (host !== undefined && this.account.serverHosts.includes(host));
    return { fromConfiguredServer: configured, peerHost: host };
  }

  /**
   * The dialog a NOTIFY makes when it comes before the 2xx (RFC 6665 §4.1.2.4): as if the 2xx had
   * come with the NOTIFY's From tag, Contact and route set. The NOTIFY's Record-Route is in
   * request order (the UAS view, RFC 3261 §12.1.1), a response's is reversed by Dialog.uac.
   */
  private dialogFromNotify(initial: SipRequest, notify: SipRequest): Dialog {
    const headers: [string, NameAddr][] = [];
    const contact = notify.contact[0];
    if (contact) headers.push(['Contact', contact]);
    for (const rr of [...notify.recordRoute].reverse()) headers.push(['Record-Route', rr]);
    const synthetic = createResponse(initial, { status: 200, toTag: notify.from.tag ?? '', headers });
    return Dialog.uac(initial, synthetic, { localContact: this.contact });
  }

  // --- state --------------------------------------------------------------------------------

  private forgetDialog(): void {
    this.dialogValue?.terminate('subscription over');
    this.dialogValue = undefined;
    this.lastInitial = undefined;
    this.expiresAtMs = 0;
    this.refreshAtMs = 0;
    this.refreshing = false;
  }

  private clearTimers(): void {
    this.clock.clearTimeout(this.timer);
    this.clock.clearTimeout(this.notifyTimer);
    this.timer = undefined;
    this.notifyTimer = undefined;
  }

  private transition(next: SubscriptionStatus, why: string): void {
    const from = this.current.state;
    // Throws InvalidTransitionError on an edge the diagram does not draw: a bug, never a network event.
    this.machine.transition(next.state, why);
    this.current = next;
    if (from !== next.state) this.log.info({ from, to: next.state, why }, 'subscription state');
    this.events.emit('state', next);
  }
}

function sameHostPort(a: SipUri, b: SipUri): boolean {
  return a.host.toLowerCase() === b.host.toLowerCase() && a.port === b.port;
}
