// The engine's life: real-time clock (media thread: audio, RTP in and out), clean shutdown (threads joined, the process exits), typed errors, IPv6.
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MediaEngineError, type StatsEvent } from '../../../firmware/media/media-engine.js';
import { loadNativeAddon, nativeAddonCandidates } from '../../../firmware/media/native-addon.js';
import { NativeMediaEngine } from '../../../firmware/media/native-media-engine.js';
import { CODEC_CAPABILITIES } from '../../../firmware/media/codecs.js';
import { blockTone } from '../support/goertzel.js';
import { readWav } from '../support/wav-file.js';

const path = process.env.OFFHOOK_TEST_ADDON;
const addon = loadNativeAddon(path !== undefined ? { path } : {});
const BUILT = path ?? nativeAddonCandidates().at(-1)!;

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'offhook-life-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('real-time clock', () => {
  it('two engines talk over loopback UDP in real time (the media thread reads the sockets, kernel arrival times)', async () => {
    const make = (name: string, toneHz: number) =>
      new NativeMediaEngine({
        addon,
        clock: 'realtime',
        sampleRateHz: 16000,
        statsIntervalMs: 200,
        audio: { backend: 'file', capture: { toneHz }, playbackWavPath: join(dir, `${name}.wav`) },
      });
    const a = make('a', 1000);
    const b = make('b', 440);
    const stats: StatsEvent[] = [];
    b.on('stats', (e) => stats.push(e));
    const sa = a.createStream({ local: { address: '127.0.0.1' }, codec: { name: 'PCMA' } });
    const sb = b.createStream({ local: { address: '127.0.0.1' }, remote: { address: '127.0.0.1', port: sa.localRtpPort }, codec: { name: 'PCMA' } });
    sa.update({ remote: { address: '127.0.0.1', port: sb.localRtpPort } });
    sa.start();
    sb.start();
    const started = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 900));
    const elapsed = Date.now() - started;
    const st = sb.getStats();
    a.close();
    b.close();
    const heard = readWav(join(dir, 'b.wav'));
    const seconds = heard.samples.length / heard.sampleRateHz;
    // Paced by CLOCK_MONOTONIC: as much audio as time went by (give or take scheduling).
    expect(seconds).toBeGreaterThan(elapsed / 1000 - 0.15);
    expect(seconds).toBeLessThan(elapsed / 1000 + 0.15);
    const tone = blockTone(heard.samples, heard.sampleRateHz, 1000, 400, Math.floor(seconds * 1000) - 50);
    expect(tone.meanShare).toBeGreaterThan(0.9);
    expect(st.packetsReceived).toBeGreaterThan(30);
    expect(st.packetsLost).toBe(0);
    expect(stats.length).toBeGreaterThanOrEqual(3);
    expect(stats.map((e) => e.timeMs)).toEqual([...stats.map((e) => e.timeMs)].sort((x, y) => x - y));
  });
});

/** Runs a CommonJS snippet in a fresh node with `addon` loaded; resolves with exit code and output. */
function runNode(body: string, killAfterMs = 10_000): Promise<{ code: number | null; out: string; stillRunning: boolean; ms: number }> {
  const script = `const addon = require(${JSON.stringify(BUILT)});\n${body}`;
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let stillRunning = false;
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => {
      stillRunning = true;
      child.kill('SIGKILL');
    }, killAfterMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out, stillRunning, ms: Date.now() - started });
    });
  });
}

const ENGINE_SNIPPET = (wav: string) => `
  const engine = addon.engine.create({ clock: 'realtime', sampleRateHz: 8000, statsIntervalMs: 50,
    audio: { backend: 'file', captureToneHz: 1000, playbackWavPath: ${JSON.stringify(wav)} } }, (e) => {});
  const codec = { name: 'PCMU', payloadType: 0, clockRateHz: 8000, sampleRateHz: 8000, ptimeMs: 20, fec: false, dtx: false, bitrateBps: 0, expectedLossPercent: 0, complexity: 0 };
  const jitter = { minDelayMs: 20, maxDelayMs: 300, initialDelayMs: 60 };
  const s = engine.createStream({ localAddress: '127.0.0.1', localPort: 0, rtcpMux: true, latching: false, rtcpMinIntervalMs: 500, cname: 'x', dscp: 46,
    direction: 'sendrecv', codec, rtpTimeoutMs: 0, jitter });
  engine.updateStream(s.id, { direction: 'sendrecv', remoteAddress: '127.0.0.1', remotePort: s.localRtpPort, codec, rtpTimeoutMs: 0, jitter });
  engine.startStream(s.id);
`;

describe('shutdown', () => {
  it('close() joins the threads and finishes the WAV; the process then exits by itself', async () => {
    const wav = join(dir, 'closed.wav');
    const r = await runNode(`${ENGINE_SNIPPET(wav)}
      setTimeout(() => { const st = engine.getStats(s.id); engine.close(); engine.close(); console.log('closed', st.packetsReceived > 5, engine.closed); }, 400);
    `);
    expect(r).toMatchObject({ code: 0, stillRunning: false });
    expect(r.out).toContain('closed true true');
    // The RIFF and data sizes were fixed on close.
    const file = readFileSync(wav);
    expect(file.readUInt32LE(40)).toBe(statSync(wav).size - 44);
    expect(file.readUInt32LE(4)).toBe(statSync(wav).size - 8);
    expect(file.readUInt32LE(40)).toBeGreaterThan(2 * 8000 * 0.3);
  });

  it('a referenced engine keeps the process alive, like a socket', async () => {
    const r = await runNode(`${ENGINE_SNIPPET(join(dir, 'alive.wav'))} console.log('running');`, 800);
    expect(r.stillRunning).toBe(true);
    expect(r.out).toContain('running');
  });

  it('an unreferenced engine does not: the process exits and teardown stops its threads', async () => {
    const r = await runNode(`${ENGINE_SNIPPET(join(dir, 'unref.wav'))}
      engine.unref();
      setTimeout(() => console.log('still here'), 200);
      process.on('exit', () => console.log('exiting'));
    `);
    expect(r).toMatchObject({ code: 0, stillRunning: false });
    expect(r.out).toContain('still here');
    expect(r.out).toContain('exiting');
  });

  it('workers terminated while their engines run shut down cleanly (no state shared between environments)', async () => {
    const r = await runNode(`
      const { Worker } = require('node:worker_threads');
      const code = \`
        const addon = require(${JSON.stringify(BUILT)});
        const { parentPort } = require('node:worker_threads');
        ${ENGINE_SNIPPET('/dev/null').replace(/`/g, '\\`')}
        parentPort.postMessage('ready');
      \`;
      let rounds = 0;
      const round = () => {
        const w = new Worker(code, { eval: true });
        w.on('message', () => setTimeout(() => w.terminate(), 20 + (rounds % 5) * 7));
        w.on('exit', () => (++rounds < 8 ? round() : console.log('workers done')));
      };
      round();
    `);
    expect(r.out).toContain('workers done');
    expect(r).toMatchObject({ code: 0, stillRunning: false });
  });
});

describe('errors', () => {
  it('a port in use: ERR_MEDIA_SOCKET with EADDRINUSE', async () => {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
    const engine = new NativeMediaEngine({ addon, clock: 'virtual', audio: { backend: 'null' } });
    try {
      const port = socket.address().port;
      let error: unknown;
      try {
        engine.createStream({ local: { address: '127.0.0.1', port }, rtcpMux: true, codec: { name: 'PCMU' } });
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(MediaEngineError);
      expect(error).toMatchObject({ code: 'ERR_MEDIA_SOCKET', systemCode: 'EADDRINUSE', syscall: 'bind', address: '127.0.0.1' });
      expect((error as Error).message).toContain(String(port));
    } finally {
      engine.close();
      socket.close();
    }
  });

  it('a capture file that is missing or not a WAV: ERR_MEDIA_DEVICE, no engine', () => {
    expect(() => new NativeMediaEngine({ addon, clock: 'virtual', audio: { backend: 'file', capture: { wavPath: join(dir, 'nope.wav') } } })).toThrow(
      expect.objectContaining({ code: 'ERR_MEDIA_DEVICE', systemCode: 'ENOENT' }),
    );
    const notWav = join(dir, 'notwav.wav');
    writeFileSync(notWav, 'hello');
    expect(() => new NativeMediaEngine({ addon, clock: 'virtual', audio: { backend: 'file', capture: { wavPath: notWav } } })).toThrow(
      expect.objectContaining({ code: 'ERR_MEDIA_DEVICE', message: expect.stringMatching(/RIFF/) }),
    );
  });

  it('misuse: advance() on the real-time clock, bad options, anything after close()', () => {
    const engine = new NativeMediaEngine({ addon, clock: 'realtime', audio: { backend: 'null' } });
    expect(() => engine.advance(10)).toThrow(expect.objectContaining({ code: 'ERR_MEDIA_STATE' }));
    expect(() => engine.createStream({ local: { address: 'localhost' }, codec: { name: 'PCMU' } })).toThrow(expect.objectContaining({ code: 'ERR_MEDIA_CONFIG' }));
    expect(() => engine.createStream({ local: { address: '127.0.0.1' }, codec: { name: 'PCMU' }, ptimeMs: 25 })).toThrow(
      expect.objectContaining({ code: 'ERR_MEDIA_CONFIG', field: 'ptimeMs' }),
    );
    expect(() => engine.createStream({ local: { address: '127.0.0.1' }, rtcpMux: true, codec: { name: 'opus', payloadType: 72 } })).toThrow(
      expect.objectContaining({ code: 'ERR_MEDIA_CONFIG', field: 'codec.payloadType' }),
    );
    expect(() =>
      engine.createStream({ local: { address: '127.0.0.1' }, remote: { address: '::1', port: 4000 }, codec: { name: 'PCMU' } }),
    ).toThrow(expect.objectContaining({ code: 'ERR_MEDIA_CONFIG', message: expect.stringMatching(/address family/) }));
    const s = engine.createStream({ local: { address: '127.0.0.1' }, codec: { name: 'PCMU' } });
    engine.close();
    engine.close();
    expect(engine.closed).toBe(true);
    expect(s.state).toBe('closed');
    expect(() => engine.createStream({ local: { address: '127.0.0.1' }, codec: { name: 'PCMU' } })).toThrow(expect.objectContaining({ code: 'ERR_MEDIA_CLOSED' }));
    expect(() => s.start()).toThrow(expect.objectContaining({ code: 'ERR_MEDIA_CLOSED' }));
    expect(() => engine.playTone({ tone: 'dial', country: 'DE' })).toThrow(expect.objectContaining({ code: 'ERR_MEDIA_CLOSED' }));
  });
});

describe('registries by name', () => {
  it('the native codec and audio backend registries hold what the TypeScript side declares', () => {
    expect([...addon.engine.codecs()].sort()).toEqual(Object.keys(CODEC_CAPABILITIES).sort());
    expect(addon.engine.codecs()).not.toContain('G722'); // no Debian library: see codecs.ts
    expect([...addon.engine.audioBackends()].sort()).toEqual(['alsa', 'external', 'file', 'null']);
    expect(() => new NativeMediaEngine({ addon, audio: { backend: 'oss' } as unknown as { backend: 'null' } })).toThrow(
      expect.objectContaining({ code: 'ERR_MEDIA_CONFIG', field: 'audio.backend' }),
    );
    expect(() => new NativeMediaEngine({ addon, audio: { backend: 'alsa' } as unknown as { backend: 'alsa'; capture: string; playback: string } })).toThrow(
      expect.objectContaining({ code: 'ERR_MEDIA_CONFIG', field: 'audio.capture' }),
    );
  });
});

describe('IPv6', () => {
  it('two engines exchange audio over ::1', async () => {
    const make = (name: string, toneHz: number) =>
      new NativeMediaEngine({ addon, clock: 'virtual', sampleRateHz: 8000, audio: { backend: 'file', capture: { toneHz }, playbackWavPath: join(dir, `${name}.wav`) } });
    const a = make('a6', 1000);
    const b = make('b6', 440);
    const sa = a.createStream({ local: { address: '::1' }, rtcpMux: true, codec: { name: 'PCMU' } });
    const sb = b.createStream({ local: { address: '::' }, rtcpMux: true, codec: { name: 'PCMU' }, remote: { address: '::1', port: sa.localRtpPort } });
    sa.update({ remote: { address: '::1', port: sb.localRtpPort } });
    sa.start();
    sb.start();
    for (let t = 0; t < 1000; t += 10) {
      a.advance(10);
      b.advance(10);
      await new Promise((resolve) => setImmediate(resolve));
    }
    const st = sb.getStats();
    a.close();
    b.close();
    expect(st.packetsReceived).toBeGreaterThan(40);
    const heard = readWav(join(dir, 'b6.wav'));
    expect(blockTone(heard.samples, 8000, 1000, 300, 1000).meanShare).toBeGreaterThan(0.95);
  });
});
