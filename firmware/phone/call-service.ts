// What the phone needs of the SIP side (calls, registration, voicemail) and of the audio (volume, mute): interfaces the phone programs against, with the user agent behind an adapter (ua-call-service.ts) and fakes in tests.
import type { RtpStreamStats } from '../media/media-engine.js';
import type { LineStatus, SessionOutcome } from '../sip/ua/index.js';
import type { Unsubscribe } from '../util/emitter.js';
import type { VolumePath } from './settings-store.js';

/**
 * A call's protocol state, as the user agent's SessionState spells it (calling → proceeding →
 * early → confirmed → terminating → terminated; firmware/sip/ua/call/session-state.ts).
 */
export type CallSessionState = 'calling' | 'proceeding' | 'early' | 'confirmed' | 'terminating' | 'terminated';

/** Who is at the other end (the callee, or the caller from P-Asserted-Identity or From). */
export interface CallParty {
  displayName: string | undefined;
  /** The number (a URI's user part), or the host when there is none. */
  number: string;
}

/** A provisional response: 180 / 183, and whether early media plays (then no local ringback). */
export interface CallProgress {
  status: number;
  earlyMedia: boolean;
}

// A type, not an interface: Emitter needs an implicit index signature.
export type CallSessionEvents = {
  progress: [CallProgress];
  /** The call is up (2xx ACKed). */
  accepted: [];
  /** Once, with how it ended. */
  ended: [SessionOutcome];
};

/**
 * One call as the phone drives it. hold / resume / transfer are optional: the user agent gains them
 * (re-INVITE hold, REFER) separately; the phone says "not available" while they are missing.
 */
export interface CallSession {
  /** Unique per call (the Call-ID). */
  readonly id: string;
  readonly direction: 'incoming' | 'outgoing';
  readonly state: CallSessionState;
  readonly remote: CallParty;
  on<K extends keyof CallSessionEvents>(event: K, listener: (...args: CallSessionEvents[K]) => void): Unsubscribe;
  /** CANCEL before the answer, BYE after it, a rejection for an unanswered incoming call. Idempotent. */
  hangup(): void;
  /** RFC 4733 digits in the media; false when the call is not up or has no telephone-event. */
  sendDtmf(digits: string): boolean;
  /** Puts the peer on hold (re-INVITE a=sendonly); resolves true when the peer agreed. */
  hold?(): Promise<boolean>;
  /** Takes the call off hold (re-INVITE a=sendrecv); resolves true when the peer agreed. */
  resume?(): Promise<boolean>;
  /** Blind transfer (REFER, RFC 3515) to a number or URI; resolves true when the transferee accepted it. */
  transfer?(target: string): Promise<boolean>;
  /**
   * Attended transfer (REFER with Replaces, RFC 3891): this call's peer is connected to the peer of
   * `consultation`, another call of this phone; resolves true when the transfer succeeded (both end).
   */
  transferTo?(consultation: CallSession): Promise<boolean>;
  /** The call's RTP statistics now (loss, jitter, MOS), when the media can tell; absent: no call-quality screen. */
  stats?(): RtpStreamStats | undefined;
}

/** An incoming call: it rings (180 was sent) until accept(), reject() or the caller gives up. */
export interface IncomingCall extends CallSession {
  readonly direction: 'incoming';
  /** 200 OK with the answer; the call is up at 'accepted'. */
  accept(): Promise<void>;
  /** 603 Decline by default; 486 Busy Here when the phone is busy. */
  reject(status?: 480 | 486 | 603): void;
  /**
   * Call forwarding answered by the phone: 302 with the target (a number or URI) as Contact, the
   * caller's side follows it (RFC 3261 §21.3). false when it could not be sent (too late, a target
   * that makes no SIP URI). Absent: the service cannot redirect, and the phone lets the call ring.
   */
  redirect?(target: string): boolean;
  /** The INVITE's header values by name (Alert-Info, Call-Info for intercom auto-answer); [] when absent. */
  header?(name: string): readonly string[];
}

/** The line shown on the idle screen: the first account's extension and registration. */
export interface LineView {
  /** The account's address of record, e.g. "sip:1003@pbx.example.com". */
  aor: string;
  line: LineStatus;
}

/** Voicemail waiting (RFC 3842 message-summary) for the first account. */
export interface VoicemailSummary {
  /** Messages-Waiting: the MWI lamp. */
  waiting: boolean;
  newMessages: number;
  oldMessages: number;
}

/** A call the SIP side turned away without ringing (do-not-disturb, or no room for another call). */
export interface RefusedCall {
  remote: { displayName: string | undefined; number: string };
  reason: 'dnd' | 'busy';
}

// A type, not an interface: Emitter needs an implicit index signature.
export type CallServiceEvents = {
  /** A call came in and rings. */
  incoming: [IncomingCall];
  /** A call came in and was refused without ringing: the call history lists it as missed. */
  refused: [RefusedCall];
  /** The registration of a line changed: redraw the idle screen. */
  registration: [];
  /** A voicemail summary arrived. */
  voicemail: [VoicemailSummary];
  /**
   * A call the user agent made on its own in place of one of ours: following a transfer (the peer's
   * REFER), or an INVITE with Replaces that took a call's place (already answered). The phone makes
   * it the call in focus; the old one ends as transferred / replaced.
   */
  call: [CallSession];
};

/** A target the service cannot call (no account, a malformed URI, the user agent not running). */
export class CallServiceError extends Error {
  override readonly name = 'CallServiceError';
}

/**
 * The SIP side of the phone. The phone never sees the user agent: only this.
 */
export interface CallService {
  /** Calls a number or URI; throws CallServiceError when it cannot even start. */
  call(target: string): CallSession;
  on<K extends keyof CallServiceEvents>(event: K, listener: (...args: CallServiceEvents[K]) => void): Unsubscribe;
  /** The first account's line, undefined when there is no account. */
  line(): LineView | undefined;
  /** The latest voicemail summary, undefined until one came. */
  voicemail(): VoicemailSummary | undefined;
  /** Do-not-disturb in the user agent: incoming calls are refused (480) without ringing. */
  setDoNotDisturb?(on: boolean): void;
  /** Joins calls in a 3-way conference (mix-minus in the media engine); false when it cannot. */
  conference?(calls: readonly CallSession[]): boolean;
  /** Ends a conference made by conference(): the calls go back to separate ones. */
  splitConference?(): void;
}

/**
 * The audio controls (the composition root's EngineAudioControls over MediaEngine.setGains / setMuted): the listening volume per path (0 to
 * VOLUME_MAX, the user's steps) and the microphone mute. Optional: without them the phone keeps and
 * shows the levels (and persists them) but the sound does not change.
 */
export interface AudioControls {
  setVolume(path: VolumePath, level: number): void;
  setMuted(muted: boolean): void;
}
