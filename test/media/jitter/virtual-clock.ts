// Test support for the jitter buffer: RTP streams, their arrivals, and a virtual-clock driver that pulls every frame.
import type { JitterBuffer, JitterPlayKind, JitterPulled } from '../../../firmware/media/jitter-buffer.js';

export const RATE_HZ = 8000;
export const FRAME_TS = 160;
export const FRAME_US = 20_000;
export const T0_US = 5_000_000_000;

export interface Sent {
  ssrc: number;
  seq: number;
  timestamp: number;
  sendUs: number;
  marker: boolean;
  comfortNoise: boolean;
  /** Fills the payload: byte i is (tag + i) & 0xff. */
  tag: number;
}

export interface Arrival {
  packet: Sent;
  arrivalUs: number;
}

export interface StreamOptions {
  count: number;
  ssrc?: number;
  firstSeq?: number;
  firstTimestamp?: number;
  /** Send time of the first packet (receiver clock). */
  startUs?: number;
  /** Sender clock skew: positive = the sender's clock runs fast. */
  skewPpm?: number;
  /** Frame index → 'off' (not sent), 'cn' (comfort noise) or 'start' (marker); default voice. */
  shape?: (frame: number) => 'voice' | 'start' | 'cn' | 'off';
}

/** One packet per 20 ms frame (G.711, 8 kHz), seq and timestamp wrapping like RTP's. */
export function stream(options: StreamOptions): Sent[] {
  const out: Sent[] = [];
  const ssrc = options.ssrc ?? 0x1234abcd;
  let seq = options.firstSeq ?? 1000;
  const ts0 = options.firstTimestamp ?? 90_000;
  const scale = 1 / (1 + (options.skewPpm ?? 0) * 1e-6);
  for (let k = 0; k < options.count; k++) {
    const what = options.shape?.(k) ?? (k === 0 ? 'start' : 'voice');
    if (what === 'off') continue;
    out.push({
      ssrc,
      seq: seq & 0xffff,
      timestamp: (ts0 + k * FRAME_TS) % 2 ** 32,
      sendUs: Math.round((options.startUs ?? T0_US) + k * FRAME_US * scale),
      marker: what === 'start',
      comfortNoise: what === 'cn',
      tag: k & 0xff,
    });
    seq++;
  }
  return out;
}

/** Deterministic uniform [0, 1) and normal numbers for jitter. */
export function seeded(seed: number): { next: () => number; gaussian: () => number } {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 15), z | 1);
    z ^= z + Math.imul(z ^ (z >>> 7), z | 61);
    return ((z ^ (z >>> 14)) >>> 0) / 4294967296;
  };
  const gaussian = (): number => Math.sqrt(-2 * Math.log(Math.max(next(), 1e-12))) * Math.cos(2 * Math.PI * next());
  return { next, gaussian };
}

/** Arrivals with a network delay per packet (ms); null = lost. */
export function deliver(packets: Sent[], delayMs: (p: Sent, i: number) => number | null): Arrival[] {
  const out: Arrival[] = [];
  packets.forEach((p, i) => {
    const d = delayMs(p, i);
    if (d !== null) out.push({ packet: p, arrivalUs: Math.round(p.sendUs + d * 1000) });
  });
  return out;
}

export function payloadOf(p: Sent, size = 160): Uint8Array {
  return Uint8Array.from({ length: size }, (_, i) => (p.tag + i) & 0xff);
}

export interface Played {
  atUs: number;
  kind: JitterPlayKind;
  seq: number;
  timestamp: number;
  fecAvailable: boolean;
  discontinuity: boolean;
  /** First payload byte (the tag of the packet it came from), -1 when none. */
  firstByte: number;
}

export interface DriveOptions {
  /** First pull (default: first send + 7 ms). */
  fromUs?: number;
  /** Last pull (default: last arrival + 1 s). */
  toUs?: number;
  /** Called after each pull, to sample statistics. */
  onPull?: (atUs: number, out: JitterPulled) => void;
}

/** Puts every arrival at its time and pulls once per returned frame duration; returns what was pulled. */
export function drive(jb: JitterBuffer, arrivals: Arrival[], options: DriveOptions = {}): Played[] {
  const sorted = [...arrivals].sort((a, b) => a.arrivalUs - b.arrivalUs);
  const first = sorted[0];
  const last = sorted.at(-1);
  if (first === undefined || last === undefined) return [];
  let now = options.fromUs ?? Math.min(...arrivals.map((a) => a.packet.sendUs)) + 7_000;
  const end = options.toUs ?? last.arrivalUs + 1_000_000;
  const played: Played[] = [];
  const sink = new Uint8Array(1500);
  let next = 0;
  while (now <= end) {
    for (let a = sorted[next]; a !== undefined && a.arrivalUs <= now; a = sorted[++next]) {
      const payload = payloadOf(a.packet, a.packet.comfortNoise ? 1 : 160);
      jb.put({
        ssrc: a.packet.ssrc,
        seq: a.packet.seq,
        timestamp: a.packet.timestamp,
        marker: a.packet.marker,
        arrivalUs: a.arrivalUs,
        size: payload.length,
        durationTs: FRAME_TS,
        payload,
        comfortNoise: a.packet.comfortNoise,
      });
    }
    const out = jb.pull(now, sink);
    played.push({
      atUs: now,
      kind: out.kind,
      seq: out.seq,
      timestamp: out.timestamp,
      fecAvailable: out.fecAvailable,
      discontinuity: out.discontinuity,
      firstByte: out.size > 0 ? (sink[0] ?? -1) : -1,
    });
    options.onPull?.(now, out);
    now += (out.playoutTs * 1_000_000) / RATE_HZ;
  }
  return played;
}

export const frames = (played: Played[]): Played[] => played.filter((p) => p.kind === 'frame');

/** Pulls of a kind up to the last frame played (what follows the end of a stream is not counted). */
export function count(played: Played[], kind: JitterPlayKind): number {
  const end = played.findLastIndex((p) => p.kind === 'frame');
  return played.slice(0, end + 1).filter((p) => p.kind === kind).length;
}
