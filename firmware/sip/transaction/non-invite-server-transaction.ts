// The non-INVITE server transaction (NIST): RFC 3261 §17.2.2.
import type { SipResponse } from '../message/message.js';
import { ServerTransaction, type ServerTransactionInit } from './server-transaction.js';
import type { TransitionTable } from './state-machine.js';

/**
 * States of the non-INVITE server transaction (RFC 3261 Figure 8).
 *
 * ```text
 *                        │ request: to TU
 *                        ▼
 *  request:       ┌────────┐
 *  absorb    ┌───►│ Trying ├───── 200-699 from TU: send, Timer J ─────┐
 *            └────┤        │                                          │
 *                 └───┬────┘                                          │
 *   1xx from TU: send │                                               │
 *                     ▼                                               ▼
 *  1xx from TU,  ┌────────────┐ 200-699 from TU: send, Timer J  ┌───────────┐  request:
 *  request:  ┌──►│ Proceeding ├────────────────────────────────►│ Completed │◄─┐ resend
 *  resend    └───┤            │                                 │           ├──┘ final
 *  last 1xx      └─────┬──────┘                                 └─────┬─────┘
 *                      │ transport error: inform TU                  │ Timer J, transport
 *                      ▼                                             ▼ error: inform TU
 *                ┌────────────┐◄───────────────────────────────────────┘
 *                │ Terminated │
 *                └────────────┘
 * ```
 * Reliable transports: Timer J is zero. Every state may also go to Terminated when the layer is disposed.
 */
export enum NonInviteServerState {
  Trying = 'Trying',
  Proceeding = 'Proceeding',
  Completed = 'Completed',
  Terminated = 'Terminated',
}

const S = NonInviteServerState;

const EDGES: TransitionTable<NonInviteServerState> = {
  [S.Trying]: [S.Trying, S.Proceeding, S.Completed, S.Terminated],
  [S.Proceeding]: [S.Proceeding, S.Completed, S.Terminated],
  [S.Completed]: [S.Completed, S.Terminated],
  [S.Terminated]: [],
};

export class NonInviteServerTransaction extends ServerTransaction<NonInviteServerState> {
  constructor(init: ServerTransactionInit) {
    super(init, 'non-INVITE server transaction', EDGES, NonInviteServerState.Trying);
  }

  respond(response: SipResponse): void {
    const status = response.status;
    if (status < 100 || status > 699) throw new RangeError(`not a response status: ${status}`);
    if (status < 200) {
      this.machine.transition(S.Proceeding, `${status} from TU`);
      this.remember(response);
      this.send(response, (e) => this.transportError(e));
      return;
    }
    this.machine.transition(S.Completed, `${status} from TU`);
    this.remember(response);
    this.send(response, (e) => this.transportError(e));
    // RFC 3261 §17.2.2: Timer J absorbs request retransmissions: 64*T1 on unreliable transports, zero on reliable ones.
    if (this.reliable) this.terminate('Timer J (zero, reliable transport)');
    else this.timers.start('J', 64 * this.env.timers.t1Ms, () => this.terminate('Timer J'));
  }

  receiveRetransmission(): void {
    const last = this.lastResponse;
    switch (this.state) {
      case S.Trying:
        // RFC 3261 §17.2.2: absorbed; nothing was sent yet.
        this.machine.transition(S.Trying, 'request retransmission');
        return;
      case S.Proceeding:
      case S.Completed:
        this.machine.transition(this.state, 'request retransmission');
        if (last) this.send(last, (e) => this.transportError(e));
        return;
      default:
        return;
    }
  }

  dispose(): void {
    if (this.state !== S.Terminated) this.terminate('layer disposed');
  }

  private transportError(error: Error): void {
    // RFC 3261 §17.2.4. On a reliable transport a final response terminates the transaction at
    // once (Timer J is zero), so its failure arrives afterwards: the TU still hears of it.
    if (this.state === S.Terminated) {
      this.events.emit('transport-error', error);
      return;
    }
    if (this.state !== S.Proceeding && this.state !== S.Completed) return;
    this.terminate('transport error', () => this.events.emit('transport-error', error));
  }

  private terminate(event: string, why?: () => void): void {
    this.machine.transition(S.Terminated, event);
    this.finish(why);
  }
}
