// Parsing SDP with sdp-transform into a checked shape: size limit, the lines RFC 4566 requires, numeric ports and formats; a refusal instead of an exception.
import { isIP } from 'node:net';
import { parse, write, type MediaDescription, type SessionDescription } from 'sdp-transform';
import type { SdpDirection, SdpRefusal, SdpRefusalCode } from './sdp-types.js';

export type { MediaDescription, SessionDescription } from 'sdp-transform';

/** Default size limit of a body: a phone's SDP is well under 2 KiB; 64 KiB is generous and bounds the work. */
export const DEFAULT_MAX_SDP_BYTES = 65536;

export function refusal(status: 400 | 488, code: SdpRefusalCode, reason: string): SdpRefusal {
  return { ok: false, status, code, reason };
}

export type SdpParseResult = { readonly ok: true; readonly sdp: SessionDescription } | SdpRefusal;

const RTP_PROTOCOLS = /^(RTP|UDP\/TLS\/RTP)\//;

/**
 * Parses and checks an SDP body. sdp-transform skips what it does not recognise and never checks
 * that required lines are there, so the checks RFC 4566 §5 asks for are made here: v=0 first, a
 * valid o=, every m= with a numeric port and (for RTP) numeric formats, and a c= for every stream in
 * use (§5.7: at session level or in each m= section).
 */
export function parseSdp(text: string, maxBytes = DEFAULT_MAX_SDP_BYTES): SdpParseResult {
  if (typeof text !== 'string') return refusal(400, 'malformed', 'the body is not text');
  const size = Buffer.byteLength(text, 'utf8');
  if (size > maxBytes) return refusal(488, 'too-large', `the SDP is ${size} octets, more than the ${maxBytes} accepted`);
  const firstLine = text.trimStart().split(/\r\n|\r|\n/, 1)[0] ?? '';
  if (firstLine.trimEnd() !== 'v=0') return refusal(400, 'malformed', 'the SDP does not start with v=0 (RFC 4566 §5.1)');
  let sdp: SessionDescription;
  try {
    sdp = parse(text);
  } catch (e) {
    return refusal(400, 'malformed', `the SDP does not parse: ${e instanceof Error ? e.message : String(e)}`);
  }
  // sdp-transform leaves out what its grammar does not match: a missing or broken o= is simply absent.
  const origin = sdp.origin as SessionDescription['origin'] | undefined;
  if (origin === undefined || typeof origin.sessionVersion !== 'number' || origin.sessionId === '') {
    return refusal(400, 'malformed', 'the SDP has no valid o= line (RFC 4566 §5.2)');
  }
  const media = sdp.media as MediaDescription[] | undefined;
  if (media === undefined) sdp.media = [];
  for (const [i, m] of sdp.media.entries()) {
    const where = `m-line ${i + 1}`;
    if (typeof m.port !== 'number' || !Number.isInteger(m.port) || m.port < 0 || m.port > 65535) {
      return refusal(400, 'malformed', `${where} has no valid port (RFC 4566 §5.14)`);
    }
    if (typeof m.protocol !== 'string' || m.protocol === '') return refusal(400, 'malformed', `${where} has no transport protocol`);
    const formats = formatTokens(m);
    if (formats.length === 0) return refusal(400, 'malformed', `${where} lists no media format (RFC 4566 §5.14)`);
    if (RTP_PROTOCOLS.test(m.protocol) && formats.some((f) => !/^\d{1,3}$/.test(f) || Number(f) > 127)) {
      return refusal(400, 'malformed', `${where} lists a format that is not an RTP payload type (0-127)`);
    }
    if (m.port !== 0) {
      const c = m.connection ?? sdp.connection;
      if (c === undefined || typeof c.ip !== 'string' || c.ip === '') {
        return refusal(400, 'malformed', `${where} has no c= line, at its level nor at the session's (RFC 4566 §5.7)`);
      }
    }
  }
  return { ok: true, sdp };
}

/** Serializes with sdp-transform (CRLF line ends, RFC 4566 §5 order). */
export function writeSdp(sdp: SessionDescription): string {
  return write(sdp);
}

/**
 * A parsed field as text. sdp-transform's types say string, but it turns every all-digit value into a
 * number (`a=fmtp:96 8000`, an o= session id), so fields read from a peer go through this.
 */
export function asText(value: unknown): string {
  if (typeof value === 'string') return value;
  return typeof value === 'number' ? String(value) : '';
}

/** The formats of an m-line, in its order. */
export function formatTokens(m: MediaDescription): string[] {
  const payloads: unknown = m.payloads;
  if (typeof payloads === 'number') return [String(payloads)];
  if (typeof payloads !== 'string') return [];
  return payloads.split(' ').filter((t) => t !== '');
}

/** The connection address of an m-line (its own c=, else the session's), and whether it is a literal. */
export function connectionOf(sdp: SessionDescription, m: MediaDescription): { address: string; literal: boolean } {
  const c = m.connection ?? sdp.connection;
  const address = c === undefined ? '' : asText(c.ip).replace(/\/.*$/, ''); // a multicast TTL ("/127") is not ours to use
  return { address, literal: isIP(address) !== 0 };
}

/** The m-line's direction, falling back on the session's (RFC 4566 §6), default sendrecv. */
export function directionOf(sdp: SessionDescription, m: MediaDescription): SdpDirection {
  return m.direction ?? sdp.direction ?? 'sendrecv';
}

/** RFC 2543 hold: c= 0.0.0.0 (RFC 3264 §8.4 keeps recognising it). */
export function isOldStyleHold(address: string): boolean {
  return address === '0.0.0.0';
}

/** IP4 or IP6 for o= and c= from a literal address. */
export function ipVersionOf(address: string): 4 | 6 {
  return isIP(address) === 6 ? 6 : 4;
}
