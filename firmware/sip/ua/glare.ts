// Glare in a session (RFC 3261 §14.1, §14.2; RFC 3311 §5.2): the wait before retrying after a 491, and the 491 / 500 owed to a re-INVITE or UPDATE that crosses one of ours.
import type { RandomSource } from '../transaction/identifiers.js';

/**
 * RFC 3261 §14.1: the owner of the dialog's Call-ID is the UA that generated it, the UAC of the
 * dialog-creating INVITE (role 'uac' of a Dialog).
 */
export function ownsCallId(dialog: { readonly role: 'uac' | 'uas' }): boolean {
  return dialog.role === 'uac';
}

/** A whole number in [0, n] from the random source. */
function pick(random: RandomSource, n: number): number {
  return Math.min(n, Math.floor(random() * (n + 1)));
}

/**
 * How long to wait before retrying a re-INVITE (or UPDATE) that got 491 (RFC 3261 §14.1), in ms:
 * a random time in units of 10 ms, 2.1-4 s when we own the Call-ID, 0-2 s otherwise, so the two
 * sides' retries do not cross again. Retry only if the reason for it still holds then.
 */
export function glareRetryDelayMs(ownsTheCallId: boolean, random: RandomSource): number {
  return ownsTheCallId ? 2100 + 10 * pick(random, 190) : 10 * pick(random, 200);
}

/** Where a session stands, for checkIncomingRequest(): what the session already tracks. */
export interface SessionExchangeState {
  /** An INVITE we sent in this dialog has no final response yet. */
  inviteClientPending?: boolean;
  /** An INVITE we received in this dialog has no final response yet. */
  inviteServerPending?: boolean;
  /** We sent an offer (INVITE, UPDATE, reliable 1xx, PRACK, 2xx) that is not answered yet (RFC 3264 §4). */
  localOfferPending?: boolean;
  /** We received an offer that we have not answered yet. */
  remoteOfferPending?: boolean;
}

export type IncomingRequestVerdict =
  | { readonly ok: true }
  | { readonly ok: false; readonly status: 491; readonly reason: string; readonly headers: [string, string][] }
  | { readonly ok: false; readonly status: 500; readonly reason: string; /** Retry-After, 0-10 s. */ readonly headers: [string, string][] };

function pending(): IncomingRequestVerdict {
  return { ok: false, status: 491, reason: 'Request Pending', headers: [] };
}

function busy(random: RandomSource, why: string): IncomingRequestVerdict {
  // RFC 3261 §14.2, RFC 3311 §5.2: Retry-After a random 0 to 10 seconds.
  return { ok: false, status: 500, reason: `Server Internal Error - ${why}`, headers: [['Retry-After', `${pick(random, 10)}`]] };
}

/**
 * Whether a re-INVITE or UPDATE received in a session may proceed, or the response it gets:
 *
 * - INVITE while an INVITE we received is still unanswered → 500 with Retry-After (RFC 3261
 *   §14.2); while our INVITE is in progress or our offer is unanswered → 491 (§14.2, RFC 3311
 *   §5.2); while an offer we received is unanswered → 500 with Retry-After (RFC 3311 §5.2).
 * - UPDATE with an offer while our offer is unanswered → 491; while an offer we received is
 *   unanswered → 500 with Retry-After (RFC 3311 §5.2). An UPDATE without an offer (a session
 *   refresh) is never refused here.
 * - Any other method: ok.
 */
export function checkIncomingRequest(method: string, hasOffer: boolean, state: SessionExchangeState, random: RandomSource): IncomingRequestVerdict {
  if (method === 'INVITE') {
    if (state.inviteServerPending === true) return busy(random, 'an earlier INVITE is still in progress');
    if (state.inviteClientPending === true || state.localOfferPending === true) return pending();
    if (state.remoteOfferPending === true) return busy(random, 'an earlier offer is still unanswered');
    return { ok: true };
  }
  if (method === 'UPDATE' && hasOffer) {
    if (state.localOfferPending === true) return pending();
    if (state.remoteOfferPending === true) return busy(random, 'an earlier offer is still unanswered');
  }
  return { ok: true };
}
