// Guarded state transitions for the SIP state machines (CONVENTIONS #7): an edge that is not drawn throws.

/** A transition that the state diagram does not draw: a bug in the caller, never a network event. */
export class InvalidTransitionError extends Error {
  override readonly name = 'InvalidTransitionError';
  constructor(
    /** Which machine ("INVITE client transaction z9hG4bK..."). */
    readonly machine: string,
    readonly from: string,
    readonly to: string,
    /** What asked for it ("2xx from TU"). */
    readonly event: string,
  ) {
    super(`${machine}: no transition from ${from} to ${to} on ${event}`);
  }
}

/** For each state, the states it may move to. Self-loops are drawn explicitly when allowed. */
export type TransitionTable<S extends string> = Readonly<Record<S, readonly S[]>>;

/** The current state of one machine and the only way to change it. */
export class StateMachine<S extends string> {
  private current: S;

  constructor(
    private readonly machine: string,
    private readonly edges: TransitionTable<S>,
    initial: S,
    private readonly onChange?: (from: S, to: S) => void,
  ) {
    this.current = initial;
  }

  get state(): S {
    return this.current;
  }

  /** Whether the diagram draws an edge from the current state to `to`. */
  can(to: S): boolean {
    return this.edges[this.current].includes(to);
  }

  /** Moves to `to`, or throws InvalidTransitionError when no such edge is drawn. */
  transition(to: S, event: string): void {
    const from = this.current;
    if (!this.edges[from].includes(to)) throw new InvalidTransitionError(this.machine, from, to, event);
    this.current = to;
    if (from !== to) this.onChange?.(from, to);
  }
}
