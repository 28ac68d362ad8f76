// A hand-driven CallService for the phone's tests: the test plays the network and the far end (ringing, answering, busy, hanging up, calling in).
import type { RtpStreamStats } from '../../../firmware/media/media-engine.js';
import {
  CallServiceError,
  type CallService,
  type CallServiceEvents,
  type CallSession,
  type CallSessionEvents,
  type CallSessionState,
  type IncomingCall,
  type LineView,
  type VoicemailSummary,
} from '../../../firmware/phone/call-service.js';
import { outcome, outcomeOfStatus, type SessionOutcome, type SessionOutcomeKind } from '../../../firmware/sip/ua/call/session-outcome.js';
import type { LineStatus } from '../../../firmware/sip/ua/index.js';
import { Emitter, type Unsubscribe } from '../../../firmware/util/emitter.js';

let nextId = 1;

/** One call; the test side drives it with ringing(), answered(), fail(), remoteHangup(). */
export class FakeCall implements CallSession, Omit<IncomingCall, 'direction'> {
  readonly id = `call-${nextId++}`;
  state: CallSessionState;
  readonly dtmf: string[] = [];
  readonly actions: string[] = [];
  /** What hold / resume / transfer answer (true: the peer agreed). */
  agree = true;
  statsValue: Partial<RtpStreamStats> | undefined;
  /** The INVITE's headers (incoming calls), by name. */
  headers: Record<string, string[]> = {};
  /** What redirect() answers (false: the 3xx could not be sent). */
  redirectable = true;
  private readonly events = new Emitter<CallSessionEvents>();

  constructor(
    readonly direction: 'incoming' | 'outgoing',
    readonly remote: { displayName: string | undefined; number: string },
  ) {
    this.state = direction === 'outgoing' ? 'calling' : 'early';
  }

  on<K extends keyof CallSessionEvents>(event: K, listener: (...args: CallSessionEvents[K]) => void): Unsubscribe {
    return this.events.on(event, listener);
  }

  // --- what the phone calls ---
  hangup(): void {
    this.actions.push('hangup');
    if (this.state === 'terminated') return;
    const kind: SessionOutcomeKind = this.state === 'confirmed' ? 'local-hangup' : 'cancelled';
    this.end(this.direction === 'incoming' && this.state !== 'confirmed' ? outcomeOfStatus(603, 'Decline') : outcome(kind, kind === 'cancelled' ? 487 : 0, kind === 'cancelled' ? 'Request Terminated' : 'hung up'));
  }
  sendDtmf(digits: string): boolean {
    if (this.state !== 'confirmed') return false;
    this.dtmf.push(digits);
    return true;
  }
  hold(): Promise<boolean> {
    this.actions.push('hold');
    return Promise.resolve(this.agree);
  }
  resume(): Promise<boolean> {
    this.actions.push('resume');
    return Promise.resolve(this.agree);
  }
  transfer(target: string): Promise<boolean> {
    this.actions.push(`transfer ${target}`);
    return Promise.resolve(this.agree);
  }
  stats(): RtpStreamStats | undefined {
    return this.statsValue as RtpStreamStats | undefined;
  }
  accept(): Promise<void> {
    this.actions.push('accept');
    // The ACK comes at once in this fake.
    this.answered();
    return Promise.resolve();
  }
  redirect(target: string): boolean {
    this.actions.push(`redirect ${target}`);
    if (!this.redirectable || this.state !== 'early') return false;
    this.end(outcome('redirected', 302, 'Moved Temporarily', target));
    return true;
  }
  header(name: string): readonly string[] {
    return this.headers[name] ?? [];
  }
  reject(status: 480 | 486 | 603 = 603): void {
    this.actions.push(`reject ${status}`);
    this.end(outcomeOfStatus(status, status === 486 ? 'Busy Here' : 'Decline', 'refused here'));
  }

  // --- what the test does as the far end ---
  ringing(earlyMedia = false): void {
    this.state = 'early';
    this.events.emit('progress', { status: earlyMedia ? 183 : 180, earlyMedia });
  }
  answered(): void {
    this.state = 'confirmed';
    this.events.emit('accepted');
  }
  fail(status: number, reason: string): void {
    this.end(outcomeOfStatus(status, reason));
  }
  remoteHangup(): void {
    this.end(outcome('remote-hangup', 0, 'BYE'));
  }
  callerCancels(): void {
    this.end(outcome('cancelled', 487, 'Request Terminated'));
  }
  end(o: SessionOutcome): void {
    if (this.state === 'terminated') return;
    this.state = 'terminated';
    this.events.emit('ended', o);
  }
}

export class FakeCallService implements CallService {
  readonly placed: FakeCall[] = [];
  readonly incoming: FakeCall[] = [];
  readonly dnd: boolean[] = [];
  conferenced: string[][] = [];
  lineValue: LineView | undefined = { aor: 'sip:1001@pbx.test', line: { state: 'registered', expiresAtMs: 3_600_000 } };
  voicemailValue: VoicemailSummary | undefined;
  /** Whether incoming calls can be redirected (false: redirect() answers false). */
  redirectable = true;
  /** The next call() throws this (a target the UA refuses). */
  refuse: string | undefined;
  private readonly events = new Emitter<CallServiceEvents>();

  on<K extends keyof CallServiceEvents>(event: K, listener: (...args: CallServiceEvents[K]) => void): Unsubscribe {
    return this.events.on(event, listener);
  }
  call(target: string): CallSession {
    if (this.refuse !== undefined) throw new CallServiceError(this.refuse);
    const c = new FakeCall('outgoing', { displayName: undefined, number: target });
    this.placed.push(c);
    return c;
  }
  line(): LineView | undefined {
    return this.lineValue;
  }
  voicemail(): VoicemailSummary | undefined {
    return this.voicemailValue;
  }
  setDoNotDisturb(on: boolean): void {
    this.dnd.push(on);
  }
  conference(calls: readonly CallSession[]): boolean {
    this.conferenced.push(calls.map((c) => c.id));
    return true;
  }
  /** How many times the conference was split. */
  splits = 0;
  splitConference(): void {
    this.splits++;
  }

  // --- test side ---
  /** A call comes in (after the UA's checks: it rings). */
  ring(number: string, displayName?: string, headers: Record<string, string[]> = {}): FakeCall {
    const c = new FakeCall('incoming', { displayName, number });
    c.headers = headers;
    c.redirectable = this.redirectable;
    this.incoming.push(c);
    // Built as 'incoming': it is an IncomingCall.
    this.events.emit('incoming', c as IncomingCall & FakeCall);
    return c;
  }
  setLine(line: LineStatus): void {
    this.lineValue = { aor: 'sip:1001@pbx.test', line };
    this.events.emit('registration');
  }
  setVoicemail(v: VoicemailSummary): void {
    this.voicemailValue = v;
    this.events.emit('voicemail', v);
  }
  /** The last call placed, or a failed test. */
  get last(): FakeCall {
    const c = this.placed[this.placed.length - 1];
    if (!c) throw new Error('no call was placed');
    return c;
  }
}
