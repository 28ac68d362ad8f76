// A session's session timer (RFC 4028): the negotiation for every INVITE / re-INVITE / UPDATE sent or answered, and the running refresh / expiry timer.
import type { Clock } from '../../../util/clock.js';
import type { Logger } from '../../../util/log.js';
import type { SipRequest, SipResponse } from '../../message/index.js';
import { type Retry422Decision, type SessionTimerAgreement, type SessionTimerAnswer, type SessionTimerConfig, SessionTimer, SessionTimerNegotiation } from '../session-timer.js';

export interface SessionRefreshOptions {
  config: SessionTimerConfig;
  clock: Clock;
  log: Logger;
  /** We are the refresher and half the interval passed: send a refresh (our current offer again). */
  refresh: () => void;
  /** No refresh came in time: BYE (RFC 4028 §10). */
  expired: (intervalS: number) => void;
}

/**
 * One session's side of RFC 4028, on top of SessionTimerNegotiation and SessionTimer:
 *
 * - requests we send (the INVITE, re-INVITEs, UPDATEs) carry requestHeaders(): Session-Expires
 *   and Min-SE ("Supported: timer" is in the session's own Supported);
 * - a 422 to one of them: retry422() says whether to send it again with the larger interval;
 * - a 2xx to one of them: succeeded() restarts the timer with what the 2xx says (RFC 4028 §7.2);
 * - an INVITE / re-INVITE / UPDATE received: answer() gives the 422 or the 2xx's headers, and
 *   answered() restarts the timer once the 2xx went out (for the initial INVITE: once it is
 *   confirmed, start()).
 *
 * Every successful refresh restarts the timer, whoever sent it and whatever it changed.
 */
export class SessionRefresh {
  private readonly negotiation: SessionTimerNegotiation;
  private readonly timer: SessionTimer;
  private readonly log: Logger;
  /** The agreement of an initial INVITE we answered, started once the call is confirmed. */
  private pending: SessionTimerAgreement | undefined;
  private stopped = false;

  constructor(options: SessionRefreshOptions) {
    this.negotiation = new SessionTimerNegotiation(options.config);
    this.log = options.log;
    this.timer = new SessionTimer({
      clock: options.clock,
      refresh: () => {
        this.log.debug({ intervalS: this.timer.agreement?.intervalS }, 'session refresh due');
        options.refresh();
      },
      expired: () => {
        const intervalS = this.timer.agreement?.intervalS ?? 0;
        this.log.warn({ intervalS }, 'session expired: no refresh in time');
        options.expired(intervalS);
      },
    });
  }

  get enabled(): boolean {
    return this.negotiation.config.enabled;
  }

  /** The agreement in force while the timer runs. */
  get agreement(): SessionTimerAgreement | undefined {
    return this.timer.running ? this.timer.agreement : undefined;
  }

  /** When the session expires without a refresh (ms on the clock), while the timer runs. */
  get expiresAtMs(): number | undefined {
    return this.timer.expiresAtMs;
  }

  /** Session-Expires and Min-SE for a request we send (empty when disabled). */
  requestHeaders(): [string, string][] {
    return this.negotiation.requestHeaders({ supported: false });
  }

  /** A 422 to a request we sent (RFC 4028 §7.3): retry with the returned headers, or give up. */
  retry422(response: SipResponse): Retry422Decision {
    const d = this.negotiation.handle422(response);
    if (d.retry) return { retry: true, headers: d.headers.filter(([name]) => name.toLowerCase() !== 'supported') };
    return d;
  }

  /** A 2xx to an INVITE, re-INVITE or UPDATE we sent: (re)start the timer with its agreement. */
  succeeded(response: SipResponse): void {
    this.run(this.negotiation.handle2xx(response));
  }

  /** The UAS verdict on an INVITE, re-INVITE or UPDATE received (RFC 4028 §9). */
  answer(request: SipRequest): SessionTimerAnswer {
    return this.negotiation.answerRequest(request);
  }

  /** The 2xx to a re-INVITE or UPDATE received went out: restart with its agreement. */
  answered(agreement: SessionTimerAgreement | undefined): void {
    this.run(agreement);
  }

  /** The agreement of the initial INVITE we answer, started by start() once the call is confirmed. */
  answeredInitial(agreement: SessionTimerAgreement | undefined): void {
    this.pending = agreement;
  }

  /** The call is confirmed: the initial INVITE's agreement (incoming calls) starts now. */
  start(): void {
    const p = this.pending;
    this.pending = undefined;
    if (p) this.run(p);
  }

  /** The session ended. */
  stop(): void {
    this.stopped = true;
    this.timer.stop();
  }

  private run(agreement: SessionTimerAgreement | undefined): void {
    if (this.stopped) return;
    if (agreement) this.log.debug({ intervalS: agreement.intervalS, weRefresh: agreement.weRefresh }, 'session timer (re)started');
    this.timer.start(agreement);
  }
}
