// An emulated I2C LCD backpack: a PCF8574 port expander wired to an HD44780 character LCD controller.
import type { Clock } from '../../firmware/util/clock.js';
import { PCF8574_PIN_MAPS, checkPcf8574Pins, type Pcf8574LcdPins } from '../display/pcf8574-pins.js';
import type { I2cDeviceModel, I2cTransferTiming } from './emulated-i2c-bus.js';

export interface Pcf8574Hd44780Options {
  clock: Clock;
  /** 16 or 20 (any 8..40 works). */
  columns: number;
  /** 1, 2 or 4. */
  rows: number;
  /** Backpack wiring; default the common one (P0=RS, P1=RW, P2=E, P3=backlight, P4..P7=D4..D7). */
  pins?: Pcf8574LcdPins;
}

/** HD44780U datasheet, Table 6: execution times at fosc = 270 kHz. */
const EXEC_MS = 0.037;
const EXEC_CLEAR_HOME_MS = 1.52;
/** Datasheet, Figure 24 (4-bit interface initialisation): waits after power-on and between the 0x3 nibbles. */
const POWER_ON_WAIT_MS = 40;
const INIT_WAIT_1_MS = 4.1;
const INIT_WAIT_2_MS = 0.1;
/** Guards the comparisons against floating-point noise in summed byte times. */
const EPSILON_MS = 1e-9;

/** DDRAM is 80 bytes; in 2-line mode line 1 is 0x00..0x27 and line 2 is 0x40..0x67 (datasheet, "Display Data RAM"). */
const DDRAM_SIZE = 80;
const LINE_LENGTH = 40;

/** Characters of ROM code A00 above ASCII that this model can show (others appear as U+FFFD). */
const ROM_A00_HIGH: ReadonlyMap<number, string> = new Map([
  [0xdf, '°'], // the semi-voiced mark of JIS X 0201, which is how every A00 display shows a degree sign
  [0xe0, 'α'],
  [0xe1, 'ä'],
  [0xe2, 'β'],
  [0xe3, 'ε'],
  [0xe4, 'μ'],
  [0xe5, 'σ'],
  [0xe6, 'ρ'],
  [0xe8, '√'],
  [0xee, 'ñ'],
  [0xef, 'ö'],
  [0xf2, 'θ'],
  [0xf3, '∞'],
  [0xf4, 'Ω'],
  [0xf5, 'ü'],
  [0xf6, 'Σ'],
  [0xf7, 'π'],
  [0xfd, '÷'],
  [0xff, '█'],
]);

/** What a character code of ROM A00 looks like, as a string of one character. */
function romA00(code: number): string {
  if (code < 0x10) return String.fromCharCode(code & 0x07); // CGRAM: 0x08..0x0F mirror 0x00..0x07
  if (code === 0x5c) return '¥';
  if (code === 0x7e) return '→';
  if (code === 0x7f) return '←';
  if (code >= 0x20 && code < 0x7e) return String.fromCharCode(code);
  if (code >= 0xa1 && code < 0xdf) return String.fromCharCode(0xff61 + code - 0xa1); // JIS X 0201 katakana
  if (code < 0xa1) return ' '; // 0x10..0x1F and 0x80..0xA0 are blank in A00
  return ROM_A00_HIGH.get(code) ?? '\uFFFD';
}

type InitStep = 0 | 1 | 2 | 3 | 4 | 'done' | 'failed';

/**
 * The chip pair at bit level. Every byte written sets the PCF8574 outputs at the moment its ACK ends;
 * the HD44780 starts a bus cycle on the rising edge of E (sampling RS and RW) and latches D4..D7 on
 * the falling edge. Instructions are decoded per datasheet Table 6 into DDRAM, CGRAM and the mode
 * registers. Test side (Zephyr gpio_emul style): lines(), cgram(), backlight, initialised,
 * violations, bytesReceived.
 */
export class Pcf8574Hd44780Model implements I2cDeviceModel {
  readonly columns: number;
  readonly rows: number;
  readonly pins: Pcf8574LcdPins;
  private readonly clock: Clock;
  private readonly dataBits: readonly number[];
  private readonly violationList: string[] = [];

  // PCF8574 side
  private port = 0xff;
  private bytes = 0;
  private writeTransfers = 0;
  // Bus cycle in progress: started by a rising edge of E we saw.
  private cycleOpen = false;
  private cycleRs = false;
  private cycleRw = false;

  // HD44780 side
  private powerOnMs = 0;
  private eightBit = true;
  private highNibble: number | undefined;
  private busyUntilMs = Number.NEGATIVE_INFINITY;
  private busyBy = '';
  private initStep: InitStep = 0;
  private lastInitNibbleMs = 0;
  private readonly ddramBytes = new Uint8Array(DDRAM_SIZE);
  private readonly cgramBytes = new Uint8Array(64);
  private addressCounter = 0;
  private targetCgram = false;
  private increment = true;
  private shiftOnWrite = false;
  private shift = 0;
  private displayEnabled = false;
  private cursorEnabled = false;
  private blinkEnabled = false;
  private twoLines = false;
  private font5x10 = false;

  constructor(options: Pcf8574Hd44780Options) {
    if (!Number.isInteger(options.columns) || options.columns < 1 || options.columns > LINE_LENGTH) {
      throw new RangeError(`columns: expected 1..${LINE_LENGTH}, got ${options.columns}`);
    }
    if (![1, 2, 4].includes(options.rows)) throw new RangeError(`rows: expected 1, 2 or 4, got ${options.rows}`);
    if (options.rows === 4 && options.columns > 20) throw new RangeError('a 4-row module has at most 20 columns');
    this.clock = options.clock;
    this.columns = options.columns;
    this.rows = options.rows;
    this.pins = checkPcf8574Pins(options.pins ?? PCF8574_PIN_MAPS.common);
    this.dataBits = [this.pins.d4, this.pins.d5, this.pins.d6, this.pins.d7];
    this.powerCycle();
  }

  /**
   * Cuts and restores power now: the PCF8574 outputs go high (its power-on state) and the HD44780
   * forgets everything; the 40 ms power-on wait and the initialisation sequence start over.
   */
  powerCycle(): void {
    this.powerOnMs = this.clock.now();
    this.port = 0xff;
    this.cycleOpen = false;
    this.eightBit = true;
    this.highNibble = undefined;
    this.busyUntilMs = Number.NEGATIVE_INFINITY;
    this.initStep = 0;
    // Internal reset state (datasheet, "Initializing by Internal Reset Circuit"); DDRAM and CGRAM
    // content is undefined after power-on: spaces and blank glyphs here, for a readable picture.
    this.ddramBytes.fill(0x20);
    this.cgramBytes.fill(0);
    this.addressCounter = 0;
    this.targetCgram = false;
    this.increment = true;
    this.shiftOnWrite = false;
    this.shift = 0;
    this.displayEnabled = false;
    this.cursorEnabled = false;
    this.blinkEnabled = false;
    this.twoLines = false;
    this.font5x10 = false;
  }

  // ---- I2cDeviceModel ----

  write(data: Uint8Array, timing: I2cTransferTiming): void {
    this.writeTransfers++;
    data.forEach((byte, index) => {
      this.portWrite(byte, timing.byteDoneMs(index));
    });
  }

  /** A PCF8574 read returns its pins; with RW low the LCD does not drive them, so they read as written. */
  read(length: number): Uint8Array {
    return new Uint8Array(length).fill(this.port);
  }

  // ---- test side ----

  /** The visible text, one string per row; CGRAM characters as U+0000..U+0007, blank while the display is off. */
  lines(): string[] {
    const out: string[] = [];
    for (let row = 0; row < this.rows; row++) {
      let text = '';
      for (let col = 0; col < this.columns; col++) {
        const index = this.visibleIndex(row, col);
        text += this.displayEnabled && index !== undefined ? romA00(this.ddramBytes[index] ?? 0x20) : ' ';
      }
      out.push(text);
    }
    return out;
  }

  /** The 8 pixel rows (5 bits each, MSB left) of CGRAM glyph slot 0..7. */
  cgram(slot: number): number[] {
    if (!Number.isInteger(slot) || slot < 0 || slot > 7) throw new RangeError(`slot: expected 0..7, got ${slot}`);
    return [...this.cgramBytes.subarray(slot * 8, slot * 8 + 8)].map((b) => b & 0x1f);
  }

  /** A copy of the 80 DDRAM bytes in address order (line 2 from index 40 in 2-line mode). */
  ddram(): Uint8Array {
    return Uint8Array.from(this.ddramBytes);
  }

  get backlight(): boolean {
    const bit = ((this.port >> this.pins.backlight) & 1) === 1;
    return bit !== this.pins.backlightActiveLow;
  }

  /** True once the datasheet's 4-bit initialisation (Figure 24) has been followed since power-on. */
  get initialised(): boolean {
    return this.initStep === 'done';
  }

  /** Everything the bytes did that the datasheet forbids, in order, as sentences. */
  get violations(): readonly string[] {
    return this.violationList;
  }

  /** Bytes written to the PCF8574 since power-on of the model. */
  get bytesReceived(): number {
    return this.bytes;
  }

  /** Write transfers addressed to the backpack. */
  get writes(): number {
    return this.writeTransfers;
  }

  get displayOn(): boolean {
    return this.displayEnabled;
  }
  get cursorOn(): boolean {
    return this.cursorEnabled;
  }
  get blinkOn(): boolean {
    return this.blinkEnabled;
  }
  get fourBitMode(): boolean {
    return !this.eightBit;
  }
  /** Function set N: two display lines (needed by 2- and 4-row modules). */
  get twoLineMode(): boolean {
    return this.twoLines;
  }
  get font5x10Mode(): boolean {
    return this.font5x10;
  }
  /** Entry mode I/D and S. */
  get entryMode(): { increment: boolean; shift: boolean } {
    return { increment: this.increment, shift: this.shiftOnWrite };
  }
  /** The address counter and whether it points into CGRAM or DDRAM. */
  get cursorAddress(): { ram: 'ddram' | 'cgram'; address: number } {
    return { ram: this.targetCgram ? 'cgram' : 'ddram', address: this.addressCounter };
  }
  /** Positions the display is shifted left (negative: right). */
  get displayShift(): number {
    return this.shift;
  }

  // ---- PCF8574 ----

  private bit(value: number, pin: number): boolean {
    return ((value >> pin) & 1) === 1;
  }

  /** D4..D7, RS and RW: the lines the HD44780 samples. */
  private busLines(value: number): number {
    const p = this.pins;
    const mask = (1 << p.rs) | (1 << p.rw) | (1 << p.d4) | (1 << p.d5) | (1 << p.d6) | (1 << p.d7);
    return value & mask;
  }

  private portWrite(value: number, atMs: number): void {
    this.bytes++;
    const before = this.port;
    this.port = value & 0xff;
    const eBefore = this.bit(before, this.pins.e);
    const eAfter = this.bit(this.port, this.pins.e);
    const linesChanged = this.busLines(before) !== this.busLines(this.port);
    if (!eBefore && eAfter) {
      // Rising edge: RS and RW must be set up tAS (40 ns) before it, so not in the same byte.
      const rsRw = (1 << this.pins.rs) | (1 << this.pins.rw);
      if ((before & rsRw) !== (this.port & rsRw)) this.violation(atMs, 'RS/RW changed together with the rising edge of E (address set-up time tAS)');
      this.cycleOpen = true;
      this.cycleRs = this.bit(this.port, this.pins.rs);
      this.cycleRw = this.bit(this.port, this.pins.rw);
    } else if (eBefore && eAfter) {
      if (this.cycleOpen && linesChanged) this.violation(atMs, 'data lines changed while E is high');
    } else if (eBefore && !eAfter) {
      if (!this.cycleOpen) return; // E high since power-on: no cycle was started
      this.cycleOpen = false;
      // The lines must hold tH (10 ns) after the falling edge; the chip latches what E saw.
      if (linesChanged) this.violation(atMs, 'data lines changed together with the falling edge of E (hold time tH)');
      if (this.cycleRw) {
        // A read cycle (busy flag / address): it still advances the 4-bit nibble phase.
        if (!this.eightBit) this.highNibble = this.highNibble === undefined ? 0 : undefined;
        return;
      }
      let nibble = 0;
      this.dataBits.forEach((pin, i) => {
        if (this.bit(before, pin)) nibble |= 1 << i;
      });
      this.nibble(nibble, this.cycleRs, atMs);
    }
  }

  // ---- HD44780 ----

  private nibble(nibble: number, rs: boolean, atMs: number): void {
    const startsTransfer = this.eightBit || this.highNibble === undefined;
    if (startsTransfer) this.checkReady(atMs, rs);
    this.trackInit(nibble, rs, atMs);
    if (this.eightBit) {
      // D0..D3 are not wired on a backpack; the chip's pull-ups (datasheet: pull-up MOS on DB0..DB7) read them as 1.
      this.execute((nibble << 4) | 0x0f, rs, atMs);
      return;
    }
    if (this.highNibble === undefined) {
      this.highNibble = nibble;
      return;
    }
    const byte = (this.highNibble << 4) | nibble;
    this.highNibble = undefined;
    this.execute(byte, rs, atMs);
  }

  private checkReady(atMs: number, rs: boolean): void {
    const sincePowerOnMs = atMs - this.powerOnMs;
    if (sincePowerOnMs + EPSILON_MS < POWER_ON_WAIT_MS) {
      this.violation(atMs, `${rs ? 'data' : 'instruction'} ${sincePowerOnMs.toFixed(3)} ms after power-on; the datasheet asks for more than ${POWER_ON_WAIT_MS} ms`);
      return;
    }
    if (atMs + EPSILON_MS < this.busyUntilMs) {
      const earlyUs = ((this.busyUntilMs - atMs) * 1000).toFixed(1);
      this.violation(atMs, `${rs ? 'data' : 'instruction'} issued ${earlyUs} µs before the previous ${this.busyBy} finished`);
    }
  }

  /** Datasheet Figure 24: 0x3 (wait > 4.1 ms), 0x3 (wait > 100 µs), 0x3, 0x2, then a 4-bit function set. */
  private trackInit(nibble: number, rs: boolean, atMs: number): void {
    const step = this.initStep;
    if (step === 'done' || step === 'failed') return;
    if (step === 4) {
      // The first 4-bit instruction must be a function set; judged on its high nibble.
      if (rs || (nibble & 0xe) !== 0x2) this.initFailed(atMs, `expected the 4-bit function set 0x2N, got ${rs ? 'data' : 'instruction'} nibble 0x${nibble.toString(16)}`);
      else this.initStep = 'done';
      return;
    }
    const expected = step === 3 ? 0x2 : 0x3;
    if (rs || nibble !== expected) {
      this.initFailed(atMs, `step ${step + 1} expected nibble 0x${expected.toString(16)}, got ${rs ? 'data' : 'instruction'} nibble 0x${nibble.toString(16)}`);
      return;
    }
    const sinceMs = atMs - this.lastInitNibbleMs;
    if (step === 1 && sinceMs + EPSILON_MS < INIT_WAIT_1_MS) {
      this.violation(atMs, `4-bit initialisation: second 0x3 ${sinceMs.toFixed(3)} ms after the first; the datasheet asks for more than ${INIT_WAIT_1_MS} ms`);
    }
    if (step === 2 && sinceMs + EPSILON_MS < INIT_WAIT_2_MS) {
      this.violation(atMs, `4-bit initialisation: third 0x3 ${(sinceMs * 1000).toFixed(1)} µs after the second; the datasheet asks for more than 100 µs`);
    }
    this.lastInitNibbleMs = atMs;
    this.initStep = step === 0 ? 1 : step === 1 ? 2 : step === 2 ? 3 : 4;
  }

  private initFailed(atMs: number, detail: string): void {
    this.violation(atMs, `4-bit initialisation sequence not followed: ${detail}`);
    this.initStep = 'failed';
  }

  private execute(byte: number, rs: boolean, atMs: number): void {
    if (rs) {
      this.busyUntilMs = atMs + EXEC_MS;
      this.busyBy = 'data write';
      this.writeData(byte, atMs);
      return;
    }
    this.busyUntilMs = atMs + (byte <= 0x03 && byte !== 0 ? EXEC_CLEAR_HOME_MS : EXEC_MS);
    this.busyBy = `instruction 0x${byte.toString(16).padStart(2, '0')}`;
    if (byte & 0x80) {
      this.setDdramAddress(byte & 0x7f, atMs);
    } else if (byte & 0x40) {
      this.targetCgram = true;
      this.addressCounter = byte & 0x3f;
    } else if (byte & 0x20) {
      this.eightBit = (byte & 0x10) !== 0;
      this.twoLines = (byte & 0x08) !== 0;
      this.font5x10 = (byte & 0x04) !== 0;
      this.highNibble = undefined;
    } else if (byte & 0x10) {
      const displayShift = (byte & 0x08) !== 0;
      const right = (byte & 0x04) !== 0;
      if (displayShift) this.shift += right ? -1 : 1;
      else this.addressCounter = this.targetCgram ? (this.addressCounter + (right ? 1 : 63)) & 0x3f : this.stepDdram(this.addressCounter, right);
    } else if (byte & 0x08) {
      this.displayEnabled = (byte & 0x04) !== 0;
      this.cursorEnabled = (byte & 0x02) !== 0;
      this.blinkEnabled = (byte & 0x01) !== 0;
    } else if (byte & 0x04) {
      this.increment = (byte & 0x02) !== 0;
      this.shiftOnWrite = (byte & 0x01) !== 0;
    } else if (byte & 0x02) {
      this.addressCounter = 0;
      this.targetCgram = false;
      this.shift = 0;
    } else if (byte & 0x01) {
      this.ddramBytes.fill(0x20);
      this.addressCounter = 0;
      this.targetCgram = false;
      this.shift = 0;
      this.increment = true;
    }
  }

  private setDdramAddress(address: number, atMs: number): void {
    this.targetCgram = false;
    if (this.ddramIndex(address) === undefined) {
      this.violation(atMs, `DDRAM address 0x${address.toString(16)} does not exist in ${this.twoLines ? '2' : '1'}-line mode`);
    }
    this.addressCounter = address;
  }

  private writeData(byte: number, atMs: number): void {
    if (this.targetCgram) {
      this.cgramBytes[this.addressCounter] = byte;
      this.addressCounter = (this.addressCounter + (this.increment ? 1 : 63)) & 0x3f;
      return;
    }
    const index = this.ddramIndex(this.addressCounter);
    if (index === undefined) this.violation(atMs, `data written at DDRAM address 0x${this.addressCounter.toString(16)}, which does not exist`);
    else this.ddramBytes[index] = byte;
    this.addressCounter = this.stepDdram(this.addressCounter, this.increment);
    if (this.shiftOnWrite) this.shift += this.increment ? 1 : -1;
  }

  /** Address → index into the 80 bytes, per the line mode; undefined for a hole in the address space. */
  private ddramIndex(address: number): number | undefined {
    if (!this.twoLines) return address < DDRAM_SIZE ? address : undefined;
    if (address < LINE_LENGTH) return address;
    if (address >= 0x40 && address < 0x40 + LINE_LENGTH) return address - 0x40 + LINE_LENGTH;
    return undefined;
  }

  /** The address counter moves across the line boundaries: 0x27 → 0x40 and 0x67 → 0x00 in 2-line mode. */
  private stepDdram(address: number, forward: boolean): number {
    if (!this.twoLines) return (address + (forward ? 1 : DDRAM_SIZE - 1)) % DDRAM_SIZE;
    const order = this.ddramIndex(address) ?? 0;
    const next = (order + (forward ? 1 : DDRAM_SIZE - 1)) % DDRAM_SIZE;
    return next < LINE_LENGTH ? next : next - LINE_LENGTH + 0x40;
  }

  /**
   * Which DDRAM byte is shown at (row, col). Row r starts at 0x00, 0x40, columns, 0x40 + columns
   * (0x00, 0x40, 0x14, 0x54 on a 20x4); a display shift rotates each 40-character line.
   */
  private visibleIndex(row: number, col: number): number | undefined {
    if (!this.twoLines) {
      // In 1-line mode only the first row is driven.
      return row === 0 ? (((col + this.shift) % DDRAM_SIZE) + DDRAM_SIZE) % DDRAM_SIZE : undefined;
    }
    const line = row % 2;
    const start = row >= 2 ? this.columns : 0;
    const within = (((start + col + this.shift) % LINE_LENGTH) + LINE_LENGTH) % LINE_LENGTH;
    return line * LINE_LENGTH + within;
  }

  private violation(atMs: number, text: string): void {
    this.violationList.push(`at ${atMs.toFixed(3)} ms: ${text}`);
  }
}
