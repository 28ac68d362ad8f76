// The transaction layer on a SipTransport (RFC 3261 §17): creates, matches and destroys transactions, and does the stateless UAS checks before them.
import type { Clock } from '../../util/clock.js';
import { Emitter, type Unsubscribe } from '../../util/emitter.js';
import { type Logger, silentLogger } from '../../util/log.js';
import { createResponse } from '../message/build.js';
import { SipParseError } from '../message/errors.js';
import { H, Via } from '../message/headers.js';
import type { SipMessage, SipRequest, SipResponse } from '../message/message.js';
import { Params } from '../message/params.js';
import { uriEquals } from '../message/uri.js';
import { type ValidateOptions, mergeKey, validateRequest } from '../message/validate.js';
import { ipFamily } from '../transport/ip-address.js';
import type { InboundMessage, SendResult, SendTarget, SipTransport } from '../transport/transport.js';
import { type CreateCancelOptions, createCancel } from './cancel.js';
import { type ClientTransactionUser, clientKey } from './client-transaction.js';
import type { TransactionEnvironment } from './environment.js';
import { DuplicateTransactionError, NoLocalAddressError, TransactionLayerClosedError, UnsupportedRequestError } from './errors.js';
import { type RandomSource, createBranch, createTag, cryptoRandom } from './identifiers.js';
import { InviteClientState, InviteClientTransaction } from './invite-client-transaction.js';
import { InviteServerTransaction } from './invite-server-transaction.js';
import { NonInviteClientTransaction } from './non-invite-client-transaction.js';
import { NonInviteServerTransaction } from './non-invite-server-transaction.js';
import type { CancelOutcome } from './outcome.js';
import type { LegacyMatchFields, ServerTransactionInit } from './server-transaction.js';
import { type TransactionTimerOptions, type TransactionTimerValues, transactionTimers } from './timers.js';
import { SuccessRetransmitter, ackKeyOfAck } from './uas-2xx-retransmitter.js';

export type AnyClientTransaction = InviteClientTransaction | NonInviteClientTransaction;
export type AnyServerTransaction = InviteServerTransaction | NonInviteServerTransaction;

export interface TransactionLayerOptions {
  transport: SipTransport;
  clock: Clock;
  /** Source of branches and tags (default: the OS CSPRNG; a seeded one in tests). */
  random?: RandomSource;
  /** T1, T2, T4 and Timer D (RFC 3261 §17, Table 4). */
  timers?: TransactionTimerOptions;
  /**
   * The stateless UAS checks of RFC 3261 §8.2 (validateRequest: 400, 505, 416, 501, 483, 420,
   * 415), applied to every new request before a server transaction reaches the TU; the layer
   * answers a failing request itself. Pass the UA's capabilities (supportedOptions for Require,
   * acceptedContentTypes...), or false to leave all of it to the TU. Default: validateRequest's defaults.
   */
  validation?: ValidateOptions | false;
  /** RFC 3261 §17.2.1: a 100 Trying goes out when the TU has not answered an INVITE in this time (ms, default 200; 0: at once). */
  tryingDelayMs?: number;
  /**
   * RFC 3261 §13.3.1.4 retransmits a 2xx to INVITE end to end whatever the first hop is; set
   * false to retransmit only over unreliable transports. The wait for the ACK (64*T1) runs either way. Default true.
   */
  retransmit2xxOnReliable?: boolean;
  /** Ask for rport in the Via of requests (RFC 3581; default true). */
  rport?: boolean;
  log?: Logger;
}

// A type, not an interface: Emitter needs an implicit index signature.
export type TransactionLayerEvents = {
  /**
   * A new request for the TU, with its server transaction. Never an ACK (see 'ack'), never a
   * CANCEL (the layer answers it and emits 'cancel' on the INVITE server transaction), never a
   * request the layer rejected (see 'rejected'), never a retransmission.
   */
  request: [AnyServerTransaction, InboundMessage];
  /**
   * An ACK no transaction absorbed: the ACK for a 2xx (a transaction of its own, RFC 3261
   * §17.1.1.3), for the dialog layer. 2xx retransmissions for it have already been stopped.
   */
  ack: [SipRequest, InboundMessage];
  /**
   * A response that matched no client transaction (RFC 3261 §17.1.3): typically a 2xx from
   * another fork after Timer M, or a 2xx retransmission after it. The TU may ACK and BYE it
   * (RFC 3261 §13.2.2.4); with no listener it is dropped (§18.1.2).
   */
  'stray-response': [SipResponse, InboundMessage];
  /** A request the layer answered itself (validation failure, 482 merged, 481 CANCEL): for logs and tests. */
  rejected: [SipRequest, SipResponse];
  /** No ACK came for a 2xx in 64*T1 (RFC 3261 §13.3.1.4): the UA should send BYE. Also emitted on the transaction. */
  'no-ack': [InviteServerTransaction];
};

/** The request went out over TCP instead of UDP (RFC 3261 §18.1.1) and this response came back over it. */
function movedToTcp(tx: AnyClientTransaction, viaTransport: string, inbound: InboundMessage): boolean {
  return tx.target.protocol === 'udp' && viaTransport.toUpperCase() === 'TCP' && inbound.source.protocol === 'tcp';
}

/** The layer's key of a server transaction for a branch with the magic cookie (RFC 3261 §17.2.3). */
function serverKey(branch: string, sentBy: string, method: string): string {
  return `${branch}\n${sentBy.toLowerCase()}\n${method}`;
}

/** IPv6 addresses go in brackets in a Via sent-by. */
function formatHost(address: string): string {
  return address.includes(':') && !address.startsWith('[') ? `[${address}]` : address;
}

type Identity =
  | { kind: 'cookie'; key: string; branch: string; sentBy: string }
  | { kind: 'legacy'; fields: LegacyMatchFields };

/**
 * The transaction layer (RFC 3261 §17) for a UA: one per transport.
 *
 * Outgoing: sendRequest() makes an INVITE or non-INVITE client transaction; sendAck() sends
 * the ACK for a 2xx, which is no transaction (§17.1.1.3); cancel() sends a CANCEL once the
 * INVITE has had a provisional response (§9.1).
 *
 * Incoming, in this order: responses go to the client transaction their branch and CSeq
 * method name (§17.1.3), or to 'stray-response'. A request that matches a server transaction
 * (§17.2.3: branch, sent-by and method for a branch with the magic cookie; Request-URI, tags,
 * Call-ID, CSeq and top Via for RFC 2543 requests) is a retransmission, answered by it. An ACK
 * goes to the INVITE transaction it matches (absorbed after a 300-699) or to 'ack'. A new
 * request is validated (§8.2, see options.validation), checked for merging (§8.2.2.2: 482),
 * and gets a server transaction; a CANCEL is answered here (§9.2: 200, or 481 when it matches
 * nothing) and reported to the INVITE transaction; anything else goes to 'request'.
 */
export class TransactionLayer {
  readonly clock: Clock;
  readonly random: RandomSource;
  readonly timers: TransactionTimerValues;
  private readonly transport: SipTransport;
  private readonly log: Logger;
  private readonly env: TransactionEnvironment;
  private readonly validation: ValidateOptions | false;
  private readonly tryingDelayMs: number;
  private readonly retransmit2xxOnReliable: boolean;
  private readonly rport: boolean;
  private readonly events = new Emitter<TransactionLayerEvents>();
  private readonly clients = new Map<string, AnyClientTransaction>();
  private readonly servers = new Map<string, AnyServerTransaction>();
  private readonly legacyServers = new Set<AnyServerTransaction>();
  private readonly merging = new Map<string, AnyServerTransaction>();
  private readonly retransmitters = new Map<string, { retransmitter: SuccessRetransmitter; ist: InviteServerTransaction }>();
  private readonly cancels = new WeakMap<InviteClientTransaction, Promise<CancelOutcome>>();
  private readonly unsubscribe: Unsubscribe;
  private closed = false;

  constructor(options: TransactionLayerOptions) {
    this.transport = options.transport;
    this.clock = options.clock;
    this.random = options.random ?? cryptoRandom;
    this.timers = transactionTimers(options.timers);
    this.log = (options.log ?? silentLogger()).child({ mod: 'sip/transaction' });
    this.validation = options.validation ?? {};
    this.tryingDelayMs = options.tryingDelayMs ?? 200;
    this.retransmit2xxOnReliable = options.retransmit2xxOnReliable ?? true;
    this.rport = options.rport ?? true;
    const transport = this.transport;
    this.env = {
      clock: this.clock,
      timers: this.timers,
      log: this.log,
      send: (message: SipMessage, target: SendTarget) => transport.send(message, target),
    };
    this.unsubscribe = transport.on('message', (inbound) => this.receive(inbound));
  }

  on<K extends keyof TransactionLayerEvents>(event: K, listener: (...args: TransactionLayerEvents[K]) => void): Unsubscribe {
    return this.events.on(event, listener);
  }

  /** Numbers of live transactions (for tests and leak checks). */
  get size(): { clients: number; servers: number; retransmitting2xx: number } {
    return { clients: this.clients.size, servers: this.servers.size + this.legacyServers.size, retransmitting2xx: this.retransmitters.size };
  }

  /** A new branch (RFC 3261 §8.1.1.7) from this layer's random source. */
  createBranch(): string {
    return createBranch(this.random);
  }

  /** A new From / To tag from this layer's random source. */
  createTag(): string {
    return createTag(this.random);
  }

  /**
   * Sends a request in a new client transaction (INVITE: §17.1.1, others: §17.1.2) to target.
   *
   * The request is changed in place: its Via becomes one Via of this transport with a new
   * branch (§8.1.1.7, §18.1.1) — a UA's request carries exactly one Via, and a request sent
   * again (after a 401, say) needs a new branch. A CANCEL keeps its Via, which must be the
   * cancelled request's (§9.1). Throws UnsupportedRequestError for ACK (use sendAck),
   * NoLocalAddressError when the transport does not listen on target.protocol,
   * TransactionLayerClosedError after close(). Failures after that reach user.
   */
  sendRequest(request: SipRequest, target: SendTarget, user: ClientTransactionUser = {}): AnyClientTransaction {
    if (this.closed) throw new TransactionLayerClosedError();
    if (request.method === 'ACK') throw new UnsupportedRequestError('ACK', 'an ACK is not sent in a client transaction: use sendAck() for a 2xx (RFC 3261 §17.1.1.3)');
    if (request.method !== 'CANCEL') this.setOwnVia(request, target, this.createBranch());
    const branch = request.count('Via') > 0 ? request.topVia.branch : undefined;
    if (branch === undefined) throw new TypeError('a CANCEL needs the Via of the request it cancels (use createCancel)');
    const key = clientKey(branch, request.cseq.method);
    if (this.clients.has(key)) throw new DuplicateTransactionError(branch, request.cseq.method);
    const reliable = this.transport.isReliable(target.protocol);
    const onTerminated = (): void => {
      if (this.clients.get(key) === tx) this.clients.delete(key);
    };
    const init = { env: this.env, request, target, reliable, user, onTerminated };
    const tx: AnyClientTransaction = request.method === 'INVITE' ? new InviteClientTransaction(init) : new NonInviteClientTransaction(init);
    this.clients.set(key, tx);
    tx.start();
    return tx;
  }

  /** sendRequest() for an INVITE, typed as the INVITE client transaction it makes. */
  sendInvite(request: SipRequest, target: SendTarget, user: ClientTransactionUser = {}): InviteClientTransaction {
    if (request.method !== 'INVITE') throw new UnsupportedRequestError(request.method, 'sendInvite() sends INVITE requests only');
    const tx = this.sendRequest(request, target, user);
    if (!(tx instanceof InviteClientTransaction)) throw new Error('unreachable: an INVITE made a non-INVITE transaction');
    return tx;
  }

  /**
   * Sends the ACK for a 2xx (RFC 3261 §13.2.2.4): no transaction, one transmission. An ACK
   * without a Via gets one with a new branch; an ACK that has one (a retransmission, sent again
   * for a retransmitted 2xx) is sent as it is.
   */
  sendAck(ack: SipRequest, target: SendTarget): Promise<SendResult> {
    if (this.closed) return Promise.resolve({ ok: false, error: new TransactionLayerClosedError() });
    if (ack.method !== 'ACK') throw new UnsupportedRequestError(ack.method, 'sendAck() sends ACK requests only');
    if (ack.count('Via') === 0) {
      try {
        this.setOwnVia(ack, target, this.createBranch());
      } catch (e) {
        return Promise.resolve({ ok: false, error: e instanceof Error ? e : new Error(String(e)) });
      }
    }
    return this.transport.send(ack, target);
  }

  /**
   * Cancels an INVITE (RFC 3261 §9.1): the CANCEL goes in its own non-INVITE transaction to the
   * INVITE's target, and only once a provisional response has come — while the INVITE is still
   * Calling, it waits. Resolves with the CANCEL's outcome, or 'not-sent' when the INVITE got a
   * final response (or ended) first. Calling it again returns the same promise.
   */
  cancel(invite: InviteClientTransaction, options: CreateCancelOptions = {}): Promise<CancelOutcome> {
    const pending = this.cancels.get(invite);
    if (pending) return pending;
    const promise = new Promise<CancelOutcome>((resolve) => {
      const trySend = (): boolean => {
        const state = invite.state;
        if (state === InviteClientState.Calling) return false;
        if (state !== InviteClientState.Proceeding) {
          resolve({ kind: 'not-sent', reason: state === InviteClientState.Terminated ? 'terminated' : 'final-response' });
          return true;
        }
        try {
          this.sendRequest(createCancel(invite.request, options), invite.target, {
            onFinal: (response) => resolve({ kind: 'response', response }),
            onTimeout: () => resolve({ kind: 'timeout' }),
            onTransportError: (error) => resolve({ kind: 'transport-error', error }),
          });
        } catch (e) {
          resolve({ kind: 'transport-error', error: e instanceof Error ? e : new Error(String(e)) });
        }
        return true;
      };
      if (trySend()) return;
      const off = invite.on('state', () => {
        if (trySend()) off();
      });
    });
    this.cancels.set(invite, promise);
    return promise;
  }

  /** Stops listening, ends every transaction and 2xx retransmission. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe();
    for (const { retransmitter } of this.retransmitters.values()) retransmitter.stop();
    this.retransmitters.clear();
    for (const tx of [...this.clients.values()]) tx.dispose();
    for (const tx of [...this.servers.values(), ...this.legacyServers]) tx.dispose();
    this.clients.clear();
    this.servers.clear();
    this.legacyServers.clear();
    this.merging.clear();
  }

  // --- outgoing helpers ----------------------------------------------------------------------

  /** Replaces the Via header fields by this transport's one (RFC 3261 §18.1.1 sent-by, §8.1.1.7 branch). */
  private setOwnVia(request: SipRequest, target: SendTarget, branch: string): void {
    // The sent-by is where the response must come back (§18.1.1): on a UA listening on IPv4 and
    // IPv6, the address of the target's family, which is the socket the request leaves from.
    const family = ipFamily(target.address);
    const local = (family !== 0 ? this.transport.localAddress(target.protocol, family) : undefined) ?? this.transport.localAddress(target.protocol);
    if (!local) throw new NoLocalAddressError(target.protocol);
    let params = Params.EMPTY.with('branch', branch);
    if (this.rport) params = params.with('rport', null);
    request.remove('Via');
    request.prepend('Via', new Via({ transport: target.protocol.toUpperCase(), host: formatHost(local.address), port: local.port, params }));
  }

  // --- incoming ------------------------------------------------------------------------------

  private receive(inbound: InboundMessage): void {
    if (this.closed) return;
    try {
      const m = inbound.message;
      if (m.kind === 'response') this.receiveResponse(m, inbound);
      else this.receiveRequest(m, inbound);
    } catch (e) {
      // A malformed header met on a path the checks did not foresee: drop the message. Anything
      // else is a bug (here or in a TU listener); it is logged, and the transport keeps running.
      if (e instanceof SipParseError) this.log.debug({ err: e.message }, 'malformed message dropped');
      else this.log.error({ err: e instanceof Error ? (e.stack ?? e.message) : String(e) }, 'error while handling an inbound message');
    }
  }

  private receiveResponse(response: SipResponse, inbound: InboundMessage): void {
    const via = response.topVia;
    const branch = via.branch;
    const tx = branch === undefined ? undefined : this.clients.get(clientKey(branch, response.cseq.method));
    if (!tx) {
      this.events.emit('stray-response', response, inbound);
      return;
    }
    // RFC 3261 §18.1.2: a response whose sent-by is not the one we wrote is not ours — unless the
    // transport moved the request from UDP to TCP (§18.1.1: too large for UDP) and rewrote our Via
    // to its TCP listener; it then checked that sent-by as its own before handing the response up.
    if (via.sentBy.toLowerCase() !== tx.sentBy && !movedToTcp(tx, via.transport, inbound)) {
      this.log.debug({ branch, sentBy: via.sentBy }, 'response with a foreign sent-by dropped');
      return;
    }
    // A 2xx the INVITE transaction has no use for (it came after a 300-699 from another fork)
    // still needs an ACK and a BYE from the TU (RFC 3261 §13.2.2.4).
    if (!tx.receiveResponse(response) && response.status >= 200 && response.status < 300) this.events.emit('stray-response', response, inbound);
  }

  private receiveRequest(request: SipRequest, inbound: InboundMessage): void {
    const identity = this.identify(request);
    if (request.method === 'ACK') {
      this.receiveAck(request, inbound, identity);
      return;
    }
    if (identity) {
      const existing = this.matchServer(request, identity);
      if (existing) {
        existing.receiveRetransmission();
        return;
      }
    }
    // RFC 3261 §8.2: the stateless checks, before the request reaches a TU.
    if (this.validation !== false) {
      const verdict = validateRequest(request, this.validation);
      if (!verdict.ok) {
        this.reject(request, inbound, identity, verdict.status, verdict.reason, verdict.headers);
        return;
      }
    }
    if (!identity) {
      this.log.debug('request without a usable Via or CSeq dropped');
      return;
    }
    // RFC 3261 §8.2.2.2: same From tag, Call-ID and CSeq as a running transaction, another branch.
    const merge = mergeKey(request);
    if (merge !== undefined && this.merging.has(merge)) {
      this.reject(request, inbound, identity, 482, 'Loop Detected', []);
      return;
    }
    const tx = this.createServer(request, inbound, identity, merge);
    if (request.method === 'CANCEL' && tx instanceof NonInviteServerTransaction) {
      this.receiveCancel(tx, request);
      return;
    }
    if (tx instanceof InviteServerTransaction) tx.start();
    this.events.emit('request', tx, inbound);
  }

  private receiveAck(ack: SipRequest, inbound: InboundMessage, identity: Identity | undefined): void {
    if (this.validation !== false) {
      // An ACK is never answered (RFC 3261 §17.2.1); one too broken to use is dropped, one with
      // an unexpected body or extension still ends the INVITE transaction.
      const verdict = validateRequest(ack, this.validation);
      if (!verdict.ok && (verdict.status === 400 || verdict.status === 505)) {
        this.log.debug({ reason: verdict.reason }, 'unusable ACK dropped');
        return;
      }
    }
    if (!identity) return;
    const ist = this.matchInviteForAck(ack, identity);
    if (ist?.receiveAck(ack)) return;
    // The ACK for a 2xx: the UAS core stops retransmitting (RFC 3261 §13.3.1.4), the TU gets it.
    const entry = this.retransmitters.get(ackKeyOfAck(ack));
    if (entry) {
      entry.retransmitter.stop();
      this.retransmitters.delete(entry.retransmitter.key);
      entry.ist.reportAck(ack);
    }
    this.events.emit('ack', ack, inbound);
  }

  /**
   * RFC 3261 §9.2: a CANCEL that matches a server transaction is answered 200 (with the To tag
   * of that transaction's responses) and, for an INVITE without a final response yet, reported
   * on it; the TU then answers the INVITE 487 — or the layer does, when nobody listens for
   * 'cancel'. A CANCEL that matches nothing is answered 481.
   */
  private receiveCancel(cancelTx: NonInviteServerTransaction, cancel: SipRequest): void {
    const target = this.matchCancelled(cancel);
    if (!target) {
      const response = cancelTx.reply(481);
      this.events.emit('rejected', cancel, response);
      return;
    }
    cancelTx.reply(200, { toTag: target.toTag });
    if (target instanceof InviteServerTransaction) {
      const listened = target.hasCancelListener;
      if (target.receiveCancel(cancel) && !listened) target.reply(487);
    }
  }

  /** Answers a request the layer refuses, through a server transaction when one can be made (so that retransmissions get the same answer). */
  private reject(request: SipRequest, inbound: InboundMessage, identity: Identity | undefined, status: number, reason: string, headers: readonly (readonly [string, string])[]): void {
    if (request.count('Via') === 0) return; // RFC 3261 §18.2.2: nowhere to send a response
    const response = createResponse(request, { status, reason, headers, toTag: this.createTag() });
    if (identity) {
      const tx = this.createServer(request, inbound, identity, undefined);
      tx.respond(response);
    } else {
      void this.transport.send(response, responseTarget(request, inbound)).then((r) => {
        if (!r.ok) this.log.debug({ err: r.error.message }, 'stateless response not sent');
      });
    }
    this.events.emit('rejected', request, response);
  }

  // --- server transactions -------------------------------------------------------------------

  /** What a server transaction is matched by (RFC 3261 §17.2.3), or undefined when Via / CSeq are unusable. */
  private identify(request: SipRequest): Identity | undefined {
    try {
      const via = request.topVia;
      const cseq = request.cseq;
      const branch = via.branch;
      if (branch !== undefined && via.hasMagicCookie) {
        // The ACK of a non-2xx and a CANCEL share the INVITE's branch; ACK belongs to the INVITE transaction.
        const method = request.method === 'ACK' ? 'INVITE' : request.method;
        return { kind: 'cookie', key: serverKey(branch, via.sentBy, method), branch, sentBy: via.sentBy.toLowerCase() };
      }
      return {
        kind: 'legacy',
        fields: {
          uri: request.uri,
          toTag: request.to.tag,
          fromTag: request.from.tag,
          callId: request.callId,
          cseqSeq: cseq.seq,
          cseqMethod: cseq.method,
          topVia: via.toString().toLowerCase(),
        },
      };
    } catch (e) {
      if (e instanceof SipParseError) return undefined;
      throw e;
    }
  }

  private matchServer(request: SipRequest, identity: Identity): AnyServerTransaction | undefined {
    if (identity.kind === 'cookie') return this.servers.get(identity.key);
    // RFC 3261 §17.2.3, RFC 2543 requests: Request-URI, To tag, From tag, Call-ID, CSeq and top Via.
    const f = identity.fields;
    for (const tx of this.legacyServers) {
      const l = tx.legacy;
      if (!l || tx.method !== request.method) continue;
      if (sameLegacy(l, f) && l.toTag === f.toTag && l.cseqMethod === f.cseqMethod) return tx;
    }
    return undefined;
  }

  private matchInviteForAck(ack: SipRequest, identity: Identity): InviteServerTransaction | undefined {
    if (identity.kind === 'cookie') {
      const tx = this.servers.get(identity.key);
      return tx instanceof InviteServerTransaction ? tx : undefined;
    }
    // RFC 3261 §17.2.3: as the INVITE but the CSeq method, and the To tag is that of the response sent.
    const f = identity.fields;
    for (const tx of this.legacyServers) {
      if (!(tx instanceof InviteServerTransaction) || !tx.legacy) continue;
      if (sameLegacy(tx.legacy, f) && f.toTag === tx.toTag) return tx;
    }
    return undefined;
  }

  /** The transaction a CANCEL cancels (RFC 3261 §9.2): matched as in §17.2.3 but for the method, never a CANCEL. */
  private matchCancelled(cancel: SipRequest): AnyServerTransaction | undefined {
    const identity = this.identify(cancel);
    if (!identity) return undefined;
    if (identity.kind === 'cookie') {
      const invite = this.servers.get(serverKey(identity.branch, identity.sentBy, 'INVITE'));
      if (invite) return invite;
      const prefix = `${identity.branch}\n${identity.sentBy}\n`;
      for (const [key, tx] of this.servers) if (key.startsWith(prefix) && tx.method !== 'CANCEL') return tx;
      return undefined;
    }
    const f = identity.fields;
    for (const tx of this.legacyServers) {
      if (tx.method === 'CANCEL' || !tx.legacy) continue;
      if (sameLegacy(tx.legacy, f) && tx.legacy.toTag === f.toTag) return tx;
    }
    return undefined;
  }

  private createServer(request: SipRequest, inbound: InboundMessage, identity: Identity, merge: string | undefined): AnyServerTransaction {
    const key = identity.kind === 'cookie' ? identity.key : undefined;
    const legacy = identity.kind === 'legacy' ? identity.fields : undefined;
    const onTerminated = (): void => {
      if (key !== undefined) {
        if (this.servers.get(key) === tx) this.servers.delete(key);
      } else this.legacyServers.delete(tx);
      if (merge !== undefined && this.merging.get(merge) === tx) this.merging.delete(merge);
    };
    const init: ServerTransactionInit = {
      env: this.env,
      request,
      inbound,
      responseTarget: responseTarget(request, inbound),
      reliable: this.transport.isReliable(inbound.local.protocol),
      // A request refused for a malformed To still gets an answer: one() reads a malformed To as absent.
      toTag: request.one(H.to)?.tag ?? this.createTag(),
      key,
      legacy,
      onTerminated,
    };
    let tx: AnyServerTransaction;
    if (request.method === 'INVITE') {
      const ist: InviteServerTransaction = new InviteServerTransaction({ ...init, tryingDelayMs: this.tryingDelayMs, onAccepted: (response) => this.startRetransmitting(ist, response) });
      tx = ist;
    } else tx = new NonInviteServerTransaction(init);
    if (key !== undefined) this.servers.set(key, tx);
    else this.legacyServers.add(tx);
    if (merge !== undefined) this.merging.set(merge, tx);
    return tx;
  }

  /** RFC 3261 §13.3.1.4: the UAS core retransmits the 2xx until the ACK, for 64*T1 at most. */
  private startRetransmitting(ist: InviteServerTransaction, response: SipResponse): void {
    const retransmitter = new SuccessRetransmitter({
      clock: this.clock,
      timers: this.timers,
      response,
      retransmit: !ist.reliable || this.retransmit2xxOnReliable,
      send: (r) => ist.retransmit2xx(r),
      onGiveUp: () => {
        if (this.retransmitters.get(retransmitter.key)?.retransmitter === retransmitter) this.retransmitters.delete(retransmitter.key);
        ist.reportNoAck();
        this.events.emit('no-ack', ist);
      },
    });
    this.retransmitters.get(retransmitter.key)?.retransmitter.stop();
    this.retransmitters.set(retransmitter.key, { retransmitter, ist });
  }
}

function sameLegacy(a: LegacyMatchFields, b: LegacyMatchFields): boolean {
  return a.callId === b.callId && a.cseqSeq === b.cseqSeq && a.fromTag === b.fromTag && a.topVia === b.topVia && uriEquals(a.uri, b.uri);
}

/**
 * Where the responses to a request go (RFC 3261 §18.2.2, RFC 3581): on a stream, back on the
 * connection it came in on; on UDP, to maddr when the Via has one, else to the source address
 * (the "received" address), at the source port when rport was asked for, else at the sent-by
 * port (5060 by default).
 */
export function responseTarget(request: SipRequest, inbound: InboundMessage): SendTarget {
  const protocol = inbound.local.protocol;
  const source = inbound.source;
  if (protocol !== 'udp') return { protocol, address: source.address, port: source.port, connectionId: inbound.connectionId };
  let via: Via;
  try {
    via = request.topVia;
  } catch (e) {
    if (e instanceof SipParseError) return { protocol, address: source.address, port: source.port };
    throw e;
  }
  const maddr = via.maddr;
  if (maddr !== undefined) return { protocol, address: maddr, port: via.port ?? 5060 };
  const port = via.rport !== undefined ? source.port : (via.port ?? 5060);
  return { protocol, address: source.address, port };
}
