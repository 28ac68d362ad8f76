// A SIP dialog (RFC 3261 §12): its identity and state, route set, remote target and CSeq numbers; requests built within it and checks on requests received in it.
import { Emitter, type Unsubscribe } from '../../util/emitter.js';
import { type ExtraHeaders, createRequest, createResponse } from '../message/build.js';
import { NameAddr } from '../message/headers.js';
import type { SipRequest, SipResponse } from '../message/message.js';
import { Params } from '../message/params.js';
import type { Uri } from '../message/uri.js';
import { type RandomSource, cryptoRandom, initialCSeq } from '../transaction/identifiers.js';
import { StateMachine, type TransitionTable } from '../transaction/state-machine.js';

/**
 * States of a dialog (RFC 3261 §12, §13.2.2.4, §12.3).
 *
 * ```text
 *        1xx with a To tag (UAC) /            2xx (UAC) / 2xx sent (UAS)
 *        1xx sent (UAS)
 *   ─────────────────────────► ┌───────┐ ─────────────────────────────► ┌───────────┐
 *                  1xx, early  │ Early │                                │ Confirmed │ target refresh,
 *                  refresh ┌──►│       │   2xx with a To tag (UAC) /    │           │◄─┐ in-dialog
 *                          └───┤       │   2xx sent (UAS) at once ────► │           ├──┘ requests
 *                              └───┬───┘                                └─────┬─────┘
 *                                  │ non-2xx final to the INVITE,            │ BYE, 481 or 408 to a
 *                                  │ terminate()                             │ request in it, terminate()
 *                                  ▼                                         ▼
 *                              ┌────────────────────────────────────────────────┐
 *                              │                   Terminated                   │
 *                              └────────────────────────────────────────────────┘
 * ```
 */
export enum DialogState {
  Early = 'early',
  Confirmed = 'confirmed',
  Terminated = 'terminated',
}

const S = DialogState;

const EDGES: TransitionTable<DialogState> = {
  [S.Early]: [S.Early, S.Confirmed, S.Terminated],
  [S.Confirmed]: [S.Confirmed, S.Terminated],
  [S.Terminated]: [],
};

/** RFC 3261 §12: a dialog is identified by Call-ID, local tag and remote tag. */
export interface DialogId {
  readonly callId: string;
  readonly localTag: string;
  /** Empty for an RFC 2543 peer that sent no From tag (RFC 3261 §12.1.1: a null tag). */
  readonly remoteTag: string;
}

export function dialogKey(id: DialogId): string {
  return `${id.callId}\n${id.localTag}\n${id.remoteTag}`;
}

/**
 * Requests that refresh the remote target: re-INVITE (RFC 3261 §12.2), UPDATE (RFC 3311 §5),
 * SUBSCRIBE and NOTIFY (RFC 6665 §4.1.2.1, §4.2.2). They carry a Contact.
 */
export const TARGET_REFRESH_METHODS: readonly string[] = ['INVITE', 'UPDATE', 'SUBSCRIBE', 'NOTIFY'];

/** A dialog could not be made from the messages given. */
export class DialogCreationError extends Error {
  override readonly name = 'DialogCreationError';
}

/** An operation on a dialog in a state that does not allow it (building a request in a terminated dialog). */
export class DialogStateError extends Error {
  override readonly name = 'DialogStateError';
  constructor(
    readonly id: DialogId,
    readonly state: DialogState,
    what: string,
  ) {
    super(`dialog ${id.callId} (${id.localTag}/${id.remoteTag}) is ${state}: cannot ${what}`);
  }
}

export interface DialogOptions {
  /** Source of the initial local CSeq when the UAS sends its first request (RFC 3261 §12.2.1.1). */
  random?: RandomSource;
  /**
   * Our Contact, sent in target refresh requests (RFC 3261 §12.2.1.1). Default: the Contact of
   * the request (UAC) or undefined (UAS: pass the Contact of the response).
   */
  localContact?: NameAddr | undefined;
  /** The request went (UAC) or came (UAS) over TLS: with a SIPS Request-URI the dialog is secure (RFC 3261 §12.1.1, §12.1.2). */
  tls?: boolean;
}

export interface UasDialogOptions extends DialogOptions {
  /** The To tag of our responses (ServerTransaction.toTag). */
  localTag: string;
  /** Early for a 1xx sent, Confirmed for a 2xx sent (default Early). */
  state?: DialogState.Early | DialogState.Confirmed;
}

export interface InDialogRequestOptions {
  /** Header fields after the standard ones (Authorization, Event, Session-Expires...). */
  headers?: ExtraHeaders;
  body?: Uint8Array | string;
  contentType?: string;
  /** The Contact to send; null for none. Default: the local contact for target refresh requests, none otherwise. */
  contact?: NameAddr | null;
  maxForwards?: number;
}

/** The verdict on a request received within a dialog (RFC 3261 §12.2.2). */
export type InDialogVerdict = { ok: true } | { ok: false; status: 481 | 500; reason: string };

export type DialogEvents = {
  state: [DialogState];
};

/** The state a dialog is created with, from the messages of RFC 3261 §12.1. */
interface DialogInit {
  role: 'uac' | 'uas';
  state: DialogState.Early | DialogState.Confirmed;
  id: DialogId;
  local: NameAddr;
  remote: NameAddr;
  remoteTarget: Uri;
  routeSet: readonly NameAddr[];
  localSeq: number | undefined;
  remoteSeq: number | undefined;
  secure: boolean;
  localContact: NameAddr | undefined;
  /** CSeq number of the INVITE (or other request) that created the dialog. */
  creatingSeq: number;
  random: RandomSource;
}

/**
 * One dialog. Made with Dialog.uac() from the request and the 1xx/2xx that carries a To tag
 * (RFC 3261 §12.1.2), or Dialog.uas() from the request and our tag (§12.1.1). A UA files its
 * dialogs in a DialogRegistry, which routes in-dialog requests and answers 481.
 */
export class Dialog {
  readonly role: 'uac' | 'uas';
  readonly id: DialogId;
  /** Our URI with our tag: the From of requests we send in the dialog. */
  readonly local: NameAddr;
  /** The peer's URI with its tag: the To of requests we send. */
  readonly remote: NameAddr;
  readonly secure: boolean;
  /** CSeq number of the request that created the dialog. */
  readonly creatingSeq: number;
  /** Our Contact for target refresh requests. */
  localContact: NameAddr | undefined;
  private target: Uri;
  private routes: readonly NameAddr[];
  private localCSeq: number | undefined;
  private remoteCSeq: number | undefined;
  private readonly random: RandomSource;
  private readonly machine: StateMachine<DialogState>;
  private readonly events = new Emitter<DialogEvents>();

  private constructor(init: DialogInit) {
    this.role = init.role;
    this.id = init.id;
    this.local = init.local;
    this.remote = init.remote;
    this.target = init.remoteTarget;
    this.routes = init.routeSet;
    this.localCSeq = init.localSeq;
    this.remoteCSeq = init.remoteSeq;
    this.secure = init.secure;
    this.localContact = init.localContact;
    this.creatingSeq = init.creatingSeq;
    this.random = init.random;
    this.machine = new StateMachine<DialogState>(`dialog ${init.id.callId}`, EDGES, init.state, (_from, to) => this.events.emit('state', to));
  }

  /**
   * The UAC side (RFC 3261 §12.1.2), from the request sent and a 1xx (early) or 2xx (confirmed)
   * response with a To tag: route set = Record-Route of the response reversed; remote target =
   * its Contact; local CSeq = the request's; remote CSeq empty.
   */
  static uac(request: SipRequest, response: SipResponse, options: DialogOptions = {}): Dialog {
    const remoteTag = response.to.tag;
    if (remoteTag === undefined) throw new DialogCreationError('a dialog needs a response with a To tag (RFC 3261 §12.1.2)');
    if (response.status < 101 || response.status > 299) throw new DialogCreationError(`a ${response.status} response does not create a dialog`);
    const localTag = request.from.tag;
    if (localTag === undefined) throw new DialogCreationError('the request has no From tag (RFC 3261 §8.1.1.3)');
    return new Dialog({
      role: 'uac',
      state: response.status < 200 ? DialogState.Early : DialogState.Confirmed,
      id: { callId: request.callId, localTag, remoteTag },
      local: request.from,
      remote: request.to.withTag(remoteTag),
      // A dialog-creating response without a Contact breaks RFC 3261 §12.1.1; the Request-URI is the best guess.
      remoteTarget: response.contact[0]?.uri ?? request.uri,
      routeSet: [...response.recordRoute].reverse(),
      localSeq: request.cseq.seq,
      remoteSeq: undefined,
      secure: options.tls === true && request.uri.scheme === 'sips',
      localContact: options.localContact ?? request.contact[0],
      creatingSeq: request.cseq.seq,
      random: options.random ?? cryptoRandom,
    });
  }

  /**
   * The UAS side (RFC 3261 §12.1.1), from the request received and the tag of our response:
   * route set = Record-Route of the request in order; remote target = its Contact; remote CSeq
   * = the request's; local CSeq empty (chosen at the first request we send).
   */
  static uas(request: SipRequest, options: UasDialogOptions): Dialog {
    return new Dialog({
      role: 'uas',
      state: options.state ?? DialogState.Early,
      id: { callId: request.callId, localTag: options.localTag, remoteTag: request.from.tag ?? '' },
      local: request.to.withTag(options.localTag),
      remote: request.from,
      // An INVITE without a Contact breaks RFC 3261 §8.1.1.8; the From URI is the best guess.
      remoteTarget: request.contact[0]?.uri ?? request.from.uri,
      routeSet: [...request.recordRoute],
      localSeq: undefined,
      remoteSeq: request.cseq.seq,
      secure: options.tls === true && request.uri.scheme === 'sips',
      localContact: options.localContact,
      creatingSeq: request.cseq.seq,
      random: options.random ?? cryptoRandom,
    });
  }

  get state(): DialogState {
    return this.machine.state;
  }

  /** Where requests in the dialog are addressed (RFC 3261 §12.2.1.1). */
  get remoteTarget(): Uri {
    return this.target;
  }

  /** The route set: the Route header fields of requests in the dialog, first hop first. */
  get routeSet(): readonly NameAddr[] {
    return this.routes;
  }

  get localSeq(): number | undefined {
    return this.localCSeq;
  }

  get remoteSeq(): number | undefined {
    return this.remoteCSeq;
  }

  /**
   * The URI of the next hop of a request in the dialog: the first route when there is a route
   * set, the remote target otherwise (what RFC 3263 resolution starts from, §8.1.2).
   */
  get nextHopUri(): Uri {
    return this.routes[0]?.uri ?? this.target;
  }

  on<K extends keyof DialogEvents>(event: K, listener: (...args: DialogEvents[K]) => void): Unsubscribe {
    return this.events.on(event, listener);
  }

  /**
   * A request within the dialog (RFC 3261 §12.2.1.1): To, From, Call-ID from the dialog, CSeq =
   * local CSeq + 1 (chosen at random below 2**31 when empty). With an empty route set the
   * Request-URI is the remote target. With a loose first route (";lr") the Request-URI is the
   * remote target and the route set goes in Route. With a strict first route, its URI becomes
   * the Request-URI and the Route header fields are the rest of the route set followed by the
   * remote target. ACK and CANCEL are built with createAck() and createCancel().
   */
  createRequest(method: string, options: InDialogRequestOptions = {}): SipRequest {
    if (method === 'ACK' || method === 'CANCEL') throw new TypeError(`${method} is not built with createRequest(): use createAck() or createCancel()`);
    this.mustBeLive(`send ${method}`);
    this.localCSeq = this.localCSeq === undefined ? initialCSeq(this.random) : this.localCSeq + 1;
    const contact = options.contact === undefined ? (TARGET_REFRESH_METHODS.includes(method) ? this.localContact : undefined) : (options.contact ?? undefined);
    return this.build(method, this.localCSeq, contact, options);
  }

  /**
   * The ACK for a 2xx to the INVITE with CSeq number inviteSeq (RFC 3261 §13.2.2.4): built like
   * any request in the dialog, but with the INVITE's CSeq number and method ACK; the local CSeq
   * does not move. Credentials of the INVITE go in options.headers.
   */
  createAck(inviteSeq: number, options: Omit<InDialogRequestOptions, 'contact'> = {}): SipRequest {
    this.mustBeLive('send ACK');
    return this.build('ACK', inviteSeq, undefined, options);
  }

  /**
   * Checks a request received within the dialog (RFC 3261 §12.2.2) and applies it: a CSeq lower
   * than the remote CSeq is out of order (500); otherwise the remote CSeq takes its value, and a
   * target refresh request's Contact becomes the remote target. ACK and CANCEL carry the CSeq
   * of the INVITE they belong to and are exempt.
   */
  receiveRequest(request: SipRequest): InDialogVerdict {
    if (this.state === DialogState.Terminated) return { ok: false, status: 481, reason: 'Call/Transaction Does Not Exist' };
    const method = request.method;
    if (method !== 'ACK' && method !== 'CANCEL') {
      const seq = request.cseq.seq;
      if (this.remoteCSeq !== undefined && seq < this.remoteCSeq) return { ok: false, status: 500, reason: 'Server Internal Error - CSeq out of order' };
      this.remoteCSeq = seq;
    }
    if (TARGET_REFRESH_METHODS.includes(method)) {
      const contact = request.contact[0];
      if (contact) {
        this.target = contact.uri;
        this.machine.transition(this.state, `${method} target refresh`);
      }
    }
    return { ok: true };
  }

  /**
   * A response to a request we sent in the dialog (UAC side). To the creating INVITE in the early
   * state: a 1xx may bring a new remote target, a 2xx confirms the dialog (with route set and
   * target from it, RFC 3261 §13.2.2.4), a 300-699 ends it (§12.3). A 2xx to a target refresh
   * request replaces the remote target (§12.2.1.2). A 481 or 408 ends the dialog (§12.2.1.2).
   */
  receiveResponse(response: SipResponse): void {
    if (this.state === DialogState.Terminated) return;
    const status = response.status;
    const method = response.cseq.method;
    const creating = method === 'INVITE' && response.cseq.seq === this.creatingSeq && this.role === 'uac';
    if (this.state === DialogState.Early && creating) {
      if (status < 200) {
        const contact = response.contact[0];
        if (contact) {
          this.target = contact.uri;
          this.machine.transition(DialogState.Early, `${status} with Contact`);
        }
      } else if (status < 300) this.confirm(response);
      else this.terminate(`${status} to the INVITE`);
      return;
    }
    if (status === 481 || status === 408) {
      this.terminate(`${status} to ${method}`);
      return;
    }
    if (status >= 200 && status < 300 && TARGET_REFRESH_METHODS.includes(method)) {
      const contact = response.contact[0];
      if (contact) {
        this.target = contact.uri;
        this.machine.transition(this.state, `${status} to ${method}`);
      }
    }
  }

  /**
   * Early → Confirmed. UAC: with the 2xx, whose Record-Route (reversed) and Contact replace the
   * route set and remote target (RFC 3261 §13.2.2.4). UAS: when the 2xx is sent.
   */
  confirm(response?: SipResponse): void {
    this.machine.transition(DialogState.Confirmed, response ? `${response.status} response` : '2xx sent');
    if (response && this.role === 'uac') {
      this.routes = [...response.recordRoute].reverse();
      const contact = response.contact[0];
      if (contact) this.target = contact.uri;
    }
  }

  /** Ends the dialog (BYE sent or received, non-2xx final, timeout...). Idempotent. */
  terminate(reason = 'terminate()'): void {
    if (this.state !== DialogState.Terminated) this.machine.transition(DialogState.Terminated, reason);
  }

  /** The response that rejects a request under a verdict (481, 500), with createResponse(). */
  static rejection(request: SipRequest, verdict: { status: number; reason: string }): SipResponse {
    return createResponse(request, { status: verdict.status, reason: verdict.reason });
  }

  private mustBeLive(what: string): void {
    if (this.state === DialogState.Terminated) throw new DialogStateError(this.id, this.state, what);
  }

  private build(method: string, seq: number, contact: NameAddr | undefined, options: Omit<InDialogRequestOptions, 'contact'>): SipRequest {
    const first = this.routes[0];
    let requestUri: Uri;
    let route: NameAddr[];
    if (!first) {
      requestUri = this.target;
      route = [];
    } else if (first.uri.kind === 'sip' && first.uri.lr) {
      requestUri = this.target;
      route = [...this.routes];
    } else {
      // RFC 3261 §12.2.1.1: a strict router gets the request addressed to itself; the remote
      // target rides as the last Route. Parameters a Request-URI may not carry are stripped
      // (§19.1.1: method; headers are not allowed either).
      requestUri = first.uri.kind === 'sip' ? first.uri.with({ params: first.uri.params.without('method'), headers: Params.EMPTY }) : first.uri;
      route = [...this.routes.slice(1), new NameAddr({ uri: this.target })];
    }
    return createRequest({
      method,
      uri: requestUri,
      from: this.local,
      to: this.remote,
      callId: this.id.callId,
      cseq: seq,
      route,
      contact,
      maxForwards: options.maxForwards,
      headers: options.headers,
      body: options.body,
      contentType: options.contentType,
    });
  }
}
