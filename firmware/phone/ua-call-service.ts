// The CallService over the SIP user agent: a thin adapter from UserAgent sessions, registration and MWI to what the phone uses.
import type { RtpStreamStats } from '../media/media-engine.js';
import type { MwiSummary } from '../sip/ua/mwi.js';
import type { IncomingSession, Session, SessionState, UserAgent } from '../sip/ua/index.js';
import { Emitter, type Unsubscribe } from '../util/emitter.js';
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
} from './call-service.js';

/** Where voicemail summaries come from: an MwiClient (firmware/sip/ua/mwi.ts) of the first account. */
export interface VoicemailSource {
  on(event: 'summary', listener: (summary: MwiSummary) => void): Unsubscribe;
}

export interface UaCallServiceOptions {
  ua: UserAgent;
  /**
   * The RTP statistics of a session's media. The session's handler is the SdpMediaHandler the
   * composition root configured, which the phone may not know: main.ts passes
   * `(s) => (s.handler instanceof SdpMediaHandler ? s.handler.stream?.getStats() : undefined)`.
   */
  statsOf?: ((session: Session) => RtpStreamStats | undefined) | undefined;
  /** MWI of the first account, when the composition root runs an MwiClient. */
  voicemail?: VoicemailSource | undefined;
  /** What callers get while do-not-disturb is on. Default 480 (the PBX may try voicemail). */
  dndStatus?: 480 | 486 | undefined;
}

const STATES: Readonly<Record<`${SessionState}`, CallSessionState>> = {
  calling: 'calling',
  proceeding: 'proceeding',
  early: 'early',
  confirmed: 'confirmed',
  terminating: 'terminating',
  terminated: 'terminated',
};

/** One UA session as a CallSession. */
class UaCallSession implements CallSession {
  constructor(
    protected readonly session: Session,
    private readonly statsOf: UaCallServiceOptions['statsOf'],
  ) {}

  get id(): string {
    return this.session.callId;
  }
  get direction(): 'incoming' | 'outgoing' {
    return this.session.direction;
  }
  get state(): CallSessionState {
    return STATES[this.session.state];
  }
  get remote(): { displayName: string | undefined; number: string } {
    return { displayName: this.session.remote.displayName, number: this.session.remote.number };
  }

  on<K extends keyof CallSessionEvents>(event: K, listener: (...args: CallSessionEvents[K]) => void): Unsubscribe {
    // The session's own events carry these arguments (progress has more fields, which are ignored).
    return this.session.on(event, listener);
  }

  hangup(): void {
    this.session.hangup();
  }

  sendDtmf(digits: string): boolean {
    return this.session.sendDtmf(digits);
  }

  async hold(): Promise<boolean> {
    return (await this.session.hold()).ok;
  }

  async resume(): Promise<boolean> {
    return (await this.session.resume()).ok;
  }

  /** Blind transfer; on success the user agent ends the call itself (outcome 'transferred'). */
  async transfer(target: string): Promise<boolean> {
    return (await this.session.transfer(target)).ok;
  }

  stats(): RtpStreamStats | undefined {
    try {
      return this.statsOf?.(this.session);
    } catch {
      // A stream closed under us: no statistics now, the phone keeps its last sample.
      return undefined;
    }
  }
}

class UaIncomingCall extends UaCallSession implements IncomingCall {
  override get direction(): 'incoming' {
    return 'incoming';
  }
  constructor(
    private readonly incoming: IncomingSession,
    statsOf: UaCallServiceOptions['statsOf'],
  ) {
    super(incoming, statsOf);
  }
  accept(): Promise<void> {
    return this.incoming.accept();
  }
  reject(status?: 480 | 486 | 603): void {
    this.incoming.reject(status);
  }
}

/** The user agent as the phone's CallService. */
export class UaCallService implements CallService {
  private readonly events = new Emitter<CallServiceEvents>();
  private readonly unsubscribe: Unsubscribe[] = [];
  private summary: VoicemailSummary | undefined;

  constructor(private readonly o: UaCallServiceOptions) {
    this.unsubscribe.push(o.ua.on('incoming', (s) => this.events.emit('incoming', new UaIncomingCall(s, o.statsOf))));
    this.unsubscribe.push(o.ua.on('registration', () => this.events.emit('registration')));
    if (o.voicemail) {
      this.unsubscribe.push(
        o.voicemail.on('summary', (s) => {
          this.summary = { waiting: s.waiting, newMessages: s.newVoice, oldMessages: s.oldVoice };
          this.events.emit('voicemail', this.summary);
        }),
      );
    }
  }

  on<K extends keyof CallServiceEvents>(event: K, listener: (...args: CallServiceEvents[K]) => void): Unsubscribe {
    return this.events.on(event, listener);
  }

  call(target: string): CallSession {
    try {
      return new UaCallSession(this.o.ua.call(target), this.o.statsOf);
    } catch (e) {
      // UserAgentStateError (not running), CallTargetError (no account, a bad URI): one error for the phone.
      throw new CallServiceError(e instanceof Error ? e.message : String(e), { cause: e });
    }
  }

  line(): LineView | undefined {
    const a = this.o.ua.snapshot().accounts[0];
    return a ? { aor: a.aor, line: a.line } : undefined;
  }

  voicemail(): VoicemailSummary | undefined {
    return this.summary;
  }

  setDoNotDisturb(on: boolean): void {
    this.o.ua.setDoNotDisturb(on ? (this.o.dndStatus ?? 480) : false);
  }

  /** Stops listening to the user agent (it keeps running). */
  close(): void {
    for (const u of this.unsubscribe.splice(0)) u();
  }
}
