// parseMessage(): bytes of one SIP message (a UDP datagram, or one message cut by SipStreamFramer) to a SipMessage.
import { SipParseError, type SipLimitName } from './errors.js';
import { type AnyHeaderSpec, H, type HeaderNameMatch, matchCanonicalName, scanHeaderName } from './headers.js';
import { HeaderField, type SipMessage, SipRequest, SipResponse } from './message.js';
import { type Codes, Scanner, TOKEN, codesOf, span } from './scanner.js';
import { AbsoluteUri, type Uri, scanUri } from './uri.js';

/** Size limits. A UDP datagram carries at most 65,535 bytes (RFC 768; RFC 3261 §18.1.1). */
export interface ParseLimits {
  /** Whole message, headers and body. Over it: error with limit 'messageBytes' (status 513). */
  maxMessageBytes: number;
  /** Number of header lines. */
  maxHeaders: number;
  /** One header line after unfolding, name included, in characters. */
  maxHeaderLineChars: number;
  /** The request line or status line, in characters. */
  maxStartLineChars: number;
}

export const DEFAULT_PARSE_LIMITS: Readonly<ParseLimits> = {
  maxMessageBytes: 65_535,
  maxHeaders: 256,
  maxHeaderLineChars: 16_384,
  maxStartLineChars: 8_192,
};

export interface ParseOptions {
  /**
   * 'datagram' (UDP, the default): Content-Length optional, bytes after the body discarded.
   * 'stream' (TCP, TLS, WebSocket after SipStreamFramer): Content-Length mandatory (RFC 3261 §18.3).
   */
  transport?: 'datagram' | 'stream';
  limits?: Partial<ParseLimits>;
}

/**
 * The outcome of parseMessage. It never throws: transports need no try/catch.
 *
 * ok: false — the message cannot be used: drop it (error.status says what a UAS would have
 * answered, had there been a request to answer; error.limit names an exceeded limit).
 *
 * ok: true — for a response, the headers every layer reads (Via, From, To, Call-ID, CSeq) are
 * present and well-formed (RFC 3261 §18.1.2: malformed responses are discarded). A request may
 * still be one to answer with an error: pass it to validateRequest() before anything else.
 */
export type ParseResult = { ok: true; message: SipMessage } | { ok: false; error: SipParseError };

const CRLFCRLF = Buffer.from('\r\n\r\n', 'latin1');
const EMPTY_BODY = new Uint8Array(0);

/** SIP-Version = "SIP" "/" 1*DIGIT "." 1*DIGIT (RFC 3261 §7.1; "SIP" is case-insensitive ABNF). */
function isSipVersion(v: string): boolean {
  if (v === 'SIP/2.0') return true;
  return /^SIP\/\d+\.\d+$/i.test(v);
}

function fail(reason: string, more: { line?: number; column?: number; header?: string; limit?: SipLimitName; status?: number } = {}): ParseResult {
  return { ok: false, error: new SipParseError({ reason, ...more }) };
}

function toBuffer(input: Uint8Array | string): Buffer {
  if (typeof input === 'string') return Buffer.from(input, 'utf8');
  if (Buffer.isBuffer(input)) return input;
  return Buffer.from(input.buffer, input.byteOffset, input.byteLength);
}

/** The default options, shared (not a new object per message). */
const NO_OPTIONS: Readonly<ParseOptions> = Object.freeze({});

/** Parses one SIP message. See ParseResult for what ok means for requests and responses. */
export function parseMessage(input: Uint8Array | string, options: ParseOptions = NO_OPTIONS): ParseResult {
  try {
    return parse(toBuffer(input), options);
  } catch (e) {
    // The grammar code reports through SipParseError; anything else is a bug, but a transport
    // must still never see a throw.
    if (e instanceof SipParseError) return { ok: false, error: e };
    return fail(`internal parser error: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/**
 * Messages up to this size are decoded whole, once: the header section is found while splitting
 * lines, with no separate search of the bytes. Larger ones (rare: a UDP message is kept under the
 * MTU, RFC 3261 §18.1.1) have their header section found in the bytes first, so that a big body
 * is not decoded for nothing.
 */
const DECODE_WHOLE_MAX_BYTES = 4096;

function parse(buf: Buffer, options: ParseOptions): ParseResult {
  const limits = options.limits ? { ...DEFAULT_PARSE_LIMITS, ...options.limits } : DEFAULT_PARSE_LIMITS;
  const stream = options.transport === 'stream';
  const len = buf.length;
  if (len > limits.maxMessageBytes) return fail(`message of ${len} bytes exceeds ${limits.maxMessageBytes}`, { limit: 'messageBytes' });

  // RFC 3261 §7.5: CRLFs before the start line are ignored.
  let start = 0;
  let line = 1;
  while (start + 1 < len && buf[start] === 13 && buf[start + 1] === 10) {
    start += 2;
    line++;
  }
  if (start >= len) return fail('empty message');

  if (len - start <= DECODE_WHOLE_MAX_BYTES) {
    // One character per byte (ASCII, or an invalid byte decoded as U+FFFD; a valid multi-byte
    // sequence makes the text shorter): character offsets are byte offsets, so the body starts
    // where the header section's text ends. Otherwise (non-ASCII UTF-8 somewhere), see below.
    const text = buf.toString('utf8', start, len);
    if (text.length === len - start) {
      // The bytes are then the text's codes (see Codes): what the parsers scan.
      const r = parseText(buf, text, start === 0 ? buf : buf.subarray(start), start, line, limits, stream, -1);
      // undefined: the header section is malformed or has no end. The path below finds the same
      // problem, or reports the missing empty line the way it always has.
      if (r) return r;
    }
  }

  // RFC 3261 §7: the header section ends with an empty line, even without a body.
  const headEnd = buf.indexOf(CRLFCRLF, start);
  if (headEnd < 0) return fail('no empty line after the header section', { line });
  const head = buf.toString('utf8', start, headEnd + 4);
  return parseText(buf, head, codesOf(head), start, line, limits, stream, headEnd + 4) ?? fail('no empty line after the header section', { line });
}

/**
 * Parses the start line and the header fields of text (the message decoded from byte start,
 * up to and including the empty line at least; codes: its codes), then frames the body in buf.
 *
 * bodyStart: where the body starts in buf; text then ends with the empty line. -1 when text is the
 * whole message, one character per byte: the body starts where the header section's text ends,
 * and a malformed or unterminated header section returns undefined, for the caller to parse the
 * message again from its bytes (which reports the problem).
 */
function parseText(buf: Buffer, text: string, codes: Codes, start: number, line: number, limits: ParseLimits, stream: boolean, bodyStart: number): ParseResult | undefined {
  const len = buf.length;
  const whole = bodyStart < 0;
  const end = text.length;

  // --- start line -------------------------------------------------------------------------
  const sl = text.indexOf('\r');
  if (sl < 0 || codes[sl + 1] !== 10 || text.indexOf('\n') !== sl + 1) return whole ? undefined : fail('CR or LF outside a line ending', { line });
  if (sl > limits.maxStartLineChars) return whole ? undefined : fail(`start line longer than ${limits.maxStartLineChars}`, { line, limit: 'startLineChars' });
  const defects: SipParseError[] = [];
  const isStatus = ((codes[0] ?? 0) | 0x20) === 115 && ((codes[1] ?? 0) | 0x20) === 105 && ((codes[2] ?? 0) | 0x20) === 112 && codes[3] === 47;
  const first = isStatus ? statusLine(text, sl, line) : requestLine(text, codes, sl, line, defects);
  if (first instanceof SipParseError) return whole ? undefined : { ok: false, error: first };
  const isRequest = first.kind === 'request';

  // --- header fields (RFC 3261 §7.3) --------------------------------------------------------
  const fields: HeaderField[] = [];
  const name: HeaderNameMatch = { spec: undefined, canonical: false };
  // The first two Content-Length fields (RFC 3261 §20.14: one at most).
  let cl1: HeaderField | undefined;
  let cl2: HeaderField | undefined;
  let pos = sl + 2;
  line++;
  for (;;) {
    // The empty line ends the header section (RFC 3261 §7).
    if (pos >= end) return whole ? undefined : fail('no empty line after the header section', { line });
    if (codes[pos] === 13 && codes[pos + 1] === 10) break;
    if (fields.length >= limits.maxHeaders) return whole ? undefined : fail(`more than ${limits.maxHeaders} header fields`, { line, limit: 'headerCount' });
    const lineStart = pos;
    const fieldLine = line;
    // field-name = token, then HCOLON = *(SP / HTAB) ":" SWS (RFC 3261 §7.3.1). The name is
    // usually written in its canonical form.
    let nameEnd = matchCanonicalName(codes, pos, name);
    if (nameEnd < 0) nameEnd = scanHeaderName(codes, pos, end, name);
    if (nameEnd === pos) {
      if (whole) return undefined;
      const c = text.charCodeAt(pos);
      return fail(c === 32 || c === 9 ? 'continuation line without a header field' : 'expected a header name', { line, column: 1 });
    }
    let p = nameEnd;
    while (codes[p] === 32 || codes[p] === 9) p++;
    if (codes[p] !== 58) return whole ? undefined : fail(`expected ':' after header name '${text.slice(pos, nameEnd)}'`, { line, column: p - lineStart + 1 });
    const spec = name.spec;
    p++;
    while (codes[p] === 32 || codes[p] === 9) p++;
    const valueStart = p;
    // RFC 3261 §7: lines end in CRLF; a CR or LF alone could make another parser see other lines.
    let eol = text.indexOf('\r', p);
    if (eol < 0 || codes[eol + 1] !== 10 || text.indexOf('\n', p) !== eol + 1) return whole ? undefined : fail('CR or LF outside a line ending', { line });
    const fieldName = spec ? spec.name : text.slice(pos, nameEnd);
    const key = spec ? spec.key : fieldName.toLowerCase();
    const column = valueStart - lineStart + 1;
    const next = codes[eol + 2];
    let field: HeaderField;
    if (next === 32 || next === 9) {
      // RFC 3261 §7.3.1: a line break followed by whitespace continues the value; the break and
      // the whitespace count as one SP.
      let value = text.slice(valueStart, eol);
      for (;;) {
        let q = eol + 2;
        line++;
        while (codes[q] === 32 || codes[q] === 9) q++;
        eol = text.indexOf('\r', q);
        if (eol < 0 || codes[eol + 1] !== 10 || text.indexOf('\n', q) !== eol + 1) return whole ? undefined : fail('CR or LF outside a line ending', { line });
        value = value.length === 0 ? text.slice(q, eol) : `${value} ${text.slice(q, eol)}`;
        if (eol - lineStart > limits.maxHeaderLineChars) break;
        const c = codes[eol + 2];
        if (c !== 32 && c !== 9) break;
      }
      if (eol - lineStart > limits.maxHeaderLineChars) return whole ? undefined : fail(`header line longer than ${limits.maxHeaderLineChars}`, { line: fieldLine, limit: 'headerLineChars' });
      // Trailing whitespace is not part of the value.
      let vEnd = value.length;
      while (vEnd > 0 && (value.charCodeAt(vEnd - 1) === 32 || value.charCodeAt(vEnd - 1) === 9)) vEnd--;
      if (vEnd !== value.length) value = value.slice(0, vEnd);
      field = new HeaderField(fieldName, key, spec, value, fieldLine, column);
    } else {
      if (eol - lineStart > limits.maxHeaderLineChars) return whole ? undefined : fail(`header line longer than ${limits.maxHeaderLineChars}`, { line: fieldLine, limit: 'headerLineChars' });
      // Trailing whitespace is not part of the value. The value stays a range of text: it is
      // parsed there, and sliced only when asked for (see HeaderField).
      let vEnd = eol;
      while (vEnd > valueStart && (codes[vEnd - 1] === 32 || codes[vEnd - 1] === 9)) vEnd--;
      // A line written exactly as the serializer writes the field ("Name: value", the name as
      // written for it, one space, nothing after the value) can be copied as it is.
      const verbatim = (spec === undefined || name.canonical) && nameEnd + 2 === valueStart && codes[nameEnd] === 58 && codes[nameEnd + 1] === 32 && vEnd === eol;
      field = new HeaderField(fieldName, key, spec, undefined, fieldLine, column, text, valueStart, vEnd, codes, verbatim ? lineStart : -1);
    }
    if (spec === H.contentLength) {
      if (cl1 === undefined) cl1 = field;
      else cl2 ??= field;
    }
    fields.push(field);
    pos = eol + 2;
    line++;
  }
  // With the whole message decoded one character per byte, the body starts at the same offset.
  if (whole) bodyStart = start + pos + 2;

  // --- body (RFC 3261 §18.3, §20.14) -------------------------------------------------------
  let contentLength: number | undefined;
  let clProblem: SipParseError | undefined;
  if (cl2 !== undefined) {
    clProblem = new SipParseError({ reason: 'multiple Content-Length values', header: 'Content-Length', line: cl2.line, column: cl2.column });
  } else if (cl1 !== undefined) {
    const e = cl1.check();
    if (e) clProblem = e;
    else contentLength = cl1.parsed() as number;
  }
  if (contentLength === undefined && !clProblem && stream) {
    clProblem = new SipParseError({ reason: 'missing Content-Length on a stream transport', header: 'Content-Length' });
  }
  let bodyEnd = len;
  if (clProblem) {
    // Without a trustworthy length, a stream cannot be framed and a response is discarded;
    // a datagram request is answered 400 (RFC 4475 §3.1.2.3, §3.3.9).
    if (stream || !isRequest) return { ok: false, error: clProblem };
    defects.push(clProblem);
  } else if (contentLength !== undefined) {
    if (bodyStart + contentLength > len) {
      const e = new SipParseError({ reason: `Content-Length ${contentLength} larger than the ${len - bodyStart} bytes of body`, header: 'Content-Length' });
      // RFC 3261 §18.3: a response is discarded; a request SHOULD get a 400.
      if (stream || !isRequest) return { ok: false, error: e };
      defects.push(e);
    } else {
      // RFC 3261 §18.3: bytes after the body are discarded.
      bodyEnd = bodyStart + contentLength;
    }
  }
  // Most messages have no body: they share one empty array instead of a view each.
  const body = bodyEnd > bodyStart ? buf.subarray(bodyStart, bodyEnd) : EMPTY_BODY;

  if (first.kind === 'request') {
    const req = new SipRequest({ method: first.method, uri: first.uri, version: first.version, fields, body }, defects);
    return { ok: true, message: req };
  }
  const res = new SipResponse({ status: first.status, reason: first.reason, version: first.version, fields, body });
  const problem = checkResponse(res);
  if (problem) return { ok: false, error: problem };
  return { ok: true, message: res };
}

type StartLine = { kind: 'request'; method: string; uri: Uri; version: string } | { kind: 'response'; status: number; reason: string; version: string };



/** Status-Line = SIP-Version SP Status-Code SP Reason-Phrase (RFC 3261 §7.2), in text[0, end). */
function statusLine(text: string, end: number, line: number): StartLine | SipParseError {
  let sp1 = text.indexOf(' ');
  if (sp1 > end) sp1 = -1;
  const version = sp1 === 7 && text.startsWith('SIP/2.0') ? 'SIP/2.0' : text.slice(0, sp1 < 0 ? end : sp1).toUpperCase();
  if (version !== 'SIP/2.0') return new SipParseError({ reason: `unsupported SIP version '${version}' in a response`, line, column: 1, status: 505 });
  if (sp1 < 0) return new SipParseError({ reason: 'missing status code', line, column: end + 1 });
  let p = sp1 + 1;
  while (p < end && text.charCodeAt(p) === 32) p++;
  const codeStart = p;
  while (p < end && text.charCodeAt(p) >= 48 && text.charCodeAt(p) <= 57) p++;
  // Status-Code is 3DIGIT, 100 to 699 (RFC 3261 §7.2, §21; RFC 4475 §3.1.2.19 bigcode).
  const code = p - codeStart === 3 ? (text.charCodeAt(codeStart) - 48) * 100 + (text.charCodeAt(codeStart + 1) - 48) * 10 + (text.charCodeAt(codeStart + 2) - 48) : 0;
  if (code < 100 || code > 699 || (p < end && text.charCodeAt(p) !== 32)) {
    return new SipParseError({ reason: 'malformed status code', line, column: codeStart + 1 });
  }
  // The reason phrase may be empty (RFC 4475 §3.1.1.13) and may hold UTF-8 (§3.1.1.12).
  const reason = p + 1 < end ? text.slice(p + 1, end) : '';
  return { kind: 'response', status: code, reason, version: 'SIP/2.0' };
}

/**
 * Request-Line = Method SP Request-URI SP SIP-Version (RFC 3261 §7.1), in text[0, end). Extra
 * spaces between the elements and after the version are tolerated (RFC 4475 §3.1.2.9, §3.1.2.10
 * allow liberal parsing); a Request-URI with whitespace inside or in <> is a defect answered with
 * 400 (RFC 4475 §3.1.2.7, §3.1.2.8). Parsed in place in the header section, not on a slice.
 */
function requestLine(text: string, codes: Codes, end: number, line: number, defects: SipParseError[]): StartLine | SipParseError {
  let e = end;
  while (e > 0 && (codes[e - 1] === 32 || codes[e - 1] === 9)) e--;
  const p = span(codes, 0, e, TOKEN);
  if (p === 0 || (codes[p] !== 32 && codes[p] !== 9)) {
    return new SipParseError({ reason: 'malformed request line', line, column: p + 1 });
  }
  const method = text.slice(0, p);
  let lastSp = e - 1;
  while (lastSp > p && codes[lastSp] !== 32 && codes[lastSp] !== 9) lastSp--;
  // "SIP/2.0" (the codes of S, I, P, /, 2, ., 0) without slicing it, as nearly every request has it.
  const v = lastSp + 1;
  const sip20 = e - v === 7 && codes[v] === 83 && codes[v + 1] === 73 && codes[v + 2] === 80 && codes[v + 3] === 47 && codes[v + 4] === 50 && codes[v + 5] === 46 && codes[v + 6] === 48;
  const version = sip20 ? 'SIP/2.0' : text.slice(v, e);
  if (lastSp <= p || !isSipVersion(version)) {
    return new SipParseError({ reason: 'malformed SIP version in the request line', line, column: lastSp + 2 });
  }
  let us = p;
  while (codes[us] === 32 || codes[us] === 9) us++;
  let ue = lastSp;
  while (ue > us && (codes[ue - 1] === 32 || codes[ue - 1] === 9)) ue--;
  let uri: Uri;
  if (ue === us) return new SipParseError({ reason: 'missing Request-URI', line, column: us + 1 });
  let ws = us;
  while (ws < ue && codes[ws] !== 32 && codes[ws] !== 9) ws++;
  if (ws < ue) {
    defects.push(new SipParseError({ reason: 'whitespace inside the Request-URI', line, column: us + 1 }));
    uri = new AbsoluteUri('invalid', text.slice(us, ue));
  } else {
    try {
      const sc = new Scanner(text, codes, { name: 'Request-URI', line, column: us + 1 }, us, ue);
      uri = scanUri(sc, ue);
    } catch (err) {
      if (!(err instanceof SipParseError)) throw err;
      defects.push(err);
      uri = new AbsoluteUri('invalid', text.slice(us, ue));
    }
  }
  return { kind: 'request', method, uri, version: version === 'SIP/2.0' ? version : version.toUpperCase() };
}

const CORE = [H.via, H.from, H.to, H.callId, H.cseq] as const;

/** The index of spec in CORE, or -1. */
function coreIndex(spec: AnyHeaderSpec): number {
  return spec === H.via ? 0 : spec === H.from ? 1 : spec === H.to ? 2 : spec === H.callId ? 3 : spec === H.cseq ? 4 : -1;
}

/** RFC 3261 §18.1.2 / §8.1.3: a response without usable Via, From, To, Call-ID, CSeq is dropped. */
function checkResponse(res: SipResponse): SipParseError | undefined {
  // One pass over the fields: bit i set once CORE[i] was seen.
  let seen = 0;
  for (const f of res.fields) {
    const spec = f.spec;
    if (spec === undefined) continue;
    const i = coreIndex(spec);
    if (i < 0) continue;
    if (i > 0 && (seen & (1 << i)) !== 0) return new SipParseError({ reason: `more than one ${spec.name}`, header: spec.name, line: f.line, column: 1 });
    seen |= 1 << i;
    const e = f.check();
    if (e) return e;
  }
  for (let i = 0; i < CORE.length; i++) {
    const spec = CORE[i];
    if (spec && (seen & (1 << i)) === 0) return new SipParseError({ reason: `missing ${spec.name}`, header: spec.name });
  }
  return undefined;
}
