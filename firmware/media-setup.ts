// The media engine of the composition root: config + board profile → MediaEngineOptions, the native engine started with them, and its audio problems for the LCD.
import type { BoardProfile } from './config/board-schema.js';
import type { OffhookConfig } from './config/config-schema.js';
import type { AudioBackendConfig, AudioPathConfig } from './config/media-config-schema.js';
import type { BrowserAudioPort } from './emulator/browser-audio.js';
import type { AudioBackendOptions, AudioPath, AudioProcessingOptions, MediaEngine, MediaEngineOptions } from './media/media-engine.js';
import { loadNativeAddon, type NativeAddon } from './media/native-addon.js';
import { NativeMediaEngine } from './media/native-media-engine.js';
import type { Logger } from './util/log.js';

/** The config's audio device (media.audio) as the engine's backend options. */
function backendOf(a: AudioBackendConfig): AudioBackendOptions {
  switch (a.backend) {
    case 'alsa':
      return {
        backend: 'alsa',
        capture: a.capture,
        playback: a.playback,
        periodMs: a.periodMs,
        periods: a.periods,
        ...(a.rateHz !== undefined ? { rateHz: a.rateHz } : {}),
        ...(a.captureChannel !== undefined ? { captureChannel: a.captureChannel } : {}),
      };
    case 'file':
      return {
        backend: 'file',
        ...(a.capture !== undefined ? { capture: { wavPath: a.capture, loop: a.loop } } : {}),
        ...(a.playback !== undefined ? { playbackWavPath: a.playback } : {}),
        ...(a.echo !== undefined ? { echo: { gainDb: a.echo.gainDb, delayMs: a.echo.delayMs } } : {}),
      };
    case 'browser':
      return { backend: 'external', capturePrerollMs: a.prerollMs, captureBufferMs: a.bufferMs };
    case 'null':
      return { backend: 'null' };
  }
}

/** The board profile's audio: ALSA PCMs by name ("default" for one left out), WAV files, or nothing. */
function boardBackend(board: BoardProfile): AudioBackendOptions {
  const a = board.audio;
  switch (a.backend) {
    case 'alsa':
      return { backend: 'alsa', capture: a.capture ?? 'default', playback: a.playback ?? 'default' };
    case 'file':
      return {
        backend: 'file',
        ...(a.capture !== undefined ? { capture: { wavPath: a.capture, loop: true } } : {}),
        ...(a.playback !== undefined ? { playbackWavPath: a.playback } : {}),
      };
    case 'null':
      return { backend: 'null' };
  }
}

/** One path's capture processing as the engine takes it; absent fields keep the engine's default for the path. */
function processingOf(p: AudioPathConfig): AudioProcessingOptions {
  return {
    ...(p.aec !== undefined ? { aec: { enabled: p.aec.enabled, ...(p.aec.tailMs !== undefined ? { tailMs: p.aec.tailMs } : {}) } } : {}),
    ...(p.noiseSuppressionDb !== undefined ? { noiseSuppressionDb: p.noiseSuppressionDb } : {}),
    ...(p.agc !== undefined ? { agc: { enabled: p.agc.enabled, ...(p.agc.levelDbfs !== undefined ? { levelDbfs: p.agc.levelDbfs } : {}) } } : {}),
  };
}

/**
 * The engine's options. The device is media.audio when the config has one, else the board
 * profile's `audio` (ALSA on a real board; the emulator board's is "null": silence in, nothing out,
 * and a config's `media.audio` gives it a microphone and a speaker: `browser` the emulator page's,
 * through the engine's `external` backend; `alsa` the desktop's; `file` WAV files). The engine runs at 48 kHz when Opus may go fullband, else 16 kHz.
 * The engine has one device: a path's own `audio` is not supported yet (logged by startMedia). The
 * calibration gains (micGainDb, speakerGainDb) are set on the engine by EngineAudioControls
 * (audio-controls.ts), with the volume steps on top.
 */
export function mediaEngineOptions(config: OffhookConfig, board: BoardProfile): MediaEngineOptions {
  const m = config.media;
  const paths: Record<AudioPath, AudioPathConfig> = m.paths;
  return {
    audio: m.audio ? backendOf(m.audio) : boardBackend(board),
    sampleRateHz: m.codecs.includes('opus') && m.opus.sampleRateHz === 48000 ? 48000 : 16000,
    audioProcessing: { handset: processingOf(paths.handset), speaker: processingOf(paths.speaker), headset: processingOf(paths.headset) },
  };
}

export interface MediaSetupOptions {
  config: OffhookConfig;
  board: BoardProfile;
  log: Logger;
  /** An engine to use instead of the native one (tests: MockMediaEngine). */
  engine?: MediaEngine | undefined;
  /** Default: loadNativeAddon(). */
  addon?: (() => Pick<NativeAddon, 'engine'>) | undefined;
}

export interface MediaSetup {
  /** Undefined when there is no engine (the addon could not be loaded): calls cannot have media. */
  engine: MediaEngine | undefined;
  /**
   * The engine's microphone and speaker for the emulator's page, when the config says
   * `media.audio.backend: browser` and the engine runs it (not after a fall-back to `null`).
   */
  browserAudio: BrowserAudioPort | undefined;
  /** What is wrong with the audio, for the LCD ("No audio: ..."); undefined when nothing is. */
  problem(): string | undefined;
  close(): void;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Starts the media engine. Failures do not stop the phone, and each is reported on the LCD and in
 * the log ("a missing LCD or audio device is reported on whatever output remains, and the rest keeps
 * working"):
 * - no addon (not built, another architecture): no engine. Calls need one — the UA then refuses
 *   incoming calls (480) and the phone cannot place any — so the LCD says "No audio engine";
 * - an audio device the engine refuses at start (a WAV it cannot read, a bad option): the engine runs
 *   on the `null` backend instead, so calls still connect (without sound), and the LCD says so;
 * - an ALSA device missing or failing later: the engine's 'deviceError' (it retries the device by
 *   itself), shown until 'deviceRecovered'.
 */
export function startMedia(o: MediaSetupOptions): MediaSetup {
  const log = o.log.child({ mod: 'media' });
  const paths: Record<AudioPath, AudioPathConfig> = o.config.media.paths;
  for (const [path, p] of Object.entries(paths)) {
    if (p.audio !== undefined) log.warn({ path }, 'media.paths.*.audio is not supported yet: every path uses media.audio (or the board\'s)');
  }
  if (o.engine) return { engine: o.engine, browserAudio: browserAudioOf(o.config, o.engine), problem: () => undefined, close: () => o.engine?.close() };

  let addon: Pick<NativeAddon, 'engine'>;
  try {
    addon = (o.addon ?? loadNativeAddon)();
  } catch (err) {
    log.error({ err: message(err) }, 'the media engine cannot be loaded: calls have no media');
    return { engine: undefined, browserAudio: undefined, problem: () => 'No audio engine', close: () => undefined };
  }
  const options = mediaEngineOptions(o.config, o.board);
  let engine: NativeMediaEngine;
  let startProblem: string | undefined;
  try {
    engine = new NativeMediaEngine({ ...options, addon });
  } catch (err) {
    startProblem = `No audio: ${message(err)}`;
    log.error({ err: message(err), backend: options.audio.backend }, 'the audio device cannot be used: calls run without sound');
    try {
      engine = new NativeMediaEngine({ ...options, audio: { backend: 'null' }, addon });
    } catch (err2) {
      log.error({ err: message(err2) }, 'the media engine cannot start: calls have no media');
      return { engine: undefined, browserAudio: undefined, problem: () => 'No audio engine', close: () => undefined };
    }
  }
  let deviceProblem: string | undefined;
  engine.on('deviceError', (e) => {
    deviceProblem = `No audio: ${e.device}`;
    log.error({ device: e.device, message: e.message, code: e.systemCode }, 'audio device failed; retrying');
  });
  engine.on('deviceRecovered', (e) => {
    deviceProblem = undefined;
    log.info({ device: e.device, downMs: e.downMs }, 'audio device back');
  });
  engine.on('deviceOpened', (e) => {
    log.info({ capture: e.capture, playback: e.playback, realtime: e.realtime, realtimeError: e.realtimeError || undefined }, 'audio device opened');
  });
  log.info({ backend: options.audio.backend, sampleRateHz: engine.sampleRateHz }, 'media engine started');
  return {
    engine,
    browserAudio: browserAudioOf(o.config, engine),
    problem: () => deviceProblem ?? startProblem,
    close: () => engine.close(),
  };
}

/**
 * The page's end of an engine on the `external` backend (config `browser`): what the emulator's web
 * server pushes and plays (firmware/emulator/browser-audio.ts). Undefined for any other backend.
 */
export function browserAudioOf(config: OffhookConfig, engine: MediaEngine): BrowserAudioPort | undefined {
  if (config.media.audio?.backend !== 'browser' || engine.getAudioStats().backend !== 'external') return undefined;
  return {
    sampleRateHz: engine.sampleRateHz,
    pushCapture: (pcm) => {
      if (!engine.closed) engine.pushCapture(pcm);
    },
    onPlayback: (listener) => engine.on('playback', (e) => listener(e.pcm)),
    createResampler: (inRateHz, outRateHz) => engine.createResampler(inRateHz, outRateHz),
  };
}
