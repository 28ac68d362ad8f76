// MediaEngine over the native addon: option defaults and checks, typed errors, events by type, streams as objects.
import {
  MediaEngineError,
  type AudioGains,
  type AudioPath,
  type AudioStats,
  type MediaClockMode,
  type MediaEngine,
  type MediaEngineErrorCode,
  type MediaEngineEventOf,
  type MediaEngineEventType,
  type MediaEngineOptions,
  type RtpStream,
  type RtpStreamOptions,
  type RtpStreamState,
  type RtpStreamStats,
  type RtpStreamUpdate,
  type DtmfSendOptions,
  type RingRequest,
  type ToneRequest,
  type PcmResampler,
  type Unsubscribe,
} from './media-engine.js';
import { MediaEventListeners } from './media-event-listeners.js';
import { checkAudioPath, checkResampler, mediaOf, resolveGains, mergeStreamUpdate, resolveEngineOptions, resolveRing, resolveStreamOptions, resolveTone } from './media-options.js';
import type { NativeAddon, NativeEngineEvent, NativeMediaEngineHandle } from './native-addon.js';

const ERROR_CODES: ReadonlySet<string> = new Set<MediaEngineErrorCode>([
  'ERR_MEDIA_CONFIG',
  'ERR_MEDIA_SOCKET',
  'ERR_MEDIA_DEVICE',
  'ERR_MEDIA_STATE',
  'ERR_MEDIA_NO_STREAM',
  'ERR_MEDIA_CLOSED',
  'ERR_MEDIA_SYSTEM',
]);

/** Turns what the addon throws into a MediaEngineError (TypeError / RangeError from option checks stay ERR_MEDIA_CONFIG). */
function toMediaError(err: unknown): MediaEngineError {
  if (err instanceof MediaEngineError) return err;
  if (err instanceof Error) {
    const e = err as Error & { code?: unknown; systemCode?: unknown; syscall?: unknown; address?: unknown };
    const code = typeof e.code === 'string' && ERROR_CODES.has(e.code) ? (e.code as MediaEngineErrorCode) : 'ERR_MEDIA_CONFIG';
    return new MediaEngineError(code, e.message, {
      cause: err,
      ...(typeof e.systemCode === 'string' ? { systemCode: e.systemCode } : {}),
      ...(typeof e.syscall === 'string' ? { syscall: e.syscall } : {}),
      ...(typeof e.address === 'string' ? { address: e.address } : {}),
    });
  }
  return new MediaEngineError('ERR_MEDIA_SYSTEM', String(err), { cause: err });
}

function guarded<T>(f: () => T): T {
  try {
    return f();
  } catch (err) {
    throw toMediaError(err);
  }
}

export interface NativeMediaEngineOptions extends MediaEngineOptions {
  /** The loaded addon (loadNativeAddon()), or anything with its engine part. */
  addon: Pick<NativeAddon, 'engine'>;
}

class NativeRtpStream implements RtpStream {
  readonly id: number;
  readonly localRtpPort: number;
  readonly localRtcpPort: number;
  readonly localSsrc: number;
  private current: RtpStreamOptions;
  private stateValue: RtpStreamState = 'created';

  constructor(
    private readonly engine: NativeMediaEngine,
    private readonly handle: NativeMediaEngineHandle,
    options: RtpStreamOptions,
  ) {
    const info = guarded(() => handle.createStream(resolveStreamOptions(options)));
    this.id = info.id;
    this.localRtpPort = info.localRtpPort;
    this.localRtcpPort = info.localRtcpPort;
    this.localSsrc = info.localSsrc;
    this.current = options;
  }

  get state(): RtpStreamState {
    return this.engine.closed ? 'closed' : this.stateValue;
  }

  /** @internal */
  belongsTo(engine: NativeMediaEngine): boolean {
    return this.engine === engine;
  }

  update(update: RtpStreamUpdate): void {
    this.checkOpen();
    const next = mergeStreamUpdate(this.current, update);
    const resolved = resolveStreamOptions(next);
    guarded(() => this.handle.updateStream(this.id, mediaOf(resolved)));
    this.current = next;
  }

  start(): void {
    this.checkOpen();
    guarded(() => this.handle.startStream(this.id));
    this.stateValue = 'started';
  }

  stop(): void {
    this.checkOpen();
    guarded(() => this.handle.stopStream(this.id));
    this.stateValue = 'stopped';
  }

  sendDtmf(digits: string, options: DtmfSendOptions = {}): void {
    this.checkOpen();
    guarded(() =>
      this.handle.sendDtmf(this.id, {
        digits,
        durationMs: options.durationMs ?? 100,
        gapMs: options.gapMs ?? 60,
        volumeDbm0: options.volumeDbm0 ?? -10,
      }),
    );
  }

  getStats(): RtpStreamStats {
    this.checkOpen();
    return guarded(() => this.handle.getStats(this.id));
  }

  close(): void {
    if (this.state === 'closed') return;
    guarded(() => this.handle.closeStream(this.id));
    this.stateValue = 'closed';
  }

  private checkOpen(): void {
    if (this.state === 'closed') throw new MediaEngineError('ERR_MEDIA_CLOSED', `stream ${this.id} is closed`);
  }
}

/** The engine of the phone and the emulator: one native engine with its device and threads. */
export class NativeMediaEngine implements MediaEngine {
  private readonly handle: NativeMediaEngineHandle;
  private readonly addon: Pick<NativeAddon, 'engine'>;
  private readonly listeners = new MediaEventListeners();
  private readonly pendingDrains = new Map<number, () => void>();
  private nextToken = 1;

  constructor(options: NativeMediaEngineOptions) {
    const resolved = resolveEngineOptions(options);
    this.addon = options.addon;
    this.handle = guarded(() => options.addon.engine.create(resolved, (event) => this.onNativeEvent(event)));
  }

  get clock(): MediaClockMode {
    return this.handle.clock;
  }

  get sampleRateHz(): number {
    return this.handle.sampleRateHz;
  }

  get closed(): boolean {
    return this.handle.closed;
  }

  createStream(options: RtpStreamOptions): RtpStream {
    this.checkOpen();
    return new NativeRtpStream(this, this.handle, options);
  }

  playTone(request: ToneRequest): void {
    this.checkOpen();
    const spec = resolveTone(request);
    guarded(() => this.handle.playTone(spec));
  }

  stopTone(): void {
    this.checkOpen();
    guarded(() => this.handle.stopTone());
  }

  ring(request: RingRequest): void {
    this.checkOpen();
    const ring = resolveRing(request);
    if (ring.kind === 'wav') guarded(() => this.handle.ringWav({ path: ring.path, loop: ring.loop, gainDb: ring.gainDb }));
    else guarded(() => this.handle.ringTone(ring.spec));
  }

  stopRing(): void {
    this.checkOpen();
    guarded(() => this.handle.stopRing());
  }

  joinConference(streams: readonly RtpStream[]): void {
    this.checkOpen();
    for (const s of streams) {
      if (!(s instanceof NativeRtpStream) || !s.belongsTo(this)) {
        throw new MediaEngineError('ERR_MEDIA_CONFIG', `stream ${s.id} is not a stream of this engine`, { field: 'streams' });
      }
    }
    guarded(() => this.handle.joinConference(streams.map((s) => s.id)));
  }

  splitConference(): void {
    this.checkOpen();
    guarded(() => this.handle.splitConference());
  }

  setAudioPath(path: AudioPath): void {
    this.checkOpen();
    checkAudioPath('path', path);
    guarded(() => this.handle.setAudioPath(path));
  }

  setGains(gains: AudioGains): void {
    this.checkOpen();
    const resolved = resolveGains(gains);
    guarded(() => this.handle.setGains(resolved));
  }

  setMuted(muted: boolean): void {
    this.checkOpen();
    if (typeof muted !== 'boolean') throw new MediaEngineError('ERR_MEDIA_CONFIG', 'muted must be a boolean', { field: 'muted' });
    guarded(() => this.handle.setMuted(muted));
  }

  getAudioStats(): AudioStats {
    this.checkOpen();
    return guarded(() => this.handle.getAudioStats());
  }

  pushCapture(pcm: Int16Array): void {
    this.checkOpen();
    if (!(pcm instanceof Int16Array)) throw new MediaEngineError('ERR_MEDIA_CONFIG', 'pcm must be an Int16Array', { field: 'pcm' });
    guarded(() => this.handle.pushCapture(pcm));
  }

  createResampler(inRateHz: number, outRateHz: number, quality = 5): PcmResampler {
    checkResampler(inRateHz, outRateHz, quality);
    return guarded(() => this.addon.engine.createResampler({ inRateHz, outRateHz, quality }));
  }

  advance(ms: number): void {
    this.checkOpen();
    guarded(() => this.handle.advance(ms));
  }

  nowMs(): number {
    this.checkOpen();
    return this.handle.nowMs();
  }

  on<T extends MediaEngineEventType>(type: T, listener: (event: MediaEngineEventOf<T>) => void): Unsubscribe {
    return this.listeners.on(type, listener);
  }

  drainEvents(): Promise<void> {
    if (this.closed) return Promise.resolve();
    const token = this.nextToken++;
    return new Promise((resolve) => {
      this.pendingDrains.set(token, resolve);
      this.handle.flushEvents(token);
    });
  }

  ref(): void {
    this.handle.ref();
  }

  unref(): void {
    this.handle.unref();
  }

  close(): void {
    if (this.handle.closed) return;
    try {
      guarded(() => this.handle.close());
    } finally {
      // Events still queued are dropped by the addon, so nobody would answer these.
      for (const resolve of this.pendingDrains.values()) resolve();
      this.pendingDrains.clear();
    }
  }

  private onNativeEvent(event: NativeEngineEvent): void {
    if (event.type === 'flushed') {
      const resolve = this.pendingDrains.get(event.token);
      this.pendingDrains.delete(event.token);
      resolve?.();
      return;
    }
    this.listeners.emit(event);
  }

  private checkOpen(): void {
    if (this.handle.closed) throw new MediaEngineError('ERR_MEDIA_CLOSED', 'the media engine is closed');
  }
}
