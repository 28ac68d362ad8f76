// What an INVITE session needs from the user agent (layer, locator, sender, accounts' contacts and digest), and the small helpers the two directions share.
import type { Clock } from '../../../util/clock.js';
import type { Logger } from '../../../util/log.js';
import type { DigestClient } from '../../auth/index.js';
import type { Dialog, DialogRegistry } from '../../dialog/index.js';
import type { ServerLocator } from '../../locate/index.js';
import { H, type NameAddr, type SipMessage, type SipRequest, type Uri, unescapeUri } from '../../message/index.js';
import type { TransactionLayer } from '../../transaction/index.js';
import type { SendTarget, TransportProtocol } from '../../transport/transport.js';
import type { Account } from '../account.js';
import type { SessionBody } from '../session-description.js';
import type { Session } from './session.js';
import type { TransferOptions, TransferResult } from './transfer.js';
import type { FailoverRequestSender } from '../user-agent-sender.js';
import { UA_METHODS } from '../user-agent-uas.js';
import type { MidCallSettings } from './session-features.js';

/** Call settings with their defaults applied (the mid-call features' in MidCallSettings). */
export interface CallSettings extends MidCallSettings {
  /** An incoming call nobody answers gets 480 after this long, ms. */
  noAnswerTimeoutMs: number;
  /** 3xx responses followed per call at most (RFC 3261 §8.1.3.4 leaves the limit to the UAC). */
  maxRedirects: number;
  /** Send 180 Ringing at once for an incoming call that passed the checks. */
  autoRing: boolean;
}

/**
 * The user agent as the sessions see it. The CallManager implements it on the UA's layers;
 * sessions never reach the UA itself.
 */
export interface CallEnvironment {
  readonly layer: TransactionLayer;
  readonly locator: ServerLocator;
  /** RFC 3263 failover for requests within a dialog (BYE, re-INVITE...), towards Dialog.nextHopUri. */
  readonly sender: FailoverRequestSender;
  readonly dialogs: DialogRegistry;
  readonly clock: Clock;
  readonly logger: Logger;
  /** The User-Agent header value. */
  readonly userAgent: string;
  /** Option-tags for Supported. */
  readonly supported: readonly string[];
  readonly settings: CallSettings;
  /** The account's DigestClient (shared with its registration), when it has one. */
  digest(accountId: string | undefined): DigestClient | undefined;
  /** Our Contact for an account's calls over a protocol: the REGISTER's Contact form (RFC 3261 §8.1.1.8). */
  contact(account: Account | undefined, protocol: TransportProtocol): NameAddr | undefined;
  /** A session made a dialog: requests in it go to the session from now on. */
  bind(dialog: Dialog, session: object): void;
  /** A session reached Terminated. */
  released(session: object): void;
  /** session.transfer() (a target) and session.transferTo() (a consultation session): see Transfers. */
  transfer(session: Session, to: string | Uri | Session, options: TransferOptions): Promise<TransferResult>;
}

/** The headers every dialog-creating request and 2xx of ours carries: Allow, Supported (RFC 3261 §13.2.1, §20.5, §20.37). */
export function capabilityHeaders(env: CallEnvironment): [string, string][] {
  return [
    ['Allow', UA_METHODS.join(', ')],
    ['Supported', env.supported.join(', ')],
  ];
}

/** The body of a message as a SessionBody, when it has one (Content-Type essence, e.g. application/sdp). */
export function bodyOf(message: SipMessage): SessionBody | undefined {
  if (message.body.byteLength === 0) return undefined;
  const type = message.contentType;
  return { contentType: type ? type.essence : 'application/sdp', body: message.bodyText };
}

/** Header fields that carry a body to send. */
export function bodyFields(body: SessionBody | undefined): { body?: string; contentType?: string } {
  return body ? { body: body.body, contentType: body.contentType } : {};
}

/** Who is calling, for the screen and the call log. */
export interface RemoteIdentity {
  /** Display name, when the peer gave one. */
  displayName: string | undefined;
  /** The number (user part of a sip: URI, unescaped; the number of a tel: URI), or the host when there is no user part. */
  number: string;
  uri: Uri;
}

/** The number shown for a URI. */
export function numberOf(uri: Uri): string {
  if (uri.kind === 'sip') return uri.user !== undefined ? unescapeUri(uri.user) : uri.host;
  if (uri.kind === 'tel') return uri.number;
  return uri.toString();
}

function identityOf(na: NameAddr): RemoteIdentity {
  return { displayName: na.displayName !== undefined && na.displayName !== '' ? na.displayName : undefined, number: numberOf(na.uri), uri: na.uri };
}

/**
 * The caller of an INVITE: its P-Asserted-Identity (RFC 3325 §9.1) when the request came from a
 * trusted server (our registrar or proxy; a PAI from anyone else is worth nothing), else From.
 * A PAI with a sip: and a tel: value gives the sip: one, with the display name of either.
 */
export function callerOf(request: SipRequest, trustAssertedIdentity: boolean): RemoteIdentity {
  if (trustAssertedIdentity) {
    const asserted = request.all(H.pAssertedIdentity);
    const first = asserted.find((a) => a.uri.kind === 'sip') ?? asserted[0];
    if (first) {
      const id = identityOf(first);
      return { ...id, displayName: id.displayName ?? asserted.map((a) => a.displayName).find((d) => d !== undefined && d !== '') };
    }
  }
  return identityOf(request.from);
}

/** The callee of an outgoing call, from the To we send. */
export function calleeOf(to: NameAddr): RemoteIdentity {
  return identityOf(to);
}

/** "udp:10.0.0.2:5060" for logs. */
export function describeTarget(t: SendTarget): string {
  return `${t.protocol}:${t.address}:${t.port}`;
}

/** The host of a URI, for DigestExchange's peerHost. */
export function hostOf(uri: Uri): string | undefined {
  return uri.kind === 'sip' ? uri.host.toLowerCase() : undefined;
}

/** A Warning header value (RFC 3261 §20.43): 399 "miscellaneous", our agent name, the text. */
export function warningValue(agent: string, text: string): string {
  return `399 ${agent} "${text.replace(/["\\]/g, '')}"`;
}

/** A Reason header value (RFC 3326) for a BYE we send: the SIP cause and a text. */
export function reasonValue(cause: number, text: string): string {
  return `SIP;cause=${cause};text="${text.replace(/["\\]/g, '')}"`;
}
