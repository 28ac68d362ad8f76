// One call as the phone keeps it: the session, who it is with (phonebook name), when it started and was answered, hold, its last call-quality sample, and its call-history record.
import type { RtpStreamStats } from '../media/media-engine.js';
import type { SessionOutcome } from '../sip/ua/index.js';
import type { Unsubscribe } from '../util/emitter.js';
import type { CallOutcome, CallRecord } from './call-history.js';
import type { CallSession, CallSessionEvents, IncomingCall } from './call-service.js';

export class PhoneCall {
  readonly direction: 'incoming' | 'outgoing';
  /** The number as dialed (outgoing) or as the caller presented it (incoming). */
  readonly number: string;
  /** The phonebook's name for the number, else the caller-ID display name. */
  readonly name: string | undefined;
  /** Wall-clock start (the call log's startedAt). */
  readonly startedAt: number;
  /** Clock time of the answer, once the call was up. */
  connectedAtMs: number | undefined;
  /** Clock time it ended. */
  endedAtMs: number | undefined;
  /** The far end rings (180 / 183). */
  alerting = false;
  /** A 183 brought early media: its audio plays instead of our ringback tone. */
  earlyMedia = false;
  /** We put it on hold. */
  held = false;
  /** Part of a 3-way conference. */
  conference = false;
  /** An incoming call the person turned down (logged as received, not missed). */
  rejectedByUser = false;
  /** A held call ringing back after the handset went down. */
  recall = false;
  /** Call forwarding (busy, no answer) sent it here with a 302. */
  forwardedTo: string | undefined;
  outcome: SessionOutcome | undefined;
  /** The latest statistics sample (kept after the stream closed, for the after-call screen). */
  stats: RtpStreamStats | undefined;
  private readonly unsubscribe: Unsubscribe[] = [];

  constructor(
    readonly session: CallSession,
    o: { number?: string | undefined; name: string | undefined; startedAt: number },
  ) {
    this.direction = session.direction;
    this.number = o.number ?? session.remote.number;
    this.name = o.name;
    this.startedAt = o.startedAt;
  }

  /** The session as an incoming call, when it is one. */
  get incoming(): IncomingCall | undefined {
    const s = this.session as Partial<IncomingCall>;
    return this.direction === 'incoming' && typeof s.accept === 'function' ? (this.session as IncomingCall) : undefined;
  }

  get connected(): boolean {
    return this.connectedAtMs !== undefined && this.outcome === undefined;
  }

  /** What the screen shows first: the name, else the number. */
  get label(): string {
    return this.name ?? this.number;
  }

  on<K extends keyof CallSessionEvents>(event: K, listener: (...args: CallSessionEvents[K]) => void): void {
    this.unsubscribe.push(this.session.on(event, listener));
  }

  /** Takes a statistics sample now (once a second while up, so a sample survives the stream). */
  sample(): RtpStreamStats | undefined {
    const s = this.session.stats?.();
    if (s) this.stats = s;
    return this.stats;
  }

  /** Talk time so far, or of the whole call once it ended. */
  talkMs(nowMs: number): number {
    return this.connectedAtMs === undefined ? 0 : (this.endedAtMs ?? nowMs) - this.connectedAtMs;
  }

  /** The call log's record of the finished call. */
  record(): CallRecord {
    const kind = this.outcome?.kind;
    let outcome: CallOutcome;
    if (this.connectedAtMs !== undefined) outcome = 'answered';
    else if (this.direction === 'incoming') outcome = this.forwardedTo !== undefined && kind === 'redirected' ? 'forwarded' : this.rejectedByUser ? 'rejected' : 'missed';
    else if (kind === 'busy') outcome = 'busy';
    else if (kind === 'cancelled' || kind === 'local-hangup') outcome = 'cancelled';
    else outcome = 'failed';
    const record: CallRecord = { direction: this.direction, number: this.number, startedAt: this.startedAt, outcome };
    if (this.name !== undefined) record.name = this.name;
    if (outcome === 'forwarded') record.forwardedTo = this.forwardedTo;
    if (this.connectedAtMs !== undefined && this.endedAtMs !== undefined) record.durationS = Math.round((this.endedAtMs - this.connectedAtMs) / 1000);
    return record;
  }

  dispose(): void {
    for (const u of this.unsubscribe.splice(0)) u();
  }
}
