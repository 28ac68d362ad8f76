// Ordered, case-insensitive parameter lists (header ;params, URI ;params, auth-params) and their grammar.
import { PVALUE, type Scanner, TOKEN, eqLower, isTokenChar, quote, span } from './scanner.js';

export interface Param {
  /** The name as received or given (names compare case-insensitively, RFC 3261 §7.3.1). */
  readonly name: string;
  /** null for a parameter without a value (";lr", ";rport"). Unquoted and unescaped when quoted. */
  readonly value: string | null;
  /** Whether the value is written as a quoted-string. */
  readonly quoted: boolean;
}

export interface ParamOptions {
  /** Write the value as a quoted-string (auth-params such as realm and nonce need it). */
  quoted?: boolean;
}

/**
 * An immutable, ordered parameter list. Unknown parameters are kept as received so that they
 * survive a round trip (RFC 3261 §8.2.6.2 and §16.6 ask elements to pass them on).
 *
 * Stored flat as (name, value, quoted) triplets: a parsed message has many small parameter
 * lists, and one array per list is much cheaper than one object per parameter.
 */
export class Params implements Iterable<Param> {
  static readonly EMPTY = new Params([]);
  private listCache: readonly Param[] | undefined;

  /** From (name, value, quoted) triplets; see of() and from() for the usual ways in. */
  constructor(private readonly flat: readonly (string | null | boolean)[]) {}

  /** From a list of parameters. */
  static of(list: readonly Param[]): Params {
    const flat: (string | null | boolean)[] = [];
    for (const p of list) flat.push(p.name, p.value, p.quoted);
    return new Params(flat);
  }

  /** Builds a list from a record: a string value, or null for a flag parameter. */
  static from(record: Readonly<Record<string, string | null>>): Params {
    const flat: (string | null | boolean)[] = [];
    for (const [name, value] of Object.entries(record)) flat.push(name, value, value !== null && needsQuotes(value));
    return new Params(flat);
  }

  get size(): number {
    return this.flat.length / 3;
  }

  /** Name of the i-th parameter. */
  nameAt(i: number): string {
    return this.flat[i * 3] as string;
  }

  valueAt(i: number): string | null {
    return this.flat[i * 3 + 1] as string | null;
  }

  quotedAt(i: number): boolean {
    return this.flat[i * 3 + 2] === true;
  }

  /** The parameters as objects (made on first use). */
  get list(): readonly Param[] {
    if (this.listCache) return this.listCache;
    const list: Param[] = [];
    for (let i = 0; i < this.flat.length; i += 3) list.push({ name: this.flat[i] as string, value: this.flat[i + 1] as string | null, quoted: this.flat[i + 2] === true });
    this.listCache = list;
    return list;
  }

  [Symbol.iterator](): Iterator<Param> {
    return this.list[Symbol.iterator]();
  }

  private find(name: string): number {
    const flat = this.flat;
    for (let i = 0; i < flat.length; i += 3) if (flat[i] === name) return i;
    const lower = name.toLowerCase();
    for (let i = 0; i < flat.length; i += 3) if (eqLower(flat[i] as string, lower)) return i;
    return -1;
  }

  /** The value: a string, null for a flag parameter, undefined when absent. */
  get(name: string): string | null | undefined {
    const i = this.find(name);
    return i < 0 ? undefined : (this.flat[i + 1] as string | null);
  }

  has(name: string): boolean {
    return this.find(name) >= 0;
  }

  /** A copy with the parameter set (replacing the first of that name, or appended). */
  with(name: string, value: string | null, options: ParamOptions = {}): Params {
    const quoted = options.quoted ?? (value !== null && needsQuotes(value));
    const flat = this.flat.slice();
    const i = this.find(name);
    if (i >= 0) {
      flat[i] = name;
      flat[i + 1] = value;
      flat[i + 2] = quoted;
    } else flat.push(name, value, quoted);
    return new Params(flat);
  }

  without(name: string): Params {
    const i = this.find(name);
    if (i < 0) return this;
    const flat = this.flat.slice();
    flat.splice(i, 3);
    return new Params(flat);
  }

  /** ";name=value;flag" as written in a header field. */
  toString(): string {
    let out = '';
    for (let i = 0; i < this.flat.length; i += 3) out += `;${formatParam({ name: this.flat[i] as string, value: this.flat[i + 1] as string | null, quoted: this.flat[i + 2] === true })}`;
    return out;
  }
}

function needsQuotes(value: string): boolean {
  if (value.length === 0) return true;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    // gen-value = token / host / quoted-string (RFC 3261 §25.1); ':' '[' ']' are host characters.
    if (!isTokenChar(c) && c !== 58 && c !== 91 && c !== 93) return true;
  }
  return false;
}

export function formatParam(p: Param): string {
  if (p.value === null) return p.name;
  return `${p.name}=${p.quoted ? quote(p.value) : p.value}`;
}

/**
 * *( SEMI generic-param ) (RFC 3261 §25.1), from pos. SEMI and EQUAL allow whitespace around
 * them (RFC 3261 §25.1 SEMI = SWS ";" SWS). Stops before anything that is not a ';'.
 */
export function parseParams(sc: Scanner): Params {
  // Hot path (every Via, From, To, Contact): local variables rather than scanner calls.
  const s = sc.s;
  const b = sc.b;
  const end = sc.end;
  let p = sc.pos;
  let flat: (string | null | boolean)[] | undefined;
  for (;;) {
    let q = p;
    while (q < end && (b[q] === 32 || b[q] === 9)) q++;
    if (q >= end || b[q] !== 59) break;
    q++;
    while (q < end && (b[q] === 32 || b[q] === 9)) q++;
    const nameStart = q;
    q = span(b, q, end, TOKEN);
    if (q === nameStart) sc.fail('expected a parameter name', q);
    const name = s.slice(nameStart, q);
    let r = q;
    while (r < end && (b[r] === 32 || b[r] === 9)) r++;
    let value: string | null = null;
    let quoted = false;
    if (r < end && b[r] === 61) {
      r++;
      while (r < end && (b[r] === 32 || b[r] === 9)) r++;
      if (r < end && b[r] === 34) {
        sc.pos = r;
        value = sc.quoted();
        quoted = true;
        q = sc.pos;
      } else {
        q = span(b, r, end, PVALUE);
        if (q === r) sc.fail(`expected a value for parameter '${name}'`, r);
        value = s.slice(r, q);
      }
    }
    // A list made to measure for the usual single parameter (a push would reserve room for 17).
    if (flat === undefined) flat = [name, value, quoted];
    else flat.push(name, value, quoted);
    p = q;
  }
  sc.pos = p;
  return flat ? new Params(flat) : Params.EMPTY;
}

/**
 * auth-param *(COMMA auth-param) (RFC 3261 §25.1 digest-cln, auth-param): name EQUAL
 * (token / quoted-string), separated by commas. Used by the four authentication headers.
 */
export function parseAuthParams(sc: Scanner): Params {
  // Local variables rather than scanner calls, as in parseParams (a Digest header has ten).
  const s = sc.s;
  const b = sc.b;
  const end = sc.end;
  const flat: (string | null | boolean)[] = [];
  let p = sc.pos;
  for (;;) {
    while (p < end && (b[p] === 32 || b[p] === 9)) p++;
    const nameStart = p;
    p = span(b, p, end, TOKEN);
    if (p === nameStart) sc.fail('expected an auth-param name', p);
    const name = s.slice(nameStart, p);
    // EQUAL = SWS "=" SWS
    let q = p;
    while (q < end && (b[q] === 32 || b[q] === 9)) q++;
    if (q >= end || b[q] !== 61) sc.fail("expected '=' after an auth-param name", p);
    q++;
    while (q < end && (b[q] === 32 || b[q] === 9)) q++;
    p = q;
    let value: string;
    let quoted = false;
    if (p < end && b[p] === 34) {
      sc.pos = p;
      value = sc.quoted();
      quoted = true;
      p = sc.pos;
    } else {
      const valueStart = p;
      p = span(b, p, end, PVALUE);
      if (p === valueStart) sc.fail(`expected a value for auth-param '${name}'`, p);
      value = s.slice(valueStart, p);
    }
    flat.push(name, value, quoted);
    // COMMA = SWS "," SWS
    while (p < end && (b[p] === 32 || b[p] === 9)) p++;
    if (p >= end || b[p] !== 44) break;
    p++;
    while (p < end && (b[p] === 32 || b[p] === 9)) p++;
  }
  sc.pos = p;
  return new Params(flat);
}

/** "name=value, name="value"" as in an auth header. */
export function formatAuthParams(params: Params): string {
  let out = '';
  for (let i = 0; i < params.size; i++) out += (i > 0 ? ', ' : '') + formatParam({ name: params.nameAt(i), value: params.valueAt(i), quoted: params.quotedAt(i) });
  return out;
}

