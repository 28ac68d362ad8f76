// Test support: two virtual-clock engines with the file backend, talking through an impairment relay on 127.0.0.1, stepped together.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CodecOptions } from '../../../firmware/media/codecs.js';
import type { FileAudioBackendOptions, MediaEngineEvent, RtpStream, RtpStreamOptions } from '../../../firmware/media/media-engine.js';
import { loadNativeAddon } from '../../../firmware/media/native-addon.js';
import { NativeMediaEngine } from '../../../firmware/media/native-media-engine.js';
import { ImpairmentRelay, type Impairment } from './impairment-relay.js';
import { readWav, type WavAudio } from './wav-file.js';

export interface EnginePairOptions {
  codec: CodecOptions;
  ptimeMs?: number;
  /** The microphone of each side: a sine at this frequency (0 = silence), unless captureA / captureB say otherwise. */
  toneA: number;
  toneB: number;
  captureA?: FileAudioBackendOptions['capture'];
  captureB?: FileAudioBackendOptions['capture'];
  toneLevelDbfs?: number;
  sampleRateHz?: 8000 | 16000 | 32000 | 48000;
  rtcpMux?: boolean;
  aToB?: Impairment;
  bToA?: Impairment;
  seed: number;
  /** More stream options for both sides. */
  stream?: Partial<Omit<RtpStreamOptions, 'local' | 'remote' | 'codec' | 'rtcpMux'>>;
  statsIntervalMs?: number;
}

/** What each engine played on its speaker, and the events it reported. */
export interface Side {
  engine: NativeMediaEngine;
  stream: RtpStream;
  events: MediaEngineEvent[];
  wavPath: string;
}

export class EnginePair {
  readonly a: Side;
  readonly b: Side;
  readonly relay: ImpairmentRelay;
  readonly sampleRateHz: number;
  private readonly dir: string;
  private timeMs = 0;
  private closed = false;

  private constructor(a: Side, b: Side, relay: ImpairmentRelay, sampleRateHz: number, dir: string) {
    this.a = a;
    this.b = b;
    this.relay = relay;
    this.sampleRateHz = sampleRateHz;
    this.dir = dir;
  }

  static async open(options: EnginePairOptions): Promise<EnginePair> {
    // OFFHOOK_TEST_ADDON points at another build (a scratch build while someone else rebuilds the tree).
    const path = process.env.OFFHOOK_TEST_ADDON;
    const addon = loadNativeAddon(path !== undefined ? { path } : {});
    const dir = mkdtempSync(join(tmpdir(), 'offhook-engine-'));
    const rtcpMux = options.rtcpMux ?? true;
    const relay = await ImpairmentRelay.open({
      channels: rtcpMux ? 1 : 2,
      seed: options.seed,
      ...(options.aToB ? { aToB: options.aToB } : {}),
      ...(options.bToA ? { bToA: options.bToA } : {}),
    });
    const sampleRateHz = options.sampleRateHz ?? 8000;
    const side = (name: string, toneHz: number, capture: FileAudioBackendOptions['capture'], seed: number, remotePorts: number[]): Side => {
      const wavPath = join(dir, `${name}-speaker.wav`);
      const engine = new NativeMediaEngine({
        addon,
        clock: 'virtual',
        sampleRateHz,
        randomSeed: seed,
        statsIntervalMs: options.statsIntervalMs ?? 1000,
        audio: {
          backend: 'file',
          ...(capture !== undefined ? { capture } : toneHz > 0 ? { capture: { toneHz, levelDbfs: options.toneLevelDbfs ?? -12 } } : {}),
          playbackWavPath: wavPath,
        },
      });
      const events: MediaEngineEvent[] = [];
      for (const type of ['dtmf', 'stats', 'rtpTimeout', 'deviceError', 'ssrcChanged', 'remoteLatched', 'rtcpBye', 'toneEnded'] as const) {
        engine.on(type, (e) => events.push(e));
      }
      const [rtp = 0, rtcp] = remotePorts;
      const stream = engine.createStream({
        ...options.stream,
        local: { address: '127.0.0.1' },
        remote: { address: '127.0.0.1', port: rtp, ...(rtcp !== undefined ? { rtcpPort: rtcp } : {}) },
        rtcpMux,
        codec: options.codec,
        ...(options.ptimeMs !== undefined ? { ptimeMs: options.ptimeMs } : {}),
      });
      return { engine, stream, events, wavPath };
    };
    const a = side('a', options.toneA, options.captureA, options.seed * 2 + 1, relay.portsForA());
    const b = side('b', options.toneB, options.captureB, options.seed * 2 + 2, relay.portsForB());
    const endpoints = (s: Side) =>
      rtcpMux
        ? [{ address: '127.0.0.1', port: s.stream.localRtpPort }]
        : [
            { address: '127.0.0.1', port: s.stream.localRtpPort },
            { address: '127.0.0.1', port: s.stream.localRtcpPort },
          ];
    relay.connect(endpoints(a), endpoints(b));
    a.stream.start();
    b.stream.start();
    return new EnginePair(a, b, relay, sampleRateHz, dir);
  }

  get nowMs(): number {
    return this.timeMs;
  }

  /** Datagrams the two engines have sent so far (RTP, RTCP). */
  sentDatagrams(): number {
    let n = 0;
    for (const side of [this.a, this.b]) {
      const s = side.stream.getStats();
      n += s.packetsSent + s.rtcpSent;
    }
    return n;
  }

  /**
   * Runs both engines for `ms` in steps of `stepMs`: each step, both advance, the relay waits for what
   * they sent, then releases what is due. Packets therefore arrive on 10 ms boundaries of virtual time.
   */
  async run(ms: number, stepMs = 10, onStep?: (nowMs: number) => void): Promise<void> {
    const end = this.timeMs + ms;
    while (this.timeMs < end) {
      this.a.engine.advance(stepMs);
      this.b.engine.advance(stepMs);
      this.timeMs += stepMs;
      await this.relay.settle(this.sentDatagrams());
      await this.relay.release(this.timeMs);
      onStep?.(this.timeMs);
    }
    await this.a.engine.drainEvents();
    await this.b.engine.drainEvents();
  }

  /** Closes engines and relay; returns what each speaker played. */
  async close(): Promise<{ a: WavAudio; b: WavAudio }> {
    if (!this.closed) {
      this.closed = true;
      this.a.engine.close();
      this.b.engine.close();
      await this.relay.close();
    }
    return { a: readWav(this.a.wavPath), b: readWav(this.b.wavPath) };
  }

  /** A scratch folder that dispose() removes (for input WAV files). */
  static scratch(): string {
    return mkdtempSync(join(tmpdir(), 'offhook-engine-in-'));
  }

  /** Removes the WAV files. */
  dispose(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
