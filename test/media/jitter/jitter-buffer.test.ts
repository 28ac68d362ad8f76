// The adaptive jitter buffer (native, through firmware/media/jitter-buffer.ts), driven by packet tables on a virtual clock.
import { beforeAll, describe, expect, it } from 'vitest';
import { JitterBuffer, JitterConfigError, type JitterBufferConfig } from '../../../firmware/media/jitter-buffer.js';
import { loadNativeAddon, type NativeAddon } from '../../../firmware/media/native-addon.js';
import {
  FRAME_US,
  count,
  deliver,
  drive,
  frames,
  seeded,
  stream,
  type Arrival,
  type Played,
  type Sent,
} from './virtual-clock.js';

let addon: NativeAddon;

beforeAll(() => {
  addon = loadNativeAddon();
});

const ours = (config: JitterBufferConfig = {}): JitterBuffer => new JitterBuffer({ addon, config });

/** Pull time minus arrival, ms, for every packet played. */
function addedDelays(played: Played[], arrivals: Arrival[]): Map<number, number> {
  const arrivedAt = new Map<number, number>();
  for (const a of arrivals) if (!arrivedAt.has(a.packet.seq)) arrivedAt.set(a.packet.seq, a.arrivalUs);
  return new Map(frames(played).map((p) => [p.seq, (p.atUs - (arrivedAt.get(p.seq) ?? NaN)) / 1000]));
}

const seqs = (played: Played[]): number[] => frames(played).map((p) => p.seq);
const seqsOf = (packets: Sent[]): number[] => packets.map((p) => p.seq);

describe('in-order stream', () => {
  // Network delay → the delay the buffer adds: pulls fall 7 ms after each send, so with no jitter the
  // first reachable offset at or above minDelayMs (10) is what every packet waits.
  it.each([
    { networkMs: 5, expectedMs: 22 },
    { networkMs: 30, expectedMs: 17 },
    { networkMs: 120, expectedMs: 27 },
  ])('network delay $networkMs ms: every packet plays, in order, $expectedMs ms after arrival, no concealment', ({ networkMs, expectedMs }) => {
    const packets = stream({ count: 300, firstSeq: 65_500, firstTimestamp: 2 ** 32 - 8_000 }); // both wrap
    const arrivals = deliver(packets, () => networkMs);
    const jb = ours({ initialDelayMs: 10 });
    const played = drive(jb, arrivals);
    expect(seqs(played)).toEqual(seqsOf(packets));
    expect(count(played, 'conceal')).toBe(0);
    expect(new Set(addedDelays(played, arrivals).values())).toEqual(new Set([expectedMs]));
    const stats = jb.stats();
    expect(stats).toMatchObject({ received: 300, late: 0, duplicates: 0, reordered: 0, droppedForShrink: 0, insertedForGrowth: 0 });
    expect(stats.targetDelayMs).toBeGreaterThanOrEqual(10);
    expect(stats.targetDelayMs).toBeLessThan(expectedMs + 1);
  });

  it('starts at initialDelayMs and comes down to the target by dropping voiced frames at a bounded rate', () => {
    const packets = stream({ count: 1500 });
    const arrivals = deliver(packets, () => 30);
    const jb = ours({ initialDelayMs: 60, maxShrinkMsPerS: 10 });
    const dropsAt: number[] = [];
    let dropped = 0;
    const played = drive(jb, arrivals, {
      onPull: (atUs) => {
        const now = jb.stats().droppedForShrink;
        if (now > dropped) dropsAt.push(atUs);
        dropped = now;
      },
    });
    const delays = [...addedDelays(played, arrivals).values()];
    // The first pull at least 60 ms after the first arrival falls 77 ms after it; 17 ms is the target.
    expect(delays[0]).toBe(77);
    expect(delays.at(-1)).toBe(17);
    expect(count(played, 'conceal')).toBe(0);
    expect(dropsAt.length).toBe(3);
    // 10 ms per second: one 20 ms frame per 2 s at most.
    for (let i = 1; i < dropsAt.length; i++) expect(dropsAt[i]! - dropsAt[i - 1]!).toBeGreaterThanOrEqual(2_000_000);
    expect(frames(played).length).toBe(packets.length - 3);
  });
});

describe('late packets and reordering', () => {
  it('a packet arriving after its play-out time is counted late and its frame concealed', () => {
    const packets = stream({ count: 100 });
    const arrivals = deliver(packets, (_, i) => (i === 50 ? 300 : 30));
    const jb = ours({ initialDelayMs: 10 });
    const played = drive(jb, arrivals);
    const lost = packets[50]!;
    expect(seqs(played)).toEqual(seqsOf(packets).filter((s) => s !== lost.seq));
    const slot = played.find((p) => p.timestamp === lost.timestamp);
    expect(slot?.kind).toBe('conceal');
    expect(jb.stats().late).toBe(1);
    expect(count(played, 'conceal')).toBe(1);
    // One straggler is no reason to add delay.
    expect(jb.stats().targetDelayMs).toBeLessThan(20);
  });

  // Network delay 30 ms, except for the packets listed (index → ms); the buffer holds 97 ms.
  it.each<{ name: string; delays: Record<number, number>; reordered: number }>([
    { name: 'two neighbours swapped', delays: { 20: 55 }, reordered: 1 },
    { name: 'one packet overtaken by three', delays: { 40: 95 }, reordered: 1 },
    { name: 'three packets in reverse', delays: { 60: 95, 61: 72, 62: 49 }, reordered: 2 },
  ])('reordering within the buffer ($name): played in sequence order, counted', ({ delays: extra, reordered }) => {
    const packets = stream({ count: 120 });
    const arrivals = deliver(packets, (_, i) => extra[i] ?? 30);
    const jb = ours({ minDelayMs: 80, initialDelayMs: 80 });
    const played = drive(jb, arrivals);
    expect(seqs(played)).toEqual(seqsOf(packets));
    expect(count(played, 'conceal')).toBe(0);
    expect(jb.stats().reordered).toBe(reordered);
    expect(jb.stats().late).toBe(0);
  });

  it('duplicates are dropped and counted, also one arriving after its original was played', () => {
    const packets = stream({ count: 100 });
    const arrivals = deliver(packets, () => 30);
    for (const i of [10, 11, 12, 13, 14]) arrivals.push({ packet: packets[i]!, arrivalUs: arrivals[i]!.arrivalUs + 2_000 });
    arrivals.push({ packet: packets[20]!, arrivalUs: arrivals[20]!.arrivalUs + 500_000 });
    const jb = ours({ initialDelayMs: 10 });
    const played = drive(jb, arrivals);
    expect(seqs(played)).toEqual(seqsOf(packets));
    expect(jb.stats()).toMatchObject({ received: 106, duplicates: 6, late: 0 });
  });
});

describe('timeline changes', () => {
  it('a new SSRC resets the buffer; the new stream starts within its target, a straggler of the old one is ignored', () => {
    const a = stream({ count: 100, ssrc: 1 });
    const b = stream({ count: 100, ssrc: 2, firstSeq: 40_000, firstTimestamp: 7_777_777, startUs: a.at(-1)!.sendUs + FRAME_US });
    const arrivals = [...deliver(a, () => 30), ...deliver(b, () => 30)];
    arrivals.push({ packet: a[99]!, arrivalUs: b[5]!.sendUs + 30_000 }); // a duplicate of the old stream, late
    const jb = ours({ initialDelayMs: 10 });
    const played = drive(jb, arrivals);
    const firstB = frames(played).find((p) => p.seq === b[0]!.seq)!;
    const lastA = frames(played).filter((p) => a.some((x) => x.seq === p.seq && x.timestamp === p.timestamp)).at(-1)!;
    expect(firstB.discontinuity).toBe(true);
    const stats = jb.stats();
    expect(stats.resets).toBe(1);
    const gapMs = (firstB.atUs - lastA.atUs - FRAME_US) / 1000;
    expect(gapMs).toBeLessThanOrEqual(stats.targetDelayMs + 20);
    expect(seqs(played).slice(-100)).toEqual(seqsOf(b));
  });

  it('a timestamp jump beyond maxTimestampJumpMs restarts the timeline without a concealment storm', () => {
    const before = stream({ count: 100 });
    const after = stream({ count: 100, firstSeq: 1100, firstTimestamp: 90_000 + 100 * 160 + 8000 * 30, startUs: before.at(-1)!.sendUs + FRAME_US });
    const arrivals = deliver([...before, ...after], () => 30);
    const jb = ours({ initialDelayMs: 10 });
    const played = drive(jb, arrivals);
    expect(jb.stats().resets).toBe(1);
    expect(count(played, 'conceal')).toBeLessThanOrEqual(1);
    const firstAfter = frames(played).find((p) => p.seq === 1100)!;
    expect(firstAfter.discontinuity).toBe(true);
    expect((firstAfter.atUs - (after[0]!.sendUs + 30_000)) / 1000).toBeLessThanOrEqual(jb.stats().targetDelayMs + 20);
    expect(seqs(played).slice(-100)).toEqual(seqsOf(after));
  });

  it('a new talkspurt (marker bit after a gap without CN): at most maxConcealMs of concealment, then silence, same delay', () => {
    const packets = stream({ count: 150, shape: (k) => (k === 0 || k === 75 ? 'start' : k >= 50 && k < 75 ? 'off' : 'voice') });
    const arrivals = deliver(packets, () => 30);
    const jb = ours({ initialDelayMs: 10, maxConcealMs: 60 });
    const played = drive(jb, arrivals);
    expect(seqs(played)).toEqual(seqsOf(packets));
    expect(count(played, 'conceal')).toBe(3);
    expect(new Set(addedDelays(played, arrivals).values())).toEqual(new Set([17]));
  });
});

describe('DTX and comfort noise', () => {
  it('a DTX gap after a CN packet is silence, not concealment, and the delay does not grow', () => {
    const shape = (k: number): 'voice' | 'start' | 'cn' | 'off' => (k === 0 || k === 150 ? 'start' : k === 50 ? 'cn' : k > 50 && k < 150 ? 'off' : 'voice');
    const packets = stream({ count: 200, shape });
    const rng = seeded(7);
    const arrivals = deliver(packets, () => 30 + 3 * rng.gaussian());
    const jb = ours({ initialDelayMs: 20 });
    let targetAtGap = 0;
    let delayAtGap = 0;
    const played = drive(jb, arrivals, {
      onPull: (atUs) => {
        if (Math.abs(atUs - (packets[50]!.sendUs + 200_000)) < FRAME_US / 2) {
          targetAtGap = jb.stats().targetDelayMs;
          delayAtGap = jb.stats().currentDelayMs;
        }
      },
    });
    const gap = played.filter((p) => p.atUs > packets[50]!.sendUs + 100_000 && p.atUs < packets[51]!.sendUs);
    expect(gap.length).toBeGreaterThan(80);
    expect(new Set(gap.map((p) => p.kind))).toEqual(new Set(['silence']));
    expect(count(played, 'conceal')).toBe(0);
    expect(seqs(played)).toEqual(seqsOf(packets));
    expect(frames(played).find((p) => p.seq === packets[50]!.seq)?.discontinuity).toBe(false);
    expect(jb.stats().targetDelayMs).toBeLessThanOrEqual(targetAtGap + 1);
    expect(jb.stats().currentDelayMs).toBeLessThanOrEqual(delayAtGap + 1);
  });
});

describe('adaptation', () => {
  /** Calm (σ 1 ms) for `calmS` seconds, then U(0, 80 ms) jitter for `burstS`, then calm again. */
  function burstTrace(calmS: number, burstS: number, afterS: number, shape?: (k: number) => 'voice' | 'start' | 'cn' | 'off'): { packets: Sent[]; arrivals: Arrival[]; burstAt: number; calmAt: number } {
    const total = (calmS + burstS + afterS) * 50;
    const packets = stream({ count: total, ...(shape ? { shape } : {}) });
    const rng = seeded(11);
    const burstAt = calmS * 50;
    const calmAt = (calmS + burstS) * 50;
    const frameOf = (p: Sent): number => (p.timestamp - 90_000) / 160;
    const arrivals = deliver(packets, (p) => {
      const k = frameOf(p);
      return k >= burstAt && k < calmAt ? 30 + 80 * rng.next() : 30 + rng.gaussian();
    });
    return { packets, arrivals, burstAt, calmAt };
  }

  it('a jitter burst raises the target within a few packets', () => {
    const { arrivals, burstAt } = burstTrace(10, 5, 1);
    const jb = ours();
    const targets: number[] = [];
    const sorted = [...arrivals].sort((a, b) => a.arrivalUs - b.arrivalUs);
    let burstPackets = 0;
    let calmTarget = 0;
    for (const a of sorted) {
      jb.put({ ssrc: a.packet.ssrc, seq: a.packet.seq, timestamp: a.packet.timestamp, marker: a.packet.marker, arrivalUs: a.arrivalUs, size: 160, durationTs: 160 });
      if ((a.packet.timestamp - 90_000) / 160 === burstAt - 1) calmTarget = jb.stats().targetDelayMs;
      if ((a.packet.timestamp - 90_000) / 160 >= burstAt) {
        burstPackets++;
        targets.push(jb.stats().targetDelayMs);
      }
      if (burstPackets === 12) break;
    }
    expect(calmTarget).toBeLessThan(15);
    const grownAfter = targets.findIndex((t) => t >= calmTarget + 20);
    expect(grownAfter).toBeGreaterThanOrEqual(0);
    expect(grownAfter).toBeLessThan(10);
  });

  // The burst stays in the delay histogram (half-life 500 packets) and its tail is priced (lateCostMs),
  // so the target comes down some 50 s after a 10 s burst: slowly, on purpose.
  it('after a burst, continuous speech: the delay comes down slowly, one dropped frame per 2 s at most', () => {
    const { packets, arrivals, calmAt } = burstTrace(5, 10, 90);
    const jb = ours({ maxShrinkMsPerS: 10 });
    const dropsAt: number[] = [];
    const delayAt = new Map<number, number>();
    let dropped = 0;
    drive(jb, arrivals, {
      onPull: (atUs) => {
        const s = jb.stats();
        if (s.droppedForShrink > dropped) dropsAt.push(atUs);
        dropped = s.droppedForShrink;
        delayAt.set(Math.round((atUs - packets[0]!.sendUs) / 1e6), s.currentDelayMs);
      },
    });
    const calmS = calmAt / 50;
    const peak = delayAt.get(calmS) ?? 0;
    expect(peak).toBeGreaterThan(60);
    // Slowly: ten seconds into the calm, the delay is still at its peak...
    expect(delayAt.get(calmS + 10)).toBeGreaterThanOrEqual(peak - 1);
    // ...and it does come down by the end.
    expect(delayAt.get(calmS + 89)).toBeLessThanOrEqual(peak - 40);
    const calmDrops = dropsAt.filter((t) => t > packets[calmAt]!.sendUs);
    expect(calmDrops.length).toBeGreaterThan(0);
    for (let i = 1; i < calmDrops.length; i++) expect(calmDrops[i]! - calmDrops[i - 1]!).toBeGreaterThanOrEqual(2_000_000);
  });

  it('after a burst, with pauses: the delay comes down in the pauses and every calm voice frame is played', () => {
    // 1 s talkspurts and 1 s pauses (a CN packet first) throughout; the histogram decays per packet,
    // so at half the packet rate the burst is remembered twice as long.
    const shape = (k: number): 'voice' | 'start' | 'cn' | 'off' => (k % 100 === 0 ? 'start' : k % 100 === 50 ? 'cn' : k % 100 > 50 ? 'off' : 'voice');
    const { packets, arrivals, calmAt } = burstTrace(6, 10, 150, shape);
    const jb = ours({ maxShrinkMsPerS: 0 }); // no voiced drops at all: only silence may shrink it
    let peak = 0;
    const played = drive(jb, arrivals, { onPull: () => (peak = Math.max(peak, jb.stats().currentDelayMs)) });
    const calmVoice = packets.filter((p) => (p.timestamp - 90_000) / 160 >= calmAt + 100);
    const playedSeqs = new Set(seqs(played));
    expect(calmVoice.every((p) => playedSeqs.has(p.seq))).toBe(true);
    expect(peak).toBeGreaterThan(60);
    expect(jb.stats().currentDelayMs).toBeLessThanOrEqual(peak - 40);
    expect(jb.stats().droppedForShrink).toBeGreaterThan(0);
  });

  it.each([{ ppm: 100 }, { ppm: -100 }])('a sender clock $ppm ppm off for 10 minutes: the delay stays bounded, drift is estimated', ({ ppm }) => {
    const packets = stream({ count: 30_000, skewPpm: ppm });
    const rng = seeded(3);
    const arrivals = deliver(packets, () => 30 + 2 * rng.gaussian());
    const jb = ours();
    let maxDelay = 0;
    let minDelay = Infinity;
    const played = drive(jb, arrivals, {
      onPull: (atUs) => {
        if (atUs - packets[0]!.sendUs < 5_000_000) return;
        const d = jb.stats().currentDelayMs;
        maxDelay = Math.max(maxDelay, d);
        minDelay = Math.min(minDelay, d);
      },
    });
    // 100 ppm over 10 minutes is 60 ms: uncorrected, the delay would grow or shrink by that much.
    expect(maxDelay - minDelay).toBeLessThanOrEqual(25);
    expect(frames(played).length).toBeGreaterThanOrEqual(packets.length * 0.995);
    const stats = jb.stats();
    expect(stats.driftPpm).toBeGreaterThan(ppm - 30);
    expect(stats.driftPpm).toBeLessThan(ppm + 30);
    expect(ppm > 0 ? stats.droppedForShrink : stats.insertedForGrowth).toBeGreaterThanOrEqual(2);
  });
});

describe('memory and FEC', () => {
  it.each([
    { name: 'random timestamps within 2 s', timestamp: (i: number, r: number) => 1000 + Math.floor(r * 99) * 160 + (i % 2) },
    { name: 'a runaway sequence', timestamp: (i: number) => 1000 + i * 160 },
  ])('a flood ($name) never makes it hold more than maxPackets', ({ timestamp }) => {
    const jb = ours({ maxPackets: 32, maxPayloadBytes: 200 });
    const rng = seeded(5);
    for (let i = 0; i < 20_000; i++) {
      jb.put({ ssrc: 9, seq: i & 0xffff, timestamp: timestamp(i, rng.next()) >>> 0, marker: false, arrivalUs: 1_000_000 + i, size: 160, durationTs: 160 });
      if (i % 1000 === 0) expect(jb.stats().packetsHeld).toBeLessThanOrEqual(32);
    }
    const stats = jb.stats();
    expect(stats.packetsHeldMax).toBeLessThanOrEqual(32);
    expect(stats.received).toBe(20_000);
    expect(stats.overflowDropped + stats.resets).toBeGreaterThan(100);
    // And the next stream plays (starting from the flooded stream's target as its prior, then
    // shrinking: a frame or two dropped on the way down).
    const next = stream({ count: 200, ssrc: 10, startUs: 30_000_000 });
    const played = drive(jb, deliver(next, () => 30), { fromUs: 30_007_000 });
    expect(frames(played).length).toBeGreaterThanOrEqual(195);
    expect(count(played, 'conceal')).toBe(0);
  });

  it('a payload above maxPayloadBytes is refused and counted', () => {
    const jb = ours({ maxPayloadBytes: 200 });
    jb.put({ ssrc: 9, seq: 1, timestamp: 5000, marker: false, arrivalUs: 1_000_000, size: 201, durationTs: 160 });
    expect(jb.stats()).toMatchObject({ received: 1, overflowDropped: 1, packetsHeld: 0 });
  });

  it.each<{ lost: number[]; fec: Record<number, boolean> }>([
    { lost: [60], fec: { 60: true } },
    { lost: [60, 61], fec: { 60: false, 61: true } },
  ])('a missing frame with the next packet queued is concealed with fecAvailable and that packet as payload (lost $lost)', ({ lost, fec: expected }) => {
    const packets = stream({ count: 100 });
    const arrivals = deliver(packets, (_, i) => (lost.includes(i) ? null : 30));
    const jb = ours({ minDelayMs: 60, initialDelayMs: 60 });
    const played = drive(jb, arrivals);
    for (const [index, available] of Object.entries(expected)) {
      const k = Number(index);
      const slot = played.find((p) => p.timestamp === packets[k]!.timestamp)!;
      expect(slot.kind).toBe('conceal');
      expect(slot.fecAvailable).toBe(available);
      // The payload handed over is the next packet's (whose first byte is its tag).
      expect(slot.firstByte).toBe(available ? packets[k + 1]!.tag : -1);
    }
    expect(seqs(played)).toEqual(seqsOf(packets.filter((_, i) => !lost.includes(i))));
  });
});

describe('configuration and the reference buffers', () => {
  it.each([
    { config: { maxDelayMs: 5 }, field: 'maxDelayMs' },
    { config: { initialDelayMs: 900 }, field: 'initialDelayMs' },
    { config: { clockRateHz: 10 }, field: 'clockRateHz' },
    { config: { lateShare: 0.7 }, field: 'lateShare' },
    { config: { maxPackets: 1.5 }, field: 'maxPackets' },
  ])('a bad $field throws JitterConfigError naming it', ({ config, field }) => {
    expect(() => ours(config)).toThrow(JitterConfigError);
    try {
      ours(config);
    } catch (err) {
      expect((err as JitterConfigError).field).toBe(field);
    }
  });

  it('wrong types are TypeErrors', () => {
    const jb = ours();
    expect(() => jb.pull(Number.NaN)).toThrow(RangeError);
    expect(() => jb.put({ ssrc: 1, seq: 70_000, timestamp: 0, marker: false, arrivalUs: 0, size: 0, durationTs: 0 })).toThrow(RangeError);
    expect(() => jb.put({ ssrc: 1, seq: 1, timestamp: 0, marker: false, arrivalUs: 0, size: 3, durationTs: 0, payload: new Uint8Array(2) })).toThrow(RangeError);
  });

  it.each(['speex', 'fixed'] as const)('the %s reference plays an in-order stream completely', (kind) => {
    const packets = stream({ count: 200 });
    const arrivals = deliver(packets, () => 30);
    const jb = kind === 'speex' ? new JitterBuffer({ addon, kind }) : new JitterBuffer({ addon, kind, delayMs: 40 });
    const played = drive(jb, arrivals, { toUs: arrivals.at(-1)!.arrivalUs + 60_000 });
    expect(seqs(played)).toEqual(seqsOf(packets));
    expect(count(played, 'conceal')).toBe(0);
    if (kind === 'fixed') expect(new Set(addedDelays(played, arrivals).values())).toEqual(new Set([57]));
  });

  it('reset() forgets packets, history and counters', () => {
    const packets = stream({ count: 50 });
    const jb = ours();
    drive(jb, deliver(packets, () => 30));
    expect(jb.stats().received).toBe(50);
    jb.reset();
    expect(jb.stats()).toMatchObject({ received: 0, packetsHeld: 0, playedFrames: 0 });
    expect(jb.pull(1).kind).toBe('silence');
  });
});
