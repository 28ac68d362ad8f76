// Typed wrapper over the native jitter buffers (ours, and speexdsp's and a fixed one for benchmarks), driven on any clock.
import type {
  NativeAddon,
  NativeJitterBuffer,
  NativeJitterConfig,
  NativeJitterPacket,
  NativeJitterPulled,
  NativeJitterStats,
} from './native-addon.js';

export type {
  NativeJitterConfig as JitterBufferConfig,
  NativeJitterPacket as JitterPacket,
  NativeJitterPlayKind as JitterPlayKind,
  NativeJitterPulled as JitterPulled,
  NativeJitterStats as JitterStats,
} from './native-addon.js';

/** Which buffer: ours (`adaptive`), or a benchmark reference. */
export type JitterBufferKind = 'adaptive' | 'speex' | 'fixed';

interface JitterBufferOptionsBase {
  /** The loaded addon, or anything with its jitter part. */
  addon: Pick<NativeAddon, 'jitter'>;
  config?: NativeJitterConfig;
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
 * play-out, the next pull being due `durationTs` samples later.
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
  pull(nowUs: number, payloadOut?: Uint8Array): NativeJitterPulled {
    return this.native.pull(nowUs, payloadOut);
  }

  stats(): NativeJitterStats {
    return this.native.stats();
  }

  reset(): void {
    this.native.reset();
  }
}
