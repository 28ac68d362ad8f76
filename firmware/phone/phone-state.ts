// The phone's states and the transitions allowed between them (CONVENTIONS.md #7: the diagram is the contract).

/**
 * What the person at the phone is doing. Calls keep their own protocol state (CallSession.state);
 * this is the state of the handset, the screen and the tones.
 *
 * ```
 *                 digit                         lift / send key
 *   ┌──────┐ ─────────────► ┌─────────┐ ────────────────────────────────┐
 *   │ Idle │ ◄───────────── │ PreDial │                                 │
 *   └──────┘  erase / clear └─────────┘                                 │
 *    │ ▲  │ lift, speaker key                                           │
 *    │ │  └──────────────► ┌─────────┐ number complete (map, timer, #)  ▼
 *    │ │                   │ Dialing │ ───────────────────────────► ┌─────────┐ 18x  ┌──────────┐
 *    │ │ on hook           └─────────┘ ── invalid / timeout ──┐     │ Calling │ ───► │ Ringback │
 *    │ │ (from any state                                      │     └─────────┘      └──────────┘
 *    │ │  but Ringing)                                        │         │ 2xx          │ 2xx
 *    │ │                                                      ▼         ▼              ▼
 *    │ │                 ┌───────┐   failure / remote BYE  ┌───────────────────────────────┐
 *    │ └──────────────── │ Ended │ ◄────────────────────── │           Connected           │ ◄─┐
 *    │                   └───────┘ ── resume a held call ─►└───────────────────────────────┘   │
 *    │ INVITE              on hook with a held call │   ▲ transfer key │  ▲ cancel / failed    │
 *    ▼                                              ▼   │ lift         ▼  │                      │
 *   ┌─────────┐ ◄──────────────────────────────────────── ┌──────────┐                          │
 *   │ Ringing │ ── lift / answer key ─────────────────────│ Transfer │──────────────────────────┘
 *   └─────────┘                                           └──────────┘
 * ```
 * Ringing (an incoming call, or a held call ringing back) goes back to Idle when the caller gives
 * up, the call is rejected, or it ends. Every state but Idle returns to Idle on hook (or End).
 * History (the call lists, opened from Idle or the Menu) returns to Idle (or the Menu), or calls the
 * entry shown (Calling, or Dialing first when the handset is lifted), or gives way to an incoming
 * call (Ringing). Menu (phonebook, settings; opened from Idle) does the same, and opens History.
 * Auto-answer takes a ringing call to Connected on the speaker; a hotline turns Dialing into
 * Calling by itself.
 */
export enum PhoneState {
  /** On hook, nothing typed: the idle screen. */
  Idle = 'idle',
  /** On hook with digits typed (on-hook dialing): lifting the handset or the send key dials them. */
  PreDial = 'pre-dial',
  /** Off hook, collecting digits (dial tone until the first digit). */
  Dialing = 'dialing',
  /** INVITE sent, no ringing yet. */
  Calling = 'calling',
  /** The far end rings (180 / 183): ringback tone, unless early media plays. */
  Ringback = 'ringback',
  /** An incoming call rings (or a held call rings back). */
  Ringing = 'ringing',
  /** In a call (the focused call is up, possibly on hold, with others held or waiting). */
  Connected = 'connected',
  /** Collecting the number to transfer the call to. */
  Transfer = 'transfer',
  /** The call ended or failed while off hook: its screen and tone stay until on hook. */
  Ended = 'ended',
  /** On hook, browsing the call history (missed, received, dialed). */
  History = 'history',
  /** On hook, in the menus: phonebook, settings (volumes, ring tone, DND, forwarding). */
  Menu = 'menu',
}

const S = PhoneState;

const EDGES: Readonly<Record<PhoneState, readonly PhoneState[]>> = {
  [S.Idle]: [S.PreDial, S.Dialing, S.Ringing, S.Calling, S.History, S.Menu],
  [S.History]: [S.Idle, S.Dialing, S.Calling, S.Ringing, S.Menu],
  [S.Menu]: [S.Idle, S.Dialing, S.Calling, S.Ringing, S.History],
  [S.PreDial]: [S.Idle, S.Dialing, S.Calling, S.Ringing],
  [S.Dialing]: [S.Idle, S.Calling, S.Ended],
  [S.Calling]: [S.Idle, S.Ringback, S.Connected, S.Ended],
  [S.Ringback]: [S.Idle, S.Connected, S.Ended],
  [S.Ringing]: [S.Idle, S.Connected],
  // Calling from a call: a consultation (transfer) or a call the UA placed for a transfer it followed.
  [S.Connected]: [S.Idle, S.Ended, S.Transfer, S.Ringing, S.Calling],
  [S.Transfer]: [S.Idle, S.Connected, S.Ended, S.Ringing, S.Calling],
  [S.Ended]: [S.Idle, S.Connected, S.Ringing, S.Calling],
};

export class PhoneStateError extends Error {
  override readonly name = 'PhoneStateError';
}

/** Returns the new state, or throws on an edge the diagram does not draw. */
export function phoneTransition(from: PhoneState, to: PhoneState): PhoneState {
  if (!EDGES[from].includes(to)) throw new PhoneStateError(`invalid phone state transition ${from} -> ${to}`);
  return to;
}
