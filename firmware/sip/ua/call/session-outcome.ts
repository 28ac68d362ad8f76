// How a call ended, as a discriminated union the UI can show (busy, declined, not found, network error...), and the mapping from SIP statuses.

/** One way a call ends: what kind, the SIP status behind it (0 when none applies) and the reason phrase or what happened. */
interface Ending<K extends string> {
  readonly kind: K;
  /** The SIP status code: of the final response, of the response we sent, 408 for Timer B, 0 when no status applies (a BYE). */
  readonly status: number;
  /** The reason phrase, or a line saying what happened. */
  readonly reason: string;
  /** More for the log and a details screen (the refused realm, the transport error...). */
  readonly detail?: string | undefined;
}

/**
 * How a session ended. Outgoing failures map the final response (outcomeOfStatus); the others
 * say who ended an established or ringing call:
 * - local-hangup / remote-hangup: a BYE after the call was up (ours / theirs);
 * - cancelled: the caller gave up before the answer (our CANCEL and its 487, or the peer's CANCEL);
 * - answered-elsewhere: a CANCEL with "Reason: SIP;cause=200" (another phone of the AOR took it, RFC 3326);
 * - transferred: the call went to a transfer target (RFC 3515, 5589): ours, after the target
 *   answered the transferee (we sent BYE), or the transferee's, ended by the transferor's BYE;
 * - replaced: an INVITE with Replaces took the call's place (RFC 3891 §3; we sent BYE or CANCEL);
 * - no-answer: nobody answered an incoming call in time (we sent 480);
 * - no-ack: we answered and no ACK came in 64*T1 (RFC 3261 §13.3.1.4; we sent BYE);
 * - media-failed: the media died (SessionDescriptionContext.mediaFailed) or no usable answer came in a 2xx;
 * - session-expired: no session refresh came in time (RFC 4028 §10; we sent BYE);
 * - auth-failed: a 401/407 again after we answered one, or a challenge we may not answer;
 * - redirected: we answered the INVITE with a 3xx (call forwarding, RFC 3261 §21.3): the caller was sent elsewhere;
 * - redirect-failed: a 3xx with no contact left to try, or too many redirections;
 * - network-error: the transport failed, or no server could be located (RFC 3261 §8.1.3.1: as a 503);
 * - rejected: any other 4xx / 6xx.
 */
export type SessionOutcome =
  | Ending<'local-hangup'>
  | Ending<'remote-hangup'>
  | Ending<'cancelled'>
  | Ending<'answered-elsewhere'>
  | Ending<'transferred'>
  | Ending<'replaced'>
  | Ending<'no-answer'>
  | Ending<'no-ack'>
  | Ending<'media-failed'>
  | Ending<'session-expired'>
  | Ending<'forbidden'>
  | Ending<'not-found'>
  | Ending<'timeout'>
  | Ending<'unavailable'>
  | Ending<'busy'>
  | Ending<'not-acceptable'>
  | Ending<'declined'>
  | Ending<'server-error'>
  | Ending<'auth-failed'>
  | Ending<'redirected'>
  | Ending<'redirect-failed'>
  | Ending<'network-error'>
  | Ending<'rejected'>;

export type SessionOutcomeKind = SessionOutcome['kind'];

/** The kind a final status (300-699) maps to. */
export function outcomeKindOfStatus(status: number): SessionOutcomeKind {
  switch (status) {
    case 401:
    case 407:
      return 'auth-failed';
    case 403:
      return 'forbidden';
    case 404:
    case 604:
      return 'not-found';
    case 408:
      return 'timeout';
    case 410:
    case 480:
      return 'unavailable';
    case 486:
    case 600:
      return 'busy';
    case 487:
      return 'cancelled';
    case 488:
    case 606:
      return 'not-acceptable';
    case 603:
      return 'declined';
    default:
      if (status >= 300 && status < 400) return 'redirect-failed';
      if (status >= 500 && status < 600) return 'server-error';
      return 'rejected';
  }
}

/** The outcome of a final non-2xx response (RFC 3261 §21), or of a status we answered with. */
export function outcomeOfStatus(status: number, reason: string, detail?: string): SessionOutcome {
  return { kind: outcomeKindOfStatus(status), status, reason, detail };
}

/** Builds one outcome (typed so that kind, status and reason always go together). */
export function outcome(kind: SessionOutcomeKind, status: number, reason: string, detail?: string): SessionOutcome {
  return { kind, status, reason, detail };
}
