// What the INVITE and non-INVITE client transactions share (RFC 3261 §17.1): identity, target, TU callbacks, timers, sending.
import { Emitter, type Unsubscribe } from '../../util/emitter.js';
import type { SipRequest, SipResponse } from '../message/message.js';
import type { SendTarget } from '../transport/transport.js';
import { type TransactionEnvironment, callTu, transmit } from './environment.js';
import { StateMachine, type TransitionTable } from './state-machine.js';
import { TimerSet } from './timers.js';

/**
 * What the transaction user hears from a client transaction. Every callback is optional and is
 * called at most once per event; a callback that throws is logged, never breaks the machine.
 */
export interface ClientTransactionUser {
  /** A 1xx (RFC 3261 §17.1.1.2, §17.1.2.2). */
  onProvisional?(response: SipResponse): void;
  /**
   * A final response. Non-INVITE: the first one only. INVITE: the first 300-699 only (its
   * retransmissions are absorbed, the ACK is sent by the transaction), and every 2xx — the
   * first, its retransmissions and the 2xx of other forks (RFC 6026 §7.2, Accepted state): the
   * TU ACKs each 2xx itself (RFC 3261 §13.2.2.4).
   */
  onFinal?(response: SipResponse): void;
  /** Timer B (INVITE) or Timer F (non-INVITE) fired: no final response in 64*T1 (RFC 3261 §8.1.3.1: act as on a 408). */
  onTimeout?(): void;
  /** The transport could not send the request or the ACK (RFC 3261 §17.1.4: act as on a 503). */
  onTransportError?(error: Error): void;
  /** The transaction reached Terminated and was destroyed. */
  onTerminated?(): void;
}

export interface ClientTransactionInit {
  env: TransactionEnvironment;
  request: SipRequest;
  target: SendTarget;
  /** Whether the transport to target is reliable (TCP, TLS): no retransmissions, zero wait timers. */
  reliable: boolean;
  user: ClientTransactionUser;
  /** Called once when the transaction terminates, so that the layer forgets it. */
  onTerminated: () => void;
}

// A type, not an interface: Emitter needs an implicit index signature.
export type ClientTransactionEvents<S> = {
  state: [S];
};

/** Base of InviteClientTransaction and NonInviteClientTransaction. */
export abstract class ClientTransaction<S extends string> {
  readonly request: SipRequest;
  /** Where the request (and an ACK or CANCEL for it) goes. */
  readonly target: SendTarget;
  /** The top Via branch: the transaction's identity with the method (RFC 3261 §17.1.3). */
  readonly branch: string;
  /** The top Via sent-by, checked on responses (RFC 3261 §18.1.2). */
  readonly sentBy: string;
  /** The method of the CSeq (CANCEL and INVITE with one branch are two transactions, §17.1.3). */
  readonly method: string;
  readonly reliable: boolean;
  protected readonly env: TransactionEnvironment;
  protected readonly user: ClientTransactionUser;
  protected readonly timers: TimerSet;
  protected readonly machine: StateMachine<S>;
  private readonly events = new Emitter<ClientTransactionEvents<S>>();
  private readonly onTerminatedHook: () => void;

  protected constructor(init: ClientTransactionInit, kind: string, table: TransitionTable<S>, initial: S) {
    this.env = init.env;
    this.request = init.request;
    this.target = init.target;
    this.reliable = init.reliable;
    this.user = init.user;
    this.onTerminatedHook = init.onTerminated;
    const via = init.request.topVia;
    const branch = via.branch;
    if (branch === undefined) throw new TypeError('a client transaction needs a request whose top Via has a branch');
    this.branch = branch;
    this.sentBy = via.sentBy.toLowerCase();
    this.method = init.request.cseq.method;
    this.timers = new TimerSet(init.env.clock);
    this.machine = new StateMachine<S>(`${kind} ${this.branch}`, table, initial, (_from, to) => this.events.emit('state', to));
  }

  get state(): S {
    return this.machine.state;
  }

  /** The key the layer files it under: branch and method (RFC 3261 §17.1.3). */
  get key(): string {
    return clientKey(this.branch, this.method);
  }

  /** State changes, after they happen. */
  on<K extends keyof ClientTransactionEvents<S>>(event: K, listener: (...args: ClientTransactionEvents<S>[K]) => void): Unsubscribe {
    return this.events.on(event, listener);
  }

  /** Sends the request for the first time and starts the timers. Called once by the layer. */
  abstract start(): void;

  /**
   * A response the layer matched to this transaction (RFC 3261 §17.1.3). Returns false when the
   * transaction had no use for it (a 2xx after a 300-699, from another fork).
   */
  abstract receiveResponse(response: SipResponse): boolean;

  /** Ends the transaction at once, without telling the TU anything but onTerminated (the layer is closing). */
  abstract dispose(): void;

  protected send(message: SipRequest, onError: (error: Error) => void): void {
    transmit(this.env, message, this.target, onError);
  }

  protected tell(what: string, fn: () => void): void {
    callTu(this.env.log, what, fn);
  }

  /**
   * Stops every timer, makes the layer forget the transaction, tells the TU why (timeout,
   * transport error) and then that it terminated. The state must already be the terminated one.
   */
  protected finish(why?: () => void): void {
    this.timers.stopAll();
    this.onTerminatedHook();
    if (why) why();
    this.tell('onTerminated', () => this.user.onTerminated?.());
  }
}

/** The layer's key of a client transaction. */
export function clientKey(branch: string, method: string): string {
  return `${branch}\n${method}`;
}
