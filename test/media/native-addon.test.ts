// The native addon's loader and its event path (thread, thread-safe function, ref/unref, teardown),
// the latter through the loopback line request, since this machine has no GPIO chip.
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  NATIVE_ADDON_API_VERSION,
  NATIVE_ADDON_FILE,
  NativeAddonError,
  loadNativeAddon,
  nativeAddonCandidates,
  type NativeAddon,
  type NativeGpioEvent,
} from '../../firmware/media/native-addon.js';

const REPO_ROOT = join(import.meta.dirname, '..', '..');
const BUILT = join(REPO_ROOT, 'build', 'Release', NATIVE_ADDON_FILE);

let addon: NativeAddon;
let scratch: string;

beforeAll(() => {
  addon = loadNativeAddon();
  scratch = mkdtempSync(join(tmpdir(), 'offhook-addon-'));
});

afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
});

describe('loadNativeAddon', () => {
  it('finds build/Release/offhook_native.node of the repository from the sources', () => {
    expect(addon.apiVersion).toBe(NATIVE_ADDON_API_VERSION);
    expect(typeof addon.g711.encode).toBe('function');
    const candidates = nativeAddonCandidates();
    expect(candidates).toContain(BUILT);
    expect(candidates.at(-1)).toBe(BUILT); // the walk stops at the folder with package.json
  });

  it('prefers the file beside a bundle (dist/offhook.mjs → dist/offhook_native.node)', () => {
    const dist = join(scratch, 'bundle', 'dist');
    mkdirSync(dist, { recursive: true });
    copyFileSync(BUILT, join(dist, NATIVE_ADDON_FILE));
    const fromBundle = pathToFileURL(join(dist, 'offhook.mjs'));
    expect(nativeAddonCandidates(fromBundle)[0]).toBe(join(dist, NATIVE_ADDON_FILE));
    const bundled = loadNativeAddon({ from: fromBundle });
    expect([...bundled.g711.decode('PCMA', Uint8Array.of(0xd5))]).toEqual([8]);
  });

  it('a missing file: NativeAddonError naming the file, the platform and the rebuild command', () => {
    const wrong = join(scratch, 'nowhere', NATIVE_ADDON_FILE);
    let error: unknown;
    try {
      loadNativeAddon({ path: wrong });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(NativeAddonError);
    const e = error as NativeAddonError;
    expect(e.reason).toBe('missing');
    expect(e.tried).toEqual([wrong]);
    expect(e.message).toContain(wrong);
    expect(e.message).toContain(`${process.platform}-${process.arch}`);
    expect(e.message).toContain('make build');
    expect(e.message).toContain('npx node-gyp rebuild');
  });

  it('nothing found from a folder: lists every place it looked', () => {
    const from = join(scratch, 'empty', 'offhook.mjs');
    mkdirSync(dirname(from), { recursive: true });
    writeFileSync(join(scratch, 'empty', 'package.json'), '{}');
    expect(() => loadNativeAddon({ from })).toThrow(NativeAddonError);
    try {
      loadNativeAddon({ from });
    } catch (err) {
      expect((err as NativeAddonError).tried).toEqual([
        join(scratch, 'empty', NATIVE_ADDON_FILE),
        join(scratch, 'empty', 'build', 'Release', NATIVE_ADDON_FILE),
      ]);
    }
  });

  it('a file that is no shared object: NativeAddonError "unloadable" with the loader\'s reason', () => {
    const junk = join(scratch, 'junk', NATIVE_ADDON_FILE);
    mkdirSync(dirname(junk), { recursive: true });
    writeFileSync(junk, 'not an ELF file');
    expect(() => loadNativeAddon({ path: junk })).toThrow(/unloadable: .*offhook_native\.node could not be loaded \(.*(ELF|header)/);
    try {
      loadNativeAddon({ path: junk });
    } catch (err) {
      expect(err).toBeInstanceOf(NativeAddonError);
      expect((err as NativeAddonError).reason).toBe('unloadable');
      expect((err as NativeAddonError).cause).toBeInstanceOf(Error);
    }
  });

  it('exports of other sources: NativeAddonError "incompatible" saying what differs', () => {
    // require() loads a .cjs as JavaScript, which stands in for a stale build's exports.
    const stale = join(scratch, 'stale.cjs');
    writeFileSync(stale, 'module.exports = { apiVersion: 99 };');
    expect(() => loadNativeAddon({ path: stale })).toThrow(new RegExp(`incompatible: .*apiVersion 99, expected ${NATIVE_ADDON_API_VERSION}`));
    const partial = join(scratch, 'partial.cjs');
    writeFileSync(partial, `module.exports = { apiVersion: ${NATIVE_ADDON_API_VERSION}, g711: { encode() {} } };`);
    expect(() => loadNativeAddon({ path: partial })).toThrow(/lacks g711\.decode, gpio\.openChip, gpio\.loopbackRequest/);
  });
});

describe('GPIO errors from the addon', () => {
  it('carry code, errno, syscall and path like Node system errors', () => {
    expect(() => addon.gpio.openChip('/dev/gpiochip99')).toThrow(
      expect.objectContaining({ code: 'ENOENT', errno: -2, syscall: 'open', path: '/dev/gpiochip99' }),
    );
    expect(() => addon.gpio.openChip('/dev/null')).toThrow(
      expect.objectContaining({ code: 'ENOTTY', syscall: 'ioctl(GPIO_GET_CHIPINFO_IOCTL)', path: '/dev/null' }),
    );
    expect(() => addon.gpio.openChip(42 as unknown as string)).toThrow(TypeError);
  });
});

/** Collects events of one loopback request; waits for a count with vi.waitFor (a native thread is real time). */
function collector(): { events: NativeGpioEvent[]; onEvent: (event: NativeGpioEvent) => void; waitFor: (n: number) => Promise<void> } {
  const events: NativeGpioEvent[] = [];
  return {
    events,
    onEvent: (event) => events.push(event),
    waitFor: (n) => vi.waitFor(() => expect(events.length).toBeGreaterThanOrEqual(n), { timeout: 5000, interval: 2 }),
  };
}

describe('line request event path (loopback)', () => {
  it('delivers struct gpio_v2_line_event records in order, with 64-bit timestamps', async () => {
    const c = collector();
    const request = addon.gpio.loopbackRequest({ offsets: [17, 27] }, c.onEvent);
    try {
      expect(request.offsets).toEqual([17, 27]);
      const big = 2n ** 63n + 5n;
      for (let i = 1; i <= 50; i++) {
        request.inject({ offset: i % 2 ? 17 : 27, edge: i % 2 ? 'rising' : 'falling', timestampNs: BigInt(i) * 1000n, seqno: i, lineSeqno: (i + 1) >> 1 });
      }
      request.inject({ offset: 17, edge: 'rising', timestampNs: big, seqno: 51, lineSeqno: 26 });
      await c.waitFor(51);
      expect(c.events[0]).toEqual({ kind: 'edge', offset: 17, edge: 'rising', timestampNs: 1000n, seqno: 1, lineSeqno: 1 });
      expect(c.events[1]).toEqual({ kind: 'edge', offset: 27, edge: 'falling', timestampNs: 2000n, seqno: 2, lineSeqno: 1 });
      expect(c.events.map((e) => (e.kind === 'edge' ? e.seqno : -1))).toEqual(Array.from({ length: 51 }, (_, i) => i + 1));
      expect(c.events[50]).toMatchObject({ timestampNs: big });
    } finally {
      request.release();
    }
  });

  it('release() stops the thread: no event after it returns, and it is idempotent', async () => {
    const c = collector();
    const request = addon.gpio.loopbackRequest({ offsets: [4] }, c.onEvent);
    for (let i = 0; i < 20; i++) request.inject({ offset: 4, edge: 'rising', timestampNs: 1n });
    request.release(); // whatever the thread had queued is dropped, not delivered
    const seen = c.events.length;
    request.release();
    expect(request.released).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(c.events.length).toBe(seen);
    expect(() => request.getValues()).toThrow(expect.objectContaining({ code: 'ERR_GPIO_RELEASED' }));
  });

  it('release() from inside a listener: not one more event, even from the batch being delivered', async () => {
    const c = collector();
    const request = addon.gpio.loopbackRequest({ offsets: [4] }, (event) => {
      c.onEvent(event);
      request.release();
    });
    for (let i = 1; i <= 10; i++) request.inject({ offset: 4, edge: 'rising', timestampNs: BigInt(i), seqno: i });
    await c.waitFor(1);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(c.events).toHaveLength(1);
  });

  it('a hang-up (the chip going away) ends with one ENODEV error event', async () => {
    const c = collector();
    const request = addon.gpio.loopbackRequest({ offsets: [5] }, c.onEvent);
    request.inject({ offset: 5, edge: 'falling', timestampNs: 7n });
    request.injectHangUp();
    await c.waitFor(2);
    expect(c.events[0]).toMatchObject({ kind: 'edge', edge: 'falling' });
    expect(c.events[1]).toMatchObject({ kind: 'error', error: { code: 'ENODEV', path: 'loopback' } });
    request.release();
  });

  it('value ioctls on something that is not a line fail with the errno name', () => {
    const request = addon.gpio.loopbackRequest({ offsets: [6] }, () => undefined);
    try {
      expect(() => request.getValues()).toThrow(expect.objectContaining({ code: 'ENOTTY', syscall: 'ioctl(GPIO_V2_LINE_GET_VALUES_IOCTL)' }));
      expect(() => request.setValues([1])).toThrow(expect.objectContaining({ code: 'ENOTTY' }));
      expect(() => request.setValues([1, 0])).toThrow(RangeError);
    } finally {
      request.release();
    }
  });

  it('checks arguments at the boundary', () => {
    expect(() => addon.gpio.loopbackRequest({ offsets: [] }, () => undefined)).toThrow(RangeError);
    expect(() => addon.gpio.loopbackRequest({ offsets: [3, 3] }, () => undefined)).toThrow(/twice/);
    expect(() => addon.gpio.loopbackRequest({ offsets: [64] }, () => undefined)).toThrow(RangeError);
    const request = addon.gpio.loopbackRequest({ offsets: [1] }, () => undefined);
    expect(() => request.inject({ offset: 1, edge: 'up' as 'rising', timestampNs: 0n })).toThrow(TypeError);
    request.release();
    expect(() => request.inject({ offset: 1, edge: 'rising', timestampNs: 0n })).toThrow(/released/);
    // Only the addon makes requests: the class reached through .constructor refuses anything else.
    const Ctor = request.constructor as new (arg?: unknown) => unknown;
    expect(() => new Ctor({})).toThrow(/created by GpioChip.requestLines/);
  });
});

/** Runs a CommonJS snippet in a fresh node with `addon` loaded; resolves with exit code and output. */
function runNode(
  body: string,
  options: { killAfterMs?: number; nodeArgs?: string[] } = {},
): Promise<{ code: number | null; signal: string | null; out: string; stillRunning: boolean }> {
  const script = `const addon = require(${JSON.stringify(BUILT)});\n${body}`;
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...(options.nodeArgs ?? []), '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let stillRunning = false;
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => {
      stillRunning = true;
      child.kill('SIGKILL');
    }, options.killAfterMs ?? 10_000);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, out, stillRunning });
    });
  });
}

describe('process lifetime', () => {
  it('a referenced request keeps the process alive until released, then it exits by itself', async () => {
    const r = await runNode(`
      const request = addon.gpio.loopbackRequest({ offsets: [1] }, (e) => { console.log('got', e.edge); request.release(); });
      setTimeout(() => request.inject({ offset: 1, edge: 'rising', timestampNs: 1n }), 100);
    `);
    expect(r).toMatchObject({ code: 0, stillRunning: false });
    expect(r.out).toContain('got rising');
  });

  it('a referenced request that is never released keeps it alive (like a listening socket)', async () => {
    const r = await runNode(`addon.gpio.loopbackRequest({ offsets: [1] }, () => {}); console.log('open');`, { killAfterMs: 700 });
    expect(r.stillRunning).toBe(true);
    expect(r.out).toContain('open');
  });

  it('an unreferenced request does not hold the process: it exits, stopping the thread on teardown', async () => {
    const r = await runNode(`
      const request = addon.gpio.loopbackRequest({ offsets: [1] }, () => {});
      request.unref();
      request.inject({ offset: 1, edge: 'rising', timestampNs: 1n });
      process.on('exit', () => console.log('exiting'));
    `);
    expect(r).toMatchObject({ code: 0, stillRunning: false });
    expect(r.out).toContain('exiting');
  });

  it('a listener that throws raises an uncaught exception (not just a DEP0168 warning)', async () => {
    const r = await runNode(`
      const request = addon.gpio.loopbackRequest({ offsets: [1] }, (e) => { throw new Error('listener failed at ' + e.seqno); });
      request.inject({ offset: 1, edge: 'rising', timestampNs: 1n, seqno: 7 });
    `);
    expect(r.code).toBe(1);
    expect(r.out).toContain('Error: listener failed at 7');
    expect(r.out).not.toContain('DEP0168');
  });

  it('a request dropped without release() is cleaned up by the garbage collector', async () => {
    const r = await runNode(`
      for (let i = 0; i < 50; i++) addon.gpio.loopbackRequest({ offsets: [i % 64] }, () => {}).unref();
      setTimeout(() => { global.gc(); setTimeout(() => console.log('collected'), 20); }, 20);
    `, { nodeArgs: ['--expose-gc'] });
    expect(r).toMatchObject({ code: 0, stillRunning: false });
    expect(r.out).toContain('collected');
  });

  it('workers terminated while their requests deliver events shut down cleanly', async () => {
    const r = await runNode(`
      const { Worker } = require('node:worker_threads');
      const code = \`
        const addon = require(${JSON.stringify(BUILT)});
        const { parentPort } = require('node:worker_threads');
        const requests = [];
        for (let i = 0; i < 6; i++) requests.push(addon.gpio.loopbackRequest({ offsets: [i] }, () => {}));
        setInterval(() => { for (const r of requests) r.inject({ offset: 0, edge: 'rising', timestampNs: 1n }); }, 1);
        parentPort.postMessage('ready');
      \`;
      let rounds = 0;
      const round = () => {
        const w = new Worker(code, { eval: true });
        w.on('message', () => setTimeout(() => w.terminate(), 5 + (rounds % 7)));
        w.on('exit', () => (++rounds < 30 ? round() : console.log('workers done')));
      };
      round();
    `);
    expect(r.out).toContain('workers done');
    expect(r).toMatchObject({ code: 0, signal: null, stillRunning: false });
  });
});
