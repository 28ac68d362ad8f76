// Typed header values (Via, name-addr, CSeq, auth, media types...), their hand-written parsers, and the header table.
import { SipParseError } from './errors.js';
import { Params, formatAuthParams, parseAuthParams, parseParams } from './params.js';
import { type Codes, DIGIT, DNAME, IPV6, type Origin, Scanner, TOKEN, WORD, codesOf, eqLower, isToken, isTokenChar, quote, span, spanText } from './scanner.js';
import { type Uri, parseHost, scanUri } from './uri.js';

// ---------------------------------------------------------------------------------------------
// Value types. All immutable: a layer that wants another value builds a new one and sets it.

export interface NameAddrInit {
  /** Display name, unquoted and unescaped. */
  displayName?: string | undefined;
  uri: Uri;
  params?: Params;
}

/** name-addr / addr-spec with header parameters: From, To, Contact, Route, Refer-To... (RFC 3261 §20.10). */
export class NameAddr {
  readonly displayName: string | undefined;
  readonly uri: Uri;
  readonly params: Params;

  constructor(init: NameAddrInit) {
    this.displayName = init.displayName;
    this.uri = init.uri;
    this.params = init.params ?? Params.EMPTY;
  }

  /** The tag parameter of From and To (RFC 3261 §19.3). */
  get tag(): string | undefined {
    return this.params.get('tag') ?? undefined;
  }

  withTag(tag: string): NameAddr {
    return this.withParam('tag', tag);
  }

  withParam(name: string, value: string | null): NameAddr {
    return new NameAddr({ displayName: this.displayName, uri: this.uri, params: this.params.with(name, value) });
  }

  withUri(uri: Uri): NameAddr {
    return new NameAddr({ displayName: this.displayName, uri, params: this.params });
  }

  /** Always the name-addr form with <>, which is valid wherever addr-spec is (RFC 3261 §20.10). */
  toString(): string {
    const dn = this.displayName !== undefined && this.displayName !== '' ? `${quote(this.displayName)} ` : '';
    return `${dn}<${this.uri.toString()}>${this.params.toString()}`;
  }
}

export interface ViaInit {
  /** "SIP/2.0" unless given. */
  protocol?: string;
  /** UDP, TCP, TLS, SCTP, WS, WSS, or any token (RFC 3261 §20.42). */
  transport: string;
  host: string;
  port?: number | undefined;
  params?: Params;
}

/** One Via value (RFC 3261 §20.42, §18.2.1; rport from RFC 3581). */
export class Via {
  readonly protocol: string;
  readonly transport: string;
  readonly host: string;
  readonly port: number | undefined;
  readonly params: Params;

  constructor(init: ViaInit) {
    this.protocol = init.protocol ?? 'SIP/2.0';
    this.transport = init.transport;
    this.host = init.host;
    this.port = init.port;
    this.params = init.params ?? Params.EMPTY;
  }

  get branch(): string | undefined {
    return this.params.get('branch') ?? undefined;
  }

  /** RFC 3261 §8.1.1.7: a branch starting with the magic cookie was made by an RFC 3261 element. */
  get hasMagicCookie(): boolean {
    return this.branch?.startsWith('z9hG4bK') ?? false;
  }

  get received(): string | undefined {
    return this.params.get('received') ?? undefined;
  }

  /** RFC 3581: true when asked for (";rport"), the port once filled in, undefined when absent. */
  get rport(): number | true | undefined {
    const v = this.params.get('rport');
    if (v === undefined) return undefined;
    return v === null || v === '' ? true : Number(v);
  }

  get maddr(): string | undefined {
    return this.params.get('maddr') ?? undefined;
  }

  get ttl(): number | undefined {
    const v = this.params.get('ttl');
    return v === undefined || v === null ? undefined : Number(v);
  }

  /** host[:port] as in the sent-by. */
  get sentBy(): string {
    return this.port === undefined ? this.host : `${this.host}:${this.port}`;
  }

  withParam(name: string, value: string | null): Via {
    return new Via({ protocol: this.protocol, transport: this.transport, host: this.host, port: this.port, params: this.params.with(name, value) });
  }

  toString(): string {
    return `${this.protocol}/${this.transport} ${this.sentBy}${this.params.toString()}`;
  }
}

/** CSeq (RFC 3261 §20.16). */
export class CSeq {
  constructor(
    readonly seq: number,
    readonly method: string,
  ) {}

  toString(): string {
    return `${this.seq} ${this.method}`;
  }
}

/** media-type of Content-Type and media-range of Accept (RFC 3261 §20.15, §20.1). */
export class MediaType {
  constructor(
    readonly type: string,
    readonly subtype: string,
    readonly params: Params = Params.EMPTY,
  ) {}

  /** "type/subtype" in lower case, for comparisons (media types are case-insensitive). */
  get essence(): string {
    return `${this.type}/${this.subtype}`.toLowerCase();
  }

  toString(): string {
    return `${this.type}/${this.subtype}${this.params.toString()}`;
  }
}

/**
 * A challenge (WWW-Authenticate, Proxy-Authenticate) or credentials (Authorization,
 * Proxy-Authorization): a scheme and auth-params (RFC 3261 §20.44, §20.7, §25.1). A scheme
 * whose data is not auth-params (a token68) keeps it in data.
 */
export class AuthValue {
  constructor(
    readonly scheme: string,
    readonly params: Params,
    readonly data?: string,
  ) {}

  /** An auth-param, unquoted ("realm", "nonce", ...). */
  get(name: string): string | undefined {
    return this.params.get(name) ?? undefined;
  }

  get isDigest(): boolean {
    return this.scheme.toLowerCase() === 'digest';
  }

  toString(): string {
    return this.data !== undefined ? `${this.scheme} ${this.data}` : `${this.scheme} ${formatAuthParams(this.params)}`;
  }
}

/** A token (or number, or Call-ID) with parameters: Event, Subscription-State, Session-Expires, Replaces... */
export class ValueWithParams {
  constructor(
    readonly value: string,
    readonly params: Params = Params.EMPTY,
  ) {}

  get(name: string): string | null | undefined {
    return this.params.get(name);
  }

  toString(): string {
    return `${this.value}${this.params.toString()}`;
  }
}

/** RAck (RFC 3262 §7.2). */
export class RAck {
  constructor(
    readonly rseq: number,
    readonly cseq: number,
    readonly method: string,
  ) {}

  toString(): string {
    return `${this.rseq} ${this.cseq} ${this.method}`;
  }
}

/** One warning-value (RFC 3261 §20.43). */
export class Warning {
  constructor(
    readonly code: number,
    readonly agent: string,
    readonly text: string,
  ) {}

  toString(): string {
    return `${this.code} ${this.agent} ${quote(this.text)}`;
  }
}

/** Date (RFC 3261 §20.17): rfc1123-date, always GMT. */
export class SipDate {
  constructor(readonly date: Date) {}

  toString(): string {
    return this.date.toUTCString();
  }
}

/** Retry-After (RFC 3261 §20.33): seconds, an optional comment, parameters. */
export class RetryAfter {
  constructor(
    readonly seconds: number,
    readonly comment: string | undefined,
    readonly params: Params = Params.EMPTY,
  ) {}

  toString(): string {
    return `${this.seconds}${this.comment !== undefined ? ` (${this.comment})` : ''}${this.params.toString()}`;
  }
}

// ---------------------------------------------------------------------------------------------
// Element parsers. Each reads one value (one element of a list) at sc.pos and stops after it.

const UINT32_MAX = 4294967295;

/** name-addr or addr-spec, then header parameters (RFC 3261 §20.10, §25.1 from-spec, contact-param). */
function nameAddr(sc: Scanner, inList: boolean, bracketsRequired: boolean): NameAddr {
  const s = sc.s;
  const b = sc.b;
  sc.ws();
  let displayName: string | undefined;
  let bracketed = false;
  if (sc.peek() === 34) {
    displayName = sc.quoted();
    sc.ws();
    if (sc.peek() !== 60) sc.fail("expected '<' after the display name");
    bracketed = true;
  } else {
    // display-name = *(token LWS): scan tokens and spaces; a '<' after them makes it a name-addr.
    // Non-ASCII is tolerated in an unquoted display name (seen in the field, harmless).
    const start = sc.pos;
    const p = span(b, start, sc.end, DNAME);
    if (p < sc.end && b[p] === 60) {
      // Trimmed (as by trim(), which also takes non-ASCII spaces: those go the slow way).
      let a = start;
      let z = p;
      while (a < z && (b[a] === 32 || b[a] === 9)) a++;
      while (z > a && (b[z - 1] === 32 || b[z - 1] === 9)) z--;
      const dn = a < z && ((b[a] ?? 0) >= 128 || (b[z - 1] ?? 0) >= 128) ? s.slice(start, p).trim() : s.slice(a, z);
      displayName = dn.length > 0 ? dn : undefined;
      sc.pos = p;
      bracketed = true;
    }
  }
  let uri: Uri;
  if (bracketed) {
    sc.pos++; // '<'
    // RFC 4475 §3.1.2.14: spaces inside <> are invalid; we are liberal and ignore them.
    sc.ws();
    // The search stops at this element's '>' (a URI holds no raw '>'), so a list stays linear.
    const close = s.indexOf('>', sc.pos);
    if (close < 0 || close >= sc.end) sc.fail("missing '>'");
    let uriEnd = close;
    while (uriEnd > sc.pos && (b[uriEnd - 1] === 32 || b[uriEnd - 1] === 9)) uriEnd--;
    uri = scanUri(sc, uriEnd);
    sc.pos = close + 1;
  } else {
    if (bracketsRequired) sc.fail("expected '<'");
    // RFC 3261 §20.10: without <>, the URI ends at the first ';' (those are header parameters),
    // and may not contain ',', ';' or '?'.
    const start = sc.pos;
    let p = start;
    while (p < sc.end) {
      const c = b[p];
      if (c === 59 || c === 32 || c === 9 || (inList && c === 44)) break;
      if (c === 63) sc.fail("a URI with '?' must be enclosed in <>", p);
      p++;
    }
    uri = scanUri(sc, p);
  }
  const params = parseParams(sc);
  return new NameAddr({ displayName, uri, params });
}

const nameAddrValue = (sc: Scanner): NameAddr => nameAddr(sc, false, false);

/** Contact: STAR / contact-param (RFC 3261 §20.10); the wildcard is only valid alone (REGISTER). */
export const CONTACT_WILDCARD = '*';
function contactElement(sc: Scanner): NameAddr | typeof CONTACT_WILDCARD {
  sc.ws();
  if (sc.peek() === 42) {
    sc.pos++;
    sc.ws();
    if (!sc.eof()) sc.fail("'*' must be the only Contact value");
    return CONTACT_WILDCARD;
  }
  return nameAddr(sc, true, false);
}
const nameAddrElement = (sc: Scanner): NameAddr => nameAddr(sc, true, false);
const routeElement = (sc: Scanner): NameAddr => nameAddr(sc, true, true);

/** 1 to 5 digits, at most max. */
function isNumberUpTo(v: string | null, max: number): boolean {
  if (v === null || v.length === 0 || v.length > 5) return false;
  let n = 0;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c < 48 || c > 57) return false;
    n = n * 10 + (c - 48);
  }
  return n <= max;
}

/** via-parm (RFC 3261 §20.42, §25.1 Via; RFC 3581 response-port). */
function via(sc: Scanner): Via {
  sc.ws();
  let protocol = 'SIP/2.0';
  const b = sc.b;
  const p = sc.pos;
  // "SIP/2.0/", as nearly every Via starts (the codes of S, I, P, /, 2, ., 0, /).
  if (p + 8 <= sc.end && b[p] === 83 && b[p + 1] === 73 && b[p + 2] === 80 && b[p + 3] === 47 && b[p + 4] === 50 && b[p + 5] === 46 && b[p + 6] === 48 && b[p + 7] === 47) {
    sc.pos = p + 8;
    sc.ws();
  } else {
    const name = sc.token('the protocol name');
    sc.expect(47, "'/'", true);
    const version = sc.token('the protocol version');
    sc.expect(47, "'/'", true);
    if (name !== 'SIP' || version !== '2.0') protocol = `${name}/${version}`;
  }
  const transport = sc.token('the transport');
  if (!sc.lws()) sc.fail('expected whitespace before sent-by');
  const host = parseHost(sc, sc.end);
  let port: number | undefined;
  if (sc.eat(58, true)) port = sc.digits('a port', 65535);
  const params = parseParams(sc);
  // RFC 3261 §20.42 via-params grammar, RFC 3581 rport.
  const size = params.size;
  for (let i = 0; i < size; i++) {
    const n = params.nameAt(i);
    const v = params.valueAt(i);
    const quoted = params.quotedAt(i);
    // By length first: most parameters are none of these.
    const len = n.length;
    if (len === 3 && eqLower(n, 'ttl')) {
      if (!isNumberUpTo(v, 255)) sc.fail('malformed ttl parameter');
    } else if (len === 5 && eqLower(n, 'rport')) {
      if (v !== null && !isNumberUpTo(v, 65535)) sc.fail('malformed rport parameter');
    } else if (len === 8 && eqLower(n, 'received')) {
      // IPv4address / IPv6address (RFC 3261 §20.42); an IPv6 reference in [] is tolerated.
      const inner = v !== null && v.length > 2 && v.charCodeAt(0) === 91 && v.charCodeAt(v.length - 1) === 93 ? v.slice(1, -1) : v;
      if (inner === null || quoted || inner.length === 0 || spanText(inner, 0, inner.length, IPV6) !== inner.length) sc.fail('malformed received parameter');
    } else if ((len === 6 && eqLower(n, 'branch')) || (len === 5 && eqLower(n, 'maddr'))) {
      if (v === null || quoted) sc.fail(`malformed ${n} parameter`);
    }
  }
  return new Via({ protocol, transport, host, port, params });
}

function cseq(sc: Scanner): CSeq {
  sc.ws();
  // RFC 3261 §8.1.1.5: the sequence number is a 32-bit unsigned integer.
  const seq = sc.digits('the CSeq number', UINT32_MAX);
  if (!sc.lws()) sc.fail('expected whitespace between the CSeq number and method');
  const method = sc.token('the CSeq method');
  return new CSeq(seq, method);
}

/** Call-ID = word [ "@" word ] (RFC 3261 §20.8). */
function callId(sc: Scanner): string {
  sc.ws();
  const start = sc.pos;
  if (sc.run(WORD).length === 0) sc.fail('expected a Call-ID');
  if (sc.eat(64) && sc.run(WORD).length === 0) sc.fail("expected a word after '@'");
  return sc.s.slice(start, sc.pos);
}

function numberUpTo(max: number, what: string): (sc: Scanner) => number {
  return (sc) => {
    sc.ws();
    return sc.digits(what, max);
  };
}

function token(sc: Scanner): string {
  sc.ws();
  return sc.token();
}

function mediaType(sc: Scanner): MediaType {
  sc.ws();
  const type = sc.token('a media type');
  sc.expect(47, "'/' in the media type", true);
  const subtype = sc.token('a media subtype');
  return new MediaType(type, subtype, parseParams(sc));
}

function tokenWithParams(sc: Scanner): ValueWithParams {
  sc.ws();
  return new ValueWithParams(sc.token(), parseParams(sc));
}

function numberWithParams(sc: Scanner): ValueWithParams {
  sc.ws();
  const start = sc.pos;
  sc.digits('delta-seconds', UINT32_MAX);
  return new ValueWithParams(sc.s.slice(start, sc.pos), parseParams(sc));
}

function callIdWithParams(sc: Scanner): ValueWithParams {
  return new ValueWithParams(callId(sc), parseParams(sc));
}

function auth(sc: Scanner): AuthValue {
  sc.ws();
  const scheme = sc.token('an auth scheme');
  if (!sc.lws()) sc.fail('expected whitespace after the auth scheme');
  const at = sc.pos;
  try {
    return new AuthValue(scheme, parseAuthParams(sc));
  } catch (e) {
    // Digest must be auth-params; another scheme may carry a token68 (RFC 3261 §25.1 other-response).
    if (!(e instanceof SipParseError) || scheme.toLowerCase() === 'digest') throw e;
    sc.pos = at;
    const data = sc.rest().trim();
    if (data.length === 0 || /[\s,]/.test(data)) throw e;
    return new AuthValue(scheme, Params.EMPTY, data);
  }
}

function rack(sc: Scanner): RAck {
  sc.ws();
  const rseq = sc.digits('the RSeq number', UINT32_MAX);
  if (!sc.lws()) sc.fail('expected whitespace');
  const cseqNum = sc.digits('the CSeq number', UINT32_MAX);
  if (!sc.lws()) sc.fail('expected whitespace');
  return new RAck(rseq, cseqNum, sc.token('a method'));
}

function warning(sc: Scanner): Warning {
  sc.ws();
  const start = sc.pos;
  const code = sc.run(DIGIT);
  if (code.length !== 3) sc.fail('a warn-code has three digits', start);
  if (!sc.lws()) sc.fail('expected whitespace');
  const agent = sc.runWhile((c) => c > 32 && c !== 34 && c !== 44 && c < 127);
  if (agent.length === 0) sc.fail('expected a warn-agent');
  if (!sc.lws()) sc.fail('expected whitespace');
  if (sc.peek() !== 34) sc.fail('expected a quoted warn-text');
  return new Warning(Number(code), agent, sc.quoted());
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const RFC1123 = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), (\d{2}) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) (\d{4}) (\d{2}):(\d{2}):(\d{2}) GMT$/;

/** rfc1123-date, GMT only (RFC 3261 §20.17; RFC 4475 §3.1.2.12 has an invalid time zone). */
function date(sc: Scanner): SipDate {
  sc.ws();
  const text = sc.rest().trim();
  const m = RFC1123.exec(text);
  if (!m) return sc.fail('malformed date (rfc1123-date in GMT expected)');
  const [, , dd, mon, yyyy, hh, mi, ss] = m;
  return new SipDate(new Date(Date.UTC(Number(yyyy), MONTHS.indexOf(mon ?? ''), Number(dd), Number(hh), Number(mi), Number(ss))));
}

/** Timestamp = 1*DIGIT ["." *DIGIT] [LWS delay] (RFC 3261 §20.38); kept as text. */
function timestamp(sc: Scanner): string {
  sc.ws();
  const start = sc.pos;
  const num = (): void => {
    if (sc.run(DIGIT).length === 0) sc.fail('expected a number');
    if (sc.eat(46)) sc.run(DIGIT);
  };
  num();
  if (sc.lws() && !sc.eof()) num();
  return sc.s.slice(start, sc.pos).trim();
}

function retryAfter(sc: Scanner): RetryAfter {
  sc.ws();
  const seconds = sc.digits('delta-seconds', UINT32_MAX);
  sc.ws();
  let comment: string | undefined;
  if (sc.peek() === 40) {
    // comment = LPAREN *(ctext / quoted-pair / comment) RPAREN; nesting counted, not recursed.
    const start = sc.pos + 1;
    let depth = 0;
    let p = sc.pos;
    for (; p < sc.end; p++) {
      const c = sc.b[p];
      if (c === 92) p++;
      else if (c === 40) depth++;
      else if (c === 41 && --depth === 0) break;
    }
    if (p >= sc.end) sc.fail('unterminated comment');
    comment = sc.s.slice(start, p);
    sc.pos = p + 1;
  }
  return new RetryAfter(seconds, comment, parseParams(sc));
}

/** Free text (Subject, User-Agent, Server, Organization): any characters, kept as is. */
function text(sc: Scanner): string {
  return sc.rest().trim();
}

// ---------------------------------------------------------------------------------------------
// The header table

export interface HeaderSpec<T = unknown> {
  /** Canonical long-form name ("Call-ID"). */
  readonly name: string;
  /** Lower-case long-form name: the key headers are looked up by. */
  readonly key: string;
  readonly compact: string | undefined;
  /**
   * A comma-separated list (RFC 3261 §7.3.1): may be split over several header lines, and values
   * are split on commas outside quotes and <>. Headers whose grammar has unquoted commas
   * (WWW-Authenticate and the other auth headers, Date...) are not lists.
   */
  readonly list: boolean;
  /** An empty list is allowed (Allow, Supported, Accept... RFC 3261 §20). */
  readonly emptyList: boolean;
  /** At most one header field of this name (RFC 4475 §3.3.8 multi01). */
  readonly single: boolean;
  /** Parses one value (one element of a list) at sc.pos. */
  readonly parse: (sc: Scanner) => T;
  /**
   * A parser for the common, simple forms of the whole value (for a list: the whole list), on
   * s[start, end) with codes b (see Codes): returns the value, or undefined to let parse() decide
   * (and report errors).
   * It accepts a subset of what parse() accepts, with the same result.
   */
  readonly fast: ((s: string, b: Codes, start: number, end: number) => unknown) | undefined;
  /** "Name: ", as the serializer writes it. */
  readonly prefix: string;
  /** "c: ", the compact form's prefix (the long one when there is no compact form). */
  readonly compactPrefix: string;
}

function spec<T>(
  name: string,
  parse: (sc: Scanner) => T,
  o: { compact?: string; list?: boolean; emptyList?: boolean; single?: boolean; fast?: (s: string, b: Codes, start: number, end: number) => (T extends unknown ? T | T[] : never) | undefined } = {},
): HeaderSpec<T> {
  return {
    name,
    key: name.toLowerCase(),
    compact: o.compact,
    list: o.list ?? false,
    emptyList: o.emptyList ?? false,
    single: o.single ?? false,
    parse,
    fast: o.fast,
    prefix: `${name}: `,
    compactPrefix: `${o.compact ?? name}: `,
  };
}

// Fast paths (see HeaderSpec.fast): plain digits, a plain Call-ID, "n METHOD", "a, b, c".

function fastNumber(max: number): (s: string, b: Codes, start: number, end: number) => number | undefined {
  return (_s, b, start, end) => {
    const n = end - start;
    if (n === 0 || n > 10 || span(b, start, end, DIGIT) !== end) return undefined;
    let v = 0;
    for (let i = start; i < end; i++) v = v * 10 + (b[i] ?? 0) - 48;
    return v <= max ? v : undefined;
  };
}

function fastCallId(s: string, b: Codes, start: number, end: number): string | undefined {
  let p = span(b, start, end, WORD);
  if (p === start) return undefined;
  if (p < end && b[p] === 64) {
    const q = span(b, p + 1, end, WORD);
    if (q === p + 1) return undefined;
    p = q;
  }
  return p === end ? s.slice(start, end) : undefined;
}

function fastCSeq(s: string, b: Codes, start: number, end: number): CSeq | undefined {
  const d = span(b, start, end, DIGIT);
  if (d === start || d - start > 10 || d >= end || b[d] !== 32) return undefined;
  const m = span(b, d + 1, end, TOKEN);
  if (m !== end || m === d + 1) return undefined;
  let v = 0;
  for (let i = start; i < d; i++) v = v * 10 + (b[i] ?? 0) - 48;
  return v <= UINT32_MAX ? new CSeq(v, s.slice(d + 1, end)) : undefined;
}

function fastTokenList(s: string, b: Codes, start: number, end: number): string[] | undefined {
  const out: string[] = [];
  let p = start;
  while (p < end) {
    const t = span(b, p, end, TOKEN);
    if (t === p) return undefined;
    out.push(s.slice(p, t));
    p = t;
    while (p < end && b[p] === 32) p++;
    if (p === end) break;
    if (b[p] !== 44) return undefined;
    p++;
    while (p < end && b[p] === 32) p++;
    // A trailing comma is left to the full parser, which reports it.
    if (p === end) return undefined;
  }
  return out;
}

const tokenList = (name: string, compact?: string): HeaderSpec<string> => spec(name, token, { list: true, emptyList: true, fast: fastTokenList, ...(compact ? { compact } : {}) });

/** Every header with a grammar of its own. Others are kept as raw strings. */
export const H = {
  via: spec('Via', via, { compact: 'v', list: true }),
  from: spec('From', nameAddrValue, { compact: 'f', single: true }),
  to: spec('To', nameAddrValue, { compact: 't', single: true }),
  callId: spec('Call-ID', callId, { compact: 'i', single: true, fast: fastCallId }),
  cseq: spec('CSeq', cseq, { single: true, fast: fastCSeq }),
  maxForwards: spec('Max-Forwards', numberUpTo(255, 'Max-Forwards'), { single: true, fast: fastNumber(255) }),
  contentLength: spec('Content-Length', numberUpTo(UINT32_MAX, 'Content-Length'), { compact: 'l', single: true, fast: fastNumber(UINT32_MAX) }),
  contentType: spec('Content-Type', mediaType, { compact: 'c', single: true }),
  contact: spec('Contact', contactElement, { compact: 'm', list: true }),
  route: spec('Route', routeElement, { list: true }),
  recordRoute: spec('Record-Route', routeElement, { list: true }),
  path: spec('Path', routeElement, { list: true }),
  serviceRoute: spec('Service-Route', routeElement, { list: true }),
  require: tokenList('Require'),
  proxyRequire: tokenList('Proxy-Require'),
  supported: tokenList('Supported', 'k'),
  unsupported: tokenList('Unsupported'),
  allow: tokenList('Allow'),
  allowEvents: tokenList('Allow-Events', 'u'),
  contentEncoding: tokenList('Content-Encoding', 'e'),
  contentLanguage: tokenList('Content-Language'),
  accept: spec('Accept', mediaType, { list: true, emptyList: true }),
  acceptEncoding: spec('Accept-Encoding', tokenWithParams, { list: true, emptyList: true }),
  acceptLanguage: spec('Accept-Language', tokenWithParams, { list: true, emptyList: true }),
  wwwAuthenticate: spec('WWW-Authenticate', auth),
  proxyAuthenticate: spec('Proxy-Authenticate', auth),
  authorization: spec('Authorization', auth),
  proxyAuthorization: spec('Proxy-Authorization', auth),
  authenticationInfo: spec('Authentication-Info', (sc) => parseAuthParams(sc), { single: true }),
  expires: spec('Expires', numberUpTo(UINT32_MAX, 'Expires'), { single: true, fast: fastNumber(UINT32_MAX) }),
  minExpires: spec('Min-Expires', numberUpTo(UINT32_MAX, 'Min-Expires'), { single: true, fast: fastNumber(UINT32_MAX) }),
  event: spec('Event', tokenWithParams, { compact: 'o', single: true }),
  subscriptionState: spec('Subscription-State', tokenWithParams, { single: true }),
  referTo: spec('Refer-To', nameAddrValue, { compact: 'r', single: true }),
  referredBy: spec('Referred-By', nameAddrValue, { compact: 'b', single: true }),
  replaces: spec('Replaces', callIdWithParams, { single: true }),
  sessionExpires: spec('Session-Expires', numberWithParams, { compact: 'x', single: true }),
  minSE: spec('Min-SE', numberWithParams, { single: true }),
  rseq: spec('RSeq', numberUpTo(UINT32_MAX, 'RSeq'), { single: true }),
  rack: spec('RAck', rack, { single: true }),
  timestamp: spec('Timestamp', timestamp, { single: true }),
  date: spec('Date', date, { single: true }),
  retryAfter: spec('Retry-After', retryAfter, { single: true }),
  warning: spec('Warning', warning, { list: true }),
  contentDisposition: spec('Content-Disposition', tokenWithParams, { single: true }),
  pAssertedIdentity: spec('P-Asserted-Identity', nameAddrElement, { list: true }),
  pPreferredIdentity: spec('P-Preferred-Identity', nameAddrElement, { list: true }),
  alertInfo: spec('Alert-Info', routeElement, { list: true }),
  callInfo: spec('Call-Info', routeElement, { list: true }),
  errorInfo: spec('Error-Info', routeElement, { list: true }),
  replyTo: spec('Reply-To', nameAddrValue, { single: true }),
  inReplyTo: spec('In-Reply-To', callId, { list: true }),
  priority: spec('Priority', token, { single: true }),
  mimeVersion: spec('MIME-Version', (sc) => {
    sc.ws();
    const start = sc.pos;
    sc.digits('a version', 999);
    sc.expect(46, "'.'");
    sc.digits('a version', 999);
    return sc.s.slice(start, sc.pos);
  }, { single: true }),
  subject: spec('Subject', text, { compact: 's', single: true }),
  userAgent: spec('User-Agent', text, { single: true }),
  server: spec('Server', text, { single: true }),
  organization: spec('Organization', text, { single: true }),
} as const;

export type AnyHeaderSpec = (typeof H)[keyof typeof H];

const BY_NAME: ReadonlyMap<string, AnyHeaderSpec> = (() => {
  const m = new Map<string, AnyHeaderSpec>();
  for (const s of Object.values(H) as AnyHeaderSpec[]) {
    m.set(s.key, s);
    m.set(s.name, s);
    if (s.compact) {
      m.set(s.compact, s);
      m.set(s.compact.toUpperCase(), s);
    }
  }
  return m;
})();

// Header names are looked up while they are scanned: one pass over the codes checks that the
// name is a token and hashes it folded to lower case, a small open-addressed table gives the
// candidate, and a comparison with the candidate's name settles it (exact spelling first, then
// any case). No slice and no toLowerCase(); and unlike a trie walked a character at a time (each
// step waiting for the previous table load), the loops have no dependency between loads.

/** Codes of token characters (RFC 3261 §25.1) folded to lower case; 0 for anything else. */
const NAME_FOLD: Uint8Array = (() => {
  const t = new Uint8Array(256);
  for (let c = 0; c < 128; c++) if (isTokenChar(c)) t[c] = c >= 65 && c <= 90 ? c + 32 : c;
  return t;
})();

/** Table size: a power of two, more than three times the number of names. */
const NAME_SLOTS = 256;

function nameHash(h: number, folded: number): number {
  return (Math.imul(h, 31) + folded) | 0;
}

function nameSlot(hash: number): number {
  return (hash ^ (hash >>> 8) ^ (hash >>> 16)) & (NAME_SLOTS - 1);
}

interface NameTable {
  /** Per slot: the hash of the name, its length (0: empty slot), where its codes are in bytes. */
  readonly hash: Int32Array;
  readonly length: Uint8Array;
  readonly offset: Uint16Array;
  /** 1 for the long form, 0 for the compact one. */
  readonly long: Uint8Array;
  readonly spec: readonly (AnyHeaderSpec | undefined)[];
  /** The names as written (canonical long forms, compact forms), one after the other. */
  readonly bytes: Uint8Array;
}

const NAMES: NameTable = (() => {
  const names: [string, AnyHeaderSpec, boolean][] = [];
  for (const s of Object.values(H) as AnyHeaderSpec[]) {
    names.push([s.name, s, true]);
    if (s.compact) names.push([s.compact, s, false]);
  }
  const bytes = Buffer.from(names.map(([n]) => n).join(''), 'latin1');
  const hash = new Int32Array(NAME_SLOTS);
  const length = new Uint8Array(NAME_SLOTS);
  const offset = new Uint16Array(NAME_SLOTS);
  const long = new Uint8Array(NAME_SLOTS);
  const spec = new Array<AnyHeaderSpec | undefined>(NAME_SLOTS).fill(undefined);
  let at = 0;
  for (const [name, s, isLong] of names) {
    let h = 0;
    for (let i = 0; i < name.length; i++) h = nameHash(h, NAME_FOLD[name.charCodeAt(i)] ?? 0);
    let i = nameSlot(h);
    while (length[i] !== 0) i = (i + 1) & (NAME_SLOTS - 1);
    hash[i] = h;
    length[i] = name.length;
    offset[i] = at;
    long[i] = isLong ? 1 : 0;
    spec[i] = s;
    at += name.length;
  }
  return { hash, length, offset, long, spec, bytes };
})();

/** What scanHeaderName() found. */
export interface HeaderNameMatch {
  /** The header, or undefined for an unknown one. */
  spec: AnyHeaderSpec | undefined;
  /** The name is written exactly as the header's canonical long form ("Call-ID", not "call-id" or "i"). */
  canonical: boolean;
}

// Most names arrive in their canonical spelling ("Via", "Call-ID"). Those are found from their
// first two characters: a few candidates (six for "Co"), each checked by where the name must end
// (not on a token character) and then byte for byte. Any other spelling, compact forms and
// unknown names go through scanHeaderName().

/** Where the candidates of each first two codes (b0 & 127) << 7 | (b1 & 127) start in PREFIX_CANDIDATES; -1: none. */
const PREFIX_START = new Int16Array(128 * 128).fill(-1);

/** Indexes in NAMES of canonical long names, each prefix's list ended by -1. */
const PREFIX_CANDIDATES: Int16Array = (() => {
  const groups = new Map<number, number[]>();
  for (let i = 0; i < NAME_SLOTS; i++) {
    if ((NAMES.length[i] ?? 0) < 2 || NAMES.long[i] !== 1) continue;
    const off = NAMES.offset[i] ?? 0;
    const k = ((NAMES.bytes[off] ?? 0) << 7) | (NAMES.bytes[off + 1] ?? 0);
    groups.set(k, [...(groups.get(k) ?? []), i]);
  }
  // Within a prefix, in the order of H (the usual headers first).
  const order = (i: number): number => Object.values(H).indexOf(NAMES.spec[i] as AnyHeaderSpec);
  const candidates: number[] = [];
  for (const [k, list] of groups) {
    PREFIX_START[k] = candidates.length;
    candidates.push(...list.sort((x, y) => order(x) - order(y)), -1);
  }
  return Int16Array.from(candidates);
})();

/**
 * When the name at b[start...] is exactly the canonical long name of a header, stores it in out
 * (as scanHeaderName() would) and returns the name's end; otherwise returns -1.
 */
export function matchCanonicalName(b: Codes, start: number, out: HeaderNameMatch): number {
  // Codes above 127 are masked into the table's range: such a name matches no candidate anyway.
  let c = PREFIX_START[(((b[start] ?? 0) & 127) << 7) | ((b[start + 1] ?? 0) & 127)] ?? -1;
  if (c < 0) return -1;
  const names = NAMES;
  const bytes = names.bytes;
  for (; ; c++) {
    const i = PREFIX_CANDIDATES[c] ?? -1;
    if (i < 0) return -1;
    const end = start + (names.length[i] ?? 0);
    // The name ends where the candidate does.
    if ((NAME_FOLD[b[end] ?? 0] ?? 0) !== 0) continue;
    const off = (names.offset[i] ?? 0) - start;
    let p = start;
    while (p < end && b[p] === bytes[off + p]) p++;
    if (p === end) {
      out.spec = names.spec[i];
      out.canonical = true;
      return end;
    }
  }
}

/**
 * Scans the header name at b[start...] (codes of token characters, RFC 3261 §7.3.1 field-name)
 * and looks it up in any case and in compact form (§7.3.3). Returns the end of the name; what
 * was found is stored in out.
 */
export function scanHeaderName(b: Codes, start: number, end: number, out: HeaderNameMatch): number {
  const fold = NAME_FOLD;
  let h = 0;
  let p = start;
  while (p < end) {
    const f = fold[b[p] ?? 0] ?? 0;
    if (f === 0) break;
    h = nameHash(h, f);
    p++;
  }
  out.spec = undefined;
  out.canonical = false;
  const n = p - start;
  const names = NAMES;
  for (let i = nameSlot(h); names.length[i] !== 0; i = (i + 1) & (NAME_SLOTS - 1)) {
    if (names.hash[i] !== h || names.length[i] !== n) continue;
    const bytes = names.bytes;
    const off = (names.offset[i] ?? 0) - start;
    let k = start;
    while (k < p && b[k] === bytes[off + k]) k++;
    const exact = k === p;
    while (k < p && fold[b[k] ?? 0] === fold[bytes[off + k] ?? 0]) k++;
    if (k === p) {
      out.spec = names.spec[i];
      out.canonical = exact && names.long[i] === 1;
      break;
    }
  }
  return p;
}

/** The spec of the header name s[start, end) (any case, compact form), or undefined. */
export function headerSpecAt(s: string, start: number, end: number): AnyHeaderSpec | undefined {
  const out: HeaderNameMatch = { spec: undefined, canonical: false };
  return scanHeaderName(codesOf(s), start, end, out) === end ? out.spec : undefined;
}

/** The spec of a header name in any case or compact form (RFC 3261 §7.3.3), or undefined. */
export function headerSpec(name: string): AnyHeaderSpec | undefined {
  return BY_NAME.get(name) ?? BY_NAME.get(name.toLowerCase());
}

/** The canonical long form of a header name ("v" → "Via", "call-id" → "Call-ID"); unknown names unchanged. */
export function canonicalName(name: string): string {
  return headerSpec(name)?.name ?? name;
}

/**
 * Parses a whole header value: a single value, or a comma-separated list of elements.
 * Throws SipParseError (internal; callers catch).
 */
export function parseHeaderValue(spec: HeaderSpec, value: string, codes: Codes, origin: Origin, start = 0, end = value.length): unknown {
  const fast = spec.fast;
  if (fast !== undefined) {
    const v = fast(value, codes, start, end);
    if (v !== undefined) return v;
  }
  const sc = new Scanner(value, codes, origin, start, end);
  const parse = spec.parse;
  if (!spec.list) {
    const v = parse(sc);
    sc.finish();
    return v;
  }
  // Elements separated by commas, with whitespace around them (COMMA = SWS "," SWS).
  const out: unknown[] = [];
  let p = start;
  while (p < end && (codes[p] === 32 || codes[p] === 9)) p++;
  sc.pos = p;
  if (p >= end) {
    if (!spec.emptyList) sc.fail('empty value');
    return out;
  }
  for (;;) {
    out.push(parse(sc));
    p = sc.pos;
    while (p < end && (codes[p] === 32 || codes[p] === 9)) p++;
    sc.pos = p;
    if (p >= end) break;
    if (codes[p] !== 44) sc.fail(`unexpected character '${value.charAt(p)}'`);
    sc.pos = p + 1;
  }
  return out;
}

/** Formats a typed value (or a list of them) back to header text. */
export function formatHeaderValue(value: unknown): string {
  if (Array.isArray(value)) return value.map((v) => String(v)).join(', ');
  return String(value);
}

/** Header names are tokens (RFC 3261 §7.3.1 field-name). */
export function isHeaderName(name: string): boolean {
  return isToken(name);
}
