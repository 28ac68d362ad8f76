// Time-stretching play-out: the stretcher (native jitter/time-stretch.cc) on synthetic audio, and our buffer with timeStretch on, driven by packet tables on a virtual clock.
import { beforeAll, describe, expect, it } from 'vitest';
import { JitterBuffer, timeStretch } from '../../../firmware/media/jitter-buffer.js';
import { loadNativeAddon, type NativeAddon } from '../../../firmware/media/native-addon.js';
import { FRAME_TS, count, deliver, drive, frames, stream, type Arrival, type Played } from './virtual-clock.js';

let addon: NativeAddon;

beforeAll(() => {
  addon = loadNativeAddon();
});

function tone(hz: number, samples: number, rate = 8000, capacity = samples * 2): Int16Array {
  const out = new Int16Array(capacity);
  for (let i = 0; i < samples; i++) out[i] = Math.round(8000 * Math.sin((2 * Math.PI * hz * i) / rate));
  return out;
}

/** Largest step between neighbouring samples: a splice that breaks the waveform shows as a jump. */
function maxStep(pcm: Int16Array, length: number): number {
  let max = 0;
  for (let i = 1; i < length; i++) max = Math.max(max, Math.abs((pcm[i] ?? 0) - (pcm[i - 1] ?? 0)));
  return max;
}

describe('the stretcher', () => {
  it.each([
    { n: 160, m: 120, rate: 8000 },
    { n: 160, m: 150, rate: 8000 },
    { n: 160, m: 200, rate: 8000 },
    { n: 160, m: 240, rate: 8000 },
    { n: 960, m: 720, rate: 48000 },
    { n: 960, m: 1440, rate: 48000 },
  ])('exact: $n → $m samples at $rate Hz, the edges kept', ({ n, m, rate }) => {
    const pcm = tone(440, n, rate);
    const first = pcm[0];
    const last = pcm[n - 1];
    expect(timeStretch(addon, pcm, m, n, rate, true)).toBe(m);
    expect(pcm[0]).toBe(first);
    expect(pcm[m - 1]).toBe(last);
  });

  it.each([
    { hz: 440, n: 160, m: 120 },
    { hz: 440, n: 160, m: 200 },
    { hz: 150, n: 160, m: 130 },
    { hz: 200, n: 160, m: 190 },
  ])('pitch-synchronous: a $hz Hz tone of $n samples towards $m stays a clean tone, a whole number of periods off', ({ hz, n, m }) => {
    const pcm = tone(hz, n);
    const smooth = maxStep(pcm, n);
    const out = timeStretch(addon, pcm, m, n, 8000);
    const want = Math.abs(m - n);
    const got = Math.abs(out - n);
    expect(Math.sign(out - n)).toBe(Math.sign(m - n));
    expect(got).toBeGreaterThanOrEqual(Math.floor(want / 2));
    expect(got).toBeLessThanOrEqual(2 * want);
    // No jump bigger than the tone's own steepest step (plus rounding): the splice is in phase.
    expect(maxStep(pcm, out)).toBeLessThanOrEqual(smooth * 1.1 + 2);
  });

  it('a frame too short for the splice, or no change, is left as it is', () => {
    const pcm = tone(440, 16, 8000, 64);
    expect(timeStretch(addon, pcm, 4, 16, 8000)).toBe(16);
    expect(timeStretch(addon, pcm, 16, 16, 8000)).toBe(16);
  });
});

const stretching = (config = {}): JitterBuffer =>
  new JitterBuffer({ addon, config: { timeStretch: true, initialDelayMs: 40, ...config } });

function addedDelays(played: Played[], arrivals: Arrival[]): number[] {
  const arrivedAt = new Map<number, number>();
  for (const a of arrivals) if (!arrivedAt.has(a.packet.seq)) arrivedAt.set(a.packet.seq, a.arrivalUs);
  return frames(played).map((p) => (p.atUs - (arrivedAt.get(p.seq) ?? NaN)) / 1000);
}

describe('time-stretching play-out on a virtual clock', () => {
  // Scenario → what the buffer must do with it. Network delay 30 ms unless the table says otherwise.
  it.each([
    {
      name: 'no jitter: from the initial 40 ms down to minDelayMs by stretching, nothing lost or concealed',
      delay: (): number | null => 30,
      expectLate: 0,
      expectLastDelayMs: [9, 12] as [number, number],
      maxConcealPulls: 0,
    },
    {
      name: 'one packet 15 ms later than the rest: waited for, in short steps, and played',
      delay: (i: number): number | null => (i === 400 ? 45 : 30),
      expectLate: 0,
      expectLastDelayMs: [9, 12] as [number, number],
      maxConcealPulls: 8,
    },
    {
      name: 'a delay step of +80 ms: no packet lost, the delay settles again',
      delay: (i: number): number | null => (i >= 400 ? 110 : 30),
      expectLate: 0,
      expectLastDelayMs: [9, 14] as [number, number],
      maxConcealPulls: 60,
    },
    {
      name: 'a lost packet (FIFO, the next one queued): concealed once, whole, not waited for long',
      delay: (i: number): number | null => (i === 400 ? null : 30),
      expectLate: 0,
      expectLastDelayMs: [9, 12] as [number, number],
      maxConcealPulls: 8,
    },
  ])('$name', ({ delay, expectLate, expectLastDelayMs, maxConcealPulls }) => {
    const packets = stream({ count: 1000 });
    const arrivals = deliver(packets, (_, i) => delay(i));
    const jb = stretching();
    const played = drive(jb, arrivals);
    const stats = jb.stats();
    expect(stats.late).toBe(expectLate);
    expect(frames(played).length).toBe(arrivals.length);
    expect(count(played, 'conceal')).toBeLessThanOrEqual(maxConcealPulls);
    const delays = addedDelays(played, arrivals);
    const lastDelay = delays.at(-1) ?? NaN;
    expect(lastDelay).toBeGreaterThanOrEqual(expectLastDelayMs[0]);
    expect(lastDelay).toBeLessThanOrEqual(expectLastDelayMs[1]);
    // Frames are played in order, every one once.
    const seqs = frames(played).map((p) => p.seq);
    expect(new Set(seqs).size).toBe(seqs.length);
  });

  it('late packets the history knows of are waited for, mostly in 2.5 ms pieces of concealment, and played', () => {
    // Every 100th packet 15 ms late (beyond minDelayMs above the median): 1 % of the history is that late, too many to give up on, too few
    // to set the target by.
    const packets = stream({ count: 1500 });
    const arrivals = deliver(packets, (_, i) => (i % 100 === 50 ? 45 : 30));
    const jb = stretching();
    const pieces: number[] = [];
    // Once the history holds them (the first ones, with nothing like them seen yet, are concealed
    // whole and then played after all: a rewind).
    const fromUs = (packets[100]?.sendUs ?? 0) + 30_000;
    drive(jb, arrivals, { onPull: (atUs, out) => atUs > fromUs && out.kind === 'conceal' && pieces.push(out.playoutTs) });
    const short = pieces.filter((p) => p === 20).length; // 2.5 ms at 8 kHz
    expect(short).toBeGreaterThan(pieces.length / 2);
    const stats = jb.stats();
    expect(stats.waitsRescued + stats.rewinds).toBeGreaterThanOrEqual(10);
    expect(stats.waitMs).toBeGreaterThan(0);
    expect(stats.late).toBe(0);
  });

  it('DTX: the gap after a CN packet is silence (cut or lengthened), never concealment', () => {
    const packets = stream({ count: 600, shape: (k) => (k % 100 === 0 ? 'start' : k % 100 === 60 ? 'cn' : k % 100 > 60 ? 'off' : 'voice') });
    const arrivals = deliver(packets, () => 30);
    const jb = stretching();
    const played = drive(jb, arrivals);
    expect(count(played, 'conceal')).toBe(0);
    expect(frames(played).length).toBe(packets.length);
    expect(jb.stats().late).toBe(0);
  });

  it('a new SSRC restarts the timeline; the new stream plays from its first packet', () => {
    const a = stream({ count: 200, ssrc: 1 });
    const b = stream({ count: 200, ssrc: 2, firstSeq: 7, firstTimestamp: 5_000_000, startUs: (a.at(-1)?.sendUs ?? 0) + 20_000 });
    const arrivals = deliver([...a, ...b], () => 30);
    const jb = stretching();
    const played = drive(jb, arrivals);
    const firstOfB = frames(played).find((p) => p.timestamp === 5_000_000);
    expect(firstOfB?.discontinuity).toBe(true);
    expect(frames(played).length).toBe(400);
    expect(jb.stats().resets).toBe(1);
  });

  it('frames are asked to play at most 25 % shorter (50 % when far above the target) and 50 % longer', () => {
    const packets = stream({ count: 800 });
    const arrivals = deliver(packets, (_, i) => (i < 200 ? 30 : i < 400 ? 150 : 30));
    const jb = stretching();
    const lengths: number[] = [];
    drive(jb, arrivals, { onPull: (_, out) => out.kind === 'frame' && lengths.push(out.playoutTs) });
    expect(Math.min(...lengths)).toBeGreaterThanOrEqual(FRAME_TS / 2);
    expect(Math.max(...lengths)).toBeLessThanOrEqual(FRAME_TS * 1.5);
    expect(lengths.some((l) => l < FRAME_TS)).toBe(true);
  });
});
