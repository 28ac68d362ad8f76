// Tests of the SSD1306 model fed raw I2C transfers: control bytes, addressing modes, what the panel shows.
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../firmware/util/clock.js';
import { FONT_6X8 } from '../../../hal/display/font-6x8.js';
import { EmulatedI2cBus } from '../../../hal/emulated/emulated-i2c-bus.js';
import { Ssd1306Model } from '../../../hal/emulated/ssd1306-model.js';
import { settle } from './settle.js';

function rig(height: 64 | 32 = 64) {
  const clock = new VirtualClock();
  const bus = new EmulatedI2cBus({ clock });
  const model = new Ssd1306Model({ height });
  bus.attach(0x3c, model);
  const send = (...bytes: number[]) => settle(clock, bus.write(0x3c, Uint8Array.from(bytes)));
  /** Panel on, upright, with the settings the panel needs. */
  const powerUp = () => send(0x00, 0xa8, height - 1, 0xda, height === 64 ? 0x12 : 0x02, 0x8d, 0x14, 0xa1, 0xc8, 0xaf);
  return { clock, bus, model, send, powerUp };
}

describe('Ssd1306Model', () => {
  it('starts in its reset state: off, page addressing', () => {
    const { model } = rig();
    expect(model.displayOn).toBe(false);
    expect(model.addressingMode).toBe('page');
    expect(model.contrast).toBe(0x7f);
    expect(model.pixel(0, 0)).toBe(false);
  });

  it('decodes a command stream (control 0x00) and lights the panel', async () => {
    const { model, powerUp } = rig();
    await powerUp();
    expect(model.displayOn).toBe(true);
    expect(model.chargePumpOn).toBe(true);
    expect(model.lit).toBe(true);
    expect(model.violations).toEqual([]);
  });

  it('decodes single command bytes (Co = 1) followed by a data stream in one transfer', async () => {
    const { model, send } = rig();
    await send(0x80, 0x20, 0x80, 0x00, 0x80, 0x21, 0x80, 10, 0x80, 11, 0x80, 0x22, 0x80, 3, 0x80, 3, 0x40, 0xaa, 0x55, 0xff);
    expect(model.addressingMode).toBe('horizontal');
    // 0xAA went to column 10, 0x55 to 11, then the window wrapped and 0xFF replaced 0xAA.
    expect([model.ram(10, 3), model.ram(11, 3)]).toEqual([0xff, 0x55]);
    expect(model.pointer).toEqual({ column: 11, page: 3 });
  });

  it('keeps a command waiting for its argument across transfers', async () => {
    const { model, send } = rig();
    await send(0x00, 0x81);
    await send(0x00, 0x40);
    expect(model.contrast).toBe(0x40);
  });

  it('moves the pointer per addressing mode: horizontal wraps to the next page, vertical to the next column', async () => {
    const { model, send } = rig();
    await send(0x00, 0x20, 0x00, 0x21, 0, 1, 0x22, 0, 1);
    await send(0x40, 1, 2, 3, 4, 5);
    expect([model.ram(0, 0), model.ram(1, 0), model.ram(0, 1), model.ram(1, 1)]).toEqual([5, 2, 3, 4]);
    await send(0x00, 0x20, 0x01, 0x21, 5, 6, 0x22, 2, 3);
    await send(0x40, 1, 2, 3);
    expect([model.ram(5, 2), model.ram(5, 3), model.ram(6, 2)]).toEqual([1, 2, 3]);
  });

  it('page addressing: 0xB0..0xB7 and 0x00..0x1F set the pointer; the column wraps within the page', async () => {
    const { model, send } = rig();
    await send(0x00, 0x20, 0x02, 0xb2, 0x0e, 0x17);
    expect(model.pointer).toEqual({ column: 0x7e, page: 2 });
    await send(0x40, 1, 2, 3);
    // 1 at 0x7E, 2 at 0x7F, then back to the page's column start 0x7E: 3 replaces 1.
    expect([model.ram(0x7e, 2), model.ram(0x7f, 2), model.ram(0x7e, 3)]).toEqual([3, 2, 0]);
    expect(model.pointer.page).toBe(2);
  });

  it('shows GDDRAM upright with 0xA1/0xC8 and mirrored with 0xA0/0xC0', async () => {
    const { model, send, powerUp } = rig();
    await powerUp();
    await send(0x00, 0x20, 0x00, 0x21, 0, 127, 0x22, 0, 7);
    await send(0x40, 0x01); // column 0, page 0, bit 0: the top-left pixel
    expect(model.pixel(0, 0)).toBe(true);
    await send(0x00, 0xa0);
    expect(model.pixel(127, 0)).toBe(true);
    await send(0x00, 0xc0);
    expect(model.pixel(127, 63)).toBe(true);
    await send(0x00, 0xa1, 0xc8, 0xa7);
    expect(model.pixel(0, 0)).toBe(false);
    expect(model.pixel(1, 0)).toBe(true);
    await send(0x00, 0xa6, 0xa5);
    expect(model.pixel(64, 32)).toBe(true);
  });

  it('reads text back by matching 6x8 cells against the font and extra glyphs', async () => {
    const { model, send, powerUp } = rig(32);
    await powerUp();
    await send(0x00, 0x20, 0x00, 0x21, 0, 17, 0x22, 1, 1);
    const bell = [0x04, 0x0e, 0x0e, 0x0e, 0x0e, 0x1f, 0x04, 0x00];
    const bellColumns = [0, 1, 2, 3, 4].map((c) => bell.reduce((b, bits, r) => ((bits >> (4 - c)) & 1 ? b | (1 << r) : b), 0));
    await send(0x40, ...(FONT_6X8.glyph('O') ?? []), ...(FONT_6X8.glyph('k') ?? []), ...bellColumns, 0);
    const rows = model.textRows(FONT_6X8, { glyphs: new Map([['\u0002', bell]]) });
    expect(rows).toHaveLength(4);
    expect(rows[1]).toBe('Ok\u0002'.padEnd(21));
    expect(model.textRows(FONT_6X8)[1]?.slice(0, 3)).toBe('Ok\uFFFD');
  });

  it('flags a panel switched on without charge pump, or with a multiplex and COM configuration of another panel', async () => {
    const { model, send } = rig(32);
    await send(0x00, 0xaf);
    expect(model.lit).toBe(false);
    expect(model.violations).toEqual([
      expect.stringMatching(/charge pump off/),
      expect.stringMatching(/multiplex ratio 64 on a 32-row panel/),
      expect.stringMatching(/needs 0x02 \(sequential\)/),
    ]);
  });

  it('flags unknown commands, bad control bytes and GDDRAM writes while scrolling', async () => {
    const { model, send } = rig();
    await send(0x00, 0xfe);
    await send(0x01, 0xe3);
    await send(0x00, 0x2f);
    await send(0x40, 0x00);
    expect(model.violations).toEqual([
      expect.stringMatching(/unknown command 0xfe/),
      expect.stringMatching(/control byte 0x01/),
      expect.stringMatching(/while scrolling/),
    ]);
  });

  it('answers a read with the status byte (bit 6: display off) and counts bytes', async () => {
    const { clock, bus, model, powerUp } = rig();
    expect([...(await settle(clock, bus.read(0x3c, 1)))]).toEqual([0x40]);
    await powerUp();
    expect([...(await settle(clock, bus.read(0x3c, 1)))]).toEqual([0x00]);
    expect(model.bytesReceived).toBe(10);
  });
});
