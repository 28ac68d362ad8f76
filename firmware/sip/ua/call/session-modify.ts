// Changing an established session (RFC 3261 §14, RFC 3311, RFC 3264 §8): hold / resume / refresh offers we send by re-INVITE or UPDATE, the peer's re-INVITEs and UPDATEs, glare (491 and the retry delays) and the offer/answer state between them.
import type { TimerHandle } from '../../../util/clock.js';
import type { Logger } from '../../../util/log.js';
import { type Dialog, DialogState } from '../../dialog/index.js';
import type { SipRequest, SipResponse } from '../../message/index.js';
import { type AnyServerTransaction, InviteServerState, InviteServerTransaction, NonInviteServerState, type RequestOutcome } from '../../transaction/index.js';
import { checkIncomingRequest, glareRetryDelayMs, ownsCallId } from '../glare.js';
import type { SessionBody, SessionDescriptionHandler } from '../session-description.js';
import { type CallEnvironment, bodyFields, bodyOf, capabilityHeaders, reasonValue, warningValue } from './call-environment.js';
import type { HoldState, SessionModifyResult } from './session-features.js';
import { type SessionOutcome, outcome } from './session-outcome.js';
import type { SessionRefresh } from './session-refresh.js';
import { sendReinvite } from './session-reinvite.js';

/** What the modifier needs from its session. */
export interface ModifyHost {
  readonly env: CallEnvironment;
  readonly log: Logger;
  readonly handler: SessionDescriptionHandler;
  readonly accountId: string | undefined;
  readonly refresh: SessionRefresh;
  /** The confirmed dialog, while the call is up (Confirmed); undefined otherwise. */
  upDialog(): Dialog | undefined;
  /** Sends a non-INVITE request in the dialog (Session.sendRequest). */
  send(method: string, options: { headers: [string, string][]; body?: string; contentType?: string }): Promise<RequestOutcome>;
  bye(o: SessionOutcome, reason?: string): void;
  safely<T>(what: string, fn: () => T, fallback: T): T;
  /** The hold state changed (after a completed offer/answer). */
  holdChanged(state: HoldState): void;
}

/** A 491 again and again is a broken peer, not glare: give up after this many retries. */
const MAX_GLARE_RETRIES = 4;

type Purpose = 'hold' | 'resume' | 'refresh';
type Attempt = { kind: 'done'; result: SessionModifyResult } | { kind: 'glare' };

const NOT_UP: SessionModifyResult = { ok: false, status: 0, reason: 'the call is not up' };
const REFUSED = { ok: false, status: 488, reason: 'internal error' } as const;

/**
 * The offer/answer life of a confirmed session (one per Session):
 *
 * - Ours (hold(), resume(), refresh()): one at a time, in call order. Each waits until no
 *   exchange of the peer's is open (RFC 3261 §14.1: no INVITE while one is in progress either
 *   way), asks the handler for an offer — {hold} as wanted; a refresh offers the current state,
 *   which the SDP layer keeps identical — and sends it by re-INVITE, or by UPDATE when the
 *   settings say so and the peer's Allow lists UPDATE (RFC 3311). 2xx: the answer goes to the
 *   handler, the hold state moves, the session timer restarts. 491: rollback and the same
 *   again after glareRetryDelayMs (RFC 3261 §14.1; the Call-ID's owner waits 2.1-4 s, the other
 *   0-2 s), unless the reason went away. 408, a timeout or 481: the dialog is over (§12.2.1.2):
 *   BYE / end. 422: once more with the larger interval (RFC 4028 §7.3). Any other failure (488,
 *   500...): rollback, and the call stays as it was (§14.1).
 * - The peer's (receive()): glare.checkIncomingRequest first — 491 while our offer is out, 500
 *   with Retry-After while one of theirs is still open — then the session timer (422 for too
 *   short an interval), then the offer to the handler: a refusal is 488 with a Warning and the
 *   call stays; else 200 with the answer (Contact, Allow, Supported, Session-Expires). A
 *   re-INVITE without an offer gets ours in the 2xx and the answer in the ACK; an UPDATE without
 *   one is a session refresh (RFC 4028 §10) and gets a bare 200.
 */
export class SessionModifier {
  private readonly host: ModifyHost;
  private localHold = false;
  private remoteHold = false;
  private chain: Promise<unknown> = Promise.resolve();
  private closed = false;
  /** Our re-INVITE has no final response yet. */
  private clientInvite = false;
  /** Our offer (re-INVITE, UPDATE, or the 2xx to a re-INVITE without one) is not answered yet. */
  private localOffer = false;
  /** The peer's offer is with the handler, not answered yet. */
  private remoteOffer = false;
  /** A re-INVITE of the peer's that is not answered, or answered 2xx and not ACKed (RFC 3261 §14.2). */
  private serverInvite: { tx: InviteServerTransaction; offered: boolean } | undefined;
  private waiters: (() => void)[] = [];
  private readonly sleeps = new Map<TimerHandle, () => void>();
  /** The peer's Allow, from its INVITE or 2xx and any later request or response that lists one. */
  private peerAllow: readonly string[] | undefined;

  constructor(host: ModifyHost) {
    this.host = host;
  }

  /** Our hold and the peer's, as the last completed offer/answer left them. */
  get held(): HoldState {
    return { local: this.localHold, remote: this.remoteHold };
  }

  /** What createAnswer() / createOffer() are asked for outside the modifier's own offers (the 2xx of an incoming call). */
  get holding(): boolean {
    return this.localHold;
  }

  /** Learns what the peer allows from a message that says it (Allow, RFC 3261 §20.5). */
  learnAllow(message: SipRequest | SipResponse): void {
    if (message.has('Allow')) this.peerAllow = message.allow.map((m) => m.toUpperCase());
  }

  /** Whether the peer said it takes UPDATE. */
  get peerAllowsUpdate(): boolean {
    return this.peerAllow?.includes('UPDATE') === true;
  }

  hold(): Promise<SessionModifyResult> {
    return this.enqueue('hold', true);
  }

  resume(): Promise<SessionModifyResult> {
    return this.enqueue('resume', false);
  }

  /** A session refresh (RFC 4028 §10): our current offer again. */
  refresh(): Promise<SessionModifyResult> {
    return this.enqueue('refresh', undefined);
  }

  /** The session ended: pending waits end, queued offers resolve as not up. */
  close(): void {
    this.closed = true;
    for (const [handle, wake] of this.sleeps) {
      this.host.env.clock.clearTimeout(handle);
      wake();
    }
    this.sleeps.clear();
    this.wake();
  }

  // --- ours -------------------------------------------------------------------------------------

  private enqueue(purpose: Purpose, hold: boolean | undefined): Promise<SessionModifyResult> {
    const run = (): Promise<SessionModifyResult> => this.modify(purpose, hold);
    const result = this.chain.then(run, run).catch((e: unknown): SessionModifyResult => {
      this.host.log.error({ err: e instanceof Error ? e.message : String(e), purpose }, 'session modification failed');
      return { ok: false, status: 500, reason: e instanceof Error ? e.message : String(e) };
    });
    this.chain = result;
    return result;
  }

  private async modify(purpose: Purpose, hold: boolean | undefined): Promise<SessionModifyResult> {
    for (let glare = 0; ; glare++) {
      // RFC 3261 §14.1: retry only if the reason still holds (the peer may have done it meanwhile).
      if (hold !== undefined && hold === this.localHold) return { ok: true, held: this.held };
      await this.idle();
      const dialog = this.host.upDialog();
      if (this.closed || !dialog) return NOT_UP;
      const attempt = await this.offer(dialog, purpose, hold ?? this.localHold);
      if (attempt.kind === 'done') return attempt.result;
      if (glare >= MAX_GLARE_RETRIES) return { ok: false, status: 491, reason: 'Request Pending (gave up after repeated glare)' };
      const delayMs = glareRetryDelayMs(ownsCallId(dialog), this.host.env.layer.random);
      this.host.log.info({ purpose, delayMs }, 'glare (491): retrying later');
      await this.sleep(delayMs);
    }
  }

  private async offer(dialog: Dialog, purpose: Purpose, hold: boolean): Promise<Attempt> {
    const { host } = this;
    const method = (purpose === 'refresh' ? host.env.settings.refreshMethod : host.env.settings.holdMethod) === 'update' && this.peerAllowsUpdate ? 'UPDATE' : 'INVITE';
    this.localOffer = true;
    this.clientInvite = method === 'INVITE';
    try {
      let offer: SessionBody;
      try {
        offer = await host.handler.createOffer({ hold });
      } catch (e) {
        return done({ ok: false, status: 0, reason: `no offer: ${e instanceof Error ? e.message : String(e)}` });
      }
      let timerHeaders = host.refresh.requestHeaders();
      for (let round = 0; ; round++) {
        if (this.closed || dialog.state !== DialogState.Confirmed) {
          host.safely('rollback', () => host.handler.rollback(), undefined);
          return done(NOT_UP);
        }
        host.log.debug({ method, purpose, hold }, 'sending an offer in the dialog');
        const headers: [string, string][] = [...capabilityHeaders(host.env), ...timerHeaders];
        const result = await this.sendOffer(dialog, method, headers, offer);
        if (result.kind === 'response' && result.response.status === 422 && round === 0) {
          const retry = host.refresh.retry422(result.response);
          if (retry.retry) {
            timerHeaders = retry.headers;
            continue;
          }
        }
        return this.outcome(method, purpose, hold, result);
      }
    } finally {
      this.localOffer = false;
      this.clientInvite = false;
      this.wake();
    }
  }

  private sendOffer(dialog: Dialog, method: 'INVITE' | 'UPDATE', headers: [string, string][], offer: SessionBody): Promise<RequestOutcome> {
    const { host } = this;
    if (method === 'UPDATE') return host.send('UPDATE', { headers, ...bodyFields(offer) });
    return sendReinvite({ env: host.env, dialog, accountId: host.accountId, request: { headers: [...headers, ['User-Agent', host.env.userAgent]], ...bodyFields(offer) }, log: host.log });
  }

  private outcome(method: string, purpose: Purpose, hold: boolean, result: RequestOutcome): Attempt {
    const { host } = this;
    const rollback = (): void => host.safely('rollback', () => host.handler.rollback(), undefined);
    if (result.kind !== 'response') {
      rollback();
      if (result.kind === 'timeout') {
        // RFC 3261 §12.2.1.2: a timeout is a 408: the dialog is gone.
        host.bye(outcome('timeout', 408, 'Request Timeout', `no answer to the ${method} (${purpose})`));
        return done({ ok: false, status: 408, reason: 'Request Timeout' });
      }
      return done({ ok: false, status: 503, reason: `Service Unavailable (${result.error.message})` });
    }
    const res = result.response;
    const status = res.status;
    if (status >= 200 && status < 300) {
      this.learnAllow(res);
      const answer = bodyOf(res);
      const verdict = answer ? host.safely('receiveAnswer', () => host.handler.receiveAnswer(answer, { early: false, fork: res.to.tag ?? '' }), REFUSED) : ({ ok: false, status: 488, reason: `no answer in the 2xx to the ${method}` } as const);
      if (!verdict.ok) {
        // The peer took our offer but its answer is unusable: the media cannot follow (RFC 3261 §14.1 leaves no way back).
        rollback();
        host.bye(outcome('not-acceptable', 488, verdict.reason, `the answer to our ${method} was refused`), reasonValue(488, verdict.reason));
        return done({ ok: false, status: 488, reason: verdict.reason });
      }
      host.refresh.succeeded(res);
      this.settled(hold);
      return done({ ok: true, held: this.held });
    }
    rollback();
    if (status === 491) return { kind: 'glare' };
    if (status === 408) {
      host.bye(outcome('timeout', 408, res.reason, `408 to the ${method} (${purpose})`));
    } else if (status === 481) {
      host.bye(outcome('remote-hangup', 481, res.reason, `the peer no longer knows the call (481 to the ${method})`));
    } else {
      host.log.info({ method, purpose, status, reason: res.reason }, 'offer refused: the call stays as it was');
    }
    return done({ ok: false, status, reason: res.reason });
  }

  // --- theirs -----------------------------------------------------------------------------------

  /** A re-INVITE or UPDATE in the session's dialog. */
  receive(tx: AnyServerTransaction, dialog: Dialog): void {
    const request = tx.request;
    const { host } = this;
    const offer = bodyOf(request);
    const up = host.upDialog() === dialog;
    if (!up) {
      // Before the call is up only a refresh-style UPDATE without an offer is taken (RFC 3311 §5.1 asks more of early offers than a phone needs).
      if (request.method === 'UPDATE' && !offer) tx.reply(200, { headers: this.answerHeaders(dialog, []) });
      else tx.reply(500, { headers: [['Retry-After', `${1 + Math.floor(host.env.layer.random() * 5)}`]] });
      return;
    }
    const verdict = checkIncomingRequest(
      request.method,
      offer !== undefined,
      { inviteClientPending: this.clientInvite, inviteServerPending: this.serverInvite !== undefined, localOfferPending: this.localOffer, remoteOfferPending: this.remoteOffer },
      host.env.layer.random,
    );
    if (!verdict.ok) {
      host.log.info({ method: request.method, status: verdict.status }, 'in-dialog offer refused (RFC 3261 §14.2, RFC 3311 §5.2)');
      tx.reply(verdict.status, { reason: verdict.reason, headers: verdict.headers });
      return;
    }
    const timer = host.refresh.answer(request);
    if (!timer.ok) {
      tx.reply(timer.status, { reason: timer.reason, headers: timer.headers });
      return;
    }
    this.learnAllow(request);
    if (tx instanceof InviteServerTransaction) this.serverInvite = { tx, offered: false };
    void this.answer(tx, dialog, offer, timer.headers)
      .then((ok) => {
        if (ok) host.refresh.answered(timer.agreement);
      })
      .catch((e: unknown) => {
        host.log.error({ err: e instanceof Error ? e.message : String(e) }, 'answering the offer failed');
        this.remoteOffer = false;
        this.endServerInvite(tx);
        if (isAnswerable(tx)) tx.reply(500);
      });
  }

  /** An ACK for a 2xx in the dialog: completes the peer's re-INVITE (with the answer when we offered in the 2xx). */
  receiveAck(ack: SipRequest): void {
    const r = this.serverInvite;
    if (!r || ack.cseq.seq !== r.tx.request.cseq.seq) return;
    this.endServerInvite(r.tx);
    if (!r.offered) return;
    const { host } = this;
    this.localOffer = false;
    const answer = bodyOf(ack);
    const verdict = answer ? host.safely('receiveAnswer', () => host.handler.receiveAnswer(answer, { early: false, fork: ack.from.tag ?? '' }), REFUSED) : ({ ok: false, status: 488, reason: 'no answer in the ACK' } as const);
    this.wake();
    if (!verdict.ok) {
      // The offer of our 2xx got no usable answer: the session cannot go on (RFC 3261 §13.3.1.4, §14.2).
      host.safely('rollback', () => host.handler.rollback(), undefined);
      host.bye(outcome('media-failed', 488, verdict.reason), reasonValue(488, verdict.reason));
      return;
    }
    this.settled(this.localHold);
  }

  private async answer(tx: AnyServerTransaction, dialog: Dialog, offer: SessionBody | undefined, timerHeaders: [string, string][]): Promise<boolean> {
    const { host } = this;
    const isInvite = tx instanceof InviteServerTransaction;
    let body: SessionBody | undefined;
    if (offer) {
      this.remoteOffer = true;
      const verdict = host.safely('receiveOffer', () => host.handler.receiveOffer(offer), REFUSED);
      if (!verdict.ok) {
        this.remoteOffer = false;
        this.endServerInvite(tx);
        tx.reply(verdict.status, { headers: [['Warning', warningValue(host.env.userAgent, verdict.reason)]] });
        return false;
      }
      try {
        body = await host.handler.createAnswer({ hold: this.localHold });
      } finally {
        this.remoteOffer = false;
      }
    } else if (isInvite) {
      // RFC 3261 §14.2: a re-INVITE without a body: our offer in the 2xx, the answer in the ACK.
      this.localOffer = true;
      body = await host.handler.createOffer({ hold: this.localHold });
      if (this.serverInvite?.tx === tx) this.serverInvite.offered = true;
    }
    if (!isAnswerable(tx) || host.upDialog() !== dialog) {
      this.endServerInvite(tx);
      if (!offer && isInvite) this.localOffer = false;
      return false;
    }
    tx.reply(200, { headers: this.answerHeaders(dialog, timerHeaders), ...bodyFields(body) });
    if (offer) this.settled(this.localHold);
    if (tx instanceof InviteServerTransaction) {
      tx.on('no-ack', () => {
        if (this.serverInvite?.tx !== tx) return;
        // RFC 3261 §14.2 / §13.3.1.4: a 2xx never ACKed ends the session.
        this.endServerInvite(tx);
        this.localOffer = false;
        host.bye(outcome('no-ack', 408, 'no ACK for the 2xx to a re-INVITE'));
      });
    } else this.wake();
    return true;
  }

  private answerHeaders(dialog: Dialog, timerHeaders: [string, string][]): [string, string][] {
    const contact = dialog.localContact;
    return [...(contact ? [['Contact', contact.toString()] as [string, string]] : []), ...capabilityHeaders(this.host.env), ...timerHeaders];
  }

  private endServerInvite(tx: AnyServerTransaction): void {
    if (this.serverInvite?.tx === tx) this.serverInvite = undefined;
    this.wake();
  }

  // --- shared -----------------------------------------------------------------------------------

  /** An offer/answer completed: our hold is what it asked for, the peer's what the handler saw. */
  private settled(localHold: boolean): void {
    const remote = this.host.handler.remoteHold ?? false;
    if (localHold === this.localHold && remote === this.remoteHold) return;
    this.localHold = localHold;
    this.remoteHold = remote;
    this.host.holdChanged(this.held);
  }

  private busy(): boolean {
    return this.serverInvite !== undefined || this.remoteOffer || this.localOffer;
  }

  /** Resolves once no exchange is open (or the session ended). */
  private idle(): Promise<void> {
    if (!this.busy() || this.closed) return Promise.resolve();
    return new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  private wake(): void {
    if (this.busy() && !this.closed) return;
    for (const w of this.waiters.splice(0)) w();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const handle = this.host.env.clock.setTimeout(() => {
        this.sleeps.delete(handle);
        resolve();
      }, ms);
      this.sleeps.set(handle, resolve);
    });
  }
}

function done(result: SessionModifyResult): Attempt {
  return { kind: 'done', result };
}

/** The server transaction still takes a final response. */
function isAnswerable(tx: AnyServerTransaction): boolean {
  if (tx instanceof InviteServerTransaction) return tx.state === InviteServerState.Proceeding;
  return tx.state === NonInviteServerState.Trying || tx.state === NonInviteServerState.Proceeding;
}
