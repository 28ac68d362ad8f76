// Tests of the emulated keypad matrix: crossings, ghosting through a diode-less matrix, and deterministic bounce.
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../firmware/util/clock.js';
import { EmulatedGpioChip } from '../../../hal/emulated/emulated-gpio-chip.js';
import { KeypadMatrixModel } from '../../../hal/emulated/keypad-matrix-model.js';
import { HalError } from '../../../hal/errors.js';
import type { GpioLevel, GpioLine } from '../../../hal/gpio/gpio.js';

const ROWS = [5, 6, 13, 19];
const COLUMNS = [12, 16, 20];
const LAYOUT = [
  ['1', '2', '3'],
  ['4', '5', '6'],
  ['7', '8', '9'],
  ['*', '0', '#'],
];

function rig(seed = 1): { clock: VirtualClock; chip: EmulatedGpioChip; model: KeypadMatrixModel; rows: GpioLine[]; columns: GpioLine[] } {
  const clock = new VirtualClock();
  const chip = new EmulatedGpioChip({ clock });
  const model = new KeypadMatrixModel({ chip, clock, rowPins: ROWS, columnPins: COLUMNS, layout: LAYOUT, seed });
  const rows = ROWS.map((pin) => chip.requestInput(pin, { bias: 'pull-up' }));
  const columns = COLUMNS.map((pin) => chip.requestOutput(pin, { initial: 1, drive: 'open-drain' }));
  return { clock, chip, model, rows, columns };
}

/** Pulls one column low (the others released) and returns which rows read 0. */
function scanColumn(rows: GpioLine[], columns: GpioLine[], col: number): boolean[] {
  columns.forEach((c, i) => c.write(i === col ? 0 : 1));
  const result = rows.map((r) => r.read() === 0);
  for (const c of columns) c.write(1);
  return result;
}

describe('KeypadMatrixModel', () => {
  it('joins a row to a column only at a pressed crossing', () => {
    const { model, rows, columns } = rig();
    model.press(1, 2);
    expect(scanColumn(rows, columns, 2)).toEqual([false, true, false, false]);
    expect(scanColumn(rows, columns, 0)).toEqual([false, false, false, false]);
    model.release(1, 2);
    expect(scanColumn(rows, columns, 2)).toEqual([false, false, false, false]);
  });

  it('presses by key name through the layout', () => {
    const { model, rows, columns } = rig();
    model.pressKey('#');
    expect(model.isClosed(3, 2)).toBe(true);
    expect(scanColumn(rows, columns, 2)).toEqual([false, false, false, true]);
    expect(() => model.pressKey('X')).toThrow(HalError);
    expect(() => model.press(4, 0)).toThrow(HalError);
  });

  it('shows the fourth corner of a rectangle as pressed when three are (a ghost)', () => {
    const { model, rows, columns } = rig();
    model.pressKey('1');
    model.pressKey('2');
    model.pressKey('4');
    // Column 1 pulls row 0 low through '2', row 0 pulls column 0 through '1', column 0 pulls row 1 through '4'.
    expect(scanColumn(rows, columns, 1)).toEqual([true, true, false, false]);
    model.releaseKey('1');
    expect(scanColumn(rows, columns, 1)).toEqual([true, false, false, false]);
  });

  it('chatters for bounceMs and settles, the same way for the same seed', async () => {
    const traces: string[] = [];
    for (const seed of [7, 7, 8]) {
      const { clock, chip, model, columns } = rig(seed);
      columns[0]!.write(0);
      const trace: [number, GpioLevel][] = [];
      chip.onLevelChange((offset, level, atMs) => {
        if (offset === ROWS[0]) trace.push([atMs, level]);
      });
      model.press(0, 0, { bounceMs: 5 });
      await clock.advance(20);
      expect(trace[0]).toEqual([0, 0]);
      expect(trace.length).toBeGreaterThan(2);
      expect(trace.at(-1)![1]).toBe(0);
      expect(trace.at(-1)![0]).toBeLessThanOrEqual(5);
      expect(chip.level(ROWS[0]!)).toBe(0);
      traces.push(JSON.stringify(trace));
    }
    expect(traces[0]).toBe(traces[1]);
    expect(traces[0]).not.toBe(traces[2]);
  });

  it('a new press or release during chatter takes over', async () => {
    const { clock, chip, model, columns } = rig();
    columns[0]!.write(0);
    model.press(0, 0, { bounceMs: 10 });
    await clock.advance(2);
    model.release(0, 0);
    await clock.advance(20);
    expect(model.isClosed(0, 0)).toBe(false);
    expect(chip.level(ROWS[0]!)).toBe(1);
    expect(clock.pending).toBe(0);
  });
});
