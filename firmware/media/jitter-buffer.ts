// Typed wrapper over the native jitter buffers (ours, and speexdsp's and a fixed one for benchmarks), driven on any clock.
import type {
  NativeAddon,
  NativeJitterBuffer,
  NativeJitterConfig,
  NativeJitterPacket,
  NativeJitterPulled,
  NativeJitterStats,
} from './native-addon.js';

export type { NativeJitterPacket as JitterPacket, NativeJitterPlayKind as JitterPlayKind } from './native-addon.js';

/** Our buffer's configuration: the addon's, plus time-stretching play-out. */
export interface JitterBufferConfig extends NativeJitterConfig {
  /**
   * Time-stretching play-out: the delay follows the target continuously (frames played up to 25 %
   * shorter or 50 % longer, see `playoutTs`; silence cut or lengthened to the sample), and a frame
   * missing in speech is waited for in 2.5 ms steps of concealment while it may still come. Default
   * false: play-out moves by whole frames.
   */
  timeStretch?: boolean;
  /** With timeStretch: the longest wait for one missing frame before it is given up. Default 100. */
  maxWaitMs?: number;
}

/** What to play for the next pull. */
export interface JitterPulled extends NativeJitterPulled {
  /**
   * How long this pull plays, in timestamp units: the next pull is due that much later. Equal to
   * durationTs except for a frame our buffer asks to be time-stretched (the engine stretches the
   * decoded audio to this length); the reference buffers never stretch.
   */
  playoutTs: number;
}

/** Counters since creation or reset(); the time-stretching ones are 0 without timeStretch. */
export interface JitterStats extends NativeJitterStats {
  stretchedFrames: number;
  stretchRemovedMs: number;
  stretchAddedMs: number;
  /** Concealment played while waiting for a missing frame that might still come (ms). */
  waitMs: number;
  /** Waits that ended with the frame played. */
  waitsRescued: number;
  /** Packets played although their frame had been concealed (only concealment since the last frame). */
  rewinds: number;
}

/** Which buffer: ours (`adaptive`), or a benchmark reference. */
export type JitterBufferKind = 'adaptive' | 'speex' | 'fixed';

interface JitterBufferOptionsBase {
  /** The loaded addon, or anything with its jitter part. */
  addon: Pick<NativeAddon, 'jitter'>;
  config?: JitterBufferConfig;
}

export type JitterBufferOptions =
  | (JitterBufferOptionsBase & { kind?: 'adaptive' })
  | (JitterBufferOptionsBase & { kind: 'speex' })
  | (JitterBufferOptionsBase & { kind: 'fixed'; delayMs: number });

/** A configuration value the native side refused: `field` is its name in JitterBufferConfig (or delayMs). */
export class JitterConfigError extends RangeError {
  override readonly name = 'JitterConfigError';
  readonly field: string;

  constructor(field: string, message: string, options: { cause?: unknown } = {}) {
    super(message, options);
    this.field = field;
  }
}

function fieldOf(err: unknown): string | undefined {
  if (!(err instanceof RangeError)) return undefined;
  const field: unknown = (err as RangeError & { field?: unknown }).field;
  if (typeof field === 'string') return field;
  // Argument checks of the binding name the field in the message: "config.maxDelayMs must be ...".
  return /^config\.(\w+)/.exec(err.message)?.[1];
}

function createNative(options: JitterBufferOptions): NativeJitterBuffer {
  const config = options.config ?? {};
  switch (options.kind) {
    case 'speex':
      return options.addon.jitter.createSpeex(config);
    case 'fixed':
      return options.addon.jitter.createFixed({ ...config, delayMs: options.delayMs });
    case undefined:
    case 'adaptive':
      return options.addon.jitter.create(config);
  }
}

/**
 * One jitter buffer. Time is passed in (arrivalUs, nowUs, in µs of one monotonic clock), never read:
 * tests and benchmarks run it on a virtual clock. put() on each arrival; pull() once per frame of
 * play-out, the next pull being due `playoutTs` samples later.
 */
export class JitterBuffer {
  readonly kind: JitterBufferKind;
  private readonly native: NativeJitterBuffer;

  constructor(options: JitterBufferOptions) {
    this.kind = options.kind ?? 'adaptive';
    try {
      this.native = createNative(options);
    } catch (err) {
      const field = fieldOf(err);
      if (field !== undefined && err instanceof Error) throw new JitterConfigError(field, err.message, { cause: err });
      throw err;
    }
  }

  put(packet: NativeJitterPacket): void {
    this.native.put(packet);
  }

  /** `payloadOut`, when given, receives the payload bytes (`size` of them). */
  pull(nowUs: number, payloadOut?: Uint8Array): JitterPulled {
    const out = this.native.pull(nowUs, payloadOut) as NativeJitterPulled & { playoutTs?: number };
    return { ...out, playoutTs: out.playoutTs ?? out.durationTs };
  }

  stats(): JitterStats {
    const s = this.native.stats() as NativeJitterStats & Partial<JitterStats>;
    return {
      ...s,
      stretchedFrames: s.stretchedFrames ?? 0,
      stretchRemovedMs: s.stretchRemovedMs ?? 0,
      stretchAddedMs: s.stretchAddedMs ?? 0,
      waitMs: s.waitMs ?? 0,
      waitsRescued: s.waitsRescued ?? 0,
      rewinds: s.rewinds ?? 0,
    };
  }

  reset(): void {
    this.native.reset();
  }
}

type TimeStretchFn = (pcm: Int16Array, length: number, inputLength: number, sampleRateHz: number, exact?: boolean) => number;

/**
 * The engine's time-stretcher (native jitter/time-stretch.h): stretches pcm[0, inputLength) in place
 * towards `length` samples (pcm.length is the capacity) with one pitch-synchronous splice, and returns
 * the length it chose (within [D/2, 2D] of the asked change D; exactly `length` with `exact`).
 */
export function timeStretch(
  addon: Pick<NativeAddon, 'jitter'>,
  pcm: Int16Array,
  length: number,
  inputLength: number,
  sampleRateHz: number,
  exact = false,
): number {
  const fn = (addon.jitter as unknown as { timeStretch?: TimeStretchFn }).timeStretch;
  if (fn === undefined) throw new Error('this build of the addon has no jitter.timeStretch');
  return fn(pcm, length, inputLength, sampleRateHz, exact);
}
