// Benchmark: CPU seconds per minute of a two-way call, offhook's media engine against baresip making the same call on the same machine in the same run.
//
// Build and run: `make bench` (or `node scripts/build.mjs --bench && node dist/bench/media-cpu.mjs`).
//   node dist/bench/media-cpu.mjs [--seconds 20] [--rounds 5] [--codecs g711,opus16]
//
// The call, the same for both: two ends on 127.0.0.1, each sending a tone read from a WAV in memory
// (looped) and decoding, jitter-buffering and playing what it receives into a sink that discards it,
// in real time, one stream each way, 20 ms packets:
//   - g711: PCMU, everything at 8 kHz (no resampling on either side);
//   - opus16: Opus, mono, 16 kHz audio bandwidth (maxplaybackrate 16000), 24 kbit/s, complexity 5,
//     in-band FEC planned for 10 % loss (what the phone runs with).
// offhook: ONE process (a child node started for the run) with TWO engines (`file` backend, realtime
// clock; capture = the WAV, no playback file), each with its stream; they send straight to each
// other (no relay, no JavaScript in the media path). Node, V8 and the stats events (1/s per stream)
// are counted: the whole process. Each engine has one thread for audio and RTP (its media thread
// reads the sockets each tick, with the kernel's arrival times); the `file` backend has no device
// clock, so a 10 ms period in which no packet is sent runs on the next period's wake-up (at 20 ms
// ptime: 50 wake-ups a second per engine instead of 100), as engine/README.md describes.
// baresip 1.0: TWO processes (aufile source, the aubridge module as the player — it paces itself
// like a device and discards the audio —, no recording), one calls the other directly (no proxy);
// their CPU is summed. baresip decodes as packets arrive (its jitter buffer sits before the decoder),
// so the idle player hides no decoding work; ours decodes on play-out, into a discarding sink. baresip's Opus runs at 48 kHz inside
// (its codec is registered as opus/48000/2), so its audio is resampled 16 → 48 kHz each way: that is
// how baresip makes this call, and it is counted.
// CPU: utime + stime of /proc/<pid>/stat (every thread) and of the process's descendants (none
// today, for either side), sampled once the call is up and again `seconds` later, scaled to a
// minute; the kernel counts in ticks of 1/CLK_TCK s (10 ms), so a round is good to about
// 1 / (CPU s in the window · CLK_TCK): ±4 % at 20 s. Each figure is the whole call (both ends), and
// per end. The machine may be busy with other work, which makes single rounds noisy: offhook and
// baresip take turns, `rounds` times (who goes first alternates), each round's ratio compares two
// measurements minutes apart at most, and the table gives the medians over the rounds and the spread
// of the per-round ratio (min–max; the JSON line has every round). Per thread (offhook's from
// /proc/<pid>/task/*/stat), the breakdown shows where offhook's CPU goes.
// Target (from the issue): offhook no more CPU than baresip.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import type { CodecOptions } from '../../firmware/media/codecs.js';
import type { RtpStream } from '../../firmware/media/media-engine.js';
import { loadNativeAddon } from '../../firmware/media/native-addon.js';
import { NativeMediaEngine } from '../../firmware/media/native-media-engine.js';
import { type BaresipInstance, startBaresip, writeToneWav } from '../../test/interop/support/baresip.js';

type CallCodec = 'g711' | 'opus16';

interface CodecSetup {
  label: string;
  /** Engine and WAV rate. */
  rateHz: 8000 | 16000;
  engineCodec: CodecOptions;
  baresipCodec: string;
  /** baresip config lines for the codec module. */
  baresipConfig: string[];
}

const OPUS_BITRATE_BPS = 24000;

const SETUPS: Record<CallCodec, CodecSetup> = {
  g711: { label: 'PCMU 8 kHz, 20 ms', rateHz: 8000, engineCodec: { name: 'PCMU' }, baresipCodec: 'PCMU', baresipConfig: [] },
  opus16: {
    label: 'Opus 16 kHz, 20 ms',
    rateHz: 16000,
    engineCodec: { name: 'opus', payloadType: 111, sampleRateHz: 16000, bitrateBps: OPUS_BITRATE_BPS, complexity: 5, fec: true, expectedLossPercent: 10 },
    baresipCodec: 'opus',
    baresipConfig: [
      `opus_bitrate ${OPUS_BITRATE_BPS}`,
      'opus_complexity 5',
      'opus_application voip',
      'opus_samplerate 16000',
      'opus_stereo no',
      'opus_sprop_stereo no',
      'opus_inbandfec yes',
      'opus_packet_loss 10',
    ],
  },
};

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}

const CLOCK_TICKS_PER_S = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** utime + stime in a /proc stat line, seconds: fields 14 and 15 (proc(5)). */
function statCpuSeconds(stat: string): number {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // After "pid (comm) ", field 3 (state) is index 0: utime (14) is index 11, stime (15) index 12.
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_S;
}

/** CPU seconds of a process (all its threads) and of its live descendants: the process tree. */
function cpuSeconds(pid: number): number {
  let total = statCpuSeconds(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    let children: string[] = [];
    try {
      children = readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim().split(' ').filter((c) => c !== '');
    } catch {
      // the thread ended between the listing and the read
    }
    for (const child of children) {
      try {
        total += cpuSeconds(Number(child));
      } catch {
        // the child ended
      }
    }
  }
  return total;
}

/** CPU seconds of each thread of a process, summed by thread name. */
function threadCpuSeconds(pid: number): Map<string, number> {
  const byName = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const name = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
      byName.set(name, (byName.get(name) ?? 0) + statCpuSeconds(readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8')));
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return byName;
}

// ---------------------------------------------------------------------------------------------------
// The offhook side: runs in a child process (this same file with --offhook-child), so that its
// /proc/<pid>/stat holds nothing but the call.

async function offhookChild(codec: CallCodec, dir: string): Promise<void> {
  const setup = SETUPS[codec];
  // OFFHOOK_TEST_ADDON points at another build, as in the tests (a scratch build while the tree is rebuilt).
  const path = process.env.OFFHOOK_TEST_ADDON;
  const addon = loadNativeAddon(path !== undefined && path !== '' ? { path } : {});
  const ends = [440, 1000].map((hz, i) => {
    const wavPath = join(dir, `offhook-${i}.wav`);
    writeToneWav(wavPath, { hz, sampleRateHz: setup.rateHz, seconds: 10 });
    const engine = new NativeMediaEngine({ addon, sampleRateHz: setup.rateHz, audio: { backend: 'file', capture: { wavPath, loop: true } } });
    const stream = engine.createStream({ local: { address: '127.0.0.1' }, codec: setup.engineCodec });
    return { engine, stream };
  });
  const [a, b] = ends as [{ engine: NativeMediaEngine; stream: RtpStream }, { engine: NativeMediaEngine; stream: RtpStream }];
  a.stream.update({ remote: { address: '127.0.0.1', port: b.stream.localRtpPort } });
  b.stream.update({ remote: { address: '127.0.0.1', port: a.stream.localRtpPort } });
  a.stream.start();
  b.stream.start();
  await sleep(1000); // jitter buffers settled
  process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
  // The parent closes our stdin when it has its second sample.
  await new Promise<void>((resolve) => {
    process.stdin.on('end', resolve);
    process.stdin.resume();
  });
  const stats = ends.map((e) => e.stream.getStats());
  for (const e of ends) e.engine.close();
  process.stdout.write(`${JSON.stringify({ packetsReceived: stats.map((s) => s.packetsReceived), lateTicks: stats.map((s) => s.lateTicks) })}\n`);
}

interface Measured {
  /** CPU seconds over the window, whole call. */
  cpuS: number;
  windowS: number;
  check: string;
  /** CPU seconds over the window by thread name (offhook only). */
  threads?: Map<string, number>;
}

async function measureOffhook(codec: CallCodec, seconds: number, dir: string): Promise<Measured> {
  const script = process.argv[1] ?? '';
  const child = spawn(process.execPath, [script, '--offhook-child', codec, '--dir', dir], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout });
  const iterator = lines[Symbol.asyncIterator]();
  const first = await iterator.next();
  if (first.done === true) throw new Error('the offhook child exited before its call was up');
  if (!first.value.includes('ready')) throw new Error(`offhook child: ${first.value}`);
  const pid = child.pid ?? 0;
  const t0 = performance.now();
  const c0 = cpuSeconds(pid);
  const th0 = threadCpuSeconds(pid);
  await sleep(seconds * 1000);
  const c1 = cpuSeconds(pid);
  const th1 = threadCpuSeconds(pid);
  const t1 = performance.now();
  child.stdin.end();
  const threads = new Map([...th1].map(([name, cpu]) => [name, cpu - (th0.get(name) ?? 0)]));
  const last = await iterator.next();
  lines.close();
  await new Promise<void>((resolve) => (child.exitCode !== null ? resolve() : child.once('exit', () => resolve())));
  if (last.done === true) throw new Error('the offhook child exited without its report');
  const report = JSON.parse(last.value) as { packetsReceived: number[]; lateTicks: number[] };
  return {
    cpuS: c1 - c0,
    windowS: (t1 - t0) / 1000,
    check: `packets received ${report.packetsReceived.join(' / ')}, late ticks ${report.lateTicks.join(' / ')}`,
    threads,
  };
}

// ---------------------------------------------------------------------------------------------------
// The baresip side

async function measureBaresip(codec: CallCodec, seconds: number): Promise<Measured> {
  const setup = SETUPS[codec];
  // aubridge as the player: it paces itself like a device and discards (ALSA's null device does not
  // block, and baresip's player thread then spins on it: two thirds of a core here, not a fair figure).
  const common = { sampleRateHz: setup.rateHz, record: false, toneSeconds: 10 + seconds + 5, player: 'aubridge,sink', extraConfig: setup.baresipConfig };
  const instances: BaresipInstance[] = [];
  try {
    const bob = await startBaresip({ ...common, toneHz: 440, accounts: [{ user: 'bob', codecs: [setup.baresipCodec] }] });
    instances.push(bob);
    const alice = await startBaresip({ ...common, toneHz: 1000, control: true, accounts: [{ user: 'alice', codecs: [setup.baresipCodec] }] });
    instances.push(alice);
    const dialled = await alice.command('dial', bob.uri('bob'));
    if (!dialled.ok) throw new Error(`baresip dial: ${dialled.data}`);
    // Both ends have their audio running once each printed its pipelines.
    const deadline = Date.now() + 5000;
    while (!instances.every((b) => b.readLog().includes('audio rx pipeline')) && Date.now() < deadline) await sleep(20);
    if (!instances.every((b) => b.readLog().includes('audio rx pipeline'))) throw new Error(`baresip call did not start:\n${alice.readLog()}\n${bob.readLog()}`);
    await sleep(1000);
    const t0 = performance.now();
    const c0 = instances.reduce((sum, b) => sum + cpuSeconds(b.pid), 0);
    await sleep(seconds * 1000);
    const c1 = instances.reduce((sum, b) => sum + cpuSeconds(b.pid), 0);
    const t1 = performance.now();
    const codecLine = alice.readLog().match(/audio: Set audio encoder: .*/)?.[0] ?? '?';
    await alice.command('hangup');
    return { cpuS: c1 - c0, windowS: (t1 - t0) / 1000, check: codecLine.replace('audio: Set audio encoder: ', 'encoder ') };
  } finally {
    for (const b of instances) await b.stop();
  }
}

// ---------------------------------------------------------------------------------------------------

function median(xs: number[]): number {
  const sorted = [...xs].sort((x, y) => x - y);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

async function main(): Promise<void> {
  if (process.argv.includes('--offhook-child')) {
    await offhookChild(arg('offhook-child', 'g711') as CallCodec, arg('dir', tmpdir()));
    return;
  }
  const seconds = Number(arg('seconds', '20'));
  const rounds = Number(arg('rounds', '5'));
  const codecs = arg('codecs', 'g711,opus16').split(',') as CallCodec[];
  const dir = mkdtempSync(join(tmpdir(), 'offhook-bench-cpu-'));
  const perMinute = (m: Measured): number => (m.cpuS * 60) / m.windowS;
  const rows: { codec: CallCodec; offhook: Measured[]; baresip: Measured[] }[] = [];
  try {
    for (const codec of codecs) {
      if (!(codec in SETUPS)) throw new Error(`unknown codec '${codec}' (g711, opus16)`);
      const row = { codec, offhook: [] as Measured[], baresip: [] as Measured[] };
      for (let r = 0; r < rounds; r++) {
        // Who goes first alternates: a load that grows or fades over the run favours neither.
        if (r % 2 === 0) {
          row.offhook.push(await measureOffhook(codec, seconds, dir));
          row.baresip.push(await measureBaresip(codec, seconds));
        } else {
          row.baresip.push(await measureBaresip(codec, seconds));
          row.offhook.push(await measureOffhook(codec, seconds, dir));
        }
      }
      rows.push(row);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(`media-cpu: CPU seconds per minute of a two-way call (both ends), ${rounds} rounds of ${seconds} s each, median, scaled; ${CLOCK_TICKS_PER_S} ticks/s`);
  console.log('codec                 offhook (1 process, 2 engines)   baresip 1.0 (2 processes)   offhook / baresip: median of rounds [min-max]   rounds (offhook | baresip)');
  const json: Record<string, unknown> = {};
  for (const r of rows) {
    const os = r.offhook.map(perMinute);
    const bs = r.baresip.map(perMinute);
    const o = median(os);
    const b = median(bs);
    // The ratio of each round (offhook and baresip measured back to back), its median and spread.
    const ratios = os.map((x, i) => x / (bs[i] ?? Number.NaN));
    const ratio = median(ratios);
    const spread = `[${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)}]`;
    console.log(
      `${SETUPS[r.codec].label.padEnd(20)}  ${o.toFixed(2).padStart(6)} s/min (${(o / 2).toFixed(2)} per end)     ${b.toFixed(2).padStart(6)} s/min (${(b / 2).toFixed(2)} per end)   ${ratio.toFixed(2).padStart(5)} ${spread.padEnd(36)}${os.map((x) => x.toFixed(2)).join(' ')} | ${bs.map((x) => x.toFixed(2)).join(' ')}`,
    );
    json[r.codec] = { offhookCpuSPerMin: o, baresipCpuSPerMin: b, ratio, ratioMin: Math.min(...ratios), ratioMax: Math.max(...ratios), ratioOfMedians: o / b, offhookRounds: os, baresipRounds: bs };
  }
  for (const r of rows) {
    // Per thread name over all rounds, scaled to a minute: both engines' media threads are one line.
    const window = r.offhook.reduce((sum, m) => sum + m.windowS, 0);
    const byName = new Map<string, number>();
    for (const m of r.offhook) for (const [name, cpu] of m.threads ?? []) byName.set(name, (byName.get(name) ?? 0) + cpu);
    const parts = [...byName].filter(([, cpu]) => cpu > 0).map(([name, cpu]) => `${name} ${((cpu * 60) / window).toFixed(2)}`);
    console.log(`  ${r.codec}: offhook by thread (s/min): ${parts.join(', ')}; ${r.offhook[0]?.check ?? ''}; baresip ${r.baresip[0]?.check ?? ''}`);
  }
  console.log(JSON.stringify({ bench: 'media-cpu', seconds, rounds, ...json }));
}

await main();
