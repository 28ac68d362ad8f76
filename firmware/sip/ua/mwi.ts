// Message waiting indication for one account (RFC 3842): a message-summary subscription, unsolicited NOTIFYs from the registrar, summaries as events.
import type { Clock } from '../../util/clock.js';
import { Emitter, type Unsubscribe } from '../../util/emitter.js';
import { type Logger, silentLogger } from '../../util/log.js';
import { type MediaType, type SipRequest, type Uri, unescapeUri } from '../message/index.js';
import type { AnyServerTransaction } from '../transaction/index.js';
import type { Account } from './account.js';
import type { AccountClientOptions } from './account-client.js';
import { MESSAGE_SUMMARY_TYPE, type MessageSummary, type MessageSummaryError, parseMessageSummary } from './message-summary.js';
import { SubscriptionClient, type SubscriptionNotify, type SubscriptionStatus, type SubscriptionStopOptions, type SubscriptionTiming } from './subscription.js';

/** The event package (RFC 3842 §3). */
export const MWI_EVENT = 'message-summary';

/** What the phone shows: the lamp, the voice counts, and the rest for a status screen. */
export interface MwiSummary {
  accountId: string;
  /** Messages-Waiting: the lamp. */
  waiting: boolean;
  newVoice: number;
  oldVoice: number;
  urgentNewVoice: number;
  urgentOldVoice: number;
  /** Message-Account, when the body named one. */
  account: string | undefined;
  /** Every class's counts, as parsed. */
  summary: MessageSummary;
  /** From our subscription's NOTIFY, or an unsolicited one from the registrar. */
  source: 'subscription' | 'unsolicited';
  /** Clock time it arrived. */
  atMs: number;
}

/** A NOTIFY whose body could not be used (answered all the same: it was the notifier's to send). */
export interface MwiInvalid {
  accountId: string;
  source: 'subscription' | 'unsolicited';
  error: MessageSummaryError | { code: 'unsupported-type'; reason: string };
}

export type MwiEvents = {
  summary: [MwiSummary];
  invalid: [MwiInvalid];
  /** The subscription's state (mode 'subscribe' only). */
  subscription: [SubscriptionStatus];
};

export interface MwiClientOptions extends AccountClientOptions<SubscriptionTiming> {
  /**
   * 'subscribe': SUBSCRIBE to message-summary and accept unsolicited NOTIFYs too;
   * 'listen': only unsolicited NOTIFYs (Asterisk's default after REGISTER). Default 'subscribe'.
   */
  mode?: 'subscribe' | 'listen' | undefined;
  /** The resource subscribed to (RFC 3842 §4.1: the account's AOR by default; some PBXes want a voicemail URI). */
  mailbox?: Uri | undefined;
  /** Interval asked for, seconds. Default 3600. */
  expiresS?: number | undefined;
  /** Bodies larger than this are refused. Default 4096. */
  maxBodyBytes?: number | undefined;
}

/** How an unsolicited NOTIFY was answered (for the UA's log and tests). */
export type UnsolicitedAnswer = { handled: false } | { handled: true; status: number };

/**
 * Message waiting indication of one account (RFC 3842).
 *
 * With mode 'subscribe', a SubscriptionClient to `message-summary` for the mailbox (the AOR),
 * Accept: application/simple-message-summary; each NOTIFY body is parsed and emitted as a
 * summary. In either mode, receiveUnsolicited() takes the NOTIFYs that registrars send with no
 * subscription (Asterisk, FreeSWITCH after REGISTER): 200 from a trusted source, 403 from
 * another, 489 for another event; the summary is emitted as well.
 */
export class MwiClient {
  readonly account: Account;
  readonly mode: 'subscribe' | 'listen';
  /** The subscription (mode 'subscribe'). */
  readonly subscription: SubscriptionClient | undefined;
  private readonly clock: Clock;
  private readonly maxBodyBytes: number | undefined;
  private readonly log: Logger;
  private readonly events = new Emitter<MwiEvents>();
  private latest: MwiSummary | undefined;

  constructor(options: MwiClientOptions) {
    this.account = options.account;
    this.mode = options.mode ?? 'subscribe';
    this.clock = options.clock;
    this.maxBodyBytes = options.maxBodyBytes;
    this.log = (options.logger ?? silentLogger()).child({ mod: 'sip/mwi', account: options.account.id });
    if (this.mode === 'subscribe') {
      const sub = new SubscriptionClient({
        account: options.account,
        target: options.mailbox ?? options.account.aor,
        event: MWI_EVENT,
        accept: [MESSAGE_SUMMARY_TYPE],
        // RFC 3842 §4.1 leaves the interval to the subscriber; an hour is what phones ask.
        expiresS: options.expiresS ?? 3600,
        sender: options.sender,
        clock: options.clock,
        random: options.random,
        randomBytes: options.randomBytes,
        contactAddress: options.contactAddress,
        digest: options.digest,
        logger: options.logger,
        userAgent: options.userAgent,
        timing: options.timing,
      });
      sub.on('notify', (n) => this.fromSubscription(n));
      sub.on('state', (s) => this.events.emit('subscription', s));
      this.subscription = sub;
    }
  }

  /** The last summary received, from either source. */
  get summary(): MwiSummary | undefined {
    return this.latest;
  }

  on<K extends keyof MwiEvents>(event: K, listener: (...args: MwiEvents[K]) => void): Unsubscribe {
    return this.events.on(event, listener);
  }

  /** Subscribes (mode 'subscribe'; nothing to do in 'listen'). */
  start(): void {
    this.subscription?.start();
  }

  /** Unsubscribes, bounded in time (SubscriptionClient.stop). */
  async stop(options: SubscriptionStopOptions = {}): Promise<void> {
    await this.subscription?.stop(options);
  }

  /** A NOTIFY in our subscription's dialog: answered and true; anything else: false. */
  receiveRequest(tx: AnyServerTransaction): boolean {
    return this.subscription?.receiveRequest(tx) ?? false;
  }

  /**
   * Whether a request outside a dialog is addressed to this account: the user part of its To
   * (or its Request-URI) is the AOR's. Registrars address unsolicited NOTIFYs to the AOR in To
   * and to the registered Contact in the Request-URI.
   */
  isForAccount(request: SipRequest): boolean {
    const user = this.account.aor.user;
    const userOf = (u: Uri): string | undefined => (u.kind === 'sip' && u.user !== undefined ? unescapeUri(u.user) : undefined);
    const wanted = user !== undefined ? unescapeUri(user) : undefined;
    return wanted !== undefined && (userOf(request.to.uri) === wanted || userOf(request.uri) === wanted);
  }

  /**
   * An unsolicited NOTIFY (no To tag: outside any dialog) for this account. trusted: it came
   * from the account's registrar or outbound proxy (the UA knows the source address). Returns
   * { handled: false } for anything but a NOTIFY without a To tag; otherwise it was answered:
   * 489 with Allow-Events for another event (RFC 6665 §8.3.2), 403 from an untrusted source
   * (a stranger could otherwise light the lamp), 415 with Accept for another body type, 200
   * otherwise; a usable body is emitted as a summary.
   */
  receiveUnsolicited(tx: AnyServerTransaction, source: { trusted: boolean }): UnsolicitedAnswer {
    const request = tx.request;
    if (request.method !== 'NOTIFY' || request.to.tag !== undefined) return { handled: false };
    if (request.event?.value.toLowerCase() !== MWI_EVENT) {
      tx.reply(489, { headers: [['Allow-Events', MWI_EVENT]] });
      return { handled: true, status: 489 };
    }
    if (!source.trusted) {
      this.log.warn({ from: request.from.uri.toString() }, 'unsolicited message-summary NOTIFY from an untrusted source refused');
      tx.reply(403);
      return { handled: true, status: 403 };
    }
    const type = request.contentType;
    if (request.body.length > 0 && type !== undefined && type.essence !== MESSAGE_SUMMARY_TYPE) {
      tx.reply(415, { headers: [['Accept', MESSAGE_SUMMARY_TYPE]] });
      this.events.emit('invalid', { accountId: this.account.id, source: 'unsolicited', error: { code: 'unsupported-type', reason: `${type.essence} is not ${MESSAGE_SUMMARY_TYPE}` } });
      return { handled: true, status: 415 };
    }
    tx.reply(200);
    this.handleBody('unsolicited', type, request.body);
    return { handled: true, status: 200 };
  }

  private fromSubscription(n: SubscriptionNotify): void {
    this.handleBody('subscription', n.contentType, n.body);
  }

  private handleBody(source: MwiSummary['source'], type: MediaType | undefined, body: Uint8Array): void {
    // A NOTIFY pending or terminated may carry no body (RFC 6665 §4.2.2): nothing to show.
    if (body.length === 0) return;
    if (type !== undefined && type.essence !== MESSAGE_SUMMARY_TYPE) {
      this.events.emit('invalid', { accountId: this.account.id, source, error: { code: 'unsupported-type', reason: `${type.essence} is not ${MESSAGE_SUMMARY_TYPE}` } });
      return;
    }
    const parsed = parseMessageSummary(body, { maxBytes: this.maxBodyBytes });
    if (!parsed.ok) {
      this.log.warn({ source, code: parsed.error.code, reason: parsed.error.reason }, 'unusable message summary');
      this.events.emit('invalid', { accountId: this.account.id, source, error: parsed.error });
      return;
    }
    const s = parsed.summary;
    const voice = s.messages.voice;
    const summary: MwiSummary = {
      accountId: this.account.id,
      waiting: s.waiting,
      newVoice: voice?.newCount ?? 0,
      oldVoice: voice?.oldCount ?? 0,
      urgentNewVoice: voice?.urgentNew ?? 0,
      urgentOldVoice: voice?.urgentOld ?? 0,
      account: s.account,
      summary: s,
      source,
      atMs: this.clock.now(),
    };
    this.latest = summary;
    this.log.info({ waiting: summary.waiting, newVoice: summary.newVoice, oldVoice: summary.oldVoice, source }, 'message summary');
    this.events.emit('summary', summary);
  }
}
