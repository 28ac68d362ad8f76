// Test support: the real GPIO backend for the driver suites, only when OFFHOOK_HW=1 and env vars name the pins.
//
//   OFFHOOK_HW=1                       run the hardware blocks at all
//   OFFHOOK_HW_SYSFS_ROOT=/sys         where sysfs is (default /sys)
//   OFFHOOK_HW_KEYPAD_ROWS=5,6,13,19   keypad row pins (BCM), top to bottom
//   OFFHOOK_HW_KEYPAD_COLUMNS=12,16,20 keypad column pins, left to right (3 → 4x3 layout, 4 → 4x4)
//   OFFHOOK_HW_HOOK_PIN=17             hook switch input
//   OFFHOOK_HW_HOOK_CONTACT=normally-open | normally-closed
//   OFFHOOK_HW_LED_PINS=22,23          LEDs (OFFHOOK_HW_LED_ACTIVE_LOW=1 for sink wiring)
//   OFFHOOK_HW_RINGER_PIN=27           buzzer
import { RealClock, VirtualClock, type Clock } from '../../../firmware/util/clock.js';
import { EmulatedGpioChip } from '../../../hal/emulated/emulated-gpio-chip.js';
import type { GpioChip } from '../../../hal/gpio/gpio.js';
import { SysfsGpioChip } from '../../../hal/gpio/sysfs-gpio.js';

/** What a driver suite runs on: a chip, its clock, a way to let time pass, and (emulated only) the test-side models. */
export interface GpioRig<Models extends object = object> {
  chip: GpioChip;
  clock: Clock;
  /** Lets time pass: a virtual clock steps, a real one sleeps. */
  wait(ms: number): Promise<void>;
  emulated?: { chip: EmulatedGpioChip; clock: VirtualClock } & Models;
  dispose(): Promise<void>;
}

/** An emulated chip on a virtual clock, with the models `attach` wires to it. */
export function emulatedRig<Models extends object>(attach: (chip: EmulatedGpioChip, clock: VirtualClock) => Models): Promise<GpioRig<Models>> {
  const clock = new VirtualClock();
  const chip = new EmulatedGpioChip({ clock });
  return Promise.resolve({
    chip,
    clock,
    wait: (ms) => clock.advance(ms),
    emulated: { chip, clock, ...attach(chip, clock) },
    dispose: () => {
      chip.close();
      return Promise.resolve();
    },
  });
}

/** The board's header chip on the real clock. */
export async function hardwareRig<Models extends object>(): Promise<GpioRig<Models>> {
  const chip = await openHardwareChip();
  const clock = new RealClock();
  return {
    chip,
    clock,
    wait: (ms) => clock.sleep(ms),
    dispose: () => {
      chip.close();
      return Promise.resolve();
    },
  };
}

/** True when the hardware blocks may run. */
export function hardwareEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.OFFHOOK_HW === '1';
}

/** The pin list in env var `name`, or undefined when hardware is off or the variable is missing / malformed. */
export function hardwarePins(name: string, env: NodeJS.ProcessEnv = process.env): number[] | undefined {
  if (!hardwareEnabled(env)) return undefined;
  const raw = env[name];
  if (!raw) return undefined;
  const pins = raw.split(',').map((p) => Number(p.trim()));
  return pins.length > 0 && pins.every((p) => Number.isInteger(p) && p >= 0) ? pins : undefined;
}

export function hardwareFlag(name: string, env: NodeJS.ProcessEnv = process.env): boolean {
  return env[name] === '1' || env[name] === 'true';
}

/** Opens the board's header chip through the sysfs backend. */
export function openHardwareChip(env: NodeJS.ProcessEnv = process.env): Promise<GpioChip> {
  const sysfsRoot = env.OFFHOOK_HW_SYSFS_ROOT;
  return SysfsGpioChip.open(sysfsRoot ? { sysfsRoot } : {});
}
