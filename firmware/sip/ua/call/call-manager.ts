// The UA's INVITE sessions: makes outgoing calls, screens incoming INVITEs (ghost calls, busy, do-not-disturb), and routes in-dialog requests, ACKs and stray 2xx to their session.
import type { Clock, TimerHandle } from '../../../util/clock.js';
import type { Unsubscribe } from '../../../util/emitter.js';
import type { Logger } from '../../../util/log.js';
import type { DigestClient } from '../../auth/index.js';
import { type Dialog, DialogRegistry } from '../../dialog/index.js';
import type { ServerLocator, ServerTarget } from '../../locate/index.js';
import { type ExtraHeaders, NameAddr, Params, type SipRequest, type SipResponse, SipUri, type Uri, escapeUser, parseUri } from '../../message/index.js';
import { type AnyServerTransaction, InviteServerState, InviteServerTransaction, type TransactionLayer } from '../../transaction/index.js';
import { ipEquals } from '../../transport/ip-address.js';
import type { HostPort, InboundMessage, TransportProtocol } from '../../transport/transport.js';
import type { Account } from '../account.js';
import { type ContactAddress, contactUri } from '../contact.js';
import type { SessionDescriptionHandlerFactory } from '../session-description.js';
import type { FailoverRequestSender } from '../user-agent-sender.js';
import { type CallEnvironment, type CallSettings, type RemoteIdentity, callerOf } from './call-environment.js';
import { IncomingSession } from './incoming-session.js';
import { OutgoingSession } from './outgoing-session.js';
import { type DtmfMode, type MidCallOptions, midCallSettings } from './session-features.js';
import { Session } from './session.js';
import { outcome } from './session-outcome.js';
import { type TransferOptions, type TransferResult, type TransferSettings, Transfers } from './transfer.js';
import { replaceCall, screenReplaces } from './transfer-replaces.js';
import { isLive } from './session-state.js';

/** What the phone learns about an incoming call before it rings (for the busy callback). */
export interface IncomingCallInfo {
  /** The account the call came in on (by the server it came from, or the Request-URI's user). */
  accountId: string | undefined;
  caller: RemoteIdentity;
  request: SipRequest;
  source: HostPort;
}

/** An incoming call the manager turned away before it rang (RefusedCall.reason says why). */
export interface RefusedCall {
  accountId: string | undefined;
  caller: RemoteIdentity;
  /** 'dnd': do-not-disturb answered it (486 or 480); 'busy': the phone had no room for it (486). */
  reason: 'dnd' | 'busy';
}

/** Do-not-disturb: off, or the status every incoming call gets (486 Busy Here or 480 Temporarily Unavailable). */
export type DoNotDisturb = false | 486 | 480;

/** The UA's call settings (UserAgentOptions.calls); hold, session timers, 100rel and DTMF in MidCallOptions. */
export interface CallOptions extends MidCallOptions {
  /** Makes the handler of each session (SDP and media); a call() may pass its own. Without one, incoming calls get 480. */
  sessionDescriptionHandlerFactory?: SessionDescriptionHandlerFactory | undefined;
  /**
   * Ghost-call protection. 'proxy' (default): an INVITE is taken only when it comes from an
   * address of an account's registrar or outbound proxy (its registration flow, or the addresses
   * RFC 3263 locates for them); anything else gets 403 and never rings. 'any': direct IP calls too.
   * The same policy takes or refuses (403) unsolicited MWI NOTIFYs and MESSAGEs outside a dialog.
   */
  acceptCallsFrom?: 'proxy' | 'any' | undefined;
  /** Calls up or being set up at once; one more incoming call gets 486. Default 1 (no call waiting). */
  maxCalls?: number | undefined;
  /** Decides "busy" instead of maxCalls: return true to answer 486. */
  busy?: ((call: IncomingCallInfo, active: readonly Session[]) => boolean) | undefined;
  /** Do-not-disturb at start. Default off. */
  doNotDisturb?: DoNotDisturb | undefined;
  /** An incoming call nobody answers gets 480 after this long, ms. Default 60000. */
  noAnswerTimeoutMs?: number | undefined;
  /** 3xx followed per call. Default 5. */
  maxRedirects?: number | undefined;
  /** Send 180 at once for an incoming call (default true); false leaves ring() to the phone. */
  autoRing?: boolean | undefined;
  /** REFER received in a call (follow, leave to the phone, refuse) and how long our transfers wait for their result. */
  transfer?: TransferSettings | undefined;
}

/** UserAgent.call() options. */
export interface CallRequestOptions {
  /** The account to call from. Default: the first account. */
  accountId?: string | undefined;
  /** This call's handler factory instead of the UA's. */
  sessionDescriptionHandlerFactory?: SessionDescriptionHandlerFactory | undefined;
  /** Header fields added to the INVITE. */
  extraHeaders?: ExtraHeaders | undefined;
  /** How this call's sendDtmf() sends keys (default: the account's, else calls.dtmf). */
  dtmf?: DtmfMode | undefined;
}

/** What the manager needs from the UserAgent. */
export interface CallManagerHost {
  layer: TransactionLayer;
  locator: ServerLocator;
  sender: FailoverRequestSender;
  clock: Clock;
  logger: Logger;
  userAgent: string;
  supported: readonly string[];
  accounts(): readonly Account[];
  account(accountId: string): Account | undefined;
  digest(accountId: string): DigestClient | undefined;
  /** Our address for an account's Contact over a protocol. */
  contactAddress(account: Account | undefined, protocol: TransportProtocol): ContactAddress | undefined;
  /** The server holding the account's registration (its flow), once one answered. */
  flowTarget(accountId: string): ServerTarget | undefined;
  /** The phone takes the call ('incoming' event). */
  onIncoming(session: IncomingSession): void;
  /** A call from a server of ours was refused by do-not-disturb or busy: the phone logs it as missed. */
  onRefused(call: RefusedCall): void;
}

/** A call target that cannot be dialled (no account for a bare number, a URI that does not parse). */
export class CallTargetError extends Error {
  override readonly name = 'CallTargetError';
}

/**
 * The sessions of one UA. It is the CallEnvironment of every session, and the UA hands it:
 * - each new request (receiveRequest): requests with a To tag go through the DialogRegistry
 *   (481 for unknown dialogs, 500 for CSeq out of order, RFC 3261 §12.2.2) to their session; an
 *   INVITE without one becomes an IncomingSession after the checks; the rest is the UA's;
 * - each ACK for a 2xx (receiveAck) and each stray 2xx to an INVITE (strayResponse), which goes
 *   to its outgoing session for 64*T1 after the session ended (re-ACK, or ACK + BYE a late fork).
 */
export class CallManager implements CallEnvironment {
  readonly dialogs = new DialogRegistry();
  readonly settings: CallSettings;
  private readonly host: CallManagerHost;
  private readonly options: CallOptions;
  private readonly log: Logger;
  private readonly byDialog = new WeakMap<Dialog, Session>();
  private readonly live = new Set<Session>();
  private readonly outgoing = new Map<string, { session: OutgoingSession; linger: TimerHandle | undefined }>();
  private readonly sessionHooks: ((session: Session) => void)[] = [];
  private readonly transfers: Transfers;
  private dnd: DoNotDisturb;

  constructor(host: CallManagerHost, options: CallOptions = {}) {
    this.host = host;
    this.options = options;
    this.log = host.logger.child({ mod: 'sip/calls' });
    this.dnd = options.doNotDisturb ?? false;
    this.transfers = new Transfers({ clock: host.clock, logger: host.logger, t1Ms: () => host.layer.timers.t1Ms, call: (target, o) => this.call(target, o) }, options.transfer);
    this.sessionHooks.push((s) => this.transfers.attach(s));
    this.settings = { noAnswerTimeoutMs: options.noAnswerTimeoutMs ?? 60_000, maxRedirects: options.maxRedirects ?? 5, autoRing: options.autoRing ?? true, ...midCallSettings(options) };
  }

  // --- CallEnvironment ----------------------------------------------------------------------

  get layer(): TransactionLayer {
    return this.host.layer;
  }
  get locator(): ServerLocator {
    return this.host.locator;
  }
  get sender(): FailoverRequestSender {
    return this.host.sender;
  }
  get clock(): Clock {
    return this.host.clock;
  }
  get logger(): Logger {
    return this.host.logger;
  }
  get userAgent(): string {
    return this.host.userAgent;
  }
  get supported(): readonly string[] {
    return this.host.supported;
  }

  digest(accountId: string | undefined): DigestClient | undefined {
    return accountId === undefined ? undefined : this.host.digest(accountId);
  }

  contact(account: Account | undefined, protocol: TransportProtocol): NameAddr | undefined {
    const a = this.host.contactAddress(account, protocol);
    if (!a) return undefined;
    return new NameAddr({ uri: contactUri(account?.aor.user, a) });
  }

  bind(dialog: Dialog, session: Session): void {
    if (!this.dialogs.get(dialog.id)) this.dialogs.add(dialog);
    this.byDialog.set(dialog, session);
  }

  released(session: Session): void {
    this.live.delete(session);
    const entry = this.outgoing.get(session.callId);
    if (entry?.session === session && entry.linger === undefined) {
      // RFC 6026 §7.2 (Timer M): late 2xx from other forks may still come for 64*T1.
      entry.linger = this.clock.setTimeout(() => this.outgoing.delete(session.callId), 64 * this.layer.timers.t1Ms);
    }
  }

  transfer(session: Session, to: string | Uri | Session, options: TransferOptions): Promise<TransferResult> {
    if (to instanceof Session) return this.transfers.attended(session, to, options);
    let target: SipUri;
    try {
      target = targetUri(to, session.account);
    } catch (e) {
      return Promise.resolve({ ok: false, status: 0, reason: e instanceof Error ? e.message : String(e), stage: 'target' });
    }
    return this.transfers.blind(session, target, options);
  }

  // --- the UA's API ---------------------------------------------------------------------------

  /** Calls and call attempts that are up or being set up (not terminating or terminated). */
  get calls(): Session[] {
    return [...this.live].filter((s) => isLive(s.state));
  }

  get doNotDisturb(): DoNotDisturb {
    return this.dnd;
  }

  setDoNotDisturb(dnd: DoNotDisturb): void {
    this.dnd = dnd;
  }

  /**
   * Runs fn on every session made from now on, before its first request is routed: the hook of
   * the modules that extend every call (Session.handleRequests for MESSAGE, REFER...).
   */
  onSession(fn: (session: Session) => void): Unsubscribe {
    this.sessionHooks.push(fn);
    return () => {
      const i = this.sessionHooks.indexOf(fn);
      if (i >= 0) this.sessionHooks.splice(i, 1);
    };
  }

  /** Starts an outgoing call (see OutgoingSession). Throws CallTargetError for a target that cannot be dialled. */
  call(target: string | Uri, options: CallRequestOptions = {}): OutgoingSession {
    const account = options.accountId !== undefined ? this.host.account(options.accountId) : this.host.accounts()[0];
    if (options.accountId !== undefined && !account) throw new CallTargetError(`no account ${options.accountId}`);
    const factory = options.sessionDescriptionHandlerFactory ?? this.options.sessionDescriptionHandlerFactory;
    if (!factory) throw new TypeError('no SessionDescriptionHandler factory: pass one in UserAgentOptions.calls or in call()');
    const session = new OutgoingSession({ env: this, account, target: targetUri(target, account), handlerFactory: factory, extraHeaders: options.extraHeaders, dtmf: options.dtmf });
    this.track(session);
    this.outgoing.set(session.callId, { session, linger: undefined });
    session.start();
    return session;
  }

  /** Ends every call (the UA is stopping): BYE / CANCEL go out while the layer still runs. */
  hangupAll(): void {
    for (const s of [...this.live]) s.hangup();
  }

  /** Forgets everything (the layer is closed). */
  close(): void {
    for (const s of [...this.live]) s.abort(outcome('local-hangup', 0, 'user agent stopped'));
    for (const e of this.outgoing.values()) this.clock.clearTimeout(e.linger);
    this.outgoing.clear();
  }

  // --- from the UA ----------------------------------------------------------------------------

  /** A new request from the layer. True when the calls took it; false leaves it to the UA (OPTIONS outside a dialog...). */
  receiveRequest(tx: AnyServerTransaction, inbound: InboundMessage): boolean {
    const request = tx.request;
    const match = this.dialogs.receiveRequest(request);
    switch (match.kind) {
      case 'reject':
        tx.respond(match.response);
        return true;
      case 'drop':
        return true;
      case 'in-dialog': {
        const session = this.byDialog.get(match.dialog);
        if (session) session.receiveRequest(tx, match.dialog);
        else tx.reply(481);
        return true;
      }
      case 'out-of-dialog':
        if (request.method !== 'INVITE' || !(tx instanceof InviteServerTransaction)) return false;
        void this.incomingInvite(tx, inbound).catch((e: unknown) => {
          this.log.error({ err: e instanceof Error ? (e.stack ?? e.message) : String(e) }, 'incoming INVITE failed');
          if (tx.state === InviteServerState.Proceeding) tx.reply(500);
        });
        return true;
    }
  }

  /** An ACK for a 2xx (the layer's 'ack'). */
  receiveAck(ack: SipRequest): void {
    const match = this.dialogs.receiveRequest(ack);
    if (match.kind !== 'in-dialog') return;
    this.byDialog.get(match.dialog)?.receiveAck(ack, match.dialog);
  }

  /** A response no client transaction took (the layer's 'stray-response'): a late 2xx to one of our INVITEs. */
  strayResponse(response: SipResponse): void {
    if (response.status < 200 || response.status >= 300 || response.cseq.method !== 'INVITE') return;
    const entry = this.outgoing.get(response.callId);
    if (entry && response.from.tag === entry.session.localTag) entry.session.receive2xx(response);
  }

  // --- incoming INVITE ------------------------------------------------------------------------

  private async incomingInvite(tx: InviteServerTransaction, inbound: InboundMessage): Promise<void> {
    const request = tx.request;
    const server = await this.serverAccount(inbound.source);
    // A CANCEL may have come while the addresses were looked up (the layer answered it 487).
    if (tx.state !== InviteServerState.Proceeding) return;
    const source = `${inbound.source.protocol}:${inbound.source.address}:${inbound.source.port}`;
    const server403: [string, string][] = [['Server', this.userAgent]];
    if (!server && (this.options.acceptCallsFrom ?? 'proxy') !== 'any') {
      this.log.warn({ source, from: request.from.uri.toString() }, 'INVITE from an address that is not a registrar or proxy of ours refused (ghost call protection)');
      tx.reply(403, { reason: 'Forbidden', headers: server403 });
      return;
    }
    // RFC 3891 §3: an INVITE with Replaces takes the place of a call of ours: no DND, no busy.
    const replacing = screenReplaces(tx, this.live, this.log);
    if (replacing.kind === 'answered') return;
    const replaced = replacing.kind === 'replace' ? replacing.session : undefined;
    const account = replaced?.account ?? server ?? this.accountFor(request);
    const caller = callerOf(request, server !== undefined);
    const info: IncomingCallInfo = { accountId: account?.id, caller, request, source: inbound.source };
    if (this.dnd !== false && !replaced) {
      this.log.info({ source, status: this.dnd }, 'incoming call refused: do not disturb');
      tx.reply(this.dnd, { headers: server403 });
      this.host.onRefused({ accountId: info.accountId, caller, reason: 'dnd' });
      return;
    }
    const active = this.calls;
    const busy = !replaced && (this.options.busy ? this.options.busy(info, active) : active.length >= (this.options.maxCalls ?? 1));
    if (busy) {
      this.log.info({ source, active: active.length }, 'incoming call refused: busy');
      tx.reply(486, { headers: server403 });
      this.host.onRefused({ accountId: info.accountId, caller, reason: 'busy' });
      return;
    }
    const factory = this.options.sessionDescriptionHandlerFactory;
    if (!factory) {
      this.log.warn('incoming call refused: no SessionDescriptionHandler factory');
      tx.reply(480, { headers: server403 });
      return;
    }
    const session = new IncomingSession({
      env: this,
      account,
      transaction: tx,
      caller,
      contact: this.contact(account, inbound.local.protocol),
      handlerFactory: factory,
      tls: inbound.local.protocol === 'tls',
    });
    this.track(session);
    if (!session.takeOffer()) return;
    if (replaced) {
      replaceCall(replaced, session, this.log);
      return;
    }
    if (this.settings.autoRing) session.ring();
    this.log.info({ source, caller: caller.number, accountId: account?.id }, 'incoming call');
    this.host.onIncoming(session);
  }

  private track(session: Session): void {
    this.live.add(session);
    for (const fn of this.sessionHooks) fn(session);
  }

  /**
   * The account whose registrar or outbound proxy the source belongs to: the account's flow (the
   * server holding its registration, on whose connection a TLS or TCP INVITE comes back), else
   * any target RFC 3263 gives for its next hop or registrar. Protocol, address AND port are
   * compared (sameServer): over UDP the datagram must come from the server's port, over TCP / TLS
   * the source is the connection's far end, so the request must come on a connection to one of
   * those targets. An address alone is not enough: anything else on the server's host (or on
   * loopback) could ring the phone. The ghost-call check, and the UA's check of unsolicited
   * NOTIFY and MESSAGE.
   */
  async serverAccount(source: HostPort): Promise<Account | undefined> {
    const accounts = this.host.accounts();
    for (const a of accounts) {
      const flow = this.host.flowTarget(a.id);
      if (flow && sameServer(flow, source)) return a;
    }
    for (const a of accounts) {
      for (const uri of a.outboundProxy ? [a.outboundProxy, a.registrar] : [a.registrar]) {
        try {
          const list = await this.locator.locate(uri);
          if (list.targets.some((t) => sameServer(t, source))) return a;
        } catch (e) {
          this.log.debug({ err: e instanceof Error ? e.message : String(e), uri: uri.toString() }, 'server not located for the ghost-call check');
        }
      }
    }
    return undefined;
  }

  /** The account a direct call is for: the one whose AOR user is the Request-URI's, else the first. */
  private accountFor(request: SipRequest): Account | undefined {
    const accounts = this.host.accounts();
    const user = request.uri.kind === 'sip' ? request.uri.user : undefined;
    return accounts.find((a) => user !== undefined && a.aor.user === user) ?? accounts[0];
  }
}

/** A request from `source` comes from server target `t`: same protocol, address and port (see CallManager.serverAccount). */
export function sameServer(t: HostPort, source: HostPort): boolean {
  return t.protocol === source.protocol && t.port === source.port && ipEquals(t.address, source.address);
}

/**
 * The Request-URI of a call: a sip:/sips: URI as given; a tel: URI or a bare number at the
 * account's domain (RFC 3261 §19.1.6: "user=phone" for a tel: number); "user@host" as sip:.
 */
export function targetUri(target: string | Uri, account: Account | undefined): SipUri {
  let uri: Uri;
  if (typeof target === 'string') {
    const text = target.trim();
    if (text === '') throw new CallTargetError('empty call target');
    if (/^(sips?|tel):/i.test(text)) {
      const parsed = parseUri(text);
      if (!parsed.ok) throw new CallTargetError(`not a URI: ${JSON.stringify(text)} (${parsed.error.reason})`);
      uri = parsed.uri;
    } else if (text.includes('@')) {
      const parsed = parseUri(`sip:${text}`);
      if (!parsed.ok) throw new CallTargetError(`not a SIP address: ${JSON.stringify(text)} (${parsed.error.reason})`);
      uri = parsed.uri;
    } else {
      if (!account) throw new CallTargetError(`cannot dial ${JSON.stringify(text)} without an account (give a sip: URI)`);
      return account.aor.with({ user: escapeUser(text), params: Params.EMPTY });
    }
  } else uri = target;
  if (uri.kind === 'sip') return uri;
  if (uri.kind === 'tel') {
    if (!account) throw new CallTargetError(`cannot dial ${uri.toString()} without an account`);
    return account.aor.with({ user: escapeUser(uri.number), params: Params.EMPTY.with('user', 'phone') });
  }
  throw new CallTargetError(`cannot call a ${uri.scheme}: URI`);
}
