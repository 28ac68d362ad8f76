// The media engine interface (CONVENTIONS.md #1): what the phone uses, implemented by NativeMediaEngine and MockMediaEngine.
import type { CodecOptions, ComfortNoiseOptions, TelephoneEventOptions } from './codecs.js';
import type { RtpStreamStats } from './media-stats.js';
import type { SrtpOptions } from './srtp.js';
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
  /**
   * A simulated acoustic echo, for tests of the echo canceller: what the speaker plays comes back into
   * the microphone `gainDb` weaker (e.g. −10) and `delayMs` later than the one period the engine's
   * tick order adds (the echo of the period played at tick k is in the microphone period of tick
   * k + 1 + delayMs / 10). Default delayMs 0. `reportedMs` (≤ delayMs, default 0) is the part of the
   * delay the backend reports as its own output latency, as `alsa` does for the periods it keeps
   * queued: the echo canceller's reference skips it, and its filter covers the rest.
   */
  echo?: { gainDb: number; delayMs?: number; reportedMs?: number };
}

/** Sample formats the `alsa` backend converts itself (little-endian). */
export type AlsaSampleFormat = 'S16_LE' | 'S32_LE' | 'S24_LE' | 'S24_3LE' | 'FLOAT_LE';
export const ALSA_SAMPLE_FORMATS: readonly AlsaSampleFormat[] = ['S16_LE', 'S32_LE', 'S24_LE', 'S24_3LE', 'FLOAT_LE'];

/**
 * `alsa` backend: capture and playback on ALSA PCMs. Whatever rate, format and channel count the
 * device has, the backend converts (channels and format itself, the rate with speexdsp). A device that
 * is missing, busy or unplugged is a 'deviceError' event, not an exception: the engine runs on with
 * silence, tries the device again every reopenIntervalMs, and says 'deviceRecovered' when it works.
 */
export interface AlsaAudioBackendOptions {
  backend: 'alsa';
  /** PCM names: 'plughw:CARD=wm8960soundcard,DEV=0', 'hw:1,0', 'default', or a PCM that alsaConfig defines. */
  capture: string;
  playback: string;
  /** Period asked of the driver (it may round it; 'deviceOpened' says what it chose). Default 10. */
  periodMs?: number;
  /** Buffer size in periods, 2–4. Default 3 (the speaker runs 2 periods ahead). */
  periods?: number;
  /** The format to ask for; default S16_LE, or the first of ALSA_SAMPLE_FORMATS the device has. */
  format?: AlsaSampleFormat;
  /** Channels to ask for; default 1 (or the fewest the device has: a WM8960 HAT has 2). */
  channels?: number;
  /** Rate to ask for; default the engine's (or the nearest the device has: many USB handsets only do 48000). */
  rateHz?: number;
  /** The microphone's channel (0-based) when the device has several; default 'mix' (their average). */
  captureChannel?: number | 'mix';
  /** SCHED_FIFO priority of the media thread, 1–99; 0 = do not ask. Default 40. Refused → 'deviceOpened' says why. */
  realtimePriority?: number;
  /** After a device error, how often to try the device again. Default 2000. */
  reopenIntervalMs?: number;
  /**
   * 'device' (default): the media thread follows the capture clock (read() blocks for a period).
   * 'engine': the engine's clock paces, for plugin chains without a clock of their own (file, null).
   */
  pacing?: 'device' | 'engine';
  /** asoundrc text (PCM definitions) loaded over the system configuration, for this engine only. */
  alsaConfig?: string;
}

/** `null` backend: silence in, output discarded. */
export interface NullAudioBackendOptions {
  backend: 'null';
}

/**
 * `external` backend: the microphone and the speaker are JavaScript's (the emulator's browser page).
 * The microphone is what pushCapture() hands over (16-bit mono at the engine rate), queued in a
 * bounded buffer: the engine starts taking it once `capturePrerollMs` is queued (the cushion for the
 * sender's jitter), plays silence and waits for the pre-roll again when it runs dry (counted), drops
 * the oldest samples when more than `captureBufferMs` is queued (counted), and drops a standing
 * surplus that never drains (a sender whose clock is faster). What the speaker plays comes back as
 * 'playback' events of `playbackBatchMs` each; when more than `playbackMaxPendingMs` of them wait for
 * the event loop, the next are dropped (counted), so a stalled loop never holds up the media thread.
 * There is no device clock: the engine's clock paces both directions, as with `file`.
 */
export interface ExternalAudioBackendOptions {
  backend: 'external';
  /** 0–1000, default 40. */
  capturePrerollMs?: number;
  /** 20–5000 and at least capturePrerollMs + 20; default 300 (capturePrerollMs + 100 when that is more). */
  captureBufferMs?: number;
  /** 10–200, whole 10 ms periods; default 20. */
  playbackBatchMs?: number;
  /** 10–5000, default 200. */
  playbackMaxPendingMs?: number;
}

/** Audio backends by name (CONVENTIONS.md #11). */
export type AudioBackendOptions = AlsaAudioBackendOptions | FileAudioBackendOptions | NullAudioBackendOptions | ExternalAudioBackendOptions;
export type AudioBackendName = AudioBackendOptions['backend'];

/** Where the sound goes in and out: each path has its acoustics, hence its own capture processing. */
export type AudioPath = 'handset' | 'speaker' | 'headset';
export const AUDIO_PATHS: readonly AudioPath[] = ['handset', 'speaker', 'headset'];

/**
 * Capture processing of one path with speexdsp: the echo canceller (MDF) gets each microphone period
 * and the speaker period played before it; its residual-echo estimate feeds the preprocessor, which
 * also suppresses noise and levels the talker (AGC). Absent fields keep the path's default
 * (DEFAULT_AUDIO_PROCESSING in media-options.ts).
 */
export interface AudioProcessingOptions {
  /** Acoustic echo cancellation; tailMs: how long an echo the filter covers (10–1000). */
  aec?: { enabled: boolean; tailMs?: number };
  /** Attenuation of stationary noise, dB (−60 to 0); 0 = off. */
  noiseSuppressionDb?: number;
  /**
   * Automatic gain control towards levelDbfs (−60 to 0): the target of speexdsp's loudness estimate,
   * which weighs the spectrum (most around 3.8 kHz), so speech settles at an RMS level below it (about
   * 17 dB below for speech-like noise band-limited to 4 kHz); quiet and loud talkers end up alike.
   */
  agc?: { enabled: boolean; levelDbfs?: number };
}

/**
 * Gains of one path, dB (setGains()): clamped to MIN_GAIN_DB..MAX_GAIN_DB; a field left out keeps its
 * value (both start at 0). micGainDb scales the microphone after its processing (echo canceller,
 * noise suppression, AGC), i.e. what every stream and the conference send. speakerGainDb is the
 * listening volume: it scales what the far ends say and the local tones (call progress, DTMF key
 * tones), not the ringer, whose level is the ring request's. The current path's changes ramp over one
 * 10 ms period (no click); another path's apply when setAudioPath() switches to it.
 */
export interface AudioGains {
  path: AudioPath;
  micGainDb?: number;
  speakerGainDb?: number;
}
export const MIN_GAIN_DB = -40;
export const MAX_GAIN_DB = 20;

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
  /** The path in use at start; default 'handset'. setAudioPath() changes it. */
  audioPath?: AudioPath;
  /**
   * Settings per path, over the defaults: DEFAULT_AUDIO_PROCESSING (media-options.ts) with the `alsa`
   * backend; everything off with `file` and `null`, which have no acoustics.
   */
  audioProcessing?: Partial<Record<AudioPath, AudioProcessingOptions>>;
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
  /**
   * SRTP (RFC 3711) with SDES keys (RFC 4568): RTP and RTCP are protected on send and checked on
   * receive; a packet that fails authentication is dropped and counted (stats.srtpAuthFailures).
   * Absent: plain RTP.
   */
  srtp?: SrtpOptions;
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
  /** New keys (RFC 4568 §7.1.4); a direction whose key is unchanged keeps its SRTP state. null: plain RTP from now on. */
  srtp?: SrtpOptions | null;
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

/**
 * The ringer on the speaker, mixed into the playback path until stopRing(): a WAV file (16-bit PCM,
 * any rate; looped unless `loop` is false), or a cadence: the country's ringing cadence (tones.ts
 * RING_CADENCES) or `cadenceMs` ([on, off, on, off ...]), sounding `frequenciesHz` (default 1000 and
 * 1250 Hz alternating every `alternateMs`, 25: the trill of electronic ringers) at `levelDbm0` (−10).
 */
export type RingRequest =
  | { wav: string; loop?: boolean; gainDb?: number }
  | { country: ToneCountry; cadenceMs?: readonly number[]; frequenciesHz?: readonly number[]; alternateMs?: number; levelDbm0?: number };

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

/** After a deviceError, the device captures and plays again (it was reopened: its deviceOpened comes just before). */
export interface DeviceRecoveredEvent {
  type: 'deviceRecovered';
  timeMs: number;
  /** The device of the error. */
  device: string;
  /** How long it was out. */
  downMs: number;
}

/** What the driver set up for one direction (snd_pcm_hw_params_get_*). */
export interface AudioDeviceSetup {
  device: string;
  /** ALSA format name: 'S16_LE', 'S32_LE' ... */
  format: string;
  channels: number;
  rateHz: number;
  periodFrames: number;
  bufferFrames: number;
}

/** The device was opened (at start, and again after each recovery): what the driver chose. Only `alsa` reports it. */
export interface DeviceOpenedEvent {
  type: 'deviceOpened';
  timeMs: number;
  capture: AudioDeviceSetup;
  playback: AudioDeviceSetup;
  /** Capture and playback run linked (snd_pcm_link: one card, one clock). */
  linked: boolean;
  /** The media thread runs SCHED_FIFO at realtimePriority; when not, realtimeError is the errno name ('EPERM'), or '' when not asked. */
  realtime: boolean;
  realtimePriority: number;
  realtimeError: string;
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

/** `external` backend: a batch of what the speaker played (playbackBatchMs of it), in order. */
export interface PlaybackEvent {
  type: 'playback';
  /** Engine time at the end of the batch. */
  timeMs: number;
  /** The engine rate. */
  sampleRateHz: number;
  /** Mono 16-bit samples. */
  pcm: Int16Array;
}

export type MediaEngineEvent =
  | DtmfEvent
  | StatsEvent
  | RtpTimeoutEvent
  | DeviceErrorEvent
  | DeviceRecoveredEvent
  | DeviceOpenedEvent
  | SsrcChangedEvent
  | RemoteLatchedEvent
  | RtcpByeEvent
  | ToneEndedEvent
  | PlaybackEvent;

export type MediaEngineEventType = MediaEngineEvent['type'];
export type MediaEngineEventOf<T extends MediaEngineEventType> = Extract<MediaEngineEvent, { type: T }>;
export type Unsubscribe = () => void;

/** The `external` backend's two directions (AudioStats.external); frames at the engine rate. */
export interface ExternalAudioStats {
  /** Microphone samples handed over with pushCapture(). */
  capturePushedFrames: number;
  /** Queued now, waiting to be taken. */
  captureQueuedFrames: number;
  /** Times the microphone ran dry once it had started (silence until the pre-roll is queued again). */
  captureUnderruns: number;
  /** Pushes that did not fit (captureBufferMs), and the oldest samples dropped for them. */
  captureOverflows: number;
  captureOverflowFrames: number;
  /** Samples dropped to take back a standing surplus (the sender's clock is faster than the engine's). */
  captureTrimmedFrames: number;
  /** Speaker samples handed out in 'playback' events. */
  playbackDeliveredFrames: number;
  /** Batches dropped because too many still waited for the event loop, and their samples. */
  playbackDrops: number;
  playbackDroppedFrames: number;
}

/** The engine's audio side: device, path, xruns, conference (getAudioStats()). */
export interface AudioStats {
  backend: AudioBackendName;
  path: AudioPath;
  /** False from a device error until 'deviceRecovered'. */
  deviceOk: boolean;
  /** The last setup the device reported ('deviceOpened'); null before (and for file / null). */
  device: { capture: AudioDeviceSetup; playback: AudioDeviceSetup; linked: boolean; realtime: boolean } | null;
  /** Capture overruns and playback underruns recovered (snd_pcm_recover). */
  captureXruns: number;
  playbackXruns: number;
  /** Media ticks that started more than a period late. */
  lateTicks: number;
  deviceErrors: number;
  deviceRecoveries: number;
  /** Ids of the streams in the conference; empty when none. */
  conference: number[];
  /** The `external` backend's buffers; null with any other backend. */
  external: ExternalAudioStats | null;
}

/**
 * A sample-rate converter (speexdsp) for 16-bit mono audio: for what crosses pushCapture() and the
 * 'playback' events at another rate than the engine's (a browser's AudioContext runs at 44.1 or 48
 * kHz). Its filter state carries over from one process() to the next, so a stream is converted in
 * pieces without clicks; its delay is a few milliseconds.
 */
export interface PcmResampler {
  readonly inRateHz: number;
  readonly outRateHz: number;
  /** The converted samples of this piece (about pcm.length × outRateHz / inRateHz). */
  process(pcm: Int16Array): Int16Array;
  /** Forgets the filter state (a new stream). */
  reset(): void;
}

export interface MediaEngine {
  readonly clock: MediaClockMode;
  readonly sampleRateHz: number;
  readonly closed: boolean;
  /** Binds the stream's sockets (throws MediaEngineError ERR_MEDIA_SOCKET when a port is taken). */
  createStream(options: RtpStreamOptions): RtpStream;
  /** Replaces the tone playing, if any. */
  playTone(request: ToneRequest): void;
  stopTone(): void;
  /** Rings on the speaker (replacing a ring in progress) until stopRing(). A WAV that cannot be read throws. */
  ring(request: RingRequest): void;
  stopRing(): void;
  /**
   * A conference of these streams (2 or more, of this engine), mix-minus: the local user hears every
   * leg, and each leg hears the local user and the other legs, never itself. Replaces a conference.
   */
  joinConference(streams: readonly RtpStream[]): void;
  /** Back to separate calls (each stream hears the local user only). */
  splitConference(): void;
  /** Switches the capture processing to this path's settings (the echo canceller starts learning again). */
  setAudioPath(path: AudioPath): void;
  /** A path's microphone and speaker gains (AudioGains: what they scale, clamping, ramps). */
  setGains(gains: AudioGains): void;
  /**
   * Muted: the microphone sends silence (zeros, ramped down over one period) to every stream and to
   * the conference legs; the far ends, the tones and the ringer still play, and the conference legs
   * still hear each other. Not per path. Default false.
   */
  setMuted(muted: boolean): void;
  getAudioStats(): AudioStats;
  /**
   * `external` backend only (ERR_MEDIA_STATE otherwise): microphone samples, 16-bit mono at the
   * engine rate (sampleRateHz), queued for the engine's ticks to take (see ExternalAudioBackendOptions).
   * The speaker's side comes back as 'playback' events.
   */
  pushCapture(pcm: Int16Array): void;
  /** A converter between two rates (1000–384000 Hz); quality 0–10 (speexdsp's), default 5. */
  createResampler(inRateHz: number, outRateHz: number, quality?: number): PcmResampler;
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
