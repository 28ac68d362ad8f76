// The HD44780 driver suite: run on the emulated backpack always, and on a real LCD when OFFHOOK_HW=1 names one.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RealClock, VirtualClock, type Clock } from '../../../firmware/util/clock.js';
import { GLYPHS, loadGlyphs } from '../../../hal/display/glyphs.js';
import { Hd44780Display } from '../../../hal/display/hd44780.js';
import { PCF8574_PIN_MAPS, type Pcf8574LcdPins, type Pcf8574PinMapName } from '../../../hal/display/pcf8574-pins.js';
import { EmulatedI2cBus } from '../../../hal/emulated/emulated-i2c-bus.js';
import { Pcf8574Hd44780Model } from '../../../hal/emulated/pcf8574-hd44780.js';
import { HalError } from '../../../hal/errors.js';
import { QueuedI2cBus, type I2cBus } from '../../../hal/i2c/i2c-bus.js';
import { LinuxI2cBus } from '../../../hal/i2c/linux-i2c-bus.js';
import { settle } from '../emulated/settle.js';

/** What one test gets: a bus with the LCD on it, and on the emulated backend the chip model behind it. */
interface Rig {
  clock: Clock;
  bus: I2cBus;
  address: number;
  /** Runs a driver call to completion (steps the virtual clock on the emulated backend). */
  run<T>(promise: Promise<T>): Promise<T>;
  emulated?: { clock: VirtualClock; bus: EmulatedI2cBus; model: Pcf8574Hd44780Model };
  close(): Promise<void>;
}

interface Backend {
  label: string;
  columns: number;
  rows: number;
  pins: Pcf8574LcdPins;
  /** True when the backend can check what the LCD shows and inject faults. */
  emulated: boolean;
  make(): Promise<Rig>;
}

function emulatedBackend(columns: number, rows: number, pinMap: Pcf8574PinMapName): Backend {
  const pins = PCF8574_PIN_MAPS[pinMap];
  return {
    label: `emulated ${columns}x${rows} (${pinMap} backpack)`,
    columns,
    rows,
    pins,
    emulated: true,
    make: () => {
      const clock = new VirtualClock();
      const bus = new EmulatedI2cBus({ clock, name: 'i2c-1' });
      const model = new Pcf8574Hd44780Model({ clock, columns, rows, pins });
      bus.attach(0x27, model);
      return Promise.resolve({
        clock,
        bus: new QueuedI2cBus(bus),
        address: 0x27,
        run: (promise) => settle(clock, promise),
        emulated: { clock, bus, model },
        close: () => bus.close(),
      });
    },
  };
}

/** OFFHOOK_HW=1 OFFHOOK_I2C_BUS=1 OFFHOOK_LCD_ADDR=0x27 [OFFHOOK_LCD_SIZE=20x4] [OFFHOOK_LCD_PINS=mjkdz] */
function hardwareBackend(): Backend | undefined {
  const env = process.env;
  if (env.OFFHOOK_HW !== '1' || !env.OFFHOOK_I2C_BUS || !env.OFFHOOK_LCD_ADDR) return undefined;
  const busNumber = Number(env.OFFHOOK_I2C_BUS);
  const address = Number(env.OFFHOOK_LCD_ADDR);
  const [columns = 16, rows = 2] = (env.OFFHOOK_LCD_SIZE ?? '16x2').split('x').map(Number);
  const pinMap: Pcf8574PinMapName = env.OFFHOOK_LCD_PINS === 'mjkdz' ? 'mjkdz' : 'common';
  return {
    label: `hardware /dev/i2c-${busNumber} @0x${address.toString(16)} ${columns}x${rows} (${pinMap})`,
    columns,
    rows,
    pins: PCF8574_PIN_MAPS[pinMap],
    emulated: false,
    make: async () => {
      const linux = await LinuxI2cBus.open({ busNumber });
      return { clock: new RealClock(), bus: new QueuedI2cBus(linux), address, run: (promise) => promise, close: () => linux.close() };
    },
  };
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (e: unknown) => e,
  );
}

/** One suite, every backend (CONVENTIONS.md #2). Rows are 0-based: writeLine(1, ...) is the second row. */
function hd44780Suite(backend: Backend): void {
  describe(`Hd44780Display on ${backend.label}`, () => {
    const { columns, rows, pins } = backend;
    let rig: Rig;
    beforeEach(async () => {
      rig = await backend.make();
    });
    afterEach(async () => {
      await rig.close();
    });
    const open = () => new Hd44780Display({ bus: rig.bus, address: rig.address, columns, rows, pins, clock: rig.clock });
    const blank = ' '.repeat(columns);

    it('initialises per the datasheet with no violations', async () => {
      const lcd = open();
      await rig.run(lcd.init());
      expect(lcd.capabilities).toEqual({ columns, rows, customCharacters: 8, backlight: true, glyphWidth: 5, glyphHeight: 8 });
      const model = rig.emulated?.model;
      if (model) {
        expect(model.violations).toEqual([]);
        expect(model.initialised).toBe(true);
        expect(model.fourBitMode).toBe(true);
        expect(model.twoLineMode).toBe(true);
        expect(model.displayOn).toBe(true);
        expect(model.cursorOn).toBe(false);
        expect(model.blinkOn).toBe(false);
        expect(model.backlight).toBe(true);
        expect(model.lines()).toEqual(Array<string>(rows).fill(blank));
      }
    });

    it('shows "Registered 1001" on row 1 (the second row)', async () => {
      const lcd = open();
      await rig.run(lcd.init());
      await rig.run(lcd.writeLine(1, 'Registered 1001'));
      const model = rig.emulated?.model;
      if (model) {
        expect(model.lines()[1]).toBe('Registered 1001'.padEnd(columns));
        expect(model.lines()[0]).toBe(blank);
        expect(model.violations).toEqual([]);
      }
    });

    it('puts every row where it belongs, cutting long text and padding short text', async () => {
      const lcd = open();
      await rig.run(lcd.init());
      const texts = ['first row', 'second row', 'third row', 'fourth row'].slice(0, rows);
      for (const [row, text] of texts.entries()) await rig.run(lcd.writeLine(row, text));
      await rig.run(lcd.writeLine(0, 'x'.repeat(columns + 5)));
      const model = rig.emulated?.model;
      if (model) {
        expect(model.lines()).toEqual(['x'.repeat(columns), ...texts.slice(1).map((t) => t.padEnd(columns))]);
        if (rows === 4) {
          // Datasheet, DDRAM addresses of a 4-line module: row 2 at 0x14, row 3 at 0x54.
          const ddram = model.ddram();
          const at = (address: number, length: number) =>
            String.fromCharCode(...ddram.subarray(address < 0x40 ? address : address - 0x40 + 40).subarray(0, length));
          expect(at(0x14, 9)).toBe('third row');
          expect(at(0x54, 10)).toBe('fourth row');
        }
        expect(model.violations).toEqual([]);
      }
    });

    it('needs no init() call: the first write initialises', async () => {
      const lcd = open();
      await rig.run(lcd.writeLine(0, 'hello'));
      const model = rig.emulated?.model;
      if (model) {
        expect(model.initialised).toBe(true);
        expect(model.lines()[0]).toBe('hello'.padEnd(columns));
      }
    });

    it('loads custom glyphs into CGRAM and shows them in text', async () => {
      const lcd = open();
      await rig.run(lcd.init());
      const chars = await rig.run(loadGlyphs(lcd, ['handset', 'envelope', 'bell']));
      expect(chars).toEqual({ handset: '\u0000', envelope: '\u0001', bell: '\u0002' });
      await rig.run(lcd.writeLine(0, `${chars.bell} Ringing ${chars.envelope}`));
      const model = rig.emulated?.model;
      if (model) {
        expect(model.cgram(0)).toEqual(GLYPHS.handset);
        expect(model.cgram(1)).toEqual(GLYPHS.envelope);
        expect(model.cgram(2)).toEqual(GLYPHS.bell);
        expect(model.lines()[0]).toBe('\u0002 Ringing \u0001'.padEnd(columns));
        expect(model.violations).toEqual([]);
      }
    });

    it('maps ROM A00 symbols and shows ? for characters the LCD lacks', async () => {
      const lcd = open();
      await rig.run(lcd.writeLine(0, '21°C → ←'));
      await rig.run(lcd.writeLine(1, 'a\\b~c€d'));
      const model = rig.emulated?.model;
      if (model) {
        expect(model.lines()[0]).toBe('21°C → ←'.padEnd(columns));
        expect(model.lines()[1]).toBe('a?b?c?d'.padEnd(columns));
      }
    });

    it('switches the backlight off and on, keeping the text', async () => {
      const lcd = open();
      await rig.run(lcd.writeLine(0, 'backlight'));
      await rig.run(lcd.setBacklight(false));
      const model = rig.emulated?.model;
      if (model) {
        expect(model.backlight).toBe(false);
        expect(model.lines()[0]).toBe('backlight'.padEnd(columns));
      }
      const before = model?.bytesReceived ?? 0;
      await rig.run(lcd.setBacklight(true));
      if (model) {
        expect(model.backlight).toBe(true);
        expect(model.bytesReceived - before).toBe(1);
        expect(model.violations).toEqual([]);
      }
    });

    it('clears the screen, respecting the 1.52 ms of the clear instruction', async () => {
      const lcd = open();
      await rig.run(lcd.writeLine(0, 'some text here'));
      await rig.run(lcd.writeLine(1, 'and more'));
      await rig.run(lcd.clear());
      await rig.run(lcd.writeLine(0, 'after'));
      const model = rig.emulated?.model;
      if (model) {
        expect(model.lines()).toEqual(['after'.padEnd(columns), ...Array<string>(rows - 1).fill(blank)]);
        expect(model.violations).toEqual([]);
      }
    });

    it('survives calls made without waiting for each other', async () => {
      const lcd = open();
      const calls = [lcd.writeLine(0, 'one'), lcd.writeLine(1, 'two'), lcd.setBacklight(false), lcd.writeLine(0, 'three')];
      await rig.run(Promise.all(calls));
      const model = rig.emulated?.model;
      if (model) {
        expect(model.lines().slice(0, 2)).toEqual(['three'.padEnd(columns), 'two'.padEnd(columns)]);
        expect(model.backlight).toBe(false);
        expect(model.violations).toEqual([]);
      }
    });

    it('rejects rows, slots and glyphs out of range, and calls after close', async () => {
      const lcd = open();
      await expect(lcd.writeLine(rows, 'x')).rejects.toThrow(RangeError);
      await expect(lcd.defineGlyph(8, GLYPHS.bell)).rejects.toThrow(RangeError);
      await expect(lcd.defineGlyph(0, [1, 2, 3])).rejects.toThrow(RangeError);
      await rig.run(lcd.close());
      const err = await rig.run(rejection(lcd.writeLine(0, 'x')));
      expect(err).toBeInstanceOf(HalError);
      expect((err as HalError).code).toBe('EBADF');
    });

    if (!backend.emulated) return;
    // From here on the cases need the model: byte counts and injected faults.

    it('sends no bytes when redrawing an unchanged screen', async () => {
      const lcd = open();
      const { model, bus } = rig.emulated!;
      await rig.run(lcd.writeLine(0, 'Registered 1001'));
      await rig.run(lcd.defineGlyph(0, GLYPHS.lock));
      const bytes = model.bytesReceived;
      const transfers = bus.transfers;
      await rig.run(lcd.writeLine(0, 'Registered 1001'));
      await rig.run(lcd.writeLine(1, ''));
      await rig.run(lcd.defineGlyph(0, GLYPHS.lock));
      await rig.run(lcd.setBacklight(true));
      expect(model.bytesReceived).toBe(bytes);
      expect(bus.transfers).toBe(transfers);
    });

    it('sends only a few bytes, in one transfer, when one character changes', async () => {
      const lcd = open();
      const { model, bus } = rig.emulated!;
      await rig.run(lcd.writeLine(1, 'Registered 1001'));
      const bytes = model.bytesReceived;
      const transfers = bus.transfers;
      await rig.run(lcd.writeLine(1, 'Registered 1002'));
      // RS set-up byte + set DDRAM address (4 bytes), RS set-up byte + the character (4 bytes).
      expect(model.bytesReceived - bytes).toBe(10);
      expect(bus.transfers - transfers).toBe(1);
      expect(model.lines()[1]).toBe('Registered 1002'.padEnd(columns));
    });

    it('sets the DDRAM address only where the changed cells are not contiguous', async () => {
      const lcd = open();
      const { model, bus } = rig.emulated!;
      await rig.run(lcd.init());
      const bytes = model.bytesReceived;
      const transfers = bus.transfers;
      // Calls made together coalesce into one batch, sent in DDRAM address order.
      const texts = Array.from({ length: rows }, (_, row) => String.fromCharCode(0x41 + row).repeat(columns));
      await rig.run(Promise.all(texts.map((text, row) => lcd.writeLine(row, text))));
      expect(model.lines()).toEqual(texts);
      expect(bus.transfers - transfers).toBe(1);
      // A character is 2 nibbles x (E high, E low) = 4 bytes; a switch of RS costs 1 set-up byte;
      // setting the address is one instruction (4 bytes). After init the cursor is at 0x00. On a
      // 20x4, rows 0, 2, 1, 3 follow each other in DDRAM (0x13 → 0x14, 0x27 → 0x40, 0x53 → 0x54),
      // so no address is set at all; on a 16x2 row 1 (0x40) does not follow row 0 (0x0F).
      const addressSets = rows === 4 ? 0 : 1;
      expect(model.bytesReceived - bytes).toBe(1 + rows * columns * 4 + addressSets * (1 + 4 + 1));
      expect(model.violations).toEqual([]);
    });

    it('a NAK gives a HalError naming the device; the next call initialises again and redraws everything', async () => {
      const lcd = open();
      const { bus, model } = rig.emulated!;
      await rig.run(lcd.writeLine(0, 'before'));
      await rig.run(lcd.defineGlyph(1, GLYPHS.mute));
      bus.nak(0x27, { transfers: 1 });
      const err = await rig.run(rejection(lcd.writeLine(1, 'muted \u0001')));
      expect(err).toBeInstanceOf(HalError);
      expect((err as HalError).device).toBe('i2c-1@0x27 (hd44780)');
      expect((err as HalError).code).toBe('EREMOTEIO');
      expect((err as HalError).message).toMatch(/^i2c-1@0x27 \(hd44780\): write line failed: .*EREMOTEIO/);
      // Meanwhile the LCD lost power: only a full initialisation brings it back.
      model.powerCycle();
      await rig.run(lcd.writeLine(0, 'after'));
      expect(model.initialised).toBe(true);
      expect(model.lines().slice(0, 2)).toEqual(['after'.padEnd(columns), 'muted \u0001'.padEnd(columns)]);
      expect(model.cgram(1)).toEqual(GLYPHS.mute);
      expect(model.violations).toEqual([]);
    });

    it('re-initialises an LCD that kept power, with no violations', async () => {
      const lcd = open();
      const { bus, model } = rig.emulated!;
      await rig.run(lcd.writeLine(0, 'still here'));
      bus.nak(0x27);
      await rig.run(rejection(lcd.writeLine(0, 'lost')));
      await rig.run(rejection(lcd.writeLine(0, 'lost again')));
      bus.clearNak(0x27);
      await rig.run(lcd.writeLine(1, 'back'));
      expect(model.lines().slice(0, 2)).toEqual(['lost again'.padEnd(columns), 'back'.padEnd(columns)]);
      expect(model.violations).toEqual([]);
    });

    it('a driver on the wrong pin map does not produce a working display', async () => {
      const wrong = backend.pins === PCF8574_PIN_MAPS.common ? PCF8574_PIN_MAPS.mjkdz : PCF8574_PIN_MAPS.common;
      const lcd = new Hd44780Display({ bus: rig.bus, address: rig.address, columns, rows, pins: wrong, clock: rig.clock });
      await rig.run(lcd.writeLine(0, 'hello'));
      const { model } = rig.emulated!;
      expect(model.initialised && model.lines()[0] === 'hello'.padEnd(columns)).toBe(false);
    });
  });
}

hd44780Suite(emulatedBackend(16, 2, 'common'));
hd44780Suite(emulatedBackend(20, 4, 'common'));
hd44780Suite(emulatedBackend(16, 2, 'mjkdz'));
hd44780Suite(emulatedBackend(20, 4, 'mjkdz'));
const hardware = hardwareBackend();
if (hardware) hd44780Suite(hardware);
