// Test support: reading and writing 16-bit PCM WAV files (what the engine's file backend writes and reads).
import { readFileSync, writeFileSync } from 'node:fs';

export interface WavAudio {
  sampleRateHz: number;
  /** Mono samples (stereo is averaged). */
  samples: Int16Array;
}

/** Reads a 16-bit PCM WAV; a data size of 0 (a writer that never finished) reads to the end of the file. */
export function readWav(path: string): WavAudio {
  const buf = readFileSync(path);
  if (buf.toString('ascii', 0, 4) !== 'RIFF' || buf.toString('ascii', 8, 12) !== 'WAVE') throw new Error(`${path}: not a WAV file`);
  let offset = 12;
  let channels = 1;
  let rate = 0;
  while (offset + 8 <= buf.length) {
    const id = buf.toString('ascii', offset, offset + 4);
    const size = buf.readUInt32LE(offset + 4);
    const body = offset + 8;
    if (id === 'fmt ') {
      channels = buf.readUInt16LE(body + 2);
      rate = buf.readUInt32LE(body + 4);
      if (buf.readUInt16LE(body + 14) !== 16) throw new Error(`${path}: not 16-bit`);
    } else if (id === 'data') {
      const end = size === 0 ? buf.length : Math.min(buf.length, body + size);
      const frames = Math.floor((end - body) / (2 * channels));
      const samples = new Int16Array(frames);
      for (let i = 0; i < frames; i++) {
        let v = 0;
        for (let c = 0; c < channels; c++) v += buf.readInt16LE(body + 2 * (i * channels + c));
        samples[i] = Math.round(v / channels);
      }
      return { sampleRateHz: rate, samples };
    }
    offset = body + size + (size & 1);
  }
  throw new Error(`${path}: no data chunk`);
}

/** Writes mono 16-bit PCM. */
export function writeWav(path: string, audio: WavAudio): void {
  const data = Buffer.alloc(audio.samples.length * 2);
  audio.samples.forEach((s, i) => data.writeInt16LE(s, 2 * i));
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'ascii');
  header.writeUInt32LE(36 + data.length, 4);
  header.write('WAVEfmt ', 8, 'ascii');
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20);
  header.writeUInt16LE(1, 22);
  header.writeUInt32LE(audio.sampleRateHz, 24);
  header.writeUInt32LE(audio.sampleRateHz * 2, 28);
  header.writeUInt16LE(2, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36, 'ascii');
  header.writeUInt32LE(data.length, 40);
  writeFileSync(path, Buffer.concat([header, data]));
}

/** A sine at `hz` and a peak of `levelDbfs`, `ms` long. */
export function sine(hz: number, ms: number, sampleRateHz: number, levelDbfs = -12): Int16Array {
  const n = Math.round((ms * sampleRateHz) / 1000);
  const peak = 32767 * 10 ** (levelDbfs / 20);
  return Int16Array.from({ length: n }, (_, i) => Math.round(peak * Math.sin((2 * Math.PI * hz * i) / sampleRateHz)));
}
