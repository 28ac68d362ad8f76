// CdevGpioChip: errors from real paths through the built addon, and lines whose events come through
// the addon's real event thread (loopback requests), since this machine has no GPIO chip or gpio-sim.
import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { Logger } from '../../../firmware/util/log.js';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import {
  loadNativeAddon,
  type NativeAddon,
  type NativeGpioEvent,
  type NativeGpioInputConfig,
  type NativeGpioLoopbackRequest,
  type NativeGpioOutputConfig,
  type NativeGpioRequestConfig,
} from '../../../firmware/media/native-addon.js';
import { HalError } from '../../../hal/errors.js';
import type {
  CdevBinding,
  CdevChipHandle,
  CdevEvent,
  CdevInputConfig,
  CdevLineRequestHandle,
  CdevOutputConfig,
  CdevRequestConfig,
} from '../../../hal/gpio/cdev-binding.js';
import { CdevGpioChip } from '../../../hal/gpio/cdev-gpio.js';
import type { GpioEdgeEvent } from '../../../hal/gpio/gpio.js';

// The binding the hal declares must be what the addon is (CONVENTIONS.md #10): checked by tsc.
type Assert<T extends true> = T;
type NoKeysBeyond<A, B> = [Exclude<keyof A, keyof B>] extends [never] ? true : false;
export type ConfigsReachTheAddon = Assert<CdevRequestConfig extends NativeGpioRequestConfig ? true : false>;
// `extends` lets extra optional fields through; the addon would ignore them, so none may exist.
export type NoUnknownInputFields = Assert<NoKeysBeyond<CdevInputConfig, NativeGpioInputConfig>>;
export type NoUnknownOutputFields = Assert<NoKeysBeyond<CdevOutputConfig, NativeGpioOutputConfig>>;
export type EventsReachTheHal = Assert<NativeGpioEvent extends CdevEvent ? true : false>;
export type AddonGpioIsABinding = Assert<NativeAddon['gpio'] extends CdevBinding ? true : false>;

let addon: NativeAddon;
beforeAll(() => {
  addon = loadNativeAddon();
});

function openError(path: string): HalError {
  try {
    CdevGpioChip.open({ path, binding: addon.gpio });
  } catch (err) {
    if (err instanceof HalError) return err;
    throw err;
  }
  throw new Error(`opening ${path} did not fail`);
}

describe('CdevGpioChip.open through the addon', () => {
  it('the addon\'s GPIO part is a CdevBinding', () => {
    const binding: CdevBinding = addon.gpio;
    expect(typeof binding.openChip).toBe('function');
  });

  it('a missing chip: HalError ENOENT naming the path', () => {
    const error = openError('/dev/gpiochip99');
    expect(error.code).toBe('ENOENT');
    expect(error.device).toBe('/dev/gpiochip99');
    expect(error.message).toMatch(/^\/dev\/gpiochip99: open failed: .*gpiochip\*/);
    expect(error.cause).toMatchObject({ syscall: 'open', path: '/dev/gpiochip99' });
  });

  it('a file that is not a GPIO chip: HalError ENOTTY', () => {
    const error = openError('/dev/null');
    expect(error.code).toBe('ENOTTY');
    expect(error.device).toBe('/dev/null');
    expect(error.message).toContain('not a GPIO character device');
  });

  it('a directory: HalError with its errno too', () => {
    expect(openError('/dev').code).toBe('EISDIR');
  });
});

// ---------------------------------------------------------------------------------------------------
// A chip handle of our own whose edge-detecting requests are the addon's loopback requests: the events
// then come from the real native thread and thread-safe function. Requests without edges are plain
// fakes that hold a level.

interface FakeLine extends CdevLineRequestHandle {
  config: CdevRequestConfig;
  level: 0 | 1;
  refs: string[];
  released: boolean;
}

class LoopbackChip implements CdevChipHandle {
  readonly name = 'gpiochip0';
  readonly label = 'pinctrl-loopback';
  readonly lines = 54;
  readonly configs: CdevRequestConfig[] = [];
  readonly loopbacks = new Map<number, NativeGpioLoopbackRequest>();
  readonly fakes = new Map<number, FakeLine>();
  closed = false;
  failNext: (Error & { code: string }) | undefined;
  holder = '';

  constructor(private readonly native: NativeAddon) {}

  lineInfo(_offset: number): { consumer: string; used: boolean } {
    return { consumer: this.holder, used: this.holder !== '' };
  }

  requestLines(config: CdevRequestConfig, onEvent?: (event: CdevEvent) => void): CdevLineRequestHandle {
    const failure = this.failNext;
    this.failNext = undefined;
    if (failure) throw failure;
    this.configs.push(config);
    const offset = config.offsets[0]!;
    if (onEvent) {
      const loopback = this.native.gpio.loopbackRequest({ offsets: config.offsets }, onEvent);
      this.loopbacks.set(offset, loopback);
      return loopback;
    }
    const fake: FakeLine = {
      config,
      level: config.direction === 'output' ? (config.outputValues?.[0] ?? 0) : 0,
      refs: [],
      released: false,
      getValues: () => [fake.level],
      setValues: (values) => {
        if (config.direction === 'input') throw Object.assign(new Error('EPERM: Operation not permitted'), { code: 'EPERM' });
        fake.level = values[0] ?? 0;
      },
      ref: () => fake.refs.push('ref'),
      unref: () => fake.refs.push('unref'),
      release: () => {
        fake.released = true;
      },
    };
    this.fakes.set(offset, fake);
    return fake;
  }

  close(): void {
    this.closed = true;
  }
}

function logCapture(): { log: Logger; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  return {
    log: pino({ level: 'debug' }, sink),
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter((l) => l.length > 0)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

function openLoopback(options: { log?: Logger } = {}): { chip: CdevGpioChip; handle: LoopbackChip } {
  const handle = new LoopbackChip(addon);
  const binding: CdevBinding = { openChip: () => handle };
  return { chip: CdevGpioChip.open({ path: '/dev/gpiochip0', binding, ...options }), handle };
}

async function until(check: () => void): Promise<void> {
  await vi.waitFor(check, { timeout: 5000, interval: 2 });
}

describe('CdevGpioChip lines', () => {
  it('names the chip from the kernel and maps input options to the uAPI v2 request', () => {
    const { chip, handle } = openLoopback();
    expect([chip.name, chip.label, chip.lines]).toEqual(['gpiochip0', 'pinctrl-loopback', 54]);
    chip.requestInput(17, { edge: 'both', bias: 'pull-up', debounceMs: 5, consumer: 'hook' });
    chip.requestInput(18);
    chip.requestOutput(22, { initial: 1, drive: 'open-drain' });
    expect(handle.configs).toEqual([
      { direction: 'input', offsets: [17], consumer: 'hook', bias: 'pull-up', edge: 'both', debouncePeriodUs: 5000 },
      { direction: 'input', offsets: [18], consumer: 'offhook', bias: 'as-is', edge: 'none', debouncePeriodUs: 0 },
      { direction: 'output', offsets: [22], consumer: 'offhook', drive: 'open-drain', outputValues: [1] },
    ]);
    chip.close();
  });

  it('feeds onEdge from the native event thread: level after the edge, kernel timestamp', async () => {
    const { chip, handle } = openLoopback();
    const line = chip.requestInput(17, { edge: 'both' });
    const seen: GpioEdgeEvent[] = [];
    line.onEdge((e) => seen.push(e));
    const loopback = handle.loopbacks.get(17)!;
    loopback.inject({ offset: 17, edge: 'falling', timestampNs: 1_000_000n });
    loopback.inject({ offset: 17, edge: 'rising', timestampNs: 1_250_000n });
    await until(() => expect(seen).toHaveLength(2));
    expect(seen).toEqual([
      { level: 0, timestampNs: 1_000_000n },
      { level: 1, timestampNs: 1_250_000n },
    ]);
    chip.close();
  });

  it('several listeners each get every edge; an unsubscribed one gets no more', async () => {
    const { chip, handle } = openLoopback();
    const line = chip.requestInput(5, { edge: 'rising' });
    const a: bigint[] = [];
    const b: bigint[] = [];
    line.onEdge((e) => a.push(e.timestampNs));
    const stopB = line.onEdge((e) => b.push(e.timestampNs));
    const loopback = handle.loopbacks.get(5)!;
    loopback.inject({ offset: 5, edge: 'rising', timestampNs: 1n });
    await until(() => expect(b).toHaveLength(1));
    stopB();
    loopback.inject({ offset: 5, edge: 'rising', timestampNs: 2n });
    await until(() => expect(a).toHaveLength(2));
    expect(b).toEqual([1n]);
    chip.close();
  });

  it('release() and close() stop delivery; close releases every line it gave out', async () => {
    const { chip, handle } = openLoopback();
    const edge = chip.requestInput(6, { edge: 'both' });
    const plain = chip.requestOutput(7, { initial: 0 });
    const seen: GpioEdgeEvent[] = [];
    edge.onEdge((e) => seen.push(e));
    const loopback = handle.loopbacks.get(6)!;
    chip.close();
    expect(loopback.released).toBe(true);
    expect(handle.fakes.get(7)!.released).toBe(true);
    expect(handle.closed).toBe(true);
    expect(() => loopback.inject({ offset: 6, edge: 'rising', timestampNs: 1n })).toThrow(/released/);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(seen).toEqual([]);
    expect(() => edge.read()).toThrow(HalError);
    expect(() => plain.write(1)).toThrow(/line was released/);
    expect(() => chip.requestInput(8)).toThrow(/chip was closed/);
    chip.close(); // idempotent
    edge.release();
  });

  it('holds the event loop only while someone listens (ref on the first listener, unref after the last)', () => {
    const refs: string[] = [];
    const handle = new LoopbackChip(addon);
    const chipHandle: CdevChipHandle = {
      name: handle.name,
      label: handle.label,
      lines: handle.lines,
      lineInfo: (o) => handle.lineInfo(o),
      close: () => handle.close(),
      requestLines: (config, onEvent) => {
        const inner = handle.requestLines(config, onEvent);
        return {
          getValues: () => inner.getValues(),
          setValues: (v) => inner.setValues(v),
          ref: () => (refs.push('ref'), inner.ref()),
          unref: () => (refs.push('unref'), inner.unref()),
          release: () => (refs.push('release'), inner.release()),
        };
      },
    };
    const chip = CdevGpioChip.open({ path: '/dev/gpiochip0', binding: { openChip: () => chipHandle } });
    const line = chip.requestInput(9, { edge: 'both' });
    expect(refs).toEqual(['unref']); // idle input: not a reason to keep running
    const stop1 = line.onEdge(() => undefined);
    const stop2 = line.onEdge(() => undefined);
    expect(refs).toEqual(['unref', 'ref']);
    stop1();
    stop1();
    expect(refs).toEqual(['unref', 'ref']);
    stop2();
    expect(refs).toEqual(['unref', 'ref', 'unref']);
    line.onEdge(() => undefined);
    chip.close();
    expect(refs).toEqual(['unref', 'ref', 'unref', 'ref', 'release']);
  });

  it('reads and writes through the request; errors name the line and keep the errno', () => {
    const { chip, handle } = openLoopback();
    const out = chip.requestOutput(22, { initial: 1 });
    expect(out.read()).toBe(1);
    out.write(0);
    expect(handle.fakes.get(22)!.level).toBe(0);
    const input = chip.requestInput(23);
    expect(() => input.write(1)).toThrow(expect.objectContaining({ name: 'HalError', device: '/dev/gpiochip0 line 23', code: 'EPERM' }));
    // A loopback's fd is a pipe: the GET_VALUES ioctl really fails in the kernel, with ENOTTY.
    const edges = chip.requestInput(24, { edge: 'falling' });
    expect(() => edges.read()).toThrow(expect.objectContaining({ device: '/dev/gpiochip0 line 24', code: 'ENOTTY' }));
    chip.close();
  });

  it('a busy line: HalError EBUSY saying who holds it', () => {
    const { chip, handle } = openLoopback();
    handle.holder = 'gpio-keys';
    handle.failNext = Object.assign(new Error("EBUSY: Device or resource busy, ioctl(GPIO_V2_GET_LINE_IOCTL) '/dev/gpiochip0'"), { code: 'EBUSY' });
    expect(() => chip.requestInput(26)).toThrow(expect.objectContaining({ code: 'EBUSY', device: '/dev/gpiochip0 line 26' }));
    handle.failNext = Object.assign(new Error('EBUSY'), { code: 'EBUSY' });
    expect(() => chip.requestInput(26)).toThrow(/held by 'gpio-keys'/);
    chip.close();
  });

  it('refuses what cannot be asked: offsets off the chip, negative debounce, onEdge without edges', () => {
    const { chip } = openLoopback();
    expect(() => chip.requestInput(54)).toThrow(expect.objectContaining({ code: 'EINVAL', device: '/dev/gpiochip0 line 54' }));
    expect(() => chip.requestInput(-1)).toThrow(/no such line/);
    expect(() => chip.requestInput(3, { debounceMs: -1 })).toThrow(/debounceMs/);
    const quiet = chip.requestInput(4);
    expect(() => quiet.onEdge(() => undefined)).toThrow(/edge 'none'/);
    chip.close();
  });

  it('when the event thread stops (chip gone) it logs a HalError ENODEV and edges end', async () => {
    const capture = logCapture();
    const { chip, handle } = openLoopback({ log: capture.log });
    const line = chip.requestInput(27, { edge: 'both' });
    line.onEdge(() => undefined);
    handle.loopbacks.get(27)!.injectHangUp();
    await until(() => expect(capture.lines().some((l) => l.msg === 'GPIO edge events stopped')).toBe(true));
    const entry = capture.lines().find((l) => l.msg === 'GPIO edge events stopped')!;
    expect(entry).toMatchObject({ level: 50, mod: 'hal/gpio/cdev', chip: '/dev/gpiochip0' });
    expect(JSON.stringify(entry.err)).toContain('ENODEV');
    chip.close();
  });
});
