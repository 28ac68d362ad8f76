// SIP, SIPS and tel URIs (RFC 3261 §19.1, RFC 3966): parsing, formatting and §19.1.4 comparison.
import { SipParseError } from './errors.js';
import { Params } from './params.js';
import { CLASS, type Codes, HNVCHAR, HOST, IPV6, PARAMCHAR, PASSWORD, SCHEME, USER, type Origin, Scanner, isAlnum, isDigit, isHex, isUserChar, span } from './scanner.js';

export interface SipUriInit {
  scheme?: 'sip' | 'sips';
  /** The user part as on the wire (%-escaped); see escapeUser() to build one from text. */
  user?: string | undefined;
  password?: string | undefined;
  /** Hostname, IPv4 address, or IPv6 reference with its brackets ("[2001:db8::1]"). */
  host: string;
  port?: number | undefined;
  params?: Params;
  /** The ?name=value&... part, values as on the wire (%-escaped). */
  headers?: Params;
}

/** sip: and sips: URIs (RFC 3261 §19.1.1). Immutable; with() returns a changed copy. */
export class SipUri {
  readonly kind = 'sip';
  readonly scheme: 'sip' | 'sips';
  readonly user: string | undefined;
  readonly password: string | undefined;
  readonly host: string;
  readonly port: number | undefined;
  readonly params: Params;
  readonly headers: Params;

  constructor(init: SipUriInit) {
    this.scheme = init.scheme ?? 'sip';
    this.user = init.user;
    this.password = init.password;
    this.host = init.host;
    this.port = init.port;
    this.params = init.params ?? Params.EMPTY;
    this.headers = init.headers ?? Params.EMPTY;
  }

  with(changes: Partial<SipUriInit>): SipUri {
    return new SipUri({ ...this.init(), ...changes });
  }

  private init(): SipUriInit {
    return { scheme: this.scheme, user: this.user, password: this.password, host: this.host, port: this.port, params: this.params, headers: this.headers };
  }

  get transport(): string | undefined {
    return this.params.get('transport') ?? undefined;
  }

  /** The loose-routing flag (RFC 3261 §19.1.1, §16.12). */
  get lr(): boolean {
    return this.params.has('lr');
  }

  get maddr(): string | undefined {
    return this.params.get('maddr') ?? undefined;
  }

  /** user@host[:port] without parameters: the address-of-record form (RFC 3261 §10.2.1). */
  get aor(): string {
    return `${this.scheme}:${this.user !== undefined ? `${this.user}@` : ''}${this.host}`;
  }

  toString(): string {
    let out = `${this.scheme}:`;
    if (this.user !== undefined) out += `${this.user}${this.password !== undefined ? `:${this.password}` : ''}@`;
    out += this.host;
    if (this.port !== undefined) out += `:${this.port}`;
    const params = this.params;
    for (let i = 0; i < params.size; i++) {
      const v = params.valueAt(i);
      out += v === null ? `;${params.nameAt(i)}` : `;${params.nameAt(i)}=${v}`;
    }
    const headers = this.headers;
    for (let i = 0; i < headers.size; i++) out += `${i === 0 ? '?' : '&'}${headers.nameAt(i)}=${headers.valueAt(i) ?? ''}`;
    return out;
  }
}

/** tel: URIs (RFC 3966): the number with its visual separators, and parameters. */
export class TelUri {
  readonly kind = 'tel';
  readonly scheme = 'tel';
  constructor(
    readonly number: string,
    readonly params: Params = Params.EMPTY,
  ) {}

  get isGlobal(): boolean {
    return this.number.startsWith('+');
  }

  toString(): string {
    let out = `tel:${this.number}`;
    for (const p of this.params.list) out += p.value === null ? `;${p.name}` : `;${p.name}=${p.value}`;
    return out;
  }
}

/** Any other absolute URI (http:, im:, urn:, unknown schemes): kept verbatim (RFC 3261 §25.1 absoluteURI). */
export class AbsoluteUri {
  readonly kind = 'absolute';
  constructor(
    /** Lower-cased scheme. */
    readonly scheme: string,
    /** Everything after the colon, as received. */
    readonly opaque: string,
  ) {}

  toString(): string {
    return `${this.scheme}:${this.opaque}`;
  }
}

export type Uri = SipUri | TelUri | AbsoluteUri;

// ---------------------------------------------------------------------------------------------
// Parsing

/** End of a run of characters of a class (a CLASS flag) and %HH escapes from p; stops at a malformed escape. */
function spanEscaped(b: Codes, p: number, end: number, flag: number): number {
  while (p < end) {
    const c = b[p] ?? 0;
    if (((CLASS[c] ?? 0) & flag) !== 0) p++;
    else if (c === 37 && p + 2 < end && isHex(b[p + 1] ?? 0) && isHex(b[p + 2] ?? 0)) p += 3;
    else break;
  }
  return p;
}

/** Consumes a run of characters of a class (a CLASS flag) and %HH escapes (RFC 3261 §25.1 escaped). */
function runEscaped(sc: Scanner, end: number, flag: number): string {
  const start = sc.pos;
  const p = spanEscaped(sc.b, start, end, flag);
  if (p < end && sc.b[p] === 37) sc.fail("'%' not followed by two hex digits", p);
  sc.pos = p;
  return sc.s.slice(start, p);
}

function uriParams(sc: Scanner, end: number): Params {
  let flat: (string | null | boolean)[] | undefined;
  const b = sc.b;
  while (sc.pos < end && b[sc.pos] === 59) {
    sc.pos++;
    const name = runEscaped(sc, end, PARAMCHAR);
    if (name.length === 0) sc.fail('empty URI parameter name');
    let value: string | null = null;
    if (sc.pos < end && b[sc.pos] === 61) {
      sc.pos++;
      value = runEscaped(sc, end, PARAMCHAR);
    }
    if (flat === undefined) flat = [name, value, false];
    else flat.push(name, value, false);
  }
  return flat ? new Params(flat) : Params.EMPTY;
}

function uriHeaders(sc: Scanner, end: number): Params {
  const b = sc.b;
  if (sc.pos >= end || b[sc.pos] !== 63) return Params.EMPTY;
  const flat: (string | null | boolean)[] = [];
  do {
    sc.pos++;
    const name = runEscaped(sc, end, HNVCHAR);
    if (name.length === 0) sc.fail('empty URI header name');
    if (sc.pos >= end || b[sc.pos] !== 61) sc.fail("expected '=' in URI header");
    sc.pos++;
    const value = runEscaped(sc, end, HNVCHAR);
    flat.push(name, value, false);
  } while (sc.pos < end && b[sc.pos] === 38);
  return new Params(flat);
}

/** host = hostname / IPv4address / IPv6reference (RFC 3261 §25.1), from sc.pos. */
export function parseHost(sc: Scanner, end: number): string {
  const s = sc.s;
  const b = sc.b;
  const start = sc.pos;
  if (b[start] === 91) {
    // RFC 3261 §25.1 IPv6reference = "[" IPv6address "]"
    sc.pos++;
    const inner = sc.run(IPV6);
    if (sc.pos >= end || b[sc.pos] !== 93 || inner.indexOf(':') < 0) sc.fail('malformed IPv6 reference', start);
    sc.pos++;
    return s.slice(start, sc.pos);
  }
  const p = span(b, start, end, HOST);
  if (p === start) sc.fail('expected a host', start);
  const c0 = b[start];
  if (c0 === 45 || c0 === 46) sc.fail('malformed host', start);
  sc.pos = p;
  return s.slice(start, p);
}

function parsePort(sc: Scanner): number {
  return sc.digits('a port', 65535);
}

function parseSipUri(sc: Scanner, end: number, scheme: 'sip' | 'sips'): SipUri {
  const s = sc.s;
  const b = sc.b;
  let user: string | undefined;
  let password: string | undefined;
  // RFC 3261 §19.1.1: userinfo ends at '@'; neither user nor password may hold an unescaped '@'.
  // The usual "user@host" is read in one pass: user characters, then the '@'.
  const start = sc.pos;
  const userEnd = spanEscaped(b, start, end, USER);
  let p = userEnd;
  if (p < end && b[p] === 58) p = spanEscaped(b, p + 1, end, PASSWORD);
  if (p < end && b[p] === 64 && userEnd > start) {
    user = s.slice(start, userEnd);
    if (userEnd < p) password = s.slice(userEnd + 1, p);
    sc.pos = p + 1;
  } else {
    // Otherwise an '@' further on makes the user part malformed; without one there is none. The
    // search starts where the scan stopped (no '@' before), and is bounded by end: an unbounded
    // search would read the rest of the header section for every URI without '@' and make
    // parsing quadratic.
    let at = p;
    while (at < end && b[at] !== 64) at++;
    if (at < end) {
      user = runEscaped(sc, at, USER);
      if (user.length === 0) sc.fail('empty user part');
      if (sc.pos < at && b[sc.pos] === 58) {
        sc.pos++;
        password = runEscaped(sc, at, PASSWORD);
      }
      if (sc.pos !== at) sc.fail(`invalid character '${s.charAt(sc.pos)}' in the user part`);
      sc.pos = at + 1;
    }
  }
  const host = parseHost(sc, end);
  let port: number | undefined;
  if (sc.pos < end && b[sc.pos] === 58) {
    sc.pos++;
    port = parsePort(sc);
  }
  const params = uriParams(sc, end);
  const headers = uriHeaders(sc, end);
  if (sc.pos < end) sc.fail(`unexpected character '${s.charAt(sc.pos)}' in the URI`);
  return new SipUri({ scheme, user, password, host, port, params, headers });
}

function isTelChar(c: number): boolean {
  // RFC 3966 phonedigit-hex and visual separators, plus the leading '+'.
  return isHex(c) || c === 42 || c === 35 || c === 43 || c === 45 || c === 46 || c === 40 || c === 41;
}

function parseTelUri(sc: Scanner, end: number): TelUri {
  const start = sc.pos;
  const number = sc.runWhile(isTelChar);
  let digits = 0;
  for (let i = 0; i < number.length; i++) if (isHex(number.charCodeAt(i)) || number.charCodeAt(i) === 42 || number.charCodeAt(i) === 35) digits++;
  if (digits === 0 || number.indexOf('+', 1) > 0) sc.fail('malformed telephone number', start);
  const params = uriParams(sc, end);
  if (sc.pos < end) sc.fail(`unexpected character '${sc.s.charAt(sc.pos)}' in the tel URI`);
  return new TelUri(number, params);
}

/** Parses the URI that fills s[sc.pos, end) exactly; throws SipParseError (internal use). */
export function scanUri(sc: Scanner, end: number): Uri {
  const s = sc.s;
  const b = sc.b;
  const start = sc.pos;
  const p = span(b, start, end, SCHEME);
  const c0 = b[start] ?? 0;
  if (p === start || p >= end || b[p] !== 58 || !isAlnum(c0) || isDigit(c0)) {
    sc.fail('expected a URI scheme', start);
  }
  sc.pos = p + 1;
  // Schemes are case-insensitive (RFC 3261 §19.1.1); compare without allocating.
  const c0l = c0 | 0x20;
  const len = p - start;
  if (c0l === 115 && (len === 3 || len === 4) && ((b[start + 1] ?? 0) | 0x20) === 105 && ((b[start + 2] ?? 0) | 0x20) === 112) {
    if (len === 3) return parseSipUri(sc, end, 'sip');
    if (((b[start + 3] ?? 0) | 0x20) === 115) return parseSipUri(sc, end, 'sips');
  }
  if (c0l === 116 && len === 3 && ((b[start + 1] ?? 0) | 0x20) === 101 && ((b[start + 2] ?? 0) | 0x20) === 108) return parseTelUri(sc, end);
  const scheme = s.slice(start, p).toLowerCase();
  // RFC 3261 §25.1 absoluteURI: opaque here; refuse characters no URI may carry raw.
  for (let i = sc.pos; i < end; i++) {
    const c = b[i] ?? 0;
    if (c <= 32 || c === 34 || c === 60 || c === 62 || c === 127) sc.fail('invalid character in URI', i);
  }
  if (sc.pos >= end) sc.fail('empty URI');
  const opaque = s.slice(sc.pos, end);
  sc.pos = end;
  return new AbsoluteUri(scheme, opaque);
}

export type UriResult = { ok: true; uri: Uri } | { ok: false; error: SipParseError };

/** Parses a URI given as text ("sip:alice@example.com;transport=tcp"). Never throws. */
export function parseUri(text: string, origin?: Origin): UriResult {
  try {
    const sc = Scanner.of(text, origin);
    return { ok: true, uri: scanUri(sc, text.length) };
  } catch (e) {
    if (e instanceof SipParseError) return { ok: false, error: e };
    throw e;
  }
}

/** Like parseUri, for URIs written in code: throws on a malformed one. */
export function uri(text: string): Uri {
  const r = parseUri(text);
  if (!r.ok) throw r.error;
  return r.uri;
}

/** Like uri(), for sip:/sips: URIs. */
export function sipUri(text: string): SipUri {
  const u = uri(text);
  if (u.kind !== 'sip') throw new SipParseError({ reason: `not a SIP URI: ${text}` });
  return u;
}

// ---------------------------------------------------------------------------------------------
// Escaping

const USER_SAFE = (c: number): boolean => isUserChar(c) && c !== 37;

/** %-escapes text for the user part of a SIP URI (RFC 3261 §25.1 user, escaped). */
export function escapeUser(text: string): string {
  let out = '';
  for (const b of Buffer.from(text, 'utf8')) out += USER_SAFE(b) ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  return out;
}

/** Decodes %HH escapes (as UTF-8); a malformed sequence is left as it is. */
export function unescapeUri(text: string): string {
  if (text.indexOf('%') < 0) return text;
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 37 && i + 2 < text.length && isHex(text.charCodeAt(i + 1)) && isHex(text.charCodeAt(i + 2))) {
      bytes.push(parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (c < 128) bytes.push(c);
    else for (const b of Buffer.from(text.charAt(i), 'utf8')) bytes.push(b);
  }
  return Buffer.from(bytes).toString('utf8');
}

// ---------------------------------------------------------------------------------------------
// Comparison, RFC 3261 §19.1.4

const RESERVED = ';/?:@&=+$,';

/**
 * Canonical form for comparison: "characters other than those in the reserved set are equivalent
 * to their %HEX HEX encoding" (RFC 3261 §19.1.4), so unreserved escapes are decoded and reserved
 * ones keep an upper-case escape.
 */
function canon(text: string, caseInsensitive: boolean): string {
  let out = text;
  if (text.indexOf('%') >= 0) {
    out = '';
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 37 && i + 2 < text.length && isHex(text.charCodeAt(i + 1)) && isHex(text.charCodeAt(i + 2))) {
        const ch = String.fromCharCode(parseInt(text.slice(i + 1, i + 3), 16));
        out += RESERVED.includes(ch) ? `%${text.slice(i + 1, i + 3).toUpperCase()}` : ch;
        i += 2;
      } else out += text.charAt(i);
    }
  }
  return caseInsensitive ? out.toLowerCase() : out;
}

function paramMap(params: Params): Map<string, string | null> {
  const m = new Map<string, string | null>();
  for (const p of params.list) {
    const k = canon(p.name, true);
    if (!m.has(k)) m.set(k, p.value === null ? null : canon(p.value, true));
  }
  return m;
}

// RFC 3261 §19.1.4: these parameters must match when present in either URI.
const STRICT_PARAMS = new Set(['user', 'ttl', 'method', 'maddr', 'transport']);

function sipEquals(a: SipUri, b: SipUri): boolean {
  if (a.scheme !== b.scheme) return false;
  // userinfo is case-sensitive; a URI without user never matches one with a user.
  if ((a.user === undefined) !== (b.user === undefined)) return false;
  if (a.user !== undefined && canon(a.user, false) !== canon(b.user ?? '', false)) return false;
  if ((a.password === undefined) !== (b.password === undefined)) return false;
  if (a.password !== undefined && canon(a.password, false) !== canon(b.password ?? '', false)) return false;
  if (a.host.toLowerCase() !== b.host.toLowerCase()) return false;
  // An omitted port does not match an explicit 5060.
  if (a.port !== b.port) return false;
  const pa = paramMap(a.params);
  const pb = paramMap(b.params);
  for (const [k, v] of pa) {
    if (pb.has(k)) {
      if (pb.get(k) !== v) return false;
    } else if (STRICT_PARAMS.has(k)) return false;
  }
  for (const k of pb.keys()) if (!pa.has(k) && STRICT_PARAMS.has(k)) return false;
  // Header components are never ignored.
  const ha = paramMap(a.headers);
  const hb = paramMap(b.headers);
  if (ha.size !== hb.size) return false;
  for (const [k, v] of ha) if (!hb.has(k) || hb.get(k) !== v) return false;
  return true;
}

function telEquals(a: TelUri, b: TelUri): boolean {
  // RFC 3966 §4: numbers compare without visual separators; every parameter must match.
  const strip = (n: string): string => n.replace(/[-.()]/g, '').toLowerCase();
  if (strip(a.number) !== strip(b.number)) return false;
  const pa = paramMap(a.params);
  const pb = paramMap(b.params);
  if (pa.size !== pb.size) return false;
  for (const [k, v] of pa) if (!pb.has(k) || pb.get(k) !== v) return false;
  return true;
}

/** URI equivalence of RFC 3261 §19.1.4 (sip/sips) and RFC 3966 §4 (tel); others compare verbatim. */
export function uriEquals(a: Uri, b: Uri): boolean {
  if (a.kind === 'sip') return b.kind === 'sip' && sipEquals(a, b);
  if (a.kind === 'tel') return b.kind === 'tel' && telEquals(a, b);
  return b.kind === 'absolute' && a.scheme === b.scheme && a.opaque === b.opaque;
}
