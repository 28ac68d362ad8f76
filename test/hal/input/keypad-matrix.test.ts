// The KeypadMatrix driver suite: always on the emulated chip, and on a real board when OFFHOOK_HW=1 names the pins.
import { afterEach, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../firmware/util/clock.js';
import type { KeyEvent } from '../../../hal/devices.js';
import { EmulatedGpioChip } from '../../../hal/emulated/emulated-gpio-chip.js';
import { KeypadMatrixModel } from '../../../hal/emulated/keypad-matrix-model.js';
import { HalError } from '../../../hal/errors.js';
import { KEYPAD_LAYOUTS, KeypadMatrix, type KeypadLayoutName } from '../../../hal/input/keypad-matrix.js';
import { emulatedRig, hardwarePins, hardwareRig, type GpioRig } from '../gpio/hardware-backend.js';

/** One board for one test: the chip, its clock, and (emulated only) the key matrix a test can press. */
type KeypadRig = GpioRig<{ model: KeypadMatrixModel }>;

interface KeypadBackend {
  name: string;
  /** Only the emulated backend has a finger (or a scope): the cases that need one are registered for it alone. */
  kind: 'emulated' | 'hardware';
  layout: KeypadLayoutName;
  rowPins: readonly number[];
  columnPins: readonly number[];
  rig(): Promise<KeypadRig>;
}

function emulatedBackend(layout: KeypadLayoutName): KeypadBackend {
  const rowPins = [5, 6, 13, 19];
  const columnPins = layout === '4x3' ? [12, 16, 20] : [12, 16, 20, 21];
  return {
    kind: 'emulated',
    name: `emulated chip (${layout})`,
    layout,
    rowPins,
    columnPins,
    rig: () => emulatedRig((chip, clock) => ({ model: new KeypadMatrixModel({ chip, clock, rowPins, columnPins, layout: KEYPAD_LAYOUTS[layout] }) })),
  };
}

function hardwareBackend(): KeypadBackend | undefined {
  const rowPins = hardwarePins('OFFHOOK_HW_KEYPAD_ROWS');
  const columnPins = hardwarePins('OFFHOOK_HW_KEYPAD_COLUMNS');
  if (rowPins?.length !== 4 || (columnPins?.length !== 3 && columnPins?.length !== 4)) return undefined;
  return {
    kind: 'hardware',
    name: 'hardware (sysfs)',
    layout: columnPins.length === 3 ? '4x3' : '4x4',
    rowPins,
    columnPins,
    rig: () => hardwareRig(),
  };
}

/** Events without their times, for comparisons. */
function plain(events: readonly KeyEvent[]): string[] {
  return events.map((e) => `${e.key} ${e.type}`);
}

function keypadSuite(backend: KeypadBackend): void {
  describe(`KeypadMatrix on ${backend.name}`, () => {
    let rig: KeypadRig | undefined;
    afterEach(async () => {
      await rig?.dispose();
      rig = undefined;
    });

    async function started(options: { debounceMs?: number; longPressMs?: number; scanIntervalMs?: number } = {}) {
      rig = await backend.rig();
      const keypad = new KeypadMatrix({
        chip: rig.chip,
        clock: rig.clock,
        rowPins: backend.rowPins,
        columnPins: backend.columnPins,
        layout: backend.layout,
        ...options,
      });
      const events: KeyEvent[] = [];
      const errors: HalError[] = [];
      keypad.on('key', (e) => events.push(e));
      keypad.on('error', (e) => errors.push(e));
      await keypad.start();
      return { rig, keypad, events, errors };
    }

    it('reports nothing while nobody touches it', async () => {
      const { rig, keypad, events, errors } = await started();
      await rig.wait(300);
      expect(events).toEqual([]);
      expect(errors).toEqual([]);
      await keypad.close();
    });

    it('releases its lines on close, so they can be requested again', async () => {
      const { rig, keypad } = await started();
      await keypad.close();
      const line = rig.chip.requestInput(backend.rowPins[0]!);
      line.release();
    });

    it('refuses to start on lines another consumer holds', async () => {
      const { rig } = await started();
      const second = new KeypadMatrix({ chip: rig.chip, clock: rig.clock, rowPins: backend.rowPins, columnPins: backend.columnPins, layout: backend.layout });
      await expect(second.start()).rejects.toMatchObject({ name: 'HalError', code: 'EBUSY' });
    });

    // The rest needs a finger: only the emulated matrix has one.
    if (backend.kind === 'emulated') {
      const layout = KEYPAD_LAYOUTS[backend.layout];

      // At a 1 ms scan the chatter itself is sampled, so only the debounce keeps the events single.
      it.each([1, 5])('reports every key exactly once (one down, one up) under 5 ms of bounce, scanning every %i ms', async (scanIntervalMs) => {
        const { rig, events, errors } = await started({ scanIntervalMs });
        const { model, clock } = rig.emulated!;
        const expected: string[] = [];
        for (const key of layout.flat()) {
          const pressedAt = clock.now();
          model.pressKey(key, { bounceMs: 5 });
          await clock.advance(60);
          model.releaseKey(key, { bounceMs: 5 });
          await clock.advance(60);
          expected.push(`${key} down`, `${key} up`);
          const down = events.find((e) => e.key === key && e.type === 'down');
          expect(down!.atMs - pressedAt).toBeGreaterThanOrEqual(10);
        }
        expect(plain(events)).toEqual(expected);
        expect(errors).toEqual([]);
      });

      it('rejects a ghost: holding 1 and 2 then pressing 4 reports neither 4 nor the ghost 5', async () => {
        const { rig, events } = await started();
        const { model, clock } = rig.emulated!;
        model.pressKey('1', { bounceMs: 3 });
        await clock.advance(50);
        model.pressKey('2', { bounceMs: 3 });
        await clock.advance(50);
        model.pressKey('4', { bounceMs: 3 });
        await clock.advance(200);
        // 1 and 2 stay down (no false 'up' while they are ambiguous), 4 and 5 are never reported.
        expect(plain(events)).toEqual(['1 down', '2 down']);
        model.releaseKey('4', { bounceMs: 3 });
        await clock.advance(100);
        model.releaseKey('1', { bounceMs: 3 });
        model.releaseKey('2', { bounceMs: 3 });
        await clock.advance(100);
        expect(plain(events)).toEqual(['1 down', '2 down', '1 up', '2 up']);
      });

      it('reports nothing for three corners pressed at once, and a key still held once the rectangle opens', async () => {
        const { rig, events } = await started();
        const { model, clock } = rig.emulated!;
        model.pressKey('1');
        model.pressKey('2');
        model.pressKey('4');
        await clock.advance(200);
        expect(events).toEqual([]);
        // Releasing 1 leaves 2 and 4, which are unambiguous and really held.
        model.releaseKey('1');
        await clock.advance(100);
        expect(plain(events)).toEqual(['2 down', '4 down']);
        expect(plain(events)).not.toContain('5 down');
      });

      it('gives one long event after longPressMs held', async () => {
        const { rig, events } = await started({ longPressMs: 1000 });
        const { model, clock } = rig.emulated!;
        model.pressKey('5');
        await clock.advance(5000);
        model.releaseKey('5');
        await clock.advance(100);
        expect(plain(events)).toEqual(['5 down', '5 long', '5 up']);
        const [down, long] = events;
        expect(long!.atMs - down!.atMs).toBeGreaterThanOrEqual(1000);
        expect(long!.atMs - down!.atMs).toBeLessThan(1010);
      });

      it('does not scan while idle: no column writes, no row reads, no timers', async () => {
        const { rig } = await started();
        const { chip, model, clock } = rig.emulated!;
        const activity = () => [...backend.columnPins.map((p) => chip.writeCount(p)), ...backend.rowPins.map((p) => chip.readCount(p))];
        for (const p of backend.columnPins) expect(chip.info(p)).toMatchObject({ direction: 'output', drive: 'open-drain' });
        for (const p of backend.rowPins) expect(chip.info(p)).toMatchObject({ direction: 'input', bias: 'pull-up', edge: 'falling' });
        const atStart = activity();
        await clock.advance(5000);
        expect(activity()).toEqual(atStart);
        expect(clock.pending).toBe(0);
        // One key press makes it scan, and then it goes back to sleep with every column driven low.
        model.pressKey('8', { bounceMs: 5 });
        await clock.advance(100);
        model.releaseKey('8', { bounceMs: 5 });
        await clock.advance(100);
        const afterKey = activity();
        expect(afterKey).not.toEqual(atStart);
        await clock.advance(5000);
        expect(activity()).toEqual(afterKey);
        expect(clock.pending).toBe(0);
        for (const p of backend.columnPins) expect(chip.outputLevel(p)).toBe(0);
      });

      it('reports a key already held at start', async () => {
        rig = await backend.rig();
        const { model, clock } = rig.emulated!;
        model.pressKey('0');
        const keypad = new KeypadMatrix({ chip: rig.chip, clock, rowPins: backend.rowPins, columnPins: backend.columnPins, layout: backend.layout });
        const events: KeyEvent[] = [];
        keypad.on('key', (e) => events.push(e));
        await keypad.start();
        await clock.advance(50);
        expect(plain(events)).toEqual(['0 down']);
      });

      it('turns chip errors into error events, once per failure streak, and recovers', async () => {
        const { rig, events, errors } = await started();
        const { chip, model, clock } = rig.emulated!;
        model.pressKey('6');
        await clock.advance(50);
        chip.injectFault(backend.rowPins[1]!, 'EIO');
        await clock.advance(5000); // several retries, must not throw out of a timer
        expect(errors).toHaveLength(1);
        expect(errors[0]).toBeInstanceOf(HalError);
        expect(errors[0]!.code).toBe('EIO');
        chip.clearFault(backend.rowPins[1]!);
        model.releaseKey('6');
        await clock.advance(1100);
        expect(plain(events)).toEqual(['6 down', '6 up']);
      });

      it('turns an error on the first scan after an edge into an event', async () => {
        const { rig, errors } = await started();
        const { chip, model, clock } = rig.emulated!;
        chip.injectFault(backend.columnPins[0]!, 'EIO');
        model.pressKey('1');
        await clock.advance(50);
        expect(errors.map((e) => e.code)).toEqual(['EIO']);
      });
    }
  });
}

describe('KeypadMatrix options', () => {
  it('refuses a layout that does not match the pins', () => {
    const clock = new VirtualClock();
    const chip = new EmulatedGpioChip({ clock });
    expect(() => new KeypadMatrix({ chip, clock, rowPins: [1, 2, 3], columnPins: [4, 5, 6], layout: '4x3' })).toThrow(/layout has 4 rows/);
    expect(() => new KeypadMatrix({ chip, clock, rowPins: [1, 2, 3, 7], columnPins: [4, 5, 6], layout: '4x4' })).toThrow(HalError);
    expect(() => new KeypadMatrix({ chip, clock, rowPins: [1], columnPins: [1], layout: [['x']] })).toThrow(/pin 1 is used twice/);
  });

  it('runs a custom layout', async () => {
    const clock = new VirtualClock();
    const chip = new EmulatedGpioChip({ clock });
    const layout = [
      ['up', 'ok'],
      ['down', 'back'],
    ];
    const model = new KeypadMatrixModel({ chip, clock, rowPins: [1, 2], columnPins: [3, 4], layout });
    const keypad = new KeypadMatrix({ chip, clock, rowPins: [1, 2], columnPins: [3, 4], layout, debounceMs: 20, scanIntervalMs: 2 });
    const events: KeyEvent[] = [];
    keypad.on('key', (e) => events.push(e));
    await keypad.start();
    model.pressKey('back', { bounceMs: 4 });
    await clock.advance(100);
    expect(plain(events)).toEqual(['back down']);
    expect(keypad.layout).toEqual(layout);
    await keypad.close();
  });
});

keypadSuite(emulatedBackend('4x3'));
keypadSuite(emulatedBackend('4x4'));
const hardware = hardwareBackend();
if (hardware) keypadSuite(hardware);
