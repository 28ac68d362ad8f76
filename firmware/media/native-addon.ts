// The one declaration of the native addon's exports (offhook_native.node) and the loader that finds it.
// CONVENTIONS.md #10: this file is the single source of truth for the TS↔native boundary; the C++ side
// is firmware/media/native/addon.cc. Change both together and bump NATIVE_ADDON_API_VERSION.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AudioPath, AudioStats, MediaEngineEvent, PcmResampler } from './media-engine.js';
import type { RtpStreamStats } from './media-stats.js';
import { nativeFileProblem } from './native-file-check.js';
import type { ToneSpec } from './tones.js';

/** Must equal kApiVersion in native/addon.h; a build from other sources is refused, not half-used. */
export const NATIVE_ADDON_API_VERSION = 5;
/** File name of the addon, beside a bundle (dist/) or in build/Release/ of a source tree. */
export const NATIVE_ADDON_FILE = 'offhook_native.node';
/** What a person runs to get the addon back. */
export const NATIVE_ADDON_REBUILD_HINT =
  'rebuild it at the repository root with `make build` or `npx node-gyp rebuild --nodedir=/usr` ' +
  '(needs g++, make, python3 and the Node headers); a bundle carries it as dist/offhook_native.node';

// ---------------------------------------------------------------------------------------------------
// G.711

/** RTP encoding names of G.711 (RFC 3551 §4.5.14): PCMU is µ-law, PCMA is A-law. */
export type G711Law = 'PCMU' | 'PCMA';

// ---------------------------------------------------------------------------------------------------
// GPIO character device (Linux uAPI v2)

export type NativeGpioBit = 0 | 1;
export type NativeGpioBias = 'as-is' | 'pull-up' | 'pull-down' | 'disabled';
export type NativeGpioEdge = 'none' | 'rising' | 'falling' | 'both';
export type NativeGpioDrive = 'push-pull' | 'open-drain' | 'open-source';

/** A system call that failed, shaped like Node's own system errors. */
export interface NativeSystemError extends Error {
  /** errno name: ENOENT, ENOTTY, EBUSY, EACCES, EINVAL, ENODEV ... */
  code: string;
  /** Negative errno, as in Node. */
  errno: number;
  /** 'open', 'ioctl(GPIO_V2_GET_LINE_IOCTL)', 'read' ... */
  syscall: string;
  /** The chip's path ('loopback' for a loopback request). */
  path: string;
}

interface NativeGpioRequestBase {
  /** 1 to 64 distinct offsets on the chip; values and events refer to lines by their position here. */
  offsets: readonly number[];
  /** Shown by gpioinfo; at most 31 bytes are kept. Default 'offhook'. */
  consumer?: string;
  /** 'as-is' (the default) leaves the bias untouched. */
  bias?: NativeGpioBias;
  /** Hint for the kernel's event buffer, in events; 0 or absent = 16 per line. */
  eventBufferSize?: number;
}

export interface NativeGpioInputConfig extends NativeGpioRequestBase {
  direction: 'input';
  /** Anything but 'none' starts an event thread, and then onEvent is required. */
  edge?: NativeGpioEdge;
  /** Kernel debounce (a v2 line attribute), in microseconds; 0 or absent = none. */
  debouncePeriodUs?: number;
}

export interface NativeGpioOutputConfig extends NativeGpioRequestBase {
  direction: 'output';
  drive?: NativeGpioDrive;
  /** Levels set atomically with the request, one per offset; default all 0. */
  outputValues?: readonly NativeGpioBit[];
}

export type NativeGpioRequestConfig = NativeGpioInputConfig | NativeGpioOutputConfig;

/** One struct gpio_v2_line_event. */
export interface NativeGpioEdgeEvent {
  kind: 'edge';
  offset: number;
  edge: 'rising' | 'falling';
  /** Kernel CLOCK_MONOTONIC timestamp of the edge (same clock as process.hrtime.bigint()). */
  timestampNs: bigint;
  /** Sequence number among all lines of the request; a gap means events were dropped. */
  seqno: number;
  /** Sequence number on this line. */
  lineSeqno: number;
}

/** The event thread stopped (ENODEV when the chip went away); nothing more will be delivered. */
export interface NativeGpioErrorEvent {
  kind: 'error';
  error: NativeSystemError;
}

export type NativeGpioEvent = NativeGpioEdgeEvent | NativeGpioErrorEvent;

/** What GPIO_V2_GET_LINEINFO_IOCTL says about a line. */
export interface NativeGpioLineInfo {
  offset: number;
  name: string;
  /** Who holds the line ('' when free or unnamed). */
  consumer: string;
  used: boolean;
  direction: 'input' | 'output';
  activeLow: boolean;
  bias: NativeGpioBias;
  edge: NativeGpioEdge;
  drive: NativeGpioDrive;
  debouncePeriodUs: number;
}

/** Requested lines (one fd). With edge detection it owns a thread and a thread-safe function. */
export interface NativeGpioLineRequest {
  readonly offsets: number[];
  readonly released: boolean;
  /** One level per offset, in request order. */
  getValues(): NativeGpioBit[];
  /** One level per offset, in request order (an input request fails with EPERM). */
  setValues(values: readonly NativeGpioBit[]): void;
  /** Pending edge events keep the event loop alive (the default for a new request with edges). */
  ref(): void;
  /** Edge events no longer keep the event loop alive; they are still delivered while it runs. */
  unref(): void;
  /** Stops the thread, drops queued events (none arrives after this returns), frees the lines. Idempotent. */
  release(): void;
}

/** Test support: a request whose "kernel" is a pipe, running the same event thread and function. */
export interface NativeGpioLoopbackRequest extends NativeGpioLineRequest {
  /** Writes one gpio_v2_line_event record for the thread to read (seqno, lineSeqno default 0). */
  inject(event: { offset: number; edge: 'rising' | 'falling'; timestampNs: bigint; seqno?: number; lineSeqno?: number }): void;
  /** Closes the writer: the thread reports ENODEV, as when a chip goes away. */
  injectHangUp(): void;
}

/** An open /dev/gpiochipN. */
export interface NativeGpioChip {
  readonly path: string;
  /** Kernel name, e.g. 'gpiochip0'. */
  readonly name: string;
  /** Driver label, e.g. 'pinctrl-bcm2711' or 'pinctrl-rp1'. */
  readonly label: string;
  /** Number of lines. */
  readonly lines: number;
  lineInfo(offset: number): NativeGpioLineInfo;
  /** onEvent is required exactly when config.edge is 'rising', 'falling' or 'both' (TypeError otherwise). */
  requestLines(config: NativeGpioRequestConfig, onEvent?: (event: NativeGpioEvent) => void): NativeGpioLineRequest;
  /** Closes the chip fd; line requests stay valid until released. Idempotent. */
  close(): void;
}

// ---------------------------------------------------------------------------------------------------
// Jitter buffer (native/jitter/): ours, and the benchmark's speexdsp and fixed-delay references

/**
 * Tuning of a jitter buffer; every field is optional (defaults in native/jitter/jitter-buffer.h).
 * Delays are milliseconds of audio whatever the packet size. A value out of range throws a RangeError
 * whose `field` names it.
 */
export interface NativeJitterConfig {
  /** RTP clock rate (8000 for G.711, 48000 for Opus). Default 8000. */
  clockRateHz?: number;
  /** The buffer adds at least this above the median transit delay. Default 10. */
  minDelayMs?: number;
  /** ...and at most this above the fastest packets (1 % quantile). Default 500. */
  maxDelayMs?: number;
  /** Target until there is history (and the prior after an SSRC change). Default 40. */
  initialDelayMs?: number;
  /** Frame size assumed until packets tell; the speexdsp and fixed buffers' play-out period. Default 20. */
  ptimeMs?: number;
  /** Preallocated packet slots: a flood never makes it hold more. Default 64. */
  maxPackets?: number;
  /** Bytes per slot; a larger payload is refused (counted in overflowDropped). Default 1500. */
  maxPayloadBytes?: number;
  /**
   * Milliseconds of delay that one percent of late packets is worth: the target offset minimises
   * delay + lateCostMs × (percent of packets arriving after it) over the delay histogram. Default 60.
   */
  lateCostMs?: number;
  /** Most packets the target accepts to be late (a share, 0 to 0.5). Default 0.05. */
  lateShare?: number;
  /** Half-life of the delay histogram, in packets: how long a burst is remembered. Default 500. */
  histogramHalfLifePackets?: number;
  /** Added above the chosen offset (audio clock jitter). Default 0. */
  marginMs?: number;
  /**
   * With in-band FEC: the offset stays this far above the delay all but lateShare of the packets
   * arrive by, so that a lost frame's successor (its FEC) is there when it is due. Default 0 (off).
   */
  fecHoldMs?: number;
  /** Bound on shrinking while speech plays (frames dropped), ms of delay per second. Default 10. */
  maxShrinkMsPerS?: number;
  /** A bigger timestamp step starts a new timeline. Default 2000. */
  maxTimestampJumpMs?: number;
  /** Concealment with nothing queued lasts this long, then the gap is silence. Default 60. */
  maxConcealMs?: number;
  /** Moving the offset by k frames must lower the cost by more than k times this. Default 8. */
  hysteresisMs?: number;
}

export interface NativeFixedJitterConfig extends NativeJitterConfig {
  /** Play-out delay after the arrival of each talkspurt's first packet. */
  delayMs: number;
}

/** One received RTP packet (RFC 3550 §5.1 fields). */
export interface NativeJitterPacket {
  ssrc: number;
  seq: number;
  timestamp: number;
  /** RFC 3551 §4.1: first packet of a talkspurt. */
  marker: boolean;
  /** Arrival time on the clock pull() is given, in microseconds. */
  arrivalUs: number;
  /** Payload bytes; must equal payload.length when a payload is given (zeros are stored when not). */
  size: number;
  /** Samples in the packet, 0 = unknown (derived from the timestamps). */
  durationTs: number;
  payload?: Uint8Array;
  /** Comfort noise (RFC 3389) or an Opus DTX frame: the sender is silent after it. */
  comfortNoise?: boolean;
}

export type NativeJitterPlayKind = 'frame' | 'conceal' | 'silence';

/** What to play for the next frame. */
export interface NativeJitterPulled {
  /** frame: decode it; conceal: PLC (or Opus FEC, see fecAvailable); silence: DTX/CN gap or not started. */
  kind: NativeJitterPlayKind;
  /** RTP timestamp this pull stands for. */
  timestamp: number;
  /** Samples this pull covers: the next pull is due that much later. */
  durationTs: number;
  /** Payload bytes (copied into payloadOut when given): the frame's, or with fecAvailable the next packet's. */
  size: number;
  /** conceal only: the next packet is queued, its in-band FEC can rebuild this frame (RFC 7587 §3.2). */
  fecAvailable: boolean;
  /** frame: the packet's sequence number and arrival time. */
  seq: number;
  arrivalUs: number;
  comfortNoise: boolean;
  /** frame: first after a reset, a new SSRC or a timestamp jump. */
  discontinuity: boolean;
}

/** Counters since creation or reset(); a reference buffer leaves at 0 what it cannot know. */
export interface NativeJitterStats {
  received: number;
  late: number;
  duplicates: number;
  reordered: number;
  concealedFrames: number;
  droppedForShrink: number;
  currentDelayMs: number;
  targetDelayMs: number;
  maxDelayMs: number;
  playedFrames: number;
  silenceFrames: number;
  insertedForGrowth: number;
  overflowDropped: number;
  resets: number;
  talkspurts: number;
  packetsHeld: number;
  packetsHeldMax: number;
  driftPpm: number;
}

/** One jitter buffer: put() on arrival, pull() once per frame of play-out, both on a caller's clock. */
export interface NativeJitterBuffer {
  put(packet: NativeJitterPacket): void;
  /** `payloadOut`, when given, receives the payload (RangeError when shorter than it). */
  pull(nowUs: number, payloadOut?: Uint8Array): NativeJitterPulled;
  stats(): NativeJitterStats;
  /** Forgets packets, history and counters; keeps the configuration. */
  reset(): void;
}

/** The jitter part (firmware/media/jitter-buffer.ts wraps it). */
export interface NativeJitter {
  /** Our adaptive jitter buffer. */
  create(config?: NativeJitterConfig): NativeJitterBuffer;
  /** Benchmark reference: libspeexdsp's JitterBuffer, default settings, step = one frame. */
  createSpeex(config?: NativeJitterConfig): NativeJitterBuffer;
  /** Benchmark reference: fixed delay per talkspurt. */
  createFixed(config: NativeFixedJitterConfig): NativeJitterBuffer;
}

// ---------------------------------------------------------------------------------------------------
// Media engine (native/engine/): firmware/media/native-media-engine.ts wraps it

/** Engine options as the addon takes them (MediaEngineOptions with every default filled in). */
export interface NativeEngineOptions {
  clock: 'realtime' | 'virtual';
  sampleRateHz: number;
  /** 0 = no stats events. */
  statsIntervalMs: number;
  /** Integer from 0 to 2^53 − 1. */
  randomSeed?: number;
  /**
   * The backend's name and its options, flat (string, number or boolean members are handed to the
   * backend by name): file takes captureWavPath, captureLoop, captureToneHz, captureLevelDbfs,
   * playbackWavPath, echoGainDb, echoDelayMs, echoReportedMs; alsa takes captureDevice, playbackDevice, periodMs,
   * periods, format, channels, rateHz, captureChannel (−1 = mix), realtimePriority, reopenIntervalMs,
   * pacing, alsaConfig (native/engine/alsa-backend.cc); external takes capturePrerollMs, captureBufferMs,
   * playbackBatchMs, playbackMaxPendingMs (native/engine/external-backend.cc).
   */
  audio: { readonly backend: string; readonly [option: string]: string | number | boolean | undefined };
  /** Default 'handset'. */
  audioPath?: AudioPath;
  /** Per path; a path left out keeps the engine's defaults (native/engine/audio-processing.cc). */
  audioProcessing?: Partial<Record<AudioPath, NativeAudioProcessing>>;
}

/** One path's capture processing, flat (native/engine/audio-processing.h PathProcessing). */
export interface NativeAudioProcessing {
  aec: boolean;
  /** 10–1000. */
  aecTailMs: number;
  /** −60–0; 0 = off. */
  noiseSuppressionDb: number;
  agc: boolean;
  /** −60–0. */
  agcLevelDbfs: number;
}

/** ringWav()'s argument. */
export interface NativeRingWav {
  path: string;
  loop: boolean;
  /** −60–20. */
  gainDb: number;
}

/** A codec as the engine runs it (native/engine/codec.h CodecParams). */
export interface NativeCodecParams {
  name: string;
  payloadType: number;
  /** RTP timestamp rate. */
  clockRateHz: number;
  /** Rate the codec runs at. */
  sampleRateHz: number;
  ptimeMs: number;
  fec: boolean;
  dtx: boolean;
  /** 0 = codec default. */
  bitrateBps: number;
  expectedLossPercent: number;
  complexity: number;
}

/** SRTP of a stream (native/engine/srtp.h Params): the suite and the two master key + salt (30 octets each, RFC 4568 §6.2.1). */
export interface NativeSrtpParams {
  suite: 'AES_CM_128_HMAC_SHA1_80' | 'AES_CM_128_HMAC_SHA1_32';
  /** Protects what we send. */
  localKey: Uint8Array;
  /** Checks what we receive. */
  remoteKey: Uint8Array;
}

/** What updateStream() replaces (all of it: the wrapper merges). */
export interface NativeStreamMedia {
  direction: 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';
  remoteAddress?: string;
  remotePort?: number;
  /** 0 or absent: remotePort + 1 (or remotePort with rtcp-mux). */
  remoteRtcpPort?: number;
  codec: NativeCodecParams;
  telephoneEventPayloadType?: number;
  comfortNoisePayloadType?: number;
  /** 0 = off. */
  rtpTimeoutMs: number;
  jitter: { minDelayMs: number; maxDelayMs: number; initialDelayMs: number };
  /** Absent: plain RTP. */
  srtp?: NativeSrtpParams;
}

export interface NativeStreamOptions extends NativeStreamMedia {
  localAddress: string;
  /** 0 = the kernel picks. */
  localPort: number;
  localRtcpPort?: number;
  rtcpMux: boolean;
  latching: boolean;
  rtcpMinIntervalMs: number;
  cname: string;
  dscp: number;
}

export interface NativeStreamInfo {
  id: number;
  localRtpPort: number;
  localRtcpPort: number;
  localSsrc: number;
}

export interface NativeDtmfOptions {
  digits: string;
  durationMs: number;
  gapMs: number;
  volumeDbm0: number;
}

/** Events as the engine's thread-safe function delivers them; 'flushed' answers flushEvents(). */
export type NativeEngineEvent = MediaEngineEvent | { type: 'flushed'; token: number; timeMs: number };

/**
 * One engine: its threads, device and streams. Errors thrown carry `code` (MediaEngineErrorCode) and,
 * for system calls, `errno`, `systemCode`, `syscall` and `address`.
 */
export interface NativeMediaEngineHandle {
  readonly closed: boolean;
  readonly clock: 'realtime' | 'virtual';
  readonly sampleRateHz: number;
  createStream(options: NativeStreamOptions): NativeStreamInfo;
  updateStream(streamId: number, media: NativeStreamMedia): void;
  startStream(streamId: number): void;
  stopStream(streamId: number): void;
  closeStream(streamId: number): void;
  sendDtmf(streamId: number, dtmf: NativeDtmfOptions): void;
  getStats(streamId: number): RtpStreamStats;
  playTone(spec: ToneSpec): void;
  stopTone(): void;
  /** The ringer: a cadence (segments may use alternateMs), or a WAV read and converted on the calling thread. */
  ringTone(spec: ToneSpec): void;
  ringWav(ring: NativeRingWav): void;
  stopRing(): void;
  /** Mix-minus conference of these streams (2 or more, distinct); replaces any conference. */
  joinConference(streamIds: readonly number[]): void;
  splitConference(): void;
  setAudioPath(path: AudioPath): void;
  /** dB, finite; the engine clamps them to −40..+20. A field left out keeps its value. */
  setGains(gains: { path: AudioPath; micGainDb?: number; speakerGainDb?: number }): void;
  setMuted(muted: boolean): void;
  getAudioStats(): AudioStats;
  /** `external` backend: microphone samples at the engine rate (ERR_MEDIA_STATE with another backend). */
  pushCapture(pcm: Int16Array): void;
  /** Virtual clock only; blocks until the ticks of `ms` have run (microseconds of CPU each). */
  advance(ms: number): void;
  nowMs(): number;
  /** Queues { type: 'flushed', token } behind every event posted so far. */
  flushEvents(token: number): void;
  ref(): void;
  unref(): void;
  /** Joins the threads, sends RTCP BYE, closes sockets and the device; drops undelivered events. */
  close(): void;
}

/** The engine part. */
export interface NativeEngine {
  create(options: NativeEngineOptions, onEvent: (event: NativeEngineEvent) => void): NativeMediaEngineHandle;
  /** Names in the codec registry. */
  codecs(): string[];
  /** Names in the audio backend registry. */
  audioBackends(): string[];
  /** A speexdsp converter (rates 1000–384000 Hz, quality 0–10, default 5). */
  createResampler(options: { inRateHz: number; outRateHz: number; quality?: number }): PcmResampler;
}

// ---------------------------------------------------------------------------------------------------
// The addon

/** G.711 (firmware/media/g711.ts wraps it). */
export interface NativeG711 {
  /** ITU-T G.711 encode: one code per sample. `out`, when given, must have pcm.length bytes and is returned. */
  encode(law: G711Law, pcm: Int16Array, out?: Uint8Array): Uint8Array;
  /** ITU-T G.711 decode: one sample per code. `out`, when given, must have codes.length samples and is returned. */
  decode(law: G711Law, codes: Uint8Array, out?: Int16Array): Int16Array;
}

/** The GPIO character-device part; hal/gpio/cdev-binding.ts declares the subset the hal uses. */
export interface NativeGpio {
  /** Opens a chip (open + GPIO_GET_CHIPINFO_IOCTL); throws a NativeSystemError (ENOENT, EACCES, ENOTTY ...). */
  openChip(path: string): NativeGpioChip;
  /** Test support: see NativeGpioLoopbackRequest. Offsets must be below 64. */
  loopbackRequest(options: { offsets: readonly number[] }, onEvent: (event: NativeGpioEvent) => void): NativeGpioLoopbackRequest;
}

/** The exports of offhook_native.node: one frozen object per part. */
export interface NativeAddon {
  /** NATIVE_ADDON_API_VERSION of the sources it was built from. */
  readonly apiVersion: number;
  readonly g711: NativeG711;
  readonly gpio: NativeGpio;
  readonly jitter: NativeJitter;
  readonly engine: NativeEngine;
}

/** Every function of every part, checked at load time. */
const FUNCTION_EXPORTS: { [Part in Exclude<keyof NativeAddon, 'apiVersion'>]: readonly (keyof NativeAddon[Part])[] } = {
  g711: ['encode', 'decode'],
  gpio: ['openChip', 'loopbackRequest'],
  jitter: ['create', 'createSpeex', 'createFixed'],
  engine: ['create', 'codecs', 'audioBackends', 'createResampler'],
};

// ---------------------------------------------------------------------------------------------------
// Loading

export type NativeAddonFailure = 'missing' | 'unloadable' | 'incompatible';

/** The addon could not be used: which files were tried, on what platform, and how to rebuild. */
export class NativeAddonError extends Error {
  override readonly name = 'NativeAddonError';
  readonly reason: NativeAddonFailure;
  /** Absolute paths looked at, in order. */
  readonly tried: readonly string[];

  constructor(reason: NativeAddonFailure, detail: string, tried: readonly string[], options: { cause?: unknown } = {}) {
    const platform = `${process.platform}-${process.arch}, Node ${process.version} (Node-API ${process.versions.napi ?? '?'})`;
    super(`native addon ${reason}: ${detail}; tried ${tried.join(', ')}; on ${platform}; ${NATIVE_ADDON_REBUILD_HINT}`, options);
    this.reason = reason;
    this.tried = tried;
  }
}

export interface LoadNativeAddonOptions {
  /** Load exactly this file and try nothing else. */
  path?: string;
  /** The module URL or file path the search starts from, instead of this module's (tests). */
  from?: string | URL;
}

/**
 * Where the addon may be, in order: beside the running module (the bundle dist/offhook.mjs has
 * dist/offhook_native.node next to it), then build/Release/ of each folder upwards until the one
 * holding package.json (running from sources: firmware/media/ → the repository root).
 */
export function nativeAddonCandidates(from: string | URL = import.meta.url): string[] {
  const start = dirname(from instanceof URL || from.startsWith('file:') ? fileURLToPath(from) : from);
  const candidates = [join(start, NATIVE_ADDON_FILE)];
  for (let dir = start; ; ) {
    candidates.push(join(dir, 'build', 'Release', NATIVE_ADDON_FILE));
    const parent = dirname(dir);
    if (existsSync(join(dir, 'package.json')) || parent === dir) break;
    dir = parent;
  }
  return candidates;
}

function firstLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split('\n', 1)[0] ?? text;
}

function checkExports(value: unknown, file: string, tried: readonly string[]): NativeAddon {
  if (typeof value !== 'object' || value === null) {
    throw new NativeAddonError('incompatible', `${file} exports no object`, tried);
  }
  const exports = value as Record<string, unknown>;
  if (exports.apiVersion !== NATIVE_ADDON_API_VERSION) {
    throw new NativeAddonError(
      'incompatible',
      `${file} was built from other sources (apiVersion ${String(exports.apiVersion)}, expected ${NATIVE_ADDON_API_VERSION})`,
      tried,
    );
  }
  const missing = Object.entries(FUNCTION_EXPORTS).flatMap(([part, names]) => {
    const object = exports[part];
    return names
      .filter((name) => typeof object !== 'object' || object === null || typeof (object as Record<string, unknown>)[name] !== 'function')
      .map((name) => `${part}.${name}`);
  });
  if (missing.length > 0) {
    throw new NativeAddonError('incompatible', `${file} lacks ${missing.join(', ')}`, tried);
  }
  return value as NativeAddon;
}

/**
 * Loads offhook_native.node (Node caches it per file: loading twice gives the same exports).
 * Throws NativeAddonError when it is missing, cannot be loaded (wrong architecture, missing
 * library) or was built from other sources.
 */
export function loadNativeAddon(options: LoadNativeAddonOptions = {}): NativeAddon {
  const candidates = options.path !== undefined ? [options.path] : nativeAddonCandidates(options.from);
  const index = candidates.findIndex((candidate) => existsSync(candidate));
  const file = candidates[index];
  if (file === undefined) {
    throw new NativeAddonError('missing', `no ${NATIVE_ADDON_FILE} found`, candidates);
  }
  // The first file found is the one meant; a broken one is reported, not skipped for an older one.
  const tried = candidates.slice(0, index + 1);
  let exports: unknown;
  try {
    exports = createRequire(import.meta.url)(file);
  } catch (err) {
    throw new NativeAddonError('unloadable', `${file} could not be loaded (${firstLine(err)})${nativeFileProblem(file, err)}`, tried, { cause: err });
  }
  return checkExports(exports, file, tried);
}
