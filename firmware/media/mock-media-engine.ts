// A MediaEngine without native code, for tests of the layers above it: records calls, lets tests emit events and set statistics.
import {
  MediaEngineError,
  type AudioGains,
  type AudioPath,
  type AudioStats,
  type DtmfSendOptions,
  type MediaClockMode,
  type MediaEngine,
  type MediaEngineEvent,
  type MediaEngineEventOf,
  type MediaEngineEventType,
  type RtpStream,
  type RtpStreamOptions,
  type RtpStreamState,
  type RtpStreamStats,
  type RtpStreamUpdate,
  type PcmResampler,
  type RingRequest,
  type ToneRequest,
  type Unsubscribe,
} from './media-engine.js';
import { MediaEventListeners } from './media-event-listeners.js';
import { checkAudioPath, checkResampler, mergeStreamUpdate, resolveGains, resolveRing, resolveStreamOptions, resolveTone, type ResolvedRing } from './media-options.js';
import type { ToneSpec } from './tones.js';

/** One recorded call, in order. */
export type MockMediaEngineCall =
  | { method: 'createStream'; streamId: number; options: RtpStreamOptions }
  | { method: 'update'; streamId: number; update: RtpStreamUpdate }
  | { method: 'start' | 'stop' | 'close'; streamId: number }
  | { method: 'sendDtmf'; streamId: number; digits: string; options: DtmfSendOptions }
  | { method: 'playTone'; request: ToneRequest; spec: ToneSpec }
  | { method: 'stopTone' }
  | { method: 'ring'; request: RingRequest; ring: ResolvedRing }
  | { method: 'stopRing' }
  | { method: 'joinConference'; streamIds: number[] }
  | { method: 'splitConference' }
  | { method: 'setAudioPath'; path: AudioPath }
  | { method: 'setGains'; gains: AudioGains }
  | { method: 'setMuted'; muted: boolean }
  | { method: 'pushCapture'; frames: number }
  | { method: 'advance'; ms: number }
  | { method: 'closeEngine' };

export interface MockMediaEngineOptions {
  clock?: MediaClockMode;
  sampleRateHz?: number;
  /** First fake local port handed out (even; RTCP on the next). Default 40000. */
  firstPort?: number;
  /** When set, createStream() fails with ERR_MEDIA_SOCKET for this local port (a port in use). */
  busyPort?: number;
  /** Default 'handset'. */
  audioPath?: AudioPath;
  /** The backend getAudioStats() names; 'external' takes pushCapture() (default 'null'). */
  backend?: AudioStats['backend'];
}

/**
 * Linear interpolation between two rates: enough for tests above the engine (the native engine's
 * createResampler() is speexdsp's). Keeps its position across pieces.
 */
class LinearResampler implements PcmResampler {
  private position = 0;
  private last = 0;

  constructor(
    readonly inRateHz: number,
    readonly outRateHz: number,
  ) {}

  process(pcm: Int16Array): Int16Array {
    const step = this.inRateHz / this.outRateHz;
    const out: number[] = [];
    // `position` is where the next output sample lies, relative to pcm[0] (−1 = the previous piece's last).
    for (; this.position < pcm.length - 1 + 1e-9; this.position += step) {
      const i = Math.floor(this.position);
      const frac = this.position - i;
      const a = i < 0 ? this.last : (pcm[i] ?? 0);
      const b = pcm[i + 1] ?? a;
      out.push(Math.round(a + (b - a) * frac));
    }
    this.position -= pcm.length;
    if (pcm.length > 0) this.last = pcm[pcm.length - 1] ?? 0;
    return Int16Array.from(out);
  }

  reset(): void {
    this.position = 0;
    this.last = 0;
  }
}

function zeroStats(streamId: number, localSsrc: number, timeMs: number): RtpStreamStats {
  return {
    streamId,
    timeMs,
    localSsrc,
    remoteSsrc: null,
    packetsSent: 0,
    bytesSent: 0,
    dtmfEventsSent: 0,
    sendErrors: 0,
    packetsReceived: 0,
    bytesReceived: 0,
    packetsExpected: 0,
    packetsLost: 0,
    lateDropped: 0,
    duplicates: 0,
    reordered: 0,
    concealedMs: 0,
    fecRecoveredFrames: 0,
    stretchedMs: 0,
    comfortNoiseMs: 0,
    invalidPackets: 0,
    srtpAuthFailures: 0,
    srtpReplayDropped: 0,
    unknownPayloadType: 0,
    ssrcChanges: 0,
    jitterMs: 0,
    burstRatio: 1,
    bufferDelayMs: 0,
    bufferTargetMs: 0,
    bufferMaxDelayMs: 0,
    captureXruns: 0,
    playbackXruns: 0,
    lateTicks: 0,
    rtcpSent: 0,
    rtcpReceived: 0,
    rttMs: null,
    remote: null,
    oneWayDelayMs: 0,
    effectiveLossPercent: 0,
    rFactor: 93.2,
    mos: 4.41,
  };
}

export class MockRtpStream implements RtpStream {
  readonly localRtpPort: number;
  readonly localRtcpPort: number;
  state: RtpStreamState = 'created';
  options: RtpStreamOptions;
  /** Digits queued with sendDtmf(), in order. */
  readonly dtmfSent: { digits: string; options: DtmfSendOptions }[] = [];
  private stats: RtpStreamStats;

  constructor(
    private readonly engine: MockMediaEngine,
    readonly id: number,
    readonly localSsrc: number,
    port: number,
    options: RtpStreamOptions,
  ) {
    this.options = options;
    this.localRtpPort = port;
    this.localRtcpPort = options.rtcpMux === true ? port : port + 1;
    this.stats = zeroStats(id, localSsrc, 0);
  }

  update(update: RtpStreamUpdate): void {
    this.check();
    const next = mergeStreamUpdate(this.options, update);
    resolveStreamOptions(next); // the same checks as the native engine
    this.options = next;
    this.engine.record({ method: 'update', streamId: this.id, update });
  }

  start(): void {
    this.check();
    this.state = 'started';
    this.engine.record({ method: 'start', streamId: this.id });
  }

  stop(): void {
    this.check();
    this.state = 'stopped';
    this.engine.record({ method: 'stop', streamId: this.id });
  }

  sendDtmf(digits: string, options: DtmfSendOptions = {}): void {
    this.check();
    if (this.options.telephoneEvent === undefined) {
      throw new MediaEngineError('ERR_MEDIA_STATE', `no telephone-event payload type (RFC 4733) was configured for stream ${this.id}`);
    }
    if (this.state !== 'started') throw new MediaEngineError('ERR_MEDIA_STATE', `stream ${this.id} is not started`);
    if (!/^[0-9*#A-Da-d]+$/.test(digits)) throw new MediaEngineError('ERR_MEDIA_CONFIG', `'${digits}' holds a character that is not a DTMF digit`, { field: 'digits' });
    this.dtmfSent.push({ digits, options });
    this.engine.record({ method: 'sendDtmf', streamId: this.id, digits, options });
  }

  getStats(): RtpStreamStats {
    this.check();
    return { ...this.stats, timeMs: this.engine.nowMs() };
  }

  /** Test side: what getStats() returns from now on (merged into the current values). */
  setStats(stats: Partial<RtpStreamStats>): void {
    this.stats = { ...this.stats, ...stats };
  }

  close(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.engine.leaveConference(this.id);
    this.engine.record({ method: 'close', streamId: this.id });
  }

  private check(): void {
    if (this.state === 'closed' || this.engine.closed) throw new MediaEngineError('ERR_MEDIA_CLOSED', `stream ${this.id} is closed`);
  }
}

/** Implements MediaEngine in memory; time moves only with advance(). */
export class MockMediaEngine implements MediaEngine {
  readonly clock: MediaClockMode;
  readonly sampleRateHz: number;
  readonly calls: MockMediaEngineCall[] = [];
  readonly streams: MockRtpStream[] = [];
  /** The tone playing (null when none), as the engine would play it. */
  tone: ToneSpec | null = null;
  /** The ringer (null when silent), as the engine would ring. */
  ringing: ResolvedRing | null = null;
  /** Ids of the streams in the conference (empty: none). */
  conference: number[] = [];
  audioPath: AudioPath;
  /** Each path's gains as setGains() left them (checked and clamped like the native engine's). */
  readonly gains: Record<AudioPath, { micGainDb: number; speakerGainDb: number }> = {
    handset: { micGainDb: 0, speakerGainDb: 0 },
    speaker: { micGainDb: 0, speakerGainDb: 0 },
    headset: { micGainDb: 0, speakerGainDb: 0 },
  };
  muted = false;
  /** What pushCapture() was given, in order (`external` backend). */
  readonly captured: Int16Array[] = [];
  private audioStats: Omit<AudioStats, 'path' | 'conference'> = {
    backend: 'null',
    external: null,
    deviceOk: true,
    device: null,
    captureXruns: 0,
    playbackXruns: 0,
    lateTicks: 0,
    deviceErrors: 0,
    deviceRecoveries: 0,
  };
  referenced = true;
  private closedValue = false;
  private timeMs = 0;
  private nextPort: number;
  private nextId = 1;
  private readonly busyPort: number | undefined;
  private readonly listeners = new MediaEventListeners();

  constructor(options: MockMediaEngineOptions = {}) {
    this.clock = options.clock ?? 'virtual';
    this.sampleRateHz = options.sampleRateHz ?? 16000;
    this.nextPort = options.firstPort ?? 40000;
    this.busyPort = options.busyPort;
    this.audioPath = options.audioPath ?? 'handset';
    if (options.backend !== undefined) this.audioStats.backend = options.backend;
    if (options.backend === 'external') {
      this.audioStats.external = {
        capturePushedFrames: 0,
        captureQueuedFrames: 0,
        captureUnderruns: 0,
        captureOverflows: 0,
        captureOverflowFrames: 0,
        captureTrimmedFrames: 0,
        playbackDeliveredFrames: 0,
        playbackDrops: 0,
        playbackDroppedFrames: 0,
      };
    }
  }

  get closed(): boolean {
    return this.closedValue;
  }

  createStream(options: RtpStreamOptions): MockRtpStream {
    this.check();
    resolveStreamOptions(options);
    const wanted = options.local.port ?? 0;
    if (wanted !== 0 && wanted === this.busyPort) {
      throw new MediaEngineError('ERR_MEDIA_SOCKET', `Address already in use, bind ${options.local.address} port ${wanted}`, {
        systemCode: 'EADDRINUSE',
        syscall: 'bind',
        address: options.local.address,
      });
    }
    const port = wanted !== 0 ? wanted : this.nextPort;
    if (wanted === 0) this.nextPort += 2;
    const id = this.nextId++;
    const stream = new MockRtpStream(this, id, (0x10000000 + id) >>> 0, port, options);
    this.streams.push(stream);
    this.record({ method: 'createStream', streamId: id, options });
    return stream;
  }

  playTone(request: ToneRequest): void {
    this.check();
    const spec = resolveTone(request);
    this.tone = spec;
    this.record({ method: 'playTone', request, spec });
  }

  stopTone(): void {
    this.check();
    this.tone = null;
    this.record({ method: 'stopTone' });
  }

  ring(request: RingRequest): void {
    this.check();
    const ring = resolveRing(request);
    this.ringing = ring;
    this.record({ method: 'ring', request, ring });
  }

  stopRing(): void {
    this.check();
    this.ringing = null;
    this.record({ method: 'stopRing' });
  }

  joinConference(streams: readonly RtpStream[]): void {
    this.check();
    const ids = streams.map((s) => s.id);
    if (ids.length < 2) throw new MediaEngineError('ERR_MEDIA_CONFIG', 'a conference needs at least 2 streams', { field: 'streams' });
    if (new Set(ids).size !== ids.length) throw new MediaEngineError('ERR_MEDIA_CONFIG', 'a stream is named twice in the conference', { field: 'streams' });
    for (const s of streams) {
      if (!this.streams.some((m) => m === s && m.state !== 'closed')) {
        throw new MediaEngineError('ERR_MEDIA_NO_STREAM', `no stream ${s.id} (closed, or never created)`);
      }
    }
    this.conference = ids;
    this.record({ method: 'joinConference', streamIds: ids });
  }

  splitConference(): void {
    this.check();
    this.conference = [];
    this.record({ method: 'splitConference' });
  }

  setAudioPath(path: AudioPath): void {
    this.check();
    checkAudioPath('path', path);
    this.audioPath = path;
    this.record({ method: 'setAudioPath', path });
  }

  setGains(gains: AudioGains): void {
    this.check();
    const resolved = resolveGains(gains);
    const current = this.gains[resolved.path];
    this.gains[resolved.path] = { micGainDb: resolved.micGainDb ?? current.micGainDb, speakerGainDb: resolved.speakerGainDb ?? current.speakerGainDb };
    this.record({ method: 'setGains', gains: resolved });
  }

  setMuted(muted: boolean): void {
    this.check();
    if (typeof muted !== 'boolean') throw new MediaEngineError('ERR_MEDIA_CONFIG', 'muted must be a boolean', { field: 'muted' });
    this.muted = muted;
    this.record({ method: 'setMuted', muted });
  }

  getAudioStats(): AudioStats {
    this.check();
    return { ...this.audioStats, path: this.audioPath, conference: [...this.conference] };
  }

  /** Test side: what getAudioStats() returns from now on (merged into the current values). */
  setAudioStats(stats: Partial<Omit<AudioStats, 'path' | 'conference'>>): void {
    this.audioStats = { ...this.audioStats, ...stats };
  }

  pushCapture(pcm: Int16Array): void {
    this.check();
    if (this.audioStats.backend !== 'external' || this.audioStats.external === null) {
      throw new MediaEngineError('ERR_MEDIA_STATE', `pushCapture() needs the 'external' audio backend (this engine has '${this.audioStats.backend}')`);
    }
    if (!(pcm instanceof Int16Array)) throw new MediaEngineError('ERR_MEDIA_CONFIG', 'pcm must be an Int16Array', { field: 'pcm' });
    this.captured.push(pcm.slice());
    this.audioStats.external.capturePushedFrames += pcm.length;
    this.record({ method: 'pushCapture', frames: pcm.length });
  }

  createResampler(inRateHz: number, outRateHz: number, quality = 5): PcmResampler {
    checkResampler(inRateHz, outRateHz, quality);
    return new LinearResampler(inRateHz, outRateHz);
  }

  advance(ms: number): void {
    this.check();
    if (this.clock !== 'virtual') throw new MediaEngineError('ERR_MEDIA_STATE', "advance() needs an engine created with clock: 'virtual'");
    if (!(ms >= 0)) throw new MediaEngineError('ERR_MEDIA_CONFIG', 'advance() takes a duration of 0 ms or more', { field: 'ms' });
    this.timeMs += ms;
    this.record({ method: 'advance', ms });
  }

  nowMs(): number {
    return this.timeMs;
  }

  on<T extends MediaEngineEventType>(type: T, listener: (event: MediaEngineEventOf<T>) => void): Unsubscribe {
    return this.listeners.on(type, listener);
  }

  /** Test side: delivers an event to the listeners, as the native engine's thread-safe function would. */
  emit(event: MediaEngineEvent): void {
    if (!this.closedValue) this.listeners.emit(event);
  }

  drainEvents(): Promise<void> {
    return Promise.resolve();
  }

  ref(): void {
    this.referenced = true;
  }

  unref(): void {
    this.referenced = false;
  }

  close(): void {
    if (this.closedValue) return;
    for (const s of this.streams) s.close();
    this.closedValue = true;
    this.tone = null;
    this.ringing = null;
    this.conference = [];
    this.record({ method: 'closeEngine' });
  }

  /** @internal Streams record their calls here. */
  record(call: MockMediaEngineCall): void {
    this.calls.push(call);
  }

  /** @internal A closed stream leaves the conference; one leg left is a plain call (as the native engine). */
  leaveConference(id: number): void {
    this.conference = this.conference.filter((c) => c !== id);
    if (this.conference.length < 2) this.conference = [];
  }

  private check(): void {
    if (this.closedValue) throw new MediaEngineError('ERR_MEDIA_CLOSED', 'the media engine is closed');
  }
}
