// The non-INVITE client transaction (NICT): RFC 3261 §17.1.2 (REGISTER, BYE, OPTIONS, CANCEL...).
import type { SipResponse } from '../message/message.js';
import { ClientTransaction, type ClientTransactionInit } from './client-transaction.js';
import type { TransitionTable } from './state-machine.js';

/**
 * States of the non-INVITE client transaction (RFC 3261 Figure 6).
 *
 * ```text
 *                          │ request sent; Timer E (unreliable only), Timer F
 *                          ▼
 *   Timer E: resend,  ┌────────┐  Timer F or transport error: inform TU
 *   E = min(2E, T2) ┌►│ Trying ├───────────────────────────────────────────┐
 *                   └─┤        ├── 200-699: to TU, Timer K ──┐            │
 *                     └───┬────┘                             │            │
 *               1xx: to TU│                                  │            │
 *                         ▼                                  │            │
 *   Timer E: resend, ┌────────────┐                          │            │
 *   E = T2; 1xx: to  │ Proceeding ├── Timer F or transport error: inform TU ►┤
 *   TU          ┌───►│            │                          │            │
 *               └────┤            ├── 200-699: to TU, Timer K ►┐          │
 *                    └────────────┘                          ▼ ▼          │
 *                                      responses: ┌───────────┐           │
 *                                      absorbed ┌►│ Completed │           │
 *                                               └─┤           │           │
 *                                                 └─────┬─────┘           │
 *                                                       │ Timer K         │
 *                                                       ▼                 │
 *                                                ┌────────────┐           │
 *                                                │ Terminated │◄──────────┘
 *                                                └────────────┘
 * ```
 * Reliable transports: no Timer E, Timer K is zero. Every state may also go to Terminated when
 * the layer is disposed.
 */
export enum NonInviteClientState {
  Trying = 'Trying',
  Proceeding = 'Proceeding',
  Completed = 'Completed',
  Terminated = 'Terminated',
}

const S = NonInviteClientState;

const EDGES: TransitionTable<NonInviteClientState> = {
  [S.Trying]: [S.Trying, S.Proceeding, S.Completed, S.Terminated],
  [S.Proceeding]: [S.Proceeding, S.Completed, S.Terminated],
  [S.Completed]: [S.Completed, S.Terminated],
  [S.Terminated]: [],
};

export class NonInviteClientTransaction extends ClientTransaction<NonInviteClientState> {
  private timerEMs = 0;

  constructor(init: ClientTransactionInit) {
    super(init, 'non-INVITE client transaction', EDGES, NonInviteClientState.Trying);
  }

  start(): void {
    const t = this.env.timers;
    this.send(this.request, (e) => this.transportError(e));
    // RFC 3261 §17.1.2.2: Timer E only on unreliable transports; Timer F on all.
    if (!this.reliable) {
      this.timerEMs = t.t1Ms;
      this.timers.start('E', this.timerEMs, () => this.timerE());
    }
    this.timers.start('F', 64 * t.t1Ms, () => this.timerF());
  }

  receiveResponse(response: SipResponse): boolean {
    const state = this.state;
    if (state !== S.Trying && state !== S.Proceeding) {
      // RFC 3261 §17.1.2.2: Completed absorbs retransmitted final responses.
      if (state === S.Completed) this.machine.transition(S.Completed, `${response.status} retransmission`);
      return true;
    }
    if (response.status < 200) {
      this.machine.transition(S.Proceeding, `${response.status} response`);
      this.tell('onProvisional', () => this.user.onProvisional?.(response));
      return true;
    }
    this.timers.stop('E');
    this.timers.stop('F');
    this.machine.transition(S.Completed, `${response.status} response`);
    this.tell('onFinal', () => this.user.onFinal?.(response));
    // RFC 3261 §17.1.2.2: Timer K = T4 on unreliable transports, zero on reliable ones.
    if (this.reliable) this.terminate('Timer K (zero, reliable transport)');
    else this.timers.start('K', this.env.timers.t4Ms, () => this.terminate('Timer K'));
    return true;
  }

  dispose(): void {
    if (this.state === S.Terminated) return;
    this.terminate('layer disposed');
  }

  private timerE(): void {
    const t = this.env.timers;
    if (this.state === S.Trying) {
      // RFC 3261 §17.1.2.2: in Trying the interval doubles up to T2...
      this.machine.transition(S.Trying, 'Timer E');
      this.timerEMs = Math.min(2 * this.timerEMs, t.t2Ms);
    } else if (this.state === S.Proceeding) {
      // ...and once a provisional response has come, it is T2.
      this.machine.transition(S.Proceeding, 'Timer E');
      this.timerEMs = t.t2Ms;
    } else return;
    this.send(this.request, (e) => this.transportError(e));
    this.timers.start('E', this.timerEMs, () => this.timerE());
  }

  private timerF(): void {
    if (this.state !== S.Trying && this.state !== S.Proceeding) return;
    this.terminate('Timer F', () => this.tell('onTimeout', () => this.user.onTimeout?.()));
  }

  private transportError(error: Error): void {
    // RFC 3261 §17.1.4; a late failure of a retransmission after the final response changes nothing.
    if (this.state !== S.Trying && this.state !== S.Proceeding) return;
    this.terminate('transport error', () => this.tell('onTransportError', () => this.user.onTransportError?.(error)));
  }

  private terminate(event: string, why?: () => void): void {
    this.machine.transition(S.Terminated, event);
    this.finish(why);
  }
}
