// The GpioHookSwitch driver suite: always on the emulated chip, and on a real board when OFFHOOK_HW=1 names the pin.
import { afterEach, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../firmware/util/clock.js';
import { EmulatedGpioChip } from '../../../hal/emulated/emulated-gpio-chip.js';
import { HookSwitchModel } from '../../../hal/emulated/hook-switch-model.js';
import type { HalError } from '../../../hal/errors.js';
import { GpioHookSwitch, type HookContact } from '../../../hal/input/hook-switch.js';
import { emulatedRig, hardwarePins, hardwareRig, type GpioRig } from '../gpio/hardware-backend.js';

type HookRig = GpioRig<{ model: HookSwitchModel }>;

interface HookBackend {
  name: string;
  /** Only the emulated backend has a finger (or a scope): the cases that need one are registered for it alone. */
  kind: 'emulated' | 'hardware';
  pin: number;
  contact: HookContact;
  /** Where the handset is when the rig is built (emulated only). */
  rig(options: { offHook: boolean }): Promise<HookRig>;
}

function emulatedBackend(contact: HookContact): HookBackend {
  const pin = 17;
  return {
    kind: 'emulated',
    name: `emulated chip (${contact})`,
    pin,
    contact,
    rig: ({ offHook }) => emulatedRig((chip, clock) => ({ model: new HookSwitchModel({ chip, clock, pin, contact, offHook }) })),
  };
}

function hardwareBackend(): HookBackend | undefined {
  const pin = hardwarePins('OFFHOOK_HW_HOOK_PIN')?.[0];
  const contact = process.env.OFFHOOK_HW_HOOK_CONTACT;
  if (pin === undefined || (contact !== 'normally-open' && contact !== 'normally-closed')) return undefined;
  return {
    kind: 'hardware',
    name: 'hardware (sysfs)',
    pin,
    contact,
    rig: () => hardwareRig(),
  };
}

function hookSuite(backend: HookBackend): void {
  describe(`GpioHookSwitch on ${backend.name}`, () => {
    let rig: HookRig | undefined;
    afterEach(async () => {
      await rig?.dispose();
      rig = undefined;
    });

    async function started(offHook = false) {
      rig = await backend.rig({ offHook });
      const hook = new GpioHookSwitch({ chip: rig.chip, clock: rig.clock, pin: backend.pin, contact: backend.contact });
      const changes: boolean[] = [];
      const errors: HalError[] = [];
      hook.on('change', (v) => changes.push(v));
      hook.on('error', (e) => errors.push(e));
      await hook.start();
      return { rig, hook, changes, errors };
    }

    it('reads its state at start without a change event, and stays quiet untouched', async () => {
      const { rig, hook, changes, errors } = await started();
      await rig.wait(200);
      expect(changes).toEqual([]);
      expect(errors).toEqual([]);
      await hook.close();
    });

    if (backend.kind === 'emulated') {
      it.each([false, true])('starts in the handset position it finds (off-hook: %s)', async (offHook) => {
        const { rig, hook, changes } = await started(offHook);
        expect(hook.offHook).toBe(offHook);
        await rig.wait(100);
        expect(changes).toEqual([]);
      });

      it('gives one change for a lift with 20 ms of chatter, after 30 ms of quiet, and one for the replace', async () => {
        const { rig, hook, changes } = await started();
        const { model, clock } = rig.emulated!;
        model.lift({ bounceMs: 20 });
        await clock.advance(45);
        expect(changes).toEqual([]); // still inside 20 ms chatter + 30 ms quiet
        await clock.advance(10);
        expect(changes).toEqual([true]);
        expect(hook.offHook).toBe(true);
        await clock.advance(1000);
        model.replace({ bounceMs: 20 });
        await clock.advance(200);
        expect(changes).toEqual([true, false]);
        expect(hook.offHook).toBe(false);
      });

      it('ignores a knock shorter than the debounce that ends where it started', async () => {
        const { rig, changes } = await started();
        const { chip, clock } = rig.emulated!;
        const restLevel = chip.level(backend.pin);
        chip.setInput(backend.pin, restLevel === 1 ? 0 : 1);
        await clock.advance(5);
        chip.setInput(backend.pin, restLevel === 1 ? undefined : 0);
        await clock.advance(200);
        expect(changes).toEqual([]);
      });

      it('turns a failed read into an error event', async () => {
        const { rig, errors, changes } = await started();
        const { chip, model, clock } = rig.emulated!;
        chip.injectFault(backend.pin, 'EIO');
        model.lift();
        await clock.advance(100);
        expect(errors.map((e) => e.code)).toEqual(['EIO']);
        expect(changes).toEqual([]);
      });
    }
  });
}

describe('GpioHookSwitch levels', () => {
  it.each([
    ['normally-open', 1],
    ['normally-closed', 0],
  ] as const)('%s with a pull-up: off-hook is level %i', async (contact, offHookLevel) => {
    const clock = new VirtualClock();
    const chip = new EmulatedGpioChip({ clock });
    const hook = new GpioHookSwitch({ chip, clock, pin: 4, contact });
    await hook.start();
    chip.setInput(4, offHookLevel);
    await clock.advance(100);
    expect(hook.offHook).toBe(true);
    await hook.close();
  });
});

hookSuite(emulatedBackend('normally-open'));
hookSuite(emulatedBackend('normally-closed'));
const hardware = hardwareBackend();
if (hardware) hookSuite(hardware);
