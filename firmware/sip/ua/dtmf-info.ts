// DTMF over SIP INFO: the application/dtmf-relay and application/dtmf bodies, built and parsed, with typed errors for the 400 / 415 answers.
import { MediaType } from '../message/index.js';
import type { AnyServerTransaction } from '../transaction/index.js';

/** The media types of DTMF in INFO: the de-facto dtmf-relay (Cisco) and the single-character dtmf. */
export const DTMF_RELAY_TYPE = 'application/dtmf-relay';
export const DTMF_TYPE = 'application/dtmf';
export const DTMF_INFO_TYPES: readonly string[] = [DTMF_RELAY_TYPE, DTMF_TYPE];

/** The keys a phone sends: 0-9, *, #, A-D, and the hook flash. */
export type DtmfDigit = '0' | '1' | '2' | '3' | '4' | '5' | '6' | '7' | '8' | '9' | '*' | '#' | 'A' | 'B' | 'C' | 'D' | 'flash';

/** The RFC 4733 §3.2 event codes: 0-9, * = 10, # = 11, A-D = 12-15, flash = 16. */
export const DTMF_EVENT_CODES: Readonly<Record<DtmfDigit, number>> = {
  '0': 0, '1': 1, '2': 2, '3': 3, '4': 4, '5': 5, '6': 6, '7': 7, '8': 8, '9': 9,
  '*': 10, '#': 11, A: 12, B: 13, C: 14, D: 15, flash: 16,
};

const BY_CODE: readonly DtmfDigit[] = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '#', 'A', 'B', 'C', 'D', 'flash'];

/** A key press received in an INFO. */
export interface DtmfInfoEvent {
  digit: DtmfDigit;
  /** RFC 4733 event code. */
  code: number;
  /** Duration=… of dtmf-relay, ms; undefined when absent or unusable (application/dtmf has none). */
  durationMs: number | undefined;
}

/** Why an INFO body is no DTMF; status is what the session answers (415 carries Accept: DTMF_INFO_TYPES). */
export class DtmfInfoError extends Error {
  override readonly name = 'DtmfInfoError';
  constructor(
    /**
     * empty: no body at all (a keep-alive INFO, RFC 6086 §4.2.2 legacy use): nothing to do, answered 200.
     * unsupported-type: a body that is not DTMF (415). missing-type, malformed, too-large: 400.
     */
    readonly code: 'empty' | 'unsupported-type' | 'missing-type' | 'malformed' | 'too-large',
    readonly reason: string,
  ) {
    super(`DTMF INFO: ${reason}`);
  }

  /** The answer: 415 for a body type that is not DTMF, 400 for a body we cannot read (RFC 3261 §8.2.3, §21.4.1), 200 for no body. */
  get status(): 200 | 400 | 415 {
    if (this.code === 'empty') return 200;
    return this.code === 'unsupported-type' ? 415 : 400;
  }
}

export type DtmfInfoResult = { ok: true; event: DtmfInfoEvent } | { ok: false; error: DtmfInfoError };

/** Longer bodies are not DTMF (a dtmf-relay body is about 25 bytes). */
const MAX_BODY_BYTES = 512;
/** Durations above a minute are nonsense; such a Duration is ignored rather than believed. */
const MAX_DURATION_MS = 60_000;

/** A Signal value: a key (any case), "!" or "hf" for the flash, or an RFC 4733 code 0-16. */
export function dtmfDigitOf(signal: string): DtmfDigit | undefined {
  const s = signal.trim();
  if (s.length === 1) {
    const c = s.toUpperCase();
    if (/^[0-9*#A-D]$/.test(c)) return c as DtmfDigit;
    return s === '!' ? 'flash' : undefined;
  }
  if (/^hf$|^flash$/i.test(s)) return 'flash';
  // Two digits: an event code (10 → *, 16 → flash). "05" is 5.
  if (/^\d{2}$/.test(s)) return BY_CODE[Number(s)];
  return undefined;
}

export interface DtmfRelayBodyOptions {
  /** Duration=…, ms (default 160: what desk phones commonly send). */
  durationMs?: number;
  /** How the flash is written: "!" (Asterisk and most PBXes) or "16" (its RFC 4733 code). Default "!". */
  flashAs?: '!' | '16';
}

/** The body of an INFO carrying one key (application/dtmf-relay): "Signal=5\r\nDuration=160\r\n". */
export function buildDtmfRelayBody(digit: DtmfDigit, options: DtmfRelayBodyOptions = {}): string {
  const duration = options.durationMs ?? 160;
  if (!Number.isInteger(duration) || duration < 1 || duration > MAX_DURATION_MS) throw new RangeError(`DTMF duration must be 1-${MAX_DURATION_MS} ms, got ${duration}`);
  if (!(digit in DTMF_EVENT_CODES)) throw new RangeError(`not a DTMF key: ${JSON.stringify(digit)}`);
  const signal = digit === 'flash' ? (options.flashAs ?? '!') : digit;
  return `Signal=${signal}\r\nDuration=${duration}\r\n`;
}

/** What a session passes to Dialog.createRequest('INFO', …) to send one key. */
export function dtmfInfoRequestOptions(digit: DtmfDigit, options: DtmfRelayBodyOptions = {}): { body: string; contentType: string } {
  return { body: buildDtmfRelayBody(digit, options), contentType: DTMF_RELAY_TYPE };
}

function essenceOf(contentType: MediaType | string | undefined): string | undefined {
  if (contentType === undefined) return undefined;
  if (contentType instanceof MediaType) return contentType.essence;
  return contentType.split(';')[0]?.trim().toLowerCase();
}

function bodyText(body: Uint8Array | string): string {
  return typeof body === 'string' ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('latin1');
}

/**
 * Reads the key of an INFO body. application/dtmf-relay: "Signal=" and "Duration=" lines, keys
 * in any case, spaces around "=", CRLF or LF, other lines ignored; Signal is required and a
 * Duration that is not a number (or over a minute) is ignored. application/dtmf: the body is the
 * key alone, whitespace around it ignored. No body: 'empty' (200, nothing to do). Other types:
 * 'unsupported-type' (415); a body we cannot read: 'malformed' (400).
 */
export function parseDtmfInfo(contentType: MediaType | string | undefined, body: Uint8Array | string): DtmfInfoResult {
  const size = typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength;
  if (size === 0) return err('empty', 'the INFO has no body');
  const type = essenceOf(contentType);
  if (type === undefined) return err('missing-type', 'the INFO has no Content-Type');
  if (!DTMF_INFO_TYPES.includes(type)) return err('unsupported-type', `${type} is not a DTMF body`);
  if (size > MAX_BODY_BYTES) return err('too-large', `${size} bytes is too large for one key`);
  const text = bodyText(body);
  if (type === DTMF_TYPE) {
    const digit = dtmfDigitOf(text);
    if (digit === undefined) return err('malformed', `not a DTMF key: ${JSON.stringify(text.trim().slice(0, 20))}`);
    return { ok: true, event: { digit, code: DTMF_EVENT_CODES[digit], durationMs: undefined } };
  }
  let signal: string | undefined;
  let duration: string | undefined;
  for (const line of text.split(/\r?\n|\r/)) {
    const eq = line.indexOf('=');
    if (eq < 0) continue;
    const key = line.slice(0, eq).trim().toLowerCase();
    const value = line.slice(eq + 1).trim();
    if (key === 'signal') signal ??= value;
    else if (key === 'duration') duration ??= value;
  }
  if (signal === undefined) return err('malformed', 'no Signal= line');
  const digit = dtmfDigitOf(signal);
  if (digit === undefined) return err('malformed', `not a DTMF key: Signal=${signal.slice(0, 20)}`);
  const ms = duration !== undefined && /^\d{1,6}$/.test(duration) ? Number(duration) : undefined;
  return { ok: true, event: { digit, code: DTMF_EVENT_CODES[digit], durationMs: ms !== undefined && ms > 0 && ms <= MAX_DURATION_MS ? ms : undefined } };
}

function err(code: DtmfInfoError['code'], reason: string): { ok: false; error: DtmfInfoError } {
  return { ok: false, error: new DtmfInfoError(code, reason) };
}

/**
 * Answers an INFO received in a session's dialog and returns its key, for a session that only
 * takes DTMF in INFO: 200 with the key, or for an INFO without a body; 415 with Accept (RFC 3261
 * §21.4.13) for another body type; 400 for a DTMF body it cannot read. The dialog checks (481, CSeq) come first, in the session.
 */
export function answerDtmfInfo(tx: AnyServerTransaction): DtmfInfoResult {
  const request = tx.request;
  const result = parseDtmfInfo(request.contentType ?? request.get('Content-Type'), request.body);
  if (result.ok || result.error.status === 200) tx.reply(200);
  else if (result.error.status === 415) tx.reply(415, { headers: [['Accept', DTMF_INFO_TYPES.join(', ')]] });
  else tx.reply(400, { reason: `Bad Request - ${result.error.reason}` });
  return result;
}
