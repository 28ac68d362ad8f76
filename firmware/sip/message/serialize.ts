// serializeMessage(): a SipMessage back to bytes, with canonical header names and a Content-Length computed from the body.
import { SipParseError } from './errors.js';
import { H, formatHeaderValue } from './headers.js';
import type { SipMessage } from './message.js';

export interface SerializeOptions {
  /**
   * Write compact header names where one exists (RFC 3261 §7.3.3), to keep a UDP request under
   * the MTU (§18.1.1). Default: the canonical long form ("Via", "Call-ID").
   */
  compact?: boolean;
  /**
   * Write every header that has a grammar from its parsed value (its toString()) instead of its
   * text. The text of a received header is already its exact value, unfolded and trimmed; this
   * option normalizes spacing, quoting and brackets. Malformed headers keep their text.
   */
  reformat?: boolean;
}

/** "INVITE sip:bob@example.com SIP/2.0" or "SIP/2.0 200 OK". */
export function formatStartLine(msg: SipMessage): string {
  return msg.kind === 'request' ? `${msg.method} ${msg.uriText} ${msg.version}` : `${msg.version} ${msg.status} ${msg.reason}`;
}

/**
 * The wire form of a message. Header names are written in their canonical long form (compact
 * forms expanded, case normalized: "v" and "VIA" become "Via"); names of unknown headers are
 * written as received. Header order is kept. Content-Length is always written, with the body's
 * length, where the first Content-Length was (at the end when there was none): it is mandatory
 * on streams (RFC 3261 §18.3, §20.14) and harmless on UDP.
 */
export function serializeMessage(msg: SipMessage, options: SerializeOptions = {}): Buffer {
  const body = msg.body;
  const compact = options.compact === true;
  const reformat = options.reformat === true;
  let head = formatStartLine(msg) + '\r\n';
  let lengthWritten = false;
  for (const f of msg.fields) {
    const spec = f.spec;
    if (spec === undefined) {
      head += f.name + ': ' + f.value + '\r\n';
      continue;
    }
    if (spec === H.contentLength) {
      if (!lengthWritten) head += (compact ? 'l: ' : 'Content-Length: ') + String(body.length) + '\r\n';
      lengthWritten = true;
      continue;
    }
    let value = f.value;
    if (reformat) {
      try {
        value = formatHeaderValue(f.parsed());
      } catch (e) {
        if (!(e instanceof SipParseError)) throw e;
      }
    }
    head += (compact ? spec.compactPrefix : spec.prefix) + value + '\r\n';
  }
  if (!lengthWritten) head += (compact ? 'l: ' : 'Content-Length: ') + String(body.length) + '\r\n';
  head += '\r\n';
  const headBytes = Buffer.byteLength(head, 'utf8');
  const out = Buffer.allocUnsafe(headBytes + body.length);
  // Plain ASCII (the usual case) is copied byte for byte, which is cheaper than encoding.
  if (headBytes === head.length) out.write(head, 0, headBytes, 'latin1');
  else out.write(head, 0, 'utf8');
  if (body.length > 0) out.set(body, headBytes);
  return out;
}
