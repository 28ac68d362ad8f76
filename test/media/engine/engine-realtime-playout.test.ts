// The real-time receive path feeding the time-stretching jitter buffer: on a clean loopback path nothing is concealed or stretched beyond the start-up.
//
// On the realtime clock the media tick reads the sockets, then pulls a frame for the time its audio
// starts to play, anywhere in the tick's period once frames are time-stretched. The buffer must see a
// packet as arriving when a tick read it: given the kernel's receive time instead, a packet that came
// after this tick's read but before that play-out time looked in time without being there, and the
// buffer concealed the frame, rewound when it came, and stretched the concealment out again, about
// one frame in five (2.2 s concealed and stretched in 10 s of a clean call). One engine sending to
// itself is the worst case, whatever the load: every packet arrives right after the read of the tick
// that sent it. Two engines are the real call.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RtpStreamStats } from '../../../firmware/media/media-engine.js';
import { loadNativeAddon } from '../../../firmware/media/native-addon.js';
import { NativeMediaEngine } from '../../../firmware/media/native-media-engine.js';
import { blockTone } from '../support/goertzel.js';
import { readWav } from '../support/wav-file.js';

const path = process.env.OFFHOOK_TEST_ADDON;
const addon = loadNativeAddon(path !== undefined ? { path } : {});

const RATE = 8000;
const CALL_MS = 5000;
/** The buffer starts at its prior (initialDelayMs 40) and takes it out by stretching once it has history (50 packets). */
const STARTUP_STRETCH_MS = 40;

let dir: string;
const engines: NativeMediaEngine[] = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'offhook-rt-playout-'));
});
afterEach(() => {
  for (const e of engines.splice(0)) e.close();
  rmSync(dir, { recursive: true, force: true });
});

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function engine(name: string, toneHz: number): NativeMediaEngine {
  const e = new NativeMediaEngine({
    addon,
    clock: 'realtime',
    sampleRateHz: RATE,
    statsIntervalMs: 0,
    audio: { backend: 'file', capture: { toneHz, levelDbfs: -12 }, playbackWavPath: join(dir, `${name}.wav`) },
  });
  engines.push(e);
  return e;
}

/**
 * A clean path: nothing stretched but the start-up, nothing concealed but `waitsMs` (the first stretch
 * may overshoot the target a little: a 2.5 ms wait; between two engines a media thread that wakes up
 * more than 5 ms late makes a packet miss a read, which the buffer waits for, conceals and then plays
 * after all: ~25 ms, about once in 25 s here on a busy 2-core machine). A machine so busy that ticks
 * start more than a period late (`lateTicks`, of both engines) delays packets for real, and gets
 * some slack.
 */
function expectClean(s: RtpStreamStats, label: string, waitsMs: number, lateTicks = s.lateTicks): void {
  console.log(`${label}: concealed ${s.concealedMs} ms, stretched ${s.stretchedMs} ms, late ${s.lateDropped}, late ticks ${lateTicks}, buffer ${s.bufferDelayMs.toFixed(1)} ms (target ${s.bufferTargetMs.toFixed(1)})`);
  expect(s.packetsReceived).toBeGreaterThan(CALL_MS / 20 - 25);
  expect(s.packetsLost).toBe(0);
  expect(s.lateDropped).toBe(0);
  const slack = lateTicks > 0 ? 60 : 0;
  expect(s.concealedMs).toBeLessThanOrEqual(waitsMs + slack);
  expect(s.stretchedMs).toBeLessThanOrEqual(STARTUP_STRETCH_MS + 20 + waitsMs + slack);
}

function expectTone(name: string, hz: number): void {
  const heard = readWav(join(dir, `${name}.wav`));
  const tone = blockTone(heard.samples, RATE, hz, 1000, Math.floor((heard.samples.length * 1000) / RATE) - 100, 20);
  expect(tone.goodFraction).toBeGreaterThanOrEqual(0.99);
  expect(tone.meanLevelDbfs).toBeGreaterThan(-13);
}

describe('real-time clock: the time-stretching buffer on a clean loopback path', () => {
  it('one engine sending to itself (each packet arrives just after the read of the tick that sent it): nothing concealed, nothing stretched but the start-up', async () => {
    const e = engine('self', 1000);
    const rx = e.createStream({ local: { address: '127.0.0.1' }, rtcpMux: true, direction: 'recvonly', codec: { name: 'PCMU' } });
    const tx = e.createStream({
      local: { address: '127.0.0.1' },
      rtcpMux: true,
      direction: 'sendonly',
      remote: { address: '127.0.0.1', port: rx.localRtpPort },
      codec: { name: 'PCMU' },
    });
    rx.start();
    tx.start();
    await sleep(CALL_MS);
    const stats = rx.getStats();
    e.close();
    // Sender and receiver are one thread: no packet can come a tick late.
    expectClean(stats, 'self', 10);
    expectTone('self', 1000);
  });

  it('two engines, both ways: nothing concealed, nothing stretched but the start-up, each hears the other tone', async () => {
    // Half a period apart: each engine receives the other's packets mid-period, between its reads,
    // which a pull for a time after the read may (wrongly) count on; and a tick that wakes up a few
    // ms late still sends before the other engine's next read.
    const a = engine('a', 1000);
    await sleep(5);
    const b = engine('b', 440);
    const sa = a.createStream({ local: { address: '127.0.0.1' }, rtcpMux: true, codec: { name: 'PCMU' } });
    const sb = b.createStream({ local: { address: '127.0.0.1' }, rtcpMux: true, remote: { address: '127.0.0.1', port: sa.localRtpPort }, codec: { name: 'PCMU' } });
    sa.update({ remote: { address: '127.0.0.1', port: sb.localRtpPort } });
    sa.start();
    sb.start();
    await sleep(CALL_MS);
    const stats = [sa.getStats(), sb.getStats()] as const;
    a.close();
    b.close();
    const lateTicks = stats[0].lateTicks + stats[1].lateTicks;
    expectClean(stats[0], 'a hears b', 60, lateTicks);
    expectClean(stats[1], 'b hears a', 60, lateTicks);
    expectTone('a', 440);
    expectTone('b', 1000);
  });
});
