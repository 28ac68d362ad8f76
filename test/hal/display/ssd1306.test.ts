// The SSD1306 driver suite: run on the emulated OLED always, and on a real one when OFFHOOK_HW=1 names it.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../firmware/util/clock.js';
import { FONT_6X8 } from '../../../hal/display/font-6x8.js';
import { GLYPHS, loadGlyphs } from '../../../hal/display/glyphs.js';
import { Ssd1306Display } from '../../../hal/display/ssd1306.js';
import { EmulatedI2cBus } from '../../../hal/emulated/emulated-i2c-bus.js';
import { Ssd1306Model } from '../../../hal/emulated/ssd1306-model.js';
import { HalError } from '../../../hal/errors.js';
import { QueuedI2cBus, type I2cBus } from '../../../hal/i2c/i2c-bus.js';
import { LinuxI2cBus } from '../../../hal/i2c/linux-i2c-bus.js';
import { settle } from '../emulated/settle.js';

interface Rig {
  bus: I2cBus;
  address: number;
  run<T>(promise: Promise<T>): Promise<T>;
  emulated?: { bus: EmulatedI2cBus; model: Ssd1306Model };
  close(): Promise<void>;
}

interface Backend {
  label: string;
  height: 64 | 32;
  emulated: boolean;
  make(): Promise<Rig>;
}

function emulatedBackend(height: 64 | 32): Backend {
  return {
    label: `emulated 128x${height}`,
    height,
    emulated: true,
    make: () => {
      const clock = new VirtualClock();
      const bus = new EmulatedI2cBus({ clock, name: 'i2c-1' });
      const model = new Ssd1306Model({ height });
      bus.attach(0x3c, model);
      return Promise.resolve({
        bus: new QueuedI2cBus(bus),
        address: 0x3c,
        run: (promise) => settle(clock, promise),
        emulated: { bus, model },
        close: () => bus.close(),
      });
    },
  };
}

/** OFFHOOK_HW=1 OFFHOOK_I2C_BUS=1 OFFHOOK_OLED_ADDR=0x3c [OFFHOOK_OLED_HEIGHT=32] */
function hardwareBackend(): Backend | undefined {
  const env = process.env;
  if (env.OFFHOOK_HW !== '1' || !env.OFFHOOK_I2C_BUS || !env.OFFHOOK_OLED_ADDR) return undefined;
  const busNumber = Number(env.OFFHOOK_I2C_BUS);
  const address = Number(env.OFFHOOK_OLED_ADDR);
  const height = env.OFFHOOK_OLED_HEIGHT === '32' ? 32 : 64;
  return {
    label: `hardware /dev/i2c-${busNumber} @0x${address.toString(16)} 128x${height}`,
    height,
    emulated: false,
    make: async () => {
      const linux = await LinuxI2cBus.open({ busNumber });
      return { bus: new QueuedI2cBus(linux), address, run: (promise) => promise, close: () => linux.close() };
    },
  };
}

function ssd1306Suite(backend: Backend): void {
  describe(`Ssd1306Display on ${backend.label}`, () => {
    const { height } = backend;
    const rows = height / 8;
    const blank = ' '.repeat(21);
    let rig: Rig;
    beforeEach(async () => {
      rig = await backend.make();
    });
    afterEach(async () => {
      await rig.close();
    });
    const open = () => new Ssd1306Display({ bus: rig.bus, address: rig.address, height });
    const text = () => rig.emulated?.model.textRows(FONT_6X8);

    it(`initialises a 128x${height} panel: ${rows} rows of 21 characters, charge pump on`, async () => {
      const oled = open();
      await rig.run(oled.init());
      expect(oled.capabilities).toEqual({ columns: 21, rows, customCharacters: 8, backlight: true, glyphWidth: 5, glyphHeight: 8 });
      const model = rig.emulated?.model;
      if (model) {
        expect(model.violations).toEqual([]);
        expect(model.displayOn).toBe(true);
        expect(model.lit).toBe(true);
        expect(model.multiplexRatio).toBe(height);
        expect(model.comPinsConfig).toBe(height === 64 ? 0x12 : 0x02);
        expect(text()).toEqual(Array<string>(rows).fill(blank));
      }
    });

    it('shows text rows, read back through the font', async () => {
      const oled = open();
      await rig.run(oled.writeLine(0, 'offhook'));
      await rig.run(oled.writeLine(1, 'Registered 1001'));
      await rig.run(oled.writeLine(rows - 1, 'a much longer line than fits'));
      const shown = text();
      if (shown) {
        expect(shown[0]).toBe('offhook'.padEnd(21));
        expect(shown[1]).toBe('Registered 1001'.padEnd(21));
        expect(shown[rows - 1]).toBe('a much longer line th');
      }
    });

    it('renders custom glyph slots from their bitmaps and redraws the cells when a glyph changes', async () => {
      const oled = open();
      const chars = await rig.run(loadGlyphs(oled, ['signal', 'lock']));
      await rig.run(oled.writeLine(0, `${chars.signal} SIP ${chars.lock}`));
      const model = rig.emulated?.model;
      if (model) {
        const glyphs = new Map([
          ['\u0000', GLYPHS.signal],
          ['\u0001', GLYPHS.lock],
        ]);
        expect(model.textRows(FONT_6X8, { glyphs })[0]).toBe('\u0000 SIP \u0001'.padEnd(21));
        const before = model.bytesReceived;
        await rig.run(oled.defineGlyph(1, GLYPHS.envelope));
        // One cell: the window (6 single commands, 12 bytes), the data control byte and 6 columns.
        expect(model.bytesReceived - before).toBe(12 + 1 + 6);
        expect(model.textRows(FONT_6X8, { glyphs: new Map([['\u0001', GLYPHS.envelope]]) })[0]?.slice(6, 7)).toBe('\u0001');
      }
    });

    it('shows ? for characters outside the font', async () => {
      const oled = open();
      await rig.run(oled.writeLine(0, '21°C'));
      expect(text()?.[0]).toBe('21?C'.padEnd(21));
    });

    it('maps setBacklight to display off / on, keeping GDDRAM', async () => {
      const oled = open();
      await rig.run(oled.writeLine(0, 'dark soon'));
      await rig.run(oled.setBacklight(false));
      const model = rig.emulated?.model;
      if (model) {
        expect(model.displayOn).toBe(false);
        expect(model.textRows(FONT_6X8)[0]).toBe(blank);
      }
      await rig.run(oled.setBacklight(true));
      if (model) {
        expect(model.displayOn).toBe(true);
        expect(model.textRows(FONT_6X8)[0]).toBe('dark soon'.padEnd(21));
      }
    });

    it('clears', async () => {
      const oled = open();
      await rig.run(oled.writeLine(0, 'x'));
      await rig.run(oled.writeLine(1, 'y'));
      await rig.run(oled.clear());
      const shown = text();
      if (shown) expect(shown).toEqual(Array<string>(rows).fill(blank));
    });

    if (!backend.emulated) return;

    it('sends no bytes for an unchanged screen, and only the changed cells otherwise', async () => {
      const oled = open();
      const { model, bus } = rig.emulated!;
      await rig.run(oled.writeLine(1, 'Registered 1001'));
      let bytes = model.bytesReceived;
      const transfers = bus.transfers;
      await rig.run(oled.writeLine(1, 'Registered 1001'));
      await rig.run(oled.defineGlyph(3, GLYPHS.hold)); // no cell shows slot 3
      await rig.run(oled.setBacklight(true));
      expect(model.bytesReceived).toBe(bytes);
      expect(bus.transfers).toBe(transfers);
      await rig.run(oled.writeLine(1, 'Registered 1002'));
      expect(model.bytesReceived - bytes).toBe(12 + 1 + 6);
      // Changes at columns 0 and 3 travel as one run of 4 cells: resending 2 cells (12 bytes) is
      // cheaper than a second window (12 bytes + control byte) in a second transfer.
      bytes = model.bytesReceived;
      const before = bus.transfers;
      await rig.run(oled.writeLine(1, 'Xeg1stered 1002'));
      expect(bus.transfers - before).toBe(1);
      expect(model.bytesReceived - bytes).toBe(12 + 1 + 4 * 6);
      expect(model.textRows(FONT_6X8)[1]).toBe('Xeg1stered 1002'.padEnd(21));
    });

    it('a NAK gives a HalError naming the device; the next call initialises again and redraws everything', async () => {
      const oled = open();
      const { bus, model } = rig.emulated!;
      await rig.run(oled.writeLine(0, 'before'));
      bus.nak(0x3c, { transfers: 1 });
      const err = await rig.run(oled.writeLine(1, 'during').catch((e: unknown) => e));
      expect(err).toBeInstanceOf(HalError);
      expect((err as HalError).device).toBe('i2c-1@0x3c (ssd1306)');
      expect((err as HalError).code).toBe('EREMOTEIO');
      await rig.run(oled.writeLine(2, 'after'));
      expect(model.textRows(FONT_6X8).slice(0, 3)).toEqual(['before', 'during', 'after'].map((t) => t.padEnd(21)));
      expect(model.violations).toEqual([]);
    });
  });
}

ssd1306Suite(emulatedBackend(64));
ssd1306Suite(emulatedBackend(32));
const hardware = hardwareBackend();
if (hardware) ssd1306Suite(hardware);
