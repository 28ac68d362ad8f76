// `offhook selftest`: checks the native addon on this machine (G.711, Opus over RTP, jitter buffer, GPIO ioctls).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadNativeAddon, type NativeAddon, type NativeSystemError } from './media/native-addon.js';
import { NativeMediaEngine } from './media/native-media-engine.js';

export interface SelftestCheck {
  name: string;
  ok: boolean;
  detail: string;
}

export interface SelftestOptions {
  output: NodeJS.WritableStream;
  /** A GPIO chip path that must not exist (default /dev/gpiochip-offhook-selftest). */
  missingChip?: string;
  /** Load this addon file instead of searching (tests). */
  addonPath?: string;
}

function sine(samples: number, hz: number, rate: number, amplitude: number): Int16Array {
  return Int16Array.from({ length: samples }, (_, i) => Math.round(amplitude * Math.sin((2 * Math.PI * hz * i) / rate)));
}

function snrDb(reference: Int16Array, decoded: Int16Array): number {
  let signal = 0;
  let noise = 0;
  reference.forEach((x, i) => {
    signal += x * x;
    noise += (x - (decoded[i] ?? 0)) ** 2;
  });
  return 10 * Math.log10(signal / Math.max(noise, 1));
}

function g711(addon: NativeAddon): string {
  const pcm = sine(1600, 1000, 8000, 8000);
  const results = (['PCMU', 'PCMA'] as const).map((law) => {
    const codes = addon.g711.encode(law, pcm);
    const snr = snrDb(pcm, addon.g711.decode(law, codes));
    if (codes.length !== pcm.length || !(snr > 30)) throw new Error(`${law}: ${codes.length} codes, SNR ${snr.toFixed(1)} dB (expected > 30)`);
    return `${law} SNR ${snr.toFixed(1)} dB`;
  });
  return results.join(', ');
}

/** Two engines on a virtual clock send a 1 kHz tone to each other as Opus over 127.0.0.1. */
async function opus(addon: NativeAddon): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'offhook-selftest-'));
  const engines: NativeMediaEngine[] = [];
  try {
    const engine = (name: string): NativeMediaEngine => {
      const e = new NativeMediaEngine({ addon, clock: 'virtual', sampleRateHz: 48000, randomSeed: engines.length + 1, audio: { backend: 'file', capture: { toneHz: 1000, levelDbfs: -12 }, playbackWavPath: join(dir, `${name}.wav`) } });
      engines.push(e);
      return e;
    };
    const codec = { name: 'opus', payloadType: 111 } as const;
    const b = engine('b').createStream({ local: { address: '127.0.0.1' }, rtcpMux: true, codec });
    const a = engine('a').createStream({ local: { address: '127.0.0.1' }, remote: { address: '127.0.0.1', port: b.localRtpPort }, rtcpMux: true, codec });
    b.update({ remote: { address: '127.0.0.1', port: a.localRtpPort } });
    a.start();
    b.start();
    for (let t = 0; t < 1000; t += 20) {
      for (const e of engines) e.advance(20);
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    const sent = a.getStats();
    const got = b.getStats();
    if (sent.packetsSent < 45 || got.packetsReceived < 40 || got.invalidPackets > 0) {
      throw new Error(`sent ${sent.packetsSent} packets, received ${got.packetsReceived} (${got.invalidPackets} invalid); expected about 50`);
    }
    return `${sent.packetsSent} packets encoded, ${got.packetsReceived} received and decoded, ${got.concealedMs} ms concealed`;
  } finally {
    for (const e of engines) e.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** 20 ms PCMU packets in order, one late and one missing: the buffer plays, conceals, and counts. */
function jitter(addon: NativeAddon): string {
  const jb = addon.jitter.create({ clockRateHz: 8000 });
  const kinds = new Map<string, number>();
  let arrival = 0;
  for (let i = 0; i < 50; i++) {
    arrival += i === 20 ? 60_000 : 20_000;
    if (i !== 30) jb.put({ ssrc: 0x1234, seq: i, timestamp: i * 160, marker: i === 0, arrivalUs: arrival, size: 160, durationTs: 160 });
    const pulled = jb.pull(arrival);
    kinds.set(pulled.kind, (kinds.get(pulled.kind) ?? 0) + 1);
  }
  const stats = jb.stats();
  if (stats.received !== 49 || (kinds.get('frame') ?? 0) < 30) {
    throw new Error(`received ${stats.received} of 49, played ${kinds.get('frame') ?? 0} frames`);
  }
  return `${stats.received} packets, ${kinds.get('frame') ?? 0} frames played, ${stats.concealedFrames} concealed, target ${Math.round(stats.targetDelayMs)} ms`;
}

/** Opening a chip that does not exist must fail as ENOENT from open(), not crash or hang. */
function gpio(addon: NativeAddon, path: string): string {
  try {
    addon.gpio.openChip(path).close();
  } catch (err) {
    const e = err as Partial<NativeSystemError>;
    if (e.code === 'ENOENT' && e.syscall === 'open') return `${path}: ${e.code} from ${e.syscall}, a clean error`;
    throw new Error(`${path}: expected ENOENT from open, got ${String(e.code)} from ${String(e.syscall)}: ${String(e.message)}`);
  }
  throw new Error(`${path} opened, but it must not exist`);
}

export async function runSelftest(o: SelftestOptions): Promise<number> {
  const checks: SelftestCheck[] = [];
  const check = async (name: string, run: () => string | Promise<string>): Promise<void> => {
    try {
      checks.push({ name, ok: true, detail: await run() });
    } catch (err) {
      checks.push({ name, ok: false, detail: err instanceof Error ? err.message : String(err) });
    }
    const c = checks[checks.length - 1];
    if (c) o.output.write(`${c.ok ? 'ok  ' : 'FAIL'} ${c.name}: ${c.detail}\n`);
  };
  let addon: NativeAddon | undefined;
  await check('addon', () => {
    addon = loadNativeAddon(o.addonPath !== undefined ? { path: o.addonPath } : {});
    return `apiVersion ${addon.apiVersion} on ${process.platform}-${process.arch}, Node ${process.version}; codecs ${addon.engine.codecs().join(' ')}`;
  });
  const loaded = addon;
  if (loaded) {
    await check('g711', () => g711(loaded));
    await check('opus', () => opus(loaded));
    await check('jitter', () => jitter(loaded));
    await check('gpio', () => gpio(loaded, o.missingChip ?? '/dev/gpiochip-offhook-selftest'));
  }
  const failed = checks.filter((c) => !c.ok).length;
  o.output.write(`selftest: ${checks.length - failed} passed, ${failed} failed\n`);
  return failed === 0 ? 0 : 1;
}
