// The transferee's side of call transfer (RFC 3515, 3891, 3892, 4488): a REFER received in a call, accepted with 202, the new call to its target, and the NOTIFYs that report it.
import type { Logger } from '../../../util/log.js';
import { type ExtraHeaders, NameAddr, type Uri } from '../../message/index.js';
import type { AnyServerTransaction } from '../../transaction/index.js';
import { type ReceivedRefer, REPLACES_OPTION, SIPFRAG_CONTENT_TYPE, formatReplaces, readRefer, referAcceptance, referEventValue, sipfragBody, subscriptionStateValue } from '../refer.js';
import type { SessionDescriptionHandlerFactory } from '../session-description.js';
import type { OutgoingSession } from './outgoing-session.js';
import type { Session } from './session.js';
import { outcome } from './session-outcome.js';
import type { TransferHost } from './transfer.js';

/** What a REFER received in a call does: see TransferSettings.refer. */
export type ReferPolicy = 'follow' | 'app' | 'refuse';

/**
 * Header fields a REFER may embed in its Refer-To that we copy into our INVITE (RFC 3261
 * §19.1.5 leaves the choice to us): informational ones only. Anything that routes, authorises
 * or identifies (Route, From, Contact, Authorization, P-Asserted-Identity...) stays out, and
 * Replaces is taken apart (ReceivedRefer.replaces).
 */
export const SAFE_EMBEDDED_HEADERS: readonly string[] = ['subject', 'priority', 'alert-info', 'call-info', 'accept-contact', 'user-to-user'];

/** Subscription-State expires of our non-final NOTIFYs, s. */
const NOTIFY_EXPIRES_S = 180;

export interface ReceiveReferContext {
  host: TransferHost;
  policy: ReferPolicy;
  log: Logger;
  /** How many REFERs this session's dialog received before this one (the first one's NOTIFYs carry no Event id). */
  nth: number;
}

/** follow() options. */
export interface FollowReferOptions {
  /** The new call's handler factory instead of the UA's. */
  sessionDescriptionHandlerFactory?: SessionDescriptionHandlerFactory | undefined;
}

/**
 * A REFER we accepted ('refer' event of the session it came in). With the 'follow' policy the
 * UA followed it already (call is set); with 'app' the phone calls follow() or decline().
 */
export class IncomingRefer {
  /** The session (dialog) the REFER came in: the call being transferred. */
  readonly session: Session;
  /** Where to call: the Refer-To URI without its embedded headers. */
  readonly target: Uri;
  /** Attended transfer: the dialog at the target our INVITE replaces (RFC 3891). */
  readonly replaces: ReceivedRefer['replaces'];
  /** Who asked for the transfer (RFC 3892 Referred-By, else the REFER's From). */
  readonly referredBy: NameAddr;
  /** Whether the referrer gets NOTIFYs (RFC 4488: not with Refer-Sub: false). */
  readonly subscription: boolean;
  private readonly refer: ReceivedRefer;
  private readonly host: TransferHost;
  private readonly log: Logger;
  /** Event id= for NOTIFYs after the dialog's first REFER (RFC 3515 §2.4.6). */
  private readonly eventId: number | undefined;
  private callValue: OutgoingSession | undefined;
  private done = false;
  /** The NOTIFYs go one after the other: a final one never overtakes the 100 (RFC 6665 §4.2.2: each waits for the previous one's answer). */
  private notifying: Promise<void> = Promise.resolve();

  /** @internal */
  constructor(init: { session: Session; refer: ReceivedRefer; referredBy: NameAddr; subscription: boolean; eventId: number | undefined; host: TransferHost; log: Logger }) {
    this.session = init.session;
    this.refer = init.refer;
    this.target = init.refer.target;
    this.replaces = init.refer.replaces;
    this.referredBy = init.referredBy;
    this.subscription = init.subscription;
    this.eventId = init.eventId;
    this.host = init.host;
    this.log = init.log;
  }

  /** The new call, once follow() made it. */
  get call(): OutgoingSession | undefined {
    return this.callValue;
  }

  /**
   * Calls the target from the account of the transferred call, with Referred-By, the Replaces
   * of an attended transfer (and Require: replaces, RFC 3891 §4) and the safe embedded headers;
   * each outcome goes to the referrer: NOTIFY 200 once the call is up, else its final status
   * (Subscription-State terminated). The transferred call is left as it is: the referrer ends
   * it (its BYE then ends it as transferred).
   */
  follow(options: FollowReferOptions = {}): OutgoingSession | undefined {
    if (this.callValue || this.done) return this.callValue;
    const headers: [string, string][] = [['Referred-By', this.referredBy.toString()]];
    if (this.replaces) headers.push(['Replaces', formatReplaces(this.replaces)], ['Require', REPLACES_OPTION]);
    for (const [name, value] of this.refer.headers) if (SAFE_EMBEDDED_HEADERS.includes(name.toLowerCase())) headers.push([name, value]);
    const extraHeaders: ExtraHeaders = headers;
    let call: OutgoingSession;
    try {
      call = this.host.call(this.target, { accountId: this.session.accountId, extraHeaders, sessionDescriptionHandlerFactory: options.sessionDescriptionHandlerFactory });
    } catch (e) {
      this.log.warn({ err: e instanceof Error ? e.message : String(e), target: this.target.toString() }, 'cannot follow the REFER');
      this.decline(503, 'Service Unavailable');
      return undefined;
    }
    this.callValue = call;
    this.log.info({ callId: this.session.callId, newCallId: call.callId, target: this.target.toString(), replaces: this.replaces !== undefined }, 'following a REFER');
    call.on('accepted', () => {
      // The referrer's BYE for the transferred call is the end of a transfer, not a hang-up.
      this.session.byeOutcome = outcome('transferred', 200, 'OK', 'transferred by the peer');
      this.report(200, 'OK');
    });
    void call.ended.then((o) => {
      if (o.status >= 300) this.report(o.status, o.reason);
      else this.report(o.kind === 'timeout' ? 408 : 503, o.reason === '' ? 'Service Unavailable' : o.reason);
    });
    return call;
  }

  /** Refuses to follow (the REFER was accepted already): the referrer gets this final status in a NOTIFY. Default 603 Declined. */
  decline(status = 603, reason = 'Declined'): void {
    this.report(status, reason);
  }

  /** @internal NOTIFY 100 Trying, the first after the 202 (RFC 3515 §2.4.4). */
  trying(): void {
    this.notify(100, 'Trying', false);
  }

  private report(status: number, reason: string): void {
    if (this.done) return;
    this.done = true;
    this.notify(status, reason, true);
  }

  private notify(status: number, reason: string, final: boolean): void {
    if (!this.subscription) return;
    this.notifying = this.notifying.then(() => this.sendNotify(status, reason, final));
  }

  private async sendNotify(status: number, reason: string, final: boolean): Promise<void> {
    const r = await this.session.sendRequest('NOTIFY', {
      headers: [
        ['Event', referEventValue(this.eventId)],
        ['Subscription-State', subscriptionStateValue(final, NOTIFY_EXPIRES_S)],
      ],
      body: sipfragBody(status, reason),
      contentType: SIPFRAG_CONTENT_TYPE,
    });
    this.log.debug({ status, final, answer: r.kind === 'response' ? r.response.status : r.kind }, 'refer NOTIFY');
  }
}

/**
 * A REFER in a call's dialog (RFC 3515 §2.4.2): 400 for a bad Refer-To, 403 with the 'refuse'
 * policy or a method other than INVITE, 416 for a scheme we cannot call; otherwise 202, NOTIFY
 * 100, and the 'refer' event — after following it with the 'follow' policy.
 */
export function receiveRefer(tx: AnyServerTransaction, session: Session, ctx: ReceiveReferContext): void {
  const request = tx.request;
  if (ctx.policy === 'refuse') {
    tx.reply(403, { reason: 'Forbidden - transfers are refused' });
    return;
  }
  const reading = readRefer(request);
  if (!reading.ok) {
    tx.reply(reading.status, { reason: reading.reason });
    return;
  }
  const refer = reading.refer;
  if (refer.method !== 'INVITE') {
    tx.reply(403, { reason: `Forbidden - only INVITE is followed, not ${refer.method}` });
    return;
  }
  if (refer.target.kind !== 'sip' && refer.target.kind !== 'tel') {
    tx.reply(416, { reason: `Unsupported URI Scheme - ${refer.target.scheme}` });
    return;
  }
  const acceptance = referAcceptance(request);
  tx.reply(202, { reason: 'Accepted', headers: acceptance.headers });
  const referredBy = refer.referredBy ?? new NameAddr({ displayName: request.from.displayName, uri: request.from.uri });
  const incoming = new IncomingRefer({ session, refer, referredBy, subscription: acceptance.subscription, eventId: ctx.nth === 0 ? undefined : request.cseq.seq, host: ctx.host, log: ctx.log });
  ctx.log.info({ callId: session.callId, target: refer.target.toString(), replaces: refer.replaces !== undefined, policy: ctx.policy }, 'REFER accepted');
  incoming.trying();
  if (ctx.policy === 'follow') incoming.follow();
  session.announce('refer', incoming);
}
