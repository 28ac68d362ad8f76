// The callee's side of a call (RFC 3261 §13.3): the offer and session timer checked before ringing, 180 (reliable with 100rel), PRACK, accept() with the handler's answer (or a late offer), reject(), CANCEL, the ACK and Timer H.
import { Dialog } from '../../dialog/index.js';
import { type NameAddr, type SipRequest, type SipResponse, type Uri, createResponse, reasonPhrase } from '../../message/index.js';
import { type AnyServerTransaction, InviteServerState, type InviteServerTransaction, type ReplyOptions } from '../../transaction/index.js';
import type { Account } from '../account.js';
import { ReliableProvisionalSender, useReliableProvisionals } from '../reliable-provisional.js';
import type { SessionBody, SessionDescriptionHandlerFactory } from '../session-description.js';
import { type CallEnvironment, type RemoteIdentity, bodyFields, bodyOf, capabilityHeaders, reasonValue, warningValue } from './call-environment.js';
// A cycle (call-manager builds IncomingSessions); targetUri is only called at run time, never while the modules load.
import { targetUri } from './call-manager.js';
import { Session } from './session.js';
import { outcome, outcomeOfStatus } from './session-outcome.js';
import { SessionState } from './session-state.js';

export interface IncomingSessionInit {
  env: CallEnvironment;
  account: Account | undefined;
  /** The INVITE's server transaction (the layer has started it: 100 Trying goes out by itself). */
  transaction: InviteServerTransaction;
  caller: RemoteIdentity;
  /** Our Contact for the 1xx / 2xx (RFC 3261 §12.1.1: a dialog-creating response carries one). */
  contact: NameAddr | undefined;
  handlerFactory: SessionDescriptionHandlerFactory;
  /** The INVITE came over TLS (with a sips: Request-URI the dialog is secure, RFC 3261 §12.1.1). */
  tls: boolean;
}

/** Statuses an incoming call can be refused with. */
export type RejectStatus = 403 | 480 | 486 | 488 | 600 | 603 | 606 | (number & {});

/**
 * An incoming call. The manager makes it once the INVITE passed the UA's checks (ghost-call
 * protection, busy, do-not-disturb), then calls takeOffer(): an offer the handler refuses gets
 * 488 with a Warning (RFC 3261 §13.3.1.3) and the call never rings. Otherwise ring() sends 180
 * (automatic unless settings say no) and the UA emits 'incoming'.
 *
 * - accept(): 200 with the handler's answer, or with an offer when the INVITE had no body (the
 *   answer then comes in the ACK, RFC 3261 §13.2.1). The layer retransmits the 2xx until the ACK;
 *   the ACK confirms the call ('accepted'). No ACK in 64*T1 ('no-ack'): BYE (§13.3.1.4).
 * - reject(status): 603 by default, or 486, 480...; nobody answering in settings.noAnswerTimeoutMs: 480.
 * - redirect(targets): 302 (or another 3xx) with the targets as Contacts (RFC 3261 §21.3, call
 *   forwarding answered by the phone); the caller's UA follows them. Ends as 'redirected'.
 * - A CANCEL (RFC 3261 §9.2): 487 to the INVITE; ends as cancelled, or answered-elsewhere when its
 *   Reason says cause=200 (RFC 3326). A BYE in the early dialog: 200, then 487 (§15.1.2).
 * - hangup() before accept(): reject(603); after the 2xx but before the ACK: BYE once the ACK
 *   comes (§15: not before), or at Timer H's end.
 * - Session timer (RFC 4028 §9): takeOffer() answers 422 (with Min-SE) to too short a
 *   Session-Expires; the 2xx carries the agreed Session-Expires, and the timer runs once confirmed.
 * - 100rel (RFC 3262 §3): an INVITE that requires it (or supports it, with
 *   settings.reliableWhenSupported) gets its 180 reliably — RSeq, retransmitted until the PRACK
 *   (answered 200), 504 to the INVITE when none comes in 64*T1; a 2xx waits for the PRACK of a
 *   1xx that carried a body.
 */
export class IncomingSession extends Session {
  /** The INVITE. */
  readonly request: SipRequest;
  private readonly tx: InviteServerTransaction;
  private readonly offer: SessionBody | undefined;
  private readonly contact: NameAddr | undefined;
  private readonly initial: Dialog;
  /** accept() was called; the 2xx goes out once the handler's body is ready. */
  private answering = false;
  /** The 2xx went out. */
  private answered = false;
  private acked = false;
  private hangupAfterAck = false;
  /** The reliable 1xx of this INVITE, when they go reliably (RFC 3262). */
  private readonly reliable: ReliableProvisionalSender | undefined;
  /** Session-Expires (and Require: timer) for the 2xx (RFC 4028 §9). */
  private timerHeaders: [string, string][] = [];

  constructor(init: IncomingSessionInit) {
    const tx = init.transaction;
    const request = tx.request;
    super({ env: init.env, direction: 'incoming', account: init.account, callId: request.callId, localTag: tx.toTag, remote: init.caller, handlerFactory: init.handlerFactory, initial: SessionState.Proceeding });
    this.request = request;
    this.tx = tx;
    this.offer = bodyOf(request);
    this.contact = init.contact;
    this.initial = this.adopt(Dialog.uas(request, { localTag: tx.toTag, localContact: init.contact, random: init.env.layer.random, tls: init.tls }));
    this.current = this.initial;
    tx.on('cancel', (cancel) => this.cancelled(cancel));
    tx.on('no-ack', () => this.noAck());
    tx.on('transport-error', (e) => {
      if (!this.answered) this.end(outcome('network-error', 503, 'Service Unavailable', e.message));
    });
    this.startTimer('no-answer', init.env.settings.noAnswerTimeoutMs, () => this.unanswered());
    this.modifier.learnAllow(request);
    this.reliable = useReliableProvisionals(request, { reliableWhenSupported: init.env.settings.reliableWhenSupported })
      ? new ReliableProvisionalSender({
          clock: init.env.clock,
          random: init.env.layer.random,
          t1Ms: init.env.layer.timers.t1Ms,
          send: (r) => {
            if (this.tx.state === InviteServerState.Proceeding) this.tx.respond(r);
          },
          timedOut: () => this.prackTimedOut(),
        })
      : undefined;
    this.on('ended', () => this.reliable?.stop());
  }

  /** Whether the INVITE had no offer (late offer: ours goes in the 2xx). */
  get lateOffer(): boolean {
    return this.offer === undefined;
  }

  /**
   * Gives the INVITE's offer to the handler. A refusal is answered at once (488, or 400 for a body
   * that does not parse) with a Warning, and the session ends; returns whether the call may ring.
   * @internal
   */
  takeOffer(): boolean {
    const timer = this.refresh.answer(this.request);
    if (!timer.ok) {
      // RFC 4028 §9: too short a session interval: 422 with our Min-SE; the caller may try again.
      this.replyInvite(timer.status, { reason: timer.reason, headers: timer.headers });
      this.end(outcomeOfStatus(timer.status, timer.reason, 'Session-Expires below our Min-SE'));
      return false;
    }
    this.timerHeaders = timer.headers;
    this.refresh.answeredInitial(timer.agreement);
    const offer = this.offer;
    if (!offer) return true;
    const verdict = this.safely('receiveOffer', () => this.handler.receiveOffer(offer), { ok: false, status: 488, reason: 'internal error' } as const);
    if (verdict.ok) return true;
    this.replyInvite(verdict.status, { headers: [['Warning', warningValue(this.env.userAgent, verdict.reason)]] });
    this.end(outcomeOfStatus(verdict.status, reasonPhrase(verdict.status), verdict.reason));
    return false;
  }

  /** Sends 180 Ringing with our Contact (an early dialog, RFC 3261 §13.3.1.1). Once; only before the answer. */
  ring(): void {
    if (this.state !== SessionState.Proceeding || this.answering) return;
    if (this.reliable) this.reliable.sendProvisional(this.inviteResponse(180, { headers: this.contactHeader(), copyRecordRoute: true }));
    else this.replyInvite(180, { headers: this.contactHeader(), copyRecordRoute: true });
    this.transition(SessionState.Early, '180 sent');
    this.emit('progress', { status: 180, reason: 'Ringing', earlyMedia: false });
  }

  /** Answers the call: 200 with the handler's answer (or offer). Resolves once the 2xx is sent (or the call ended first). */
  async accept(): Promise<void> {
    if (this.answering || (this.state !== SessionState.Proceeding && this.state !== SessionState.Early)) return;
    this.answering = true;
    this.stopTimer('no-answer');
    let body: SessionBody;
    try {
      body = this.offer ? await this.handler.createAnswer({ hold: this.localHold }) : await this.handler.createOffer({ hold: this.localHold });
    } catch (e) {
      this.log.error({ err: e instanceof Error ? e.message : String(e) }, 'no answer from the session description handler');
      if (this.tx.state === InviteServerState.Proceeding) this.replyInvite(500);
      this.end(outcome('media-failed', 500, 'Server Internal Error', e instanceof Error ? e.message : String(e)));
      return;
    }
    if (this.tx.state !== InviteServerState.Proceeding || (this.state as SessionState) === SessionState.Terminated) return;
    const ok = this.inviteResponse(200, { headers: [...this.contactHeader(), ...capabilityHeaders(this.env), ...this.timerHeaders], copyRecordRoute: true, ...bodyFields(body) });
    // RFC 3262 §3: a 2xx waits for the PRACK of a reliable 1xx that carried a body.
    if (this.reliable?.sendFinal(ok) === 'held') this.log.debug('200 held until the PRACK');
    else if (!this.reliable) this.tx.respond(ok);
    this.answered = true;
    this.initial.confirm();
  }

  /** Refuses the call (603 Decline by default). Only before the answer. */
  reject(status: RejectStatus = 603, reason?: string): void {
    if (this.answered || this.tx.state !== InviteServerState.Proceeding || this.state === SessionState.Terminated) return;
    const phrase = reason ?? reasonPhrase(status);
    this.replyInvite(status, { reason: phrase });
    this.end(outcomeOfStatus(status, phrase, 'refused here'));
  }

  /**
   * Sends the caller elsewhere (RFC 3261 §21.3): a 3xx (302 Moved Temporarily by default) with one
   * Contact per target, in order of preference (q from 1.0 down, §20.10). A target is a URI, or a
   * number dialled at the account's domain as call() would. Only before the answer; returns false
   * (and sends nothing) when it is too late or no target makes a SIP URI.
   */
  redirect(targets: readonly (string | Uri)[], status = 302): boolean {
    if (status < 300 || status > 399) throw new RangeError(`a redirection is a 3xx, not ${status}`);
    if (this.answering || this.answered || this.tx.state !== InviteServerState.Proceeding || this.state === SessionState.Terminated) return false;
    const uris = [];
    for (const t of targets) {
      try {
        uris.push(targetUri(t, this.account));
      } catch (e) {
        this.log.warn({ target: String(t), err: e instanceof Error ? e.message : String(e) }, 'redirect target skipped');
      }
    }
    if (uris.length === 0) return false;
    const contacts = uris.map((u, i) => `<${u.toString()}>${uris.length > 1 ? `;q=${(1 - i / uris.length).toFixed(2)}` : ''}`);
    const phrase = reasonPhrase(status);
    this.replyInvite(status, { reason: phrase, headers: [['Contact', contacts.join(', ')]] });
    this.end(outcome('redirected', status, phrase, uris.map((u) => u.toString()).join(', ')));
    return true;
  }

  hangup(): void {
    const state = this.state;
    if (state === SessionState.Terminated || state === SessionState.Terminating) return;
    if (state === SessionState.Confirmed) {
      this.bye(outcome('local-hangup', 0, 'hung up'));
      return;
    }
    if (this.answering || this.answered) {
      // RFC 3261 §15: no BYE before the ACK of our 2xx (or before Timer H's time passed).
      this.hangupAfterAck = true;
      this.transition(SessionState.Terminating, 'hangup before the ACK');
      return;
    }
    this.reject(603);
  }

  /** A PRACK for our reliable 1xx (RFC 3262 §3): 200 when its RAck matches, 481 (or 400) otherwise. */
  protected override receivePrack(tx: AnyServerTransaction): void {
    const verdict = this.reliable?.receivePrack(tx.request);
    if (!verdict) {
      tx.reply(481);
      return;
    }
    if (verdict.ok) tx.reply(200);
    else tx.reply(verdict.status, { reason: verdict.reason });
  }

  /** @internal */
  override receiveAck(ack: SipRequest, dialog: Dialog): void {
    if (dialog !== this.initial || ack.cseq.seq !== this.request.cseq.seq) {
      super.receiveAck(ack, dialog);
      return;
    }
    if (!this.answered || this.acked) return;
    this.acked = true;
    if (!this.offer) {
      // RFC 3261 §13.2.1: our offer went in the 2xx, the answer must be in the ACK.
      const answer = bodyOf(ack);
      const fork = this.initial.id.remoteTag;
      const verdict = answer
        ? this.safely('receiveAnswer', () => this.handler.receiveAnswer(answer, { early: false, fork }), { ok: false, status: 488, reason: 'internal error' } as const)
        : ({ ok: false, status: 488, reason: 'no answer in the ACK' } as const);
      if (!verdict.ok) {
        this.safely('rollback', () => this.handler.rollback(), undefined);
        this.bye(outcome('not-acceptable', 488, verdict.reason, 'the answer in the ACK was refused'), reasonValue(488, verdict.reason));
        return;
      }
    }
    if (this.hangupAfterAck) {
      this.bye(outcome('local-hangup', 0, 'hung up'));
      return;
    }
    this.transition(SessionState.Confirmed, 'ACK received');
    this.safely('confirmed', () => this.handler.confirmed(), undefined);
    this.emit('accepted');
  }

  /** A BYE before our 2xx (the caller ends an early dialog): 200, then 487 to the INVITE (RFC 3261 §15.1.2). */
  protected override receiveBye(tx: AnyServerTransaction, dialog: Dialog): void {
    if (this.answered) {
      super.receiveBye(tx, dialog);
      return;
    }
    tx.reply(200);
    if (this.tx.state === InviteServerState.Proceeding) this.replyInvite(487);
    this.end(outcome('cancelled', 487, 'Request Terminated', 'BYE in the early dialog'));
  }

  private cancelled(cancel: SipRequest): void {
    if (this.tx.state === InviteServerState.Proceeding) this.replyInvite(487);
    // RFC 3326: "Reason: SIP;cause=200" on a CANCEL says another phone of the AOR answered.
    const reason = cancel.get('Reason');
    const elsewhere = reason !== undefined && /^\s*SIP\s*;.*cause\s*=\s*200\b/i.test(reason);
    this.end(elsewhere ? outcome('answered-elsewhere', 487, 'Call completed elsewhere', reason) : outcome('cancelled', 487, 'Request Terminated', reason));
  }

  /** Nobody answered in time: 480 (the caller's proxy may try voicemail or another contact). */
  private unanswered(): void {
    if (this.answering || this.tx.state !== InviteServerState.Proceeding) return;
    this.replyInvite(480, { reason: 'Temporarily Unavailable' });
    this.end(outcome('no-answer', 480, 'Temporarily Unavailable', `not answered in ${this.env.settings.noAnswerTimeoutMs} ms`));
  }

  /** RFC 3261 §13.3.1.4: no ACK for our 2xx in 64*T1: the session is ended with BYE. */
  private noAck(): void {
    if (this.acked || this.state === SessionState.Terminated) return;
    this.bye(this.hangupAfterAck ? outcome('local-hangup', 0, 'hung up') : outcome('no-ack', 408, 'no ACK for the 2xx'));
  }

  private contactHeader(): [string, string][] {
    return this.contact ? [['Contact', this.contact.toString()]] : [];
  }

  /** RFC 3262 §3: the reliable 1xx went unacknowledged for 64*T1: the INVITE gets 504. */
  private prackTimedOut(): void {
    if (this.tx.state !== InviteServerState.Proceeding || this.state === SessionState.Terminated) return;
    this.log.warn('no PRACK for our reliable provisional response: 504');
    this.replyInvite(504, { reason: 'Server Time-out' });
    this.end(outcome('timeout', 504, 'Server Time-out', 'no PRACK for the reliable provisional response (RFC 3262 §3)'));
  }

  /** A response to the INVITE with our To tag and Server, not sent yet. */
  private inviteResponse(status: number, options: ReplyOptions = {}): SipResponse {
    return createResponse(this.request, { ...options, status, toTag: this.tx.toTag, headers: [...(options.headers ?? []), ['Server', this.env.userAgent]] });
  }

  /** A final response other than our 2xx (the reliable 1xx stop: RFC 3262 §3) or an unreliable 1xx. */
  private replyInvite(status: number, options: ReplyOptions = {}): void {
    if (status >= 200) this.reliable?.stop();
    this.tx.respond(this.inviteResponse(status, options));
  }
}
