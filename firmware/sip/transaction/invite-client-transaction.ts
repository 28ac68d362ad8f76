// The INVITE client transaction (ICT): RFC 3261 §17.1.1 with the Accepted state and Timer M of RFC 6026 §7.2.
import type { SipRequest, SipResponse } from '../message/message.js';
import { ClientTransaction, type ClientTransactionInit } from './client-transaction.js';
import { createNon2xxAck } from './non-2xx-ack.js';
import type { TransitionTable } from './state-machine.js';

/**
 * States of the INVITE client transaction (RFC 3261 Figure 5, RFC 6026 Figure 3).
 *
 * ```text
 *                        │ INVITE sent; Timer A (unreliable only), Timer B
 *                        ▼
 *   Timer A: resend, ┌─────────┐  Timer B or transport error: inform TU
 *   A = 2*A   ┌─────►│ Calling ├─────────────────────────────────────────────────┐
 *             └──────┤         ├───────────── 2xx: to TU, Timer M ───────┐       │
 *                    └──┬───┬──┘                                         │       │
 *           1xx: to TU  │   │ 300-699: ACK sent, to TU, Timer D          │       │
 *                       ▼   └──────────────────────────────┐             │       │
 *  1xx: to TU  ┌────────────┐ 300-699: ACK sent,           │             ▼       │
 *       ┌─────►│ Proceeding ├─ to TU, Timer D ──┐          │      ┌──────────┐   │
 *       └──────┤            ├─────────── 2xx: to TU, Timer M ────►│ Accepted │◄┐ │
 *              └────────────┘                   ▼          ▼      └────┬─────┘ │ │
 *                         300-699: resend ACK ┌───────────┐   2xx: to  │───────┘ │
 *                                     ┌──────►│ Completed │   TU       │ Timer M │
 *                                     └───────┤           │            │         │
 *                                             └─────┬─────┘            ▼         │
 *                                Timer D, transport │         ┌────────────┐     │
 *                                error: inform TU   └────────►│ Terminated │◄────┘
 *                                                             └────────────┘
 * ```
 * Reliable transports: no Timer A, Timer D is zero (Completed passes straight to Terminated).
 * Proceeding has no timer of its own (RFC 3261 §17.1.1.2: Timer B only matters in Calling); the
 * TU ends a call that rings forever with CANCEL. Every state may also go to Terminated when the
 * layer is disposed.
 */
export enum InviteClientState {
  Calling = 'Calling',
  Proceeding = 'Proceeding',
  Completed = 'Completed',
  Accepted = 'Accepted',
  Terminated = 'Terminated',
}

const S = InviteClientState;

const EDGES: TransitionTable<InviteClientState> = {
  [S.Calling]: [S.Calling, S.Proceeding, S.Completed, S.Accepted, S.Terminated],
  [S.Proceeding]: [S.Proceeding, S.Completed, S.Accepted, S.Terminated],
  [S.Completed]: [S.Completed, S.Terminated],
  [S.Accepted]: [S.Accepted, S.Terminated],
  [S.Terminated]: [],
};

export class InviteClientTransaction extends ClientTransaction<InviteClientState> {
  /** The ACK sent for a 300-699 response, kept to answer its retransmissions. */
  private ack: SipRequest | undefined;
  private timerAMs = 0;

  constructor(init: ClientTransactionInit) {
    super(init, 'INVITE client transaction', EDGES, InviteClientState.Calling);
  }

  start(): void {
    const t = this.env.timers;
    this.send(this.request, (e) => this.transportError(e));
    // RFC 3261 §17.1.1.2: Timer A only on unreliable transports; Timer B on all.
    if (!this.reliable) {
      this.timerAMs = t.t1Ms;
      this.timers.start('A', this.timerAMs, () => this.timerA());
    }
    this.timers.start('B', 64 * t.t1Ms, () => this.timerB());
  }

  receiveResponse(response: SipResponse): boolean {
    const status = response.status;
    const state = this.state;
    if (status < 200) {
      // RFC 3261 §17.1.1.2: 1xx in Calling or Proceeding go to the TU; retransmissions stop.
      if (state !== S.Calling && state !== S.Proceeding) return true;
      this.timers.stop('A');
      this.timers.stop('B');
      this.machine.transition(S.Proceeding, `${status} response`);
      this.tell('onProvisional', () => this.user.onProvisional?.(response));
      return true;
    }
    if (status < 300) {
      if (state === S.Calling || state === S.Proceeding) {
        // RFC 6026 §7.2: a 2xx moves to Accepted, where later 2xx (retransmissions, other
        // forks) still reach the TU until Timer M fires; the ACK is the TU's (RFC 3261 §13.2.2.4).
        this.timers.stop('A');
        this.timers.stop('B');
        this.machine.transition(S.Accepted, `${status} response`);
        this.timers.start('M', 64 * this.env.timers.t1Ms, () => this.timerM());
        this.tell('onFinal', () => this.user.onFinal?.(response));
        return true;
      }
      if (state === S.Accepted) {
        this.machine.transition(S.Accepted, `${status} response`);
        this.tell('onFinal', () => this.user.onFinal?.(response));
        return true;
      }
      // A 2xx in Completed (after a 300-699 from another fork) is not this transaction's any more.
      return false;
    }
    if (state === S.Calling || state === S.Proceeding) {
      // RFC 3261 §17.1.1.2: ACK, to the TU, Timer D (zero on reliable transports).
      this.timers.stop('A');
      this.timers.stop('B');
      this.machine.transition(S.Completed, `${status} response`);
      this.ack = createNon2xxAck(this.request, response);
      this.send(this.ack, (e) => this.transportError(e));
      this.tell('onFinal', () => this.user.onFinal?.(response));
      if (this.reliable) this.terminate('Timer D (zero, reliable transport)');
      else this.timers.start('D', this.env.timers.timerDMs, () => this.terminate('Timer D'));
    } else if (state === S.Completed && this.ack) {
      // RFC 3261 §17.1.1.2: a retransmitted final response is answered with the ACK again, not passed up.
      this.machine.transition(S.Completed, `${status} retransmission`);
      this.send(this.ack, (e) => this.transportError(e));
    }
    return true;
  }

  dispose(): void {
    if (this.state === S.Terminated) return;
    this.terminate('layer disposed');
  }

  private timerA(): void {
    if (this.state !== S.Calling) return;
    // RFC 3261 §17.1.1.2: resend, and double the interval (no T2 cap for INVITE requests).
    this.machine.transition(S.Calling, 'Timer A');
    this.send(this.request, (e) => this.transportError(e));
    this.timerAMs *= 2;
    this.timers.start('A', this.timerAMs, () => this.timerA());
  }

  private timerB(): void {
    if (this.state !== S.Calling) return;
    this.terminate('Timer B', () => this.tell('onTimeout', () => this.user.onTimeout?.()));
  }

  private timerM(): void {
    if (this.state === S.Accepted) this.terminate('Timer M');
  }

  private transportError(error: Error): void {
    // RFC 3261 §17.1.4: from Calling (the INVITE) or Completed (the ACK); a late failure of a
    // send made in another state changes nothing.
    if (this.state !== S.Calling && this.state !== S.Completed) return;
    this.terminate('transport error', () => this.tell('onTransportError', () => this.user.onTransportError?.(error)));
  }

  private terminate(event: string, why?: () => void): void {
    this.machine.transition(S.Terminated, event);
    this.finish(why);
  }
}
