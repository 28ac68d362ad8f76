// Call transfer for the UA's sessions (RFC 3515, 5589): the transferor's REFER (blind, or attended with Replaces) and its NOTIFYs, and the routing of REFER and NOTIFY received in a call.
import type { Clock, TimerHandle } from '../../../util/clock.js';
import type { Logger } from '../../../util/log.js';
import { NameAddr, type SipResponse, type Uri } from '../../message/index.js';
import type { AnyServerTransaction, RequestOutcome } from '../../transaction/index.js';
import { type ReplacesValue, isNotifyForRefer, readReferNotify, referCreatedSubscription, referHeaders, replacesForDialog } from '../refer.js';
import type { CallRequestOptions } from './call-manager.js';
import type { OutgoingSession } from './outgoing-session.js';
import type { Session } from './session.js';
import { outcome } from './session-outcome.js';
import { SessionState } from './session-state.js';
import { type ReferPolicy, receiveRefer } from './transfer-receiver.js';

/** The UA's transfer settings (CallOptions.transfer). */
export interface TransferSettings {
  /**
   * What a REFER received in a call does (RFC 3515): 'follow' (default) accepts it and makes
   * the new call at once; 'app' accepts it and leaves the decision to the 'refer' event's
   * IncomingRefer (follow() or decline()); 'refuse' answers 403.
   */
  refer?: ReferPolicy | undefined;
  /** How long our transfer waits for the final NOTIFY before it gives up (the call stays), ms. Default 180000. */
  resultTimeoutMs?: number | undefined;
}

/** session.transfer() / transferTo() options. */
export interface TransferOptions {
  /** Ask for no NOTIFYs (RFC 4488 Refer-Sub: false): a 2xx to the REFER then counts as success. */
  noSubscription?: boolean | undefined;
}

/** A step of our transfer ('transfer-progress' event): the REFER's answer, then each NOTIFY's sipfrag status. */
export interface TransferProgress {
  /** The status: the REFER's response (stage 'refer'), the sipfrag's (stage 'notify'), 0 when none applies. */
  status: number;
  reason: string;
  /** No more progress will come. */
  final: boolean;
  /** The transfer worked: the call is being ended (outcome transferred). */
  succeeded: boolean;
  stage: 'refer' | 'notify' | 'timeout' | 'ended';
}

/** How a transfer ended; on failure the call stays as it was (put on hold by the phone, it stays on hold). */
export type TransferResult = { ok: true; status: number; reason: string } | { ok: false; status: number; reason: string; stage: TransferProgress['stage'] | 'state' | 'target' };

/** What the transfers need from the CallManager. */
export interface TransferHost {
  readonly clock: Clock;
  readonly logger: Logger;
  /** T1 of the transaction layer, ms. */
  t1Ms(): number;
  /** Places a call (the transferee's INVITE to the target). */
  call(target: Uri, options: CallRequestOptions): OutgoingSession;
}

/** Our REFER in flight. */
interface PendingRefer {
  session: Session;
  /** Attended: the consultation call, ended by the target (Replaces) once the transfer worked. */
  consultation: Session | undefined;
  /** The REFER's CSeq, once its response came. */
  seq: number | undefined;
  /** The 2xx said Refer-Sub: false: the REFER's answer is the result. */
  noSubscription: boolean;
  first: boolean;
  timer: TimerHandle | undefined;
  resolve: (r: TransferResult) => void;
  offEnded: () => void;
}

interface SessionTransfers {
  /** REFERs we sent in this session's dialog (the first one's NOTIFYs carry no Event id, RFC 3515 §2.4.6). */
  sent: number;
  /** REFERs received in it. */
  received: number;
  pending: PendingRefer | undefined;
}

/**
 * The transfers of the UA's calls. One per CallManager; attach() runs on every session and
 * takes its REFER (transfer-receiver.ts) and NOTIFY requests.
 *
 * Transferor (blind() for session.transfer(), attended() for session.transferTo()): REFER in
 * the call's dialog with Refer-To, Referred-By (our AOR, RFC 3892) and, attended, the Replaces
 * of the consultation dialog (RFC 3891 §7.1; the Refer-To URI is the consultation's remote
 * target, RFC 5589 §7). The REFER's answer and each NOTIFY (RFC 3515 §2.4.5) are
 * 'transfer-progress' events. A 2xx sipfrag: the call ends with BYE as transferred; attended,
 * the consultation call ends by the target's BYE (RFC 3891 §3), or ours after 64*T1, as
 * transferred too. A REFER refused (4xx-6xx, timeout), a failure sipfrag, a subscription ended
 * without a result, or no result within resultTimeoutMs: the transfer failed and the call stays
 * (hold and resume are the phone's: it holds before transferring).
 */
export class Transfers {
  private readonly host: TransferHost;
  private readonly settings: TransferSettings;
  private readonly log: Logger;
  private readonly bySession = new WeakMap<Session, SessionTransfers>();

  constructor(host: TransferHost, settings: TransferSettings = {}) {
    this.host = host;
    this.settings = settings;
    this.log = host.logger.child({ mod: 'sip/transfer' });
  }

  /** Takes REFER and NOTIFY in a new session's dialog. */
  attach(session: Session): void {
    session.handleRequests('REFER', (tx) => receiveRefer(tx, session, { host: this.host, policy: this.settings.refer ?? 'follow', log: this.log, nth: this.state(session).received++ }));
    session.handleRequests('NOTIFY', (tx) => this.receiveNotify(tx, session));
  }

  /** Blind transfer: the peer is asked to call target. */
  blind(session: Session, target: Uri, options: TransferOptions = {}): Promise<TransferResult> {
    return this.refer(session, target, undefined, undefined, options);
  }

  /** Attended transfer: the peer is asked to call the peer of `consultation`, replacing our dialog with it. */
  attended(session: Session, consultation: Session, options: TransferOptions = {}): Promise<TransferResult> {
    const dialog = consultation.dialog;
    if (consultation === session || consultation.state !== SessionState.Confirmed || !dialog) {
      return Promise.resolve({ ok: false, status: 0, reason: 'the consultation call is not up', stage: 'state' });
    }
    return this.refer(session, dialog.remoteTarget, replacesForDialog(dialog.id), consultation, options);
  }

  private state(session: Session): SessionTransfers {
    let s = this.bySession.get(session);
    if (!s) {
      s = { sent: 0, received: 0, pending: undefined };
      this.bySession.set(session, s);
    }
    return s;
  }

  private refer(session: Session, target: Uri, replaces: ReplacesValue | undefined, consultation: Session | undefined, options: TransferOptions): Promise<TransferResult> {
    const dialog = session.dialog;
    const st = this.state(session);
    if (session.state !== SessionState.Confirmed || !dialog) return Promise.resolve({ ok: false, status: 0, reason: 'the call is not up', stage: 'state' });
    if (st.pending) return Promise.resolve({ ok: false, status: 0, reason: 'a transfer of this call is under way', stage: 'state' });
    const account = session.account;
    const referredBy = account ? new NameAddr({ displayName: account.displayName, uri: account.aor }) : undefined;
    const headers = referHeaders({ target, replaces, referredBy, noSubscription: options.noSubscription === true });
    return new Promise<TransferResult>((resolve) => {
      const pending: PendingRefer = { session, consultation, seq: undefined, noSubscription: false, first: st.sent === 0, timer: undefined, resolve, offEnded: () => undefined };
      st.sent++;
      st.pending = pending;
      pending.offEnded = session.on('ended', () => this.finish(pending, { ok: false, status: 0, reason: 'the call ended', stage: 'ended' }));
      pending.timer = this.host.clock.setTimeout(() => this.finish(pending, { ok: false, status: 0, reason: 'no result from the transferee', stage: 'timeout' }), this.settings.resultTimeoutMs ?? 180_000);
      this.log.info({ callId: session.callId, target: target.toString(), attended: replaces !== undefined }, 'transferring');
      void session.sendRequest('REFER', { headers, contact: dialog.localContact ?? null }).then((r) => this.referAnswered(pending, r));
    });
  }

  private referAnswered(pending: PendingRefer, r: RequestOutcome): void {
    if (this.state(pending.session).pending !== pending) return;
    if (r.kind !== 'response') {
      const status = r.kind === 'timeout' ? 408 : 503;
      this.finish(pending, { ok: false, status, reason: r.kind === 'timeout' ? 'Request Timeout' : r.error.message, stage: 'refer' });
      return;
    }
    const res: SipResponse = r.response;
    if (res.status >= 300) {
      this.finish(pending, { ok: false, status: res.status, reason: res.reason, stage: 'refer' });
      return;
    }
    pending.seq = res.cseq.seq;
    // RFC 4488 §4: Refer-Sub: false in the 2xx: no NOTIFY will tell; the accepted REFER is all we learn.
    if (!referCreatedSubscription(res)) {
      pending.noSubscription = true;
      this.finish(pending, { ok: true, status: res.status, reason: res.reason });
      return;
    }
    // RFC 3891 §3: the target's BYE for the consultation call may come before the final NOTIFY.
    if (pending.consultation) pending.consultation.byeOutcome = outcome('transferred', 0, 'Transferred', 'attended transfer: replaced at the target');
    pending.session.announce('transfer-progress', { status: res.status, reason: res.reason, final: false, succeeded: false, stage: 'refer' });
  }

  /** A NOTIFY in a call's dialog: the progress of our REFER (RFC 3515 §2.4.5), else 481 (no such subscription, RFC 6665 §4.1.3). */
  private receiveNotify(tx: AnyServerTransaction, session: Session): void {
    const pending = this.state(session).pending;
    const notify = tx.request;
    // While the REFER's answer is out (the NOTIFY may overtake the 202) any refer id is taken: one REFER is in flight.
    const ours = pending !== undefined && (pending.seq === undefined ? notify.event?.value.toLowerCase() === 'refer' : isNotifyForRefer(notify, pending.seq, pending.first));
    if (!pending || !ours) {
      tx.reply(481, { reason: 'Subscription Does Not Exist' });
      return;
    }
    const reading = readReferNotify(notify);
    if (!reading.ok) {
      tx.reply(reading.status, { reason: reading.reason, ...(reading.status === 489 ? { headers: [['Allow-Events', 'refer']] } : {}) });
      return;
    }
    tx.reply(200);
    const p = reading.progress;
    if (p.status === undefined || !p.final) {
      if (p.status !== undefined) session.announce('transfer-progress', { status: p.status, reason: p.reason ?? '', final: false, succeeded: false, stage: 'notify' });
      if (p.subscriptionTerminated) this.finish(pending, { ok: false, status: 0, reason: 'the transferee ended the subscription without a result', stage: 'notify' });
      return;
    }
    const reason = p.reason ?? '';
    this.finish(pending, p.succeeded ? { ok: true, status: p.status, reason } : { ok: false, status: p.status, reason, stage: 'notify' });
  }

  private finish(pending: PendingRefer, result: TransferResult): void {
    const st = this.state(pending.session);
    if (st.pending !== pending) return;
    st.pending = undefined;
    this.host.clock.clearTimeout(pending.timer);
    pending.offEnded();
    const session = pending.session;
    this.log.info({ callId: session.callId, ok: result.ok, status: result.status, reason: result.reason }, result.ok ? 'transfer done' : 'transfer failed');
    const stage = result.ok ? (pending.noSubscription ? 'refer' : 'notify') : result.stage === 'state' || result.stage === 'target' ? 'ended' : result.stage;
    session.announce('transfer-progress', { status: result.status, reason: result.reason, final: true, succeeded: result.ok, stage });
    pending.resolve(result);
    if (!result.ok) {
      if (pending.consultation) pending.consultation.byeOutcome = undefined;
      return;
    }
    const done = outcome('transferred', result.status, result.reason, pending.consultation ? 'attended transfer' : 'blind transfer');
    session.endWith(done);
    const consultation = pending.consultation;
    if (consultation && consultation.state !== SessionState.Terminated) {
      // RFC 3891 §3: the target ends the replaced dialog with its BYE; ours only if that never comes.
      consultation.byeOutcome = done;
      const timer = this.host.clock.setTimeout(() => consultation.endWith(done), 64 * this.host.t1Ms());
      void consultation.ended.then(() => this.host.clock.clearTimeout(timer));
    }
  }
}
