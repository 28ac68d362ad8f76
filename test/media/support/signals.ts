// Test support: seeded test signals — stationary white noise, and speech-like noise (syllables with pauses), at a given RMS level.

/** mulberry32: a small seeded generator, so that every run hears the same signal. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Gaussian samples (Box–Muller) from a seeded source. */
function gaussian(random: () => number): () => number {
  return () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

function scaleToRms(values: Float64Array, rmsDbfs: number): Int16Array {
  let sum = 0;
  for (const v of values) sum += v * v;
  const rms = Math.sqrt(sum / Math.max(1, values.length));
  const gain = rms > 0 ? (32767 * 10 ** (rmsDbfs / 20)) / rms : 0;
  return Int16Array.from(values, (v) => Math.max(-32768, Math.min(32767, Math.round(v * gain))));
}

export interface SignalOptions {
  ms: number;
  sampleRateHz: number;
  /** RMS over the whole signal, dBFS (a full-scale sine is −3). */
  rmsDbfs: number;
  seed: number;
}

/** Stationary white Gaussian noise (a fan, a room's hum: what noise suppression should take out). */
export function whiteNoise(o: SignalOptions): Int16Array {
  const next = gaussian(seeded(o.seed));
  const n = Math.round((o.ms * o.sampleRateHz) / 1000);
  return scaleToRms(Float64Array.from({ length: n }, () => next()), o.rmsDbfs);
}

/**
 * Noise shaped like speech for the echo canceller, the VAD and the AGC: broadband (so that an
 * adaptive filter sees every frequency), low-passed a little, in syllables of about 200 ms with
 * pauses between them (so that a noise estimator can tell it from stationary noise).
 */
export function speechLikeNoise(o: SignalOptions & { syllableHz?: number }): Int16Array {
  const next = gaussian(seeded(o.seed));
  const n = Math.round((o.ms * o.sampleRateHz) / 1000);
  const syllableHz = o.syllableHz ?? 2.5;
  const values = new Float64Array(n);
  let low = 0;
  for (let i = 0; i < n; i++) {
    low = 0.6 * low + 0.4 * next(); // one-pole low-pass: more energy at low frequencies, as in speech
    const phase = (i / o.sampleRateHz) * syllableHz;
    const s = Math.sin(2 * Math.PI * phase);
    const envelope = s > 0 ? s * s : 0; // half of each cycle is a pause
    values[i] = low * envelope;
  }
  return scaleToRms(values, o.rmsDbfs);
}
