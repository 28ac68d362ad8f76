// SipStreamFramer: cuts a TCP/TLS byte stream into SIP messages by Content-Length, and reports RFC 5626 keep-alives.
import { SipParseError } from './errors.js';

export interface FramerOptions {
  /** Largest message accepted, header section and body (default 64 KiB). */
  maxMessageBytes?: number;
}

export type FramerEvent =
  /** One complete message, ready for parseMessage(bytes, { transport: 'stream' }). */
  | { type: 'message'; bytes: Buffer }
  /** A CRLFCRLF keep-alive ping between messages (RFC 5626 §3.5.1): answer with CRLF. */
  | { type: 'ping' }
  /** A lone CRLF between messages: the pong that answers our ping (RFC 5626 §4.4.1). */
  | { type: 'pong' }
  /** Framing is lost (no or bad Content-Length, too large): close the connection. */
  | { type: 'error'; error: SipParseError };

const CRLFCRLF = Buffer.from('\r\n\r\n', 'latin1');

const enum State {
  /** Between messages, skipping CRLF keep-alives (RFC 3261 §7.5). */
  Idle,
  /** Inside a header section, looking for its end. */
  Head,
  /** Header section read, waiting for the body. */
  Body,
  Failed,
}

/**
 * Frames SIP messages on a stream transport (RFC 3261 §18.3: Content-Length is mandatory there).
 * Bytes are kept in one growable buffer; every byte is scanned once and copied a bounded number
 * of times (the buffer grows geometrically), so framing is linear in the input however it is
 * chunked.
 *
 * A lone CRLF at the very end of the data so far is reported as a pong at once (a client's
 * keep-alive timer should not wait for the next message); if the next chunk starts with CRLF,
 * the two made a ping, and a ping is reported as well.
 */
export class SipStreamFramer {
  private readonly maxMessageBytes: number;
  private store: Buffer;
  private rd = 0;
  private wr = 0;
  private state = State.Idle;
  /** Where the header-section search resumes. */
  private scan = 0;
  /** Length of the message being read, once its header section is known. */
  private need = 0;
  private loneCrlf = false;

  constructor(options: FramerOptions = {}) {
    this.maxMessageBytes = options.maxMessageBytes ?? 65_536;
    this.store = Buffer.allocUnsafe(4096);
  }

  /** Bytes received and not yet delivered. */
  get buffered(): number {
    return this.wr - this.rd;
  }

  get failed(): boolean {
    return this.state === State.Failed;
  }

  /** Feeds received bytes; returns what they complete, in order. */
  push(chunk: Uint8Array): FramerEvent[] {
    if (this.state === State.Failed) return [];
    this.append(chunk);
    const events: FramerEvent[] = [];
    for (;;) {
      const progressed = this.step(events);
      if (!progressed || this.failed) break;
    }
    return events;
  }

  private append(chunk: Uint8Array): void {
    const pending = this.wr - this.rd;
    if (this.wr + chunk.length > this.store.length) {
      // Compact, and grow so that at least pending + chunk bytes stay free afterwards: each byte
      // is then moved O(1) times on average.
      const size = Math.max(this.store.length, 2 * (pending + chunk.length));
      const next = size > this.store.length ? Buffer.allocUnsafe(size) : this.store;
      this.store.copy(next, 0, this.rd, this.wr);
      this.store = next;
      this.scan -= this.rd;
      this.wr = pending;
      this.rd = 0;
    }
    this.store.set(chunk, this.wr);
    this.wr += chunk.length;
  }

  private fail(events: FramerEvent[], error: SipParseError): boolean {
    this.state = State.Failed;
    events.push({ type: 'error', error });
    return false;
  }

  /** Advances the state machine once; false when more bytes are needed. */
  private step(events: FramerEvent[]): boolean {
    const b = this.store;
    switch (this.state) {
      case State.Idle: {
        const avail = this.wr - this.rd;
        if (avail === 0) return false;
        if (b[this.rd] !== 13) {
          this.loneCrlf = false;
          this.state = State.Head;
          this.scan = this.rd;
          return true;
        }
        if (avail < 2) return false;
        if (b[this.rd + 1] !== 10) return this.fail(events, new SipParseError({ reason: 'CR without LF between messages' }));
        if (this.loneCrlf) {
          // The second half of a ping whose first half was reported as a pong.
          this.loneCrlf = false;
          this.rd += 2;
          events.push({ type: 'ping' });
          return true;
        }
        if (avail >= 4 && b[this.rd + 2] === 13 && b[this.rd + 3] === 10) {
          this.rd += 4;
          events.push({ type: 'ping' });
          return true;
        }
        if (avail === 3 && b[this.rd + 2] === 13) return false;
        this.rd += 2;
        this.loneCrlf = avail === 2;
        events.push({ type: 'pong' });
        return true;
      }
      case State.Head: {
        const i = b.subarray(0, this.wr).indexOf(CRLFCRLF, this.scan);
        if (i < 0) {
          this.scan = Math.max(this.rd, this.wr - 3);
          if (this.wr - this.rd > this.maxMessageBytes) {
            return this.fail(events, new SipParseError({ reason: `header section longer than ${this.maxMessageBytes} bytes`, limit: 'messageBytes' }));
          }
          return false;
        }
        const headLen = i + 4 - this.rd;
        const length = contentLength(b.toString('latin1', this.rd, i + 2));
        if (length instanceof SipParseError) return this.fail(events, length);
        this.need = headLen + length;
        if (this.need > this.maxMessageBytes) {
          return this.fail(events, new SipParseError({ reason: `message of ${this.need} bytes exceeds ${this.maxMessageBytes}`, limit: 'messageBytes' }));
        }
        this.state = State.Body;
        return true;
      }
      case State.Body: {
        if (this.wr - this.rd < this.need) return false;
        // A copy: the store is reused for the bytes that follow.
        const bytes = Buffer.from(b.subarray(this.rd, this.rd + this.need));
        this.rd += this.need;
        this.state = State.Idle;
        events.push({ type: 'message', bytes });
        return true;
      }
      case State.Failed:
        return false;
    }
  }
}

/** The Content-Length of a header section (latin1 text, lines ending in CRLF), or an error. */
function contentLength(head: string): number | SipParseError {
  let found: number | undefined;
  let pos = head.indexOf('\r\n') + 2; // skip the start line
  while (pos < head.length) {
    let eol = head.indexOf('\r\n', pos);
    if (eol < 0) eol = head.length;
    // The name is read up to the colon within this line only: searching for ':' from here could
    // read far ahead for a line without one, once per line.
    let colon = pos;
    while (colon < eol && head.charCodeAt(colon) !== 58 && head.charCodeAt(colon) > 32) colon++;
    let c = colon;
    while (c < eol && (head.charCodeAt(c) === 32 || head.charCodeAt(c) === 9)) c++;
    if (colon > pos && c < eol && head.charCodeAt(c) === 58) {
      const name = head.slice(pos, colon).toLowerCase();
      colon = c;
      if (name === 'content-length' || name === 'l') {
        const value = head.slice(colon + 1, eol).trim();
        if (!/^\d{1,10}$/.test(value)) return new SipParseError({ reason: 'malformed Content-Length', header: 'Content-Length' });
        // RFC 4475 §3.3.9: two Content-Length values leave the framing ambiguous.
        if (found !== undefined) return new SipParseError({ reason: 'multiple Content-Length values', header: 'Content-Length' });
        found = Number(value);
      }
    }
    pos = eol + 2;
  }
  // RFC 3261 §18.3, §20.14: mandatory on stream transports.
  if (found === undefined) return new SipParseError({ reason: 'missing Content-Length on a stream transport', header: 'Content-Length' });
  return found;
}
