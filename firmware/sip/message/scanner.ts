// Character classes of the RFC 3261 §25 grammar and the cursor every hand-written header parser uses.
import { SipParseError } from './errors.js';

// Bit flags per character code: one table lookup decides membership in a grammar class. The
// table covers every UTF-16 code unit so that hot loops need no range check (non-ASCII: no class).
export const ALNUM = 1;
export const TOKEN = 2; // RFC 3261 §25.1 token
export const WORD = 4; // RFC 3261 §25.1 word (Call-ID)
export const UNRESERVED = 8; // RFC 3261 §25.1 unreserved = alphanum / mark
export const USER = 16; // unreserved / user-unreserved (§25.1 user)
export const PASSWORD = 32; // unreserved / "&" / "=" / "+" / "$" / ","
export const PARAMCHAR = 64; // param-unreserved / unreserved (§25.1 paramchar)
export const HNVCHAR = 128; // hnv-unreserved / unreserved (§25.1 hname, hvalue)
export const HOST = 256; // hostname and IPv4 characters
export const PVALUE = 512; // generic-param value without quotes: token / host (incl. IPv6 reference)
export const DIGIT = 1024;
export const HEX = 2048;
export const SCHEME = 4096; // RFC 3261 §25.1 scheme characters after the first
export const IPV6 = 8192; // hex, ':' and '.'
export const DNAME = 16384; // unquoted display name: token, whitespace, and (liberally) non-ASCII

function build(): Uint16Array {
  const t = new Uint16Array(65536);
  const add = (chars: string, flag: number): void => {
    for (let i = 0; i < chars.length; i++) t[chars.charCodeAt(i)] = (t[chars.charCodeAt(i)] ?? 0) | flag;
  };
  const alnum = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  add(alnum, ALNUM | TOKEN | WORD | UNRESERVED | USER | PASSWORD | PARAMCHAR | HNVCHAR | HOST | PVALUE | SCHEME | DNAME);
  add("-.!%*_+`'~", TOKEN | WORD | PVALUE | DNAME);
  add('()<>:\\"/[]?{}', WORD);
  add("-_.!~*'()", UNRESERVED | USER | PASSWORD | PARAMCHAR | HNVCHAR);
  add('&=+$,;?/', USER);
  add('&=+$,', PASSWORD);
  add('[]/:&+$', PARAMCHAR);
  add('[]/?:+$', HNVCHAR);
  add('-.', HOST);
  add(':[]', PVALUE);
  add('0123456789', DIGIT);
  add('0123456789abcdefABCDEF', HEX | IPV6);
  add(':.', IPV6);
  add('+-.', SCHEME);
  add(' \t', DNAME);
  for (let c = 128; c < 65536; c++) t[c] = DNAME;
  return t;
}
export const CLASS = build();

function has(c: number, flag: number): boolean {
  return ((CLASS[c] ?? 0) & flag) !== 0;
}

/**
 * The character codes of a text as bytes, for the parsers to scan: a typed array is read about
 * twice as fast as a string's charCodeAt(), which dispatches on the string's representation at
 * every character. Codes below 128 are the characters themselves; any other character is 0x80,
 * which is in the same classes (only DNAME). The parsers test characters on the codes and take
 * substrings from the text, at the same offsets.
 *
 * A received message that decodes one character per byte already has its codes: its bytes (see
 * parseMessage). Other text (folded lines, values built in code) is converted by codesOf().
 */
export type Codes = Uint8Array;

/** The codes of s (see Codes). */
export function codesOf(s: string): Codes {
  const n = s.length;
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    b[i] = c < 128 ? c : 0x80;
  }
  return b;
}

/** End of the run of characters of a class starting at p (at most end). */
export function span(b: Codes, p: number, end: number, flag: number): number {
  while (p < end && ((CLASS[b[p] ?? 0] ?? 0) & flag) !== 0) p++;
  return p;
}

/** span() on a string (short ones: parameter values). */
export function spanText(s: string, p: number, end: number, flag: number): number {
  while (p < end && ((CLASS[s.charCodeAt(p)] ?? 0) & flag) !== 0) p++;
  return p;
}

export const isAlnum = (c: number): boolean => has(c, ALNUM);
export const isTokenChar = (c: number): boolean => has(c, TOKEN);
export const isUserChar = (c: number): boolean => has(c, USER);
export const isDigit = (c: number): boolean => c >= 48 && c <= 57;
export const isHex = (c: number): boolean => has(c, HEX);

/** True when every character of s is a token character (RFC 3261 §25.1); false for "". */
export function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) if (!has(s.charCodeAt(i), TOKEN)) return false;
  return true;
}

/** Case-insensitive equality with a lower-case ASCII name, without allocating. */
export function eqLower(s: string, lower: string): boolean {
  if (s.length !== lower.length) return false;
  if (s === lower) return true;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const l = lower.charCodeAt(i);
    if (c !== l && (c | 0x20) !== l) return false;
  }
  // The |0x20 fold is exact for letters; other characters of lower must have matched exactly,
  // or be a non-letter whose fold coincides, which no parameter or header name has.
  return true;
}

/** Quotes a string as a quoted-string, escaping '"' and '\' (RFC 3261 §25.1 quoted-pair). */
export function quote(s: string): string {
  let needs = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 34 || c === 92) {
      needs = true;
      break;
    }
  }
  return needs ? `"${s.replace(/["\\]/g, '\\$&')}"` : `"${s}"`;
}

/**
 * Where a header value sits in the message, so that errors point at the right line and column.
 * A HeaderField is one (name is the canonical header name).
 */
export interface Origin {
  readonly name: string;
  readonly line: number;
  readonly column: number;
}

const NO_ORIGIN: Origin = { name: '', line: 0, column: 1 };

/**
 * A cursor over one header value (or one URI): s is the text, b its codes (see Codes), and the
 * value is s[start, end). Parsers advance pos and call fail() on the first character the grammar
 * does not allow; fail() throws, and the entry points catch (they never let a throw out). Every
 * method moves forward only, so parsing is linear in the input.
 */
export class Scanner {
  pos: number;
  readonly start: number;
  readonly end: number;

  constructor(
    readonly s: string,
    readonly b: Codes,
    readonly origin: Origin = NO_ORIGIN,
    start = 0,
    end = s.length,
  ) {
    this.pos = start;
    this.start = start;
    this.end = end;
  }

  /** A scanner over the whole of a text. */
  static of(text: string, origin?: Origin): Scanner {
    return new Scanner(text, codesOf(text), origin);
  }

  fail(reason: string, at = this.pos): never {
    throw new SipParseError({
      reason,
      line: this.origin.line,
      column: this.origin.column + at - this.start,
      ...(this.origin.name ? { header: this.origin.name } : {}),
    });
  }

  eof(): boolean {
    return this.pos >= this.end;
  }

  /** The code at pos (see Codes), or -1 at the end. */
  peek(): number {
    return this.pos < this.end ? (this.b[this.pos] ?? -1) : -1;
  }

  /** Skips SP and HTAB (after unfolding, LWS and SWS are just these; RFC 3261 §7.3.1). */
  ws(): void {
    const b = this.b;
    let p = this.pos;
    while (p < this.end) {
      const c = b[p];
      if (c !== 32 && c !== 9) break;
      p++;
    }
    this.pos = p;
  }

  /** Skips whitespace and reports whether there was any. */
  lws(): boolean {
    const start = this.pos;
    this.ws();
    return this.pos > start;
  }

  /** Consumes c (after optional whitespace on both sides when sws is true) or returns false. */
  eat(c: number, sws = false): boolean {
    const save = this.pos;
    if (sws) this.ws();
    if (this.peek() === c) {
      this.pos++;
      if (sws) this.ws();
      return true;
    }
    this.pos = save;
    return false;
  }

  expect(c: number, what: string, sws = false): void {
    if (!this.eat(c, sws)) this.fail(`expected ${what}`);
  }

  /** Consumes a run of characters of a class (a flag of CLASS); returns it (possibly ""). */
  run(flag: number): string {
    const start = this.pos;
    const p = span(this.b, start, this.end, flag);
    this.pos = p;
    return this.s.slice(start, p);
  }

  /** Like run(), for a predicate on codes (rare, slower paths). */
  runWhile(pred: (c: number) => boolean): string {
    const b = this.b;
    const start = this.pos;
    let p = start;
    while (p < this.end && pred(b[p] ?? 0)) p++;
    this.pos = p;
    return this.s.slice(start, p);
  }

  token(what = 'a token'): string {
    const start = this.pos;
    const p = span(this.b, start, this.end, TOKEN);
    if (p === start) this.fail(`expected ${what}`);
    this.pos = p;
    return this.s.slice(start, p);
  }

  /** 1*DIGIT as a number, refusing more than maxDigits significant digits (overflow, RFC 4475 §3.1.2.4). */
  digits(what: string, max: number): number {
    const b = this.b;
    const start = this.pos;
    let p = start;
    let n = 0;
    let significant = 0;
    while (p < this.end) {
      const c = b[p] ?? 0;
      if (c < 48 || c > 57) break;
      n = n * 10 + (c - 48);
      if (n > 0) significant++;
      p++;
    }
    if (p === start) this.fail(`expected ${what}`, start);
    // More than 15 significant digits would lose precision: out of range for every SIP field.
    if (significant > 15 || n > max) this.fail(`${what} out of range`, start);
    this.pos = p;
    return n;
  }

  /**
   * A quoted-string starting at pos (which must be '"'); returns the unescaped content.
   * RFC 3261 §25.1: qdtext is any character but '"' and '\'; quoted-pair is "\" followed by
   * any character except CR and LF.
   */
  quoted(): string {
    const s = this.s;
    const b = this.b;
    const open = this.pos;
    // The closing quote is found natively: the search stops at it, so it never reads past this
    // string (an unbounded search for something that may be absent, like '\\', would rescan the
    // rest of the header section for every quoted string and make parsing quadratic).
    const close = s.indexOf('"', open + 1);
    if (close >= 0 && close < this.end) {
      // Without escapes (the usual case) the content is the value; the search for '\\' in it
      // is native and bounded by it.
      const content = s.slice(open + 1, close);
      if (content.indexOf('\\') < 0) {
        this.pos = close + 1;
        return content;
      }
    }
    let p = open + 1;
    let out: string | undefined;
    let from = p;
    while (p < this.end) {
      const c = b[p];
      if (c === 34) {
        const value = out === undefined ? s.slice(from, p) : out + s.slice(from, p);
        this.pos = p + 1;
        return value;
      }
      if (c === 92) {
        if (p + 1 >= this.end) break;
        out = (out ?? '') + s.slice(from, p) + s.charAt(p + 1);
        p += 2;
        from = p;
        continue;
      }
      p++;
    }
    return this.fail('unterminated quoted string', open);
  }

  rest(): string {
    const r = this.s.slice(this.pos, this.end);
    this.pos = this.end;
    return r;
  }

  /** Fails unless only whitespace remains. */
  finish(): void {
    this.ws();
    if (this.pos < this.end) this.fail(`unexpected character '${this.s.charAt(this.pos)}'`);
  }
}
