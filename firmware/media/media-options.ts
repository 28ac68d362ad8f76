// Checks MediaEngine options and fills in their defaults, the same way for the native engine and the mock.
import { CODEC_CAPABILITIES, type CodecOptions } from './codecs.js';
import {
  ALSA_SAMPLE_FORMATS,
  AUDIO_PATHS,
  MAX_GAIN_DB,
  MEDIA_DIRECTIONS,
  MIN_GAIN_DB,
  MediaEngineError,
  type AlsaAudioBackendOptions,
  type AudioGains,
  type AudioPath,
  type AudioProcessingOptions,
  type MediaEngineOptions,
  type RingRequest,
  type RtpStreamOptions,
  type RtpStreamUpdate,
  type ToneRequest,
} from './media-engine.js';
import type {
  NativeAudioProcessing,
  NativeCodecParams,
  NativeEngineOptions,
  NativeSrtpParams,
  NativeStreamMedia,
  NativeStreamOptions,
} from './native-addon.js';
import { decodeSrtpKey, isSrtpSuite, SRTP_SUITES, type SrtpOptions } from './srtp.js';
import {
  countryTone,
  DEFAULT_RING_ALTERNATE_MS,
  DEFAULT_RING_FREQUENCIES_HZ,
  DEFAULT_RING_LEVEL_DBM0,
  dtmfTone,
  isDtmfDigit,
  RING_CADENCES,
  ringSpec,
  TONE_COUNTRIES,
  TONE_NAMES,
  type ToneSpec,
} from './tones.js';

export const DEFAULT_PTIME_MS = 20;
/**
 * Jitter buffer defaults of a stream. minDelayMs 0: no fixed floor above the median transit delay;
 * the buffer's own cost function (delay against priced late loss over the delay histogram, at most
 * 5 % late), its burst detector and its immediate growth decide how much jitter to cover, so the
 * floor follows the observed jitter instead of adding 20 ms on every path: on a clean path the hold
 * converges to under a frame (media-latency bench: mouth-to-ear ~35 ms instead of ~50-60 ms at 20 ms
 * ptime). Safe by the trace bench (scripts/bench/jitter.ts, `--offhook '{"minDelayMs":0}'` against
 * 20): on every trace (Gaussian, Pareto, Gilbert-Elliott, delay step, drift, reordering, Wi-Fi, DTX)
 * the late loss is the same or lower and the delay lower. initialDelayMs 40: the prior for the first
 * 50 packets, before there is a history; lower than 60 so that the start-up surplus is shed sooner.
 * One exception: with Opus in-band FEC the buffer holds one packet more (fecJitterPrior()).
 */
export const DEFAULT_JITTER = { minDelayMs: 0, maxDelayMs: 300, initialDelayMs: 40 } as const;

/**
 * With Opus in-band FEC (RFC 7587 §3.2) a lost frame is rebuilt from the LBRR data of the next packet,
 * which must have arrived when the lost frame is due to play, so the buffer holds one packet more than
 * the jitter alone asks for. The engine sets that floor itself from the codec (jitter::Config::
 * fec_hold_ms in stream.cc: a packet time above the delay all but 5 % of the packets arrive by; in
 * the engine-audio test that rebuilds 19 of 30 lost frames, where a packet above the median delay,
 * the floor this used to set, rebuilt 8 with time-stretching play-out); here the prior, before there
 * is a history, is at least that packet.
 */
function fecJitterPrior(codec: NativeCodecParams): { initialDelayMs?: number } {
  if (!codec.fec) return {};
  return { initialDelayMs: Math.max(DEFAULT_JITTER.initialDelayMs, codec.ptimeMs) };
}
const ENGINE_RATES = [8000, 16000, 32000, 48000];
const CLOCKS: readonly string[] = ['realtime', 'virtual'];

function configError(field: string, message: string): MediaEngineError {
  return new MediaEngineError('ERR_MEDIA_CONFIG', `${field} ${message}`, { field });
}

function integerIn(field: string, value: number | undefined, min: number, max: number): void {
  if (value === undefined) return;
  if (!Number.isInteger(value) || value < min || value > max) throw configError(field, `must be an integer from ${min} to ${max}`);
}

function payloadType(field: string, value: number, rtcpMux: boolean): void {
  integerIn(field, value, 0, 127);
  // RFC 5761 §4: with rtcp-mux, RTP payload types 64–95 collide with RTCP packet types 192–223.
  if (rtcpMux && value >= 64 && value <= 95) throw configError(field, 'must not be 64 to 95 with rtcp-mux (RFC 5761 §4)');
}

/**
 * Capture processing per path on a real device (`alsa`) when the options say nothing: the handset's
 * earpiece couples little and briefly into its microphone (64 ms tail); a loudspeaker in a room
 * echoes long (200 ms) and the talker's distance varies (AGC); a headset has no acoustic path worth
 * cancelling. The `file` and `null` backends have no acoustics: there, everything defaults to off
 * (noise suppression would eat a test's steady tone), and only what the options turn on runs.
 */
export const DEFAULT_AUDIO_PROCESSING: Readonly<Record<AudioPath, NativeAudioProcessing>> = {
  handset: { aec: true, aecTailMs: 64, noiseSuppressionDb: -15, agc: false, agcLevelDbfs: -18 },
  speaker: { aec: true, aecTailMs: 200, noiseSuppressionDb: -20, agc: true, agcLevelDbfs: -18 },
  headset: { aec: false, aecTailMs: 64, noiseSuppressionDb: -15, agc: false, agcLevelDbfs: -18 },
};

function numberIn(field: string, value: number | undefined, min: number, max: number): void {
  if (value === undefined) return;
  if (!(value >= min && value <= max)) throw configError(field, `must be from ${min} to ${max}`);
}

/** One path's settings over its defaults (DEFAULT_AUDIO_PROCESSING on a real device, all off otherwise). */
export function resolveAudioProcessing(path: AudioPath, options: AudioProcessingOptions = {}, acoustic = true): NativeAudioProcessing {
  const defaults = DEFAULT_AUDIO_PROCESSING[path];
  const base = acoustic ? defaults : { ...defaults, aec: false, noiseSuppressionDb: 0, agc: false };
  const field = `audioProcessing.${path}`;
  integerIn(`${field}.aec.tailMs`, options.aec?.tailMs, 10, 1000);
  integerIn(`${field}.noiseSuppressionDb`, options.noiseSuppressionDb, -60, 0);
  numberIn(`${field}.agc.levelDbfs`, options.agc?.levelDbfs, -60, 0);
  return {
    aec: options.aec?.enabled ?? base.aec,
    aecTailMs: options.aec?.tailMs ?? base.aecTailMs,
    noiseSuppressionDb: options.noiseSuppressionDb ?? base.noiseSuppressionDb,
    agc: options.agc?.enabled ?? base.agc,
    agcLevelDbfs: options.agc?.levelDbfs ?? base.agcLevelDbfs,
  };
}

/** createResampler()'s arguments: rates 1000–384000 Hz, quality 0–10. */
export function checkResampler(inRateHz: number, outRateHz: number, quality: number): void {
  integerIn('inRateHz', inRateHz, 1000, 384_000);
  integerIn('outRateHz', outRateHz, 1000, 384_000);
  integerIn('quality', quality, 0, 10);
}

export function checkAudioPath(field: string, path: AudioPath): void {
  if (!AUDIO_PATHS.includes(path)) throw configError(field, `must be one of ${AUDIO_PATHS.join(', ')}`);
}

/** setGains()'s argument checked (a known path, finite numbers) and clamped to MIN_GAIN_DB..MAX_GAIN_DB. */
export function resolveGains(gains: AudioGains): AudioGains {
  checkAudioPath('gains.path', gains.path);
  const gain = (field: 'micGainDb' | 'speakerGainDb'): Partial<AudioGains> => {
    const v = gains[field];
    if (v === undefined) return {};
    if (!Number.isFinite(v)) throw configError(`gains.${field}`, 'must be a finite number of dB');
    return { [field]: Math.min(MAX_GAIN_DB, Math.max(MIN_GAIN_DB, v)) };
  };
  return { path: gains.path, ...gain('micGainDb'), ...gain('speakerGainDb') };
}

const PACINGS: readonly string[] = ['device', 'engine'];

function resolveAlsa(a: AlsaAudioBackendOptions): NativeEngineOptions['audio'] {
  if (typeof a.capture !== 'string' || a.capture === '') throw configError('audio.capture', 'must name an ALSA PCM (hw:, plughw:, default ...)');
  if (typeof a.playback !== 'string' || a.playback === '') throw configError('audio.playback', 'must name an ALSA PCM (hw:, plughw:, default ...)');
  integerIn('audio.periodMs', a.periodMs, 1, 100);
  integerIn('audio.periods', a.periods, 2, 4);
  integerIn('audio.channels', a.channels, 1, 32);
  integerIn('audio.rateHz', a.rateHz, 4000, 768000);
  integerIn('audio.realtimePriority', a.realtimePriority, 0, 99);
  integerIn('audio.reopenIntervalMs', a.reopenIntervalMs, 10, 3_600_000);
  if (a.format !== undefined && !ALSA_SAMPLE_FORMATS.includes(a.format)) throw configError('audio.format', `must be one of ${ALSA_SAMPLE_FORMATS.join(', ')}`);
  if (a.captureChannel !== undefined && a.captureChannel !== 'mix') integerIn('audio.captureChannel', a.captureChannel, 0, 31);
  if (a.pacing !== undefined && !PACINGS.includes(a.pacing)) throw configError('audio.pacing', "must be 'device' or 'engine'");
  const flat: Record<string, string | number | boolean> = {
    backend: 'alsa',
    captureDevice: a.capture,
    playbackDevice: a.playback,
    periodMs: a.periodMs ?? 10,
    periods: a.periods ?? 3,
    captureChannel: a.captureChannel === undefined || a.captureChannel === 'mix' ? -1 : a.captureChannel,
    realtimePriority: a.realtimePriority ?? 40,
    reopenIntervalMs: a.reopenIntervalMs ?? 2000,
    pacing: a.pacing ?? 'device',
  };
  if (a.format !== undefined) flat.format = a.format;
  if (a.channels !== undefined) flat.channels = a.channels;
  if (a.rateHz !== undefined) flat.rateHz = a.rateHz;
  if (a.alsaConfig !== undefined) flat.alsaConfig = a.alsaConfig;
  return flat as NativeEngineOptions['audio'];
}

/** The engine's flat options, defaults filled in. */
export function resolveEngineOptions(options: MediaEngineOptions): NativeEngineOptions {
  const sampleRateHz = options.sampleRateHz ?? 16000;
  if (!ENGINE_RATES.includes(sampleRateHz)) throw configError('sampleRateHz', 'must be 8000, 16000, 32000 or 48000');
  const statsIntervalMs = options.statsIntervalMs ?? 1000;
  integerIn('statsIntervalMs', statsIntervalMs, 0, 3_600_000);
  integerIn('randomSeed', options.randomSeed, 0, Number.MAX_SAFE_INTEGER);
  const clock = options.clock ?? 'realtime';
  if (!CLOCKS.includes(clock)) throw configError('clock', "must be 'realtime' or 'virtual'");
  let audio: NativeEngineOptions['audio'];
  switch (options.audio.backend) {
    case 'null':
      audio = { backend: 'null' };
      break;
    case 'alsa':
      audio = resolveAlsa(options.audio);
      break;
    case 'external': {
      const x = options.audio;
      integerIn('audio.capturePrerollMs', x.capturePrerollMs, 0, 1000);
      integerIn('audio.captureBufferMs', x.captureBufferMs, 20, 5000);
      integerIn('audio.playbackBatchMs', x.playbackBatchMs, 10, 200);
      integerIn('audio.playbackMaxPendingMs', x.playbackMaxPendingMs, 10, 5000);
      const preroll = x.capturePrerollMs ?? 40;
      const buffer = x.captureBufferMs ?? Math.max(300, preroll + 100);
      if (buffer < preroll + 20) throw configError('audio.captureBufferMs', 'must be at least capturePrerollMs + 20');
      audio = {
        backend: 'external',
        capturePrerollMs: preroll,
        captureBufferMs: buffer,
        playbackBatchMs: x.playbackBatchMs ?? 20,
        playbackMaxPendingMs: x.playbackMaxPendingMs ?? 200,
      };
      break;
    }
    case 'file': {
      const capture = options.audio.capture;
      const flat: Record<string, string | number | boolean> = { backend: 'file' };
      if (capture !== undefined && 'wavPath' in capture) {
        flat.captureWavPath = capture.wavPath;
        flat.captureLoop = capture.loop ?? false;
      } else if (capture !== undefined) {
        if (!(capture.toneHz > 0 && capture.toneHz < sampleRateHz / 2)) {
          throw configError('audio.capture.toneHz', 'must be above 0 and below half of sampleRateHz');
        }
        flat.captureToneHz = capture.toneHz;
        flat.captureLevelDbfs = capture.levelDbfs ?? -12;
      }
      if (options.audio.playbackWavPath !== undefined) flat.playbackWavPath = options.audio.playbackWavPath;
      const echo = options.audio.echo;
      if (echo !== undefined) {
        numberIn('audio.echo.gainDb', echo.gainDb, -120, 20);
        integerIn('audio.echo.delayMs', echo.delayMs, 0, 1000);
        integerIn('audio.echo.reportedMs', echo.reportedMs, 0, echo.delayMs ?? 0);
        flat.echoGainDb = echo.gainDb;
        flat.echoDelayMs = echo.delayMs ?? 0;
        if (echo.reportedMs !== undefined) flat.echoReportedMs = echo.reportedMs;
      }
      audio = flat as NativeEngineOptions['audio'];
      break;
    }
    default:
      throw configError('audio.backend', `must be one of 'alsa', 'external', 'file', 'null' (got '${String((options.audio as { backend: unknown }).backend)}')`);
  }
  const audioPath = options.audioPath ?? 'handset';
  checkAudioPath('audioPath', audioPath);
  for (const key of Object.keys(options.audioProcessing ?? {})) checkAudioPath(`audioProcessing.${key}`, key as AudioPath);
  const acoustic = options.audio.backend === 'alsa';
  const audioProcessing = Object.fromEntries(AUDIO_PATHS.map((p) => [p, resolveAudioProcessing(p, options.audioProcessing?.[p], acoustic)])) as Record<
    AudioPath,
    NativeAudioProcessing
  >;
  return {
    clock,
    sampleRateHz,
    statsIntervalMs,
    audio,
    audioPath,
    audioProcessing,
    ...(options.randomSeed !== undefined ? { randomSeed: options.randomSeed } : {}),
  };
}

function resolveCodec(codec: CodecOptions, ptimeMs: number, rtcpMux: boolean): NativeCodecParams {
  const capability = CODEC_CAPABILITIES[codec.name] as (typeof CODEC_CAPABILITIES)[keyof typeof CODEC_CAPABILITIES] | undefined;
  if (capability === undefined) throw configError('codec.name', `must be one of ${Object.keys(CODEC_CAPABILITIES).join(', ')}`);
  if (!capability.ptimesMs.includes(ptimeMs)) throw configError('ptimeMs', `must be one of ${capability.ptimesMs.join(', ')} for ${codec.name}`);
  if (codec.name === 'opus') {
    payloadType('codec.payloadType', codec.payloadType, rtcpMux);
    const sampleRateHz = codec.sampleRateHz ?? 16000;
    if (!capability.sampleRatesHz.includes(sampleRateHz)) throw configError('codec.sampleRateHz', 'must be 8000, 16000 or 48000');
    const bitrateBps = codec.bitrateBps ?? 0;
    if (bitrateBps !== 0) integerIn('codec.bitrateBps', bitrateBps, 6000, 510000);
    const expectedLossPercent = codec.expectedLossPercent ?? 10;
    integerIn('codec.expectedLossPercent', expectedLossPercent, 0, 100);
    const complexity = codec.complexity ?? 5;
    integerIn('codec.complexity', complexity, 0, 10);
    return {
      name: 'opus',
      payloadType: codec.payloadType,
      clockRateHz: capability.rtpClockHz,
      sampleRateHz,
      ptimeMs,
      fec: codec.fec ?? true,
      dtx: codec.dtx ?? false,
      bitrateBps,
      expectedLossPercent,
      complexity,
    };
  }
  const pt = codec.payloadType ?? capability.staticPayloadType ?? 0;
  payloadType('codec.payloadType', pt, rtcpMux);
  return {
    name: codec.name,
    payloadType: pt,
    clockRateHz: capability.rtpClockHz,
    sampleRateHz: capability.rtpClockHz,
    ptimeMs,
    fec: false,
    dtx: false,
    bitrateBps: 0,
    expectedLossPercent: 0,
    complexity: 0,
  };
}

type MediaInput = Pick<
  RtpStreamOptions,
  'direction' | 'codec' | 'ptimeMs' | 'telephoneEvent' | 'comfortNoise' | 'rtpTimeoutMs' | 'jitter' | 'remote' | 'srtp'
>;

function resolveSrtp(srtp: SrtpOptions): NativeSrtpParams {
  if (!isSrtpSuite(srtp.suite)) throw configError('srtp.suite', `must be one of ${SRTP_SUITES.map((s) => s.name).join(', ')}`);
  return { suite: srtp.suite, localKey: decodeSrtpKey('srtp.localKey', srtp.localKey), remoteKey: decodeSrtpKey('srtp.remoteKey', srtp.remoteKey) };
}

function resolveMedia(input: MediaInput, rtcpMux: boolean): NativeStreamMedia {
  const direction = input.direction ?? 'sendrecv';
  if (!MEDIA_DIRECTIONS.includes(direction)) throw configError('direction', `must be one of ${MEDIA_DIRECTIONS.join(', ')}`);
  const codec = resolveCodec(input.codec, input.ptimeMs ?? DEFAULT_PTIME_MS, rtcpMux);
  const media: NativeStreamMedia = {
    direction,
    codec,
    rtpTimeoutMs: input.rtpTimeoutMs ?? 0,
    jitter: { ...DEFAULT_JITTER, ...fecJitterPrior(codec), ...input.jitter },
  };
  integerIn('rtpTimeoutMs', media.rtpTimeoutMs, 0, 3_600_000);
  integerIn('jitter.minDelayMs', media.jitter.minDelayMs, 0, 2000);
  integerIn('jitter.maxDelayMs', media.jitter.maxDelayMs, 0, 5000);
  integerIn('jitter.initialDelayMs', media.jitter.initialDelayMs, 0, 5000);
  if (input.telephoneEvent !== undefined) {
    payloadType('telephoneEvent.payloadType', input.telephoneEvent.payloadType, rtcpMux);
    if (input.telephoneEvent.payloadType === codec.payloadType) throw configError('telephoneEvent.payloadType', "must differ from the codec's");
    media.telephoneEventPayloadType = input.telephoneEvent.payloadType;
  }
  if (input.comfortNoise !== undefined) {
    payloadType('comfortNoise.payloadType', input.comfortNoise.payloadType, rtcpMux);
    media.comfortNoisePayloadType = input.comfortNoise.payloadType;
  }
  if (input.remote !== undefined) {
    if (input.remote.address === '') throw configError('remote.address', 'must be a literal IPv4 or IPv6 address');
    integerIn('remote.port', input.remote.port, 1, 65535);
    integerIn('remote.rtcpPort', input.remote.rtcpPort, 0, 65535);
    media.remoteAddress = input.remote.address;
    media.remotePort = input.remote.port;
    if (input.remote.rtcpPort !== undefined) media.remoteRtcpPort = input.remote.rtcpPort;
  }
  if (input.srtp !== undefined) media.srtp = resolveSrtp(input.srtp);
  return media;
}

/** A stream's flat options, defaults filled in. */
export function resolveStreamOptions(options: RtpStreamOptions): NativeStreamOptions {
  const rtcpMux = options.rtcpMux ?? false;
  integerIn('local.port', options.local.port, 0, 65535);
  integerIn('local.rtcpPort', options.local.rtcpPort, 0, 65535);
  integerIn('rtcpMinIntervalMs', options.rtcpMinIntervalMs, 100, 60000);
  integerIn('dscp', options.dscp, 0, 63);
  const cname = options.cname ?? 'offhook';
  if (cname.length === 0 || Buffer.byteLength(cname) > 255) throw configError('cname', 'must be 1 to 255 bytes (RFC 3550 §6.5)');
  return {
    ...resolveMedia(options, rtcpMux),
    localAddress: options.local.address,
    localPort: options.local.port ?? 0,
    ...(options.local.rtcpPort !== undefined ? { localRtcpPort: options.local.rtcpPort } : {}),
    rtcpMux,
    latching: options.latching ?? false,
    rtcpMinIntervalMs: options.rtcpMinIntervalMs ?? 5000,
    cname,
    dscp: options.dscp ?? 46,
  };
}

/** The stream options after an update (null forgets a field), for the next resolve. */
export function mergeStreamUpdate(current: RtpStreamOptions, update: RtpStreamUpdate): RtpStreamOptions {
  const next: RtpStreamOptions = { ...current };
  if (update.remote === null) delete next.remote;
  else if (update.remote !== undefined) next.remote = update.remote;
  if (update.telephoneEvent === null) delete next.telephoneEvent;
  else if (update.telephoneEvent !== undefined) next.telephoneEvent = update.telephoneEvent;
  if (update.comfortNoise === null) delete next.comfortNoise;
  else if (update.comfortNoise !== undefined) next.comfortNoise = update.comfortNoise;
  if (update.srtp === null) delete next.srtp;
  else if (update.srtp !== undefined) next.srtp = update.srtp;
  if (update.direction !== undefined) next.direction = update.direction;
  if (update.codec !== undefined) next.codec = update.codec;
  if (update.ptimeMs !== undefined) next.ptimeMs = update.ptimeMs;
  if (update.rtpTimeoutMs !== undefined) next.rtpTimeoutMs = update.rtpTimeoutMs;
  if (update.jitter !== undefined) next.jitter = { ...current.jitter, ...update.jitter };
  return next;
}

/** The media part of resolved options, as updateStream() takes it. */
export function mediaOf(options: NativeStreamOptions): NativeStreamMedia {
  const { localAddress: _a, localPort: _p, localRtcpPort: _r, rtcpMux: _m, latching: _l, rtcpMinIntervalMs: _i, cname: _c, dscp: _d, ...media } =
    options;
  return media;
}

/** A ring request resolved: a WAV for the engine to read, or the cadence's tone spec. */
export type ResolvedRing = { kind: 'wav'; path: string; loop: boolean; gainDb: number } | { kind: 'tone'; spec: ToneSpec };

export function resolveRing(request: RingRequest): ResolvedRing {
  if ('wav' in request) {
    if (typeof request.wav !== 'string' || request.wav === '') throw configError('wav', 'must be the path of a WAV file');
    numberIn('gainDb', request.gainDb, -60, 20);
    return { kind: 'wav', path: request.wav, loop: request.loop ?? true, gainDb: request.gainDb ?? 0 };
  }
  if (!TONE_COUNTRIES.includes(request.country)) throw configError('country', `must be one of ${TONE_COUNTRIES.join(', ')}`);
  const cadence = request.cadenceMs ?? RING_CADENCES[request.country].onOffMs;
  if (cadence.length === 0 || cadence.length > 64 || cadence.some((ms) => !Number.isInteger(ms) || ms <= 0 || ms > 600_000)) {
    throw configError('cadenceMs', 'must hold 1 to 64 durations, each an integer from 1 to 600000 ms');
  }
  const frequenciesHz = request.frequenciesHz ?? DEFAULT_RING_FREQUENCIES_HZ;
  if (frequenciesHz.length === 0 || frequenciesHz.length > 4) throw configError('frequenciesHz', 'must hold 1 to 4 frequencies');
  integerIn('alternateMs', request.alternateMs, 1, 10000);
  numberIn('levelDbm0', request.levelDbm0, -60, 3);
  return {
    kind: 'tone',
    spec: ringSpec(cadence, frequenciesHz, request.alternateMs ?? DEFAULT_RING_ALTERNATE_MS, request.levelDbm0 ?? DEFAULT_RING_LEVEL_DBM0),
  };
}

/** The spec of a tone request. */
export function resolveTone(request: ToneRequest): ToneSpec {
  if ('spec' in request) return request.spec;
  if ('dtmf' in request) {
    if (!isDtmfDigit(request.dtmf)) throw configError('dtmf', 'must be a DTMF digit (0-9, *, #, A-D)');
    return dtmfTone(request.dtmf, request.durationMs);
  }
  if (!TONE_COUNTRIES.includes(request.country)) throw configError('country', `must be one of ${TONE_COUNTRIES.join(', ')}`);
  if (!TONE_NAMES.includes(request.tone)) throw configError('tone', `must be one of ${TONE_NAMES.join(', ')}`);
  return countryTone(request.country, request.tone);
}
