// Small checks for validators of stored JSON: each returns the typed value or throws StoreFormatError naming the field.
import { StoreFormatError } from './json-store.js';

export function checkObject(value: unknown, path: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new StoreFormatError(`${path}: expected an object`);
  return value as Record<string, unknown>;
}

export function checkArray(value: unknown, path: string, maxItems = Infinity): unknown[] {
  if (!Array.isArray(value)) throw new StoreFormatError(`${path}: expected a list`);
  if (value.length > maxItems) throw new StoreFormatError(`${path}: more than ${maxItems} items`);
  return value as unknown[];
}

export function checkString(value: unknown, path: string, options: { minLength?: number; maxLength?: number; pattern?: RegExp } = {}): string {
  if (typeof value !== 'string') throw new StoreFormatError(`${path}: expected a string`);
  if (value.length < (options.minLength ?? 0) || value.length > (options.maxLength ?? Infinity)) throw new StoreFormatError(`${path}: string of the wrong length`);
  if (options.pattern && !options.pattern.test(value)) throw new StoreFormatError(`${path}: ${JSON.stringify(value)} is not allowed`);
  return value;
}

export function checkNumber(value: unknown, path: string, options: { min?: number; max?: number; integer?: boolean } = {}): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new StoreFormatError(`${path}: expected a number`);
  if (options.integer && !Number.isInteger(value)) throw new StoreFormatError(`${path}: expected an integer`);
  if (value < (options.min ?? -Infinity) || value > (options.max ?? Infinity)) throw new StoreFormatError(`${path}: ${value} is out of range`);
  return value;
}

export function checkBoolean(value: unknown, path: string): boolean {
  if (typeof value !== 'boolean') throw new StoreFormatError(`${path}: expected true or false`);
  return value;
}

export function checkOneOf<const V extends readonly string[]>(value: unknown, path: string, values: V): V[number] {
  if (typeof value !== 'string' || !values.includes(value)) throw new StoreFormatError(`${path}: expected one of ${values.join(', ')}`);
  return value;
}

/** Absent (undefined or null) gives undefined; anything else must pass `check`. */
export function checkOptional<T>(value: unknown, check: (v: unknown) => T): T | undefined {
  return value === undefined || value === null ? undefined : check(value);
}
