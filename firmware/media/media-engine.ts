// The media engine interface (CONVENTIONS.md #1): what the phone uses, implemented by NativeMediaEngine and MockMediaEngine.
import type { CodecOptions, ComfortNoiseOptions, TelephoneEventOptions } from './codecs.js';
import type { RtpStreamStats } from './media-stats.js';
import type { DtmfDigit, ToneCountry, ToneName, ToneSpec } from './tones.js';

export type { RtpStreamStats } from './media-stats.js';

/** RFC 3264 §5.1 / RFC 4566 §6: what the stream sends and expects. Hold is sendonly or inactive. */
export type MediaDirection = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';
export const MEDIA_DIRECTIONS: readonly MediaDirection[] = ['sendrecv', 'sendonly', 'recvonly', 'inactive'];

/**
 * The engine's clock (CONVENTIONS.md #9). realtime: the media thread runs every 10 ms of the
 * monotonic clock (the emulator and the phone). virtual: time stands still until advance(ms), which
 * runs those ticks as fast as the CPU allows (tests).
 */
export type MediaClockMode = 'realtime' | 'virtual';

/** Engine-internal rates; streams convert to their codec's. */
export type EngineSampleRateHz = 8000 | 16000 | 32000 | 48000;

/** `file` backend: a WAV or a sine as the microphone, and a WAV of what the speaker plays. */
export interface FileAudioBackendOptions {
  backend: 'file';
  /** The microphone: a WAV file (16-bit PCM, any rate; `loop` starts it again at its end), or a sine. Default: silence. */
  capture?: { wavPath: string; loop?: boolean } | { toneHz: number; levelDbfs?: number };
  /** Written with every period played (mono 16-bit at the engine rate); finished by close(). */
  playbackWavPath?: string;
}

/** `null` backend: silence in, output discarded. */
export interface NullAudioBackendOptions {
  backend: 'null';
}

/** Audio backends by name (CONVENTIONS.md #11); `alsa` will join them. */
export type AudioBackendOptions = FileAudioBackendOptions | NullAudioBackendOptions;
export type AudioBackendName = AudioBackendOptions['backend'];

export interface MediaEngineOptions {
  audio: AudioBackendOptions;
  /** Default 'realtime'. */
  clock?: MediaClockMode;
  /** Default 16000 (wideband). */
  sampleRateHz?: EngineSampleRateHz;
  /** Period of 'stats' events per stream, in engine time; 0 = none. Default 1000. */
  statsIntervalMs?: number;
  /** Seeds SSRCs, sequence numbers, timestamps, RTCP intervals and comfort noise (tests); default random. */
  randomSeed?: number;
}

export interface RtpLocalEndpoint {
  /** Literal IPv4 or IPv6 address to bind ('0.0.0.0', '::' for both families). */
  address: string;
  /** 0 or absent: the kernel picks (an even port, RTCP on the next, RFC 3550 §11). */
  port?: number;
  /** Without rtcp-mux; default port + 1. */
  rtcpPort?: number;
}

export interface RtpRemoteEndpoint {
  /** Literal address (the SIP/SDP layer resolved names). */
  address: string;
  port: number;
  /** Without rtcp-mux; default port + 1 (RFC 3550 §11), or the SDP's a=rtcp (RFC 3605). */
  rtcpPort?: number;
}

/** Jitter buffer bounds, ms. */
export interface JitterOptions {
  minDelayMs?: number;
  maxDelayMs?: number;
  initialDelayMs?: number;
}

/** A stream as the SDP offer/answer set it up. */
export interface RtpStreamOptions {
  local: RtpLocalEndpoint;
  /** Absent until known: nothing is sent until then (or until latching learns it). */
  remote?: RtpRemoteEndpoint;
  /** RFC 5761 rtcp-mux: RTCP on the RTP port. Default false. */
  rtcpMux?: boolean;
  /** Symmetric RTP latching: send to where the peer's validated packets come from (NAT). Default false. */
  latching?: boolean;
  /** Default 'sendrecv'. */
  direction?: MediaDirection;
  codec: CodecOptions;
  /** Packet duration. Default 20. */
  ptimeMs?: number;
  telephoneEvent?: TelephoneEventOptions;
  comfortNoise?: ComfortNoiseOptions;
  /** A 'rtpTimeout' event after this long without RTP while receiving; 0 / absent = never. */
  rtpTimeoutMs?: number;
  /** RFC 3550 §6.2 minimum RTCP interval. Default 5000. */
  rtcpMinIntervalMs?: number;
  /** RFC 3550 §6.5.1 CNAME. Default 'offhook'. */
  cname?: string;
  /** DSCP of outgoing packets. Default 46 (EF, RFC 4594). */
  dscp?: number;
  jitter?: JitterOptions;
}

/** What a re-INVITE can change; absent fields keep their value (`remote: null` forgets the remote). */
export interface RtpStreamUpdate {
  remote?: RtpRemoteEndpoint | null;
  direction?: MediaDirection;
  codec?: CodecOptions;
  ptimeMs?: number;
  telephoneEvent?: TelephoneEventOptions | null;
  comfortNoise?: ComfortNoiseOptions | null;
  rtpTimeoutMs?: number;
  jitter?: JitterOptions;
}

export interface DtmfSendOptions {
  /** Tone length per digit. Default 100 (40–1000). */
  durationMs?: number;
  /** Pause between digits. Default 60. */
  gapMs?: number;
  /** RFC 4733 §2.3.4 volume. Default −10 dBm0. */
  volumeDbm0?: number;
}

export type RtpStreamState = 'created' | 'started' | 'stopped' | 'closed';

/** One RTP stream of the engine: created bound, started to send and play. */
export interface RtpStream {
  readonly id: number;
  readonly localRtpPort: number;
  /** Equal to localRtpPort with rtcp-mux. */
  readonly localRtcpPort: number;
  readonly localSsrc: number;
  readonly state: RtpStreamState;
  update(update: RtpStreamUpdate): void;
  start(): void;
  /** Sends RTCP BYE, stops sending and playing; start() resumes. */
  stop(): void;
  /** Queues RFC 4733 events; needs telephoneEvent, a sending direction and a started stream. */
  sendDtmf(digits: string, options?: DtmfSendOptions): void;
  getStats(): RtpStreamStats;
  /** Stops and frees the ports. Idempotent. */
  close(): void;
}

/** A tone for the local speaker: a country's call-progress tone, a DTMF key tone, or any spec. */
export type ToneRequest =
  | { tone: ToneName; country: ToneCountry }
  | { dtmf: DtmfDigit; durationMs?: number }
  | { spec: ToneSpec };

export interface DtmfEvent {
  type: 'dtmf';
  streamId: number;
  timeMs: number;
  digit: DtmfDigit;
  /** One 'begin' and one 'end' per RFC 4733 event, whatever was lost or repeated. */
  phase: 'begin' | 'end';
  /** 'end': the event's duration. */
  durationMs: number;
}

export interface StatsEvent {
  type: 'stats';
  streamId: number;
  timeMs: number;
  stats: RtpStreamStats;
}

/** No RTP for rtpTimeoutMs while receiving (never on hold); once until packets come again. */
export interface RtpTimeoutEvent {
  type: 'rtpTimeout';
  streamId: number;
  timeMs: number;
  silentMs: number;
}

/** The audio device failed; the engine carries on with silence. */
export interface DeviceErrorEvent {
  type: 'deviceError';
  timeMs: number;
  message: string;
  /** The device or file. */
  device: string;
  /** Negative errno, 0 when no system call failed. */
  errno: number;
  /** errno name ('EIO' ...), '' when none. */
  systemCode: string;
}

/** The peer's SSRC changed (RFC 3550 §8.2, or a B2BUA switching legs); play-out continues. */
export interface SsrcChangedEvent {
  type: 'ssrcChanged';
  streamId: number;
  timeMs: number;
  ssrc: number;
  previousSsrc: number;
}

/** Latching moved the remote to where packets come from. */
export interface RemoteLatchedEvent {
  type: 'remoteLatched';
  streamId: number;
  timeMs: number;
  address: string;
  port: number;
  /** The RTCP destination (without rtcp-mux). */
  rtcp: boolean;
}

/** The peer sent RTCP BYE (RFC 3550 §6.6). */
export interface RtcpByeEvent {
  type: 'rtcpBye';
  streamId: number;
  timeMs: number;
  ssrc: number;
}

/** A tone that does not repeat has finished. */
export interface ToneEndedEvent {
  type: 'toneEnded';
  timeMs: number;
}

export type MediaEngineEvent =
  | DtmfEvent
  | StatsEvent
  | RtpTimeoutEvent
  | DeviceErrorEvent
  | SsrcChangedEvent
  | RemoteLatchedEvent
  | RtcpByeEvent
  | ToneEndedEvent;

export type MediaEngineEventType = MediaEngineEvent['type'];
export type MediaEngineEventOf<T extends MediaEngineEventType> = Extract<MediaEngineEvent, { type: T }>;
export type Unsubscribe = () => void;

export interface MediaEngine {
  readonly clock: MediaClockMode;
  readonly sampleRateHz: number;
  readonly closed: boolean;
  /** Binds the stream's sockets (throws MediaEngineError ERR_MEDIA_SOCKET when a port is taken). */
  createStream(options: RtpStreamOptions): RtpStream;
  /** Replaces the tone playing, if any. */
  playTone(request: ToneRequest): void;
  stopTone(): void;
  /** Virtual clock only: runs the next `ms` of media processing, then returns. */
  advance(ms: number): void;
  /** Engine time, ms since creation. */
  nowMs(): number;
  on<T extends MediaEngineEventType>(type: T, listener: (event: MediaEngineEventOf<T>) => void): Unsubscribe;
  /** Resolves once every event the engine produced so far has been delivered to the listeners. */
  drainEvents(): Promise<void>;
  /** Whether the engine keeps the process alive (it does when created, like a socket). */
  ref(): void;
  unref(): void;
  /** Stops the threads, sends RTCP BYE, frees ports and the device; no event after it. Idempotent. */
  close(): void;
}

export type MediaEngineErrorCode =
  | 'ERR_MEDIA_CONFIG'
  | 'ERR_MEDIA_SOCKET'
  | 'ERR_MEDIA_DEVICE'
  | 'ERR_MEDIA_STATE'
  | 'ERR_MEDIA_NO_STREAM'
  | 'ERR_MEDIA_CLOSED'
  | 'ERR_MEDIA_SYSTEM';

export interface MediaEngineErrorDetails {
  /** The option at fault (ERR_MEDIA_CONFIG), e.g. 'codec.ptimeMs'. */
  field?: string;
  /** errno name of a failed system call ('EADDRINUSE' ...). */
  systemCode?: string;
  syscall?: string;
  /** The local address or file concerned. */
  address?: string;
  cause?: unknown;
}

/** Every failure of the engine, with what a person needs to act on it. */
export class MediaEngineError extends Error {
  override readonly name = 'MediaEngineError';
  readonly code: MediaEngineErrorCode;
  readonly field: string | undefined;
  readonly systemCode: string | undefined;
  readonly syscall: string | undefined;
  readonly address: string | undefined;

  constructor(code: MediaEngineErrorCode, message: string, details: MediaEngineErrorDetails = {}) {
    super(message, details.cause === undefined ? {} : { cause: details.cause });
    this.code = code;
    this.field = details.field;
    this.systemCode = details.systemCode;
    this.syscall = details.syscall;
    this.address = details.address;
  }
}
