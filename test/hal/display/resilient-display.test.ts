// Tests of the resilient display on the emulated backpack: the phone keeps writing through NAKs and the screen comes back.
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../firmware/util/clock.js';
import { GLYPHS } from '../../../hal/display/glyphs.js';
import { Hd44780Display } from '../../../hal/display/hd44780.js';
import { PCF8574_PIN_MAPS } from '../../../hal/display/pcf8574-pins.js';
import { ResilientDisplay } from '../../../hal/display/resilient-display.js';
import { EmulatedI2cBus } from '../../../hal/emulated/emulated-i2c-bus.js';
import { Pcf8574Hd44780Model } from '../../../hal/emulated/pcf8574-hd44780.js';
import type { HalError } from '../../../hal/errors.js';
import { QueuedI2cBus } from '../../../hal/i2c/i2c-bus.js';
import { settle } from '../emulated/settle.js';

interface LogRecord {
  level: number;
  msg: string;
}
const WARN = 40;
const INFO = 30;

function rig() {
  const clock = new VirtualClock();
  const emulated = new EmulatedI2cBus({ clock, name: 'i2c-1' });
  const model = new Pcf8574Hd44780Model({ clock, columns: 20, rows: 4 });
  emulated.attach(0x27, model);
  const records: LogRecord[] = [];
  const log = pino({ level: 'debug' }, { write: (line: string) => records.push(JSON.parse(line) as LogRecord) });
  const lcd = new Hd44780Display({ bus: new QueuedI2cBus(emulated), address: 0x27, columns: 20, rows: 4, pins: PCF8574_PIN_MAPS.common, clock });
  const display = new ResilientDisplay({ display: lcd, clock, log });
  const errors: HalError[] = [];
  const errorTimesMs: number[] = [];
  let recovered = 0;
  display.on('error', (e) => {
    errors.push(e);
    errorTimesMs.push(clock.now());
  });
  display.on('recovered', () => recovered++);
  return { clock, bus: emulated, model, display, records, errors, errorTimesMs, recovered: () => recovered };
}

describe('ResilientDisplay', () => {
  it('passes calls through while the display works', async () => {
    const { clock, model, display } = rig();
    await settle(clock, display.init());
    await settle(clock, display.writeLine(0, 'Registered 1001'));
    expect(display.capabilities.columns).toBe(20);
    expect(display.name).toBe('i2c-1@0x27 (hd44780)');
    expect(model.lines()[0]).toBe('Registered 1001'.padEnd(20));
    expect(display.healthy).toBe(true);
  });

  it('keeps the phone writing during NAKs, reports once, retries with backoff, then shows the latest content', async () => {
    const { clock, bus, model, display, records, errors, errorTimesMs, recovered } = rig();
    await settle(clock, display.init());
    await settle(clock, display.writeLine(0, 'Idle'));

    bus.nak(0x27);
    for (let frame = 0; frame < 15; frame++) {
      // Every call resolves: the phone never sees the failure.
      await settle(clock, display.writeLine(1, `frame ${frame}`));
      await clock.advance(50);
    }
    expect(errors).toHaveLength(1);
    expect(errors[0]?.device).toBe('i2c-1@0x27 (hd44780)');
    expect(errors[0]?.code).toBe('EREMOTEIO');
    expect(records.filter((r) => r.level >= WARN)).toHaveLength(1);
    expect(display.healthy).toBe(false);

    // 15 frames x 50 ms: still before the first retry. Retries follow 1, 2, 4, 8, 16, 30, 30 s after
    // the failure, each one refused at its first byte; frames written meanwhile never reach the bus.
    const failedAt = errorTimesMs[0] ?? Number.NaN;
    const attemptsBy = async (atMs: number) => {
      await clock.advance(atMs - clock.now());
      return bus.transfers;
    };
    const start = bus.transfers;
    const gaps = [1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000];
    let due = failedAt;
    for (const [retry, gap] of gaps.entries()) {
      due += gap;
      expect(await attemptsBy(due - 1)).toBe(start + retry);
      expect(await attemptsBy(due + 1)).toBe(start + retry + 1);
    }
    expect(errors).toHaveLength(1);

    await settle(clock, display.writeLine(2, 'latest'));
    bus.clearNak(0x27);
    await clock.advance(30_000 + 200);
    expect(recovered()).toBe(1);
    expect(display.healthy).toBe(true);
    expect(model.lines()).toEqual(['Idle'.padEnd(20), 'frame 14'.padEnd(20), 'latest'.padEnd(20), ' '.repeat(20)]);
    expect(model.violations).toEqual([]);
    expect(records.filter((r) => r.level === INFO && r.msg === 'display recovered')).toHaveLength(1);

    // Back to normal: calls reach the device again, and a new outage is reported again.
    await settle(clock, display.writeLine(3, 'bottom'));
    expect(model.lines()[3]).toBe('bottom'.padEnd(20));
    bus.nak(0x27, { transfers: 1 });
    await settle(clock, display.writeLine(3, 'again'));
    expect(errors).toHaveLength(2);
    await clock.advance(1_200);
    expect(recovered()).toBe(2);
    expect(model.lines()[3]).toBe('again'.padEnd(20));
  });

  it('restores glyphs, backlight and text on an LCD that lost power during the outage', async () => {
    const { clock, bus, model, display, recovered } = rig();
    await settle(clock, display.init());
    await settle(clock, display.defineGlyph(0, GLYPHS.lock));
    bus.nak(0x27);
    await settle(clock, display.writeLine(0, '\u0000 Secure call'));
    await settle(clock, display.setBacklight(false));
    model.powerCycle();
    bus.clearNak(0x27);
    await clock.advance(1_200);
    expect(recovered()).toBe(1);
    expect(model.initialised).toBe(true);
    expect(model.cgram(0)).toEqual(GLYPHS.lock);
    expect(model.backlight).toBe(false);
    expect(model.lines()[0]).toBe('\u0000 Secure call'.padEnd(20));
    expect(model.violations).toEqual([]);
  });

  it('catches up with writes made while the retry is redrawing', async () => {
    const { clock, bus, model, display, recovered } = rig();
    bus.nak(0x27, { transfers: 1 });
    await settle(clock, display.init()); // fails: reported, retried in 1 s
    await clock.advance(1_000 + 20); // the retry is inside its 50 ms power-on wait
    await settle(clock, display.writeLine(0, 'written mid-retry'));
    await clock.advance(500);
    expect(recovered()).toBe(1);
    expect(model.lines()[0]).toBe('written mid-retry'.padEnd(20));
  });

  it('never rejects on a device failure, but does on a caller bug', async () => {
    const { clock, bus, display, errors } = rig();
    bus.nak(0x27);
    await expect(settle(clock, display.init())).resolves.toBeUndefined();
    await expect(settle(clock, display.clear())).resolves.toBeUndefined();
    expect(errors).toHaveLength(1);
    await expect(display.writeLine(4, 'no such row')).rejects.toThrow(RangeError);
    await expect(display.defineGlyph(9, GLYPHS.bell)).rejects.toThrow(RangeError);
  });

  it('stops retrying once closed', async () => {
    const { clock, bus, display } = rig();
    bus.nak(0x27);
    await settle(clock, display.init());
    await display.close();
    const transfers = bus.transfers;
    await clock.advance(120_000);
    expect(bus.transfers).toBe(transfers);
  });
});
