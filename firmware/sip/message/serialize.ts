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

/** Stateless: encodes a string as UTF-8 into a given buffer. */
const ENCODER = new TextEncoder();

/** "INVITE sip:bob@example.com SIP/2.0" or "SIP/2.0 200 OK". */
export function formatStartLine(msg: SipMessage): string {
  return msg.kind === 'request' ? `${msg.method} ${msg.uriText} ${msg.version}` : `${msg.version} ${msg.status} ${msg.reason}`;
}

/** The default options (one shared object, not one per call). */
const DEFAULTS: Readonly<SerializeOptions> = Object.freeze({});

/**
 * The wire form of a message. Header names are written in their canonical long form (compact
 * forms expanded, case normalized: "v" and "VIA" become "Via"); names of unknown headers are
 * written as received. Header order is kept. Content-Length is always written, with the body's
 * length, where the first Content-Length was (at the end when there was none): it is mandatory
 * on streams (RFC 3261 §18.3, §20.14) and harmless on UDP. Received lines that are already
 * written that way are copied as they are.
 */
export function serializeMessage(msg: SipMessage, options: SerializeOptions = DEFAULTS): Buffer {
  const body = msg.body;
  const compact = options.compact === true;
  const reformat = options.reformat === true;
  const length = String(body.length);
  let head = formatStartLine(msg) + '\r\n';
  let lengthWritten = false;
  // Received lines already written as they serialize (HeaderField.lineStart) are copied as they
  // are, consecutive ones together: runText.slice(runStart, runEnd), appended when a line that
  // must be written comes, or at the end. (Not the start line: comparing it with the one to
  // write costs more than writing it.)
  let runText: string | undefined;
  let runStart = 0;
  let runEnd = 0;
  for (const f of msg.fields) {
    const spec = f.spec;
    let copy = f.lineStart >= 0 && (spec === undefined || (!reformat && (!compact || spec.compact === undefined)));
    if (spec === H.contentLength) {
      if (lengthWritten) continue;
      lengthWritten = true;
      // Content-Length is always the body's length: the received line only when it says so.
      copy &&= f.value === length;
    }
    if (copy) {
      if (f.src === runText && f.lineStart === runEnd) {
        runEnd = f.srcEnd + 2;
        continue;
      }
      if (runText !== undefined) head += runText.slice(runStart, runEnd);
      runText = f.src;
      runStart = f.lineStart;
      runEnd = f.srcEnd + 2;
      continue;
    }
    if (runText !== undefined) {
      head += runText.slice(runStart, runEnd);
      runText = undefined;
    }
    if (spec === undefined) {
      head += f.name + ': ' + f.value + '\r\n';
      continue;
    }
    if (spec === H.contentLength) {
      head += (compact ? 'l: ' : 'Content-Length: ') + length + '\r\n';
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
  if (runText !== undefined) head += runText.slice(runStart, runEnd);
  if (!lengthWritten) head += (compact ? 'l: ' : 'Content-Length: ') + length + '\r\n';
  head += '\r\n';
  return encode(head, body);
}

/** The head's text and the body, as bytes. */
function encode(head: string, body: Uint8Array): Buffer {
  // Written as if every character took one byte (plain ASCII, the usual case): one pass, without
  // first measuring the UTF-8 length. encodeInto() reports when that was wrong.
  const chars = head.length;
  const out = Buffer.allocUnsafe(chars + body.length);
  const written = ENCODER.encodeInto(head, out);
  if (written.read === chars && written.written === chars) {
    if (body.length > 0) out.set(body, chars);
    return out;
  }
  // Non-ASCII text (UTF-8 display names, reason phrases): more bytes than characters.
  const headBytes = Buffer.byteLength(head, 'utf8');
  const wide = Buffer.allocUnsafe(headBytes + body.length);
  wide.write(head, 0, 'utf8');
  if (body.length > 0) wide.set(body, headBytes);
  return wide;
}
