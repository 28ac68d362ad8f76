// What the INVITE and non-INVITE server transactions share (RFC 3261 §17.2): identity, response target, To tag, replies, events.
import { Emitter, type Unsubscribe } from '../../util/emitter.js';
import { type CreateResponseOptions, createResponse } from '../message/build.js';
import { H } from '../message/headers.js';
import type { SipRequest, SipResponse } from '../message/message.js';
import type { InboundMessage, SendTarget } from '../transport/transport.js';
import { type TransactionEnvironment, transmit } from './environment.js';
import { StateMachine, type TransitionTable } from './state-machine.js';
import { TimerSet } from './timers.js';

/** The options of ServerTransaction.reply(): those of createResponse() but the status. */
export type ReplyOptions = Omit<CreateResponseOptions, 'status'>;

/**
 * Events of a server transaction. The INVITE-only ones are marked; a non-INVITE server
 * transaction never emits them.
 */
// A type, not an interface: Emitter needs an implicit index signature.
export type ServerTransactionEvents<S> = {
  state: [S];
  /** A response could not be sent (RFC 3261 §17.2.4); in Proceeding and Completed this terminates the transaction. */
  'transport-error': [Error];
  /** The transaction reached Terminated and was destroyed. */
  terminated: [];
  /** INVITE: Timer H fired, no ACK came for the 300-699 response (RFC 3261 §17.2.1: a transaction failure). */
  timeout: [];
  /** INVITE: a CANCEL matched while no final response was sent (RFC 3261 §9.2). The TU answers the INVITE with 487. */
  cancel: [SipRequest];
  /** INVITE: the ACK for the 2xx arrived, so 2xx retransmissions stopped (RFC 3261 §13.3.1.4). */
  ack: [SipRequest];
  /** INVITE: no ACK for the 2xx in 64*T1 (RFC 3261 §13.3.1.4): the session should be ended with BYE. */
  'no-ack': [];
};

/** The fields RFC 2543 matching compares (RFC 3261 §17.2.3), for requests whose branch lacks the magic cookie. */
export interface LegacyMatchFields {
  readonly uri: SipRequest['uri'];
  readonly toTag: string | undefined;
  readonly fromTag: string | undefined;
  readonly callId: string;
  readonly cseqSeq: number;
  readonly cseqMethod: string;
  /** The top Via value, normalized (lower case). */
  readonly topVia: string;
}

export interface ServerTransactionInit {
  env: TransactionEnvironment;
  request: SipRequest;
  inbound: InboundMessage;
  /** Where responses go (RFC 3261 §18.2.2), computed by the layer. */
  responseTarget: SendTarget;
  reliable: boolean;
  /** The To tag for responses when the request had none (RFC 3261 §8.2.6.2). */
  toTag: string;
  /** The layer's key (branch, sent-by, method) when the branch has the magic cookie. */
  key: string | undefined;
  /** The RFC 2543 matching fields when it has not. */
  legacy: LegacyMatchFields | undefined;
  onTerminated: () => void;
}

/** Base of InviteServerTransaction and NonInviteServerTransaction. */
export abstract class ServerTransaction<S extends string> {
  readonly request: SipRequest;
  /** How the request arrived (source address, connection). */
  readonly inbound: InboundMessage;
  readonly responseTarget: SendTarget;
  readonly reliable: boolean;
  readonly key: string | undefined;
  readonly legacy: LegacyMatchFields | undefined;
  protected readonly env: TransactionEnvironment;
  protected readonly timers: TimerSet;
  protected readonly machine: StateMachine<S>;
  protected readonly events = new Emitter<ServerTransactionEvents<S>>();
  private readonly tag: string;
  private readonly onTerminatedHook: () => void;
  private last: SipResponse | undefined;
  private sentTag: string | undefined;

  protected constructor(init: ServerTransactionInit, kind: string, table: TransitionTable<S>, initial: S) {
    this.env = init.env;
    this.request = init.request;
    this.inbound = init.inbound;
    this.responseTarget = init.responseTarget;
    this.reliable = init.reliable;
    this.key = init.key;
    this.legacy = init.legacy;
    this.tag = init.toTag;
    this.onTerminatedHook = init.onTerminated;
    this.timers = new TimerSet(init.env.clock);
    const branch = init.request.topVia.branch ?? '(no branch)';
    this.machine = new StateMachine<S>(`${kind} ${init.request.method} ${branch}`, table, initial, (_from, to) => this.events.emit('state', to));
  }

  get state(): S {
    return this.machine.state;
  }

  get method(): string {
    return this.request.method;
  }

  /**
   * The To tag of this transaction's responses: the request's own when it has one (in-dialog),
   * otherwise one made for it, which reply() uses, so that every response of the transaction —
   * and the 200 to a CANCEL of it (RFC 3261 §9.2) — carries the same tag. Once a response with
   * another tag was sent through respond(), that one.
   */
  get toTag(): string {
    return this.sentTag ?? this.tag;
  }

  /** The last response sent (what a retransmitted request is answered with). */
  get lastResponse(): SipResponse | undefined {
    return this.last;
  }

  on<K extends keyof ServerTransactionEvents<S>>(event: K, listener: (...args: ServerTransactionEvents<S>[K]) => void): Unsubscribe {
    return this.events.on(event, listener);
  }

  /**
   * Sends a response through the transaction. Throws InvalidTransitionError when the state
   * diagram has no such edge (a provisional after the final response, anything once terminated).
   */
  abstract respond(response: SipResponse): void;

  /** Builds a response with createResponse() (this transaction's To tag) and sends it; returns it. */
  reply(status: number, options: ReplyOptions = {}): SipResponse {
    const response = createResponse(this.request, { ...options, status, toTag: options.toTag ?? this.toTag });
    this.respond(response);
    return response;
  }

  /** The request came again (RFC 3261 §17.2.1, §17.2.2). Called by the layer. */
  abstract receiveRetransmission(): void;

  /** Ends the transaction at once (the layer is closing). */
  abstract dispose(): void;

  protected remember(response: SipResponse): void {
    this.last = response;
    const tag = response.one(H.to)?.tag;
    if (tag !== undefined) this.sentTag = tag;
  }

  protected send(response: SipResponse, onError: (error: Error) => void): void {
    transmit(this.env, response, this.responseTarget, onError);
  }

  /**
   * Stops the timers, makes the layer forget it, tells the TU why (timeout, transport error),
   * emits 'terminated'. The state must already be the terminated one.
   */
  protected finish(why?: () => void): void {
    this.timers.stopAll();
    this.onTerminatedHook();
    why?.();
    this.events.emit('terminated');
  }
}
