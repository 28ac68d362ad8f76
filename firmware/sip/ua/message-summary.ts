// Parser of RFC 3842 message summaries (application/simple-message-summary): waiting flag, account, counts per message-context class.
import { type Uri, parseUri } from '../message/index.js';

/** The media type of the body (RFC 3842 §5.1). */
export const MESSAGE_SUMMARY_TYPE = 'application/simple-message-summary';

/** Message-context classes (RFC 3458 §4.2, used by RFC 3842 §5.2 as "<class>-Message" lines). */
export const MESSAGE_CONTEXT_CLASSES = ['voice', 'fax', 'pager', 'multimedia', 'text', 'none'] as const;
export type MessageContextClass = (typeof MESSAGE_CONTEXT_CLASSES)[number];

/** One summary line: "Voice-Message: 2/8 (0/2)" → new 2, old 8, urgent new 0, urgent old 2. */
export interface MessageCounts {
  newCount: number;
  oldCount: number;
  /** 0 when the line has no "(urgent-new/urgent-old)" part. */
  urgentNew: number;
  urgentOld: number;
}

export interface MessageSummary {
  /** Messages-Waiting (RFC 3842 §5.2); inferred from the new counts when the line is missing (see statusInferred). */
  waiting: boolean;
  /** True when the body had no Messages-Waiting line and `waiting` is "some class has new messages". */
  statusInferred: boolean;
  /** The Message-Account URI as written, when present. */
  account: string | undefined;
  /** The Message-Account parsed, when it is a URI we can parse. */
  accountUri: Uri | undefined;
  /** Counts per class that had a line; classes without a line are absent. */
  messages: Partial<Record<MessageContextClass, MessageCounts>>;
  /** Every other header line (the optional message headers after the blank line included), in order. */
  extraHeaders: [string, string][];
}

/** Why a body is not a message summary. */
export type MessageSummaryErrorCode =
  /** Larger than the limit (MessageSummaryParseOptions.maxBytes). */
  | 'too-large'
  /** Not UTF-8 text. */
  | 'not-text'
  /** Neither Messages-Waiting nor any summary line. */
  | 'missing-status'
  /** Messages-Waiting other than yes / no. */
  | 'bad-status'
  /** A summary line whose counts are not "new/old" or "new/old (new/old)" with whole numbers. */
  | 'bad-counts'
  /** A line that is not "Name: value". */
  | 'bad-line';

/** A body that cannot be used, with the line at fault (1-based; 0 for the whole body). */
export class MessageSummaryError extends Error {
  override readonly name = 'MessageSummaryError';
  constructor(
    readonly code: MessageSummaryErrorCode,
    readonly reason: string,
    readonly line = 0,
  ) {
    super(`message summary: ${reason}${line > 0 ? ` (line ${line})` : ''}`);
  }
}

export type MessageSummaryResult = { ok: true; summary: MessageSummary } | { ok: false; error: MessageSummaryError };

export interface MessageSummaryParseOptions {
  /** Larger bodies are refused (RFC 3842 summaries are a few hundred bytes). Default 4096. */
  maxBytes?: number;
}

export const DEFAULT_MESSAGE_SUMMARY_MAX_BYTES = 4096;

/** Counts above this are refused: nobody has more messages, and it keeps the numbers exact. */
const MAX_COUNT = 2_147_483_647;

/** new/old and the optional (urgent-new/urgent-old) of RFC 3842 §5.2, whitespace tolerated anywhere. */
const COUNTS = /^(\d+)\s*\/\s*(\d+)\s*(?:\(\s*(\d+)\s*\/\s*(\d+)\s*\))?$/;

function count(text: string | undefined): number {
  return text === undefined ? 0 : Number(text);
}

function classOf(name: string): MessageContextClass | undefined {
  const m = /^([a-z]+)-message$/.exec(name);
  const c = m?.[1];
  return c !== undefined && (MESSAGE_CONTEXT_CLASSES as readonly string[]).includes(c) ? (c as MessageContextClass) : undefined;
}

/**
 * Parses an application/simple-message-summary body (RFC 3842 §5.2):
 *
 * ```text
 * Messages-Waiting: yes
 * Message-Account: sip:*97@pbx.example.com
 * Voice-Message: 2/8 (0/2)
 * ```
 *
 * Tolerant where servers differ and it does not change the meaning: header names in any case,
 * whitespace around the colon and inside the counts, CRLF or bare LF, blank lines, the lines in
 * any order, unknown lines and the optional message headers after the blank line (kept in
 * extraHeaders; free text there is skipped), a missing urgent part (0/0). A repeated class line: the
 * first one counts. Strict where a wrong answer would light or darken the MWI lamp wrongly:
 * Messages-Waiting must be yes or no, counts must be whole numbers. Without a Messages-Waiting
 * line, `waiting` is inferred from the new counts (statusInferred), and a body with neither is
 * an error.
 */
export function parseMessageSummary(body: Uint8Array | string, options: MessageSummaryParseOptions = {}): MessageSummaryResult {
  const maxBytes = options.maxBytes ?? DEFAULT_MESSAGE_SUMMARY_MAX_BYTES;
  const size = typeof body === 'string' ? Buffer.byteLength(body, 'utf8') : body.byteLength;
  if (size > maxBytes) return fail('too-large', `${size} bytes, more than the ${maxBytes} accepted`);
  let text: string;
  if (typeof body === 'string') text = body;
  else {
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(body);
    } catch {
      return fail('not-text', 'the body is not UTF-8 text');
    }
  }

  let waiting: boolean | undefined;
  let account: string | undefined;
  const messages: Partial<Record<MessageContextClass, MessageCounts>> = {};
  const extraHeaders: [string, string][] = [];
  const lines = text.split(/\r?\n|\r/);
  // RFC 3842 §5.2: the optional message headers follow an empty line; they are not summary lines.
  let inMessageHeaders = false;
  let seenContent = false;
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i] ?? '';
    const lineNo = i + 1;
    if (raw.trim() === '') {
      if (seenContent) inMessageHeaders = true;
      continue;
    }
    // A folded continuation of an extra header (RFC 3261 §7.3.1 style): appended to it.
    if (/^[ \t]/.test(raw) && extraHeaders.length > 0) {
      const lastHeader = extraHeaders[extraHeaders.length - 1];
      if (lastHeader) lastHeader[1] = `${lastHeader[1]} ${raw.trim()}`;
      continue;
    }
    seenContent = true;
    const colon = raw.indexOf(':');
    if (colon <= 0) {
      if (inMessageHeaders) continue; // free text in the message-headers part is not our business
      return fail('bad-line', `expected "Name: value", got ${JSON.stringify(raw.slice(0, 40))}`, lineNo);
    }
    const name = raw.slice(0, colon).trim();
    const value = raw.slice(colon + 1).trim();
    const key = name.toLowerCase();
    if (key === 'messages-waiting') {
      const v = value.toLowerCase();
      if (v !== 'yes' && v !== 'no') return fail('bad-status', `Messages-Waiting must be yes or no, got ${JSON.stringify(value)}`, lineNo);
      waiting ??= v === 'yes';
      continue;
    }
    if (key === 'message-account') {
      account ??= value.replace(/^<(.*)>$/, '$1');
      continue;
    }
    const cls = classOf(key);
    if (cls === undefined) {
      extraHeaders.push([name, value]);
      continue;
    }
    const m = COUNTS.exec(value);
    if (!m) return fail('bad-counts', `${name}: expected "new/old" or "new/old (urgent-new/urgent-old)", got ${JSON.stringify(value)}`, lineNo);
    const c: MessageCounts = { newCount: count(m[1]), oldCount: count(m[2]), urgentNew: count(m[3]), urgentOld: count(m[4]) };
    if (Object.values(c).some((n) => n > MAX_COUNT)) return fail('bad-counts', `${name}: count out of range`, lineNo);
    messages[cls] ??= c;
  }

  const classes = Object.values(messages);
  if (waiting === undefined && classes.length === 0) return fail('missing-status', 'no Messages-Waiting line and no summary line');
  const statusInferred = waiting === undefined;
  const parsedAccount = account !== undefined && account !== '' ? parseUri(account) : undefined;
  return {
    ok: true,
    summary: {
      waiting: waiting ?? classes.some((c) => c.newCount > 0),
      statusInferred,
      account: account !== '' ? account : undefined,
      accountUri: parsedAccount?.ok ? parsedAccount.uri : undefined,
      messages,
      extraHeaders,
    },
  };
}

function fail(code: MessageSummaryErrorCode, reason: string, line = 0): { ok: false; error: MessageSummaryError } {
  return { ok: false, error: new MessageSummaryError(code, reason, line) };
}

/** Builds a body in the RFC 3842 §5.2 form (for tests and a notifier): status, account, one line per class. */
export function formatMessageSummary(s: Pick<MessageSummary, 'waiting' | 'messages'> & { account?: string | undefined }): string {
  const lines = [`Messages-Waiting: ${s.waiting ? 'yes' : 'no'}`];
  if (s.account !== undefined) lines.push(`Message-Account: ${s.account}`);
  for (const cls of MESSAGE_CONTEXT_CLASSES) {
    const c = s.messages[cls];
    if (!c) continue;
    const name = `${cls.charAt(0).toUpperCase()}${cls.slice(1)}-Message`;
    lines.push(`${name}: ${c.newCount}/${c.oldCount} (${c.urgentNew}/${c.urgentOld})`);
  }
  return `${lines.join('\r\n')}\r\n`;
}
