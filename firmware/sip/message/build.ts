// Building messages: requests for the UA layers, responses to a request per RFC 3261 §8.2.6, reason phrases.
import { H, type NameAddr, type Via } from './headers.js';
import { type HeaderInput, SipRequest, SipResponse } from './message.js';
import { type Uri, uri as parseUriText } from './uri.js';

/** Default reason phrases (RFC 3261 §21 and the extensions a phone meets). */
const REASONS: Readonly<Record<number, string>> = {
  100: 'Trying', 180: 'Ringing', 181: 'Call Is Being Forwarded', 182: 'Queued', 183: 'Session Progress', 199: 'Early Dialog Terminated',
  200: 'OK', 202: 'Accepted', 204: 'No Notification',
  300: 'Multiple Choices', 301: 'Moved Permanently', 302: 'Moved Temporarily', 305: 'Use Proxy', 380: 'Alternative Service',
  400: 'Bad Request', 401: 'Unauthorized', 402: 'Payment Required', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed',
  406: 'Not Acceptable', 407: 'Proxy Authentication Required', 408: 'Request Timeout', 410: 'Gone', 412: 'Conditional Request Failed',
  413: 'Request Entity Too Large', 414: 'Request-URI Too Long', 415: 'Unsupported Media Type', 416: 'Unsupported URI Scheme',
  420: 'Bad Extension', 421: 'Extension Required', 422: 'Session Interval Too Small', 423: 'Interval Too Brief',
  480: 'Temporarily Unavailable', 481: 'Call/Transaction Does Not Exist', 482: 'Loop Detected', 483: 'Too Many Hops',
  484: 'Address Incomplete', 485: 'Ambiguous', 486: 'Busy Here', 487: 'Request Terminated', 488: 'Not Acceptable Here',
  489: 'Bad Event', 491: 'Request Pending', 493: 'Undecipherable',
  500: 'Server Internal Error', 501: 'Not Implemented', 502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Server Time-out',
  505: 'Version Not Supported', 513: 'Message Too Large',
  600: 'Busy Everywhere', 603: 'Decline', 604: 'Does Not Exist Anywhere', 606: 'Not Acceptable',
};

/** The usual reason phrase of a status code (the class's phrase for unknown codes). */
export function reasonPhrase(status: number): string {
  return REASONS[status] ?? REASONS[Math.floor(status / 100) * 100] ?? 'Unknown';
}

export type ExtraHeaders = readonly (readonly [string, HeaderInput])[];

export interface CreateRequestOptions {
  method: string;
  uri: Uri | string;
  from: NameAddr;
  to: NameAddr;
  callId: string;
  cseq: number;
  /** Via values, top first. The transport usually prepends its own (RFC 3261 §18.1.1). */
  via?: Via | readonly Via[];
  /** RFC 3261 §8.1.1.6: 70 unless given. */
  maxForwards?: number;
  contact?: NameAddr | readonly NameAddr[];
  /** Route set (RFC 3261 §12.2.1.1). */
  route?: readonly NameAddr[];
  /** Further header fields, in order, after the ones above. */
  headers?: ExtraHeaders;
  body?: Uint8Array | string;
  contentType?: string;
}

/**
 * A new request with the header fields of RFC 3261 §8.1.1 in the usual order: Via, Max-Forwards,
 * Route, To, From, Call-ID, CSeq, Contact, then the extra headers, Content-Type.
 */
export function createRequest(o: CreateRequestOptions): SipRequest {
  const req = new SipRequest({ method: o.method, uri: typeof o.uri === 'string' ? parseUriText(o.uri) : o.uri });
  const vias = o.via === undefined ? [] : Array.isArray(o.via) ? (o.via as readonly Via[]) : [o.via as Via];
  for (const v of vias) req.append('Via', v);
  req.append('Max-Forwards', o.maxForwards ?? 70);
  for (const r of o.route ?? []) req.append('Route', r);
  req.append('To', o.to).append('From', o.from).append('Call-ID', o.callId).append('CSeq', `${o.cseq} ${o.method}`);
  const contacts = o.contact === undefined ? [] : Array.isArray(o.contact) ? (o.contact as readonly NameAddr[]) : [o.contact as NameAddr];
  if (contacts.length > 0) req.append('Contact', contacts);
  for (const [name, value] of o.headers ?? []) req.append(name, value);
  if (o.body !== undefined) req.setBody(o.body, o.contentType);
  else if (o.contentType !== undefined) req.append('Content-Type', o.contentType);
  return req;
}

export interface CreateResponseOptions {
  status: number;
  /** reasonPhrase(status) unless given. */
  reason?: string;
  /**
   * The tag to add to To when the request's To has none (RFC 3261 §8.2.6.2): needed for every
   * response but 100, which may go without.
   */
  toTag?: string;
  /** Copy Record-Route (RFC 3261 §12.1.1, for responses that create a dialog). */
  copyRecordRoute?: boolean;
  headers?: ExtraHeaders;
  body?: Uint8Array | string;
  contentType?: string;
}

/**
 * A response to a request, per RFC 3261 §8.2.6: Via (all of them, in order), From, To (with a
 * tag added), Call-ID and CSeq copied; Timestamp copied into a 100 (§8.2.6.1). The fields are
 * copied as text, so a response can answer a request whose headers are malformed (400).
 */
export function createResponse(req: SipRequest, o: CreateResponseOptions): SipResponse {
  const res = new SipResponse({ status: o.status, reason: o.reason ?? reasonPhrase(o.status) });
  for (const v of req.getAll('Via')) res.append('Via', v);
  if (o.copyRecordRoute) for (const rr of req.getAll('Record-Route')) res.append('Record-Route', rr);
  const from = req.get('From');
  if (from !== undefined) res.append('From', from);
  const to = req.get('To');
  if (to !== undefined) {
    // The tag is appended to the text, so that To is otherwise exactly the request's.
    const parsed = req.one(H.to);
    const hasTag = parsed ? parsed.tag !== undefined : /;\s*tag\s*=/i.test(to);
    if (!hasTag && o.status !== 100 && o.toTag === undefined) throw new TypeError(`a ${o.status} response needs a To tag (RFC 3261 §8.2.6.2)`);
    res.append('To', !hasTag && o.toTag !== undefined ? `${to};tag=${o.toTag}` : to);
  }
  const callId = req.get('Call-ID');
  if (callId !== undefined) res.append('Call-ID', callId);
  const cseq = req.get('CSeq');
  if (cseq !== undefined) res.append('CSeq', cseq);
  if (o.status === 100) {
    const ts = req.get('Timestamp');
    if (ts !== undefined) res.append('Timestamp', ts);
  }
  for (const [name, value] of o.headers ?? []) res.append(name, value);
  if (o.body !== undefined) res.setBody(o.body, o.contentType);
  return res;
}
