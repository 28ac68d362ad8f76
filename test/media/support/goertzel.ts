// Test support: tone levels in audio (Goertzel algorithm) and RMS, in dBFS.

/** Peak amplitude of the `hz` component of samples[start, end), from the Goertzel recurrence; dBFS (0 = full-scale sine). */
export function toneLevelDbfs(samples: Int16Array, sampleRateHz: number, hz: number, start = 0, end = samples.length): number {
  const n = end - start;
  if (n <= 0) return -Infinity;
  const w = (2 * Math.PI * hz) / sampleRateHz;
  const coeff = 2 * Math.cos(w);
  let s1 = 0;
  let s2 = 0;
  // A Hann window keeps a strong tone at another frequency from leaking into this bin.
  for (let i = 0; i < n; i++) {
    const window = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (n - 1));
    const s0 = (samples[start + i] ?? 0) * window + coeff * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  const power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
  // |X| = A · N / 2 for a sine of amplitude A, times the Hann window's mean gain 0.5.
  const amplitude = (2 * Math.sqrt(Math.max(power, 0))) / (n * 0.5);
  return amplitude > 0 ? 20 * Math.log10(amplitude / 32767) : -Infinity;
}

/** RMS level of samples[start, end), dBFS (a full-scale sine is −3 dBFS). */
export function rmsDbfs(samples: Int16Array, start = 0, end = samples.length): number {
  let sum = 0;
  for (let i = start; i < end; i++) sum += (samples[i] ?? 0) ** 2;
  const rms = Math.sqrt(sum / Math.max(1, end - start));
  return rms > 0 ? 20 * Math.log10(rms / 32767) : -Infinity;
}

/** Share of the signal's power in the `hz` component (1 = a pure tone), over samples[start, end). */
export function toneShare(samples: Int16Array, sampleRateHz: number, hz: number, start = 0, end = samples.length): number {
  const tone = 10 ** (toneLevelDbfs(samples, sampleRateHz, hz, start, end) / 20) * 32767;
  let sum = 0;
  for (let i = start; i < end; i++) sum += (samples[i] ?? 0) ** 2;
  const meanSquare = sum / Math.max(1, end - start);
  return meanSquare > 0 ? (tone * tone) / 2 / meanSquare : 0;
}

/** Samples of `ms` at a rate. */
export function samplesOf(ms: number, sampleRateHz: number): number {
  return Math.round((ms * sampleRateHz) / 1000);
}

export interface BlockToneSummary {
  /** Mean over blocks of the tone's share of the block's power. */
  meanShare: number;
  /** Lowest block share, and the mean and lowest tone level (dBFS). */
  minShare: number;
  meanLevelDbfs: number;
  minLevelDbfs: number;
  blocks: number;
  /** Share of blocks in which the tone has at least 80 % of the power. */
  goodFraction: number;
}

/**
 * Tone share and level in consecutive blocks of `blockMs` over [fromMs, toMs). Short blocks make the
 * measure blind to the time shifts a jitter buffer makes on purpose (a 20 ms shift turns a long
 * window's 440 Hz sum partly destructive), while still seeing gaps, clicks and noise.
 */
export function blockTone(samples: Int16Array, sampleRateHz: number, hz: number, fromMs: number, toMs: number, blockMs = 100): BlockToneSummary {
  const shares: number[] = [];
  const levels: number[] = [];
  for (let t = fromMs; t + blockMs <= toMs; t += blockMs) {
    const start = samplesOf(t, sampleRateHz);
    const end = samplesOf(t + blockMs, sampleRateHz);
    if (end > samples.length) break;
    shares.push(toneShare(samples, sampleRateHz, hz, start, end));
    levels.push(toneLevelDbfs(samples, sampleRateHz, hz, start, end));
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  return {
    meanShare: mean(shares),
    minShare: Math.min(...shares),
    meanLevelDbfs: mean(levels),
    minLevelDbfs: Math.min(...levels),
    blocks: shares.length,
    goodFraction: shares.filter((x) => x >= 0.8).length / Math.max(1, shares.length),
  };
}
