// The CallService over the SIP user agent: a thin adapter from UserAgent sessions, registration and MWI to what the phone uses.
import type { RtpStream, RtpStreamStats } from '../media/media-engine.js';
import type { IncomingSession, MwiSummary, Session, SessionState, UserAgent } from '../sip/ua/index.js';
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

export interface UaCallServiceOptions {
  ua: UserAgent;
  /**
   * The RTP statistics of a session's media. The session's handler is the SdpMediaHandler the
   * composition root configured, which the phone may not know: main.ts passes
   * `(s) => (s.handler instanceof SdpMediaHandler ? s.handler.stream?.getStats() : undefined)`.
   */
  statsOf?: ((session: Session) => RtpStreamStats | undefined) | undefined;
  /** What callers get while do-not-disturb is on. Default 480 (the PBX may try voicemail). */
  dndStatus?: 480 | 486 | undefined;
  /**
   * Numbers called at a SIP URI of their own (the config's dialPlan.directory): "101" becomes
   * sip:101@192.168.1.21 for calls, transfers and redirects; any other target goes as it is (a
   * number to the account's domain).
   */
  directory?: Readonly<Record<string, string>> | undefined;
  /**
   * The media engine's 3-way mixer (mix-minus, MediaEngine.joinConference) and the RTP stream of a
   * session, which only the composition root can reach: without it conference() says false.
   */
  conferenceMixer?: ConferenceMixer | undefined;
}

/** What conference() needs of the media: each session's stream, and the engine's join / split. */
export interface ConferenceMixer {
  streamOf(session: Session): RtpStream | undefined;
  join(streams: readonly RtpStream[]): void;
  split(): void;
}

/** What a dialed target is called at: its directory URI, else itself. */
type Resolve = (target: string) => string;

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
    protected readonly resolve: Resolve,
  ) {}

  /** The UA session behind it (for the composition root's media hooks). */
  get uaSession(): Session {
    return this.session;
  }

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
    return (await this.session.transfer(this.resolve(target))).ok;
  }

  /** Attended transfer to another call of this phone; the user agent ends both calls on success. */
  async transferTo(consultation: CallSession): Promise<boolean> {
    if (!(consultation instanceof UaCallSession)) return false;
    return (await this.session.transferTo(consultation.uaSession)).ok;
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
    resolve: Resolve,
  ) {
    super(incoming, statsOf, resolve);
  }
  accept(): Promise<void> {
    return this.incoming.accept();
  }
  reject(status?: 480 | 486 | 603): void {
    this.incoming.reject(status);
  }
  redirect(target: string): boolean {
    return this.incoming.redirect([this.resolve(target)]);
  }
  header(name: string): readonly string[] {
    return this.incoming.request.getAll(name);
  }
}

function voicemailOf(s: MwiSummary): VoicemailSummary {
  return { waiting: s.waiting, newMessages: s.newVoice, oldMessages: s.oldVoice };
}

/** The user agent as the phone's CallService. */
export class UaCallService implements CallService {
  private readonly events = new Emitter<CallServiceEvents>();
  private readonly unsubscribe: Unsubscribe[] = [];
  private summary: VoicemailSummary | undefined;
  private readonly resolve: Resolve;

  constructor(private readonly o: UaCallServiceOptions) {
    const directory = o.directory ?? {};
    this.resolve = (target) => (Object.hasOwn(directory, target) ? (directory[target] ?? target) : target);
    this.unsubscribe.push(o.ua.on('incoming', (s) => this.events.emit('incoming', new UaIncomingCall(s, o.statsOf, this.resolve))));
    this.unsubscribe.push(
      o.ua.on('refused', (r) => this.events.emit('refused', { remote: { displayName: r.caller.displayName, number: r.caller.number }, reason: r.reason })),
    );
    this.unsubscribe.push(o.ua.on('registration', () => this.events.emit('registration')));
    // Calls the UA makes itself in place of one of ours: a transfer followed, a Replaces answered.
    this.unsubscribe.push(
      o.ua.calls.onSession((session) => {
        session.on('refer', (refer) => {
          const call = refer.call;
          if (call) this.events.emit('call', new UaCallSession(call, o.statsOf, this.resolve));
        });
        session.on('replaced', (replacement) => this.events.emit('call', new UaCallSession(replacement, o.statsOf, this.resolve)));
      }),
    );
    // Message waiting of the first account (the line the idle screen shows): the UA's subscription
    // or the registrar's unsolicited NOTIFYs, per the account's mwi mode. A summary that came before
    // this service existed is taken at once.
    const first = this.firstAccountId();
    const known = first !== undefined ? o.ua.mwiSummary(first) : undefined;
    if (known) this.summary = voicemailOf(known);
    this.unsubscribe.push(
      o.ua.on('mwi', (s) => {
        if (s.accountId !== this.firstAccountId()) return;
        this.summary = voicemailOf(s);
        this.events.emit('voicemail', this.summary);
      }),
    );
  }

  private firstAccountId(): string | undefined {
    return this.o.ua.snapshot().accounts[0]?.accountId;
  }

  on<K extends keyof CallServiceEvents>(event: K, listener: (...args: CallServiceEvents[K]) => void): Unsubscribe {
    return this.events.on(event, listener);
  }

  call(target: string): CallSession {
    try {
      return new UaCallSession(this.o.ua.call(this.resolve(target)), this.o.statsOf, this.resolve);
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

  /** Joins the calls' streams in the engine's mixer: each leg hears the local user and the other leg. */
  conference(calls: readonly CallSession[]): boolean {
    const mixer = this.o.conferenceMixer;
    if (!mixer || calls.length < 2) return false;
    const streams: RtpStream[] = [];
    for (const c of calls) {
      const stream = c instanceof UaCallSession ? mixer.streamOf(c.uaSession) : undefined;
      if (!stream) return false;
      streams.push(stream);
    }
    try {
      mixer.join(streams);
      return true;
    } catch {
      return false;
    }
  }

  splitConference(): void {
    this.o.conferenceMixer?.split();
  }

  /** Stops listening to the user agent (it keeps running). */
  close(): void {
    for (const u of this.unsubscribe.splice(0)) u();
  }
}
