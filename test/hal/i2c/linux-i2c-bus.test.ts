// Tests of the Linux I2C backend that need no I2C hardware: a missing bus fails at open with a HalError.
import { describe, expect, it } from 'vitest';
import { HalError } from '../../../hal/errors.js';
import { LinuxI2cBus } from '../../../hal/i2c/linux-i2c-bus.js';

describe('LinuxI2cBus', () => {
  it('rejects opening a bus that does not exist with a HalError naming the device file', async () => {
    const err = await LinuxI2cBus.open({ busNumber: 99 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(HalError);
    expect((err as HalError).device).toBe('/dev/i2c-99');
    expect((err as HalError).code).toBe('ENOENT');
    expect((err as HalError).message).toMatch(/^\/dev\/i2c-99: open failed: .*\(ENOENT\)$/);
  });

  it('rejects a bus number that cannot be one', async () => {
    await expect(LinuxI2cBus.open({ busNumber: -1 })).rejects.toThrow(RangeError);
  });
});
