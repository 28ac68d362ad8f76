// validateRequest(): the stateless checks a UAS makes on a received request (RFC 3261 §8.2) and the answer they call for.
import type { SipParseError } from './errors.js';
import { type AnyHeaderSpec, H } from './headers.js';
import type { SipRequest } from './message.js';

export interface ValidateOptions {
  /** Methods this UAS knows; others get 501 with an Allow header (RFC 3261 §8.2.1). */
  knownMethods?: readonly string[];
  /** Request-URI schemes it can handle; others get 416 (RFC 3261 §8.2.2.1). */
  supportedSchemes?: readonly string[];
  /** Option-tags it supports; a Require with others gets 420 with Unsupported (RFC 3261 §8.2.2.3). */
  supportedOptions?: readonly string[];
  /** Body types it accepts ("type/subtype"); others get 415 with Accept (RFC 3261 §8.2.3). */
  acceptedContentTypes?: readonly string[];
  /** Content-Encodings it accepts; others get 415 with Accept-Encoding (RFC 3261 §8.2.3). */
  acceptedEncodings?: readonly string[];
  /**
   * Answer Max-Forwards: 0 with 483 (RFC 3261 §16.3 step 3). RFC 4475 §3.3.11 notes that an
   * endpoint may instead process the request; pass false for that. Default true.
   */
  rejectZeroMaxForwards?: boolean;
  /**
   * Headers whose malformed values are ignored rather than answered with 400, because this UAS
   * does not use them (RFC 4475 §3.1.2.12 lets an element ignore an invalid Date). Default ['Date'].
   */
  tolerateMalformed?: readonly string[];
}

export const DEFAULT_KNOWN_METHODS: readonly string[] = ['INVITE', 'ACK', 'BYE', 'CANCEL', 'OPTIONS', 'REGISTER', 'PRACK', 'SUBSCRIBE', 'NOTIFY', 'PUBLISH', 'INFO', 'REFER', 'MESSAGE', 'UPDATE'];
export const DEFAULT_SCHEMES: readonly string[] = ['sip', 'sips', 'tel'];
export const DEFAULT_CONTENT_TYPES: readonly string[] = ['application/sdp', 'multipart/mixed', 'message/sipfrag', 'application/simple-message-summary', 'application/dtmf-relay', 'text/plain'];

/**
 * ok: false carries the response to send: status, reason phrase (for 400 it names the problem,
 * "Bad Request - missing Call-ID"), and header fields the response must carry (Unsupported for
 * 420, Accept for 415, Allow for 501). Build it with createResponse(). Never answer an ACK.
 */
export type ValidationResult =
  | { ok: true }
  | { ok: false; status: number; reason: string; headers: readonly (readonly [string, string])[]; error?: SipParseError };

function reject(status: number, reason: string, headers: readonly (readonly [string, string])[] = [], error?: SipParseError): ValidationResult {
  return error ? { ok: false, status, reason, headers, error } : { ok: false, status, reason, headers };
}

function badRequest(what: string, error?: SipParseError): ValidationResult {
  return reject(400, `Bad Request - ${what}`, [], error);
}

// RFC 3261 §8.1.1: the header fields every request carries. Max-Forwards is left out so that
// RFC 2543 requests, which have none, are accepted (RFC 4475 §3.4.1).
const REQUIRED: readonly AnyHeaderSpec[] = [H.to, H.from, H.cseq, H.callId, H.via];
// The ones checked first when malformed, so that the reason names the most important problem.
const CORE: readonly AnyHeaderSpec[] = [H.via, H.from, H.to, H.callId, H.cseq, H.maxForwards, H.contentLength, H.contentType];

/**
 * Checks a parsed request in the order of RFC 3261 §8.2, without transaction state: version
 * (505), syntax and required headers (400), Request-URI scheme (416), method (501), CSeq method
 * (400), Max-Forwards (483), Require (420), body type and encoding (415). Merged requests (482,
 * §8.2.2.2) need the transaction layer: see mergeKey().
 */
export function validateRequest(req: SipRequest, options: ValidateOptions = {}): ValidationResult {
  // RFC 3261 §8.2 / §21.5.20: another SIP version is answered 505 whatever else is wrong.
  if (req.version !== 'SIP/2.0') return reject(505, 'Version Not Supported');

  const defect = req.defects[0];
  if (defect) return badRequest(defect.header ? `malformed ${defect.header}` : defect.reason, defect);

  for (const spec of REQUIRED) if (req.count(spec.name) === 0) return badRequest(`missing ${spec.name}`);
  // RFC 4475 §3.3.8: two values of a single-valued header are answered 400.
  const seen = new Set<AnyHeaderSpec>();
  for (const f of req.fields) {
    const spec = f.spec;
    if (!spec?.single) continue;
    if (seen.has(spec)) return badRequest(`multiple ${spec.name} headers`);
    seen.add(spec);
  }
  const tolerated = (options.tolerateMalformed ?? ['Date']).map((n) => n.toLowerCase());
  for (const spec of CORE) {
    for (const f of req.fields) {
      if (f.spec !== spec) continue;
      const e = f.check();
      if (e) return badRequest(`malformed ${spec.name}`, e);
    }
  }
  for (const f of req.fields) {
    if (!f.spec || tolerated.includes(f.key)) continue;
    const e = f.check();
    if (e) return badRequest(`malformed ${f.spec.name}`, e);
  }

  // RFC 3261 §8.2.2.1
  const schemes = options.supportedSchemes ?? DEFAULT_SCHEMES;
  if (!schemes.includes(req.uri.scheme)) return reject(416, 'Unsupported URI Scheme');
  // RFC 3261 §19.1.1 (table): a Request-URI carries no headers (RFC 4475 §3.1.2.11).
  if (req.uri.kind === 'sip' && req.uri.headers.size > 0) return badRequest('headers in Request-URI');

  // RFC 3261 §8.2.1
  const known = options.knownMethods ?? DEFAULT_KNOWN_METHODS;
  if (!known.includes(req.method)) return reject(501, 'Not Implemented', [['Allow', known.join(', ')]]);

  // RFC 3261 §8.1.1.5: the CSeq method matches the request's (RFC 4475 §3.1.2.17).
  const cseq = req.cseq;
  if (cseq.method !== req.method) return badRequest('CSeq method does not match the request method');

  const mf = req.maxForwards;
  if (mf === 0 && options.rejectZeroMaxForwards !== false) return reject(483, 'Too Many Hops');

  // RFC 3261 §8.2.2.3: ACK and CANCEL are not checked for Require.
  if (req.method !== 'ACK' && req.method !== 'CANCEL') {
    const supported = options.supportedOptions ?? [];
    const unsupported = req.require.filter((tag) => !supported.includes(tag));
    if (unsupported.length > 0) return reject(420, 'Bad Extension', [['Unsupported', unsupported.join(', ')]]);
  }

  // RFC 3261 §8.2.3, §7.4.1: a body needs a Content-Type this UAS understands.
  if (req.body.length > 0) {
    const type = req.contentType;
    if (!type) return badRequest('missing Content-Type');
    const accepted = options.acceptedContentTypes ?? DEFAULT_CONTENT_TYPES;
    if (!accepted.includes(type.essence)) return reject(415, 'Unsupported Media Type', [['Accept', accepted.join(', ')]]);
    const encodings = options.acceptedEncodings ?? ['identity'];
    const unknown = req.all(H.contentEncoding).filter((e) => !encodings.includes(e.toLowerCase()));
    if (unknown.length > 0) return reject(415, 'Unsupported Media Type', [['Accept-Encoding', encodings.join(', ')]]);
  }
  return { ok: true };
}

/**
 * The key of RFC 3261 §8.2.2.2 merged-request detection: From tag, Call-ID and CSeq of a request
 * without a To tag. Two requests with the same key arriving by different paths are merged; the
 * transaction layer, which knows the transactions in progress, answers the second with 482.
 * Undefined for requests inside a dialog (To tag present).
 */
export function mergeKey(req: SipRequest): string | undefined {
  if (req.to.tag !== undefined) return undefined;
  const cseq = req.cseq;
  return `${req.from.tag ?? ''} ${req.callId} ${cseq.seq} ${cseq.method}`;
}
