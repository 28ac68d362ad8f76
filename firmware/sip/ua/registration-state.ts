// The states of a registration client, the drawn transitions between them, and the guard that refuses any other.

/**
 * Registration states (RFC 3261 §10.2; retries after RFC 5626 §4.5).
 *
 * ```
 *  Unregistered ─start()─► Registering ──2xx──► Registered ──refresh timer──► Refreshing
 *       ▲                   ▲  │   │               │  ▲                        │  │  │
 *       │                   │  │   │               │  └───────────2xx──────────┘  │  │
 *       │                   │  │   └─transient─► Backoff ◄────────transient───────┘  │
 *       │                   │  └───rejected────► Failed  ◄────────rejected──────────┘
 *       │                   │                     │  │
 *       │                   ├─────────────────────┴──┘  retry timer, retryNow(), networkChanged()
 *       │                   └── networkChanged(), transportLost() from Registered or Refreshing
 *       │
 *       └── Unregistering ◄── stop() from any other state; straight to Unregistered when no
 *                             binding can exist or with stop({ unregister: false })
 * ```
 *
 * Failed: the registrar said no (wrong credentials, 403, another 4xx-6xx, a challenge we may not
 * answer); Backoff: it could not be reached or was busy (timeout, transport error, 408, 480, 5xx).
 * Both wait for a retry timer with exponential backoff, and keep the failure for the UI.
 */
export enum RegistrationState {
  Unregistered = 'unregistered',
  Registering = 'registering',
  Registered = 'registered',
  Refreshing = 'refreshing',
  Failed = 'failed',
  Backoff = 'backoff',
  Unregistering = 'unregistering',
}

const S = RegistrationState;

/** Every edge of the diagram above; nothing else is allowed. */
const EDGES: Readonly<Record<RegistrationState, readonly RegistrationState[]>> = {
  [S.Unregistered]: [S.Registering],
  [S.Registering]: [S.Registered, S.Failed, S.Backoff, S.Unregistering, S.Unregistered],
  [S.Registered]: [S.Refreshing, S.Registering, S.Unregistering, S.Unregistered],
  [S.Refreshing]: [S.Registered, S.Failed, S.Backoff, S.Registering, S.Unregistering, S.Unregistered],
  [S.Failed]: [S.Registering, S.Unregistering, S.Unregistered],
  [S.Backoff]: [S.Registering, S.Unregistering, S.Unregistered],
  [S.Unregistering]: [S.Unregistered],
};

/** A transition that is not drawn: a bug in the caller, never a network condition. */
export class RegistrationStateError extends Error {
  constructor(
    readonly from: RegistrationState,
    readonly to: RegistrationState,
  ) {
    super(`registration: no transition from ${from} to ${to}`);
    this.name = 'RegistrationStateError';
  }
}

export function canTransition(from: RegistrationState, to: RegistrationState): boolean {
  return EDGES[from].includes(to);
}

/** Throws RegistrationStateError on an edge that is not in the diagram. */
export function assertTransition(from: RegistrationState, to: RegistrationState): void {
  if (!canTransition(from, to)) throw new RegistrationStateError(from, to);
}
