// The media section of the configuration file: codec order, packetization, Opus, jitter buffer, RTP ports, audio devices and per-path processing.
import { array, boolean, number, object, oneOf, optional, required, section, string, tagged, withDefault, type Infer, type Schema } from './schema.js';

/**
 * Codecs this build's media engine registers (firmware/media/codecs.ts CodecName, repeated here
 * because the config layer imports nothing of the media layer; the composition root maps them).
 */
export const CONFIG_CODECS = ['opus', 'PCMU', 'PCMA'] as const;
export type ConfigCodec = (typeof CONFIG_CODECS)[number];

/** A codec name; G.722, which people expect of a desk phone, is refused with the reason. */
const codecName: Schema<ConfigCodec> = (() => {
  const names = oneOf(CONFIG_CODECS);
  return {
    expected: names.expected,
    check(value, path, issues) {
      if (typeof value === 'string' && /^g\.?722$/i.test(value)) {
        issues.push({ path, message: `G722 is not available: this build has no G.722 codec (no G.722 library is linked); use opus for wideband audio (${names.expected})` });
        return undefined;
      }
      return names.check(value, path, issues);
    },
  };
})();

/**
 * The audio device of a path: ALSA PCMs by name on a board (or the desktop's, in the emulator), the
 * emulator page's microphone and speaker, WAV files, or nothing. `alsa`, `file` and `null` are also
 * the board profile's `audio`; `browser` is the engine's `external` backend, fed by the emulator's
 * web server.
 */
const audioBackend = tagged('backend', {
  alsa: object({
    /** PCM names: "plughw:CARD=wm8960soundcard,DEV=0", "hw:1,0", "default". */
    capture: required(string({ minLength: 1 })),
    playback: required(string({ minLength: 1 })),
    /** Period asked of the driver. */
    periodMs: withDefault(number({ integer: true, min: 1, max: 100, unit: 'ms' }), 10),
    /** Buffer size in periods. */
    periods: withDefault(number({ integer: true, min: 2, max: 4 }), 3),
    /** Rate to ask for; absent: the engine's rate, or the nearest the device has. */
    rateHz: optional(number({ integer: true, min: 4000, max: 768_000, unit: 'Hz' })),
    /** The microphone's channel (0-based) on a multi-channel device; absent: the channels' average. */
    captureChannel: optional(number({ integer: true, min: 0, max: 31 })),
  }),
  file: object({
    /** A WAV file played as the microphone; absent: silence. */
    capture: optional(string({ minLength: 1 })),
    /** Start the capture WAV again at its end. */
    loop: withDefault(boolean(), true),
    /** A WAV file the speaker's audio is written to; absent: discarded. */
    playback: optional(string({ minLength: 1 })),
    /**
     * An echo test: what the speaker plays comes back into the microphone this much later and this
     * much weaker (added to `capture`), so the far end hears itself. The emulator's demo phone 101.
     */
    echo: optional(
      object({
        delayMs: withDefault(number({ integer: true, min: 0, max: 1000, unit: 'ms' }), 500),
        gainDb: withDefault(number({ min: -60, max: 0, unit: 'dB' }), 0),
      }),
    ),
  }),
  /**
   * The emulator page's microphone (getUserMedia) and speaker (an AudioWorklet), PCM over the page's
   * WebSocket. The page attaches them to one phone at a time; while none is attached the phone hears
   * silence and its speaker goes nowhere. Only with the emulator's web page (`--ui web`).
   */
  browser: object({
    /** Queued before the microphone starts, and again after it ran dry: the cushion for the network's jitter. */
    prerollMs: withDefault(number({ integer: true, min: 0, max: 1000, unit: 'ms' }), 40),
    /** The most that is queued (at least prerollMs + 20); beyond it the oldest audio is dropped. */
    bufferMs: withDefault(number({ integer: true, min: 20, max: 5000, unit: 'ms' }), 300),
  }),
  null: object({}),
});

/**
 * One audio path (handset, speaker, headset). Gains calibrate the hardware (the user's volume steps,
 * kept in the state file, come on top). Echo cancellation, noise suppression and AGC left absent keep
 * the engine's default for the path (firmware/media/media-options.ts DEFAULT_AUDIO_PROCESSING: on for
 * a real device where the path has an acoustic echo, off for files and null).
 */
const audioPath = object({
  /** This path's own device (e.g. a USB headset); absent: `media.audio`, else the board profile's. */
  audio: optional(audioBackend),
  micGainDb: withDefault(number({ min: -30, max: 30, unit: 'dB' }), 0),
  speakerGainDb: withDefault(number({ min: -30, max: 30, unit: 'dB' }), 0),
  aec: optional(
    object({
      enabled: required(boolean()),
      /** How long an echo the filter covers. */
      tailMs: optional(number({ integer: true, min: 10, max: 1000, unit: 'ms' })),
    }),
  ),
  /** Attenuation of stationary noise; 0 = off. */
  noiseSuppressionDb: optional(number({ integer: true, min: -60, max: 0, unit: 'dB' })),
  agc: optional(
    object({
      enabled: required(boolean()),
      /** The level the AGC steers towards. */
      levelDbfs: optional(number({ min: -60, max: 0, unit: 'dBFS' })),
    }),
  ),
});

export const mediaSchema = object({
  /** Codecs offered, most preferred first. */
  codecs: withDefault(array(codecName, { minItems: 1, unique: true }), () => [...CONFIG_CODECS]),
  /** Packet duration; every codec of this build takes 10, 20, 40 and 60 ms. */
  ptimeMs: withDefault(oneOf([10, 20, 40, 60] as const), 20),
  opus: section(
    object({
      /** maxplaybackrate: 8000 (narrowband), 16000 (wideband) or 48000 (fullband). */
      sampleRateHz: withDefault(oneOf([8000, 16000, 48000] as const), 16000),
      /** maxaveragebitrate; absent: libopus' choice for the rate. */
      maxBitrateBps: optional(number({ integer: true, min: 6000, max: 510_000, unit: 'bit/s' })),
      /** In-band forward error correction (useinbandfec). */
      fec: withDefault(boolean(), true),
      /** Send nothing in silence (usedtx); off by default, since a silent stream looks dead to an RTP timeout. */
      dtx: withDefault(boolean(), false),
    }),
  ),
  jitter: section(
    object({
      /**
       * A floor under the adaptive target. 0 (the engine's DEFAULT_JITTER): the buffer follows the
       * observed jitter by itself (README "Media engine"); a fixed floor only adds delay on a clean path.
       */
      minDelayMs: withDefault(number({ integer: true, min: 0, max: 2000, unit: 'ms' }), 0),
      maxDelayMs: withDefault(number({ integer: true, min: 0, max: 5000, unit: 'ms' }), 300),
    }),
  ),
  /** Local UDP ports for RTP (even) and RTCP (the odd one above), RFC 3550 §11. */
  rtpPorts: section(
    object({
      min: withDefault(number({ integer: true, min: 1024, max: 65_534 }), 16_384),
      max: withDefault(number({ integer: true, min: 1025, max: 65_535 }), 32_767),
    }),
  ),
  /** The audio device for every path; absent: the board profile's `audio`. */
  audio: optional(audioBackend),
  paths: section(
    object({
      handset: section(audioPath),
      speaker: section(audioPath),
      headset: section(audioPath),
    }),
  ),
});

export type MediaConfig = Infer<typeof mediaSchema>;
export type AudioBackendConfig = NonNullable<MediaConfig['audio']>;
export type AudioPathConfig = MediaConfig['paths']['handset'];
