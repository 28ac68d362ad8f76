// DTMF by SIP INFO within a session (application/dtmf-relay): keys sent one INFO at a time, each after the previous one's 2xx; keys received reported as events.
import type { Logger } from '../../../util/log.js';
import type { AnyServerTransaction, RequestOutcome } from '../../transaction/index.js';
import { type DtmfDigit, answerDtmfInfo, dtmfDigitOf, dtmfInfoRequestOptions } from '../dtmf-info.js';
import type { SessionDtmfEvent } from './session-features.js';

export interface InfoDtmfOptions {
  log: Logger;
  /** Sends an INFO in the session's dialog (Session.sendRequest). */
  send: (options: { body: string; contentType: string }) => Promise<RequestOutcome>;
  /** The session is still up (Confirmed): keys still queued are dropped otherwise. */
  up: () => boolean;
  /** A key came in an INFO. */
  received: (event: SessionDtmfEvent) => void;
}

/**
 * INFO DTMF of one session. send() queues keys; one INFO per key goes out at a time, and the
 * next only after the previous one got its final response (a non-2xx drops the rest: the peer
 * does not take INFO DTMF, or the call is going away). Keys are checked up front: 0-9 * # A-D,
 * any case. receive() answers an INFO (200 for a DTMF body or none, 415 with Accept for another
 * body type, 400 for a DTMF body it cannot read: dtmf-info.ts) and reports its key.
 */
export class InfoDtmf {
  private readonly options: InfoDtmfOptions;
  private readonly queue: { digit: DtmfDigit; durationMs: number }[] = [];
  private sending = false;

  constructor(options: InfoDtmfOptions) {
    this.options = options;
  }

  /** Keys waiting to be sent, the one in flight included. */
  get pending(): number {
    return this.queue.length + (this.sending ? 1 : 0);
  }

  /** Queues the keys; false (nothing queued) when one of them is not a DTMF key. */
  send(digits: string, durationMs: number): boolean {
    const keys: DtmfDigit[] = [];
    for (const ch of digits) {
      const d = dtmfDigitOf(ch);
      if (d === undefined || d === 'flash') return false;
      keys.push(d);
    }
    const ms = Math.max(1, Math.min(60_000, Math.round(durationMs)));
    for (const digit of keys) this.queue.push({ digit, durationMs: ms });
    if (!this.sending) void this.pump();
    return true;
  }

  /** An INFO received in the session's dialog. */
  receive(tx: AnyServerTransaction): void {
    const r = answerDtmfInfo(tx);
    if (r.ok) this.options.received({ digit: r.event.digit, durationMs: r.event.durationMs, via: 'info' });
    else if (r.error.code !== 'empty') this.options.log.info({ reason: r.error.reason }, 'INFO without a usable DTMF key');
  }

  private async pump(): Promise<void> {
    this.sending = true;
    try {
      for (let next = this.queue.shift(); next !== undefined; next = this.queue.shift()) {
        if (!this.options.up()) break;
        const r = await this.options.send(dtmfInfoRequestOptions(next.digit, { durationMs: next.durationMs }));
        if (r.kind !== 'response' || r.response.status >= 300) {
          this.options.log.info({ digit: next.digit, result: r.kind === 'response' ? r.response.status : r.kind, dropped: this.queue.length }, 'DTMF INFO failed: the rest of the keys are dropped');
          break;
        }
      }
    } finally {
      this.queue.length = 0;
      this.sending = false;
    }
  }
}
