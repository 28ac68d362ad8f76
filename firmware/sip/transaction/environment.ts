// What a transaction needs from the layer that owns it: clock, timer values, transport, log.
import type { Clock } from '../../util/clock.js';
import type { Logger } from '../../util/log.js';
import type { SipMessage } from '../message/message.js';
import type { SendResult, SendTarget } from '../transport/transport.js';
import type { TransactionTimerValues } from './timers.js';

export interface TransactionEnvironment {
  readonly clock: Clock;
  readonly timers: TransactionTimerValues;
  readonly log: Logger;
  /** Passes a message to the transport layer (RFC 3261 §18); resolves, never rejects. */
  send(message: SipMessage, target: SendTarget): Promise<SendResult>;
}

/** Calls a TU callback so that a throwing TU cannot break the state machine that called it. */
export function callTu(log: Logger, what: string, fn: () => void): void {
  try {
    fn();
  } catch (e) {
    log.error({ err: e instanceof Error ? e.message : String(e) }, `transaction user threw in ${what}`);
  }
}

/** Sends and reports a failed send (resolved { ok: false } or, against the contract, a rejection). */
export function transmit(env: TransactionEnvironment, message: SipMessage, target: SendTarget, onError: (error: Error) => void): void {
  void env.send(message, target).then(
    (r) => {
      if (!r.ok) onError(r.error);
    },
    (e: unknown) => onError(e instanceof Error ? e : new Error(String(e))),
  );
}
