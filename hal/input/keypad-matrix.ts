// The Keypad driver for a row/column key matrix on GPIO lines: interrupt-driven while idle, scanned while a key is down.
import type { Clock, TimerHandle } from '../../firmware/util/clock.js';
import { Emitter, type Unsubscribe } from '../../firmware/util/emitter.js';
import { silentLogger, type Logger } from '../../firmware/util/log.js';
import type { KeyEvent, KeyName, Keypad } from '../devices.js';
import { HalError } from '../errors.js';
import type { GpioChip, GpioLine } from '../gpio/gpio.js';

/** The usual telephone pads, row by row; the 4x4 pad's fourth column holds the softkeys A-D. */
export const KEYPAD_LAYOUTS = {
  '4x3': [
    ['1', '2', '3'],
    ['4', '5', '6'],
    ['7', '8', '9'],
    ['*', '0', '#'],
  ],
  '4x4': [
    ['1', '2', '3', 'A'],
    ['4', '5', '6', 'B'],
    ['7', '8', '9', 'C'],
    ['*', '0', '#', 'D'],
  ],
} as const satisfies Record<string, readonly (readonly KeyName[])[]>;

export type KeypadLayoutName = keyof typeof KEYPAD_LAYOUTS;

export interface KeypadMatrixOptions {
  chip: GpioChip;
  /** Chip offsets of the row wires, top to bottom (inputs, pulled up). */
  rowPins: readonly number[];
  /** Chip offsets of the column wires, left to right (open-drain outputs). */
  columnPins: readonly number[];
  /** A named layout, or key names row by row (rows × columns must match the pins). */
  layout: KeypadLayoutName | readonly (readonly KeyName[])[];
  clock: Clock;
  /** A key is 'down' once it has read pressed on every scan for this long, 'up' likewise. Default 10 ms. */
  debounceMs?: number;
  /** One 'long' event once a key has been down this long; Infinity disables. Default 1000 ms. */
  longPressMs?: number;
  /** Time between scans while a key is down; debounce resolves to one interval. Default 5 ms. */
  scanIntervalMs?: number;
  /** Time before the next scan after the chip failed one. Default 1000 ms. */
  errorRetryMs?: number;
  log?: Logger;
}

interface KeyState {
  name: KeyName;
  /** Debounced state. */
  down: boolean;
  /** Clock time since which the key has read the opposite of `down` on every scan; undefined when it agrees. */
  disagreeSinceMs: number | undefined;
  downAtMs: number;
  longSent: boolean;
}

type Mode = 'stopped' | 'idle' | 'scanning';

/**
 * Idle: every column is driven low and the rows wait for a falling edge (pull-ups, interrupts), so an
 * idle phone never polls. An edge starts scanning: columns are released (open drain, so two keys in
 * one row cannot short a high column to a low one) and pulled low one at a time while the rows are
 * read, every scanIntervalMs, until every key is up again and reads released; then the columns are
 * driven low again and the driver goes back to waiting for an edge.
 *
 * Ghost keys. Without diodes, when keys at three corners of a rectangle (two rows × two columns) are
 * down, the fourth corner reads pressed too, and a scan cannot tell which of the four is not really
 * pressed. Rule: a key is *ambiguous* while it is a corner of a rectangle whose four corners all read
 * pressed; an ambiguous key keeps its debounced state. So a key already down stays down (no false
 * 'up'), and a key not yet down is not reported while the ambiguity lasts. Holding '1' and '2' and
 * pressing '4' reports neither '4' nor the ghost '5'; when the rectangle opens (say '1' is released),
 * the keys still held are reported as usual, so '4' then goes down.
 *
 * Errors from the chip never escape a timer: they become one 'error' event per failure streak, and the
 * scanner retries after errorRetryMs.
 */
export class KeypadMatrix implements Keypad {
  readonly layout: readonly (readonly KeyName[])[];
  private readonly chip: GpioChip;
  private readonly rowPins: readonly number[];
  private readonly columnPins: readonly number[];
  private readonly clock: Clock;
  private readonly debounceMs: number;
  private readonly longPressMs: number;
  private readonly scanIntervalMs: number;
  private readonly errorRetryMs: number;
  private readonly log: Logger;
  private readonly events = new Emitter<{ key: [KeyEvent]; error: [HalError] }>();
  private readonly keys: KeyState[][];
  private rows: GpioLine[] = [];
  private columns: GpioLine[] = [];
  private edgeSubscriptions: Unsubscribe[] = [];
  private mode: Mode = 'stopped';
  private scanTimer: TimerHandle | undefined;
  private failing = false;

  constructor(options: KeypadMatrixOptions) {
    this.chip = options.chip;
    this.rowPins = [...options.rowPins];
    this.columnPins = [...options.columnPins];
    this.layout = typeof options.layout === 'string' ? KEYPAD_LAYOUTS[options.layout] : options.layout.map((row) => [...row]);
    this.clock = options.clock;
    this.debounceMs = options.debounceMs ?? 10;
    this.longPressMs = options.longPressMs ?? 1000;
    this.scanIntervalMs = options.scanIntervalMs ?? 5;
    this.errorRetryMs = options.errorRetryMs ?? 1000;
    this.log = (options.log ?? silentLogger()).child({ mod: 'hal/input/keypad-matrix' });
    this.validate();
    this.keys = this.layout.map((row) =>
      row.map((name) => ({ name, down: false, disagreeSinceMs: undefined, downAtMs: 0, longSent: false })),
    );
  }

  on(event: 'key', listener: (e: KeyEvent) => void): Unsubscribe;
  on(event: 'error', listener: (e: HalError) => void): Unsubscribe;
  on(event: 'key' | 'error', listener: ((e: KeyEvent) => void) | ((e: HalError) => void)): Unsubscribe {
    if (event === 'key') return this.events.on('key', listener as (e: KeyEvent) => void);
    return this.events.on('error', listener as (e: HalError) => void);
  }

  /** Requests the lines and arms the row interrupts; rejects with a HalError when a line cannot be had. */
  start(): Promise<void> {
    if (this.mode !== 'stopped') return Promise.resolve();
    // A restart begins with every key up, whatever it was at close().
    for (const key of this.keys.flat()) {
      key.down = false;
      key.disagreeSinceMs = undefined;
      key.longSent = false;
    }
    this.failing = false;
    try {
      for (const pin of this.columnPins) {
        this.columns.push(this.chip.requestOutput(pin, { initial: 0, drive: 'open-drain', consumer: 'offhook keypad column' }));
      }
      for (const pin of this.rowPins) {
        const line = this.chip.requestInput(pin, { bias: 'pull-up', edge: 'falling', consumer: 'offhook keypad row' });
        this.rows.push(line);
        this.edgeSubscriptions.push(line.onEdge(() => this.onRowEdge()));
      }
      this.mode = 'idle';
      // A key held at start gave no edge we could see.
      if (this.rows.some((row) => row.read() === 0)) this.beginScanning();
    } catch (err) {
      this.releaseLines();
      this.mode = 'stopped';
      return Promise.reject(HalError.from(this.device, 'start', err));
    }
    this.log.debug({ rows: this.rowPins, columns: this.columnPins }, 'keypad armed');
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.mode = 'stopped';
    this.clock.clearTimeout(this.scanTimer);
    this.scanTimer = undefined;
    this.releaseLines();
    return Promise.resolve();
  }

  private isStopped(): boolean {
    return this.mode === 'stopped';
  }

  private get device(): string {
    return `${this.chip.name} keypad (rows ${this.rowPins.join(',')}, columns ${this.columnPins.join(',')})`;
  }

  private validate(): void {
    const problem = (message: string): HalError => new HalError(this.device, message, { code: 'EINVAL' });
    if (this.rowPins.length === 0 || this.columnPins.length === 0) throw problem('needs at least one row and one column pin');
    if (this.layout.length !== this.rowPins.length) {
      throw problem(`layout has ${this.layout.length} rows but ${this.rowPins.length} row pins are given`);
    }
    for (const [r, row] of this.layout.entries()) {
      if (row.length !== this.columnPins.length) {
        throw problem(`layout row ${r} has ${row.length} keys but ${this.columnPins.length} column pins are given`);
      }
    }
    const pins = [...this.rowPins, ...this.columnPins];
    const duplicate = pins.find((p, i) => pins.indexOf(p) !== i);
    if (duplicate !== undefined) throw problem(`pin ${duplicate} is used twice`);
    const names = this.layout.flat();
    const twice = names.find((n, i) => names.indexOf(n) !== i);
    if (twice !== undefined) throw problem(`key "${twice}" appears twice in the layout`);
    for (const [name, value] of [
      ['debounceMs', this.debounceMs],
      ['longPressMs', this.longPressMs],
      ['scanIntervalMs', this.scanIntervalMs],
      ['errorRetryMs', this.errorRetryMs],
    ] as const) {
      if (!(value >= 0)) throw problem(`${name} must be >= 0, got ${value}`);
    }
    if (this.scanIntervalMs <= 0) throw problem('scanIntervalMs must be > 0');
  }

  private releaseLines(): void {
    for (const unsubscribe of this.edgeSubscriptions) unsubscribe();
    this.edgeSubscriptions = [];
    for (const line of [...this.rows, ...this.columns]) {
      try {
        line.release();
      } catch (err) {
        this.log.warn({ err, offset: line.offset }, 'release failed');
      }
    }
    this.rows = [];
    this.columns = [];
  }

  private onRowEdge(): void {
    // While scanning, our own column writes move the rows; those edges mean nothing.
    if (this.mode === 'idle') this.beginScanning();
  }

  private beginScanning(): void {
    this.mode = 'scanning';
    this.scanTick();
  }

  private scanTick(): void {
    this.scanTimer = undefined;
    if (this.mode !== 'scanning') return;
    let pressed: boolean[][];
    try {
      pressed = this.scanMatrix();
    } catch (err) {
      this.fail(err, 'scan');
      this.schedule(this.errorRetryMs);
      return;
    }
    this.failing = false;
    const now = this.clock.now();
    const ambiguous = ambiguousKeys(pressed);
    const out: KeyEvent[] = [];
    for (const [r, row] of this.keys.entries()) {
      for (const [c, key] of row.entries()) {
        const reading = ambiguous[r]?.[c] === true ? key.down : pressed[r]?.[c] === true;
        this.debounce(key, reading, now, out);
      }
    }
    const settled = this.keys.every((row) => row.every((k) => !k.down && k.disagreeSinceMs === undefined));
    const anyPressed = pressed.some((row) => row.some(Boolean));
    if (settled && !anyPressed) this.rearm();
    else this.schedule(this.scanIntervalMs);
    for (const e of out) {
      this.events.emit('key', e);
      // A listener may have closed the keypad.
      if (this.isStopped()) return;
    }
  }

  private debounce(key: KeyState, reading: boolean, now: number, out: KeyEvent[]): void {
    if (reading === key.down) {
      key.disagreeSinceMs = undefined;
    } else {
      key.disagreeSinceMs ??= now;
      if (now - key.disagreeSinceMs >= this.debounceMs) {
        key.down = reading;
        key.disagreeSinceMs = undefined;
        if (reading) {
          key.downAtMs = now;
          key.longSent = false;
        }
        out.push({ key: key.name, type: reading ? 'down' : 'up', atMs: now });
      }
    }
    // Only while the key still reads pressed: a key read released is on its way up, not held long.
    if (key.down && key.disagreeSinceMs === undefined && !key.longSent && now - key.downAtMs >= this.longPressMs) {
      key.longSent = true;
      out.push({ key: key.name, type: 'long', atMs: now });
    }
  }

  /** One pass over the matrix; true where a key reads pressed. Leaves every column released. */
  private scanMatrix(): boolean[][] {
    for (const column of this.columns) column.write(1);
    const pressed = this.rows.map(() => this.columns.map(() => false));
    for (const [c, column] of this.columns.entries()) {
      column.write(0);
      for (const [r, row] of this.rows.entries()) {
        const cells = pressed[r];
        if (cells) cells[c] = row.read() === 0;
      }
      column.write(1);
    }
    return pressed;
  }

  /** Back to interrupts: all columns low, so any key pulls its row down and raises a falling edge. */
  private rearm(): void {
    try {
      for (const column of this.columns) column.write(0);
      this.mode = 'idle';
      // A key pressed since the last scan made no edge we listened for; scan again, on a timer so that a
      // row stuck low cannot loop here.
      if (this.rows.some((row) => row.read() === 0)) {
        this.mode = 'scanning';
        this.schedule(this.scanIntervalMs);
      }
    } catch (err) {
      this.mode = 'scanning';
      this.fail(err, 'rearm');
      this.schedule(this.errorRetryMs);
    }
  }

  private schedule(delayMs: number): void {
    this.clock.clearTimeout(this.scanTimer);
    this.scanTimer = this.clock.setTimeout(() => this.scanTick(), delayMs);
  }

  private fail(err: unknown, action: string): void {
    const error = HalError.from(this.device, action, err);
    if (this.failing) {
      this.log.debug({ err: error }, 'keypad still failing');
      return;
    }
    this.failing = true;
    this.log.warn({ err: error }, 'keypad scan failed');
    this.events.emit('error', error);
  }
}

/** Marks every key that is a corner of a rectangle whose four corners all read pressed (see the class comment). */
function ambiguousKeys(pressed: readonly (readonly boolean[])[]): boolean[][] {
  const marks = pressed.map((row) => row.map(() => false));
  const at = (r: number, c: number): boolean => pressed[r]?.[c] === true;
  const mark = (r: number, c: number): void => {
    const row = marks[r];
    if (row) row[c] = true;
  };
  const columns = pressed[0]?.length ?? 0;
  for (let r1 = 0; r1 < pressed.length; r1++) {
    for (let r2 = r1 + 1; r2 < pressed.length; r2++) {
      for (let c1 = 0; c1 < columns; c1++) {
        for (let c2 = c1 + 1; c2 < columns; c2++) {
          if (at(r1, c1) && at(r1, c2) && at(r2, c1) && at(r2, c2)) {
            mark(r1, c1);
            mark(r1, c2);
            mark(r2, c1);
            mark(r2, c2);
          }
        }
      }
    }
  }
  return marks;
}
