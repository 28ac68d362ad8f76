// RFC 3428 instant messages: MESSAGE received (in or out of a dialog) answered and handed up as text, and MESSAGE sent with digest auth.
import { hexId } from './contact.js';
import type { Clock } from '../../util/clock.js';
import { Emitter, type Unsubscribe } from '../../util/emitter.js';
import { type Logger, silentLogger } from '../../util/log.js';
import { DigestClient, type RandomBytes } from '../auth/index.js';
import { H, NameAddr, type SipUri, type Uri, createRequest, parseUri } from '../message/index.js';
import type { AnyServerTransaction } from '../transaction/index.js';
import type { Account } from './account.js';
import type { RequestSender } from './request-sender.js';

/** The body types a phone shows (RFC 3428 §8: text/plain is the one every UA must take). */
export const INSTANT_MESSAGE_TYPES: readonly string[] = ['text/plain'];

/** RFC 3428 §7: a MESSAGE over a transport without congestion control stays under 1300 bytes. */
export const DEFAULT_MAX_MESSAGE_BYTES = 1300;

/** Charsets of text/plain we decode; no charset is taken as UTF-8 (a superset of the US-ASCII default). */
const CHARSETS: Readonly<Record<string, 'utf-8' | 'latin1'>> = { 'utf-8': 'utf-8', utf8: 'utf-8', 'us-ascii': 'utf-8', 'iso-8859-1': 'latin1', latin1: 'latin1' };

/** A message received. */
export interface InstantMessage {
  /** The sender: From's display name and URI (what a person can see and call back). */
  from: { displayName: string | undefined; uri: string };
  to: string;
  /** The text, decoded. */
  body: string;
  /** Content-Type as received ("text/plain;charset=UTF-8"). */
  contentType: string;
  /** The Date header when the sender put one (RFC 3428 §9: it may), else when it arrived (wall clock). */
  date: Date;
  /** Whether it came within a dialog (a call's) or alone. */
  inDialog: boolean;
  callId: string;
}

export type InstantMessageEvents = {
  message: [InstantMessage];
};

export interface InstantMessagingOptions {
  clock: Clock;
  /** Larger bodies are answered 413. Default DEFAULT_MAX_MESSAGE_BYTES. */
  maxBodyBytes?: number | undefined;
  logger?: Logger | undefined;
  /** For sendMessage(): the account the MESSAGE is sent from (From, credentials, outbound proxy). */
  account?: Account | undefined;
  sender?: RequestSender | undefined;
  randomBytes?: RandomBytes | undefined;
  /** Share the registration's (RegistrationClient.digest). */
  digest?: DigestClient | undefined;
  userAgent?: string | undefined;
}

/** The outcome of sendMessage(). */
export type SendMessageResult =
  | { ok: true; status: number }
  | { ok: false; cause: 'too-large' | 'bad-target' | 'rejected' | 'auth-failed' | 'timeout' | 'transport-error' | 'not-configured'; status: number; reason: string };

/** How a received MESSAGE was answered. */
export type ReceiveAnswer = { handled: false } | { handled: true; status: number };

/**
 * Instant messages (RFC 3428) for the UA. receive() answers a MESSAGE the UA routed to it (out of
 * a dialog, or in a dialog the UA checked): text/plain is decoded, answered 200 and emitted as
 * 'message'; another type gets 415 with Accept (RFC 3428 §7, RFC 3261 §21.4.13); a body over
 * maxBodyBytes 413; a body that is not text in its charset, or none, 400. sendMessage() sends
 * one MESSAGE outside a dialog (RFC 3428 §4), From the account, through its outbound proxy,
 * answering one digest challenge per realm.
 */
export class InstantMessaging {
  private readonly clock: Clock;
  private readonly maxBodyBytes: number;
  private readonly log: Logger;
  private readonly events = new Emitter<InstantMessageEvents>();
  private readonly account: Account | undefined;
  private readonly sender: RequestSender | undefined;
  private readonly randomBytes: RandomBytes | undefined;
  private readonly digest: DigestClient | undefined;
  private readonly userAgent: string | undefined;

  constructor(options: InstantMessagingOptions) {
    this.clock = options.clock;
    this.maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    this.log = (options.logger ?? silentLogger()).child({ mod: 'sip/message' });
    this.account = options.account;
    this.sender = options.sender;
    this.randomBytes = options.randomBytes;
    this.userAgent = options.userAgent;
    const a = options.account;
    this.digest =
      options.digest ??
      (a && options.randomBytes
        ? new DigestClient({ authUsername: a.authUsername, password: a.password, realms: a.realms, hosts: a.serverHosts, randomBytes: options.randomBytes, logger: options.logger })
        : undefined);
  }

  on<K extends keyof InstantMessageEvents>(event: K, listener: (...args: InstantMessageEvents[K]) => void): Unsubscribe {
    return this.events.on(event, listener);
  }

  /**
   * Answers a MESSAGE (returns { handled: false } for other methods, without answering). The UA
   * passes inDialog when the dialog layer accepted it within a dialog; 481 / 500 for a dialog
   * that does not exist are the dialog layer's, before this.
   */
  receive(tx: AnyServerTransaction, context: { inDialog?: boolean } = {}): ReceiveAnswer {
    const request = tx.request;
    if (request.method !== 'MESSAGE') return { handled: false };
    const answer = (status: number, headers: [string, string][] = [], reason?: string): ReceiveAnswer => {
      tx.reply(status, reason !== undefined ? { headers, reason } : { headers });
      return { handled: true, status };
    };
    const size = request.body.byteLength;
    if (size === 0) return answer(400, [], 'Bad Request - MESSAGE without a body');
    const type = request.contentType;
    if (!type || !INSTANT_MESSAGE_TYPES.includes(type.essence)) return answer(415, [['Accept', INSTANT_MESSAGE_TYPES.join(', ')]]);
    // RFC 3261 §21.4.11: 413 Request Entity Too Large (a Retry-After would only invite the same).
    if (size > this.maxBodyBytes) return answer(413);
    const charset = (type.params.get('charset') ?? 'utf-8').toLowerCase();
    const decoder = CHARSETS[charset];
    if (decoder === undefined) return answer(415, [['Accept', 'text/plain;charset=UTF-8']], 'Unsupported Media Type - charset');
    let text: string;
    try {
      text = new TextDecoder(decoder, { fatal: true }).decode(request.body);
    } catch {
      return answer(400, [], `Bad Request - body is not ${charset}`);
    }
    const result = answer(200);
    const from = request.from;
    const message: InstantMessage = {
      from: { displayName: from.displayName, uri: from.uri.toString() },
      to: request.to.uri.toString(),
      body: text,
      contentType: request.get('Content-Type') ?? type.toString(),
      date: request.one(H.date)?.date ?? new Date(this.clock.wallNow()),
      inDialog: context.inDialog ?? request.to.tag !== undefined,
      callId: request.callId,
    };
    this.log.info({ from: message.from.uri, bytes: size, inDialog: message.inDialog }, 'instant message received');
    this.events.emit('message', message);
    return result;
  }

  /**
   * Sends a text MESSAGE outside a dialog (RFC 3428 §4): Request-URI and To the recipient, From
   * the account's AOR, a new Call-ID, text/plain;charset=UTF-8, Route: the outbound proxy.
   * A 401/407 is answered once per challenge by the account's DigestClient. Resolves with the
   * final status; never rejects.
   */
  async sendMessage(to: string | Uri, text: string): Promise<SendMessageResult> {
    const a = this.account;
    const sender = this.sender;
    const randomBytes = this.randomBytes;
    const digest = this.digest;
    if (!a || !sender || !randomBytes || !digest) return { ok: false, cause: 'not-configured', status: 0, reason: 'no account, sender or random source for sending' };
    let target: SipUri;
    if (typeof to === 'string') {
      const r = parseUri(to.trim());
      if (!r.ok || r.uri.kind !== 'sip') return { ok: false, cause: 'bad-target', status: 0, reason: `not a sip: URI: ${JSON.stringify(to)}` };
      target = r.uri;
    } else {
      if (to.kind !== 'sip') return { ok: false, cause: 'bad-target', status: 0, reason: `not a sip: URI: ${to.toString()}` };
      target = to;
    }
    const bytes = Buffer.byteLength(text, 'utf8');
    if (bytes > this.maxBodyBytes) return { ok: false, cause: 'too-large', status: 0, reason: `${bytes} bytes, more than the ${this.maxBodyBytes} allowed (RFC 3428 §7)` };
    const callId = hexId(randomBytes(16));
    const fromTag = hexId(randomBytes(8));
    const hop = a.outboundProxy ?? target;
    const exchange = digest.begin({ fromConfiguredServer: a.outboundProxy !== undefined || a.serverHosts.includes(hop.host.toLowerCase()), peerHost: hop.host });
    let cseq = 0;
    for (let n = 0; n < 6; n++) {
      const headers: [string, string][] = [];
      if (this.userAgent !== undefined) headers.push(['User-Agent', this.userAgent]);
      const request = createRequest({
        method: 'MESSAGE',
        uri: target,
        from: new NameAddr({ displayName: a.displayName, uri: a.aor }).withTag(fromTag),
        to: new NameAddr({ uri: target }),
        callId,
        cseq: ++cseq,
        route: a.outboundProxy ? [new NameAddr({ uri: a.outboundProxy })] : [],
        headers,
        body: text,
        contentType: 'text/plain;charset=UTF-8',
      });
      exchange.authorize(request);
      const outcome = await sender.send(request);
      if (outcome.kind === 'timeout') return { ok: false, cause: 'timeout', status: 408, reason: 'Request Timeout' };
      if (outcome.kind === 'transport-error') return { ok: false, cause: 'transport-error', status: 503, reason: outcome.error.message };
      const res = outcome.response;
      if (res.status >= 200 && res.status < 300) return { ok: true, status: res.status };
      if (res.status === 401 || res.status === 407) {
        const answer = exchange.onChallenge(res);
        if (answer.kind === 'retry') continue;
        return { ok: false, cause: 'auth-failed', status: res.status, reason: answer.message };
      }
      return { ok: false, cause: 'rejected', status: res.status, reason: res.reason };
    }
    return { ok: false, cause: 'auth-failed', status: 0, reason: 'too many challenges' };
  }
}
