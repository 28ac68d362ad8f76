// The base of an INVITE session in either direction: state, events, outcome, the SessionDescriptionHandler, in-dialog requests (dispatch by method, BYE, re-INVITE) and requests sent in the dialog.
import type { TimerHandle } from '../../../util/clock.js';
import { Emitter, type Unsubscribe } from '../../../util/emitter.js';
import type { Logger } from '../../../util/log.js';
import { type Dialog, DialogState, type InDialogRequestOptions } from '../../dialog/index.js';
import type { SipRequest } from '../../message/index.js';
import { type AnyServerTransaction, InviteServerState, InviteServerTransaction, type RequestOutcome } from '../../transaction/index.js';
import { StateMachine } from '../../transaction/state-machine.js';
import type { Account } from '../account.js';
import type { SessionDescriptionHandler, SessionDescriptionHandlerFactory } from '../session-description.js';
import { UA_ACCEPT } from '../user-agent-uas.js';
import { type CallEnvironment, type RemoteIdentity, bodyFields, bodyOf, capabilityHeaders, hostOf, reasonValue, warningValue } from './call-environment.js';
import { type SessionOutcome, outcome } from './session-outcome.js';
import { SESSION_EDGES, SessionState } from './session-state.js';

/** A provisional response (outgoing) or our 180 (incoming). */
export interface SessionProgress {
  status: number;
  reason: string;
  /** An early answer was taken: the handler plays the early media (183 with SDP, RFC 3261 §13.2.1). */
  earlyMedia: boolean;
}

// A type, not an interface: Emitter needs an implicit index signature.
export type SessionEvents = {
  /** Every state change, after it happened. */
  state: [SessionState];
  /** Outgoing: each 1xx (but 100). Incoming: the 180 we sent. */
  progress: [SessionProgress];
  /** The call is up: the 2xx was ACKed (outgoing: ACK sent; incoming: ACK received) and the handler confirmed. */
  accepted: [];
  /** The session reached Terminated; emitted once. */
  ended: [SessionOutcome];
};

/**
 * Handles one method of request received within the session's dialog, in place of the built-in
 * handling: the hook for re-INVITE / UPDATE hold and glare, session timers, PRACK, INFO DTMF,
 * REFER and NOTIFY. It must answer the transaction.
 */
export type InDialogRequestHandler = (tx: AnyServerTransaction, session: Session) => void;

export interface SessionInit {
  env: CallEnvironment;
  direction: 'outgoing' | 'incoming';
  account: Account | undefined;
  callId: string;
  localTag: string;
  remote: RemoteIdentity;
  handlerFactory: SessionDescriptionHandlerFactory;
  initial: SessionState.Calling | SessionState.Proceeding;
}

/** How long a peer is asked to wait before it tries a re-INVITE again after our 500 (RFC 3261 §14.2: 0-10 s). */
const REINVITE_RETRY_AFTER_S = 2;

/**
 * One call. OutgoingSession and IncomingSession make the dialog; from there both behave alike:
 *
 * - Requests the dialog registry places in the session's dialog arrive at receiveRequest(),
 *   which dispatches by method: a handler registered with handleRequests() first (the place for
 *   later extensions), else BYE → 200 and remote-hangup (RFC 3261 §15.1.2); re-INVITE → offer /
 *   answer through the handler, 200 or its refusal (488 with a Warning), 500 + Retry-After while
 *   another INVITE transaction of the dialog is open (§14.2); OPTIONS → 200 with capabilities;
 *   anything else → 501.
 * - sendRequest() sends a request in the dialog through RFC 3263 on Dialog.nextHopUri with
 *   failover, answering one 401/407 with the account's credentials (RFC 3261 §22.2).
 * - hangup() ends it (CANCEL before the final response, BYE after); mediaFailed() from the
 *   handler sends BYE with a Reason (RFC 3326).
 */
export abstract class Session {
  readonly direction: 'outgoing' | 'incoming';
  readonly callId: string;
  /** Our tag: From tag (outgoing) or To tag (incoming). */
  readonly localTag: string;
  readonly account: Account | undefined;
  /** Who is at the other end: the callee (outgoing) or the caller (incoming). */
  readonly remote: RemoteIdentity;
  readonly handler: SessionDescriptionHandler;
  /** Resolves with the outcome once the session is terminated; never rejects. */
  readonly ended: Promise<SessionOutcome>;
  protected readonly env: CallEnvironment;
  protected readonly log: Logger;
  /** Our own hold (for the later hold feature): what createOffer / createAnswer are asked for. */
  protected localHold = false;
  /** The dialog the call lives in once it is known (the early dialog of the latest fork, then the confirmed one). */
  protected current: Dialog | undefined;
  private readonly owned = new Set<Dialog>();
  private readonly machine: StateMachine<SessionState>;
  private readonly events = new Emitter<SessionEvents>();
  private readonly requestHandlers = new Map<string, InDialogRequestHandler>();
  private readonly timers = new Map<string, TimerHandle>();
  private resolveEnded: (o: SessionOutcome) => void = () => undefined;
  private result: SessionOutcome | undefined;
  /** A re-INVITE we answered 2xx whose ACK has not come yet (at most one INVITE transaction at a time, RFC 3261 §14.2). */
  private reinvite: { tx: InviteServerTransaction; offered: boolean } | undefined;

  protected constructor(init: SessionInit) {
    this.env = init.env;
    this.direction = init.direction;
    this.callId = init.callId;
    this.localTag = init.localTag;
    this.account = init.account;
    this.remote = init.remote;
    this.log = init.env.logger.child({ mod: 'sip/call', callId: init.callId, direction: init.direction });
    this.ended = new Promise<SessionOutcome>((resolve) => (this.resolveEnded = resolve));
    this.machine = new StateMachine<SessionState>(`${init.direction} session ${init.callId}`, SESSION_EDGES, init.initial, (_from, to) => this.events.emit('state', to));
    this.handler = init.handlerFactory({ direction: init.direction, mediaFailed: (reason) => this.mediaFailed(reason) });
  }

  get accountId(): string | undefined {
    return this.account?.id;
  }

  get state(): SessionState {
    return this.machine.state;
  }

  /** How it ended, once it did. */
  get outcome(): SessionOutcome | undefined {
    return this.result;
  }

  /** The dialog (the confirmed one once answered; the latest early one before). */
  get dialog(): Dialog | undefined {
    return this.current;
  }

  on<K extends keyof SessionEvents>(event: K, listener: (...args: SessionEvents[K]) => void): Unsubscribe {
    return this.events.on(event, listener);
  }

  /** Ends the call: CANCEL (or a rejection, incoming) before the final response, BYE after it. Idempotent. */
  abstract hangup(): void;

  /** Sends DTMF in the media (RFC 4733) through the handler; false when the call is not up or the media has no telephone-event. */
  sendDtmf(digits: string, durationMs = 100): boolean {
    if (this.state !== SessionState.Confirmed) return false;
    return this.handler.sendDtmf(digits, durationMs);
  }

  /**
   * Takes over one method of in-dialog request (see InDialogRequestHandler). The method must also
   * be in the UA's Allow list (UA_METHODS) or the transaction layer answers it 501 first.
   */
  handleRequests(method: string, handler: InDialogRequestHandler): Unsubscribe {
    const m = method.toUpperCase();
    this.requestHandlers.set(m, handler);
    return () => {
      if (this.requestHandlers.get(m) === handler) this.requestHandlers.delete(m);
    };
  }

  /**
   * Sends a request within the dialog (RFC 3261 §12.2.1.1) through RFC 3263 on the dialog's next
   * hop with failover. One 401/407 is answered with the account's credentials when the challenge
   * comes from its registrar or proxy (DigestClient's rules), with a new CSeq. The dialog sees the
   * final response (a 481 or 408 ends it, §12.2.1.2). Never rejects.
   */
  sendRequest(method: string, options: InDialogRequestOptions = {}): Promise<RequestOutcome> {
    return this.sendIn(this.current, method, options);
  }

  /** sendRequest() in a given dialog of the session (a fork's, for the BYE after its late 2xx). */
  protected async sendIn(dialog: Dialog | undefined, method: string, options: InDialogRequestOptions = {}): Promise<RequestOutcome> {
    if (!dialog || dialog.state === DialogState.Terminated) return { kind: 'transport-error', error: new Error(`no dialog to send ${method} in`) };
    const hop = dialog.nextHopUri;
    const exchange = this.env.digest(this.accountId)?.begin({ fromConfiguredServer: false, peerHost: hostOf(hop) });
    const headers = [...(options.headers ?? []), ['User-Agent', this.env.userAgent] as const];
    for (let round = 0; ; round++) {
      let request: SipRequest;
      try {
        request = dialog.createRequest(method, { ...options, headers });
      } catch (e) {
        return { kind: 'transport-error', error: e instanceof Error ? e : new Error(String(e)) };
      }
      exchange?.authorize(request);
      const result = await this.env.sender.send(request, { nextHop: hop });
      if (result.kind !== 'response') return result;
      const res = result.response;
      dialog.receiveResponse(res);
      if ((res.status === 401 || res.status === 407) && round === 0 && exchange && (dialog.state as DialogState) !== DialogState.Terminated && exchange.onChallenge(res).kind === 'retry') continue;
      return result;
    }
  }

  // --- for the manager ------------------------------------------------------------------------

  /** @internal A request the dialog registry placed in one of this session's dialogs (it passed the CSeq check). */
  receiveRequest(tx: AnyServerTransaction, dialog: Dialog): void {
    const request = tx.request;
    const custom = this.requestHandlers.get(request.method);
    if (custom) {
      custom(tx, this);
      return;
    }
    switch (request.method) {
      case 'BYE':
        this.receiveBye(tx, dialog);
        return;
      case 'INVITE':
        if (tx instanceof InviteServerTransaction) this.receiveReinvite(tx, dialog);
        return;
      case 'OPTIONS':
        // RFC 3261 §11.2: in a dialog too.
        tx.reply(200, { headers: [...capabilityHeaders(this.env), ['Accept', UA_ACCEPT.join(', ')]] });
        return;
      default:
        // UPDATE (RFC 3311), INFO (RFC 6086), REFER (RFC 3515), NOTIFY (RFC 6665), PRACK (RFC 3262):
        // the later modules register with handleRequests(); until then they are not implemented.
        tx.reply(501, { headers: capabilityHeaders(this.env).slice(0, 1) });
    }
  }

  /** @internal An ACK for a 2xx in one of this session's dialogs (the layer stopped the 2xx retransmissions). */
  receiveAck(ack: SipRequest, _dialog: Dialog): void {
    this.receiveReinviteAck(ack);
  }

  /** @internal Ends the session without a word on the wire (the user agent stopped). */
  abort(o: SessionOutcome): void {
    this.end(o);
  }

  // --- for the subclasses ---------------------------------------------------------------------

  /** A BYE in the dialog: 200, and the call ends as hung up by the peer (RFC 3261 §15.1.2). */
  protected receiveBye(tx: AnyServerTransaction, dialog: Dialog): void {
    tx.reply(200);
    dialog.terminate('BYE received');
    const reason = tx.request.get('Reason');
    this.end(outcome('remote-hangup', 0, 'BYE', reason));
  }

  /** Files a dialog as the session's: the manager routes its requests here, end() terminates it. */
  protected adopt(dialog: Dialog): Dialog {
    this.owned.add(dialog);
    this.env.bind(dialog, this);
    return dialog;
  }

  protected transition(to: SessionState, why: string): void {
    if (this.machine.state === to && to !== SessionState.Early) return;
    this.machine.transition(to, why);
    this.log.debug({ to, why }, 'session state');
  }

  protected emit<K extends keyof SessionEvents>(event: K, ...args: SessionEvents[K]): void {
    this.events.emit(event, ...args);
  }

  /** Starts (or restarts) a named timer on the UA's clock; end() stops them all. */
  protected startTimer(name: string, delayMs: number, fn: () => void): void {
    this.stopTimer(name);
    this.timers.set(
      name,
      this.env.clock.setTimeout(() => {
        this.timers.delete(name);
        fn();
      }, delayMs),
    );
  }

  protected stopTimer(name: string): void {
    this.env.clock.clearTimeout(this.timers.get(name));
    this.timers.delete(name);
  }

  /** The handler's verdict, with a throwing handler counted as a refusal (a bug there must not break the SIP side). */
  protected safely<T>(what: string, fn: () => T, fallback: T): T {
    try {
      return fn();
    } catch (e) {
      this.log.error({ err: e instanceof Error ? e.message : String(e), what }, 'session description handler failed');
      return fallback;
    }
  }

  /**
   * Sends BYE in the current dialog and ends the session with `o` once the BYE is answered (or
   * failed). The media stops at once (RFC 3261 §15.1.1). Without a live dialog it just ends.
   */
  protected bye(o: SessionOutcome, reason?: string): void {
    const dialog = this.current;
    if (this.state === SessionState.Terminated) return;
    if (!dialog || dialog.state === DialogState.Terminated) {
      this.end(o);
      return;
    }
    this.transition(SessionState.Terminating, 'BYE sent');
    this.safely('close', () => this.handler.close(), undefined);
    void this.sendRequest('BYE', reason !== undefined ? { headers: [['Reason', reason]] } : {}).then((r) => {
      this.log.debug({ result: r.kind === 'response' ? r.response.status : r.kind }, 'BYE answered');
      dialog.terminate('BYE sent');
      this.end(o);
    });
  }

  /**
   * Ends the session: stops its timers, terminates its dialogs (requests in them get 481 from
   * now on), closes the handler, emits 'ended'. Idempotent: the first outcome stays.
   */
  protected end(o: SessionOutcome): void {
    if (this.machine.state === SessionState.Terminated) return;
    this.result = o;
    for (const name of [...this.timers.keys()]) this.stopTimer(name);
    for (const d of this.owned) d.terminate(`session ${o.kind}`);
    this.safely('close', () => this.handler.close(), undefined);
    this.machine.transition(SessionState.Terminated, o.kind);
    this.log.info({ outcome: o.kind, status: o.status, reason: o.reason, detail: o.detail }, 'call ended');
    this.env.released(this);
    this.events.emit('ended', o);
    this.resolveEnded(o);
  }

  /** SessionDescriptionContext.mediaFailed: the media is gone for good; BYE with the reason (RFC 3326). */
  protected mediaFailed(reason: string): void {
    if (this.state === SessionState.Terminated || this.state === SessionState.Terminating) return;
    this.log.warn({ reason }, 'media failed: ending the call');
    if (this.state === SessionState.Confirmed) this.bye(outcome('media-failed', 0, reason), reasonValue(500, `media failed: ${reason}`));
    else this.hangup();
  }

  // --- re-INVITE (RFC 3261 §14.2) -------------------------------------------------------------

  private receiveReinvite(tx: InviteServerTransaction, dialog: Dialog): void {
    if (this.state !== SessionState.Confirmed || this.reinvite) {
      // RFC 3261 §14.2: an INVITE transaction of this dialog is still open (ours not ACKed yet).
      tx.reply(500, { headers: [['Retry-After', String(REINVITE_RETRY_AFTER_S)]] });
      return;
    }
    const offer = bodyOf(tx.request);
    this.reinvite = { tx, offered: offer === undefined };
    void this.answerReinvite(tx, dialog, offer !== undefined).catch((e: unknown) => {
      this.log.error({ err: e instanceof Error ? e.message : String(e) }, 're-INVITE failed');
      if (this.reinvite?.tx === tx) this.reinvite = undefined;
      if (tx.state === InviteServerState.Proceeding) tx.reply(500);
    });
  }

  private async answerReinvite(tx: InviteServerTransaction, dialog: Dialog, hasOffer: boolean): Promise<void> {
    const offer = bodyOf(tx.request);
    let body;
    if (hasOffer && offer) {
      const verdict = this.safely('receiveOffer', () => this.handler.receiveOffer(offer), { ok: false, status: 488, reason: 'internal error' } as const);
      if (!verdict.ok) {
        this.reinvite = undefined;
        tx.reply(verdict.status, { headers: [['Warning', warningValue(this.env.userAgent, verdict.reason)]] });
        return;
      }
      body = await this.handler.createAnswer({ hold: this.localHold });
    } else {
      // RFC 3261 §14.2: a re-INVITE without a body: our offer in the 2xx, the answer in the ACK.
      body = await this.handler.createOffer({ hold: this.localHold });
    }
    if (tx.state !== InviteServerState.Proceeding || this.state !== SessionState.Confirmed) {
      this.reinvite = undefined;
      return;
    }
    const contact = dialog.localContact;
    tx.reply(200, { headers: [...(contact ? [['Contact', contact.toString()] as [string, string]] : []), ...capabilityHeaders(this.env)], ...bodyFields(body) });
    tx.on('no-ack', () => {
      if (this.reinvite?.tx !== tx) return;
      // RFC 3261 §14.2 / §13.3.1.4: a 2xx never ACKed ends the session.
      this.reinvite = undefined;
      this.bye(outcome('no-ack', 408, 'no ACK for the 2xx to a re-INVITE'));
    });
  }

  private receiveReinviteAck(ack: SipRequest): void {
    const r = this.reinvite;
    if (!r || ack.cseq.seq !== r.tx.request.cseq.seq) return;
    this.reinvite = undefined;
    if (!r.offered) return;
    const answer = bodyOf(ack);
    const fork = this.current?.id.remoteTag ?? '';
    const verdict = answer
      ? this.safely('receiveAnswer', () => this.handler.receiveAnswer(answer, { early: false, fork }), { ok: false, status: 488, reason: 'internal error' } as const)
      : ({ ok: false, status: 488, reason: 'no answer in the ACK' } as const);
    if (!verdict.ok) {
      // The offer of our 2xx got no usable answer: the session cannot go on (RFC 3261 §13.3.1.4, §14.2).
      this.safely('rollback', () => this.handler.rollback(), undefined);
      this.bye(outcome('media-failed', 488, verdict.reason), reasonValue(488, verdict.reason));
    }
  }
}
