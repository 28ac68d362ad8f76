// Message waiting (RFC 3842) and instant messages (RFC 3428) in the UserAgent: an MwiClient and an InstantMessaging per account, the trust check of NOTIFY and MESSAGE outside a dialog, the 'mwi' and 'message' events.
import type { Clock } from '../../util/clock.js';
import type { Unsubscribe } from '../../util/emitter.js';
import type { Logger } from '../../util/log.js';
import type { DigestClient, RandomBytes } from '../auth/index.js';
import { type SipRequest, type Uri, unescapeUri } from '../message/index.js';
import type { AnyServerTransaction } from '../transaction/index.js';
import type { HostPort, InboundMessage } from '../transport/transport.js';
import type { Account } from './account.js';
import type { Session } from './call/session.js';
import { type InstantMessage, InstantMessaging, type SendMessageResult } from './instant-message.js';
import { MwiClient, type MwiSummary } from './mwi.js';
import type { ContactAddress } from './registration.js';
import type { RandomFraction } from './registration-timing.js';
import type { RequestSender } from './request-sender.js';
import type { SubscriptionStopOptions } from './subscription.js';

/** A MESSAGE received ('message' event of the UserAgent). */
export interface UaMessage extends InstantMessage {
  /** The account it was addressed to (by the server it came through, the Request-URI or To); undefined with no account. */
  accountId: string | undefined;
}

/** What the services need from the UserAgent. */
export interface UserAgentServicesHost {
  sender: RequestSender;
  clock: Clock;
  random: RandomFraction;
  randomBytes: RandomBytes;
  logger: Logger;
  userAgent: string;
  /** Our Contact address for an account (its SUBSCRIBE). */
  contactAddress(account: Account): ContactAddress | undefined;
  /** The account's DigestClient: its registration's, so that realms and nonces are shared. */
  digest(accountId: string): DigestClient | undefined;
  /** The account whose registrar or outbound proxy an address belongs to: the ghost-call check of the calls (CallManager.serverAccount). */
  serverAccount(source: HostPort): Promise<Account | undefined>;
  /** calls.acceptCallsFrom is 'any': requests from any address are taken, as INVITEs are. */
  acceptFromAnyone(): boolean;
  onMwi(summary: MwiSummary): void;
  onMessage(message: UaMessage): void;
}

interface AccountServices {
  account: Account;
  /** Absent with mwi 'off'. */
  mwi: MwiClient | undefined;
  messaging: InstantMessaging;
  started: boolean;
  off: Unsubscribe[];
}

/**
 * MWI and instant messages of the UA's accounts.
 *
 * - MWI (RFC 3842), per account by its `mwi` setting: 'subscribe' subscribes to message-summary
 *   once the account registered (at start for an account that does not register) and keeps the
 *   subscription until stop(), which unsubscribes before the transport closes; 'listen' (the
 *   default without a mailbox) only takes unsolicited NOTIFYs; 'off' takes none (481).
 * - Requests routed here by the UA: first the NOTIFYs of our subscriptions (their dialogs are not
 *   in the calls' dialog registry: receiveInSubscription()), then, after the calls, NOTIFY and
 *   MESSAGE outside a dialog (receiveOutOfDialog()).
 * - Trust: an unsolicited NOTIFY or a MESSAGE outside a dialog is taken only from an address of
 *   the account's registrar or outbound proxy — the same policy and the same check as incoming
 *   INVITEs (CallOptions.acceptCallsFrom: with 'any', from anyone). Anything else gets 403
 *   Forbidden: the request was understood, its source is what is refused (489 would claim the
 *   event package is unknown and invite a SUBSCRIBE). A MESSAGE within a call's dialog comes
 *   from the call's peer and is always taken.
 */
export class UserAgentServices {
  private readonly host: UserAgentServicesHost;
  private readonly log: Logger;
  private readonly byAccount = new Map<string, AccountServices>();

  constructor(host: UserAgentServicesHost) {
    this.host = host;
    this.log = host.logger.child({ mod: 'sip/ua-services' });
  }

  /** A new account: its MwiClient (by its mwi mode) and its InstantMessaging. */
  add(account: Account): void {
    const h = this.host;
    const digest = h.digest(account.id);
    const mwi =
      account.mwi === 'off'
        ? undefined
        : new MwiClient({
            account,
            mode: account.mwi,
            mailbox: account.mailbox,
            sender: h.sender,
            clock: h.clock,
            random: h.random,
            randomBytes: h.randomBytes,
            contactAddress: () => h.contactAddress(account),
            digest,
            logger: h.logger,
            userAgent: h.userAgent,
          });
    const messaging = new InstantMessaging({ clock: h.clock, logger: h.logger, account, sender: h.sender, randomBytes: h.randomBytes, digest, userAgent: h.userAgent });
    const off: Unsubscribe[] = [messaging.on('message', (m) => h.onMessage({ ...m, accountId: account.id }))];
    if (mwi) off.push(mwi.on('summary', (s) => h.onMwi(s)));
    this.byAccount.set(account.id, { account, mwi, messaging, started: false, off });
  }

  /** Unsubscribes an account's MWI and forgets it. */
  async remove(accountId: string, timeoutMs?: number): Promise<void> {
    const s = this.byAccount.get(accountId);
    if (!s) return;
    this.byAccount.delete(accountId);
    for (const off of s.off) off();
    await s.mwi?.stop({ timeoutMs });
  }

  /** The UA runs: subscriptions of the accounts that do not register start now. */
  start(): void {
    for (const s of this.byAccount.values()) if (!s.account.register) this.startMwi(s);
  }

  /** An account registered: its subscription starts (once; the subscription keeps itself alive from then on). */
  registered(accountId: string): void {
    const s = this.byAccount.get(accountId);
    if (s) this.startMwi(s);
  }

  /** Unsubscribes every subscription (unless unsubscribe is false; bounded by timeoutMs); the transport still runs. Never rejects. */
  async stop(options: SubscriptionStopOptions = {}): Promise<void> {
    await Promise.all(
      [...this.byAccount.values()].map(async (s) => {
        try {
          await s.mwi?.stop(options);
        } catch (e) {
          this.log.warn({ err: e instanceof Error ? e.message : String(e), accountId: s.account.id }, 'MWI unsubscribe failed');
        }
      }),
    );
  }

  /** The last message summary of an account, from either source. */
  mwiSummary(accountId: string): MwiSummary | undefined {
    return this.byAccount.get(accountId)?.mwi?.summary;
  }

  /** Sends a text MESSAGE outside a dialog from an account (default: the first). Never rejects. */
  sendMessage(to: string | Uri, text: string, accountId?: string): Promise<SendMessageResult> {
    const s = accountId !== undefined ? this.byAccount.get(accountId) : [...this.byAccount.values()][0];
    if (!s) return Promise.resolve({ ok: false, cause: 'not-configured', status: 0, reason: accountId !== undefined ? `no account ${accountId}` : 'no account to send from' });
    return s.messaging.sendMessage(to, text);
  }

  /** A call's session was made: a MESSAGE in its dialog comes from its peer and is taken (RFC 3428 §4: MESSAGE may be sent in a dialog). */
  attach(session: Session): void {
    session.handleRequests('MESSAGE', (tx) => {
      const s = (session.accountId !== undefined ? this.byAccount.get(session.accountId) : undefined) ?? [...this.byAccount.values()][0];
      if (s) s.messaging.receive(tx, { inDialog: true });
      else tx.reply(480);
    });
  }

  /** A NOTIFY in one of our subscriptions' dialogs: answered, true. Anything else: false, untouched. */
  receiveInSubscription(tx: AnyServerTransaction): boolean {
    for (const s of this.byAccount.values()) if (s.mwi?.receiveRequest(tx) === true) return true;
    return false;
  }

  /**
   * NOTIFY (unsolicited MWI) and MESSAGE outside a dialog, after the calls passed on them: true
   * when taken (the answer may follow the trust check's lookup); false leaves the request to
   * the UA (481: no subscription or no account for it).
   */
  receiveOutOfDialog(tx: AnyServerTransaction, inbound: InboundMessage): boolean {
    const request = tx.request;
    if (request.to.tag !== undefined || (request.method !== 'NOTIFY' && request.method !== 'MESSAGE')) return false;
    const all = [...this.byAccount.values()];
    let target: AccountServices | undefined;
    if (request.method === 'NOTIFY') {
      target = all.find((s) => s.mwi?.isForAccount(request) === true);
      if (!target) return false;
    } else target = all.find((s) => addressedTo(request, s.account)) ?? all[0];
    const chosen = target;
    void this.trusted(inbound.source, chosen?.account)
      .then((trusted) => this.answer(tx, chosen, trusted, inbound.source))
      .catch((e: unknown) => {
        this.log.error({ err: e instanceof Error ? (e.stack ?? e.message) : String(e) }, `${request.method} outside a dialog failed`);
        tx.reply(500);
      });
    return true;
  }

  private answer(tx: AnyServerTransaction, s: AccountServices | undefined, trusted: boolean, source: HostPort): void {
    const request = tx.request;
    if (request.method === 'NOTIFY') {
      const r = s?.mwi?.receiveUnsolicited(tx, { trusted });
      this.log.debug({ status: r?.handled === true ? r.status : undefined, source: `${source.address}:${source.port}` }, 'unsolicited NOTIFY');
      return;
    }
    if (!trusted) {
      this.log.warn({ source: `${source.protocol}:${source.address}:${source.port}`, from: request.from.uri.toString() }, 'MESSAGE from an address that is not a registrar or proxy of ours refused');
      tx.reply(403, { headers: [['Server', this.host.userAgent]] });
      return;
    }
    if (s) s.messaging.receive(tx, { inDialog: false });
    else tx.reply(404);
  }

  /** The calls' ghost-call policy: from the account's registrar or proxy (or any of ours without an account), or from anyone with acceptCallsFrom 'any'. */
  private async trusted(source: HostPort, account: Account | undefined): Promise<boolean> {
    if (this.host.acceptFromAnyone()) return true;
    const server = await this.host.serverAccount(source);
    return server !== undefined && (account === undefined || server.id === account.id || sameServers(server, account));
  }

  private startMwi(s: AccountServices): void {
    if (s.started || !s.mwi) return;
    s.started = true;
    s.mwi.start();
  }
}

/** Whether a request's Request-URI or To names the account's user. */
function addressedTo(request: SipRequest, account: Account): boolean {
  const user = account.aor.user !== undefined ? unescapeUri(account.aor.user) : undefined;
  const userOf = (u: Uri): string | undefined => (u.kind === 'sip' && u.user !== undefined ? unescapeUri(u.user) : undefined);
  return user !== undefined && (userOf(request.uri) === user || userOf(request.to.uri) === user);
}

/** Two accounts on the same registrar and proxy: the server's address check cannot tell them apart. */
function sameServers(a: Account, b: Account): boolean {
  return a.registrar.host.toLowerCase() === b.registrar.host.toLowerCase() && a.outboundProxy?.host.toLowerCase() === b.outboundProxy?.host.toLowerCase();
}
