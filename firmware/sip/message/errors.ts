// The typed error of the SIP message layer: where a message is malformed (line, column), why, and what to answer.

/** The size limits of the parser and the stream framer (RFC 3261 §18.1.1, §18.3; see ParseLimits). */
export type SipLimitName = 'messageBytes' | 'headerCount' | 'headerLineChars' | 'startLineChars';

export interface SipParseErrorInit {
  reason: string;
  /** 1-based line of the message the problem is on (0 when it is about the whole message). */
  line?: number;
  /** 1-based column on that line (for a folded header: the column in the unfolded value). */
  column?: number;
  /** Canonical name of the header field at fault, when there is one ("CSeq"). */
  header?: string;
  /** The limit that was exceeded, when the error is about a limit. */
  limit?: SipLimitName;
  /**
   * The status a UAS would answer a request with: 400 for syntax, 513 for a limit, 505 for a
   * version. A transport can only answer when it has a request to answer (see parseMessage).
   */
  status?: number;
}

/**
 * A SIP message that cannot be parsed or framed. Never thrown out of parseMessage(),
 * SipStreamFramer or validateRequest(): those return it inside a result.
 */
export class SipParseError extends Error {
  readonly reason: string;
  readonly line: number;
  readonly column: number;
  readonly header: string | undefined;
  readonly limit: SipLimitName | undefined;
  readonly status: number;

  constructor(init: SipParseErrorInit) {
    const where = init.line ? ` (line ${init.line}, column ${init.column ?? 0})` : '';
    super(`${init.header ? `${init.header}: ` : ''}${init.reason}${where}`);
    this.name = 'SipParseError';
    this.reason = init.reason;
    this.line = init.line ?? 0;
    this.column = init.column ?? 0;
    this.header = init.header;
    this.limit = init.limit;
    this.status = init.status ?? (init.limit ? 513 : 400);
  }
}
