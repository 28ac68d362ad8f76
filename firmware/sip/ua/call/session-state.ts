// The states of an INVITE session (calling / proceeding / early / confirmed / terminating / terminated), drawn and guarded.
import type { TransitionTable } from '../../transaction/state-machine.js';

/**
 * States of an INVITE session, both directions (RFC 3261 §13, §15; CONVENTIONS #7).
 *
 * ```text
 *   outgoing: INVITE sent                      incoming: INVITE received (after the checks)
 *        │                                               │
 *        ▼         100                                   ▼
 *   ┌─────────┐ ───────────► ┌────────────┐ ◄────────────┘
 *   │ Calling │              │ Proceeding │
 *   └────┬────┘              └─────┬──────┘
 *        │ 1xx with a To tag       │ 1xx with a To tag received / 180 sent (ring)
 *        ▼                         ▼
 *   ┌──────────────────────────────────┐  1xx (other forks, 183 with early media)
 *   │              Early               │◄──┐
 *   └────────────────┬─────────────────┘───┘
 *                    │ 2xx ACKed (outgoing: ACK sent; incoming: ACK received)
 *                    ▼
 *   ┌──────────────────────────────────┐  re-INVITE, OPTIONS... in the dialog
 *   │            Confirmed             │
 *   └────────────────┬─────────────────┘
 *                    │ hangup(): CANCEL (before the final) or BYE sent;
 *                    │ a crossing 2xx is ACKed and BYEd
 *                    ▼
 *   ┌──────────────────────────────────┐
 *   │           Terminating            │  waiting for the 487 / the BYE's answer
 *   └────────────────┬─────────────────┘
 *                    ▼
 *   ┌──────────────────────────────────┐
 *   │           Terminated             │  'ended' with the outcome; every state may come here
 *   └──────────────────────────────────┘
 * ```
 * Calling, Proceeding and Early may go straight to Confirmed (a 2xx without a 1xx before it).
 * Any state but Terminated may go to Terminated: a final failure, a BYE or CANCEL received,
 * a transport error, Timer B, a 'no-ack'.
 */
export enum SessionState {
  Calling = 'calling',
  Proceeding = 'proceeding',
  Early = 'early',
  Confirmed = 'confirmed',
  Terminating = 'terminating',
  Terminated = 'terminated',
}

const S = SessionState;

export const SESSION_EDGES: TransitionTable<SessionState> = {
  [S.Calling]: [S.Proceeding, S.Early, S.Confirmed, S.Terminating, S.Terminated],
  [S.Proceeding]: [S.Early, S.Confirmed, S.Terminating, S.Terminated],
  [S.Early]: [S.Early, S.Confirmed, S.Terminating, S.Terminated],
  [S.Confirmed]: [S.Confirmed, S.Terminating, S.Terminated],
  [S.Terminating]: [S.Terminating, S.Terminated],
  [S.Terminated]: [],
};

/** Whether a session in this state still counts as a call that is up or being set up (for the busy check). */
export function isLive(state: SessionState): boolean {
  return state !== S.Terminating && state !== S.Terminated;
}
