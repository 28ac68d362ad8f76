// SSD1306 OLED (128x64 or 128x32) on I2C as a TextDisplay: 6x8 text cells, custom glyphs, only changed cells sent.
import { silentLogger, type Logger } from '../../firmware/util/log.js';
import type { DisplayCapabilities, TextDisplay } from '../devices.js';
import { HalError } from '../errors.js';
import type { I2cBus } from '../i2c/i2c-bus.js';
import { glyphError } from './glyphs.js';
import { FONT_6X8, type Font6x8 } from './font-6x8.js';

export interface Ssd1306Options {
  bus: I2cBus;
  /** 7-bit address: 0x3C, or 0x3D with SA0 high. */
  address: number;
  /** 64 → 8 rows of 21 characters; 32 → 4 rows of 21. Rows are numbered from 0 (top). */
  height: 64 | 32;
  log?: Logger;
  /** Default the built-in FONT_6X8. */
  font?: Font6x8;
  /** 0..255. Default 0x8F. */
  contrast?: number;
}

const WIDTH = 128;
const CELL_WIDTH = 6;
const COLUMNS = Math.floor(WIDTH / CELL_WIDTH); // 21 cells; the last 2 pixel columns stay dark
// Control bytes (datasheet §8.1.5.2): Co = bit 7, D/C# = bit 6.
const COMMAND_STREAM = 0x00;
const ONE_COMMAND = 0x80;
const DATA_STREAM = 0x40;
const DISPLAY_OFF = 0xae;
const DISPLAY_ON = 0xaf;
/** Unchanged cells between two changed ones that are cheaper to resend than a new window (12 bytes). */
const MERGE_GAP_CELLS = 2;

/** A custom glyph (8 rows of 5 bits, MSB left) as the 6 column bytes of a cell, drawn in columns 0..4. */
function glyphColumns(rows: readonly number[]): number[] {
  return [4, 3, 2, 1, 0, -1].map((bit) => (bit < 0 ? 0 : rows.reduce((byte, bits, r) => ((bits >> bit) & 1 ? byte | (1 << r) : byte), 0)));
}

/**
 * The driver. Text rows are GDDRAM pages; each character is a 6x8 cell rendered from the font or
 * from a custom glyph (slot n = U+000n). A shadow of the text area decides which cells to send;
 * each run of changed cells goes as one transfer that sets the column/page window and streams the
 * bytes. After a bus failure the shadow is dropped: the next call initialises and redraws everything.
 *
 * setBacklight: an OLED has no backlight. setBacklight(false) switches the panel off (0xAE, sleep
 * mode: dark, GDDRAM kept, a few µA) and setBacklight(true) back on (0xAF), so capabilities.backlight
 * is true: it is what the phone means by "backlight off" (dark screen while idle), and it also spares
 * the OLED from burn-in.
 */
export class Ssd1306Display implements TextDisplay {
  readonly name: string;
  readonly capabilities: DisplayCapabilities;
  private readonly bus: I2cBus;
  private readonly address: number;
  private readonly height: 64 | 32;
  private readonly log: Logger;
  private readonly font: Font6x8;
  private readonly contrast: number;
  private readonly wanted: string[][];
  private readonly glyphs: (readonly number[] | undefined)[] = Array<undefined>(8).fill(undefined);
  private wantedOn = true;
  /** What GDDRAM holds in the text area, page by page; undefined = unknown. */
  private shown: Uint8Array | undefined;
  private shownOn: boolean | undefined;
  private tail: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(options: Ssd1306Options) {
    if (![64, 32].includes(options.height)) throw new RangeError(`height: expected 64 or 32, got ${String(options.height)}`);
    if (!Number.isInteger(options.address) || options.address < 0x03 || options.address > 0x77) {
      throw new RangeError(`address: expected a 7-bit address 0x03..0x77, got ${String(options.address)}`);
    }
    const contrast = options.contrast ?? 0x8f;
    if (!Number.isInteger(contrast) || contrast < 0 || contrast > 0xff) throw new RangeError(`contrast: expected 0..255, got ${contrast}`);
    this.bus = options.bus;
    this.address = options.address;
    this.height = options.height;
    this.font = options.font ?? FONT_6X8;
    this.contrast = contrast;
    this.name = `${this.bus.name}@0x${this.address.toString(16).padStart(2, '0')} (ssd1306)`;
    this.log = (options.log ?? silentLogger()).child({ mod: 'hal/display/ssd1306', device: this.name });
    const rows = this.height / 8;
    this.capabilities = { columns: COLUMNS, rows, customCharacters: 8, backlight: true, glyphWidth: 5, glyphHeight: 8 };
    this.wanted = Array.from({ length: rows }, () => Array<string>(COLUMNS).fill(' '));
  }

  init(): Promise<void> {
    return this.serialized(() => this.initialise());
  }

  writeLine(row: number, text: string): Promise<void> {
    if (!Number.isInteger(row) || row < 0 || row >= this.capabilities.rows) {
      return Promise.reject(new RangeError(`row: expected 0..${this.capabilities.rows - 1}, got ${row}`));
    }
    const cells = Array<string>(COLUMNS).fill(' ');
    let col = 0;
    for (const ch of text) {
      if (col >= COLUMNS) break;
      cells[col++] = ch;
    }
    this.wanted[row] = cells;
    return this.update('write line');
  }

  clear(): Promise<void> {
    for (const row of this.wanted) row.fill(' ');
    return this.update('clear');
  }

  defineGlyph(slot: number, rows: readonly number[]): Promise<void> {
    const invalid = glyphError(slot, rows);
    if (invalid) return Promise.reject(invalid);
    this.glyphs[slot] = [...rows];
    // Cells showing the slot are re-rendered by the diff: no bytes when nothing shows it.
    return this.update('define glyph');
  }

  setBacklight(on: boolean): Promise<void> {
    this.wantedOn = on;
    return this.update('set backlight');
  }

  /** Stops the driver; the bus belongs to whoever opened it and stays open. */
  close(): Promise<void> {
    return this.serialized(() => {
      this.closed = true;
      return Promise.resolve();
    });
  }

  // ---- internals ----

  private update(action: string): Promise<void> {
    return this.serialized(async () => {
      if (!this.shown) await this.initialise();
      else await this.flush(action);
    });
  }

  private serialized<T>(op: () => Promise<T>): Promise<T> {
    const guarded = (): Promise<T> => {
      if (this.closed) return Promise.reject(new HalError(this.name, 'display is closed', { code: 'EBADF' }));
      return op();
    };
    const result = this.tail.then(guarded, guarded);
    this.tail = result.catch(() => undefined);
    return result;
  }

  /** The 6 column bytes of one cell. */
  private cell(ch: string): readonly number[] {
    const code = ch.codePointAt(0) ?? 0x3f;
    if (code <= 0x07) {
      const rows = this.glyphs[code];
      return rows ? glyphColumns(rows) : [0, 0, 0, 0, 0, 0];
    }
    return this.font.glyph(ch) ?? this.font.glyph('?') ?? [0, 0, 0, 0, 0, 0];
  }

  /** The text area as GDDRAM bytes, pages 0..rows-1. */
  private render(): Uint8Array {
    const frame = new Uint8Array(this.capabilities.rows * WIDTH);
    this.wanted.forEach((row, page) => {
      row.forEach((ch, col) => {
        frame.set(this.cell(ch), page * WIDTH + col * CELL_WIDTH);
      });
    });
    return frame;
  }

  /**
   * Datasheet §8.9 / the application note's software initialisation, with the internal charge pump
   * that the common modules rely on. The whole frame follows in the same breath.
   */
  private async initialise(): Promise<void> {
    this.shown = undefined;
    this.shownOn = undefined;
    const pages = this.capabilities.rows;
    const setup = [
      COMMAND_STREAM,
      DISPLAY_OFF,
      ...[0xd5, 0x80], // clock: divide ratio 1, oscillator at its reset value
      ...[0xa8, this.height - 1], // multiplex ratio = panel rows
      ...[0xd3, 0x00], // no display offset
      0x40, // display start line 0
      ...[0x8d, 0x14], // charge pump on: required before 0xAF on modules without an external VCC
      ...[0x20, 0x00], // horizontal addressing: one window + one stream per run of cells
      0xa1, // segment remap: column 0 on the left of the common modules
      0xc8, // COM scan from COM[N-1]: row 0 on top
      ...[0xda, this.height === 64 ? 0x12 : 0x02], // COM pins: alternative for 64 rows, sequential for 32
      ...[0x81, this.contrast],
      ...[0xd9, 0xf1], // pre-charge 15/1 DCLK, as for the internal charge pump
      ...[0xdb, 0x40], // VCOMH deselect level
      0xa4, // show GDDRAM
      0xa6, // not inverted
      0x2e, // no scrolling (GDDRAM must not be written while scrolling)
      ...[0x21, 0, WIDTH - 1],
      ...[0x22, 0, pages - 1],
    ];
    await this.send('initialise', setup);
    const frame = this.render();
    await this.send('initialise', [DATA_STREAM, ...frame]);
    await this.send('initialise', [COMMAND_STREAM, this.wantedOn ? DISPLAY_ON : DISPLAY_OFF]);
    this.shown = frame;
    this.shownOn = this.wantedOn;
    this.log.debug('initialised');
  }

  /** Sends each run of changed cells as one transfer: window command bytes (Co = 1), then a data stream. */
  private async flush(action: string): Promise<void> {
    const shown = this.shown;
    if (!shown) return;
    const frame = this.render();
    for (let page = 0; page < this.capabilities.rows; page++) {
      const changed: number[] = [];
      for (let col = 0; col < COLUMNS; col++) {
        const at = page * WIDTH + col * CELL_WIDTH;
        for (let x = 0; x < CELL_WIDTH; x++) {
          if (frame[at + x] !== shown[at + x]) {
            changed.push(col);
            break;
          }
        }
      }
      const runs: [number, number][] = [];
      for (const col of changed) {
        const last = runs.at(-1);
        if (last && col - last[1] - 1 <= MERGE_GAP_CELLS) last[1] = col;
        else runs.push([col, col]);
      }
      for (const [first, last] of runs) {
        const x0 = first * CELL_WIDTH;
        const x1 = last * CELL_WIDTH + CELL_WIDTH - 1;
        const window = [0x21, x0, x1, 0x22, page, page].flatMap((b) => [ONE_COMMAND, b]);
        const bytes = frame.subarray(page * WIDTH + x0, page * WIDTH + x1 + 1);
        await this.send(action, [...window, DATA_STREAM, ...bytes]);
        shown.set(bytes, page * WIDTH + x0);
      }
    }
    if (this.shownOn !== this.wantedOn) {
      await this.send(action, [COMMAND_STREAM, this.wantedOn ? DISPLAY_ON : DISPLAY_OFF]);
      this.shownOn = this.wantedOn;
    }
  }

  private async send(action: string, bytes: readonly number[]): Promise<void> {
    try {
      await this.bus.write(this.address, Uint8Array.from(bytes));
    } catch (err) {
      this.shown = undefined;
      this.shownOn = undefined;
      const error = this.halError(action, err);
      this.log.debug({ err: error }, `${action} failed`);
      throw error;
    }
  }

  private halError(action: string, err: unknown): HalError {
    if (!(err instanceof HalError)) return HalError.from(this.name, action, err);
    const suffix = err.code ? ` (${err.code})` : '';
    const detail = suffix && err.message.endsWith(suffix) ? err.message.slice(0, -suffix.length) : err.message;
    return new HalError(this.name, `${action} failed: ${detail}`, { code: err.code, cause: err });
  }
}
