// The registration client of one account: REGISTER with digest auth, refresh, backoff, re-registration, unregister (RFC 3261 §10.2).
import type { Clock, TimerHandle } from '../../util/clock.js';
import { Emitter, type Unsubscribe } from '../../util/emitter.js';
import type { Logger } from '../../util/log.js';
import { silentLogger } from '../../util/log.js';
import { DigestClient } from '../auth/index.js';
import { H, NameAddr, type SipRequest, type SipResponse, SipUri, createRequest, uriEquals } from '../message/index.js';
import type { Account } from './account.js';
import type { AccountClientOptions } from './account-client.js';
import { RegistrationState, assertTransition } from './registration-state.js';
import { DEFAULT_REGISTRATION_TIMING, type RandomFraction, type RegistrationTiming, backoffDelayMs, refreshDelayMs } from './registration-timing.js';
import { type ContactAddress, contactUri, hexId } from './contact.js';
import type { RequestSender } from './request-sender.js';

export { RegistrationState } from './registration-state.js';

export type { ContactAddress } from './contact.js';

/** Why a registration attempt failed. */
export type RegistrationFailureCause =
  /** 401/407 again after we answered with a fresh nonce, or 403 (RFC 3261 §22.2, §21.4.4). */
  | 'wrong-credentials'
  /** A challenge we may not answer (foreign realm, not from our server) or cannot (unsupported). */
  | 'challenge-refused'
  /** Another final response (3xx, 4xx, 6xx), or a 2xx without our binding. */
  | 'rejected'
  /** 423 without a usable Min-Expires (RFC 3261 §10.2.8). */
  | 'interval-too-brief'
  /** 408, 480 or 5xx from the server: it may work later. */
  | 'server-unavailable'
  /** No final response (Timer F); reported as 408 (RFC 3261 §8.1.3.1). */
  | 'timeout'
  /** The transport could not send; reported as 503 (RFC 3261 §8.1.3.1). */
  | 'transport-error'
  /** The transport has no local address yet. */
  | 'no-local-address';

export interface RegistrationFailure {
  cause: RegistrationFailureCause;
  /** The SIP status: the response's; 408 for a timeout, 503 for a transport error; 0 when none applies. */
  statusCode: number;
  /** The reason phrase, or what happened. */
  reason: string;
  /** More for the log and a status page (e.g. the refused challenge's realm). */
  detail?: string | undefined;
  /** The server's Retry-After, seconds (RFC 3261 §20.33). */
  retryAfterS?: number | undefined;
}

/** What the UI shows, sent with each 'state' event. */
export type RegistrationStatus =
  | { state: RegistrationState.Unregistered }
  | { state: RegistrationState.Registering; attempt: number; lastFailure: RegistrationFailure | undefined }
  | { state: RegistrationState.Registered; expiresS: number; expiresAtMs: number; refreshAtMs: number; contact: string }
  | { state: RegistrationState.Refreshing; expiresAtMs: number }
  | { state: RegistrationState.Failed | RegistrationState.Backoff; failure: RegistrationFailure; retryAtMs: number; consecutiveFailures: number }
  | { state: RegistrationState.Unregistering };

export type RegistrationEvents = {
  state: [RegistrationStatus];
};

export type RegistrationClientOptions = AccountClientOptions<RegistrationTiming>;

export interface StopOptions {
  /** Send REGISTER with expires 0 first (default true). */
  unregister?: boolean | undefined;
  /** Give up waiting for the unregister's answer after this long. Default timing.unregisterTimeoutMs. */
  timeoutMs?: number | undefined;
}

/**
 * Requests per attempt: each 401/407 round, each 423 retry is one more. Digest allows two
 * rounds per realm (answer, stale retry); with a 401 and a 407 realm and a 423, 6 is enough.
 */
const MAX_REQUESTS_PER_ATTEMPT = 6;


/**
 * Registers one account and keeps it registered.
 *
 * - One Call-ID for the client's lifetime and a CSeq that grows by one per REGISTER, auth
 *   re-sends included (RFC 3261 §10.2.4, §8.1.3.5).
 * - The interval asked for goes both in the Contact's expires parameter and in an Expires header,
 *   with the same value: registrars read the parameter first (RFC 3261 §10.3 step 7), older ones
 *   the header. Unregistering sends expires=0 for our own Contact(s) only, never "Contact: *",
 *   which would remove the other phones of the same AOR.
 * - The granted interval is the expires parameter of the 200's Contact that is ours (by
 *   +sip.instance and reg-id with outbound, else by URI, RFC 3261 §19.1.4), else the 200's
 *   Expires header, else what we asked. The refresh goes at 45-50 % of it (RegistrationTiming).
 * - 423 → ask again with Min-Expires (kept for later refreshes). 401/407 → answered by the
 *   DigestClient; a second challenge after a fresh answer, or 403, is wrong credentials → Failed.
 *   Timeout, transport error, 408, 480, 5xx → Backoff. Other final responses → Failed. Failed and
 *   Backoff retry after the RFC 5626 §4.5 backoff (30-60 s, 60-120 s, ... up to 900-1800 s),
 *   never earlier than a Retry-After.
 * - networkChanged() / transportLost(): register again at once with the new Contact; when the
 *   Contact changed (and outbound is off), the old one is removed (expires=0) in the same REGISTER.
 */
export class RegistrationClient {
  readonly account: Account;
  /** Constant for the client's lifetime (RFC 3261 §10.2.4). */
  readonly callId: string;
  private readonly fromTag: string;
  private readonly sender: RequestSender;
  private readonly clock: Clock;
  private readonly random: RandomFraction;
  private readonly contactAddress: () => ContactAddress | undefined;
  /**
   * The account's DigestClient. The UA authenticates the account's other requests through the
   * configured server with it too, so that realm binding and nonce counts are shared.
   */
  readonly digest: DigestClient;
  private readonly log: Logger;
  private readonly userAgent: string | undefined;
  private readonly timing: RegistrationTiming;
  private readonly events = new Emitter<RegistrationEvents>();

  private current: RegistrationStatus = { state: RegistrationState.Unregistered };
  private cseq = 0;
  /** Bumped whenever what is in flight stops mattering (new attempt, stop): late outcomes are dropped. */
  private generation = 0;
  private timer: TimerHandle | undefined;
  private requestedExpiresS: number;
  private consecutiveFailures = 0;
  private attempts = 0;
  private failure: RegistrationFailure | undefined;
  /** The Contact of the last successful registration. */
  private registeredContact: SipUri | undefined;
  /** A Contact sent in a REGISTER whose outcome we do not know: the registrar may hold it. */
  private pendingContact: SipUri | undefined;
  private stopping: Promise<void> | undefined;
  private routeSet: NameAddr[] = [];

  constructor(options: RegistrationClientOptions) {
    const a = options.account;
    this.account = a;
    this.sender = options.sender;
    this.clock = options.clock;
    this.random = options.random;
    this.contactAddress = options.contactAddress;
    this.log = (options.logger ?? silentLogger()).child({ mod: 'sip/registration', account: a.id });
    this.digest =
      options.digest ??
      new DigestClient({ authUsername: a.authUsername, password: a.password, realms: a.realms, hosts: a.serverHosts, randomBytes: options.randomBytes, logger: options.logger });
    this.userAgent = options.userAgent;
    this.timing = { ...DEFAULT_REGISTRATION_TIMING, ...options.timing };
    this.requestedExpiresS = a.expiresS;
    this.callId = hexId(options.randomBytes(16));
    this.fromTag = hexId(options.randomBytes(8));
  }

  get state(): RegistrationState {
    return this.current.state;
  }

  get status(): RegistrationStatus {
    return this.current;
  }

  /** The last failure, until a registration succeeds (so the UI can keep showing it while retrying). */
  get lastFailure(): RegistrationFailure | undefined {
    return this.failure;
  }

  /** The Service-Route of the last 200 (RFC 3608): the route set for the account's other requests. */
  get serviceRoute(): readonly NameAddr[] {
    return this.routeSet;
  }

  on<K extends keyof RegistrationEvents>(event: K, listener: (...args: RegistrationEvents[K]) => void): Unsubscribe {
    return this.events.on(event, listener);
  }

  /** Starts registering (from Unregistered; otherwise does nothing). */
  start(): void {
    if (this.state !== RegistrationState.Unregistered) {
      if (this.state === RegistrationState.Unregistering) this.log.warn('start() while unregistering ignored: await stop() first');
      return;
    }
    this.consecutiveFailures = 0;
    this.failure = undefined;
    this.attempt(RegistrationState.Registering);
  }

  /** From Failed or Backoff: try now instead of waiting for the retry timer (a user's "retry"). */
  retryNow(): void {
    if (this.state === RegistrationState.Failed || this.state === RegistrationState.Backoff) this.attempt(RegistrationState.Registering);
  }

  /**
   * The local address may have changed (new IP, interface up): register again now, with the new
   * Contact. Further failures back off as usual.
   */
  networkChanged(): void {
    const s = this.state;
    if (s === RegistrationState.Unregistered || s === RegistrationState.Unregistering) return;
    this.log.info('network changed: registering again');
    this.attempt(RegistrationState.Registering);
  }

  /**
   * The connection (flow) the registration used is gone (RFC 5626 §4.4.1): register again now
   * from Registered or Refreshing. While registering, the transaction reports the error itself;
   * in Failed or Backoff the retry timer already runs.
   */
  transportLost(): void {
    const s = this.state;
    if (s !== RegistrationState.Registered && s !== RegistrationState.Refreshing) return;
    this.log.info('transport lost: registering again');
    this.attempt(RegistrationState.Registering);
  }

  /**
   * Unregisters (REGISTER with expires 0 for our Contact) and stops every timer. Resolves once
   * the registrar answered or after timeoutMs, whichever is first; never rejects.
   */
  async stop(options: StopOptions = {}): Promise<void> {
    if (this.stopping) return this.stopping;
    this.generation++;
    this.clearTimer();
    if (this.state === RegistrationState.Unregistered) return;
    const contacts = this.contactsToRemove();
    if (options.unregister === false || contacts.length === 0) {
      this.forgetBindings();
      this.transition({ state: RegistrationState.Unregistered });
      return;
    }
    this.transition({ state: RegistrationState.Unregistering });
    this.stopping = this.unregister(this.generation, contacts, options.timeoutMs ?? this.timing.unregisterTimeoutMs);
    try {
      await this.stopping;
    } finally {
      this.stopping = undefined;
    }
  }

  // --- attempts ---------------------------------------------------------------------------

  private attempt(to: RegistrationState.Registering | RegistrationState.Refreshing): void {
    this.clearTimer();
    const gen = ++this.generation;
    if (to === RegistrationState.Registering) {
      this.attempts++;
      this.transition({ state: to, attempt: this.attempts, lastFailure: this.failure });
    } else {
      const s = this.current;
      this.transition({ state: to, expiresAtMs: s.state === RegistrationState.Registered ? s.expiresAtMs : this.clock.now() });
    }
    this.run(gen).catch((e: unknown) => {
      // A bug, not a network condition: keep the phone retrying rather than stuck.
      this.log.error({ err: e instanceof Error ? e.message : String(e) }, 'registration attempt failed unexpectedly');
      if (gen === this.generation) this.fail({ cause: 'rejected', statusCode: 0, reason: 'internal error' }, RegistrationState.Backoff);
    });
  }

  private async run(gen: number): Promise<void> {
    const address = this.contactAddress();
    if (!address) {
      this.fail({ cause: 'no-local-address', statusCode: 0, reason: 'no local address for the Contact yet' }, RegistrationState.Backoff);
      return;
    }
    const contact = contactUri(this.account.aor.user, address);
    // A binding at an address we left: remove it in the same request. With outbound the
    // registrar replaces it by instance id and reg-id by itself (RFC 5626 §6).
    const old = [this.registeredContact, this.pendingContact].filter((u): u is SipUri => u !== undefined && !uriEquals(u, contact) && !this.account.outbound);
    const exchange = this.digest.begin({ fromConfiguredServer: true });
    let expiresS = this.requestedExpiresS;
    for (let n = 0; n < MAX_REQUESTS_PER_ATTEMPT; n++) {
      const bindings = [{ uri: contact, expiresS, own: true }, ...dedupe(old).map((uri) => ({ uri, expiresS: 0, own: false }))];
      const request = this.register(bindings, expiresS);
      exchange.authorize(request);
      this.pendingContact = contact;
      const outcome = await this.sender.send(request);
      if (gen !== this.generation) return;
      if (outcome.kind === 'timeout') {
        this.fail({ cause: 'timeout', statusCode: 408, reason: 'Request Timeout', detail: 'no answer from the registrar' }, RegistrationState.Backoff);
        return;
      }
      if (outcome.kind === 'transport-error') {
        this.fail({ cause: 'transport-error', statusCode: 503, reason: 'Service Unavailable', detail: `transport error: ${outcome.error.message}` }, RegistrationState.Backoff);
        return;
      }
      const res = outcome.response;
      const status = res.status;
      if (status >= 200 && status < 300) {
        this.succeed(res, contact, expiresS);
        return;
      }
      // A final non-2xx answer: the registrar did not store the binding (RFC 3261 §10.3).
      this.pendingContact = undefined;
      const retryAfterS = res.one(H.retryAfter)?.seconds;
      const base = { statusCode: status, reason: res.reason, retryAfterS };
      if (status === 401 || status === 407) {
        const answer = exchange.onChallenge(res);
        if (answer.kind === 'retry') continue;
        const cause = answer.kind === 'refused' ? 'challenge-refused' : answer.why === 'credentials-rejected' ? 'wrong-credentials' : 'rejected';
        this.fail({ ...base, cause, detail: answer.message }, RegistrationState.Failed);
        return;
      }
      if (status === 423) {
        // RFC 3261 §10.2.8: ask again with at least Min-Expires, and keep asking that much.
        const min = res.minExpires;
        if (min === undefined || min <= expiresS) {
          this.fail({ ...base, cause: 'interval-too-brief', detail: min === undefined ? '423 without Min-Expires' : `Min-Expires ${min} s not above the ${expiresS} s asked` }, RegistrationState.Failed);
          return;
        }
        this.log.info({ minExpiresS: min, askedS: expiresS }, '423 Interval Too Brief: asking for Min-Expires');
        expiresS = min;
        this.requestedExpiresS = min;
        continue;
      }
      if (status === 403) {
        this.fail({ ...base, cause: 'wrong-credentials' }, RegistrationState.Failed);
        return;
      }
      if (status === 408 || status === 480 || (status >= 500 && status < 600)) {
        this.fail({ ...base, cause: 'server-unavailable' }, RegistrationState.Backoff);
        return;
      }
      this.fail({ ...base, cause: 'rejected' }, RegistrationState.Failed);
      return;
    }
    this.fail({ cause: 'rejected', statusCode: 0, reason: 'too many challenges', detail: `no final answer after ${MAX_REQUESTS_PER_ATTEMPT} requests` }, RegistrationState.Failed);
  }

  private succeed(res: SipResponse, contact: SipUri, askedS: number): void {
    const grantedS = this.grantedExpires(res, contact, askedS);
    if (grantedS <= 0) {
      this.fail({ cause: 'rejected', statusCode: res.status, reason: res.reason, detail: 'the registrar kept no binding for our Contact' }, RegistrationState.Failed);
      return;
    }
    this.registeredContact = contact;
    this.pendingContact = undefined;
    this.consecutiveFailures = 0;
    this.failure = undefined;
    this.routeSet = res.all(H.serviceRoute);
    const now = this.clock.now();
    const delay = refreshDelayMs(grantedS, this.timing, this.random);
    const gen = this.generation;
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      if (gen === this.generation) this.attempt(RegistrationState.Refreshing);
    }, delay);
    this.transition({ state: RegistrationState.Registered, expiresS: grantedS, expiresAtMs: now + grantedS * 1000, refreshAtMs: now + delay, contact: contact.toString() });
  }

  /** The interval the registrar granted (see the class comment for the order). */
  private grantedExpires(res: SipResponse, contact: SipUri, askedS: number): number {
    const a = this.account;
    const ours = res.contact.find((c) => {
      if (a.outbound && a.instanceId !== undefined) {
        const inst = c.params.get('+sip.instance');
        const regId = c.params.get('reg-id');
        if (inst !== undefined && inst !== null) return inst.toLowerCase() === `<${a.instanceId}>` && regId === String(a.regId);
      }
      return uriEquals(c.uri, contact);
    });
    const param = ours?.params.get('expires');
    if (param !== undefined && param !== null && /^\d+$/.test(param)) return Number(param);
    return res.expires ?? askedS;
  }

  private fail(failure: RegistrationFailure, to: RegistrationState.Failed | RegistrationState.Backoff): void {
    this.clearTimer();
    this.consecutiveFailures++;
    this.failure = failure;
    let delay = backoffDelayMs(this.consecutiveFailures, this.timing, this.random);
    // Retry-After is a floor: never earlier than the server asked, never faster than the backoff.
    if (failure.retryAfterS !== undefined) delay = Math.max(delay, failure.retryAfterS * 1000);
    const gen = this.generation;
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      if (gen === this.generation) this.attempt(RegistrationState.Registering);
    }, delay);
    this.log.warn({ cause: failure.cause, status: failure.statusCode, reason: failure.reason, detail: failure.detail, retryInMs: delay, failures: this.consecutiveFailures }, 'registration failed');
    this.transition({ state: to, failure, retryAtMs: this.clock.now() + delay, consecutiveFailures: this.consecutiveFailures });
  }

  // --- unregister -------------------------------------------------------------------------

  private contactsToRemove(): SipUri[] {
    return dedupe([this.registeredContact, this.pendingContact].filter((u): u is SipUri => u !== undefined));
  }

  private forgetBindings(): void {
    this.registeredContact = undefined;
    this.pendingContact = undefined;
    this.routeSet = [];
  }

  private async unregister(gen: number, contacts: SipUri[], timeoutMs: number): Promise<void> {
    let handle: TimerHandle | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      handle = this.clock.setTimeout(() => resolve('timeout'), timeoutMs);
    });
    const result = await Promise.race([this.sendUnregister(gen, contacts), timedOut]);
    this.clock.clearTimeout(handle);
    if (result === 'timeout') this.log.warn({ timeoutMs }, 'unregister: no answer in time, giving up');
    else this.log.info({ result }, 'unregistered');
    // Whatever happened, the later outcome of what is in flight no longer matters.
    this.generation++;
    this.forgetBindings();
    this.transition({ state: RegistrationState.Unregistered });
  }

  private async sendUnregister(gen: number, contacts: SipUri[]): Promise<string> {
    const exchange = this.digest.begin({ fromConfiguredServer: true });
    for (let n = 0; n < MAX_REQUESTS_PER_ATTEMPT; n++) {
      const request = this.register(
        contacts.map((uri) => ({ uri, expiresS: 0, own: true })),
        0,
      );
      exchange.authorize(request);
      const outcome = await this.sender.send(request);
      if (gen !== this.generation) return 'superseded';
      if (outcome.kind !== 'response') return outcome.kind;
      const res = outcome.response;
      if ((res.status === 401 || res.status === 407) && exchange.onChallenge(res).kind === 'retry') continue;
      return `${res.status} ${res.reason}`;
    }
    return 'too many challenges';
  }

  // --- building ---------------------------------------------------------------------------

  /** A REGISTER (RFC 3261 §10.2): To and From the AOR, our Call-ID, the next CSeq. */
  private register(bindings: readonly { uri: SipUri; expiresS: number; own: boolean }[], expiresS: number): SipRequest {
    const a = this.account;
    const aor = new NameAddr({ displayName: a.displayName, uri: a.aor });
    const contacts = bindings.map((b) => {
      let c = new NameAddr({ uri: b.uri });
      // RFC 5626 §4.2.1: the instance id and reg-id name this flow's binding.
      if (b.own && a.outbound && a.instanceId !== undefined) c = c.withParam('+sip.instance', `<${a.instanceId}>`).withParam('reg-id', String(a.regId));
      return c.withParam('expires', String(b.expiresS));
    });
    const headers: [string, string | number][] = [['Expires', expiresS]];
    // RFC 5626 §4.2.1 "outbound"; "path" (RFC 3327) so that an edge proxy may add its Path.
    if (a.outbound) headers.push(['Supported', 'outbound, path']);
    if (this.userAgent !== undefined) headers.push(['User-Agent', this.userAgent]);
    return createRequest({
      method: 'REGISTER',
      uri: a.registrar,
      from: aor.withTag(this.fromTag),
      to: aor,
      callId: this.callId,
      cseq: ++this.cseq,
      contact: contacts,
      route: a.outboundProxy ? [new NameAddr({ uri: a.outboundProxy })] : [],
      headers,
    });
  }

  // --- state ------------------------------------------------------------------------------

  private transition(next: RegistrationStatus): void {
    const from = this.current.state;
    if (from !== next.state) assertTransition(from, next.state);
    this.current = next;
    this.log.info({ from, to: next.state }, 'registration state');
    this.events.emit('state', next);
  }

  private clearTimer(): void {
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }
}

function dedupe(uris: readonly SipUri[]): SipUri[] {
  const out: SipUri[] = [];
  for (const u of uris) if (!out.some((o) => uriEquals(o, u))) out.push(u);
  return out;
}
