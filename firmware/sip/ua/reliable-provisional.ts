// Reliable provisional responses (RFC 3262, 100rel / PRACK): RSeq numbering, retransmission and PRACK matching on the UAS side; classifying reliable 1xx and building PRACK on the UAC side.
import type { Clock, TimerHandle } from '../../util/clock.js';
import type { Dialog, InDialogRequestOptions } from '../dialog/dialog.js';
import type { SipRequest, SipResponse } from '../message/message.js';
import { type RandomSource, cryptoRandom } from '../transaction/identifiers.js';

/** The option tag of the extension (RFC 3262 §3), for Supported and Require. */
export const RELIABLE_PROVISIONAL_OPTION = '100rel';

/** RFC 3262 §3: the first RSeq is chosen at random in [1, 2^31 - 1]. */
const MAX_FIRST_RSEQ = 2 ** 31 - 1;

function hasTag(list: readonly string[], tag: string): boolean {
  return list.some((t) => t.toLowerCase() === tag);
}

export interface ReliableProvisionalPolicy {
  /**
   * When the INVITE only Supports 100rel (does not Require it), send 1xx reliably anyway.
   * Default false: a 180 without PRACK is one message where a reliable one is three or more,
   * and a phone's 1xx carry no offer (RFC 3262 §3 leaves it to the UAS).
   */
  reliableWhenSupported: boolean;
}

export const DEFAULT_RELIABLE_PROVISIONAL_POLICY: Readonly<ReliableProvisionalPolicy> = { reliableWhenSupported: false };

/**
 * Whether the 1xx (other than 100) to this INVITE go reliably (RFC 3262 §3): always when it has
 * Require: 100rel (we support the extension, so validateRequest let it in), by policy when it only
 * has Supported: 100rel, never otherwise.
 */
export function useReliableProvisionals(invite: SipRequest, policy: Partial<ReliableProvisionalPolicy> = {}): boolean {
  if (hasTag(invite.require, RELIABLE_PROVISIONAL_OPTION)) return true;
  const whenSupported = policy.reliableWhenSupported ?? DEFAULT_RELIABLE_PROVISIONAL_POLICY.reliableWhenSupported;
  return whenSupported && hasTag(invite.supported, RELIABLE_PROVISIONAL_OPTION);
}

/** A provisional response handed to ReliableProvisionalSender after its final response, or a status it cannot send. */
export class ReliableProvisionalError extends Error {
  override readonly name = 'ReliableProvisionalError';
}

// ---------------------------------------------------------------------------------------------
// UAS side

export interface ReliableProvisionalSenderOptions {
  clock: Clock;
  /** Picks the first RSeq (default: the OS CSPRNG). */
  random?: RandomSource;
  /** RFC 3261 T1 (default 500 ms): the first retransmission interval, doubled after each. */
  t1Ms?: number;
  /** Sends one response to the INVITE (through its server transaction): each transmission of a reliable 1xx, and a final response once allowed. */
  send: (response: SipResponse) => void;
  /**
   * A reliable 1xx went unacknowledged for 64*T1 (RFC 3262 §3): reject the INVITE with a 5xx
   * (504 fits). The sender has stopped: send that response directly, not through sendFinal().
   */
  timedOut: (response: SipResponse) => void;
}

interface Pending {
  readonly response: SipResponse;
  readonly rseq: number;
  readonly cseq: number;
  readonly method: string;
  /** Carries a session description (an offer or an answer): a 2xx must wait for its PRACK (RFC 3262 §3). */
  readonly hasBody: boolean;
}

/** How a PRACK was received (RFC 3262 §3): 200 and the 1xx it acknowledges, or the error to answer. */
export type PrackVerdict =
  | { readonly ok: true; readonly status: 200; /** The reliable 1xx it acknowledges (its body said whether an answer is due in the PRACK). */ readonly acknowledged: SipResponse }
  | { readonly ok: false; readonly status: 400 | 481; readonly reason: string };

/**
 * The reliable provisional responses to one INVITE we received (RFC 3262 §3). Each 1xx given to
 * sendProvisional() gets Require: 100rel and the next RSeq (the first at random, then +1), and is
 * sent and retransmitted at T1, 2T1, 4T1... until its PRACK comes, or given up after 64*T1
 * (timedOut). Only one is unacknowledged at a time: later ones wait in a queue, in order.
 *
 * The final response goes through sendFinal(). What we chose of what §3 allows: a non-2xx final
 * response, and a 2xx when no unacknowledged reliable 1xx (sent or queued) carries a session
 * description, go at once — retransmissions stop and queued 1xx are dropped. A 2xx while one
 * that carries a body is unacknowledged is held, and sent as soon as the last such PRACK arrives
 * (offer/answer must be complete before the 2xx, §3). A PRACK that matches a 1xx still
 * unacknowledged when the final response went is still answered 200.
 */
export class ReliableProvisionalSender {
  private readonly t1Ms: number;
  private nextRSeq: number;
  private outstanding: Pending | undefined;
  private readonly queue: Pending[] = [];
  private heldFinal: SipResponse | undefined;
  private finished = false;
  private retransmitTimer: TimerHandle | undefined;
  private giveUpTimer: TimerHandle | undefined;

  constructor(private readonly options: ReliableProvisionalSenderOptions) {
    this.t1Ms = options.t1Ms ?? 500;
    if (!Number.isFinite(this.t1Ms) || this.t1Ms <= 0) throw new RangeError(`t1Ms must be a positive number of ms, got ${this.t1Ms}`);
    const r = (options.random ?? cryptoRandom)();
    this.nextRSeq = Math.min(MAX_FIRST_RSEQ, 1 + Math.floor(r * MAX_FIRST_RSEQ));
  }

  /** The RSeq the next reliable 1xx will carry. */
  get nextRseq(): number {
    return this.nextRSeq;
  }

  /** A reliable 1xx was sent and its PRACK has not come. */
  get awaitingPrack(): boolean {
    return this.outstanding !== undefined;
  }

  /** Reliable 1xx waiting for the one in flight to be acknowledged. */
  get queued(): number {
    return this.queue.length;
  }

  /** A 2xx is held until the PRACKs it waits for arrive. */
  get finalHeld(): boolean {
    return this.heldFinal !== undefined;
  }

  /**
   * Sends a 101-199 response reliably (RFC 3262 §3): adds Require: 100rel and RSeq to it (the
   * response is changed in place) and sends it now, or after the PRACK of the one in flight.
   * Returns its RSeq. Throws ReliableProvisionalError for 100 or a final status, or after the
   * final response.
   */
  sendProvisional(response: SipResponse): number {
    if (response.status <= 100 || response.status >= 200) throw new ReliableProvisionalError(`a ${response.status} cannot be sent as a reliable provisional response (RFC 3262 §3)`);
    if (this.finished) throw new ReliableProvisionalError('the final response to the INVITE was sent: no more provisional responses');
    if (!hasTag(response.require, RELIABLE_PROVISIONAL_OPTION)) response.append('Require', RELIABLE_PROVISIONAL_OPTION);
    const rseq = this.nextRSeq++;
    response.set('RSeq', `${rseq}`);
    const cseq = response.cseq;
    this.queue.push({ response, rseq, cseq: cseq.seq, method: cseq.method, hasBody: response.body.length > 0 });
    this.pump();
    return rseq;
  }

  /** Answers a PRACK (RFC 3262 §3): 200 when its RAck matches the unacknowledged 1xx, 481 otherwise. */
  receivePrack(prack: SipRequest): PrackVerdict {
    const rack = prack.rack;
    if (!rack) return { ok: false, status: 400, reason: 'Bad Request - missing or malformed RAck' };
    const p = this.outstanding;
    if (!p || rack.rseq !== p.rseq || rack.cseq !== p.cseq || rack.method.toUpperCase() !== p.method.toUpperCase()) {
      return { ok: false, status: 481, reason: 'Call/Transaction Does Not Exist' };
    }
    this.outstanding = undefined;
    this.stopTimers();
    this.pump();
    return { ok: true, status: 200, acknowledged: p.response };
  }

  /**
   * Sends the final response to the INVITE, now or, for a 2xx that must wait for PRACKs, later
   * (see the class comment). Returns 'sent' or 'held'.
   */
  sendFinal(response: SipResponse): 'sent' | 'held' {
    if (response.status < 200) throw new ReliableProvisionalError(`sendFinal() takes a final response, not a ${response.status}`);
    if (this.finished) throw new ReliableProvisionalError('the final response to the INVITE was already sent');
    if (response.status < 300 && this.offerPending()) {
      this.heldFinal = response;
      return 'held';
    }
    this.finish(response);
    return 'sent';
  }

  /** Stops everything (the INVITE was cancelled, the session ended): no more transmissions, nothing held. */
  stop(): void {
    this.finished = true;
    this.stopTimers();
    this.queue.length = 0;
    this.heldFinal = undefined;
  }

  private offerPending(): boolean {
    return this.outstanding?.hasBody === true || this.queue.some((p) => p.hasBody);
  }

  private pump(): void {
    if (this.finished || this.outstanding) return;
    const held = this.heldFinal;
    if (held && !this.offerPending()) {
      this.finish(held);
      return;
    }
    const next = this.queue.shift();
    if (next) this.transmit(next);
  }

  private transmit(p: Pending): void {
    this.outstanding = p;
    const clock = this.options.clock;
    let interval = this.t1Ms;
    const retransmit = (): void => {
      this.options.send(p.response);
      this.retransmitTimer = clock.setTimeout(retransmit, interval);
      interval *= 2;
    };
    retransmit();
    this.giveUpTimer = clock.setTimeout(() => {
      this.stop();
      this.options.timedOut(p.response);
    }, 64 * this.t1Ms);
  }

  private finish(response: SipResponse): void {
    // The unacknowledged 1xx stays outstanding: its PRACK may still arrive and gets 200.
    this.stopTimers();
    this.queue.length = 0;
    this.heldFinal = undefined;
    this.finished = true;
    this.options.send(response);
  }

  private stopTimers(): void {
    this.options.clock.clearTimeout(this.retransmitTimer);
    this.options.clock.clearTimeout(this.giveUpTimer);
    this.retransmitTimer = undefined;
    this.giveUpTimer = undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// UAC side

/** A response is a reliable provisional response: 101-199 with Require: 100rel (RFC 3262 §4; RSeq is checked by ReliableProvisionalReceiver). */
export function isReliableProvisional(response: SipResponse): boolean {
  return response.status > 100 && response.status < 200 && hasTag(response.require, RELIABLE_PROVISIONAL_OPTION);
}

/** What to do with a 1xx received for our INVITE (RFC 3262 §4). */
export type ProvisionalClass =
  /** An ordinary 1xx: process it, no PRACK. */
  | { readonly kind: 'unreliable' }
  /** A new reliable 1xx in order: process it and send createPrack(). */
  | { readonly kind: 'reliable'; readonly rseq: number }
  /** RSeq already seen in this dialog: discard it (the PRACK's own transaction retransmits). */
  | { readonly kind: 'retransmission'; readonly rseq: number }
  /** RSeq beyond the next one: earlier ones were lost; discard it, no PRACK (the UAS retransmits). */
  | { readonly kind: 'out-of-order'; readonly rseq: number; readonly expected: number }
  /** Require: 100rel without a valid RSeq: cannot be acknowledged; discard it. */
  | { readonly kind: 'invalid'; readonly reason: string };

/**
 * The RSeq state of the reliable 1xx to one INVITE we sent (RFC 3262 §4), per early dialog (To
 * tag: a forked INVITE gets independent sequences). The first reliable 1xx of a dialog may carry
 * any RSeq; each next one must carry the last + 1. Keep it until the final response.
 */
export class ReliableProvisionalReceiver {
  private readonly last = new Map<string, number>();

  receive(response: SipResponse): ProvisionalClass {
    if (!isReliableProvisional(response)) return { kind: 'unreliable' };
    const rseq = response.rseq;
    if (rseq === undefined || rseq === 0) return { kind: 'invalid', reason: 'a reliable provisional response without a valid RSeq' };
    const key = response.to.tag ?? '';
    const last = this.last.get(key);
    if (last !== undefined) {
      if (rseq <= last) return { kind: 'retransmission', rseq };
      if (rseq !== last + 1) return { kind: 'out-of-order', rseq, expected: last + 1 };
    }
    this.last.set(key, rseq);
    return { kind: 'reliable', rseq };
  }

  /** The last RSeq accepted in the early dialog with this remote tag. */
  lastRseq(remoteTag: string): number | undefined {
    return this.last.get(remoteTag);
  }
}

/**
 * The PRACK for a reliable 1xx (RFC 3262 §7.2), in the early dialog the 1xx created (Dialog.uac()
 * from the INVITE and that 1xx): RAck = its RSeq, CSeq number and method. Options add headers and
 * a body (the answer, when the 1xx carried an offer).
 */
export function createPrack(dialog: Dialog, provisional: SipResponse, options: InDialogRequestOptions = {}): SipRequest {
  const rseq = provisional.rseq;
  if (rseq === undefined) throw new ReliableProvisionalError('the provisional response has no RSeq to acknowledge');
  const cseq = provisional.cseq;
  return dialog.createRequest('PRACK', { ...options, headers: [['RAck', `${rseq} ${cseq.seq} ${cseq.method}`], ...(options.headers ?? [])] });
}
