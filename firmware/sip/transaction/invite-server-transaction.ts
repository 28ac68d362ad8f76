// The INVITE server transaction (IST): RFC 3261 §17.2.1 with the Accepted state and Timer L of RFC 6026 §7.1.
import { createResponse } from '../message/build.js';
import type { SipRequest, SipResponse } from '../message/message.js';
import { transmit } from './environment.js';
import { ServerTransaction, type ServerTransactionInit } from './server-transaction.js';
import type { TransitionTable } from './state-machine.js';

/**
 * States of the INVITE server transaction (RFC 3261 Figure 7, RFC 6026 Figure 5).
 *
 * ```text
 *                         │ INVITE: to TU; 100 Trying if the TU has not answered in 200 ms
 *                         ▼
 *  INVITE: resend  ┌────────────┐  transport error: inform TU
 *  last 1xx;  ┌───►│ Proceeding ├──────────────────────────────────────────────┐
 *  1xx from   └────┤            ├──── 2xx from TU: send, Timer L ──┐         │
 *  TU: send        └─────┬──────┘                                  ▼         │
 *                        │ 300-699 from TU: send,           ┌──────────┐     │
 *                        │ Timer G (unreliable), Timer H    │ Accepted │◄─┐  │
 *                        ▼                                  └────┬─────┘  │  │
 *  INVITE: resend, ┌───────────┐  Timer H: inform TU;  2xx from TU: send; │  │
 *  Timer G: resend ┤ Completed ├─ transport error   ┐   INVITE: absorb;  ─┘  │
 *  G = min(2G, T2) └─────┬─────┘                    │   ACK: to TU           │
 *                        │ ACK: Timer I             │        │ Timer L       │
 *                        ▼                          │        ▼               │
 *   ACK, INVITE:   ┌───────────┐   Timer I     ┌────────────┐                │
 *   absorb    ┌───►│ Confirmed ├──────────────►│ Terminated │◄───────────────┘
 *             └────┤           │               └────────────┘
 *                  └───────────┘
 * ```
 * Reliable transports: no Timer G, Timer I is zero. RFC 6026 §7.1: in Accepted the transaction
 * does not retransmit the 2xx itself (the UAS core does, RFC 3261 §13.3.1.4, and passes each
 * retransmission through here), absorbs INVITE retransmissions, and passes an ACK it matches
 * to the TU instead of absorbing it. Every state may also go to Terminated when the layer is
 * disposed.
 */
export enum InviteServerState {
  Proceeding = 'Proceeding',
  Completed = 'Completed',
  Confirmed = 'Confirmed',
  Accepted = 'Accepted',
  Terminated = 'Terminated',
}

const S = InviteServerState;

const EDGES: TransitionTable<InviteServerState> = {
  [S.Proceeding]: [S.Proceeding, S.Completed, S.Accepted, S.Terminated],
  [S.Completed]: [S.Completed, S.Confirmed, S.Terminated],
  [S.Confirmed]: [S.Confirmed, S.Terminated],
  [S.Accepted]: [S.Accepted, S.Terminated],
  [S.Terminated]: [],
};

export interface InviteServerTransactionInit extends ServerTransactionInit {
  /** RFC 3261 §17.2.1: send 100 Trying when the TU has not answered in this time (0: at once). */
  tryingDelayMs: number;
  /** The first 2xx was sent: the UAS core starts its retransmissions (RFC 3261 §13.3.1.4). */
  onAccepted: (response: SipResponse) => void;
}

export class InviteServerTransaction extends ServerTransaction<InviteServerState> {
  private readonly onAccepted: (response: SipResponse) => void;
  private readonly tryingDelayMs: number;
  private timerGMs = 0;

  constructor(init: InviteServerTransactionInit) {
    super(init, 'INVITE server transaction', EDGES, InviteServerState.Proceeding);
    this.onAccepted = init.onAccepted;
    this.tryingDelayMs = init.tryingDelayMs;
  }

  /** Called by the layer before the request goes to the TU. */
  start(): void {
    // RFC 3261 §17.2.1: a 100 quenches the client's retransmissions unless the TU answers within 200 ms.
    if (this.tryingDelayMs <= 0) this.sendTrying();
    else this.timers.start('Trying', this.tryingDelayMs, () => this.sendTrying());
  }

  respond(response: SipResponse): void {
    const status = response.status;
    if (status < 100 || status > 699) throw new RangeError(`not a response status: ${status}`);
    this.timers.stop('Trying');
    if (status < 200) {
      this.machine.transition(S.Proceeding, `${status} from TU`);
      this.remember(response);
      this.send(response, (e) => this.transportError(e));
      return;
    }
    if (status < 300) {
      const first = this.state === S.Proceeding;
      this.machine.transition(S.Accepted, `${status} from TU`);
      this.remember(response);
      this.send(response, (e) => this.transportError(e));
      if (first) {
        // RFC 6026 §7.1: Timer L bounds the wait for retransmissions of the INVITE and for the ACK.
        this.timers.start('L', 64 * this.env.timers.t1Ms, () => this.terminate('Timer L'));
        this.onAccepted(response);
      }
      return;
    }
    this.machine.transition(S.Completed, `${status} from TU`);
    this.remember(response);
    this.send(response, (e) => this.transportError(e));
    // RFC 3261 §17.2.1: Timer G retransmits on unreliable transports; Timer H waits for the ACK.
    if (!this.reliable) {
      this.timerGMs = this.env.timers.t1Ms;
      this.timers.start('G', this.timerGMs, () => this.timerG());
    }
    this.timers.start('H', 64 * this.env.timers.t1Ms, () => this.timerH());
  }

  receiveRetransmission(): void {
    switch (this.state) {
      case S.Proceeding: {
        // RFC 3261 §17.2.1: the most recent provisional response goes out again (a 100 if the TU sent none yet).
        this.machine.transition(S.Proceeding, 'INVITE retransmission');
        const last = this.lastResponse;
        if (last) this.send(last, (e) => this.transportError(e));
        else this.sendTrying();
        return;
      }
      case S.Completed: {
        this.machine.transition(S.Completed, 'INVITE retransmission');
        const last = this.lastResponse;
        if (last) this.send(last, (e) => this.transportError(e));
        return;
      }
      default:
        // Confirmed and Accepted absorb it (RFC 3261 §17.2.1, RFC 6026 §7.1).
        return;
    }
  }

  /**
   * An ACK that matched this transaction (RFC 3261 §17.2.3). Returns true when the transaction
   * absorbed it (ACK for a 300-699), false when it belongs to the TU (RFC 6026 §7.1: Accepted).
   */
  receiveAck(_ack: SipRequest): boolean {
    switch (this.state) {
      case S.Completed:
        // RFC 3261 §17.2.1: stop G and H; Timer I absorbs ACK retransmissions (zero on reliable transports).
        this.timers.stop('G');
        this.timers.stop('H');
        this.machine.transition(S.Confirmed, 'ACK');
        if (this.reliable) this.terminate('Timer I (zero, reliable transport)');
        else this.timers.start('I', this.env.timers.t4Ms, () => this.terminate('Timer I'));
        return true;
      case S.Confirmed:
        this.machine.transition(S.Confirmed, 'ACK retransmission');
        return true;
      case S.Accepted:
        return false;
      default:
        // An ACK before any final response answers nothing; drop it.
        return true;
    }
  }

  /**
   * A CANCEL for this INVITE (RFC 3261 §9.2). Emits 'cancel' while no final response was sent
   * and returns whether it did; the TU then answers the INVITE with 487.
   */
  receiveCancel(cancel: SipRequest): boolean {
    if (this.state !== S.Proceeding) return false;
    this.events.emit('cancel', cancel);
    return true;
  }

  /** Whether anybody listens for 'cancel' (when nobody does, the layer answers 487 itself). */
  get hasCancelListener(): boolean {
    return this.events.listenerCount('cancel') > 0;
  }

  /**
   * A 2xx retransmission from the UAS core (RFC 3261 §13.3.1.4). While Accepted it passes
   * through the transaction (RFC 6026 §7.1); after Timer L it goes straight to the transport.
   */
  retransmit2xx(response: SipResponse): void {
    if (this.state === S.Accepted) this.machine.transition(S.Accepted, '2xx retransmission');
    transmit(this.env, response, this.responseTarget, (e) => this.events.emit('transport-error', e));
  }

  /** @internal The layer reports the end of the 2xx retransmissions. */
  reportAck(ack: SipRequest): void {
    this.events.emit('ack', ack);
  }

  /** @internal */
  reportNoAck(): void {
    this.events.emit('no-ack');
  }

  dispose(): void {
    if (this.state !== S.Terminated) this.terminate('layer disposed');
  }

  private sendTrying(): void {
    if (this.state !== S.Proceeding || this.lastResponse) return;
    // RFC 3261 §17.2.1: built per §8.2.6, without a To tag.
    const trying = createResponse(this.request, { status: 100 });
    this.remember(trying);
    this.send(trying, (e) => this.transportError(e));
  }

  private timerG(): void {
    if (this.state !== S.Completed) return;
    this.machine.transition(S.Completed, 'Timer G');
    const last = this.lastResponse;
    if (last) this.send(last, (e) => this.transportError(e));
    this.timerGMs = Math.min(2 * this.timerGMs, this.env.timers.t2Ms);
    this.timers.start('G', this.timerGMs, () => this.timerG());
  }

  private timerH(): void {
    if (this.state !== S.Completed) return;
    this.terminate('Timer H', () => this.events.emit('timeout'));
  }

  private transportError(error: Error): void {
    const state = this.state;
    if (state === S.Proceeding || state === S.Completed) this.terminate('transport error', () => this.events.emit('transport-error', error));
    else if (state === S.Accepted) this.events.emit('transport-error', error);
  }

  private terminate(event: string, why?: () => void): void {
    this.machine.transition(S.Terminated, event);
    this.finish(why);
  }
}
