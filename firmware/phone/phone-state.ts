// The phone's states and the transitions allowed between them (CONVENTIONS.md #7: the diagram is the contract).

/**
 * ```
 *            key (digit)                  lift handset
 *   Idle ─────────────────► PreDial ──────────────────────┐
 *    ▲ ◄──────────────────── │  ▲                          ▼
 *    │   clear / timeout         │                       Dialing
 *    │                           └── (never back)          │
 *    └──────────────────────── replace handset ◄────────────┘
 *   Idle ── lift handset ──► Dialing
 * ```
 * Calls (Calling, Ringing, Connected, ...) join this diagram with the SIP issues.
 */
export enum PhoneState {
  /** On hook, nothing typed: the idle screen. */
  Idle = 'idle',
  /** On hook with digits typed (on-hook dialing): lifting the handset dials them. */
  PreDial = 'pre-dial',
  /** Off hook, collecting digits (dial tone until the first digit). */
  Dialing = 'dialing',
}

const EDGES: Readonly<Record<PhoneState, readonly PhoneState[]>> = {
  [PhoneState.Idle]: [PhoneState.PreDial, PhoneState.Dialing],
  [PhoneState.PreDial]: [PhoneState.Idle, PhoneState.Dialing],
  [PhoneState.Dialing]: [PhoneState.Idle],
};

export class PhoneStateError extends Error {
  override readonly name = 'PhoneStateError';
}

/** Returns the new state, or throws on an edge the diagram does not draw. */
export function phoneTransition(from: PhoneState, to: PhoneState): PhoneState {
  if (!EDGES[from].includes(to)) throw new PhoneStateError(`invalid phone state transition ${from} -> ${to}`);
  return to;
}
