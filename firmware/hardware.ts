// Builds the hardware layer from a board profile (part of the composition root): buses, drivers, emulated chips.
import { existsSync, readdirSync } from 'node:fs';
import type { BoardProfile, DisplayProfile } from './config/board-schema.js';
import { panelDisplay, type EmulatorPanel } from './emulator/panel.js';
import type { Clock } from './util/clock.js';
import type { Logger } from './util/log.js';
import type { HookSwitch, Keypad, Leds, Ringer, TextDisplay } from '../hal/devices.js';
import { Hd44780Display } from '../hal/display/hd44780.js';
import { NullDisplay } from '../hal/display/null-display.js';
import { PCF8574_PIN_MAPS, type Pcf8574LcdPins } from '../hal/display/pcf8574-pins.js';
import { ResilientDisplay } from '../hal/display/resilient-display.js';
import { Ssd1306Display } from '../hal/display/ssd1306.js';
import { EmulatedGpioChip } from '../hal/emulated/emulated-gpio-chip.js';
import { EmulatedI2cBus } from '../hal/emulated/emulated-i2c-bus.js';
import { HookSwitchModel } from '../hal/emulated/hook-switch-model.js';
import { KeypadMatrixModel } from '../hal/emulated/keypad-matrix-model.js';
import { Pcf8574Hd44780Model } from '../hal/emulated/pcf8574-hd44780.js';
import { Ssd1306Model } from '../hal/emulated/ssd1306-model.js';
import { HalError } from '../hal/errors.js';
import { FONT_6X8 } from '../hal/display/font-6x8.js';
import type { GpioChip } from '../hal/gpio/gpio.js';
import { CdevGpioChip } from '../hal/gpio/cdev-gpio.js';
import { SysfsGpioChip } from '../hal/gpio/sysfs-gpio.js';
import { QueuedI2cBus, type I2cBus } from '../hal/i2c/i2c-bus.js';
import { LinuxI2cBus } from '../hal/i2c/linux-i2c-bus.js';
import { GpioHookSwitch } from '../hal/input/hook-switch.js';
import { KeypadMatrix, KEYPAD_LAYOUTS } from '../hal/input/keypad-matrix.js';
import { GpioLeds } from '../hal/output/gpio-leds.js';
import { GpioRinger } from '../hal/output/gpio-ringer.js';
import { loadNativeAddon } from './media/native-addon.js';

export interface Hardware {
  /** Always present: the real display behind a retrying wrapper, or a NullDisplay when there is none. */
  display: TextDisplay;
  keypad: Keypad | undefined;
  hook: HookSwitch | undefined;
  leds: Leds | undefined;
  ringer: Ringer | undefined;
  i2c: I2cBus | undefined;
  gpio: GpioChip | undefined;
  /** The person's view of the emulated chips, on boards that use them. */
  panel: EmulatorPanel | undefined;
  /** Devices that could not be brought up ('display', 'gpio', 'keypad', ...); the phone runs without them. */
  problems: DeviceProblem[];
  close(): Promise<void>;
}

export interface DeviceProblem {
  /** A short name for the LCD and the report: 'display', 'gpio', 'keypad', 'hook switch', 'LEDs', 'ringer'. */
  device: string;
  error: HalError;
}

export interface HardwareOptions {
  board: BoardProfile;
  clock: Clock;
  log: Logger;
  /** /dev, for finding GPIO character devices (a parameter so tests can point elsewhere). */
  devDir?: string | undefined;
}

function pinsOf(display: Extract<DisplayProfile, { type: 'hd44780' }>): Pcf8574LcdPins {
  return typeof display.pins === 'string' ? PCF8574_PIN_MAPS[display.pins] : display.pins;
}

/** The GPIO character device whose chip label matches the board's, e.g. pinctrl-rp1 on a Pi 5. */
function openCdevChip(label: string, devDir: string, log: Logger): GpioChip {
  const binding = loadNativeAddon().gpio;
  const names = readdirSync(devDir).filter((n) => /^gpiochip\d+$/.test(n)).sort();
  const seen: string[] = [];
  for (const n of names) {
    const chip = CdevGpioChip.open({ path: `${devDir}/${n}`, binding, log });
    if (chip.label === label) return chip;
    seen.push(`${n} "${chip.label}"`);
    chip.close();
  }
  throw new HalError(devDir, `no GPIO chip labelled "${label}" (found: ${seen.join(', ') || 'none'})`, { code: 'ENODEV' });
}

async function openGpio(o: HardwareOptions, devDir: string): Promise<GpioChip> {
  const { backend, chipLabel } = o.board.gpio;
  const log = o.log.child({ mod: 'hal/gpio' });
  if (backend === 'emulated') return new EmulatedGpioChip({ clock: o.clock, lines: 64, label: chipLabel, name: 'emulated-gpio' });
  const hasCdev = existsSync(devDir) && readdirSync(devDir).some((n) => /^gpiochip\d+$/.test(n));
  if (backend === 'cdev' || (backend === 'auto' && hasCdev)) return openCdevChip(chipLabel, devDir, log);
  return SysfsGpioChip.open({ labels: [chipLabel], clock: o.clock, log });
}

async function openI2c(o: HardwareOptions, display: DisplayProfile, emulated: { lcd?: Pcf8574Hd44780Model; oled?: Ssd1306Model }): Promise<I2cBus> {
  if (o.board.i2c.backend === 'linux') return new QueuedI2cBus(await LinuxI2cBus.open({ busNumber: o.board.i2c.bus }));
  const bus = new EmulatedI2cBus({ clock: o.clock, name: `i2c-${o.board.i2c.bus}` });
  if (display.type === 'hd44780') {
    emulated.lcd = new Pcf8574Hd44780Model({ clock: o.clock, columns: display.columns, rows: display.rows, pins: pinsOf(display) });
    bus.attach(display.address, emulated.lcd);
  } else if (display.type === 'ssd1306') {
    emulated.oled = new Ssd1306Model({ height: display.height });
    bus.attach(display.address, emulated.oled);
  }
  return new QueuedI2cBus(bus);
}

function makeDisplay(o: HardwareOptions, bus: I2cBus, display: DisplayProfile): TextDisplay | undefined {
  const log = o.log.child({ mod: 'hal/display' });
  if (display.type === 'hd44780') {
    return new Hd44780Display({ bus, address: display.address, columns: display.columns, rows: display.rows, pins: pinsOf(display), clock: o.clock, log });
  }
  if (display.type === 'ssd1306') return new Ssd1306Display({ bus, address: display.address, height: display.height, log });
  return undefined;
}

/**
 * Brings up every device the board names. A device that fails is logged, listed in `problems` and
 * left out; the others work (a phone without its LCD still rings and dials).
 */
export async function buildHardware(o: HardwareOptions): Promise<Hardware> {
  const { board, clock } = o;
  const log = o.log.child({ mod: 'hal' });
  const problems: DeviceProblem[] = [];
  const report = (device: string, err: unknown): void => {
    const error = HalError.from(device, 'start', err);
    problems.push({ device, error });
    log.error({ device, code: error.code, err: error.message }, `${device} unavailable: the phone runs without it`);
  };
  const closers: (() => Promise<void> | void)[] = [];

  // Display: the I2C bus, the driver, the retrying wrapper.
  const emulated: { lcd?: Pcf8574Hd44780Model; oled?: Ssd1306Model } = {};
  let i2c: I2cBus | undefined;
  let display: TextDisplay = new NullDisplay();
  if (board.display.type !== 'none') {
    try {
      i2c = await openI2c(o, board.display, emulated);
      const driver = makeDisplay(o, i2c, board.display);
      if (driver) {
        display = new ResilientDisplay({ display: driver, clock, log: o.log.child({ mod: 'hal/display' }) });
      }
    } catch (err) {
      report('display', err);
    }
  }
  closers.push(() => display.close());

  // GPIO: keypad, hook, LEDs, ringer.
  let gpio: GpioChip | undefined;
  let keypad: KeypadMatrix | undefined;
  let hook: GpioHookSwitch | undefined;
  let leds: GpioLeds | undefined;
  let ringer: GpioRinger | undefined;
  let keypadModel: KeypadMatrixModel | undefined;
  let hookModel: HookSwitchModel | undefined;
  try {
    gpio = await openGpio(o, o.devDir ?? '/dev');
  } catch (err) {
    report('gpio', err);
  }
  if (gpio) {
    const chip = gpio;
    if (chip instanceof EmulatedGpioChip) {
      if (board.keypad) keypadModel = new KeypadMatrixModel({ chip, rowPins: board.keypad.rowPins, columnPins: board.keypad.columnPins, layout: KEYPAD_LAYOUTS[board.keypad.layout], clock });
      if (board.hook.type === 'gpio') hookModel = new HookSwitchModel({ chip, pin: board.hook.pin, contact: board.hook.contact, clock });
    }
    if (board.keypad) {
      const k = board.keypad;
      try {
        keypad = new KeypadMatrix({ chip, rowPins: k.rowPins, columnPins: k.columnPins, layout: k.layout, clock, debounceMs: k.debounceMs, longPressMs: k.longPressMs, scanIntervalMs: k.scanIntervalMs, log: o.log.child({ mod: 'hal/keypad' }) });
        await keypad.start();
        const kp = keypad;
        closers.push(() => kp.close());
      } catch (err) {
        keypad = undefined;
        report('keypad', err);
      }
    }
    if (board.hook.type === 'gpio') {
      const h = board.hook;
      try {
        hook = new GpioHookSwitch({ chip, pin: h.pin, contact: h.contact, debounceMs: h.debounceMs, clock, log: o.log.child({ mod: 'hal/hook' }) });
        await hook.start();
        const hs = hook;
        closers.push(() => hs.close());
      } catch (err) {
        hook = undefined;
        report('hook switch', err);
      }
    }
    if (Object.keys(board.leds).length > 0) {
      try {
        leds = new GpioLeds({ chip, leds: board.leds, clock, log: o.log.child({ mod: 'hal/leds' }) });
        const l = leds;
        closers.push(() => l.close());
      } catch (err) {
        report('LEDs', err);
      }
    }
    if (board.ringer.type === 'gpio-buzzer') {
      try {
        ringer = new GpioRinger({ chip, pin: board.ringer.pin, activeLow: board.ringer.activeLow, clock, log: o.log.child({ mod: 'hal/ringer' }) });
        const r = ringer;
        closers.push(() => r.close());
      } catch (err) {
        report('ringer', err);
      }
    }
    closers.push(() => chip.close());
  }
  if (i2c) {
    const bus = i2c;
    closers.push(() => bus.close());
  }

  const panel = gpio instanceof EmulatedGpioChip ? emulatorPanel({ board, clock, chip: gpio, keypadModel, hookModel, lcd: emulated.lcd, oled: emulated.oled }) : undefined;

  return {
    display,
    keypad,
    hook,
    leds,
    ringer,
    i2c,
    gpio,
    panel,
    problems,
    async close() {
      for (const c of closers) {
        try {
          await c();
        } catch (err) {
          log.warn({ err }, 'closing a device failed');
        }
      }
    },
  };
}

/** Finger timings for the emulator: a key held 80 ms with 3 ms of bounce, the handset with 15 ms. */
const KEY_HOLD_MS = 80;
const KEY_GAP_MS = 40;
const KEY_BOUNCE_MS = 3;
const HOOK_BOUNCE_MS = 15;
const HOOK_SETTLE_MS = 60;

function emulatorPanel(p: {
  board: BoardProfile;
  clock: Clock;
  chip: EmulatedGpioChip;
  keypadModel: KeypadMatrixModel | undefined;
  hookModel: HookSwitchModel | undefined;
  lcd: Pcf8574Hd44780Model | undefined;
  oled: Ssd1306Model | undefined;
}): EmulatorPanel {
  const { board, chip, clock } = p;
  const physical = (pin: number, activeLow: boolean): boolean => (chip.outputLevel(pin) === 1) !== activeLow;
  return {
    keys: board.keypad ? KEYPAD_LAYOUTS[board.keypad.layout].flat() : [],
    display: panelDisplay(p.lcd, p.oled),
    lcdLines: () => p.lcd?.lines() ?? p.oled?.textRows(FONT_6X8) ?? [],
    backlight: () => p.lcd?.backlight ?? p.oled?.displayOn ?? false,
    leds: () => Object.fromEntries(Object.entries(board.leds).map(([name, led]) => [name, physical(led.pin, led.activeLow)])),
    ringerOn: () => (board.ringer.type === 'gpio-buzzer' ? physical(board.ringer.pin, board.ringer.activeLow) : false),
    offHook: () => p.hookModel?.offHook ?? false,
    async tapKey(key) {
      if (!p.keypadModel) return;
      p.keypadModel.pressKey(key, { bounceMs: KEY_BOUNCE_MS });
      await clock.sleep(KEY_HOLD_MS);
      p.keypadModel.releaseKey(key, { bounceMs: KEY_BOUNCE_MS });
      await clock.sleep(KEY_GAP_MS);
    },
    async setHook(offHook) {
      if (!p.hookModel) return;
      if (offHook) p.hookModel.lift({ bounceMs: HOOK_BOUNCE_MS });
      else p.hookModel.replace({ bounceMs: HOOK_BOUNCE_MS });
      await clock.sleep(HOOK_SETTLE_MS);
    },
  };
}
