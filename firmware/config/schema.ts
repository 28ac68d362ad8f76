// A small typed schema language for config and board files: values checked field by field, every problem named by its path.

export type Path = readonly (string | number)[];

export interface SchemaIssue {
  path: Path;
  message: string;
}

/** A schema checks an unknown value and returns the typed value, or undefined after recording issues. */
export interface Schema<T> {
  /** What the schema expects, in words, for error messages ("an integer from 1 to 99"). */
  readonly expected: string;
  check(value: unknown, path: Path, issues: SchemaIssue[]): T | undefined;
}

export type Infer<S> = S extends Schema<infer T> ? T : never;

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return `"${value.length > 40 ? value.slice(0, 40) + '…' : value}"`;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  return typeof value;
}

function fail(issues: SchemaIssue[], path: Path, expected: string, value: unknown): undefined {
  issues.push({ path, message: `expected ${expected}, got ${describe(value)}` });
  return undefined;
}

export function string(options: { pattern?: RegExp; patternName?: string; minLength?: number } = {}): Schema<string> {
  const expected = options.patternName ?? (options.minLength ? 'a non-empty string' : 'a string');
  return {
    expected,
    check(value, path, issues) {
      if (typeof value !== 'string') return fail(issues, path, expected, value);
      if (options.minLength !== undefined && value.length < options.minLength) return fail(issues, path, expected, value);
      if (options.pattern && !options.pattern.test(value)) return fail(issues, path, expected, value);
      return value;
    },
  };
}

/**
 * A password or other secret: a string, and an error message that never repeats the value (it ends
 * up on the console and in logs). YAML reads an unquoted `0123` as a number, which would lose the
 * leading zero, so a number is refused with a hint to quote it.
 */
export function secret(): Schema<string> {
  const expected = 'a string (quote a secret made of digits: "0123")';
  return {
    expected,
    check(value, path, issues) {
      if (typeof value === 'string') return value;
      const kind = value === null ? 'null' : Array.isArray(value) ? 'a list' : typeof value === 'object' ? 'a mapping' : `a ${typeof value} (value not shown)`;
      issues.push({ path, message: `expected ${expected}, got ${kind}` });
      return undefined;
    },
  };
}

export function number(options: { min?: number; max?: number; integer?: boolean; unit?: string } = {}): Schema<number> {
  const kind = options.integer ? 'an integer' : 'a number';
  const range =
    options.min !== undefined && options.max !== undefined
      ? ` from ${options.min} to ${options.max}`
      : options.min !== undefined
        ? ` >= ${options.min}`
        : options.max !== undefined
          ? ` <= ${options.max}`
          : '';
  const expected = `${kind}${range}${options.unit ? ` (${options.unit})` : ''}`;
  return {
    expected,
    check(value, path, issues) {
      if (typeof value !== 'number' || !Number.isFinite(value)) return fail(issues, path, expected, value);
      if (options.integer && !Number.isInteger(value)) return fail(issues, path, expected, value);
      if (options.min !== undefined && value < options.min) return fail(issues, path, expected, value);
      if (options.max !== undefined && value > options.max) return fail(issues, path, expected, value);
      return value;
    },
  };
}

export function boolean(): Schema<boolean> {
  return {
    expected: 'true or false',
    check(value, path, issues) {
      return typeof value === 'boolean' ? value : fail(issues, path, 'true or false', value);
    },
  };
}

export function oneOf<const V extends readonly (string | number)[]>(values: V): Schema<V[number]> {
  const expected = `one of ${values.map((v) => (typeof v === 'string' ? `"${v}"` : String(v))).join(', ')}`;
  return {
    expected,
    check(value, path, issues) {
      return values.includes(value as V[number]) ? (value as V[number]) : fail(issues, path, expected, value);
    },
  };
}

export function array<T>(item: Schema<T>, options: { minItems?: number; maxItems?: number; unique?: boolean } = {}): Schema<T[]> {
  const bounds =
    options.minItems !== undefined && options.maxItems !== undefined
      ? options.minItems === options.maxItems
        ? ` of exactly ${options.minItems}`
        : ` of ${options.minItems} to ${options.maxItems}`
      : options.minItems !== undefined
        ? ` of at least ${options.minItems}`
        : '';
  const expected = `a list${bounds} (${item.expected})`;
  return {
    expected,
    check(value, path, issues) {
      if (!Array.isArray(value)) return fail(issues, path, expected, value);
      if (options.minItems !== undefined && value.length < options.minItems) return fail(issues, path, expected, `a list of ${value.length}`);
      if (options.maxItems !== undefined && value.length > options.maxItems) return fail(issues, path, expected, `a list of ${value.length}`);
      const before = issues.length;
      const out = value.map((v, i) => item.check(v, [...path, i], issues));
      if (options.unique) {
        const seen = new Set<string>();
        out.forEach((v, i) => {
          const k = JSON.stringify(v);
          if (seen.has(k)) issues.push({ path: [...path, i], message: `duplicate value ${describe(v)}` });
          seen.add(k);
        });
      }
      return issues.length === before ? (out as T[]) : undefined;
    },
  };
}

/** A mapping from free keys (matching keyPattern) to values of one schema. */
export function record<T>(item: Schema<T>, options: { keyPattern?: RegExp; keyName?: string } = {}): Schema<Record<string, T>> {
  const expected = `a mapping of ${options.keyName ?? 'names'} to ${item.expected}`;
  return {
    expected,
    check(value, path, issues) {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return fail(issues, path, expected, value);
      const before = issues.length;
      const out: Record<string, T> = {};
      for (const [k, v] of Object.entries(value)) {
        if (options.keyPattern && !options.keyPattern.test(k)) {
          issues.push({ path: [...path, k], message: `"${k}" is not a valid ${options.keyName ?? 'name'}` });
          continue;
        }
        const r = item.check(v, [...path, k], issues);
        if (r !== undefined) out[k] = r;
      }
      return issues.length === before ? out : undefined;
    },
  };
}

/** A field of an object schema: required, optional, or with a default filled in when absent. */
export interface Field<T, Out> {
  readonly schema: Schema<T>;
  readonly mode: 'required' | 'optional' | 'default';
  readonly fallback?: () => T;
  /** Phantom: the field's type in the checked object. */
  readonly _out?: Out;
}

export function required<T>(schema: Schema<T>): Field<T, T> {
  return { schema, mode: 'required' };
}
export function optional<T>(schema: Schema<T>): Field<T, T | undefined> {
  return { schema, mode: 'optional' };
}
export function withDefault<T>(schema: Schema<T>, fallback: T | (() => T)): Field<T, T> {
  return { schema, mode: 'default', fallback: typeof fallback === 'function' ? (fallback as () => T) : () => structuredClone(fallback) };
}

/** A nested mapping whose absence means "all its defaults": the default is the schema applied to {}. */
export function section<T>(schema: Schema<T>): Field<T, T> {
  return {
    schema,
    mode: 'default',
    fallback: () => {
      const issues: SchemaIssue[] = [];
      const v = schema.check({}, [], issues);
      if (v === undefined) throw new Error(`a section without defaults for every field: ${issues.map((i) => i.message).join('; ')}`);
      return v;
    },
  };
}

type Shape = Record<string, Field<unknown, unknown>>;
type OutOf<F> = F extends Field<unknown, infer O> ? O : never;
export type ObjectOf<S extends Shape> = { [K in keyof S]: OutOf<S[K]> };

/** A mapping with known fields; unknown fields are errors (a typo in a config must not pass silently). */
export function object<S extends Shape>(shape: S, options: { name?: string } = {}): Schema<ObjectOf<S>> {
  const expected = options.name ?? `a mapping with ${Object.keys(shape).join(', ')}`;
  return {
    expected,
    check(value, path, issues) {
      if (value === undefined || value === null) value = {};
      if (typeof value !== 'object' || Array.isArray(value)) return fail(issues, path, expected, value);
      const input = value as Record<string, unknown>;
      const before = issues.length;
      const out: Record<string, unknown> = {};
      for (const key of Object.keys(input)) {
        if (!(key in shape)) {
          issues.push({ path: [...path, key], message: `unknown field "${key}" (known: ${Object.keys(shape).join(', ')})` });
        }
      }
      for (const [key, field] of Object.entries(shape)) {
        const v = input[key];
        if (v === undefined || v === null) {
          if (field.mode === 'required') issues.push({ path: [...path, key], message: `missing required field "${key}" (${field.schema.expected})` });
          else if (field.mode === 'default' && field.fallback) out[key] = field.fallback();
          continue;
        }
        const r = field.schema.check(v, [...path, key], issues);
        if (r !== undefined) out[key] = r;
      }
      return issues.length === before ? (out as ObjectOf<S>) : undefined;
    },
  };
}

/** One of several object schemas chosen by the string in field `tag` (e.g. display.type). */
export function tagged<const K extends string, V extends Record<string, Schema<object>>>(
  tag: K,
  variants: V,
): Schema<{ [N in keyof V]: Infer<V[N]> & { [T in K]: N } }[keyof V]> {
  const names = Object.keys(variants);
  const expected = `a mapping with ${tag}: ${names.map((n) => `"${n}"`).join(' | ')}`;
  return {
    expected,
    check(value, path, issues) {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return fail(issues, path, expected, value);
      const input = value as Record<string, unknown>;
      const name = input[tag];
      if (typeof name !== 'string' || !(name in variants)) {
        issues.push({ path: [...path, tag], message: `expected ${names.map((n) => `"${n}"`).join(', ')}, got ${describe(name)}` });
        return undefined;
      }
      const { [tag]: _omit, ...rest } = input;
      const variant = variants[name];
      if (!variant) return undefined;
      const r = variant.check(rest, path, issues);
      return r === undefined ? undefined : ({ ...r, [tag]: name } as never);
    },
  };
}

/** Either of two schemas (tried in order); the error names both expectations. */
export function either<A, B>(a: Schema<A>, b: Schema<B>): Schema<A | B> {
  const expected = `${a.expected}, or ${b.expected}`;
  return {
    expected,
    check(value, path, issues) {
      const tryIssues: SchemaIssue[] = [];
      const ra = a.check(value, path, tryIssues);
      if (ra !== undefined) return ra;
      const tryB: SchemaIssue[] = [];
      const rb = b.check(value, path, tryB);
      if (rb !== undefined) return rb;
      // Report the branch that got further (fewer issues at deeper paths), falling back to the summary.
      const deeper = [tryIssues, tryB].find((list) => list.some((i) => i.path.length > path.length));
      if (deeper) issues.push(...deeper);
      else fail(issues, path, expected, value);
      return undefined;
    },
  };
}

/** Checks a value and throws nothing: the issues list tells what is wrong. */
export function validate<T>(schema: Schema<T>, value: unknown): { value: T; issues: [] } | { value: undefined; issues: SchemaIssue[] } {
  const issues: SchemaIssue[] = [];
  const v = schema.check(value, [], issues);
  if (v === undefined || issues.length > 0) {
    if (issues.length === 0) issues.push({ path: [], message: `expected ${schema.expected}` });
    return { value: undefined, issues };
  }
  return { value: v, issues: [] };
}

export function formatPath(path: Path): string {
  if (path.length === 0) return '(top level)';
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}
