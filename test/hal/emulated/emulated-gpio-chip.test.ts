// Tests of the emulated GPIO chip: bias, outputs, open drain, switches between lines, edges, faults and request errors.
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../firmware/util/clock.js';
import { EmulatedGpioChip } from '../../../hal/emulated/emulated-gpio-chip.js';
import type { GpioEdgeEvent } from '../../../hal/gpio/gpio.js';
import { halCode } from '../../support/hal-code.js';

function setup(): { clock: VirtualClock; chip: EmulatedGpioChip } {
  const clock = new VirtualClock();
  return { clock, chip: new EmulatedGpioChip({ clock, lines: 32 }) };
}

describe('EmulatedGpioChip', () => {
  it('reads an undriven input from its bias, and the external level over the bias', () => {
    const { chip } = setup();
    const up = chip.requestInput(3, { bias: 'pull-up' });
    const down = chip.requestInput(4, { bias: 'pull-down' });
    const floating = chip.requestInput(5);
    expect([up.read(), down.read(), floating.read()]).toEqual([1, 0, 0]);
    chip.setInput(3, 0);
    chip.setInput(4, 1);
    expect([up.read(), down.read()]).toEqual([0, 1]);
    chip.setInput(3, undefined);
    expect(up.read()).toBe(1);
  });

  it('lets a test read what an output drives, and refuses writes to inputs', () => {
    const { chip } = setup();
    const out = chip.requestOutput(7, { initial: 1 });
    expect(chip.outputLevel(7)).toBe(1);
    out.write(0);
    expect(chip.outputLevel(7)).toBe(0);
    expect(out.read()).toBe(0);
    expect(chip.writeCount(7)).toBe(1);
    const input = chip.requestInput(8);
    expect(halCode(() => input.write(1))).toBe('EPERM');
    expect(halCode(() => chip.outputLevel(8))).toBe('EINVAL');
  });

  it('refuses a second request (EBUSY), offsets out of range (EINVAL), stale handles (EBADF), and requests after close (ENODEV)', () => {
    const { chip } = setup();
    const line = chip.requestInput(1);
    expect(halCode(() => chip.requestOutput(1, { initial: 0 }))).toBe('EBUSY');
    expect(halCode(() => chip.requestInput(32))).toBe('EINVAL');
    expect(halCode(() => chip.requestInput(-1))).toBe('EINVAL');
    expect(halCode(() => chip.setInput(99, 1))).toBe('EINVAL');
    line.release();
    expect(halCode(() => line.read())).toBe('EBADF');
    const again = chip.requestOutput(1, { initial: 1 });
    expect(again.read()).toBe(1);
    line.release(); // a stale handle's release must not free the new owner
    expect(chip.info(1).requested).toBe(true);
    chip.close();
    expect(halCode(() => chip.requestInput(2))).toBe('ENODEV');
  });

  it('models open drain: writing 1 releases the line to the pull-up, writing 0 pulls the net low', () => {
    const { chip } = setup();
    const column = chip.requestOutput(10, { initial: 1, drive: 'open-drain' });
    const row = chip.requestInput(11, { bias: 'pull-up' });
    chip.link(10, 11);
    expect(row.read()).toBe(1);
    expect(column.read()).toBe(1);
    column.write(0);
    expect(row.read()).toBe(0);
    chip.unlink(10, 11);
    expect(row.read()).toBe(1);
    expect(chip.contentions).toEqual([]);
  });

  it('records a short when push-pull outputs drive one net both ways', async () => {
    const { clock, chip } = setup();
    chip.requestOutput(12, { initial: 1 });
    chip.requestOutput(13, { initial: 0 });
    await clock.advance(3);
    chip.link(12, 13);
    expect(chip.contentions).toEqual([{ atMs: 3, offsets: [12, 13] }]);
    chip.setInput(20, 1); // unrelated changes do not record the same short again
    expect(chip.contentions).toHaveLength(1);
  });

  it('delivers matching edges asynchronously with the clock time of the change', async () => {
    const { clock, chip } = setup();
    const falling: GpioEdgeEvent[] = [];
    const both: GpioEdgeEvent[] = [];
    chip.requestInput(2, { bias: 'pull-up', edge: 'falling' }).onEdge((e) => falling.push(e));
    chip.requestInput(3, { bias: 'pull-up', edge: 'both' }).onEdge((e) => both.push(e));
    await clock.advance(12.5);
    chip.setInput(2, 0);
    chip.setInput(3, 0);
    expect(falling).toEqual([]); // not inside setInput()
    await clock.advance(1);
    chip.setInput(2, undefined);
    chip.setInput(3, undefined);
    await clock.advance(0);
    expect(falling).toEqual([{ level: 0, timestampNs: 12_500_000n }]);
    expect(both).toEqual([
      { level: 0, timestampNs: 12_500_000n },
      { level: 1, timestampNs: 13_500_000n },
    ]);
  });

  it('delivers no edge to a released line, nor to a line with edge none', async () => {
    const { clock, chip } = setup();
    const seen: GpioEdgeEvent[] = [];
    const line = chip.requestInput(4, { bias: 'pull-up', edge: 'both' });
    line.onEdge((e) => seen.push(e));
    chip.requestInput(5, { bias: 'pull-up' }).onEdge((e) => seen.push(e));
    chip.setInput(4, 0);
    chip.setInput(5, 0);
    line.release();
    await clock.advance(1);
    expect(seen).toEqual([]);
  });

  it('reports every level change to test-side listeners', async () => {
    const { clock, chip } = setup();
    const changes: [number, number, number][] = [];
    chip.onLevelChange((offset, level, atMs) => changes.push([offset, level, atMs]));
    const out = chip.requestOutput(6, { initial: 0 });
    await clock.advance(5);
    out.write(1);
    out.write(1);
    expect(changes).toEqual([[6, 1, 5]]);
  });

  it('fails reads and writes with the injected errno until the fault is cleared', () => {
    const { chip } = setup();
    const out = chip.requestOutput(9, { initial: 0 });
    chip.injectFault(9, 'EIO');
    expect(halCode(() => out.write(1))).toBe('EIO');
    expect(halCode(() => out.read())).toBe('EIO');
    chip.clearFault(9);
    out.write(1);
    expect(chip.outputLevel(9)).toBe(1);
  });

  it('describes requested lines like gpioinfo', () => {
    const { chip } = setup();
    chip.requestInput(14, { bias: 'pull-up', edge: 'falling', consumer: 'row' });
    chip.requestOutput(15, { initial: 0, drive: 'open-drain', consumer: 'column' });
    expect(chip.info(14)).toMatchObject({ requested: true, direction: 'input', bias: 'pull-up', edge: 'falling', consumer: 'row', level: 1 });
    expect(chip.info(15)).toMatchObject({ requested: true, direction: 'output', drive: 'open-drain', level: 0 });
    expect(chip.info(16)).toMatchObject({ requested: false, direction: undefined });
  });
});
