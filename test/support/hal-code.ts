// Test support: runs a call that must throw a HalError and returns its errno code.
import { expect } from 'vitest';
import { HalError } from '../../hal/errors.js';

export function halCode(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(HalError);
    return (err as HalError).code;
  }
  throw new Error('expected a HalError');
}
