// Test support: native engines on the virtual clock wired to each other over loopback UDP (no relay), stepped together.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CodecOptions } from '../../../firmware/media/codecs.js';
import type { MediaEngineEvent, MediaEngineEventType, MediaEngineOptions, RtpStream } from '../../../firmware/media/media-engine.js';
import { loadNativeAddon, type NativeAddon } from '../../../firmware/media/native-addon.js';
import { NativeMediaEngine } from '../../../firmware/media/native-media-engine.js';

const EVENT_TYPES: readonly MediaEngineEventType[] = [
  'dtmf',
  'stats',
  'rtpTimeout',
  'deviceError',
  'deviceRecovered',
  'deviceOpened',
  'ssrcChanged',
  'remoteLatched',
  'rtcpBye',
  'toneEnded',
];

/** An engine and every event it reported. */
export interface TestEngine {
  engine: NativeMediaEngine;
  events: MediaEngineEvent[];
}

/** Engines made here are closed, and the scratch folder removed, by dispose(). */
export class VirtualEngines {
  readonly dir: string;
  readonly addon: Pick<NativeAddon, 'engine'>;
  private readonly all: TestEngine[] = [];

  constructor() {
    // OFFHOOK_TEST_ADDON points at another build (a scratch build while someone else rebuilds the tree).
    const path = process.env.OFFHOOK_TEST_ADDON;
    this.addon = loadNativeAddon(path !== undefined ? { path } : {});
    this.dir = mkdtempSync(join(tmpdir(), 'offhook-engines-'));
  }

  path(name: string): string {
    return join(this.dir, name);
  }

  /** A virtual-clock engine (statistics events off). */
  open(options: Omit<MediaEngineOptions, 'clock'>): TestEngine {
    const engine = new NativeMediaEngine({ addon: this.addon, clock: 'virtual', statsIntervalMs: 0, ...options });
    const events: MediaEngineEvent[] = [];
    for (const type of EVENT_TYPES) engine.on(type, (e) => events.push(e));
    const t = { engine, events };
    this.all.push(t);
    return t;
  }

  /** A started stream on each engine, each sending to the other, on 127.0.0.1 with rtcp-mux. */
  connect(a: TestEngine, b: TestEngine, codec: CodecOptions = { name: 'PCMU' }): [RtpStream, RtpStream] {
    const sa = a.engine.createStream({ local: { address: '127.0.0.1' }, rtcpMux: true, codec });
    const sb = b.engine.createStream({
      local: { address: '127.0.0.1' },
      remote: { address: '127.0.0.1', port: sa.localRtpPort },
      rtcpMux: true,
      codec,
    });
    sa.update({ remote: { address: '127.0.0.1', port: sb.localRtpPort } });
    sa.start();
    sb.start();
    return [sa, sb];
  }

  /**
   * Advances every engine by `ms`, 10 ms at a time, in order. Loopback UDP is delivered within the
   * send call, so what an engine sent in a step is read by the others at their next tick.
   */
  step(engines: readonly TestEngine[], ms: number): void {
    for (let t = 0; t < ms; t += 10) for (const e of engines) e.engine.advance(10);
  }

  async drain(): Promise<void> {
    for (const e of this.all) if (!e.engine.closed) await e.engine.drainEvents();
  }

  /** Closes every engine (their WAV files are complete after this). */
  async close(): Promise<void> {
    await this.drain();
    for (const e of this.all) e.engine.close();
  }

  dispose(): void {
    for (const e of this.all) e.engine.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
