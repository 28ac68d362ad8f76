// Synthetic RTP arrival traces for the jitter-buffer benchmark, generated deterministically from seeds (the one place they are made).
//
// Each trace is 60 s of 20 ms G.711 packets (8000 Hz, 160 samples, 160 bytes) from one SSRC. The sender
// sends packet k at k·20 ms of its own clock; a trace gives each packet a network delay (or loses it),
// and may duplicate it. Run alone (`node dist/bench/jitter-traces.mjs`) it prints what each trace is.

/** One RTP packet as sent. */
export interface TracePacket {
  seq: number;
  timestamp: number;
  /** Send time on the receiver's clock, µs (includes the sender's clock skew). */
  sendUs: number;
  marker: boolean;
  comfortNoise: boolean;
  durationTs: number;
  size: number;
}

/** One delivery of a packet (a duplicated packet is delivered twice). */
export interface TraceArrival {
  /** Index into Trace.packets. */
  packet: number;
  arrivalUs: number;
}

export interface Trace {
  name: string;
  description: string;
  ssrc: number;
  clockRateHz: number;
  ptimeMs: number;
  packets: TracePacket[];
  /** Sorted by arrival time (ties in send order). */
  arrivals: TraceArrival[];
}

// ---------------------------------------------------------------------------------------------------
// Deterministic randomness

/** SplitMix32-style generator: small, seedable, good enough for traffic models. */
export class SeededRandom {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x9e3779b9) >>> 0;
    let z = this.state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    z = (z ^ (z >>> 16)) >>> 0;
    return z / 4294967296;
  }

  /** Standard normal (Box–Muller). */
  gaussian(): number {
    const u = Math.max(this.next(), 1e-12);
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** Pareto with scale xm and shape alpha (heavy tail for alpha <= 2). */
  pareto(xm: number, alpha: number): number {
    return xm * Math.pow(1 - this.next(), -1 / alpha);
  }

  exponential(mean: number): number {
    return -mean * Math.log(1 - this.next());
  }

  chance(p: number): boolean {
    return this.next() < p;
  }
}

// ---------------------------------------------------------------------------------------------------
// Building blocks

const CLOCK_RATE_HZ = 8000;
const PTIME_MS = 20;
const FRAME_TS = (CLOCK_RATE_HZ * PTIME_MS) / 1000;
const DURATION_S = 60;
const FRAMES = (DURATION_S * 1000) / PTIME_MS;
/** Receiver clock at the first send: arbitrary, far from 0, so nothing depends on small numbers. */
const T0_US = 1_000_000_000;
const MS = 1000;

interface Shape {
  /** Sender clock skew in ppm: positive = the sender's clock runs fast (sends more often in our time). */
  skewPpm?: number;
  /** DTX: which frames are sent, and which carry the marker / are CN. */
  talk?: (frame: number) => 'voice' | 'voice-start' | 'cn' | 'off';
}

function makePackets(rng: SeededRandom, shape: Shape): TracePacket[] {
  const packets: TracePacket[] = [];
  let seq = Math.floor(rng.next() * 65536);
  const ts0 = Math.floor(rng.next() * 2 ** 32);
  const scale = 1 / (1 + (shape.skewPpm ?? 0) * 1e-6);
  for (let k = 0; k < FRAMES; k++) {
    const what = shape.talk?.(k) ?? (k === 0 ? 'voice-start' : 'voice');
    if (what === 'off') continue;
    packets.push({
      seq: seq & 0xffff,
      timestamp: (ts0 + k * FRAME_TS) % 2 ** 32,
      sendUs: Math.round(T0_US + k * PTIME_MS * MS * scale),
      marker: what === 'voice-start',
      comfortNoise: what === 'cn',
      durationTs: FRAME_TS,
      size: what === 'cn' ? 1 : 160,
    });
    seq++;
  }
  return packets;
}

/** delays[i] in µs per packet, null = lost; dup = extra deliveries (packet index, delay). */
function finish(name: string, description: string, seed: number, packets: TracePacket[], delays: (number | null)[], dups: [number, number][] = []): Trace {
  const arrivals: TraceArrival[] = [];
  packets.forEach((p, i) => {
    const d = delays[i];
    if (d !== null && d !== undefined) arrivals.push({ packet: i, arrivalUs: Math.round(p.sendUs + d) });
  });
  for (const [i, d] of dups) arrivals.push({ packet: i, arrivalUs: Math.round((packets[i]?.sendUs ?? 0) + d) });
  arrivals.sort((a, b) => a.arrivalUs - b.arrivalUs || a.packet - b.packet);
  return { name, description, ssrc: (seed * 2654435761) >>> 0, clockRateHz: CLOCK_RATE_HZ, ptimeMs: PTIME_MS, packets, arrivals };
}

/** A FIFO link: a packet cannot overtake the one sent before it (queueing, not multipath). */
function fifo(packets: TracePacket[], delays: (number | null)[]): (number | null)[] {
  let lastArrival = -Infinity;
  return delays.map((d, i) => {
    if (d === null) return null;
    const send = packets[i]?.sendUs ?? 0;
    const arrival = Math.max(send + d, lastArrival);
    lastArrival = arrival;
    return arrival - send;
  });
}

const BASE_MS = 40;

// ---------------------------------------------------------------------------------------------------
// The traces

function gaussian(name: string, seed: number, sigmaMs: number): Trace {
  const rng = new SeededRandom(seed);
  const packets = makePackets(rng, {});
  const delays = packets.map(() => Math.max(1, BASE_MS + sigmaMs * rng.gaussian()) * MS);
  return finish(name, `i.i.d. Gaussian jitter, σ ${sigmaMs} ms around ${BASE_MS} ms (overtaking allowed)`, seed, packets, delays);
}

function pareto(seed: number): Trace {
  const rng = new SeededRandom(seed);
  const packets = makePackets(rng, {});
  const delays = packets.map(() => (BASE_MS - 2 + Math.min(rng.pareto(2, 1.5), 800)) * MS);
  return finish('pareto', `heavy tail: ${BASE_MS - 2} ms + Pareto(xm 2 ms, α 1.5), FIFO`, seed, packets, fifo(packets, delays));
}

function gilbertElliott(seed: number): Trace {
  const rng = new SeededRandom(seed);
  const packets = makePackets(rng, {});
  // Gilbert–Elliott: good state loses 0.5 %, bad state 50 %; mean bad burst 4 packets, 2 % entry.
  let bad = false;
  const delays = packets.map(() => {
    bad = bad ? !rng.chance(0.25) : rng.chance(0.02);
    const lost = rng.chance(bad ? 0.5 : 0.005);
    const d = Math.max(1, BASE_MS + 4 * rng.gaussian()) * MS;
    return lost ? null : d;
  });
  return finish('gilbert-elliott', 'loss bursts (Gilbert–Elliott: 0.5 % / 50 %, p 2 % / r 25 %), σ 4 ms jitter', seed, packets, delays);
}

function delayStep(seed: number): Trace {
  const rng = new SeededRandom(seed);
  const packets = makePackets(rng, {});
  const delays = packets.map((p) => (Math.max(1, BASE_MS + 4 * rng.gaussian()) + (p.sendUs - T0_US >= 30_000 * MS ? 80 : 0)) * MS);
  return finish('delay-step', 'σ 4 ms jitter, +80 ms route change at 30 s', seed, packets, fifo(packets, delays));
}

function drift(name: string, seed: number, ppm: number): Trace {
  const rng = new SeededRandom(seed);
  const packets = makePackets(rng, { skewPpm: ppm });
  const delays = packets.map(() => Math.max(1, BASE_MS + 4 * rng.gaussian()) * MS);
  return finish(name, `sender clock ${ppm > 0 ? '+' : ''}${ppm} ppm, σ 4 ms jitter`, seed, packets, delays);
}

function reorder(seed: number): Trace {
  const rng = new SeededRandom(seed);
  const packets = makePackets(rng, {});
  const dups: [number, number][] = [];
  const delays = packets.map((_, i) => {
    let d = Math.max(1, BASE_MS + 3 * rng.gaussian());
    // 4 % take a slower path (one to three frames behind their successors), 1 % arrive twice.
    if (rng.chance(0.04)) d += 20 + rng.next() * 45;
    if (rng.chance(0.01)) dups.push([i, (d + 5 + rng.next() * 30) * MS]);
    return d * MS;
  });
  return finish('reorder', 'σ 3 ms jitter; 4 % overtaken by 1–3 frames, 1 % duplicated', seed, packets, delays, dups);
}

function wifi(seed: number): Trace {
  const rng = new SeededRandom(seed);
  const packets = makePackets(rng, {});
  // Contention jitter (exponential, mean 4 ms) on 30 ms, 1 % loss, and every 3–12 s a stall of
  // 80–300 ms (a scan or a retry storm) during which the queue builds and then drains at once.
  let stallStart = T0_US + rng.exponential(6000) * MS;
  let stallEnd = stallStart + (80 + rng.next() * 220) * MS;
  const delays = packets.map((p) => {
    while (p.sendUs > stallEnd) {
      stallStart = stallEnd + (3000 + rng.next() * 9000) * MS;
      stallEnd = stallStart + (80 + rng.next() * 220) * MS;
    }
    if (rng.chance(0.01)) return null;
    let d = (30 + rng.exponential(4)) * MS;
    if (p.sendUs >= stallStart) d += stallEnd - p.sendUs + rng.next() * 2 * MS;
    return d;
  });
  return finish('wifi', 'Wi-Fi: 30 ms + Exp(4 ms), 1 % loss, 80–300 ms stalls every 3–12 s, FIFO', seed, packets, fifo(packets, delays));
}

function dtx(seed: number): Trace {
  const rng = new SeededRandom(seed);
  // Talkspurts and pauses of exponential length (means 1.5 s and 1.2 s, Brady's on/off model), the
  // first voice packet with the marker, one CN packet (RFC 3389) at the start of each pause.
  const state: ('voice' | 'voice-start' | 'cn' | 'off')[] = [];
  let talking = true;
  let left = Math.max(10, Math.round(rng.exponential(1500) / PTIME_MS));
  for (let k = 0; k < FRAMES; k++) {
    if (left === 0) {
      talking = !talking;
      left = Math.max(talking ? 10 : 5, Math.round(rng.exponential(talking ? 1500 : 1200) / PTIME_MS));
      state.push(talking ? 'voice-start' : 'cn');
    } else {
      state.push(k === 0 ? 'voice-start' : talking ? 'voice' : 'off');
    }
    left--;
  }
  const packets = makePackets(rng, { talk: (k) => state[k] ?? 'off' });
  const delays = packets.map(() => Math.max(1, BASE_MS + 10 * rng.gaussian()) * MS);
  return finish('dtx', 'talkspurts/pauses (means 1.5 s / 1.2 s), marker + one CN per pause, σ 10 ms jitter', seed, packets, fifo(packets, delays));
}

/** Every trace of the benchmark, in report order; seedOffset draws other traces of the same kinds. */
export function jitterTraces(seedOffset = 0): Trace[] {
  const o = seedOffset;
  return [
    gaussian('gauss-5', 101 + o, 5),
    gaussian('gauss-20', 102 + o, 20),
    pareto(103 + o),
    gilbertElliott(104 + o),
    delayStep(105 + o),
    drift('drift+100', 106 + o, 100),
    drift('drift-100', 107 + o, -100),
    reorder(108 + o),
    wifi(109 + o),
    dtx(110 + o),
  ];
}

// ---------------------------------------------------------------------------------------------------
// Run alone: describe the traces.

function quantile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN;
}

function describe(): void {
  console.log('trace            packets  lost%  dup  overtaken  delay p50/p95/p99/max ms   what');
  for (const t of jitterTraces()) {
    const firstArrival = new Map<number, number>();
    let dup = 0;
    for (const a of t.arrivals) {
      if (firstArrival.has(a.packet)) dup++;
      else firstArrival.set(a.packet, a.arrivalUs);
    }
    const delays = [...firstArrival.entries()].map(([i, a]) => (a - (t.packets[i]?.sendUs ?? 0)) / 1000).sort((x, y) => x - y);
    let overtaken = 0;
    let maxSeen = -1;
    for (const a of t.arrivals) {
      if (a.packet < maxSeen) overtaken++;
      maxSeen = Math.max(maxSeen, a.packet);
    }
    const lost = (100 * (t.packets.length - firstArrival.size)) / t.packets.length;
    const q = [0.5, 0.95, 0.99, 1].map((p) => quantile(delays, p).toFixed(0)).join('/');
    console.log(
      `${t.name.padEnd(16)} ${String(t.packets.length).padStart(7)} ${lost.toFixed(2).padStart(6)} ${String(dup).padStart(4)} ${String(overtaken).padStart(10)}  ${q.padEnd(25)}  ${t.description}`,
    );
  }
}

// esbuild inlines this module into jitter.mjs too: describe only when this file is the entry point.
if (/jitter-traces\.(mjs|ts|js)$/.test(process.argv[1] ?? '')) describe();
