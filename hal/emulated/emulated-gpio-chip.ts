// An emulated GPIO chip for tests and the desktop emulator: lines with bias, open drain, switches between lines and clocked edge events.
import type { Clock } from '../../firmware/util/clock.js';
import type { Unsubscribe } from '../../firmware/util/emitter.js';
import { HalError } from '../errors.js';
import type {
  GpioBias,
  GpioChip,
  GpioEdge,
  GpioEdgeEvent,
  GpioInputOptions,
  GpioLevel,
  GpioLine,
  GpioOutputOptions,
} from '../gpio/gpio.js';

export interface EmulatedGpioChipOptions {
  /** Edge timestamps and level-change times come from this clock. */
  clock: Clock;
  /** Number of lines; default 54, the size of the BCM2835/RP1 header banks. */
  lines?: number;
  name?: string;
  label?: string;
  /**
   * The level of a line that nothing drives and nothing pulls. A real pin floats; a test wants the same
   * answer every run. Default 0.
   */
  floatingLevel?: GpioLevel;
}

/** What a test can ask about a line (the emulator's gpioinfo). */
export interface EmulatedLineInfo {
  offset: number;
  requested: boolean;
  direction: 'input' | 'output' | undefined;
  bias: GpioBias | undefined;
  edge: GpioEdge | undefined;
  drive: 'push-pull' | 'open-drain' | undefined;
  consumer: string | undefined;
  /** The electrical level of the line's net now. */
  level: GpioLevel;
}

/** A net on which one source drove high and another drove low at the same time (a short). */
export interface EmulatedContention {
  atMs: number;
  offsets: readonly number[];
}

type EdgeListener = (event: GpioEdgeEvent) => void;
type LevelListener = (offset: number, level: GpioLevel, atMs: number) => void;

interface LineState {
  mode: 'free' | 'input' | 'output';
  bias: GpioBias;
  edge: GpioEdge;
  drive: 'push-pull' | 'open-drain';
  consumer: string | undefined;
  /** Value last written by the consumer (outputs only). */
  written: GpioLevel;
  /** Level forced from outside the chip (a test, or a model tying the pin to GND/VCC); undefined = not driven. */
  external: GpioLevel | undefined;
  /** Last settled electrical level. */
  level: GpioLevel;
  /** Bumped on every request and release so that a stale handle or a late event cannot act on a new owner. */
  generation: number;
  listeners: Set<EdgeListener>;
  /** errno the next reads/writes fail with, until cleared. */
  fault: string | undefined;
  reads: number;
  writes: number;
}

/**
 * A GpioChip whose pins are wired in software. Electrically each line is a node; `link(a, b)` closes a
 * switch between two nodes (a key at a matrix crossing), `setInput(offset, level)` ties a node to a
 * level from outside (a switch to GND, or a test's signal generator). After every change the chip
 * settles the nets: a net is low if anything drives it low (push-pull 0, open-drain 0, external 0),
 * high if anything drives it high, else pulled by any pull-up / pull-down on it, else floatingLevel.
 * A net driven both ways is recorded in `contentions` and reads 0.
 *
 * Edge events are delivered in a microtask, never inside the write() that caused them, as the kernel
 * delivers them asynchronously; the timestamp is the clock's time of the change.
 */
export class EmulatedGpioChip implements GpioChip {
  readonly name: string;
  readonly label: string;
  private readonly clock: Clock;
  private readonly floatingLevel: GpioLevel;
  private readonly lines: LineState[];
  /** Closed switches between lines: key "a:b" (a < b) → how many switches join them. */
  private readonly links = new Map<string, number>();
  private readonly levelListeners = new Set<LevelListener>();
  private readonly contentionLog: EmulatedContention[] = [];
  private contended = new Set<string>();
  private closed = false;

  constructor(options: EmulatedGpioChipOptions) {
    const count = options.lines ?? 54;
    if (!Number.isInteger(count) || count < 1) throw new RangeError(`lines must be a positive integer, got ${count}`);
    this.clock = options.clock;
    this.name = options.name ?? 'emulated-gpiochip';
    this.label = options.label ?? 'offhook-emulated';
    this.floatingLevel = options.floatingLevel ?? 0;
    this.lines = Array.from({ length: count }, () => ({
      mode: 'free',
      bias: 'as-is',
      edge: 'none',
      drive: 'push-pull',
      consumer: undefined,
      written: 0,
      external: undefined,
      level: this.floatingLevel,
      generation: 0,
      listeners: new Set<EdgeListener>(),
      fault: undefined,
      reads: 0,
      writes: 0,
    }));
  }

  /** Number of lines. */
  get lineCount(): number {
    return this.lines.length;
  }

  // ---- GpioChip ----

  requestInput(offset: number, options: GpioInputOptions = {}): GpioLine {
    const state = this.claim(offset);
    state.mode = 'input';
    state.bias = options.bias ?? 'as-is';
    state.edge = options.edge ?? 'none';
    state.drive = 'push-pull';
    state.consumer = options.consumer;
    this.settle();
    return this.handle(offset, state);
  }

  requestOutput(offset: number, options: GpioOutputOptions): GpioLine {
    const state = this.claim(offset);
    state.mode = 'output';
    state.bias = 'as-is';
    state.edge = 'none';
    state.drive = options.drive ?? 'push-pull';
    state.consumer = options.consumer;
    state.written = options.initial;
    this.settle();
    return this.handle(offset, state);
  }

  close(): void {
    if (this.closed) return;
    for (const state of this.lines) this.free(state);
    this.closed = true;
    this.settle();
  }

  // ---- test side (Zephyr gpio_emul: input_set / output_get) ----

  /**
   * Ties a line to a level from outside the chip, or stops driving it (undefined), leaving it to the
   * net: bias, other lines, floatingLevel. Works on requested and free lines.
   */
  setInput(offset: number, level: GpioLevel | undefined): void {
    this.state(offset).external = level;
    this.settle();
  }

  /** The value the consumer last wrote to an output line (for open drain: 1 = released). */
  outputLevel(offset: number): GpioLevel {
    const state = this.state(offset);
    if (state.mode !== 'output') throw new HalError(this.device(offset), 'line is not requested as an output', { code: 'EINVAL' });
    return state.written;
  }

  /** The electrical level of the line's net now, whatever its direction. */
  level(offset: number): GpioLevel {
    return this.state(offset).level;
  }

  info(offset: number): EmulatedLineInfo {
    const s = this.state(offset);
    const requested = s.mode !== 'free';
    return {
      offset,
      requested,
      direction: s.mode === 'free' ? undefined : s.mode,
      bias: s.mode === 'input' ? s.bias : undefined,
      edge: s.mode === 'input' ? s.edge : undefined,
      drive: s.mode === 'output' ? s.drive : undefined,
      consumer: requested ? s.consumer : undefined,
      level: s.level,
    };
  }

  /** Closes a switch between two lines (a key at a matrix crossing). Switches are counted: two links need two unlinks. */
  link(a: number, b: number): void {
    const key = this.linkKey(a, b);
    this.links.set(key, (this.links.get(key) ?? 0) + 1);
    this.settle();
  }

  /** Opens a switch closed by link(a, b); opening a switch that is not closed is a no-op. */
  unlink(a: number, b: number): void {
    const key = this.linkKey(a, b);
    const count = this.links.get(key) ?? 0;
    if (count <= 1) this.links.delete(key);
    else this.links.set(key, count - 1);
    this.settle();
  }

  /** Makes every read and write on the line throw a HalError with this errno until clearFault(). */
  injectFault(offset: number, code = 'EIO'): void {
    this.state(offset).fault = code;
  }

  clearFault(offset: number): void {
    this.state(offset).fault = undefined;
  }

  /** How many times the consumer wrote the line (scanning shows up here; idle interrupt mode must not). */
  writeCount(offset: number): number {
    return this.state(offset).writes;
  }

  /** How many times the consumer read the line. */
  readCount(offset: number): number {
    return this.state(offset).reads;
  }

  /** Every change of a line's electrical level, for waveform tests and the emulator's web page. */
  onLevelChange(listener: LevelListener): Unsubscribe {
    this.levelListeners.add(listener);
    return () => this.levelListeners.delete(listener);
  }

  /** Shorts seen so far (a net driven high and low at once), oldest first. */
  get contentions(): readonly EmulatedContention[] {
    return this.contentionLog;
  }

  // ---- internals ----

  private device(offset: number): string {
    return `${this.name} line ${offset}`;
  }

  private state(offset: number): LineState {
    const state = Number.isInteger(offset) ? this.lines[offset] : undefined;
    if (!state) throw new HalError(this.device(offset), `offset out of range 0..${this.lines.length - 1}`, { code: 'EINVAL' });
    return state;
  }

  private claim(offset: number): LineState {
    if (this.closed) throw new HalError(this.device(offset), 'chip is closed', { code: 'ENODEV' });
    const state = this.state(offset);
    if (state.mode !== 'free') {
      throw new HalError(this.device(offset), `line already requested by "${state.consumer ?? '?'}"`, { code: 'EBUSY' });
    }
    state.generation++;
    state.listeners = new Set();
    return state;
  }

  private free(state: LineState): void {
    if (state.mode === 'free') return;
    state.mode = 'free';
    state.generation++;
    state.listeners = new Set();
    state.consumer = undefined;
  }

  private handle(offset: number, state: LineState): GpioLine {
    const generation = state.generation;
    const device = this.device(offset);
    const live = (action: string): void => {
      if (state.generation !== generation) throw new HalError(device, `${action} on a released line`, { code: 'EBADF' });
      if (state.fault !== undefined) throw new HalError(device, `${action} failed (injected fault)`, { code: state.fault });
    };
    return {
      offset,
      read: (): GpioLevel => {
        live('read');
        state.reads++;
        return state.level;
      },
      write: (level: GpioLevel): void => {
        live('write');
        if (state.mode !== 'output') throw new HalError(device, 'write to an input line', { code: 'EPERM' });
        state.writes++;
        state.written = level;
        this.settle();
      },
      onEdge: (listener: EdgeListener): Unsubscribe => {
        if (state.generation !== generation) return () => undefined;
        const listeners = state.listeners;
        listeners.add(listener);
        return () => listeners.delete(listener);
      },
      release: (): void => {
        if (state.generation !== generation) return;
        this.free(state);
        this.settle();
      },
    };
  }

  private linkKey(a: number, b: number): string {
    this.state(a);
    this.state(b);
    return a < b ? `${a}:${b}` : `${b}:${a}`;
  }

  /** Recomputes every net's level, records shorts, and queues edge events for the lines that changed. */
  private settle(): void {
    const count = this.lines.length;
    const parent = Array.from({ length: count }, (_, i) => i);
    const find = (i: number): number => {
      let root = i;
      while (parent[root] !== root) root = parent[root] ?? root;
      return root;
    };
    for (const key of this.links.keys()) {
      const [a, b] = key.split(':').map(Number);
      if (a === undefined || b === undefined) continue;
      const ra = find(a);
      const rb = find(b);
      if (ra !== rb) parent[ra] = rb;
    }

    interface Net {
      members: number[];
      low: boolean;
      high: boolean;
      pullUp: boolean;
      pullDown: boolean;
    }
    const nets = new Map<number, Net>();
    this.lines.forEach((s, i) => {
      const root = find(i);
      let net = nets.get(root);
      if (!net) {
        net = { members: [], low: false, high: false, pullUp: false, pullDown: false };
        nets.set(root, net);
      }
      net.members.push(i);
      if (s.external === 0) net.low = true;
      if (s.external === 1) net.high = true;
      if (s.mode === 'output') {
        if (s.written === 0) net.low = true;
        else if (s.drive === 'push-pull') net.high = true;
      }
      if (s.mode === 'input' && s.bias === 'pull-up') net.pullUp = true;
      if (s.mode === 'input' && s.bias === 'pull-down') net.pullDown = true;
    });

    const now = this.clock.now();
    const contended = new Set<string>();
    const changed: number[] = [];
    for (const net of nets.values()) {
      let level: GpioLevel;
      if (net.low && net.high) {
        const key = net.members.join(',');
        contended.add(key);
        if (!this.contended.has(key)) this.contentionLog.push({ atMs: now, offsets: [...net.members] });
        level = 0;
      } else if (net.low) level = 0;
      else if (net.high) level = 1;
      else if (net.pullUp) level = 1;
      else if (net.pullDown) level = 0;
      else level = this.floatingLevel;
      for (const i of net.members) {
        const s = this.lines[i];
        if (s && s.level !== level) {
          s.level = level;
          changed.push(i);
        }
      }
    }
    this.contended = contended;

    const timestampNs = BigInt(Math.round(now * 1e6));
    for (const i of changed.sort((x, y) => x - y)) {
      const s = this.lines[i];
      if (!s) continue;
      for (const l of [...this.levelListeners]) l(i, s.level, now);
      if (s.mode === 'input' && edgeMatches(s.edge, s.level) && s.listeners.size > 0) {
        const event: GpioEdgeEvent = { level: s.level, timestampNs };
        const generation = s.generation;
        const listeners = s.listeners;
        queueMicrotask(() => {
          if (s.generation !== generation) return;
          for (const l of [...listeners]) l(event);
        });
      }
    }
  }
}

function edgeMatches(edge: GpioEdge, level: GpioLevel): boolean {
  return edge === 'both' || (edge === 'rising' && level === 1) || (edge === 'falling' && level === 0);
}
