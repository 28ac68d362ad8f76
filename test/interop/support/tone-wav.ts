// A G.711 u-law WAV tone for SIPp's rtp_stream, made in code (no sox needed): SIPp sends the bytes after the header as they are.

/** One 16-bit linear sample to its G.711 u-law code (ITU-T G.711, the segment / mantissa form). */
function ulaw(sample: number): number {
  const BIAS = 0x84;
  const CLIP = 32635;
  let s = Math.max(-32768, Math.min(32767, Math.round(sample)));
  const sign = s < 0 ? 0x80 : 0;
  if (sign) s = -s;
  s = Math.min(s, CLIP) + BIAS;
  let exponent = 7;
  for (let mask = 0x4000; (s & mask) === 0 && exponent > 0; mask >>= 1) exponent--;
  const mantissa = (s >> (exponent + 3)) & 0x0f;
  return ~(sign | (exponent << 4) | mantissa) & 0xff;
}

export interface ToneOptions {
  frequencyHz?: number;
  durationMs?: number;
  /** Peak amplitude, 0..1 of full scale. */
  amplitude?: number;
}

/**
 * A WAV file (format 7 = u-law, 8000 Hz, mono) holding a sine tone. SIPp 3.6 skips the RIFF header
 * and streams the payload raw (shared peers README, pitfall 7), so the data must already be u-law.
 */
export function ulawToneWav(options: ToneOptions = {}): Buffer {
  const rate = 8000;
  const n = Math.round(((options.durationMs ?? 5000) / 1000) * rate);
  const data = Buffer.alloc(n);
  const amp = (options.amplitude ?? 0.5) * 32767;
  for (let i = 0; i < n; i++) data[i] = ulaw(amp * Math.sin((2 * Math.PI * (options.frequencyHz ?? 1000) * i) / rate));
  const fmt = Buffer.alloc(26);
  fmt.write('fmt ', 0, 'ascii');
  fmt.writeUInt32LE(18, 4);
  fmt.writeUInt16LE(7, 8); // WAVE_FORMAT_MULAW
  fmt.writeUInt16LE(1, 10);
  fmt.writeUInt32LE(rate, 12);
  fmt.writeUInt32LE(rate, 16); // bytes per second
  fmt.writeUInt16LE(1, 20); // block align
  fmt.writeUInt16LE(8, 22); // bits per sample
  fmt.writeUInt16LE(0, 24); // no extra format bytes
  // A non-PCM WAV carries a fact chunk with the sample count.
  const fact = Buffer.alloc(12);
  fact.write('fact', 0, 'ascii');
  fact.writeUInt32LE(4, 4);
  fact.writeUInt32LE(n, 8);
  const dataHeader = Buffer.alloc(8);
  dataHeader.write('data', 0, 'ascii');
  dataHeader.writeUInt32LE(n, 4);
  const riff = Buffer.alloc(12);
  riff.write('RIFF', 0, 'ascii');
  riff.writeUInt32LE(4 + fmt.length + fact.length + dataHeader.length + n, 4);
  riff.write('WAVE', 8, 'ascii');
  return Buffer.concat([riff, fmt, fact, dataHeader, data]);
}
