// The GpioLeds driver suite: patterns as waveforms on the emulated chip's outputs, and a smoke run on a real board when OFFHOOK_HW=1.
import { afterEach, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../firmware/util/clock.js';
import { EmulatedGpioChip } from '../../../hal/emulated/emulated-gpio-chip.js';
import type { HalError } from '../../../hal/errors.js';
import type { GpioLevel } from '../../../hal/gpio/gpio.js';
import { GpioLeds, LED_BLINK_TIMINGS } from '../../../hal/output/gpio-leds.js';
import { emulatedRig, hardwareFlag, hardwarePins, hardwareRig, type GpioRig } from '../gpio/hardware-backend.js';

type LedRig = GpioRig;

interface LedBackend {
  name: string;
  /** Only the emulated backend has a finger (or a scope): the cases that need one are registered for it alone. */
  kind: 'emulated' | 'hardware';
  /** Two LEDs: mwi and line. */
  pins: readonly [number, number];
  activeLow: boolean;
  rig(): Promise<LedRig>;
}

function emulatedBackend(activeLow: boolean): LedBackend {
  return {
    kind: 'emulated',
    name: `emulated chip (${activeLow ? 'active low' : 'active high'})`,
    pins: [22, 23],
    activeLow,
    rig: () => emulatedRig(() => ({})),
  };
}

function hardwareBackend(): LedBackend | undefined {
  const pins = hardwarePins('OFFHOOK_HW_LED_PINS');
  if (pins?.length !== 2) return undefined;
  return {
    kind: 'hardware',
    name: 'hardware (sysfs)',
    pins: [pins[0]!, pins[1]!],
    activeLow: hardwareFlag('OFFHOOK_HW_LED_ACTIVE_LOW'),
    rig: () => hardwareRig(),
  };
}

/** Samples the physical level of a pin at the given times (ms from now) by stepping the virtual clock. */
async function sample(chip: EmulatedGpioChip, clock: VirtualClock, pin: number, atMs: readonly number[]): Promise<GpioLevel[]> {
  const start = clock.now();
  const levels: GpioLevel[] = [];
  for (const t of atMs) {
    await clock.advance(start + t - clock.now());
    levels.push(chip.outputLevel(pin));
  }
  return levels;
}

function ledSuite(backend: LedBackend): void {
  describe(`GpioLeds on ${backend.name}`, () => {
    let rig: LedRig | undefined;
    afterEach(async () => {
      await rig?.dispose();
      rig = undefined;
    });

    async function built() {
      rig = await backend.rig();
      const [mwi, line] = backend.pins;
      const leds = new GpioLeds({
        chip: rig.chip,
        clock: rig.clock,
        leds: { mwi: { pin: mwi, activeLow: backend.activeLow }, line: { pin: line, activeLow: backend.activeLow } },
      });
      const errors: HalError[] = [];
      leds.on('error', (e) => errors.push(e));
      return { rig, leds, errors };
    }

    it('runs through every pattern and closes without an error', async () => {
      const { rig, leds, errors } = await built();
      expect(leds.names).toEqual(['mwi', 'line']);
      for (const pattern of ['on', 'slow-blink', 'fast-blink', 'off'] as const) {
        leds.set('mwi', pattern);
        leds.set('line', pattern);
        expect(leds.get('mwi')).toBe(pattern);
        await rig.wait(300);
      }
      await leds.close();
      expect(errors).toEqual([]);
    });

    it('refuses an unknown LED name', async () => {
      const { leds } = await built();
      expect(() => leds.set('nope', 'on')).toThrow(/no LED named "nope"/);
      await leds.close();
    });

    if (backend.kind === 'emulated') {
      const lit: GpioLevel = backend.activeLow ? 0 : 1;
      const dark: GpioLevel = backend.activeLow ? 1 : 0;

      it('drives on and off steadily, respecting the polarity, and starts dark', async () => {
        const { rig, leds } = await built();
        const { chip, clock } = rig.emulated!;
        const [mwi] = backend.pins;
        expect(chip.outputLevel(mwi)).toBe(dark);
        leds.set('mwi', 'on');
        expect(await sample(chip, clock, mwi, [0, 1000, 5000])).toEqual([lit, lit, lit]);
        leds.set('mwi', 'off');
        expect(await sample(chip, clock, mwi, [0, 5000])).toEqual([dark, dark]);
        expect(clock.pending).toBe(0);
      });

      it('slow-blinks 500 ms lit, 1500 ms dark', async () => {
        const { rig, leds } = await built();
        const { chip, clock } = rig.emulated!;
        const [mwi] = backend.pins;
        expect(LED_BLINK_TIMINGS['slow-blink']).toEqual({ onMs: 500, offMs: 1500 });
        leds.set('mwi', 'slow-blink');
        const levels = await sample(chip, clock, mwi, [0, 499, 500, 1999, 2000, 2499, 2500, 3999, 4000]);
        expect(levels).toEqual([lit, lit, dark, dark, lit, lit, dark, dark, lit]);
      });

      it('fast-blinks 250 ms lit, 250 ms dark', async () => {
        const { rig, leds } = await built();
        const { chip, clock } = rig.emulated!;
        const [mwi] = backend.pins;
        leds.set('mwi', 'fast-blink');
        const levels = await sample(chip, clock, mwi, [0, 249, 250, 499, 500, 750, 1000]);
        expect(levels).toEqual([lit, lit, dark, dark, lit, dark, lit]);
      });

      it('blinks every LED of one pattern in phase, whenever each joined', async () => {
        const { rig, leds } = await built();
        const { chip, clock } = rig.emulated!;
        const [mwi, line] = backend.pins;
        leds.set('mwi', 'fast-blink');
        await clock.advance(130);
        leds.set('line', 'fast-blink');
        for (let t = 0; t < 3000; t += 10) {
          expect(chip.outputLevel(line)).toBe(chip.outputLevel(mwi));
          await clock.advance(10);
        }
      });

      it('stops blinking when set to another pattern, and turns everything off on close', async () => {
        const { rig, leds } = await built();
        const { chip, clock } = rig.emulated!;
        const [mwi, line] = backend.pins;
        leds.set('mwi', 'slow-blink');
        leds.set('line', 'on');
        await clock.advance(100);
        leds.set('mwi', 'off');
        expect(clock.pending).toBe(0);
        leds.set('mwi', 'fast-blink');
        const firstChange = new Map<number, GpioLevel>();
        chip.onLevelChange((offset, level) => {
          if (!firstChange.has(offset)) firstChange.set(offset, level);
        });
        await leds.close();
        // Both went dark before the lines were released (after which they float).
        expect(firstChange.get(mwi)).toBe(dark);
        expect(firstChange.get(line)).toBe(dark);
        expect(chip.info(mwi).requested).toBe(false);
        expect(chip.info(line).requested).toBe(false);
        expect(clock.pending).toBe(0);
      });

      it('reports a failed write once per failure streak and keeps blinking', async () => {
        const { rig, leds, errors } = await built();
        const { chip, clock } = rig.emulated!;
        const [mwi] = backend.pins;
        leds.set('mwi', 'fast-blink');
        chip.injectFault(mwi, 'EIO');
        await clock.advance(2000);
        expect(errors.map((e) => e.code)).toEqual(['EIO']);
        chip.clearFault(mwi);
        await clock.advance(250);
        expect(await sample(chip, clock, mwi, [0, 250])).not.toEqual([lit, lit]);
      });
    }
  });
}

ledSuite(emulatedBackend(false));
ledSuite(emulatedBackend(true));
const hardware = hardwareBackend();
if (hardware) ledSuite(hardware);
