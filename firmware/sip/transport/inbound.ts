// Received-message rules of the transport layer (RFC 3261 §18.1.2, §18.2.1, RFC 3581) and stateless answers to unparsable requests.
import { createHash } from 'node:crypto';
import { SipParseError } from '../message/errors.js';
import { H, Via } from '../message/headers.js';
import { type SipMessage, SipRequest, type SipResponse } from '../message/message.js';
import { createResponse, reasonPhrase } from '../message/build.js';
import { AbsoluteUri } from '../message/uri.js';
import type { HostPort, TransportProtocol } from './transport.js';
import { ipBytes, ipEquals, ipFamily, stripBrackets } from './ip-address.js';

/** RFC 3261 §18.2.2, §19.1.2: the port of a sent-by without one. */
export function defaultPort(viaTransport: string): number {
  return viaTransport.toUpperCase() === 'TLS' ? 5061 : 5060;
}

/**
 * A comparable form of a sent-by (host and port, RFC 3261 §18.1.2): host lower-cased, an IP
 * address in canonical byte form (so "[::1]" and "[0:0::1]" match), the default port filled in.
 */
export function sentByKey(host: string, port: number | undefined, viaTransport: string): string {
  const bare = stripBrackets(host);
  const bytes = ipFamily(bare) === 0 ? undefined : ipBytes(bare);
  const h = bytes ? bytes.toString('hex') : bare.toLowerCase();
  return `${h}:${port ?? defaultPort(viaTransport)}`;
}

/** The first Via header field's values, parsed; throws SipParseError when missing or malformed. */
function firstViaLine(message: SipMessage): Via[] {
  const field = message.fields.find((f) => f.key === 'via');
  if (!field) throw new SipParseError({ reason: 'missing Via', header: 'Via' });
  const list = field.parsed() as Via[];
  if (list.length === 0) throw new SipParseError({ reason: 'missing Via', header: 'Via' });
  return list;
}

/**
 * Replaces the top Via value. Only the first Via line is rewritten (from its parsed values);
 * the other Via lines keep their text. Via lines end up next to each other where the first was,
 * which does not change the message's meaning (RFC 3261 §7.3.1).
 */
export function replaceTopVia(message: SipMessage, top: Via): void {
  const firstLine = firstViaLine(message);
  const lines = message.getAll('Via');
  lines[0] = [top, ...firstLine.slice(1)].map((v) => v.toString()).join(', ');
  const last = lines[lines.length - 1] ?? '';
  message.set('Via', last);
  for (let i = lines.length - 2; i >= 0; i--) message.prepend('Via', lines[i] ?? '');
}

/**
 * RFC 3261 §18.2.1: add received when the sent-by host is a name or another address than the
 * packet's source. RFC 3581 §4: fill an empty rport with the source port, and then add received
 * even when it equals the sent-by host. Throws SipParseError when the top Via is missing or
 * malformed (the request cannot be answered then).
 */
export function markReceived(request: SipRequest, source: HostPort): void {
  const top = firstViaLine(request)[0];
  if (!top) return;
  const rportRequested = top.rport === true;
  const host = stripBrackets(top.host);
  const differs = ipFamily(host) === 0 || !ipEquals(host, source.address);
  if (!differs && !rportRequested) return;
  let next = top.withParam('received', source.address);
  if (rportRequested) next = next.withParam('rport', String(source.port));
  replaceTopVia(request, next);
}

/**
 * Where a UDP response goes (RFC 3261 §18.2.2 with RFC 3581 §4): the source address of the
 * request (that is what received holds), and the rport when the client asked for it, else the
 * sent-by port. maddr is ignored: a phone does not answer to multicast groups.
 */
export function udpResponseTarget(via: Via, source: HostPort): HostPort {
  const rport = via.rport;
  const port = typeof rport === 'number' && rport > 0 ? rport : (via.port ?? defaultPort(via.transport));
  return { protocol: 'udp', address: source.address, port };
}

/** A copy of a request whose top Via names another transport (RFC 3261 §18.1.1), or undefined when the Via cannot be read. */
export function withTopViaTransport(request: SipRequest, transport: 'TCP' | 'TLS', port: number | undefined): SipRequest | undefined {
  const copy = request.clone();
  try {
    const top = firstViaLine(copy)[0];
    if (!top) return undefined;
    replaceTopVia(copy, new Via({ protocol: top.protocol, transport, host: top.host, port: port ?? top.port, params: top.params }));
    return copy;
  } catch (e) {
    if (e instanceof SipParseError) return undefined;
    throw e;
  }
}

/** The top Via of a message we send, or undefined when it has none or it is malformed. */
export function topViaOf(message: SipMessage): Via | undefined {
  return message.one(H.via);
}

/** Skips the CRLFs that may precede a start line (RFC 3261 §7.5). */
function startOf(bytes: Buffer): number {
  let i = 0;
  while (i + 1 < bytes.length && bytes[i] === 13 && bytes[i + 1] === 10) i += 2;
  return i;
}

/** Whether unparsable bytes look like a response ("SIP/" first): those are dropped, never answered (RFC 3261 §18.1.2). */
export function looksLikeResponse(bytes: Buffer): boolean {
  const i = startOf(bytes);
  return bytes.length >= i + 4 && bytes.toString('latin1', i, i + 4).toUpperCase() === 'SIP/';
}

/** Only CRs and LFs: a keep-alive (RFC 5626 §3.5.1; many phones also send CRLFCRLF over UDP to keep a NAT binding open). */
export function isKeepAlive(bytes: Buffer): boolean {
  if (bytes.length === 0) return false;
  for (const b of bytes) if (b !== 13 && b !== 10) return false;
  return true;
}

/** A STUN message (RFC 5389 §6: two zero bits, then the magic cookie at offset 4), as RFC 5626 §4.4.1 keep-alives use on UDP. */
export function isStun(bytes: Buffer): boolean {
  return bytes.length >= 20 && ((bytes[0] ?? 0) & 0xc0) === 0 && bytes.readUInt32BE(4) === 0x2112a442;
}

/** Longest header section salvageRequest() looks at. */
const SALVAGE_MAX_BYTES = 65_536;
const REQUEST_LINE = /^([-!%*_+`'~.0-9A-Za-z]+)[ \t]+(.*?)[ \t]+(SIP\/[^ \t]*)[ \t]*$/i;
const HEADER_LINE = /^([-!%*_+`'~.0-9A-Za-z]+)[ \t]*:(.*)$/;
/** The header fields a response needs (RFC 3261 §8.2.6.2), by lower-case long and compact names. */
const SALVAGED: Readonly<Record<string, string>> = {
  via: 'Via',
  v: 'Via',
  from: 'From',
  f: 'From',
  to: 'To',
  t: 'To',
  'call-id': 'Call-ID',
  i: 'Call-ID',
  cseq: 'CSeq',
  timestamp: 'Timestamp',
};

/**
 * Reads enough of a request that parseMessage() rejected to answer it: the method, and the
 * Via, From, To, Call-ID and CSeq lines as text (RFC 3261 §8.2.6.2 copies them as they are).
 * Only complete header lines are used. Undefined when the start line is not a request line,
 * when a required header is missing, when the top Via cannot be parsed (the answer could not
 * be routed, RFC 3261 §18.2.2), or when the request is an ACK (never answered, RFC 3261 §17).
 */
export function salvageRequest(bytes: Buffer): SipRequest | undefined {
  const start = startOf(bytes);
  const headEnd = bytes.indexOf('\r\n\r\n', start, 'latin1');
  const end = headEnd >= 0 ? headEnd + 2 : bytes.lastIndexOf('\r\n') + 2;
  if (end <= start) return undefined;
  const text = bytes.toString('utf8', start, Math.min(end, start + SALVAGE_MAX_BYTES));
  const lines = text.split('\r\n');
  const m = REQUEST_LINE.exec(lines[0] ?? '');
  const method = m?.[1];
  if (!m || method === undefined || method.toUpperCase() === 'ACK') return undefined;
  const fields: [string, string][] = [];
  let current: [string, string] | undefined;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i] ?? '';
    if (line === '') break;
    if (line.startsWith(' ') || line.startsWith('\t')) {
      // RFC 3261 §7.3.1 folding.
      if (current) current[1] += ` ${line.trim()}`;
      continue;
    }
    current = undefined;
    const h = HEADER_LINE.exec(line);
    const name = h?.[1] !== undefined ? SALVAGED[h[1].toLowerCase()] : undefined;
    if (name === undefined || h?.[2] === undefined) continue;
    current = [name, h[2].trim()];
    fields.push(current);
  }
  const req = new SipRequest({ method, uri: new AbsoluteUri('invalid', m[2] ?? '') });
  try {
    for (const [name, value] of fields) req.append(name, value);
  } catch (e) {
    // A value that cannot be written back (a stray CR or LF): no answer.
    if (e instanceof TypeError) return undefined;
    throw e;
  }
  for (const name of ['Via', 'From', 'To', 'Call-ID', 'CSeq']) if (!req.has(name)) return undefined;
  if (!req.one(H.via)) return undefined;
  const cseq = req.one(H.cseq);
  if (cseq?.method.toUpperCase() === 'ACK') return undefined;
  return req;
}

/** Printable ASCII only, for a Reason-Phrase built from an error message. */
function phraseText(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, '?').slice(0, 120);
}

/**
 * The stateless answer to a request that cannot be parsed: 400 naming the problem, 513 for a
 * limit, 505 for a version (the status the parser chose). The To tag is a hash of the request's
 * identity, so that a retransmission gets the same answer (RFC 3261 §8.2.6.2 requires a tag).
 */
export function errorResponseFor(req: SipRequest, error: SipParseError): SipResponse | undefined {
  const status = error.status >= 400 && error.status <= 699 ? error.status : 400;
  const reason = status === 400 ? `Bad Request - ${phraseText(error.message)}` : reasonPhrase(status);
  const toTag = createHash('sha1')
    .update(`${req.get('Call-ID') ?? ''}\n${req.get('From') ?? ''}\n${req.get('CSeq') ?? ''}`)
    .digest('hex')
    .slice(0, 16);
  try {
    return createResponse(req, { status, reason, toTag });
  } catch (e) {
    if (e instanceof TypeError) return undefined;
    throw e;
  }
}

/** A short printable preview of raw bytes for a log line or an event (never the whole message). */
export function preview(bytes: Buffer, maxChars = 200): string {
  const s = bytes.toString('latin1', 0, Math.min(bytes.length, maxChars));
  return s.replace(/[^\x20-\x7e]/g, (c) => (c === '\r' ? '\\r' : c === '\n' ? '\\n' : '.'));
}

/** Whether a protocol is a stream (RFC 3261 §18.3 framing, Content-Length mandatory). */
export function isStream(protocol: TransportProtocol): boolean {
  return protocol !== 'udp';
}
