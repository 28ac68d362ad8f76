// Tests of the PCF8574 + HD44780 model fed raw backpack bytes: decoding, addressing and the timing checks.
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../firmware/util/clock.js';
import { PCF8574_PIN_MAPS } from '../../../hal/display/pcf8574-pins.js';
import { EmulatedI2cBus } from '../../../hal/emulated/emulated-i2c-bus.js';
import { Pcf8574Hd44780Model } from '../../../hal/emulated/pcf8574-hd44780.js';
import { settle } from './settle.js';

// Common backpack wiring, written out by hand so these tests do not depend on the driver.
const RS = 0x01;
const E = 0x04;
const BL = 0x08;

/** The bytes of one nibble: set up with E low, raise E, drop E (data held). */
function nibble(n: number, rs = false): number[] {
  const base = BL | (rs ? RS : 0) | (n << 4);
  return [base, base | E, base];
}
function instruction(byte: number): number[] {
  return [...nibble(byte >> 4), ...nibble(byte & 0x0f)];
}
function data(text: string): number[] {
  return [...text].flatMap((ch) => [...nibble(ch.charCodeAt(0) >> 4, true), ...nibble(ch.charCodeAt(0) & 0x0f, true)]);
}

function rig(options: { columns?: number; rows?: number; busSpeedHz?: number } = {}) {
  const clock = new VirtualClock();
  const bus = new EmulatedI2cBus({ clock, name: 'i2c-1', busSpeedHz: options.busSpeedHz ?? 100_000 });
  const model = new Pcf8574Hd44780Model({ clock, columns: options.columns ?? 16, rows: options.rows ?? 2 });
  bus.attach(0x27, model);
  const send = (bytes: number[]) => settle(clock, bus.write(0x27, Uint8Array.from(bytes)));
  /** The datasheet sequence, done right. */
  const initialise = async (lines2 = true) => {
    await clock.advance(45);
    await send(nibble(0x3));
    await clock.advance(4.2);
    await send(nibble(0x3));
    await clock.advance(0.2);
    await send([...nibble(0x3), ...nibble(0x2), ...instruction(lines2 ? 0x28 : 0x20), ...instruction(0x08), ...instruction(0x01)]);
    await clock.advance(2);
    await send([...instruction(0x06), ...instruction(0x0c)]);
  };
  return { clock, bus, model, send, initialise };
}

describe('Pcf8574Hd44780Model', () => {
  it('decodes the datasheet initialisation with no violations', async () => {
    const { model, initialise } = rig();
    expect(model.initialised).toBe(false);
    await initialise();
    expect(model.violations).toEqual([]);
    expect(model.initialised).toBe(true);
    expect(model.fourBitMode).toBe(true);
    expect(model.twoLineMode).toBe(true);
    expect(model.displayOn).toBe(true);
    expect(model.cursorOn).toBe(false);
    expect(model.entryMode).toEqual({ increment: true, shift: false });
    expect(model.lines()).toEqual([' '.repeat(16), ' '.repeat(16)]);
  });

  it('writes text to DDRAM and shows it; line 2 starts at 0x40', async () => {
    const { model, send, initialise } = rig();
    await initialise();
    await send([...data('Hello'), ...instruction(0x80 | 0x40), ...data('World')]);
    expect(model.lines()).toEqual(['Hello'.padEnd(16), 'World'.padEnd(16)]);
    expect(model.cursorAddress).toEqual({ ram: 'ddram', address: 0x45 });
    expect(model.violations).toEqual([]);
  });

  it('maps a 20x4 module: rows 3 and 4 continue lines 1 and 2 at 0x14 and 0x54', async () => {
    const { model, send, initialise } = rig({ columns: 20, rows: 4 });
    await initialise();
    await send([...instruction(0x80 | 0x14), ...data('third'), ...instruction(0x80 | 0x54), ...data('fourth')]);
    expect(model.lines()[2]).toBe('third'.padEnd(20));
    expect(model.lines()[3]).toBe('fourth'.padEnd(20));
    // 0x27 is followed by 0x40: writing past the end of row 3 continues on row 2.
    await send([...instruction(0x80 | 0x26), ...data('xyz')]);
    expect(model.lines()[2]?.slice(18)).toBe('xy');
    expect(model.lines()[1]?.slice(0, 1)).toBe('z');
  });

  it('stores glyphs in CGRAM and shows CGRAM codes as U+0000..U+0007', async () => {
    const { model, send, initialise } = rig();
    await initialise();
    const rows = [0x04, 0x0e, 0x0e, 0x0e, 0x0e, 0x1f, 0x04, 0x00];
    await send([...instruction(0x40 | (3 * 8)), ...rows.flatMap((r) => [...nibble(r >> 4, true), ...nibble(r & 0xf, true)])]);
    await send([...instruction(0x80), ...nibble(0x0, true), ...nibble(0x3, true), ...nibble(0x0, true), ...nibble(0xb, true)]);
    expect(model.cgram(3)).toEqual(rows);
    expect(model.lines()[0]).toBe('\u0003\u0003'.padEnd(16)); // 0x0B mirrors slot 3
  });

  it('shows ROM A00 symbols: ¥ → ← ° and katakana', async () => {
    const { model, send, initialise } = rig();
    await initialise();
    const codes = [0x5c, 0x7e, 0x7f, 0xdf, 0xb1];
    await send(codes.flatMap((c) => [...nibble(c >> 4, true), ...nibble(c & 0xf, true)]));
    expect(model.lines()[0]).toBe('¥→←°ｱ'.padEnd(16));
  });

  it('blanks the picture while the display is off, and the backlight follows its bit', async () => {
    const { model, send, initialise } = rig();
    await initialise();
    await send(data('Hi'));
    await send(instruction(0x08));
    expect(model.lines()[0]).toBe(' '.repeat(16));
    expect(model.ddram()[0]).toBe('H'.charCodeAt(0));
    expect(model.backlight).toBe(true);
    await send([0x00]);
    expect(model.backlight).toBe(false);
  });

  it('shifts the display and moves the cursor', async () => {
    const { model, send, initialise } = rig();
    await initialise();
    await send([...data('abc'), ...instruction(0x18)]); // display shift left
    expect(model.lines()[0]?.slice(0, 2)).toBe('bc');
    expect(model.displayShift).toBe(1);
    await send([...instruction(0x02)]);
    await send(instruction(0x14)); // too soon: return home runs 1.52 ms
    expect(model.displayShift).toBe(0);
    expect(model.violations.some((v) => v.includes('before the previous instruction 0x02 finished'))).toBe(true);
  });

  it('counts the bytes it receives', async () => {
    const { model, send, initialise } = rig();
    await initialise();
    const before = model.bytesReceived;
    await send(data('A'));
    expect(model.bytesReceived - before).toBe(6);
  });

  it('flags an instruction before the 40 ms power-on wait', async () => {
    const { clock, model, send } = rig();
    await clock.advance(10);
    await send(nibble(0x3));
    expect(model.violations).toHaveLength(1);
    expect(model.violations[0]).toMatch(/after power-on; the datasheet asks for more than 40 ms/);
  });

  it('flags a second 0x3 sooner than 4.1 ms and a third sooner than 100 µs', async () => {
    // At 400 kHz a nibble (3 bytes) takes 67.5 µs: long enough for 37 µs, too short for 100 µs.
    const { clock, model, send } = rig({ busSpeedHz: 400_000 });
    await clock.advance(45);
    await send(nibble(0x3));
    await clock.advance(1);
    await send([...nibble(0x3), ...nibble(0x3)]);
    expect(model.violations).toEqual([
      expect.stringMatching(/second 0x3 .* more than 4.1 ms/),
      expect.stringMatching(/third 0x3 .* more than 100 µs/),
    ]);
  });

  it('flags a driver that skips the initialisation sequence', async () => {
    const { clock, model, send } = rig();
    await clock.advance(45);
    await send([...nibble(0x2), ...instruction(0x28), ...instruction(0x0c)]);
    expect(model.initialised).toBe(false);
    expect(model.violations[0]).toMatch(/4-bit initialisation sequence not followed: step 1 expected nibble 0x3, got instruction nibble 0x2/);
  });

  it('flags data lines that change while E is high', async () => {
    const { model, send, initialise } = rig();
    await initialise();
    await send([BL | 0x40, BL | 0x40 | E, BL | 0x50 | E, BL | 0x50]);
    expect(model.violations).toEqual([expect.stringMatching(/data lines changed while E is high/)]);
  });

  it('flags RS changing with the rising edge of E, and data changing with the falling edge', async () => {
    const { model, send, initialise } = rig();
    await initialise();
    await send([BL | 0x40, BL | RS | 0x40 | E, BL | RS | 0x40, BL | RS | 0x10 | E, BL | RS | 0x20]);
    expect(model.violations).toEqual([expect.stringMatching(/rising edge of E/), expect.stringMatching(/falling edge of E/)]);
  });

  it('flags an instruction before the previous one finished: clear needs 1.52 ms', async () => {
    const { model, send, initialise } = rig();
    await initialise();
    await send([...instruction(0x01), ...data('x')]);
    expect(model.violations).toEqual([expect.stringMatching(/data issued .* µs before the previous instruction 0x01 finished/)]);
  });

  it('flags 37 µs instructions back to back on a bus too fast for them (1 MHz: 9 µs per byte)', async () => {
    const { clock, model, send } = rig({ busSpeedHz: 1_000_000 });
    await clock.advance(45);
    await send(nibble(0x3));
    await clock.advance(5);
    await send(nibble(0x3));
    await clock.advance(1);
    await send([...nibble(0x3), ...nibble(0x2), ...instruction(0x28)]);
    expect(model.violations.length).toBeGreaterThan(0);
    expect(model.violations[0]).toMatch(/µs before the previous instruction 0x3f finished/);
  });

  it('starts over on a power cycle', async () => {
    const { clock, model, send, initialise } = rig();
    await initialise();
    await send(data('x'));
    model.powerCycle();
    expect(model.initialised).toBe(false);
    expect(model.displayOn).toBe(false);
    await clock.advance(41);
    await send(nibble(0x3));
    expect(model.violations).toEqual([]);
  });

  it('decodes the MJKDZ wiring, backlight active low', async () => {
    const clock = new VirtualClock();
    const bus = new EmulatedI2cBus({ clock });
    const model = new Pcf8574Hd44780Model({ clock, columns: 16, rows: 2, pins: PCF8574_PIN_MAPS.mjkdz });
    bus.attach(0x20, model);
    // MJKDZ: D4..D7 = P0..P3, E = P4, RS = P6, backlight P7 active low (0 = on).
    const nib = (n: number, rs = false) => [n | (rs ? 0x40 : 0), n | (rs ? 0x40 : 0) | 0x10, n | (rs ? 0x40 : 0)];
    const ins = (b: number) => [...nib(b >> 4), ...nib(b & 0xf)];
    const send = (bytes: number[]) => settle(clock, bus.write(0x20, Uint8Array.from(bytes)));
    expect(model.backlight).toBe(false); // PCF8574 outputs are high at power-on
    await clock.advance(45);
    await send(nib(0x3));
    await clock.advance(5);
    await send(nib(0x3));
    await clock.advance(1);
    await send([...nib(0x3), ...nib(0x2), ...ins(0x28), ...ins(0x0c), ...ins(0x06), ...nib(0x4, true), ...nib(0x1, true)]);
    expect(model.violations).toEqual([]);
    expect(model.initialised).toBe(true);
    expect(model.backlight).toBe(true);
    expect(model.lines()[0]).toBe('A'.padEnd(16));
  });

  it('rejects geometries an HD44780 module does not come in', () => {
    const clock = new VirtualClock();
    expect(() => new Pcf8574Hd44780Model({ clock, columns: 40, rows: 4 })).toThrow(RangeError);
    expect(() => new Pcf8574Hd44780Model({ clock, columns: 16, rows: 3 })).toThrow(RangeError);
  });
});
