// Tests of the backpack pin maps.
import { describe, expect, it } from 'vitest';
import { PCF8574_PIN_MAPS, checkPcf8574Pins } from '../../../hal/display/pcf8574-pins.js';

describe('PCF8574 pin maps', () => {
  it('has the common and the MJKDZ wiring, each using the eight port bits once', () => {
    expect(PCF8574_PIN_MAPS.common).toMatchObject({ rs: 0, rw: 1, e: 2, backlight: 3, d4: 4, d5: 5, d6: 6, d7: 7, backlightActiveLow: false });
    expect(PCF8574_PIN_MAPS.mjkdz).toMatchObject({ d4: 0, d5: 1, d6: 2, d7: 3, e: 4, rw: 5, rs: 6, backlight: 7, backlightActiveLow: true });
    expect(checkPcf8574Pins(PCF8574_PIN_MAPS.common)).toBe(PCF8574_PIN_MAPS.common);
    expect(checkPcf8574Pins(PCF8574_PIN_MAPS.mjkdz)).toBe(PCF8574_PIN_MAPS.mjkdz);
  });

  it('accepts a custom map and names the field of a wrong one', () => {
    const custom = { rs: 7, rw: 6, e: 5, backlight: 4, d4: 0, d5: 1, d6: 2, d7: 3, backlightActiveLow: false };
    expect(checkPcf8574Pins(custom)).toBe(custom);
    expect(() => checkPcf8574Pins({ ...custom, e: 7 })).toThrow(/pins.rs: P7 is already used by pins.e|pins.e: P7 is already used by pins.rs/);
    expect(() => checkPcf8574Pins({ ...custom, d7: 8 })).toThrow(/pins.d7: expected a port bit 0..7/);
  });
});
