// The page's audio on the emulator's WebSocket, over real loopback sockets: the frame format, attaching one page at a time, microphone frames converted and pushed, speaker batches converted and sent, and every bad frame dropped without harm.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import {
  AUDIO_FRAME_CAPTURE,
  AUDIO_FRAME_PLAYBACK,
  audioFrame,
  parseAudioFrame,
  type AudioFrame,
  type BrowserAudioPort,
} from '../../firmware/emulator/browser-audio.js';
import { hashPassword } from '../../firmware/emulator/password.js';
import { EmulatorWebServer, type ServerMessage } from '../../firmware/emulator/web-server.js';
import { MockMediaEngine } from '../../firmware/media/mock-media-engine.js';
import { RealClock } from '../../firmware/util/clock.js';
import { silentLogger } from '../../firmware/util/log.js';
import { FakePanel } from './fake-panel.js';

const ENGINE_RATE = 16000;
const PAGE_RATE = 48000;

/** A phone engine's port as the composition root makes it, over the mock engine's converter. */
class FakePort implements BrowserAudioPort {
  readonly sampleRateHz = ENGINE_RATE;
  readonly pushed: Int16Array[] = [];
  private readonly listeners = new Set<(pcm: Int16Array) => void>();
  private readonly engine = new MockMediaEngine();

  pushCapture(pcm: Int16Array): void {
    this.pushed.push(pcm);
  }
  onPlayback(listener: (pcm: Int16Array) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  createResampler(inRateHz: number, outRateHz: number) {
    return this.engine.createResampler(inRateHz, outRateHz);
  }
  /** The engine's speaker plays a batch. */
  play(pcm: Int16Array): void {
    for (const l of [...this.listeners]) l(pcm);
  }
  get listening(): number {
    return this.listeners.size;
  }
  get pushedSamples(): number {
    return this.pushed.reduce((n, p) => n + p.length, 0);
  }
}

const servers: EmulatorWebServer[] = [];
let hash = '';

beforeAll(async () => {
  hash = await hashPassword('s3cret pass', { N: 1024, r: 8, p: 1 });
});

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

/** Phone 100 on the page's audio, 101 not. */
async function start(passwordHash?: string) {
  const port = new FakePort();
  const server = await EmulatorWebServer.start({
    phones: [
      { ext: '100', panel: new FakePanel(), audio: port },
      { ext: '101', panel: new FakePanel() },
    ],
    clock: new RealClock(),
    log: silentLogger(),
    port: 0,
    address: '127.0.0.1',
    passwordHash,
    page: false,
    pollMs: 10,
  });
  servers.push(server);
  return { server, port, wsBase: server.url.replace('http', 'ws') };
}

/** A page's socket: JSON messages and audio frames kept apart. */
async function openSocket(url: string, options: WebSocket.ClientOptions = {}) {
  const ws = new WebSocket(url, options);
  const messages: ServerMessage[] = [];
  const frames: AudioFrame[] = [];
  ws.on('message', (d: Buffer, isBinary: boolean) => {
    if (!isBinary) {
      messages.push(JSON.parse(d.toString()) as ServerMessage);
      return;
    }
    const f = parseAudioFrame(d);
    if ('problem' in f) throw new Error(f.problem);
    frames.push(f);
  });
  const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const next = async <T extends ServerMessage['type']>(type: T, pred: (m: Extract<ServerMessage, { type: T }>) => boolean = () => true, timeoutMs = 2000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = messages.find((m): m is Extract<ServerMessage, { type: T }> => m.type === type && pred(m as Extract<ServerMessage, { type: T }>));
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no ${type} message; got ${JSON.stringify(messages)}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  const send = (m: unknown) => ws.send(JSON.stringify(m));
  const sendFrame = (buf: Buffer) => ws.send(buf, { binary: true });
  return { ws, messages, frames, next, send, sendFrame, closed };
}

async function until(what: string, probe: () => boolean, timeoutMs = 2000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function tone(hz: number, n: number, rate: number): Int16Array {
  return Int16Array.from({ length: n }, (_, i) => Math.round(8000 * Math.sin((2 * Math.PI * hz * i) / rate)));
}

describe('audio frames', () => {
  it('round-trip: version, kind, sequence, rate, little-endian samples', () => {
    const buf = audioFrame(AUDIO_FRAME_PLAYBACK, 65_537, 44_100, Int16Array.of(1, -2, 32767, -32768));
    expect([...buf.subarray(0, 8)]).toEqual([1, 2, 1, 0, 0x44, 0xac, 0, 0]);
    expect(parseAudioFrame(buf)).toEqual({ kind: AUDIO_FRAME_PLAYBACK, seq: 1, sampleRateHz: 44_100, samples: Int16Array.of(1, -2, 32767, -32768) });
    // A frame read from the middle of a larger buffer (how ws may hand it over).
    const inside = Buffer.concat([Buffer.alloc(3), buf]).subarray(3);
    expect(parseAudioFrame(inside)).toMatchObject({ seq: 1, samples: Int16Array.of(1, -2, 32767, -32768) });
  });

  it('says what is wrong with a bad one', () => {
    const good = audioFrame(AUDIO_FRAME_CAPTURE, 0, 48000, new Int16Array(960));
    const problem = (b: Uint8Array) => ('problem' in parseAudioFrame(b) ? (parseAudioFrame(b) as { problem: string }).problem : 'none');
    expect(problem(good.subarray(0, 9))).toMatch(/header and at least one sample/);
    expect(problem(Buffer.concat([Buffer.of(2), good.subarray(1)]))).toMatch(/version 2/);
    expect(problem(good.subarray(0, good.length - 1))).toMatch(/whole 16-bit samples/);
    expect(problem(audioFrame(AUDIO_FRAME_CAPTURE, 0, 4000, new Int16Array(80)))).toMatch(/sample rate 4000 Hz/);
    expect(problem(audioFrame(AUDIO_FRAME_CAPTURE, 0, 1_000_000, new Int16Array(80)))).toMatch(/sample rate/);
    expect(problem(audioFrame(AUDIO_FRAME_CAPTURE, 0, 8000, new Int16Array(481)))).toMatch(/at most 60 ms/);
    expect(problem(good)).toBe('none');
  });
});

describe('the page\'s audio on the phone\'s WebSocket', () => {
  it('hello says which phone can have it; the page attaches, its microphone is converted and pushed, the speaker converted and sent', async () => {
    const { wsBase, port } = await start();
    const page = await openSocket(`${wsBase}api/phones/100/ws`);
    expect(await page.next('hello')).toMatchObject({ ext: '100', audio: true });
    const other = await openSocket(`${wsBase}api/phones/101/ws`);
    expect(await other.next('hello')).toMatchObject({ ext: '101', audio: false });
    other.send({ type: 'audio', on: true, sampleRateHz: PAGE_RATE });
    expect(await other.next('audio')).toMatchObject({ ext: '101', state: 'unavailable', reason: expect.stringContaining('browser') as string });

    page.send({ type: 'audio', on: true, sampleRateHz: PAGE_RATE });
    expect(await page.next('audio')).toEqual({ type: 'audio', ext: '100', state: 'on', sampleRateHz: PAGE_RATE, engineRateHz: ENGINE_RATE });
    expect(port.listening).toBe(1);

    // 10 frames of 20 ms at 48 kHz: about 10 × 320 samples at the engine rate.
    const mic = tone(1000, 9600, PAGE_RATE);
    for (let i = 0; i < 10; i++) page.sendFrame(audioFrame(AUDIO_FRAME_CAPTURE, i, PAGE_RATE, mic.subarray(i * 960, (i + 1) * 960)));
    await until('the frames to be pushed', () => port.pushed.length === 10);
    expect(Math.abs(port.pushedSamples - 3200)).toBeLessThanOrEqual(2);

    // Two speaker batches of 20 ms at 16 kHz come to the page at 48 kHz, numbered.
    port.play(tone(440, 320, ENGINE_RATE));
    port.play(tone(440, 320, ENGINE_RATE));
    await until('two speaker frames', () => page.frames.length === 2);
    expect(page.frames.map((f) => [f.kind, f.seq, f.sampleRateHz])).toEqual([
      [AUDIO_FRAME_PLAYBACK, 0, PAGE_RATE],
      [AUDIO_FRAME_PLAYBACK, 1, PAGE_RATE],
    ]);
    expect(Math.abs(page.frames.reduce((n, f) => n + f.samples.length, 0) - 1920)).toBeLessThanOrEqual(3);
    expect(other.frames).toEqual([]);

    // Off: nothing more goes either way, and the engine's speaker has no listener left.
    page.send({ type: 'audio', on: false });
    expect(await page.next('audio', (m) => m.state === 'off')).toMatchObject({ state: 'off' });
    expect(port.listening).toBe(0);
    page.sendFrame(audioFrame(AUDIO_FRAME_CAPTURE, 10, PAGE_RATE, mic.subarray(0, 960)));
    expect(await page.next('error')).toMatchObject({ message: expect.stringContaining('"type":"audio","on":true') as string });
    expect(port.pushed.length).toBe(10);
    page.ws.close();
    other.ws.close();
  });

  it('one page at a time: a second page takes the audio and the first is told; a closed socket lets go', async () => {
    const { wsBase, port } = await start();
    const first = await openSocket(`${wsBase}api/phones/100/ws`);
    const second = await openSocket(`${wsBase}api/phones/100/ws`);
    first.send({ type: 'audio', on: true, sampleRateHz: PAGE_RATE });
    await first.next('audio', (m) => m.state === 'on');
    second.send({ type: 'audio', on: true, sampleRateHz: 44_100 });
    await second.next('audio', (m) => m.state === 'on');
    expect(await first.next('audio', (m) => m.state === 'off')).toMatchObject({ reason: 'another page took this phone\'s audio' });
    expect(port.listening).toBe(1);
    port.play(new Int16Array(320));
    await until('a speaker frame for the second page', () => second.frames.length === 1);
    expect(second.frames[0]?.sampleRateHz).toBe(44_100);
    expect(first.frames).toEqual([]);
    first.sendFrame(audioFrame(AUDIO_FRAME_CAPTURE, 0, PAGE_RATE, new Int16Array(960)));
    await first.next('error');
    expect(port.pushed).toEqual([]);
    second.ws.close();
    await until('the closed page to let go', () => port.listening === 0);
    first.ws.close();
  });

  it('drops bad frames (and says so, at most once a second) without harm; a frame over 4 KiB closes that socket only', async () => {
    const { wsBase, port } = await start();
    const page = await openSocket(`${wsBase}api/phones/100/ws`);
    page.send({ type: 'audio', on: true, sampleRateHz: PAGE_RATE });
    await page.next('audio', (m) => m.state === 'on');
    const good = audioFrame(AUDIO_FRAME_CAPTURE, 0, PAGE_RATE, new Int16Array(960));
    const bad = [
      Buffer.of(1, 1, 0),
      Buffer.concat([Buffer.of(9), good.subarray(1)]),
      good.subarray(0, good.length - 1),
      audioFrame(AUDIO_FRAME_PLAYBACK, 0, PAGE_RATE, new Int16Array(960)),
      audioFrame(AUDIO_FRAME_CAPTURE, 0, 2000, new Int16Array(40)),
      audioFrame(AUDIO_FRAME_CAPTURE, 0, 8000, new Int16Array(800)),
      Buffer.alloc(4000, 0xff),
    ];
    for (const b of bad) page.sendFrame(b);
    // Garbage text is an error too; the socket still works afterwards.
    page.ws.send('{"type":"audio","on":"yes"}');
    page.ws.send('not json');
    page.send({ type: 'tap', key: '5' });
    await until('the errors', () => page.messages.filter((m) => m.type === 'error').length >= 3);
    const errors = page.messages.filter((m) => m.type === 'error').map((m) => (m as { message: string }).message);
    // One complaint about the audio frames in this second, then the text messages' own.
    expect(errors.filter((e) => !e.startsWith('unknown message') && e !== 'messages are JSON objects')).toEqual([expect.stringMatching(/audio frame/)]);
    expect(errors).toContain('messages are JSON objects');
    expect(errors.some((e) => e.startsWith('unknown message'))).toBe(true);
    expect(port.pushed).toEqual([]);
    page.sendFrame(good);
    await until('the good frame', () => port.pushed.length === 1);

    // Larger than the server reads from a page: that socket is closed (1009), the server goes on.
    page.sendFrame(Buffer.concat([good, good, good]));
    expect(await page.closed).toBe(1009);
    await until('the closed page to let go', () => port.listening === 0);
    const again = await openSocket(`${wsBase}api/phones/100/ws`);
    await again.next('hello');
    again.ws.close();
  });

  it('a page may not send much more audio than time passes: the surplus is dropped', async () => {
    const { wsBase, port } = await start();
    const page = await openSocket(`${wsBase}api/phones/100/ws`);
    page.send({ type: 'audio', on: true, sampleRateHz: 8000 });
    await page.next('audio', (m) => m.state === 'on');
    // 3 s of audio at once: about the first second (the slack) is taken, the rest dropped.
    for (let i = 0; i < 100; i++) page.sendFrame(audioFrame(AUDIO_FRAME_CAPTURE, i, 8000, new Int16Array(240)));
    page.send({ type: 'tap', key: '1' });
    await until('the messages to be read', () => port.pushed.length > 0 && page.messages.some((m) => m.type === 'error'));
    await new Promise((r) => setTimeout(r, 100));
    const ms = (port.pushedSamples / ENGINE_RATE) * 1000;
    expect(ms).toBeGreaterThan(900);
    expect(ms).toBeLessThan(1400);
    expect(page.messages.find((m) => m.type === 'error')).toMatchObject({ message: expect.stringContaining('more audio than time passes') as string });
    page.ws.close();
  });

  it('with a password, only a socket that passed it can have the audio', async () => {
    const { wsBase, port } = await start(hash);
    await expect(openSocket(`${wsBase}api/phones/100/ws`)).rejects.toThrow(/401/);
    const page = await openSocket(`${wsBase}api/phones/100/ws`, { headers: { authorization: 'Bearer s3cret pass'.replace(' ', '%20') } }).catch(() => undefined);
    expect(page).toBeUndefined(); // a token has no spaces: refused like a wrong one
    const ok = await openSocket(`${wsBase}api/phones/100/ws`, { headers: { authorization: `Basic ${Buffer.from('x:s3cret pass').toString('base64')}` } });
    ok.send({ type: 'audio', on: true, sampleRateHz: PAGE_RATE });
    await ok.next('audio', (m) => m.state === 'on');
    expect(port.listening).toBe(1);
    ok.ws.close();
  });
});
