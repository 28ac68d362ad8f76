// The GpioRinger driver suite: cadences as waveforms on the emulated chip's output, and a smoke run on a real board when OFFHOOK_HW=1.
import { afterEach, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../firmware/util/clock.js';
import { EmulatedGpioChip } from '../../../hal/emulated/emulated-gpio-chip.js';
import type { HalError } from '../../../hal/errors.js';
import type { GpioLevel } from '../../../hal/gpio/gpio.js';
import { GpioRinger, NORTH_AMERICAN_RING_CADENCE } from '../../../hal/output/gpio-ringer.js';
import { emulatedRig, hardwarePins, hardwareRig, type GpioRig } from '../gpio/hardware-backend.js';

type RingerRig = GpioRig;

interface RingerBackend {
  name: string;
  /** Only the emulated backend has a finger (or a scope): the cases that need one are registered for it alone. */
  kind: 'emulated' | 'hardware';
  pin: number;
  activeLow: boolean;
  rig(): Promise<RingerRig>;
}

function emulatedBackend(activeLow: boolean): RingerBackend {
  return {
    kind: 'emulated',
    name: `emulated chip (${activeLow ? 'active low' : 'active high'})`,
    pin: 27,
    activeLow,
    rig: () => emulatedRig(() => ({})),
  };
}

function hardwareBackend(): RingerBackend | undefined {
  const pin = hardwarePins('OFFHOOK_HW_RINGER_PIN')?.[0];
  if (pin === undefined) return undefined;
  return {
    kind: 'hardware',
    name: 'hardware (sysfs)',
    pin,
    activeLow: false,
    rig: () => hardwareRig(),
  };
}

function ringerSuite(backend: RingerBackend): void {
  describe(`GpioRinger on ${backend.name}`, () => {
    let rig: RingerRig | undefined;
    afterEach(async () => {
      await rig?.dispose();
      rig = undefined;
    });

    async function built(cadence?: readonly number[]) {
      rig = await backend.rig();
      const ringer = new GpioRinger({ chip: rig.chip, clock: rig.clock, pin: backend.pin, activeLow: backend.activeLow, ...(cadence ? { cadence } : {}) });
      const errors: HalError[] = [];
      ringer.on('error', (e) => errors.push(e));
      return { rig, ringer, errors };
    }

    it('rings briefly and stops without an error', async () => {
      const { rig, ringer, errors } = await built([200, 200]);
      ringer.ring();
      expect(ringer.ringing).toBe(true);
      await rig.wait(500);
      ringer.stop();
      expect(ringer.ringing).toBe(false);
      await ringer.close();
      expect(errors).toEqual([]);
    });

    if (backend.kind === 'emulated') {
      const on: GpioLevel = backend.activeLow ? 0 : 1;
      const off: GpioLevel = backend.activeLow ? 1 : 0;

      /** Level changes of the ringer pin as [ms since the start, level]. */
      function record(chip: EmulatedGpioChip, clock: VirtualClock): [number, GpioLevel][] {
        const start = clock.now();
        const trace: [number, GpioLevel][] = [];
        chip.onLevelChange((offset, level, atMs) => {
          if (offset === backend.pin) trace.push([atMs - start, level]);
        });
        return trace;
      }

      it('starts silent', async () => {
        const { rig } = await built();
        expect(rig.emulated!.chip.outputLevel(backend.pin)).toBe(off);
      });

      it('rings the North American cadence by default: 2 s on, 4 s off', async () => {
        const { rig, ringer } = await built();
        const { chip, clock } = rig.emulated!;
        expect(NORTH_AMERICAN_RING_CADENCE).toEqual([2000, 4000]);
        const trace = record(chip, clock);
        ringer.ring();
        await clock.advance(13_000);
        expect(trace).toEqual([
          [0, on],
          [2000, off],
          [6000, on],
          [8000, off],
          [12000, on],
        ]);
      });

      it('rings a given cadence (UK double ring) and stop() silences it at once', async () => {
        const { rig, ringer } = await built();
        const { chip, clock } = rig.emulated!;
        const trace = record(chip, clock);
        ringer.ring([400, 200, 400, 2000]);
        await clock.advance(3100);
        ringer.stop();
        expect(trace).toEqual([
          [0, on],
          [400, off],
          [600, on],
          [1000, off],
          [3000, on],
          [3100, off],
        ]);
        await clock.advance(10_000);
        expect(chip.outputLevel(backend.pin)).toBe(off);
        expect(clock.pending).toBe(0);
      });

      it('restarts the cadence when ring() is called while ringing', async () => {
        const { rig, ringer } = await built([1000, 1000]);
        const { chip, clock } = rig.emulated!;
        ringer.ring();
        await clock.advance(1500);
        expect(chip.outputLevel(backend.pin)).toBe(off);
        ringer.ring();
        expect(chip.outputLevel(backend.pin)).toBe(on);
        await clock.advance(999);
        expect(chip.outputLevel(backend.pin)).toBe(on);
        await clock.advance(1);
        expect(chip.outputLevel(backend.pin)).toBe(off);
      });

      it('refuses a malformed cadence', async () => {
        const { ringer } = await built();
        expect(() => ringer.ring([1000])).toThrow(/invalid ring cadence/);
        expect(() => ringer.ring([0, 1000])).toThrow(/invalid ring cadence/);
        expect(() => ringer.ring([1000, -1])).toThrow(/invalid ring cadence/);
        expect(ringer.ringing).toBe(false);
      });

      it('close() silences and releases the line', async () => {
        const { rig, ringer } = await built();
        const { chip, clock } = rig.emulated!;
        ringer.ring();
        await clock.advance(100);
        const trace = record(chip, clock);
        await ringer.close();
        // The first change is the buzzer going silent, before the line is released (and floats).
        expect(trace[0]).toEqual([0, off]);
        expect(chip.info(backend.pin).requested).toBe(false);
        expect(clock.pending).toBe(0);
      });

      it('reports a failed write once per failure streak', async () => {
        const { rig, ringer, errors } = await built([100, 100]);
        const { chip, clock } = rig.emulated!;
        ringer.ring();
        chip.injectFault(backend.pin, 'EIO');
        await clock.advance(1000);
        expect(errors.map((e) => e.code)).toEqual(['EIO']);
        ringer.stop();
      });
    }
  });
}

ringerSuite(emulatedBackend(false));
ringerSuite(emulatedBackend(true));
const hardware = hardwareBackend();
if (hardware) ringerSuite(hardware);
