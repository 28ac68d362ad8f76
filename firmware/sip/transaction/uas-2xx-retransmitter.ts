// The UAS core's 2xx retransmission until the ACK arrives (RFC 3261 §13.3.1.4), outside the INVITE server transaction (RFC 6026 §7.1).
import type { Clock, TimerHandle } from '../../util/clock.js';
import type { SipRequest, SipResponse } from '../message/message.js';
import type { TransactionTimerValues } from './timers.js';

/**
 * What identifies the ACK of a 2xx: it is a new transaction (new branch), so it is matched by
 * dialog and CSeq number — Call-ID, From tag, To tag (the one in the 2xx) and CSeq number.
 */
export function ackKey(callId: string, fromTag: string | undefined, toTag: string | undefined, cseq: number): string {
  return `${callId}\n${fromTag ?? ''}\n${toTag ?? ''}\n${cseq}`;
}

export function ackKeyOfResponse(response: SipResponse): string {
  return ackKey(response.callId, response.from.tag, response.to.tag, response.cseq.seq);
}

export function ackKeyOfAck(ack: SipRequest): string {
  return ackKey(ack.callId, ack.from.tag, ack.to.tag, ack.cseq.seq);
}

export interface SuccessRetransmitterInit {
  clock: Clock;
  timers: TransactionTimerValues;
  response: SipResponse;
  /** Whether to retransmit at all (the wait for the ACK runs either way). */
  retransmit: boolean;
  /** Passes one retransmission on (through the INVITE server transaction while it is Accepted). */
  send: (response: SipResponse) => void;
  /** 64*T1 passed without an ACK. */
  onGiveUp: () => void;
}

/**
 * RFC 3261 §13.3.1.4: the 2xx is retransmitted at T1, then at intervals doubling up to T2,
 * until the ACK arrives; after 64*T1 without one, the UAS gives up (and should end the session
 * with BYE, which the TU decides).
 */
export class SuccessRetransmitter {
  readonly key: string;
  private readonly init: SuccessRetransmitterInit;
  private intervalMs: number;
  private retransmitTimer: TimerHandle | undefined;
  private giveUpTimer: TimerHandle | undefined;
  private running = true;

  constructor(init: SuccessRetransmitterInit) {
    this.init = init;
    this.key = ackKeyOfResponse(init.response);
    this.intervalMs = init.timers.t1Ms;
    if (init.retransmit) this.retransmitTimer = init.clock.setTimeout(() => this.fire(), this.intervalMs);
    this.giveUpTimer = init.clock.setTimeout(() => this.giveUp(), 64 * init.timers.t1Ms);
  }

  get active(): boolean {
    return this.running;
  }

  /** The ACK arrived: stop. */
  stop(): void {
    this.running = false;
    this.init.clock.clearTimeout(this.retransmitTimer);
    this.init.clock.clearTimeout(this.giveUpTimer);
  }

  private fire(): void {
    if (!this.running) return;
    this.init.send(this.init.response);
    this.intervalMs = Math.min(2 * this.intervalMs, this.init.timers.t2Ms);
    this.retransmitTimer = this.init.clock.setTimeout(() => this.fire(), this.intervalMs);
  }

  private giveUp(): void {
    if (!this.running) return;
    this.stop();
    this.init.onGiveUp();
  }
}
