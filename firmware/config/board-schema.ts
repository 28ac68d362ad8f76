// The board profile: how one board is wired (GPIO, I2C display, keypad, hook, LEDs, ringer, audio), as checked data.
import { array, boolean, either, number, object, oneOf, optional, record, required, string, tagged, withDefault, section, type Infer } from './schema.js';

const pin = number({ integer: true, min: 0, max: 511 });
const i2cAddress = number({ integer: true, min: 0x03, max: 0x77 });

/** PCF8574 bit (0-7) of each HD44780 signal, for backpacks wired differently from the common one. */
const pcf8574Pins = object(
  {
    rs: required(number({ integer: true, min: 0, max: 7 })),
    rw: required(number({ integer: true, min: 0, max: 7 })),
    e: required(number({ integer: true, min: 0, max: 7 })),
    backlight: required(number({ integer: true, min: 0, max: 7 })),
    d4: required(number({ integer: true, min: 0, max: 7 })),
    d5: required(number({ integer: true, min: 0, max: 7 })),
    d6: required(number({ integer: true, min: 0, max: 7 })),
    d7: required(number({ integer: true, min: 0, max: 7 })),
    backlightActiveLow: withDefault(boolean(), false),
  },
  { name: 'a PCF8574 pin map {rs, rw, e, backlight, d4, d5, d6, d7}' },
);

const display = tagged('type', {
  hd44780: object({
    address: withDefault(i2cAddress, 0x27),
    columns: withDefault(oneOf([16, 20] as const), 20),
    rows: withDefault(oneOf([2, 4] as const), 4),
    /** 'common': P0=RS P1=RW P2=E P3=backlight P4-P7=D4-D7; 'mjkdz': the MJKDZ backpack. */
    pins: withDefault(either(oneOf(['common', 'mjkdz'] as const), pcf8574Pins), 'common' as const),
  }),
  ssd1306: object({
    address: withDefault(i2cAddress, 0x3c),
    width: withDefault(oneOf([128] as const), 128),
    height: withDefault(oneOf([64, 32] as const), 64),
  }),
  none: object({}),
});

const keypad = object({
  layout: withDefault(oneOf(['4x3', '4x4'] as const), '4x4'),
  rowPins: required(array(pin, { minItems: 4, maxItems: 4, unique: true })),
  columnPins: required(array(pin, { minItems: 3, maxItems: 4, unique: true })),
  debounceMs: withDefault(number({ min: 1, max: 200, unit: 'ms' }), 10),
  longPressMs: withDefault(number({ min: 200, max: 10_000, unit: 'ms' }), 1000),
  scanIntervalMs: withDefault(number({ min: 1, max: 50, unit: 'ms' }), 5),
});

const hook = tagged('type', {
  gpio: object({
    pin: required(pin),
    /** The switch's state with the handset lifted (plunger released). */
    contact: withDefault(oneOf(['normally-open', 'normally-closed'] as const), 'normally-open'),
    debounceMs: withDefault(number({ min: 1, max: 500, unit: 'ms' }), 30),
  }),
  none: object({}),
});

const gpioOutput = object({ pin: required(pin), activeLow: withDefault(boolean(), false) });

const ringer = tagged('type', {
  'gpio-buzzer': object({ pin: required(pin), activeLow: withDefault(boolean(), false) }),
  audio: object({}),
  none: object({}),
});

const audio = object({
  backend: withDefault(oneOf(['alsa', 'file', 'null'] as const), 'null'),
  /** ALSA PCM names (hw:/plughw:), or WAV paths for the file backend. */
  playback: optional(string({ minLength: 1 })),
  capture: optional(string({ minLength: 1 })),
});

export const boardSchema = object({
  name: required(string({ pattern: /^[a-z0-9][a-z0-9-]*$/, patternName: 'a lower-case name like "rpi4"' })),
  description: withDefault(string(), ''),
  gpio: section(
    object({
      backend: withDefault(oneOf(['auto', 'cdev', 'sysfs', 'emulated'] as const), 'auto'),
      /** The header chip's label: pinctrl-bcm2711 (Pi 4), pinctrl-rp1 (Pi 5), pinctrl-bcm2835 (Zero 2 W, Pi 3). */
      chipLabel: withDefault(string({ minLength: 1 }), 'pinctrl-bcm2711'),
    }),
  ),
  i2c: section(
    object({
      backend: withDefault(oneOf(['linux', 'emulated'] as const), 'linux'),
      bus: withDefault(number({ integer: true, min: 0, max: 255 }), 1),
    }),
  ),
  display: withDefault(display, { type: 'none' as const }),
  keypad: optional(keypad),
  hook: withDefault(hook, { type: 'none' as const }),
  leds: withDefault(record(gpioOutput, { keyPattern: /^[a-z][a-z0-9-]*$/, keyName: 'LED name' }), {}),
  ringer: withDefault(ringer, { type: 'none' as const }),
  audio: section(audio),
});

export type BoardProfile = Infer<typeof boardSchema>;
export type DisplayProfile = BoardProfile['display'];
export type KeypadProfile = NonNullable<BoardProfile['keypad']>;
export type HookProfile = BoardProfile['hook'];
