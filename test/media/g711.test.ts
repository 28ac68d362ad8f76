// G.711 through the native addon, checked against ITU-T G.711 (11/88) Tables 1 and 2 re-derived here.
import { beforeAll, describe, expect, it } from 'vitest';
import { G711Codec, G711_PAYLOAD_TYPES } from '../../firmware/media/g711.js';
import { loadNativeAddon, type G711Law, type NativeAddon } from '../../firmware/media/native-addon.js';

// ---------------------------------------------------------------------------------------------------
// Reference, written from the tables rather than from the C code: each law is a list of 128 decision
// intervals per sign (lower decision value and decoder output value), in the standard's own units,
// scaled to 16-bit PCM. Encoding finds the interval holding the magnitude; there is no bias trick
// and no bit arithmetic on segments here.

interface Interval {
  /** Lowest 16-bit magnitude that falls in this interval. */
  lower: number;
  /** Decoder output (the interval's middle) at 16 bits. */
  output: number;
}

/**
 * µ-law, Table 2a, 14-bit units (×4 for 16 bits): segment 0 starts with the half interval [0, 1)
 * decoded as 0, then steps of 2 up to 31; segment s ≥ 1 runs from 32·2^s − 33 in steps of 2^(s+1),
 * up to 8159. Output values are interval middles.
 */
function ulawIntervals(): Interval[] {
  const intervals: Interval[] = [];
  for (let segment = 0; segment < 8; segment++) {
    const start = segment === 0 ? 0 : 32 * 2 ** segment - 33;
    const step = 2 ** (segment + 1);
    for (let j = 0; j < 16; j++) {
      if (segment === 0) {
        intervals.push(j === 0 ? { lower: 0, output: 0 } : { lower: (2 * j - 1) * 4, output: 2 * j * 4 });
      } else {
        const lower = start + j * step;
        intervals.push({ lower: lower * 4, output: (lower + step / 2) * 4 });
      }
    }
  }
  return intervals;
}

/**
 * A-law, Table 1a, 13-bit units (×8 for 16 bits): segments 0 and 1 both have steps of 2 (0..32,
 * 32..64), then segment s ≥ 2 runs from 2^(s+4) in steps of 2^s, up to 4096. Outputs are middles,
 * so there is no zero output.
 */
function alawIntervals(): Interval[] {
  const intervals: Interval[] = [];
  for (let segment = 0; segment < 8; segment++) {
    const start = segment === 0 ? 0 : 2 ** (segment + 4);
    const step = segment <= 1 ? 2 : 2 ** segment;
    for (let j = 0; j < 16; j++) {
      const lower = start + j * step;
      intervals.push({ lower: lower * 8, output: (lower + step / 2) * 8 });
    }
  }
  return intervals;
}

const ULAW = ulawIntervals();
const ALAW = alawIntervals();

/** Index of the interval holding a 16-bit magnitude (the last one takes everything above it). */
function intervalIndex(intervals: Interval[], magnitude: number): number {
  let index = 0;
  for (let k = 0; k < intervals.length; k++) if (intervals[k]!.lower <= magnitude) index = k;
  return index;
}

/**
 * The character: polarity bit (1 = positive) then segment and step. µ-law sends the 7 magnitude bits
 * inverted (so +0 is 1111 1111); A-law inverts the even bits (XOR 0101 0101).
 */
function refEncode(law: G711Law, sample: number): number {
  const positive = sample >= 0;
  const magnitude = Math.min(Math.abs(sample), 32767);
  if (law === 'PCMU') {
    const k = intervalIndex(ULAW, Math.floor(magnitude / 4) * 4);
    return (positive ? 0x80 : 0x00) | (0x7f - k);
  }
  const k = intervalIndex(ALAW, Math.floor(magnitude / 8) * 8);
  return ((positive ? 0x80 : 0x00) | k) ^ 0x55;
}

function refDecode(law: G711Law, code: number): number {
  if (law === 'PCMU') {
    const positive = (code & 0x80) !== 0;
    const value = ULAW[0x7f - (code & 0x7f)]!.output;
    return positive ? value : 0 - value; // not -value: a 16-bit sample has no −0
  }
  const bits = code ^ 0x55;
  const value = ALAW[bits & 0x7f]!.output;
  return (bits & 0x80) !== 0 ? value : -value;
}

// ---------------------------------------------------------------------------------------------------

const ALL_CODES = Uint8Array.from({ length: 256 }, (_, i) => i);
const ALL_SAMPLES = Int16Array.from({ length: 65536 }, (_, i) => i - 32768);

let addon: NativeAddon;
beforeAll(() => {
  addon = loadNativeAddon();
});

function decode(law: G711Law, codes: number[]): number[] {
  return [...addon.g711.decode(law, Uint8Array.from(codes))];
}

function encode(law: G711Law, samples: number[]): number[] {
  return [...addon.g711.encode(law, Int16Array.from(samples))];
}

describe('G.711 known values (Tables 1a / 2a at 16 bits)', () => {
  it('µ-law: extremes ±8031·4 and the two zero characters', () => {
    expect(decode('PCMU', [0x00, 0x80, 0xff, 0x7f, 0xfe, 0x7e])).toEqual([-32124, 32124, 0, 0, 8, -8]);
  });

  it('A-law: smallest outputs ±1·8 and extremes ±4032·8', () => {
    expect(decode('PCMA', [0xd5, 0x55, 0x2a, 0xaa, 0xd4, 0x54])).toEqual([8, -8, -32256, 32256, 24, -24]);
  });

  it('µ-law: segment starts decode to the first output of each segment', () => {
    // Positive characters 0xEF, 0xDF ... (step 0 of segments 1..7): outputs 33, 99, 231, 495, 1023, 2079, 4191 (×4).
    const firsts = [0xef, 0xdf, 0xcf, 0xbf, 0xaf, 0x9f, 0x8f];
    expect(decode('PCMU', firsts)).toEqual([33, 99, 231, 495, 1023, 2079, 4191].map((v) => v * 4));
  });

  it('A-law: segment starts decode to the first output of each segment', () => {
    // Positive, step 0 of segments 1..7 = (0x80 | s << 4) ^ 0x55: outputs 33, 66, 132, 264, 528, 1056, 2112 (×8).
    const firsts = [1, 2, 3, 4, 5, 6, 7].map((s) => (0x80 | (s << 4)) ^ 0x55);
    expect(decode('PCMA', firsts)).toEqual([33, 66, 132, 264, 528, 1056, 2112].map((v) => v * 8));
  });

  it('encodes full scale to the extreme characters, −32768 like −32767', () => {
    expect(encode('PCMU', [32767, -32767, -32768, 32124, -32124])).toEqual([0x80, 0x00, 0x00, 0x80, 0x00]);
    expect(encode('PCMA', [32767, -32767, -32768, 32256, -32256])).toEqual([0xaa, 0x2a, 0x2a, 0xaa, 0x2a]);
  });

  it('encodes small values at the first decision values (µ-law 1·4, A-law 2·8)', () => {
    // µ-law: |x| < 4 is in the zero interval; +0 is 0xFF, small negatives give −0 (0x7F).
    expect(encode('PCMU', [0, 1, 3, 4, 11, 12, -1, -3, -4, -12])).toEqual([0xff, 0xff, 0xff, 0xfe, 0xfe, 0xfd, 0x7f, 0x7f, 0x7e, 0x7d]);
    // A-law: |x| < 16 is the first interval (output ±8); 16 starts the second.
    expect(encode('PCMA', [0, 15, 16, 31, 32, -1, -15, -16])).toEqual([0xd5, 0xd5, 0xd4, 0xd4, 0xd7, 0x55, 0x55, 0x54]);
  });
});

describe('G.711 round trips', () => {
  it('µ-law: every character survives decode→encode, except −0 (0x7F), which comes back as +0 (0xFF)', () => {
    // G.711 µ-law has two characters for the zero output value (Table 2a: 0xFF for +0, 0x7F for −0);
    // both decode to 0, and an encoder given 0 emits the positive one.
    const back = addon.g711.encode('PCMU', addon.g711.decode('PCMU', ALL_CODES));
    for (let code = 0; code < 256; code++) expect(back[code], `code 0x${code.toString(16)}`).toBe(code === 0x7f ? 0xff : code);
  });

  it('A-law: every character survives decode→encode (no zero output, so no ambiguity)', () => {
    const back = addon.g711.encode('PCMA', addon.g711.decode('PCMA', ALL_CODES));
    expect([...back]).toEqual([...ALL_CODES]);
  });
});

describe.each(['PCMU', 'PCMA'] as const)('%s against the reference from the tables', (law) => {
  it('decodes all 256 characters as the tables say', () => {
    const decoded = addon.g711.decode(law, ALL_CODES);
    for (let code = 0; code < 256; code++) expect(decoded[code], `code 0x${code.toString(16)}`).toBe(refDecode(law, code));
  });

  it('encodes all 65,536 samples as the tables say', () => {
    const encoded = addon.g711.encode(law, ALL_SAMPLES);
    const mismatches: string[] = [];
    for (let i = 0; i < ALL_SAMPLES.length; i++) {
      const expected = refEncode(law, ALL_SAMPLES[i]!);
      if (encoded[i] !== expected && mismatches.length < 5) mismatches.push(`${ALL_SAMPLES[i]}: 0x${encoded[i]!.toString(16)} != 0x${expected.toString(16)}`);
    }
    expect(mismatches).toEqual([]);
  });

  it('decode is strictly monotonic in magnitude within each sign', () => {
    // Character for the k-th interval of a sign (k = 0 nearest zero), in the law's own bit layout.
    const character = (positive: boolean, k: number): number =>
      law === 'PCMU' ? (positive ? 0x80 : 0) | (0x7f - k) : ((positive ? 0x80 : 0) | k) ^ 0x55;
    const positives = decode(law, Array.from({ length: 128 }, (_, k) => character(true, k)));
    const negatives = decode(law, Array.from({ length: 128 }, (_, k) => character(false, k)));
    for (let k = 1; k < 128; k++) {
      expect(positives[k]!).toBeGreaterThan(positives[k - 1]!);
      expect(negatives[k]!).toBeLessThan(negatives[k - 1]!);
    }
    expect(positives[0]).toBeGreaterThanOrEqual(0);
    expect(negatives[0]).toBeLessThanOrEqual(0);
  });

  it('the sign only flips the polarity bit: encode(−x) = encode(x) ^ 0x80', () => {
    const positive = Int16Array.from({ length: 32767 }, (_, i) => i + 1);
    const negative = positive.map((x) => -x);
    const p = addon.g711.encode(law, positive);
    const n = addon.g711.encode(law, negative);
    for (let i = 0; i < p.length; i++) if ((p[i]! ^ 0x80) !== n[i]) expect.fail(`${positive[i]}: 0x${p[i]!.toString(16)} / 0x${n[i]!.toString(16)}`);
  });

  it('the quantization error stays within half a step, about 1/32 of the magnitude (3 % companding)', () => {
    const decoded = addon.g711.decode(law, addon.g711.encode(law, ALL_SAMPLES));
    for (let i = 0; i < ALL_SAMPLES.length; i++) {
      const x = ALL_SAMPLES[i]!;
      // Half a step in each law's segments (µ-law counts from its bias of 132), and past the last
      // output value the clipping itself.
      const halfStep = law === 'PCMU' ? (Math.abs(x) + 132) / 32 : Math.max(8, Math.abs(x) / 32);
      const bound = Math.max(halfStep, Math.abs(x) - (law === 'PCMU' ? 32124 : 32256));
      if (Math.abs(decoded[i]! - x) > bound) expect.fail(`${x} → ${decoded[i]}`);
    }
  });
});

describe('G711Codec', () => {
  it('carries the RFC 3551 payload type and the sample rate', () => {
    const pcmu = new G711Codec({ addon, law: 'PCMU' });
    const pcma = new G711Codec({ addon, law: 'PCMA' });
    expect([pcmu.payloadType, pcma.payloadType, pcmu.sampleRateHz]).toEqual([0, 8, 8000]);
    expect(G711_PAYLOAD_TYPES).toEqual({ PCMU: 0, PCMA: 8 });
  });

  it('codes a 20 ms frame both ways, into caller buffers when given', () => {
    const codec = new G711Codec({ addon, law: 'PCMA' });
    const frame = Int16Array.from({ length: 160 }, (_, i) => Math.round(8000 * Math.sin((2 * Math.PI * 1000 * i) / 8000)));
    const codes = new Uint8Array(160);
    const pcm = new Int16Array(160);
    expect(codec.encode(frame, codes)).toBe(codes);
    expect(codec.decode(codes, pcm)).toBe(pcm);
    expect([...codec.encode(frame)]).toEqual([...codes]);
    for (let i = 0; i < 160; i++) expect(Math.abs(pcm[i]! - frame[i]!)).toBeLessThanOrEqual(128);
  });

  it('reads and writes typed-array views at their byte offset', () => {
    const codec = new G711Codec({ addon, law: 'PCMU' });
    const backing = new Int16Array([1000, 32767, -32768, 1000]);
    const out = new Uint8Array(6).fill(0x11);
    codec.encode(backing.subarray(1, 3), out.subarray(2, 4));
    expect([...out]).toEqual([0x11, 0x11, 0x80, 0x00, 0x11, 0x11]);
  });

  it('refuses wrong buffers with TypeError / RangeError, not a crash', () => {
    const codec = new G711Codec({ addon, law: 'PCMU' });
    expect(() => codec.encode(new Int16Array(4), new Uint8Array(3))).toThrow(RangeError);
    expect(() => codec.decode(new Uint8Array(4), new Int16Array(5))).toThrow(RangeError);
    expect(() => addon.g711.encode('PCMU', new Uint16Array(4) as unknown as Int16Array)).toThrow(TypeError);
    expect(() => addon.g711.decode('G722' as G711Law, new Uint8Array(4))).toThrow(TypeError);
    expect(codec.encode(new Int16Array(0))).toHaveLength(0);
  });
});
