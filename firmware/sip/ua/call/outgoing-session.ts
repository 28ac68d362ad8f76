// The caller's side of a call (RFC 3261 §13.2): INVITE with the handler's offer, RFC 3263 failover, early dialogs and forking, PRACK for reliable 1xx, ACK, digest auth, 3xx redirection, 422, CANCEL.
import type { DigestExchange } from '../../auth/index.js';
import { Dialog, DialogState } from '../../dialog/index.js';
import type { ServerTarget, TargetList } from '../../locate/index.js';
import { type ExtraHeaders, H, NameAddr, type SipRequest, type SipResponse, type SipUri, createRequest, sipUri } from '../../message/index.js';
import { type InviteClientTransaction, createCallId, createTag } from '../../transaction/index.js';
import type { SendTarget } from '../../transport/transport.js';
import type { Account } from '../account.js';
import { ReliableProvisionalReceiver, createPrack } from '../reliable-provisional.js';
import type { SessionBody, SessionDescriptionHandlerFactory } from '../session-description.js';
import { nextHopUri } from '../user-agent-sender.js';
import { type CallEnvironment, bodyFields, bodyOf, calleeOf, capabilityHeaders, describeTarget, hostOf, reasonValue } from './call-environment.js';
import { Session } from './session.js';
import type { DtmfMode } from './session-features.js';
import { type SessionOutcome, outcome, outcomeOfStatus } from './session-outcome.js';
import { SessionState } from './session-state.js';

export interface OutgoingSessionInit {
  env: CallEnvironment;
  /** The account the call is made from (From, Contact, credentials, outbound proxy); none for a direct call. */
  account: Account | undefined;
  /** The Request-URI and To of the INVITE. */
  target: SipUri;
  handlerFactory: SessionDescriptionHandlerFactory;
  /** Header fields added to the INVITE (Alert-Info, Call-Info, X-...). */
  extraHeaders?: ExtraHeaders | undefined;
  /** How sendDtmf() sends keys (default: the account's, else settings.dtmf). */
  dtmf?: DtmfMode | undefined;
}

/** 401/407 rounds per call: a realm of the proxy and one of the registrar at most (RFC 3261 §22.3). */
const MAX_AUTH_ROUNDS = 2;

/** One fork of the INVITE: the early dialog a 1xx with a To tag made, and the early answer taken from it. */
interface Fork {
  dialog: Dialog;
  answer: SessionBody | undefined;
}

/** The ACK of one 2xx (by the dialog's remote tag), kept to answer retransmissions of that 2xx (RFC 3261 §13.2.2.4). */
interface SentAck {
  ack: SipRequest;
  dialog: Dialog;
  target: SendTarget | undefined;
}

/**
 * An outgoing call. start() asks the handler for an offer and sends the INVITE:
 *
 * - To the next hop (the outbound proxy as a loose Route, else the Request-URI's domain) located
 *   by RFC 3263; a timeout (Timer B), a transport error or a 503 sends the same INVITE with a new
 *   branch to the next target (§4.3); the last failure ends the call.
 * - 1xx with a To tag: an early dialog per fork (RFC 3261 §12.1.2, §13.2.2.4); a body in it is an
 *   early answer given to the handler with the fork's tag (early media). A reliable 1xx
 *   (Require: 100rel, RFC 3262 §4) is PRACKed in its fork's dialog; its retransmissions and one
 *   out of RSeq order are dropped unprocessed (the UAS sends them again).
 * - The INVITE says Supported: 100rel, timer and asks for a session timer (RFC 4028 §7.1); a
 *   422 sends it again once with the larger Session-Expires (§7.3); the 2xx starts the timer.
 * - The first 2xx wins: its dialog is confirmed, the ACK goes out (with the INVITE's credentials),
 *   the handler takes the answer (the 2xx's body, else the fork's early one); a refused answer is
 *   ACKed and then BYEd (§13.2.2.4). Retransmissions of a 2xx get the same ACK again; a 2xx from
 *   another fork, before or after the transaction ended ('stray-response'), is ACKed and BYEd.
 * - 401/407: answered once with the account's credentials (new CSeq, same Call-ID and From tag,
 *   §22.2); a second challenge ends the call as auth-failed.
 * - 3xx: the Contacts in q order (§8.1.3.4), at most settings.maxRedirects, never a URI twice.
 * - hangup() before the final response: CANCEL (§9.1), and the 487 ends the call as cancelled;
 *   a 2xx that crosses the CANCEL is ACKed and BYEd. With no final response 64*T1 after the
 *   CANCEL the call is given up (§9.1).
 */
export class OutgoingSession extends Session {
  private readonly from: NameAddr;
  private readonly to: NameAddr;
  private readonly extraHeaders: ExtraHeaders;
  private requestUri: SipUri;
  private cseq = 0;
  private offer: SessionBody | undefined;
  /** Every INVITE sent, by CSeq number (a 2xx names the one it answers). */
  private readonly invites = new Map<number, SipRequest>();
  private ict: InviteClientTransaction | undefined;
  private targets: TargetList | undefined;
  private target: ServerTarget | undefined;
  /** Bumped per INVITE sent; late callbacks of an older one are ignored (but for 2xx, which are always ACKed). */
  private attempt = 0;
  private exchange: DigestExchange | undefined;
  private authRounds = 0;
  private redirects = 0;
  private readonly triedUris = new Set<string>();
  private redirectQueue: SipUri[] = [];
  private readonly forks = new Map<string, Fork>();
  private readonly acks = new Map<string, SentAck>();
  /** The remote tag of the fork whose 2xx was taken. */
  private winner: string | undefined;
  private cancelling = false;
  /** RSeq order of the reliable 1xx, per fork (RFC 3262 §4). */
  private readonly rseqs = new ReliableProvisionalReceiver();

  constructor(init: OutgoingSessionInit) {
    const env = init.env;
    const random = env.layer.random;
    const account = init.account;
    // RFC 3261 §8.1.1.3: without an account, the anonymous From of §8.1.1.3's example.
    const fromUri = account?.aor ?? sipUri('sip:anonymous@anonymous.invalid');
    const from = new NameAddr({ displayName: account?.displayName, uri: fromUri }).withTag(createTag(random));
    const to = new NameAddr({ uri: init.target });
    super({ env, direction: 'outgoing', account, callId: createCallId(random), localTag: from.tag ?? '', remote: calleeOf(to), handlerFactory: init.handlerFactory, initial: SessionState.Calling, dtmf: init.dtmf });
    this.from = from;
    this.to = to;
    this.requestUri = init.target;
    this.extraHeaders = init.extraHeaders ?? [];
    this.triedUris.add(uriKey(init.target));
  }

  /** Gets the offer and sends the INVITE; called once by the manager. */
  start(): void {
    void this.run().catch((e: unknown) => {
      this.log.error({ err: e instanceof Error ? (e.stack ?? e.message) : String(e) }, 'outgoing call failed unexpectedly');
      this.end(outcome('network-error', 0, 'internal error', e instanceof Error ? e.message : String(e)));
    });
  }

  hangup(): void {
    const state = this.state;
    if (state === SessionState.Terminated || state === SessionState.Terminating) return;
    if (state === SessionState.Confirmed || this.winner !== undefined) {
      this.bye(outcome('local-hangup', 0, 'hung up'));
      return;
    }
    this.cancelling = true;
    this.transition(SessionState.Terminating, 'hangup before the answer');
    this.safely('close', () => this.handler.close(), undefined);
    const ict = this.ict;
    if (!ict) {
      this.end(outcome('cancelled', 0, 'hung up before the INVITE went out'));
      return;
    }
    // RFC 3261 §9.1: the layer sends the CANCEL once a provisional response came.
    void this.env.layer.cancel(ict).then((r) => this.log.debug({ result: r.kind === 'response' ? r.response.status : r.kind }, 'CANCEL'));
    // §9.1: no final response 64*T1 after the CANCEL: the INVITE counts as cancelled.
    this.startTimer('cancel', 64 * this.env.layer.timers.t1Ms, () => this.end(outcome('cancelled', 0, 'no final response after the CANCEL')));
  }

  // --- sending ----------------------------------------------------------------------------------

  private async run(): Promise<void> {
    const offer = await this.handler.createOffer({ hold: false });
    if (this.state === SessionState.Terminated) return;
    this.offer = offer;
    await this.locateAndSend(this.buildInvite());
  }

  /** A new INVITE (new CSeq): same Call-ID, From tag and To (RFC 3261 §8.1.3.4, §22.2), the current Request-URI and offer. */
  private buildInvite(): SipRequest {
    const account = this.account;
    const contact = this.env.contact(account, account?.transport ?? 'udp');
    const proxy = account?.outboundProxy;
    const invite = createRequest({
      method: 'INVITE',
      uri: this.requestUri,
      from: this.from,
      to: this.to,
      callId: this.callId,
      cseq: ++this.cseq,
      contact,
      route: proxy ? [new NameAddr({ uri: proxy })] : [],
      headers: [...capabilityHeaders(this.env), ...this.refresh.requestHeaders(), ['User-Agent', this.env.userAgent], ...this.extraHeaders],
      ...bodyFields(this.offer),
    });
    this.exchange?.authorize(invite);
    this.invites.set(invite.cseq.seq, invite);
    return invite;
  }

  private async locateAndSend(invite: SipRequest): Promise<void> {
    const hop = nextHopUri(invite);
    let list: TargetList;
    try {
      list = await this.env.locator.locate(hop);
    } catch (e) {
      if (this.state === SessionState.Terminated) return;
      // RFC 3261 §8.1.3.1 / RFC 3263 §4.3: no target at all counts as a transport error.
      this.end(outcome('network-error', 503, 'Service Unavailable', e instanceof Error ? e.message : String(e)));
      return;
    }
    if (this.state === SessionState.Terminated) return;
    this.targets = list;
    this.sendToNextTarget(invite, undefined);
  }

  /** RFC 3263 §4.3: the INVITE (a copy, with a new branch) to the next target; `last` ends the call when none is left. */
  private sendToNextTarget(invite: SipRequest, last: SessionOutcome | undefined): void {
    if (this.cancelling) {
      this.end(outcome('cancelled', 0, 'hung up before the INVITE was answered'));
      return;
    }
    const target = this.targets?.next();
    if (!target) {
      if (!this.tryNextRedirect()) this.end(last ?? outcome('network-error', 503, 'Service Unavailable', 'no target'));
      return;
    }
    this.target = target;
    const gen = ++this.attempt;
    const request = invite.clone();
    try {
      this.ict = this.env.layer.sendInvite(request, target, {
        onProvisional: (r) => {
          if (gen === this.attempt) this.provisional(r, request);
        },
        onFinal: (r) => this.final(r, gen, request),
        onTimeout: () => {
          if (gen === this.attempt) this.attemptFailed(request, target, 'timeout', outcome('timeout', 408, 'Request Timeout', 'no answer (Timer B)'));
        },
        onTransportError: (e) => {
          if (gen === this.attempt) this.attemptFailed(request, target, 'transport-error', outcome('network-error', 503, 'Service Unavailable', e.message));
        },
      });
    } catch (e) {
      this.attemptFailed(request, target, 'transport-error', outcome('network-error', 503, 'Service Unavailable', e instanceof Error ? e.message : String(e)));
    }
  }

  private attemptFailed(invite: SipRequest, target: ServerTarget, reason: 'timeout' | 'transport-error', o: SessionOutcome): void {
    if (this.state === SessionState.Terminated) return;
    this.targets?.failed(target, { reason });
    this.log.info({ target: describeTarget(target), reason }, 'INVITE failed at this target');
    this.sendToNextTarget(invite, o);
  }

  // --- responses --------------------------------------------------------------------------------

  private provisional(res: SipResponse, invite: SipRequest): void {
    if (this.state === SessionState.Terminated || this.cancelling || this.winner !== undefined) return;
    if (res.status === 100) {
      if (this.state === SessionState.Calling) this.transition(SessionState.Proceeding, '100 Trying');
      return;
    }
    const reliable = this.rseqs.receive(res);
    if (reliable.kind !== 'unreliable' && reliable.kind !== 'reliable') {
      // RFC 3262 §4: a retransmission (already PRACKed) or a 1xx out of RSeq order is not processed.
      this.log.debug({ status: res.status, ...reliable }, 'reliable provisional response dropped');
      return;
    }
    const tag = res.to.tag;
    let earlyMedia = false;
    if (tag !== undefined) {
      let fork = this.forks.get(tag);
      if (!fork) {
        fork = { dialog: this.adopt(Dialog.uac(invite, res, { random: this.env.layer.random })), answer: undefined };
        this.forks.set(tag, fork);
      } else fork.dialog.receiveResponse(res);
      this.current = fork.dialog;
      const body = bodyOf(res);
      if (body && body.body !== fork.answer?.body && this.offer) {
        // RFC 3261 §13.2.1 / RFC 3264: an answer in a 1xx is early media of that fork.
        const verdict = this.safely('receiveAnswer', () => this.handler.receiveAnswer(body, { early: true, fork: tag }), { ok: false, status: 488, reason: 'internal error' } as const);
        if (verdict.ok) fork.answer = body;
        else this.log.info({ status: res.status, fork: tag, reason: verdict.reason }, 'early answer refused');
      }
      earlyMedia = fork.answer !== undefined;
      if (reliable.kind === 'reliable') this.prack(fork.dialog, res);
      this.transition(SessionState.Early, `${res.status} with a To tag`);
    } else if (this.state === SessionState.Calling) this.transition(SessionState.Proceeding, `${res.status}`);
    this.emit('progress', { status: res.status, reason: res.reason, earlyMedia });
  }

  private final(res: SipResponse, gen: number, invite: SipRequest): void {
    if (res.status < 300) {
      this.receive2xx(res);
      return;
    }
    if (gen !== this.attempt || this.state === SessionState.Terminated) return;
    if (this.target) this.targets?.succeeded(this.target);
    // A final response ends every early dialog of this INVITE (RFC 3261 §12.3).
    for (const f of this.forks.values()) f.dialog.terminate(`${res.status} to the INVITE`);
    this.forks.clear();
    this.current = undefined;
    if (this.cancelling) {
      this.end(outcome('cancelled', res.status, res.reason));
      return;
    }
    const status = res.status;
    if (status === 401 || status === 407) this.challenged(res);
    else if (status === 422 && this.retry422(res)) return;
    else if (status >= 300 && status < 400) this.redirected(res);
    else if (status === 503 && this.target) {
      // RFC 3263 §4.3: a 503 sends the same request to the next server.
      const retryAfterS = res.one(H.retryAfter)?.seconds;
      this.targets?.failed(this.target, { reason: 'service-unavailable', retryAfterMs: retryAfterS === undefined ? undefined : retryAfterS * 1000 });
      this.sendToNextTarget(invite, outcomeOfStatus(status, res.reason));
    } else if (!this.tryNextRedirect()) {
      this.safely('rollback', () => this.handler.rollback(), undefined);
      this.end(outcomeOfStatus(status, res.reason, res.get('Warning')));
    }
  }

  /** RFC 4028 §7.3: a 422 sends the INVITE again (new CSeq, same offer) with the Session-Expires its Min-SE asks for; false gives up. */
  private retry422(res: SipResponse): boolean {
    const decision = this.refresh.retry422(res);
    if (!decision.retry) {
      this.log.info({ reason: decision.reason }, '422 not retried');
      return false;
    }
    this.log.info({ minSE: res.get('Min-SE') }, '422: sending the INVITE again with a longer session interval');
    void this.locateAndSend(this.buildInvite());
    return true;
  }

  /** RFC 3262 §7.2: the PRACK for a reliable 1xx, in the early dialog of its fork. */
  private prack(dialog: Dialog, res: SipResponse): void {
    void this.sendIn(dialog, 'PRACK', {}, (d, options) => createPrack(d, res, options)).then((r) => {
      this.log.debug({ rseq: res.rseq, result: r.kind === 'response' ? r.response.status : r.kind }, 'PRACK answered');
    });
  }

  /** RFC 3261 §22.2: one authenticated INVITE after a 401/407. */
  private challenged(res: SipResponse): void {
    const digest = this.env.digest(this.accountId);
    if (!digest) {
      this.end(outcome('auth-failed', res.status, res.reason, 'no credentials for this call'));
      return;
    }
    const last = this.invites.get(this.cseq);
    this.exchange ??= digest.begin({ fromConfiguredServer: this.account?.outboundProxy !== undefined, peerHost: last ? hostOf(nextHopUri(last)) : undefined });
    const answer = this.exchange.onChallenge(res);
    if (answer.kind !== 'retry' || ++this.authRounds > MAX_AUTH_ROUNDS) {
      this.end(outcome('auth-failed', res.status, res.reason, answer.kind === 'retry' ? 'too many challenges' : answer.message));
      return;
    }
    void this.locateAndSend(this.buildInvite());
  }

  /** RFC 3261 §8.1.3.4: the Contacts of a 3xx, by q, each URI once, up to the redirect limit. */
  private redirected(res: SipResponse): void {
    const contacts = res.contact
      .map((c, i) => ({ uri: c.uri, q: qOf(c), i }))
      .filter((c): c is { uri: SipUri; q: number; i: number } => c.uri.kind === 'sip')
      .sort((a, b) => b.q - a.q || a.i - b.i)
      .map((c) => c.uri.with({ headers: undefined, params: c.uri.params.without('method') }))
      .filter((u) => !this.triedUris.has(uriKey(u)));
    this.redirectQueue = [...contacts, ...this.redirectQueue];
    if (!this.tryNextRedirect()) this.end(outcome('redirect-failed', res.status, res.reason, contacts.length === 0 ? 'no new contact to try' : `more than ${this.env.settings.maxRedirects} redirections`));
  }

  /** Sends the INVITE to the next redirect contact; false when none is left or the limit is reached. */
  private tryNextRedirect(): boolean {
    while (this.redirectQueue.length > 0) {
      const next = this.redirectQueue.shift();
      if (!next || this.triedUris.has(uriKey(next))) continue;
      if (this.redirects >= this.env.settings.maxRedirects) return false;
      this.redirects++;
      this.triedUris.add(uriKey(next));
      this.requestUri = next;
      this.log.info({ to: next.toString(), redirects: this.redirects }, 'following a redirection');
      void this.locateAndSend(this.buildInvite());
      return true;
    }
    return false;
  }

  /**
   * A 2xx: from the ICT (first, retransmission, another fork in Accepted) or from the manager
   * ('stray-response' after the transaction ended). RFC 3261 §13.2.2.4: every 2xx is ACKed;
   * only the first one makes the call.
   * @internal
   */
  receive2xx(res: SipResponse): void {
    const tag = res.to.tag;
    if (tag === undefined || res.cseq.method !== 'INVITE') return;
    const sent = this.acks.get(tag);
    if (sent) {
      void this.transmitAck(sent);
      return;
    }
    const invite = this.invites.get(res.cseq.seq);
    if (!invite) return;
    let dialog = this.forks.get(tag)?.dialog;
    if (dialog && dialog.state === DialogState.Early) dialog.receiveResponse(res);
    else dialog = this.adopt(Dialog.uac(invite, res, { random: this.env.layer.random }));
    // RFC 3261 §13.2.2.4: the ACK carries the INVITE's credentials.
    const credentials = [...invite.getAll('Authorization').map((v) => ['Authorization', v] as const), ...invite.getAll('Proxy-Authorization').map((v) => ['Proxy-Authorization', v] as const)];
    const ack = dialog.createAck(invite.cseq.seq, { headers: credentials });
    const entry: SentAck = { ack, dialog, target: undefined };
    this.acks.set(tag, entry);
    void this.transmitAck(entry);
    if (this.winner !== undefined || this.state === SessionState.Terminated || this.cancelling) {
      // Another fork answered first, or we hung up and this 2xx crossed the CANCEL: ACK, then BYE.
      const crossing = this.winner === undefined && this.state !== SessionState.Terminated;
      if (crossing) this.winner = tag;
      this.log.info({ fork: tag, crossing }, '2xx not taken: ACK and BYE');
      void this.sendIn(dialog, 'BYE').then(() => {
        dialog.terminate('BYE sent');
        if (crossing) this.end(outcome('cancelled', 0, 'hung up; the answer crossed the CANCEL'));
      });
      return;
    }
    this.winner = tag;
    this.current = dialog;
    if (this.target) this.targets?.succeeded(this.target);
    for (const [t, f] of this.forks) if (t !== tag) f.dialog.terminate('another fork answered');
    const answer = bodyOf(res) ?? this.forks.get(tag)?.answer;
    const verdict = answer
      ? this.safely('receiveAnswer', () => this.handler.receiveAnswer(answer, { early: false, fork: tag }), { ok: false, status: 488, reason: 'internal error' } as const)
      : ({ ok: false, status: 488, reason: 'no answer in the 2xx' } as const);
    if (!verdict.ok) {
      this.safely('rollback', () => this.handler.rollback(), undefined);
      this.bye(outcome('not-acceptable', 488, verdict.reason, 'the answer was refused'), reasonValue(488, verdict.reason));
      return;
    }
    this.modifier.learnAllow(res);
    this.refresh.succeeded(res);
    this.transition(SessionState.Confirmed, `${res.status} ACKed`);
    this.safely('confirmed', () => this.handler.confirmed(), undefined);
    this.emit('accepted');
  }

  /** Sends (or sends again) an ACK to the dialog's next hop, located by RFC 3263 once. */
  private async transmitAck(entry: SentAck): Promise<void> {
    if (!entry.target) {
      try {
        entry.target = (await this.env.locator.locate(entry.dialog.nextHopUri)).next();
      } catch (e) {
        this.log.warn({ err: e instanceof Error ? e.message : String(e) }, 'no target for the ACK');
        return;
      }
    }
    const target = entry.target;
    if (!target) return;
    const r = await this.env.layer.sendAck(entry.ack, target);
    if (!r.ok) this.log.warn({ err: r.error.message, target: describeTarget(target) }, 'ACK not sent');
  }
}

/** The q of a Contact (RFC 3261 §20.10), 1 when absent or malformed. */
function qOf(c: NameAddr): number {
  const q = Number(c.params.get('q') ?? '1');
  return Number.isFinite(q) ? q : 1;
}

function uriKey(u: SipUri): string {
  return u.with({ params: u.params.without('method').without('transport'), headers: undefined }).toString().toLowerCase();
}

