// An INVITE with Replaces received (RFC 3891 §3): the call it replaces found among ours (or the refusal), and the swap — the new call answered without ringing, the old one ended.
import type { Logger } from '../../../util/log.js';
import type { InviteServerTransaction } from '../../transaction/index.js';
import { matchReplaces, readReplaces } from '../refer.js';
import type { IncomingSession } from './incoming-session.js';
import type { Session } from './session.js';
import { outcome } from './session-outcome.js';
import { SessionState } from './session-state.js';

/** What an INVITE's Replaces header means for it. */
export type ReplacesScreen =
  /** No Replaces: an ordinary call. */
  | { kind: 'none' }
  /** Refused, and answered already. */
  | { kind: 'answered' }
  /** It replaces this call of ours. */
  | { kind: 'replace'; session: Session };

/**
 * RFC 3891 §3 on an INVITE: a malformed Replaces (or two) → 400; the dialog it names, among
 * the dialogs of our live calls: none (or an early one we did not initiate) → 481, a confirmed
 * one with early-only → 486, one that ended → 603. Authorising the replacement is the caller's:
 * the INVITE passed the same source check as any call.
 */
export function screenReplaces(tx: InviteServerTransaction, sessions: Iterable<Session>, log: Logger): ReplacesScreen {
  const reading = readReplaces(tx.request);
  if (!reading) return { kind: 'none' };
  if (!reading.ok) {
    tx.reply(400, { reason: `Bad Request - ${reading.reason}` });
    return { kind: 'answered' };
  }
  const bySession = new Map<object, Session>();
  const dialogs = [];
  for (const s of sessions) {
    const d = s.dialog;
    if (!d || s.state === SessionState.Terminated) continue;
    dialogs.push(d);
    bySession.set(d, s);
  }
  const match = matchReplaces(reading.replaces, dialogs);
  if (!match.ok) {
    log.info({ callId: reading.replaces.callId, status: match.status }, 'INVITE with Replaces refused');
    tx.reply(match.status, { reason: match.reason });
    return { kind: 'answered' };
  }
  const session = bySession.get(match.dialog);
  if (!session) {
    tx.reply(481);
    return { kind: 'answered' };
  }
  return { kind: 'replace', session };
}

/**
 * The swap (RFC 3891 §3): the new call is answered at once, without ringing (a desk phone
 * auto-answers the call that takes the place of one it had); once its ACK came, the replaced
 * call gets 'replaced' with the new session and ends — BYE when it was up (outcome replaced),
 * CANCEL when it was our early call. If the new call fails first, the old one stays.
 */
export function replaceCall(old: Session, replacement: IncomingSession, log: Logger): void {
  log.info({ replaced: old.callId, by: replacement.callId }, 'INVITE with Replaces: answering it in place of the call');
  replacement.on('accepted', () => {
    if (old.state === SessionState.Terminated) return;
    old.announce('replaced', replacement);
    old.endWith(outcome('replaced', 0, 'Replaced', `by call ${replacement.callId}`));
  });
  void replacement.accept();
}
