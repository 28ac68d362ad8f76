// Tests of the emulated hook switch: levels for both contact types on a pulled-up input, and bounce.
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../firmware/util/clock.js';
import { EmulatedGpioChip } from '../../../hal/emulated/emulated-gpio-chip.js';
import { HookSwitchModel } from '../../../hal/emulated/hook-switch-model.js';

const PIN = 17;

describe('HookSwitchModel', () => {
  it.each([
    ['normally-open', 1, 0],
    ['normally-closed', 0, 1],
  ] as const)('%s: reads %i off-hook and %i on-hook with a pull-up', (contact, offHookLevel, onHookLevel) => {
    const clock = new VirtualClock();
    const chip = new EmulatedGpioChip({ clock });
    const model = new HookSwitchModel({ chip, clock, pin: PIN, contact });
    const line = chip.requestInput(PIN, { bias: 'pull-up' });
    expect(model.offHook).toBe(false);
    expect(line.read()).toBe(onHookLevel);
    model.lift();
    expect(line.read()).toBe(offHookLevel);
    model.replace();
    expect(line.read()).toBe(onHookLevel);
  });

  it('starts off-hook when told to', () => {
    const clock = new VirtualClock();
    const chip = new EmulatedGpioChip({ clock });
    new HookSwitchModel({ chip, clock, pin: PIN, contact: 'normally-open', offHook: true });
    expect(chip.requestInput(PIN, { bias: 'pull-up' }).read()).toBe(1);
  });

  it('chatters for bounceMs, then rests', async () => {
    const clock = new VirtualClock();
    const chip = new EmulatedGpioChip({ clock });
    const model = new HookSwitchModel({ chip, clock, pin: PIN, contact: 'normally-open' });
    chip.requestInput(PIN, { bias: 'pull-up' });
    const levels: number[] = [];
    chip.onLevelChange((offset, level) => {
      if (offset === PIN) levels.push(level);
    });
    model.lift({ bounceMs: 20 });
    await clock.advance(100);
    expect(levels.length).toBeGreaterThan(4);
    expect(levels.at(-1)).toBe(1);
    expect(clock.pending).toBe(0);
  });
});
