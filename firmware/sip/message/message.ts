// The SIP message model: requests and responses with ordered header fields, lazily typed accessors, and edits.
import { SipParseError } from './errors.js';
import {
  type AnyHeaderSpec,
  type AuthValue,
  type CSeq,
  CONTACT_WILDCARD,
  H,
  type HeaderSpec,
  type MediaType,
  type NameAddr,
  type RAck,
  type ValueWithParams,
  type Via,
  formatHeaderValue,
  headerSpec,
  isHeaderName,
  parseHeaderValue,
} from './headers.js';
import { type Codes, codesOf } from './scanner.js';
import type { Uri } from './uri.js';

/** What a header value may be set to: text, or typed values (formatted with their toString()). */
export type HeaderInput = string | number | { toString(): string } | readonly { toString(): string }[];

/**
 * One header line (after unfolding). The raw text is the source of truth; the typed value is
 * parsed from it on first use and cached, so a message read for routing only parses what it reads.
 */
export class HeaderField {
  /** Parsed value (an array for list headers) once parsed; undefined before. */
  private cache: unknown = undefined;
  private failure: SipParseError | undefined = undefined;
  /** The value's text, once made (see value). */
  private text: string | undefined;

  constructor(
    /** The name written on output: canonical long form for known headers, as received otherwise. */
    readonly name: string,
    /** Lower-case long-form name, for lookups. */
    readonly key: string,
    readonly spec: AnyHeaderSpec | undefined,
    /** The value as text; undefined for src[srcStart, srcEnd), sliced when first asked for. */
    value: string | undefined,
    /** Where the value starts in the received message (0 for fields built in code). */
    readonly line = 0,
    readonly column = 0,
    /**
     * The value as a range of a larger string (the received message): parsing a flat string is
     * markedly faster than parsing a slice of it.
     * @internal
     */
    readonly src: string = value ?? '',
    /** @internal */
    readonly srcStart = 0,
    /** @internal */
    readonly srcEnd = src.length,
    /** The codes of src (see Codes): the received bytes, or made from the text when parsed. */
    private readonly codes?: Codes,
    /**
     * Where the received line starts in src when it is written exactly as serializeMessage()
     * writes the field (its end is srcEnd plus the CRLF), for the serializer to copy it as it
     * is; -1 otherwise.
     * @internal
     */
    readonly lineStart = -1,
  ) {
    this.text = value;
  }

  /** The value as text: unfolded (RFC 3261 §7.3.1), leading and trailing whitespace removed. */
  get value(): string {
    return (this.text ??= this.src.slice(this.srcStart, this.srcEnd));
  }

  /** Parses (once) and returns the typed value; throws SipParseError when malformed. */
  parsed(): unknown {
    if (this.cache !== undefined) return this.cache;
    if (this.failure) throw this.failure;
    const spec = this.spec;
    if (!spec) return (this.cache = this.value);
    try {
      this.cache = parseHeaderValue(spec, this.src, this.codes ?? codesOf(this.src), this, this.srcStart, this.srcEnd);
      return this.cache;
    } catch (e) {
      if (e instanceof SipParseError) this.failure = e;
      throw e;
    }
  }

  /** The parse error of this field, or undefined when it parses (or has no grammar). */
  check(): SipParseError | undefined {
    const spec = this.spec;
    if (this.cache !== undefined || !spec) return undefined;
    if (this.failure) return this.failure;
    try {
      // As parsed() does, without a second try block around it (this runs for every field).
      this.cache = parseHeaderValue(spec, this.src, this.codes ?? codesOf(this.src), this, this.srcStart, this.srcEnd);
      return undefined;
    } catch (e) {
      if (!(e instanceof SipParseError)) throw e;
      this.failure = e;
      return e;
    }
  }
}

function makeField(name: string, value: HeaderInput): HeaderField {
  if (!isHeaderName(name)) throw new TypeError(`not a header name: ${JSON.stringify(name)}`);
  const text = typeof value === 'string' ? value : formatHeaderValue(value);
  // A CR or LF in a value would inject header lines.
  if (/[\r\n]/.test(text)) throw new TypeError(`header value of ${name} contains CR or LF`);
  const spec = headerSpec(name);
  return new HeaderField(spec ? spec.name : name, spec ? spec.key : name.toLowerCase(), spec, text.trim());
}

/** parseAllHeaders() without exceptions (one shared object, not one per call). */
const NO_EXCEPTIONS: { except?: readonly string[] } = Object.freeze({});

function keyOf(name: string): string {
  const spec = headerSpec(name);
  return spec ? spec.key : name.toLowerCase();
}

function missing(spec: HeaderSpec): SipParseError {
  return new SipParseError({ reason: `missing ${spec.name}`, header: spec.name });
}

/** What requests and responses share: header fields in order, the body, the typed accessors. */
abstract class SipMessageBase {
  /** Header fields in message order. Edit through append/prepend/set/remove. */
  protected fieldList: HeaderField[];
  /** The body bytes (a view of the received buffer for parsed messages; treat as immutable). */
  body: Uint8Array;

  constructor(fields: HeaderField[] = [], body: Uint8Array = EMPTY_BODY) {
    this.fieldList = fields;
    this.body = body;
  }

  /** Header fields in order (read-only view). */
  get fields(): readonly HeaderField[] {
    return this.fieldList;
  }

  // --- raw access -------------------------------------------------------------------------

  /** The raw value of the first header field of that name (any case, compact or long form). */
  get(name: string): string | undefined {
    const key = keyOf(name);
    for (const f of this.fieldList) if (f.key === key) return f.value;
    return undefined;
  }

  /** Raw values of every header field of that name, one per header line. */
  getAll(name: string): string[] {
    const key = keyOf(name);
    const out: string[] = [];
    for (const f of this.fieldList) if (f.key === key) out.push(f.value);
    return out;
  }

  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  /** Number of header fields of that name. */
  count(name: string): number {
    const key = keyOf(name);
    let n = 0;
    for (const f of this.fieldList) if (f.key === key) n++;
    return n;
  }

  // --- edits ------------------------------------------------------------------------------

  /** Adds a header field after the others. */
  append(name: string, value: HeaderInput): this {
    this.fieldList.push(makeField(name, value));
    return this;
  }

  /** Adds a header field before the first of its name (at the top when there is none): a new Via. */
  prepend(name: string, value: HeaderInput): this {
    const f = makeField(name, value);
    const i = this.fieldList.findIndex((x) => x.key === f.key);
    this.fieldList.splice(i < 0 ? 0 : i, 0, f);
    return this;
  }

  /** Replaces every field of that name by one, where the first one was (appended when absent). */
  set(name: string, value: HeaderInput): this {
    const f = makeField(name, value);
    const i = this.fieldList.findIndex((x) => x.key === f.key);
    if (i < 0) {
      this.fieldList.push(f);
      return this;
    }
    this.fieldList = this.fieldList.filter((x, j) => j === i || x.key !== f.key);
    this.fieldList[i] = f;
    return this;
  }

  /** Removes every field of that name. */
  remove(name: string): this {
    const key = keyOf(name);
    this.fieldList = this.fieldList.filter((x) => x.key !== key);
    return this;
  }

  /** Replaces the body; Content-Type is set when given (Content-Length is computed on output). */
  setBody(body: Uint8Array | string, contentType?: string): this {
    this.body = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    if (contentType !== undefined) this.set('Content-Type', contentType);
    return this;
  }

  get bodyText(): string {
    return Buffer.from(this.body.buffer, this.body.byteOffset, this.body.byteLength).toString('utf8');
  }

  // --- typed access -----------------------------------------------------------------------

  /**
   * The value of a single-valued header: undefined when absent or malformed (a malformed optional
   * header is treated as absent; parseAllHeaders() reports it).
   */
  one<T>(spec: HeaderSpec<T>): T | undefined {
    for (const f of this.fieldList) {
      if (f.spec !== (spec as HeaderSpec)) continue;
      try {
        const v = f.parsed();
        return (spec.list ? (v as T[])[0] : v) as T | undefined;
      } catch {
        return undefined;
      }
    }
    return undefined;
  }

  /** Every value of a header over all its lines, malformed lines skipped. */
  all<T>(spec: HeaderSpec<T>): T[] {
    const out: T[] = [];
    for (const f of this.fieldList) {
      if (f.spec !== (spec as HeaderSpec)) continue;
      try {
        const v = f.parsed();
        if (spec.list) for (const x of v as T[]) out.push(x);
        else out.push(v as T);
      } catch {
        // skipped: see parseAllHeaders()
      }
    }
    return out;
  }

  /** Like one(), but a missing or malformed header throws SipParseError. */
  required<T>(spec: HeaderSpec<T>): T {
    for (const f of this.fieldList) {
      if (f.spec !== (spec as HeaderSpec)) continue;
      const v = f.parsed();
      const first = (spec.list ? (v as T[])[0] : v) as T | undefined;
      if (first === undefined) throw missing(spec);
      return first;
    }
    throw missing(spec);
  }

  /**
   * Parses every header field that has a grammar, in order, and returns the first error (with
   * its line and column), or undefined when all are well-formed. Names in except (any form) are
   * not checked. Unknown headers have no grammar beyond a token name and are kept as text.
   */
  parseAllHeaders(options: { except?: readonly string[] } = NO_EXCEPTIONS): SipParseError | undefined {
    const except = options.except?.map(keyOf);
    for (const f of this.fieldList) {
      if (!f.spec || except?.includes(f.key)) continue;
      const e = f.check();
      if (e) return e;
    }
    return undefined;
  }

  // The headers every layer reads. For a response returned by parseMessage() and a request that
  // passed validateRequest(), these never throw; on other messages a missing or malformed one
  // throws SipParseError.

  /** Every Via value, top first (RFC 3261 §20.42). */
  get via(): Via[] {
    const out: Via[] = [];
    for (const f of this.fieldList) if (f.spec === H.via) for (const v of f.parsed() as Via[]) out.push(v);
    if (out.length === 0) throw missing(H.via);
    return out;
  }

  get topVia(): Via {
    return this.required(H.via);
  }

  get from(): NameAddr {
    return this.required(H.from);
  }

  get to(): NameAddr {
    return this.required(H.to);
  }

  get callId(): string {
    return this.required(H.callId);
  }

  get cseq(): CSeq {
    return this.required(H.cseq);
  }

  // Optional headers: undefined (or []) when absent or malformed.

  /** Contact values; empty for "Contact: *" (see isContactWildcard). */
  get contact(): NameAddr[] {
    return this.all(H.contact).filter((c): c is NameAddr => c !== CONTACT_WILDCARD);
  }

  get isContactWildcard(): boolean {
    return this.all(H.contact).includes(CONTACT_WILDCARD);
  }

  get maxForwards(): number | undefined {
    return this.one(H.maxForwards);
  }

  /** The Content-Length header as received (the serializer always writes the body's length). */
  get contentLength(): number | undefined {
    return this.one(H.contentLength);
  }

  get contentType(): MediaType | undefined {
    return this.one(H.contentType);
  }

  get route(): NameAddr[] {
    return this.all(H.route);
  }

  get recordRoute(): NameAddr[] {
    return this.all(H.recordRoute);
  }

  get require(): string[] {
    return this.all(H.require);
  }

  get proxyRequire(): string[] {
    return this.all(H.proxyRequire);
  }

  get supported(): string[] {
    return this.all(H.supported);
  }

  get unsupported(): string[] {
    return this.all(H.unsupported);
  }

  get allow(): string[] {
    return this.all(H.allow);
  }

  get allowEvents(): string[] {
    return this.all(H.allowEvents);
  }

  get accept(): MediaType[] {
    return this.all(H.accept);
  }

  get wwwAuthenticate(): AuthValue[] {
    return this.all(H.wwwAuthenticate);
  }

  get proxyAuthenticate(): AuthValue[] {
    return this.all(H.proxyAuthenticate);
  }

  get authorization(): AuthValue[] {
    return this.all(H.authorization);
  }

  get proxyAuthorization(): AuthValue[] {
    return this.all(H.proxyAuthorization);
  }

  get expires(): number | undefined {
    return this.one(H.expires);
  }

  get minExpires(): number | undefined {
    return this.one(H.minExpires);
  }

  get event(): ValueWithParams | undefined {
    return this.one(H.event);
  }

  get subscriptionState(): ValueWithParams | undefined {
    return this.one(H.subscriptionState);
  }

  get referTo(): NameAddr | undefined {
    return this.one(H.referTo);
  }

  get referredBy(): NameAddr | undefined {
    return this.one(H.referredBy);
  }

  get replaces(): ValueWithParams | undefined {
    return this.one(H.replaces);
  }

  get sessionExpires(): ValueWithParams | undefined {
    return this.one(H.sessionExpires);
  }

  get rseq(): number | undefined {
    return this.one(H.rseq);
  }

  get rack(): RAck | undefined {
    return this.one(H.rack);
  }

  get timestamp(): string | undefined {
    return this.one(H.timestamp);
  }

  get pAssertedIdentity(): NameAddr[] {
    return this.all(H.pAssertedIdentity);
  }

  get alertInfo(): NameAddr[] {
    return this.all(H.alertInfo);
  }

  get userAgent(): string | undefined {
    return this.one(H.userAgent);
  }

  protected copyFields(): HeaderField[] {
    // Fields are immutable, so a clone can share them (and their parsed values).
    return this.fieldList.slice();
  }
}

const EMPTY_BODY = new Uint8Array(0);

export interface SipRequestInit {
  method: string;
  uri: Uri;
  /** "SIP/2.0" unless given (a received request may carry another; validateRequest answers 505). */
  version?: string;
  fields?: HeaderField[];
  body?: Uint8Array;
}

/** A SIP request (RFC 3261 §7.1). */
export class SipRequest extends SipMessageBase {
  readonly kind = 'request';
  method: string;
  /** The Request-URI. */
  uri: Uri;
  /** The Request-URI as text, computed once per Uri object. */
  private uriCache: { uri: Uri; text: string } | undefined;
  version: string;
  /**
   * Problems found while parsing that a UAS answers with 400 rather than dropping the request
   * (RFC 3261 §18.3: body shorter than Content-Length; RFC 4475 §3.1.2.7: malformed Request-URI).
   * validateRequest() reports the first.
   */
  readonly defects: SipParseError[];

  constructor(init: SipRequestInit, defects: SipParseError[] = []) {
    super(init.fields, init.body);
    this.method = init.method;
    this.uri = init.uri;
    this.version = init.version ?? 'SIP/2.0';
    this.defects = defects;
  }

  /** The Request-URI as written on the request line. */
  get uriText(): string {
    const c = this.uriCache;
    if (c?.uri === this.uri) return c.text;
    const text = this.uri.toString();
    this.uriCache = { uri: this.uri, text };
    return text;
  }

  /** A copy whose header list and fields can be changed without touching this one. */
  clone(): SipRequest {
    return new SipRequest({ method: this.method, uri: this.uri, version: this.version, fields: this.copyFields(), body: this.body }, this.defects.slice());
  }
}

export interface SipResponseInit {
  status: number;
  reason: string;
  version?: string;
  fields?: HeaderField[];
  body?: Uint8Array;
}

/** A SIP response (RFC 3261 §7.2). */
export class SipResponse extends SipMessageBase {
  readonly kind = 'response';
  status: number;
  reason: string;
  version: string;

  constructor(init: SipResponseInit) {
    super(init.fields, init.body);
    this.status = init.status;
    this.reason = init.reason;
    this.version = init.version ?? 'SIP/2.0';
  }

  clone(): SipResponse {
    return new SipResponse({ status: this.status, reason: this.reason, version: this.version, fields: this.copyFields(), body: this.body });
  }
}

export type SipMessage = SipRequest | SipResponse;
