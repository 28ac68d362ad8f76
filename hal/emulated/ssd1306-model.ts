// An emulated SSD1306 OLED controller on I2C (128x64 or 128x32): command decoding, GDDRAM and what the panel shows.
import type { Font6x8 } from '../display/font-6x8.js';
import type { I2cDeviceModel } from './emulated-i2c-bus.js';

export interface Ssd1306ModelOptions {
  /** Panel rows: 64 or 32 (always 128 columns). */
  height: 64 | 32;
}

export type Ssd1306AddressingMode = 'horizontal' | 'vertical' | 'page';

export interface TextRowsOptions {
  /**
   * Extra cells to recognise, e.g. the custom glyphs a driver defined: the text to return for the
   * cell → 8 rows of 5 bits (MSB left), drawn in the left 5 columns of the 6-pixel cell.
   */
  glyphs?: ReadonlyMap<string, readonly number[]>;
}

const WIDTH = 128;
const PAGES = 8;
/** Datasheet, Table 9-1 (command table): argument bytes that follow each multi-byte command. */
const ARGUMENTS: ReadonlyMap<number, number> = new Map([
  [0x81, 1], // contrast
  [0x20, 1], // memory addressing mode
  [0x21, 2], // column address range
  [0x22, 2], // page address range
  [0xa8, 1], // multiplex ratio
  [0xd3, 1], // display offset
  [0xda, 1], // COM pins hardware configuration
  [0xd5, 1], // clock divide ratio / oscillator frequency
  [0xd9, 1], // pre-charge period
  [0xdb, 1], // VCOMH deselect level
  [0x8d, 1], // charge pump (application note: 0x14 on, 0x10 off)
  [0x26, 6], // right horizontal scroll set-up
  [0x27, 6], // left horizontal scroll set-up
  [0x29, 5], // vertical and right horizontal scroll set-up
  [0x2a, 5], // vertical and left horizontal scroll set-up
  [0xa3, 2], // vertical scroll area
]);

function hex(byte: number): string {
  return `0x${byte.toString(16).padStart(2, '0')}`;
}

/**
 * The controller as a driver sees it over I2C (datasheet §8.1.5.2): after the address, a control
 * byte with Co (bit 7) and D/C# (bit 6); Co = 0 means the rest of the transfer is one stream of
 * commands (0x00) or of GDDRAM data (0x40), Co = 1 means one byte and then another control byte.
 * Test side: pixel(x, y) as a viewer sees it, ram(), displayOn, violations, textRows(font).
 */
export class Ssd1306Model implements I2cDeviceModel {
  readonly width = WIDTH;
  readonly height: 64 | 32;
  private readonly gddram = new Uint8Array(WIDTH * PAGES);
  private readonly violationList: string[] = [];
  private bytes = 0;
  /** A command waiting for its argument bytes (commands may span control bytes and transfers). */
  private pending: { command: number; args: number[]; needed: number } | undefined;

  // Reset values, datasheet Table 9-1.
  private on = false;
  private contrastValue = 0x7f;
  private inverse = false;
  private entireOn = false;
  private mode: Ssd1306AddressingMode = 'page';
  private columnStart = 0;
  /** Page addressing mode keeps its own column start (commands 0x00..0x1F), where the pointer wraps to. */
  private pageModeColumnStart = 0;
  private columnEnd = WIDTH - 1;
  private pageStart = 0;
  private pageEnd = PAGES - 1;
  private column = 0;
  private page = 0;
  private mux = 64;
  private offset = 0;
  private startLine = 0;
  private segmentRemap = false;
  private comReversed = false;
  private comPins = 0x12;
  private chargePump = false;
  private scrolling = false;

  constructor(options: Ssd1306ModelOptions) {
    if (![64, 32].includes(options.height)) throw new RangeError(`height: expected 64 or 32, got ${String(options.height)}`);
    this.height = options.height;
  }

  // ---- I2cDeviceModel ----

  write(data: Uint8Array): void {
    this.bytes += data.length;
    let i = 0;
    while (i < data.length) {
      const control = data[i++] ?? 0;
      if ((control & 0x3f) !== 0) this.violation(`control byte ${hex(control)}: bits 5..0 must be 0`);
      const isData = (control & 0x40) !== 0;
      const single = (control & 0x80) !== 0;
      const end = single ? Math.min(i + 1, data.length) : data.length;
      for (; i < end; i++) {
        const byte = data[i] ?? 0;
        if (isData) this.writeRam(byte);
        else this.command(byte);
      }
    }
  }

  /** Datasheet §8.1.5.2: a read returns the status byte; bit 6 set = display off. */
  read(length: number): Uint8Array {
    return new Uint8Array(length).fill(this.on ? 0x00 : 0x40);
  }

  // ---- test side ----

  /**
   * The pixel a viewer sees at (x, y), (0, 0) top left. Modelled on the common modules, whose
   * panel reads upright with segment remap (0xA1) and reversed COM scan (0xC8); the other settings
   * mirror the picture. Dark while the display is off or the charge pump (the only supply of the
   * common modules) is off.
   */
  pixel(x: number, y: number): boolean {
    if (!Number.isInteger(x) || x < 0 || x >= WIDTH || !Number.isInteger(y) || y < 0 || y >= this.height) {
      throw new RangeError(`pixel (${x}, ${y}) is outside the ${WIDTH}x${this.height} panel`);
    }
    if (!this.lit) return false;
    if (this.entireOn) return true;
    if (y >= this.mux) return false;
    const row = this.comReversed ? y : this.mux - 1 - y;
    const ramRow = (row + this.startLine + this.offset) % (PAGES * 8);
    const column = this.segmentRemap ? x : WIDTH - 1 - x;
    const bit = (((this.gddram[(ramRow >> 3) * WIDTH + column] ?? 0) >> (ramRow & 7)) & 1) === 1;
    return bit !== this.inverse;
  }

  /** One GDDRAM byte: 8 vertical pixels of `page` at `column`, bit 0 on top. */
  ram(column: number, page: number): number {
    return this.gddram[page * WIDTH + column] ?? 0;
  }

  /**
   * Reads the screen back as text: each 6x8 cell (21 per row, one row per 8 pixels) is matched
   * against the font and the extra glyphs; a cell that matches nothing reads as U+FFFD.
   */
  textRows(font: Font6x8, options: TextRowsOptions = {}): string[] {
    const known = new Map<string, string>();
    for (let code = font.lastCode; code >= font.firstCode; code--) {
      const ch = String.fromCharCode(code);
      const columns = font.glyph(ch);
      if (columns) known.set(columns.join(','), ch);
    }
    for (const [text, rows] of options.glyphs ?? []) {
      const columns = [0, 1, 2, 3, 4, 5].map((c) => rows.reduce((byte, bits, r) => (c < 5 && (bits >> (4 - c)) & 1 ? byte | (1 << r) : byte), 0));
      known.set(columns.join(','), text);
    }
    const out: string[] = [];
    const cols = Math.floor(WIDTH / font.cellWidth);
    for (let row = 0; row < this.height / font.cellHeight; row++) {
      let text = '';
      for (let col = 0; col < cols; col++) {
        const columns: number[] = [];
        for (let dx = 0; dx < font.cellWidth; dx++) {
          let byte = 0;
          for (let dy = 0; dy < font.cellHeight; dy++) if (this.pixel(col * font.cellWidth + dx, row * font.cellHeight + dy)) byte |= 1 << dy;
          columns.push(byte);
        }
        text += known.get(columns.join(',')) ?? '\uFFFD';
      }
      out.push(text);
    }
    return out;
  }

  get displayOn(): boolean {
    return this.on;
  }
  get chargePumpOn(): boolean {
    return this.chargePump;
  }
  /** Display on with its supply: the panel lights up. */
  get lit(): boolean {
    return this.on && this.chargePump;
  }
  get contrast(): number {
    return this.contrastValue;
  }
  get inverted(): boolean {
    return this.inverse;
  }
  get addressingMode(): Ssd1306AddressingMode {
    return this.mode;
  }
  get multiplexRatio(): number {
    return this.mux;
  }
  get comPinsConfig(): number {
    return this.comPins;
  }
  /** The GDDRAM pointer. */
  get pointer(): { column: number; page: number } {
    return { column: this.column, page: this.page };
  }
  get violations(): readonly string[] {
    return this.violationList;
  }
  get bytesReceived(): number {
    return this.bytes;
  }

  // ---- controller ----

  private command(byte: number): void {
    if (this.pending) {
      this.pending.args.push(byte);
      if (this.pending.args.length === this.pending.needed) {
        const { command, args } = this.pending;
        this.pending = undefined;
        this.withArguments(command, args);
      }
      return;
    }
    const needed = ARGUMENTS.get(byte);
    if (needed !== undefined) {
      this.pending = { command: byte, args: [], needed };
      return;
    }
    if (byte <= 0x0f) {
      // Page addressing mode: lower nibble of the column start address (datasheet §10.1.1).
      this.pageModeColumnStart = (this.pageModeColumnStart & 0xf0) | byte;
      this.column = this.pageModeColumnStart;
    } else if (byte <= 0x1f) {
      this.pageModeColumnStart = ((byte & 0x07) << 4) | (this.pageModeColumnStart & 0x0f);
      this.column = this.pageModeColumnStart;
    } else if (byte >= 0x40 && byte <= 0x7f) {
      this.startLine = byte & 0x3f;
    } else if (byte >= 0xb0 && byte <= 0xb7) {
      this.page = byte & 0x07;
    } else if (byte === 0xa0 || byte === 0xa1) {
      this.segmentRemap = byte === 0xa1;
    } else if (byte === 0xa4 || byte === 0xa5) {
      this.entireOn = byte === 0xa5;
    } else if (byte === 0xa6 || byte === 0xa7) {
      this.inverse = byte === 0xa7;
    } else if (byte === 0xae) {
      this.on = false;
    } else if (byte === 0xaf) {
      this.switchOn();
    } else if (byte === 0xc0 || byte === 0xc8) {
      this.comReversed = byte === 0xc8;
    } else if (byte === 0x2e) {
      this.scrolling = false;
    } else if (byte === 0x2f) {
      this.scrolling = true;
    } else if (byte !== 0xe3) {
      this.violation(`unknown command ${hex(byte)}`);
    }
  }

  private withArguments(command: number, args: readonly number[]): void {
    const [a = 0, b = 0] = args;
    switch (command) {
      case 0x81:
        this.contrastValue = a;
        break;
      case 0x20:
        if (a > 2) this.violation(`addressing mode ${hex(a)} is invalid`);
        else this.mode = a === 0 ? 'horizontal' : a === 1 ? 'vertical' : 'page';
        break;
      case 0x21:
        this.columnStart = a & 0x7f;
        this.columnEnd = b & 0x7f;
        this.column = this.columnStart;
        if (this.columnEnd < this.columnStart) this.violation(`column range ${a}..${b} ends before it starts`);
        break;
      case 0x22:
        this.pageStart = a & 0x07;
        this.pageEnd = b & 0x07;
        this.page = this.pageStart;
        if (this.pageEnd < this.pageStart) this.violation(`page range ${a}..${b} ends before it starts`);
        break;
      case 0xa8:
        if (a < 15 || a > 63) this.violation(`multiplex ratio ${a + 1} is outside 16..64`);
        else this.mux = a + 1;
        break;
      case 0xd3:
        this.offset = a & 0x3f;
        break;
      case 0xda:
        if ((a & 0xcf) !== 0x02) this.violation(`COM pins configuration ${hex(a)}: only bits 5 and 4 may vary (0x02 | ...)`);
        this.comPins = a;
        break;
      case 0x8d:
        this.chargePump = (a & 0x04) !== 0;
        break;
      default:
        // Timing (0xD5, 0xD9, 0xDB) and scroll set-up change nothing this model draws.
        break;
    }
  }

  /** Checks made when the panel is switched on: the settings the panel needs to show anything right. */
  private switchOn(): void {
    this.on = true;
    if (!this.chargePump) this.violation('display on with the charge pump off: the panel stays dark (send 0x8D 0x14 first)');
    if (this.mux !== this.height) this.violation(`display on with multiplex ratio ${this.mux} on a ${this.height}-row panel`);
    const alternative = (this.comPins & 0x10) !== 0;
    if (alternative !== (this.height === 64)) {
      this.violation(`display on with COM pins ${hex(this.comPins)}: a 128x${this.height} panel needs ${this.height === 64 ? '0x12 (alternative)' : '0x02 (sequential)'}`);
    }
  }

  /** Datasheet §10.1.3: how the pointer moves after each data byte in each addressing mode. */
  private writeRam(byte: number): void {
    if (this.scrolling) this.violation('GDDRAM written while scrolling is active (datasheet: deactivate with 0x2E first)');
    this.gddram[this.page * WIDTH + this.column] = byte;
    if (this.mode === 'page') {
      this.column = this.column >= WIDTH - 1 ? this.pageModeColumnStart : this.column + 1;
    } else if (this.mode === 'horizontal') {
      if (this.column < this.columnEnd) {
        this.column++;
      } else {
        this.column = this.columnStart;
        this.page = this.page < this.pageEnd ? this.page + 1 : this.pageStart;
      }
    } else if (this.page < this.pageEnd) {
      this.page++;
    } else {
      this.page = this.pageStart;
      this.column = this.column < this.columnEnd ? this.column + 1 : this.columnStart;
    }
  }

  private violation(text: string): void {
    this.violationList.push(text);
  }
}
