// The base of an INVITE session in either direction: state, events, outcome, the SessionDescriptionHandler, in-dialog requests (dispatch by method, BYE, re-INVITE / UPDATE, INFO, PRACK), hold / resume, session timers and requests sent in the dialog.
import type { TimerHandle } from '../../../util/clock.js';
import { Emitter, type Unsubscribe } from '../../../util/emitter.js';
import type { Logger } from '../../../util/log.js';
import { type Dialog, DialogState, type InDialogRequestOptions } from '../../dialog/index.js';
import type { SipRequest, Uri } from '../../message/index.js';
import type { AnyServerTransaction, RequestOutcome } from '../../transaction/index.js';
import { StateMachine } from '../../transaction/state-machine.js';
import type { Account } from '../account.js';
import type { SessionDescriptionHandler, SessionDescriptionHandlerFactory } from '../session-description.js';
import { UA_ACCEPT } from '../user-agent-uas.js';
import { type CallEnvironment, type RemoteIdentity, capabilityHeaders, hostOf, reasonValue } from './call-environment.js';
import { InfoDtmf } from './session-dtmf.js';
import type { DtmfMode, HoldState, SessionDtmfEvent, SessionModifyResult } from './session-features.js';
import { SessionModifier } from './session-modify.js';
import { type SessionOutcome, outcome } from './session-outcome.js';
import { SessionRefresh } from './session-refresh.js';
import { SESSION_EDGES, SessionState } from './session-state.js';
import type { TransferOptions, TransferProgress, TransferResult } from './transfer.js';
import type { IncomingRefer } from './transfer-receiver.js';

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
  /** Our hold or the peer's changed (after the offer/answer that changed it completed). */
  hold: [HoldState];
  /** A key the peer sent by SIP INFO (RFC 4733 keys come from the media engine, not from here). */
  dtmf: [SessionDtmfEvent];
  /** Our transfer (transfer() / transferTo()): the REFER's answer, then each NOTIFY's sipfrag status. */
  'transfer-progress': [TransferProgress];
  /** The peer asks us to transfer this call (RFC 3515): followed already unless calls.transfer.refer is 'app'. */
  refer: [IncomingRefer];
  /** An INVITE with Replaces took this call's place (RFC 3891): the new session, answered; this one ends as replaced. */
  replaced: [Session];
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
  /** How sendDtmf() sends keys (default: the account's, else settings.dtmf). */
  dtmf?: DtmfMode | undefined;
}

/**
 * One call. OutgoingSession and IncomingSession make the dialog; from there both behave alike:
 *
 * - Requests the dialog registry places in the session's dialog arrive at receiveRequest(),
 *   which dispatches by method: a handler registered with handleRequests() first (the place for
 *   later extensions), else BYE → 200 and remote-hangup (RFC 3261 §15.1.2); re-INVITE and UPDATE
 *   → SessionModifier (offer / answer through the handler, glare, session timer); INFO → DTMF
 *   (InfoDtmf); PRACK → the reliable 1xx of an incoming call; OPTIONS → 200 with capabilities;
 *   anything else → 501.
 * - hold() / resume() re-offer through SessionModifier (re-INVITE, or UPDATE when configured and
 *   allowed); 'hold' reports both sides' hold. The session timer (SessionRefresh, RFC 4028)
 *   refreshes or watches, and ends the call with BYE as session-expired.
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
  /** Offers and answers after the call is up: hold, resume, refreshes, the peer's re-INVITEs and UPDATEs. */
  protected readonly modifier: SessionModifier;
  /** The session timer (RFC 4028). */
  protected readonly refresh: SessionRefresh;
  /** How sendDtmf() sends keys. */
  readonly dtmfMode: DtmfMode;
  private readonly infoDtmf: InfoDtmf;
  /** The dialog the call lives in once it is known (the early dialog of the latest fork, then the confirmed one). */
  protected current: Dialog | undefined;
  private readonly owned = new Set<Dialog>();
  private readonly machine: StateMachine<SessionState>;
  private readonly events = new Emitter<SessionEvents>();
  private readonly requestHandlers = new Map<string, InDialogRequestHandler>();
  private readonly timers = new Map<string, TimerHandle>();
  private resolveEnded: (o: SessionOutcome) => void = () => undefined;
  private result: SessionOutcome | undefined;

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
    this.dtmfMode = init.dtmf ?? init.account?.dtmf ?? init.env.settings.dtmf;
    this.refresh = new SessionRefresh({
      config: init.env.settings.sessionTimers,
      clock: init.env.clock,
      log: this.log,
      refresh: () => void this.modifier.refresh(),
      expired: (intervalS) => this.bye(outcome('session-expired', 0, 'Session Expired', `no session refresh within ${intervalS} s (RFC 4028 §10)`)),
    });
    this.modifier = new SessionModifier({
      env: init.env,
      log: this.log,
      handler: this.handler,
      accountId: init.account?.id,
      refresh: this.refresh,
      upDialog: () => (this.state === SessionState.Confirmed ? this.current : undefined),
      send: (method, options) => this.sendRequest(method, options),
      bye: (o, reason) => this.bye(o, reason),
      safely: (what, fn, fallback) => this.safely(what, fn, fallback),
      holdChanged: (held) => this.events.emit('hold', held),
    });
    this.infoDtmf = new InfoDtmf({
      log: this.log,
      send: (options) => this.sendRequest('INFO', options),
      up: () => this.state === SessionState.Confirmed,
      received: (e) => this.events.emit('dtmf', e),
    });
    this.events.on('ended', () => {
      this.refresh.stop();
      this.modifier.close();
    });
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

  /**
   * Sends DTMF: in the media (RFC 4733) through the handler, or with dtmfMode 'info' one SIP INFO
   * per key (application/dtmf-relay), each after the previous one's 2xx. False when the call is
   * not up, a key is not 0-9 * # A-D (INFO), or the media has no telephone-event (RFC 4733).
   */
  sendDtmf(digits: string, durationMs = 100): boolean {
    if (this.state !== SessionState.Confirmed) return false;
    if (this.dtmfMode === 'info') return this.infoDtmf.send(digits, durationMs);
    return this.handler.sendDtmf(digits, durationMs);
  }

  /** Our hold and the peer's, as the last completed offer/answer left them (RFC 3264 §8.4). */
  get held(): HoldState {
    return this.modifier.held;
  }

  /**
   * Puts the peer on hold: an offer with a=sendonly (inactive when the peer holds us too) by
   * re-INVITE, or by UPDATE when settings.holdMethod is 'update' and the peer allows it.
   * Resolves once the peer answered (or refused: the call then stays as it was); never rejects.
   */
  hold(): Promise<SessionModifyResult> {
    return this.modifier.hold();
  }

  /** Takes the peer off hold (a=sendrecv, or recvonly while it holds us); like hold(). */
  resume(): Promise<SessionModifyResult> {
    return this.modifier.resume();
  }

  /** Our hold as offers and answers ask for it. */
  protected get localHold(): boolean {
    return this.modifier.holding;
  }

  /**
   * Blind transfer (RFC 3515, 5589 §6): REFER to the peer to call target ("1004", a URI). Resolves
   * once the result is known; on success the call ends as transferred, on failure it stays as it
   * is (the phone holds before and resumes after). Progress: 'transfer-progress'. Never rejects.
   */
  transfer(target: string | Uri, options: TransferOptions = {}): Promise<TransferResult> {
    return this.env.transfer(this, target, options);
  }

  /** Attended transfer (RFC 5589 §7): the peer is to call the peer of `consultation` with Replaces of that dialog; success ends both calls. */
  transferTo(consultation: Session, options: TransferOptions = {}): Promise<TransferResult> {
    return this.env.transfer(this, consultation, options);
  }

  /** @internal The outcome a BYE from the peer ends the call with, instead of remote-hangup (a transfer done). */
  byeOutcome: SessionOutcome | undefined;

  /** @internal For the modules that act on a session from outside (transfer): emits one of its events. */
  announce<K extends keyof SessionEvents>(event: K, ...args: SessionEvents[K]): void {
    this.events.emit(event, ...args);
  }

  /** @internal Ends the call with an outcome of its own (transferred, replaced): BYE once up, else hangup(). */
  endWith(o: SessionOutcome): void {
    if (this.state === SessionState.Confirmed) this.bye(o);
    else this.hangup();
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

  /**
   * sendRequest() in a given dialog of the session (a fork's, for the BYE after its late 2xx).
   * `build` makes each request instead of Dialog.createRequest (the PRACK with its RAck).
   */
  protected async sendIn(dialog: Dialog | undefined, method: string, options: InDialogRequestOptions = {}, build?: (dialog: Dialog, options: InDialogRequestOptions) => SipRequest): Promise<RequestOutcome> {
    if (!dialog || dialog.state === DialogState.Terminated) return { kind: 'transport-error', error: new Error(`no dialog to send ${method} in`) };
    const hop = dialog.nextHopUri;
    const exchange = this.env.digest(this.accountId)?.begin({ fromConfiguredServer: false, peerHost: hostOf(hop) });
    const headers = [...(options.headers ?? []), ['User-Agent', this.env.userAgent] as const];
    for (let round = 0; ; round++) {
      let request: SipRequest;
      try {
        request = build ? build(dialog, { ...options, headers }) : dialog.createRequest(method, { ...options, headers });
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
      case 'UPDATE':
        this.modifier.receive(tx, dialog);
        return;
      case 'INFO':
        this.infoDtmf.receive(tx);
        return;
      case 'PRACK':
        this.receivePrack(tx);
        return;
      case 'OPTIONS':
        // RFC 3261 §11.2: in a dialog too.
        tx.reply(200, { headers: [...capabilityHeaders(this.env), ['Accept', UA_ACCEPT.join(', ')]] });
        return;
      default:
        // REFER (RFC 3515), NOTIFY (RFC 6665): their modules register with handleRequests();
        // until then they are not implemented.
        tx.reply(501, { headers: capabilityHeaders(this.env).slice(0, 1) });
    }
  }

  /** @internal An ACK for a 2xx in one of this session's dialogs (the layer stopped the 2xx retransmissions). */
  receiveAck(ack: SipRequest, _dialog: Dialog): void {
    this.modifier.receiveAck(ack);
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
    this.end(this.byeOutcome ?? outcome('remote-hangup', 0, 'BYE', reason));
  }

  /** A PRACK (RFC 3262): only an incoming call sends reliable 1xx; here there is none to acknowledge. */
  protected receivePrack(tx: AnyServerTransaction): void {
    tx.reply(481);
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
    // RFC 4028 §9: the session timer of an INVITE we answered runs from the call's start.
    if (to === SessionState.Confirmed) this.refresh.start();
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
    this.refresh.stop();
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
}
