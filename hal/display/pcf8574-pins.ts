// Which PCF8574 port bit drives which HD44780 signal on an I2C LCD backpack (the boards differ).

/**
 * The wiring of one backpack: the PCF8574 port bit (P0..P7) of each LCD signal. The driver and the
 * emulated chip share this type, so a test can run the same driver on every wiring.
 */
export interface Pcf8574LcdPins {
  /** Register select: 0 = instruction, 1 = data. */
  readonly rs: number;
  /** Read/write: kept at 0 (write) by the driver. */
  readonly rw: number;
  /** Enable: the HD44780 latches D4..D7 on its falling edge. */
  readonly e: number;
  readonly d4: number;
  readonly d5: number;
  readonly d6: number;
  readonly d7: number;
  readonly backlight: number;
  /** True when a 0 on the backlight bit lights the backlight (a PNP transistor, as on the MJKDZ board). */
  readonly backlightActiveLow: boolean;
}

/** The names a board profile may use (board/*.yaml: `pins: common`). */
export type Pcf8574PinMapName = 'common' | 'mjkdz';

/**
 * The wirings that exist in the wild:
 * - common: the blue "LCM1602 IIC" / YwRobot / FC-113 backpacks: P0=RS, P1=RW, P2=E, P3=backlight
 *   (active high), P4..P7=D4..D7.
 * - mjkdz: the MJKDZ backpack: P0..P3=D4..D7, P4=E, P5=RW, P6=RS, P7=backlight, active low.
 */
export const PCF8574_PIN_MAPS: Readonly<Record<Pcf8574PinMapName, Pcf8574LcdPins>> = Object.freeze({
  common: Object.freeze({ rs: 0, rw: 1, e: 2, backlight: 3, d4: 4, d5: 5, d6: 6, d7: 7, backlightActiveLow: false }),
  mjkdz: Object.freeze({ d4: 0, d5: 1, d6: 2, d7: 3, e: 4, rw: 5, rs: 6, backlight: 7, backlightActiveLow: true }),
});

/**
 * Checks a custom map: eight distinct port bits 0..7. Returns it unchanged so it can wrap an
 * options object; throws a RangeError naming the field otherwise.
 */
export function checkPcf8574Pins(pins: Pcf8574LcdPins): Pcf8574LcdPins {
  const fields = ['rs', 'rw', 'e', 'd4', 'd5', 'd6', 'd7', 'backlight'] as const;
  const seen = new Map<number, string>();
  for (const field of fields) {
    const bit = pins[field];
    if (!Number.isInteger(bit) || bit < 0 || bit > 7) throw new RangeError(`pins.${field}: expected a port bit 0..7, got ${String(bit)}`);
    const other = seen.get(bit);
    if (other !== undefined) throw new RangeError(`pins.${field}: P${bit} is already used by pins.${other}`);
    seen.set(bit, field);
  }
  return pins;
}
