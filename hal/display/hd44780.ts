// HD44780 character LCD behind a PCF8574 I2C backpack, as a TextDisplay that sends only what changed.
import type { Clock } from '../../firmware/util/clock.js';
import { silentLogger, type Logger } from '../../firmware/util/log.js';
import type { DisplayCapabilities, TextDisplay } from '../devices.js';
import { HalError } from '../errors.js';
import type { I2cBus } from '../i2c/i2c-bus.js';
import { glyphError } from './glyphs.js';
import { checkPcf8574Pins, type Pcf8574LcdPins } from './pcf8574-pins.js';

export interface Hd44780Options {
  bus: I2cBus;
  /** 7-bit address: 0x27 (PCF8574) or 0x3F (PCF8574A) with A0..A2 open. */
  address: number;
  /** 16 or 20 (8..40 accepted). */
  columns: number;
  /** 1, 2 or 4. Rows are numbered from 0: writeLine(0, ...) is the top row. */
  rows: number;
  pins: Pcf8574LcdPins;
  clock: Clock;
  log?: Logger;
  /**
   * Wait before the first instruction of init(). Datasheet, Figure 24: more than 40 ms after VCC
   * rises to 2.7 V; the LCD and the board power up together, so init() always waits. Default 50.
   */
  powerOnDelayMs?: number;
  /** Backlight state until setBacklight() says otherwise. Default on. */
  backlight?: boolean;
}

// HD44780U datasheet, Table 6 (instructions).
const CLEAR_DISPLAY = 0x01;
const ENTRY_MODE_INCREMENT = 0x06; // I/D = 1 (cursor moves right), S = 0 (display does not shift)
const DISPLAY_OFF = 0x08;
const DISPLAY_ON = 0x0c; // D = 1, cursor and blink off
const FUNCTION_SET_4BIT = 0x20;
const FUNCTION_SET_2LINES = 0x08;
const SET_CGRAM_ADDRESS = 0x40;
const SET_DDRAM_ADDRESS = 0x80;
// Datasheet, Figure 24: the nibbles of the 4-bit initialisation and the waits after them.
const INIT_NIBBLE_8BIT = 0x3;
const INIT_NIBBLE_4BIT = 0x2;
const INIT_WAIT_1_MS = 5; // > 4.1 ms
const INIT_WAIT_2_MS = 1; // > 100 µs (a real timer cannot wait less than 1 ms anyway)
/**
 * Clear display and return home run 1.52 ms and the driver never reads the busy flag, so a write
 * ends after them and the next one waits. The other instructions run in 37 µs; one PCF8574 byte
 * takes 90 µs at 100 kHz and each nibble takes two, so instructions inside one write are far enough
 * apart without a wait.
 */
const CLEAR_DELAY_MS = 2;
const BLANK = 0x20;
/** Above this many visible characters, clear() uses the clear instruction rather than writing spaces. */
const CLEAR_INSTRUCTION_THRESHOLD = 8;

/** Characters of ROM code A00 beyond plain ASCII (datasheet, Table 4). */
const ROM_A00: ReadonlyMap<string, number> = new Map([
  ['¥', 0x5c],
  ['→', 0x7e],
  ['←', 0x7f],
  ['°', 0xdf],
  ['α', 0xe0],
  ['ä', 0xe1],
  ['β', 0xe2],
  ['ε', 0xe3],
  ['μ', 0xe4],
  ['µ', 0xe4], // MICRO SIGN, the one keyboards type
  ['σ', 0xe5],
  ['ρ', 0xe6],
  ['√', 0xe8],
  ['ñ', 0xee],
  ['ö', 0xef],
  ['θ', 0xf2],
  ['∞', 0xf3],
  ['Ω', 0xf4],
  ['ü', 0xf5],
  ['Σ', 0xf6],
  ['π', 0xf7],
  ['÷', 0xfd],
  ['█', 0xff],
]);

/** One character of text → the code the LCD shows it with; '?' when ROM A00 has no such character. */
function characterCode(ch: string): number {
  const cp = ch.codePointAt(0) ?? 0x3f;
  if (cp <= 0x07) return cp; // CGRAM slot n
  // A00 shows ¥ at 0x5C and arrows at 0x7E/0x7F, so backslash and tilde have no code.
  if (cp >= 0x20 && cp <= 0x7d && cp !== 0x5c) return cp;
  return ROM_A00.get(ch) ?? 0x3f;
}

/** The bytes of one write to the backpack: each nibble is an E pulse on the PCF8574 outputs. */
class BackpackStream {
  readonly bytes: number[] = [];
  private readonly dataPins: readonly number[];

  constructor(
    private readonly pins: Pcf8574LcdPins,
    private readonly backlightBits: number,
    /** The port as the previous write left it; undefined when unknown. */
    public port: number | undefined,
  ) {
    this.dataPins = [pins.d4, pins.d5, pins.d6, pins.d7];
  }

  /** The port with E low, RW low (write), the given RS and data nibble. */
  base(rs: boolean, nibble: number): number {
    let value = this.backlightBits | (rs ? 1 << this.pins.rs : 0);
    this.dataPins.forEach((pin, i) => {
      if ((nibble >> i) & 1) value |= 1 << pin;
    });
    return value;
  }

  raw(value: number): void {
    this.bytes.push(value);
    this.port = value;
  }

  nibble(nibble: number, rs: boolean): void {
    const base = this.base(rs, nibble);
    const e = 1 << this.pins.e;
    const rsRw = (1 << this.pins.rs) | (1 << this.pins.rw);
    // RS must settle before E rises (datasheet, bus timing: tAS), so a change of RS gets its own byte.
    if (this.port === undefined || (this.port & e) !== 0 || (this.port & rsRw) !== (base & rsRw)) this.raw(base);
    // Data is set with E high and held while E falls: the chip latches it on the falling edge.
    this.raw(base | e);
    this.raw(base);
  }

  instruction(byte: number): void {
    this.nibble(byte >> 4, false);
    this.nibble(byte & 0x0f, false);
  }

  data(byte: number): void {
    this.nibble(byte >> 4, true);
    this.nibble(byte & 0x0f, true);
  }
}

/**
 * The driver. It keeps a shadow of what the LCD shows and, on each call, sends one I2C write with
 * only the changed cells (the PCF8574 latches every byte, so one transaction carries a whole batch);
 * it splits a batch only where the datasheet needs a wait. After a bus failure the shadow is
 * dropped, so the next call initialises the LCD again and redraws everything.
 */
export class Hd44780Display implements TextDisplay {
  readonly name: string;
  readonly capabilities: DisplayCapabilities;
  private readonly bus: I2cBus;
  private readonly address: number;
  private readonly pins: Pcf8574LcdPins;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly powerOnDelayMs: number;
  private readonly rowStarts: readonly number[];
  private readonly wanted: Uint8Array[];
  private readonly wantedGlyphs: (readonly number[] | undefined)[] = Array<undefined>(8).fill(undefined);
  private wantedBacklight: boolean;
  // The shadow of the device; undefined = unknown (never initialised, or after a failure).
  private shown: Uint8Array[] | undefined;
  private shownGlyphs: (readonly number[] | undefined)[] = Array<undefined>(8).fill(undefined);
  private shownBacklight: boolean | undefined;
  private port: number | undefined;
  /** Where the address counter points in DDRAM; undefined when unknown or pointing into CGRAM. */
  private cursor: number | undefined;
  private tail: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(options: Hd44780Options) {
    const { columns, rows } = options;
    if (!Number.isInteger(columns) || columns < 8 || columns > 40) throw new RangeError(`columns: expected 8..40, got ${columns}`);
    if (![1, 2, 4].includes(rows)) throw new RangeError(`rows: expected 1, 2 or 4, got ${rows}`);
    if (rows === 4 && columns > 20) throw new RangeError('a 4-row module has at most 20 columns');
    if (!Number.isInteger(options.address) || options.address < 0x03 || options.address > 0x77) {
      throw new RangeError(`address: expected a 7-bit address 0x03..0x77, got ${String(options.address)}`);
    }
    this.bus = options.bus;
    this.address = options.address;
    this.pins = checkPcf8574Pins(options.pins);
    this.clock = options.clock;
    this.powerOnDelayMs = options.powerOnDelayMs ?? 50;
    this.wantedBacklight = options.backlight ?? true;
    this.name = `${this.bus.name}@0x${this.address.toString(16).padStart(2, '0')} (hd44780)`;
    this.log = (options.log ?? silentLogger()).child({ mod: 'hal/display/hd44780', device: this.name });
    this.capabilities = { columns, rows, customCharacters: 8, backlight: true, glyphWidth: 5, glyphHeight: 8 };
    // Datasheet, "Display Data RAM": rows 3 and 4 of a 4-line module continue lines 1 and 2.
    this.rowStarts = [0x00, 0x40, columns, 0x40 + columns];
    this.wanted = Array.from({ length: rows }, () => new Uint8Array(columns).fill(BLANK));
  }

  /** Runs the datasheet's 4-bit initialisation, then restores glyphs, backlight and text. */
  init(): Promise<void> {
    return this.serialized(() => this.initialise());
  }

  writeLine(row: number, text: string): Promise<void> {
    if (!Number.isInteger(row) || row < 0 || row >= this.capabilities.rows) {
      return Promise.reject(new RangeError(`row: expected 0..${this.capabilities.rows - 1}, got ${row}`));
    }
    const codes = new Uint8Array(this.capabilities.columns).fill(BLANK);
    let col = 0;
    for (const ch of text) {
      if (col >= codes.length) break;
      codes[col++] = characterCode(ch);
    }
    this.wanted[row] = codes;
    return this.serialized(async () => {
      await this.ensureReady();
      await this.flush('write line');
    });
  }

  clear(): Promise<void> {
    for (const row of this.wanted) row.fill(BLANK);
    return this.serialized(async () => {
      await this.ensureReady();
      const shown = this.shown ?? [];
      const visible = shown.reduce((n, row) => n + row.filter((c) => c !== BLANK).length, 0);
      if (visible > CLEAR_INSTRUCTION_THRESHOLD) {
        const stream = this.stream();
        stream.instruction(CLEAR_DISPLAY);
        await this.send('clear', stream);
        for (const row of shown) row.fill(BLANK);
        this.cursor = 0;
        await this.clock.sleep(CLEAR_DELAY_MS);
      }
      await this.flush('clear');
    });
  }

  defineGlyph(slot: number, rows: readonly number[]): Promise<void> {
    const invalid = glyphError(slot, rows);
    if (invalid) return Promise.reject(invalid);
    this.wantedGlyphs[slot] = [...rows];
    return this.serialized(async () => {
      await this.ensureReady();
      await this.flush('define glyph');
    });
  }

  setBacklight(on: boolean): Promise<void> {
    this.wantedBacklight = on;
    return this.serialized(async () => {
      await this.ensureReady();
      await this.flush('set backlight');
    });
  }

  /** Stops the driver; the bus belongs to whoever opened it and stays open. */
  close(): Promise<void> {
    return this.serialized(() => {
      this.closed = true;
      return Promise.resolve();
    });
  }

  // ---- internals ----

  /** One operation at a time: init sleeps between writes and nothing may interleave with it. */
  private serialized<T>(op: () => Promise<T>): Promise<T> {
    const guarded = (): Promise<T> => {
      if (this.closed) return Promise.reject(new HalError(this.name, 'display is closed', { code: 'EBADF' }));
      return op();
    };
    const result = this.tail.then(guarded, guarded);
    this.tail = result.catch(() => undefined);
    return result;
  }

  private async ensureReady(): Promise<void> {
    if (!this.shown) await this.initialise();
  }

  private backlightBits(on: boolean): number {
    return on !== this.pins.backlightActiveLow ? 1 << this.pins.backlight : 0;
  }

  private stream(): BackpackStream {
    return new BackpackStream(this.pins, this.backlightBits(this.wantedBacklight), this.port);
  }

  /** Datasheet, Figure 24 "4-Bit Interface" (initialising by instruction). */
  private async initialise(): Promise<void> {
    this.invalidate();
    const startMs = this.clock.now();
    // E low, backlight as wanted: also the probe that fails fast when nobody answers.
    const probe = this.stream();
    probe.raw(probe.base(false, 0));
    await this.send('initialise', probe);
    this.shownBacklight = this.wantedBacklight;
    await this.clock.sleep(this.powerOnDelayMs);

    // Whatever state the chip is in (8-bit, or 4-bit half way through a byte), 0x3 0x3 0x3 brings
    // it to 8-bit mode and 0x2 then to 4-bit mode.
    const first = this.stream();
    first.nibble(INIT_NIBBLE_8BIT, false);
    await this.send('initialise', first);
    await this.clock.sleep(INIT_WAIT_1_MS);
    const second = this.stream();
    second.nibble(INIT_NIBBLE_8BIT, false);
    await this.send('initialise', second);
    await this.clock.sleep(INIT_WAIT_2_MS);

    const setup = this.stream();
    setup.nibble(INIT_NIBBLE_8BIT, false);
    setup.nibble(INIT_NIBBLE_4BIT, false);
    setup.instruction(FUNCTION_SET_4BIT | (this.capabilities.rows > 1 ? FUNCTION_SET_2LINES : 0));
    setup.instruction(DISPLAY_OFF);
    setup.instruction(CLEAR_DISPLAY);
    await this.send('initialise', setup);
    await this.clock.sleep(CLEAR_DELAY_MS);

    const start = this.stream();
    start.instruction(ENTRY_MODE_INCREMENT);
    start.instruction(DISPLAY_ON);
    await this.send('initialise', start);
    this.shown = this.wanted.map((row) => new Uint8Array(row.length).fill(BLANK));
    this.cursor = 0;
    // Glyphs and text wanted before a failure come back with the next flush.
    await this.flush('initialise');
    this.log.debug({ tookMs: this.clock.now() - startMs }, 'initialised');
  }

  /** Sends, in one write, the glyphs, text cells and backlight that differ from the shadow. */
  private async flush(action: string): Promise<void> {
    const shown = this.shown;
    if (!shown) return;
    const stream = this.stream();
    const glyphs = [...this.shownGlyphs];
    let cgramAddress: number | undefined;
    let cursor = this.cursor;
    this.wantedGlyphs.forEach((rows, slot) => {
      const current = glyphs[slot];
      if (!rows || (current && current.every((r, i) => r === rows[i]))) return;
      // CGRAM address = slot * 8 (datasheet, Table 5); consecutive slots continue without a new address.
      if (cgramAddress !== slot * 8) stream.instruction(SET_CGRAM_ADDRESS | (slot * 8));
      for (const r of rows) stream.data(r);
      cgramAddress = slot * 8 + 8;
      cursor = undefined;
      glyphs[slot] = rows;
    });

    const cells: { address: number; row: number; col: number; code: number }[] = [];
    this.wanted.forEach((row, r) => {
      const rowShown = shown[r];
      row.forEach((code, c) => {
        if (rowShown?.[c] !== code) cells.push({ address: (this.rowStarts[r] ?? 0) + c, row: r, col: c, code });
      });
    });
    // In address order a 20x4 runs row 0, row 2, row 1, row 3 without a single address jump.
    cells.sort((a, b) => a.address - b.address);
    for (const cell of cells) {
      if (cursor !== cell.address) stream.instruction(SET_DDRAM_ADDRESS | cell.address);
      stream.data(cell.code);
      cursor = this.nextAddress(cell.address);
    }

    if (this.shownBacklight !== this.wantedBacklight && stream.bytes.length === 0) {
      // Only the backlight changed: one byte with E low moves the backlight bit.
      stream.raw(stream.base(false, 0));
    }
    if (stream.bytes.length === 0) return;
    await this.send(action, stream);
    this.shownGlyphs = glyphs;
    for (const cell of cells) {
      const row = shown[cell.row];
      if (row) row[cell.col] = cell.code;
    }
    this.cursor = cursor;
    this.shownBacklight = this.wantedBacklight;
  }

  /** The address counter after a write at `address` (I/D = 1): 0x27 → 0x40 and 0x67 → 0x00 in 2-line mode. */
  private nextAddress(address: number): number {
    if (this.capabilities.rows === 1) return (address + 1) % 80;
    if (address === 0x27) return 0x40;
    if (address === 0x67) return 0x00;
    return address + 1;
  }

  private async send(action: string, stream: BackpackStream): Promise<void> {
    try {
      await this.bus.write(this.address, Uint8Array.from(stream.bytes));
    } catch (err) {
      this.invalidate();
      const error = this.halError(action, err);
      this.log.debug({ err: error }, `${action} failed`);
      throw error;
    }
    this.port = stream.port;
  }

  /** Forget the shadow: what the LCD shows is unknown until the next initialisation. */
  private invalidate(): void {
    this.shown = undefined;
    this.shownGlyphs = Array<undefined>(8).fill(undefined);
    this.shownBacklight = undefined;
    this.port = undefined;
    this.cursor = undefined;
  }

  private halError(action: string, err: unknown): HalError {
    if (!(err instanceof HalError)) return HalError.from(this.name, action, err);
    const suffix = err.code ? ` (${err.code})` : '';
    const detail = suffix && err.message.endsWith(suffix) ? err.message.slice(0, -suffix.length) : err.message;
    return new HalError(this.name, `${action} failed: ${detail}`, { code: err.code, cause: err });
  }
}
