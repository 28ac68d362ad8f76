// Call transfer: building and reading REFER (RFC 3515), Replaces (RFC 3891), Referred-By (RFC 3892), Refer-Sub (RFC 4488), and the NOTIFYs with message/sipfrag bodies.
import { type Dialog, type DialogId, DialogState, type InDialogRequestOptions } from '../dialog/dialog.js';
import { H, NameAddr, type ValueWithParams } from '../message/headers.js';
import { HeaderField, type SipRequest, type SipResponse } from '../message/message.js';
import { Params } from '../message/params.js';
import { CLASS, HNVCHAR } from '../message/scanner.js';
import { type Uri, unescapeUri } from '../message/uri.js';

/** Option tag of Replaces (RFC 3891 §6.1): Supported by a UA that accepts INVITE with Replaces. */
export const REPLACES_OPTION = 'replaces';
/** Option tag of RFC 4488 (Refer-Sub: false understood). */
export const NO_REFER_SUB_OPTION = 'norefersub';
/** The body type of the NOTIFYs of a refer subscription (RFC 3515 §2.4.5, RFC 3420). */
export const SIPFRAG_CONTENT_TYPE = 'message/sipfrag;version=2.0';
/** The event package of REFER (RFC 3515 §3). */
export const REFER_EVENT = 'refer';

// ---------------------------------------------------------------------------------------------
// Replaces (RFC 3891)

/** A Replaces value (RFC 3891 §6.1). The tags are from the view of the UA that receives the INVITE with it. */
export interface ReplacesValue {
  readonly callId: string;
  /** Compared with the receiver's local tag (RFC 3891 §3). */
  readonly toTag: string;
  /** Compared with the receiver's remote tag. */
  readonly fromTag: string;
  /** Replace only an early dialog (RFC 3891 §3: a confirmed one gets 486). */
  readonly earlyOnly: boolean;
}

export type ReplacesResult = { readonly ok: true; readonly replaces: ReplacesValue } | { readonly ok: false; readonly reason: string };

/**
 * The Replaces that names one of our dialogs to its peer (RFC 3891 §3): for attended transfer,
 * the Replaces we embed in Refer-To names our dialog with the transfer target, and the target
 * receives it. Seen from the target, its local tag is our remote tag: to-tag = our remote tag,
 * from-tag = our local tag.
 */
export function replacesForDialog(id: DialogId, options: { earlyOnly?: boolean } = {}): ReplacesValue {
  return { callId: id.callId, toTag: id.remoteTag, fromTag: id.localTag, earlyOnly: options.earlyOnly ?? false };
}

/** The header value: "call-id;to-tag=...;from-tag=...[;early-only]" (RFC 3891 §6.1). */
export function formatReplaces(r: ReplacesValue): string {
  let params = Params.EMPTY.with('to-tag', r.toTag).with('from-tag', r.fromTag);
  if (r.earlyOnly) params = params.with('early-only', null);
  return `${r.callId}${params.toString()}`;
}

function fromValue(v: ValueWithParams): ReplacesResult {
  const toTag = v.get('to-tag');
  const fromTag = v.get('from-tag');
  if (typeof toTag !== 'string' || toTag === '') return { ok: false, reason: 'Replaces without to-tag' };
  if (typeof fromTag !== 'string' || fromTag === '') return { ok: false, reason: 'Replaces without from-tag' };
  return { ok: true, replaces: { callId: v.value, toTag, fromTag, earlyOnly: v.params.has('early-only') } };
}

/** Parses a Replaces value given as text (already unescaped, as in a header field). Never throws. */
export function parseReplaces(text: string): ReplacesResult {
  // The message layer's grammar (Call-ID with parameters), through a field built in code.
  const field = new HeaderField(H.replaces.name, H.replaces.key, H.replaces, text.trim());
  const e = field.check();
  if (e) return { ok: false, reason: `malformed Replaces: ${e.reason}` };
  return fromValue(field.parsed() as ValueWithParams);
}

/** The Replaces header of an INVITE: undefined when absent, otherwise parsed (a malformed one deserves 400). */
export function readReplaces(request: SipRequest): ReplacesResult | undefined {
  const raw = request.get('Replaces');
  if (raw === undefined) return undefined;
  if (request.count('Replaces') > 1) return { ok: false, reason: 'more than one Replaces' };
  const v = request.replaces;
  return v ? fromValue(v) : parseReplaces(raw);
}

/** What replacing a dialog needs to know of it: a Dialog fits. */
export interface ReplaceableDialog {
  readonly id: DialogId;
  readonly state: DialogState;
  readonly role: 'uac' | 'uas';
}

export type ReplacesMatch<D extends ReplaceableDialog> = { readonly ok: true; readonly dialog: D } | { readonly ok: false; readonly status: 481 | 486 | 603; readonly reason: string };

/**
 * The dialog an INVITE with Replaces replaces (RFC 3891 §3), among our INVITE dialogs: Call-ID
 * equal, to-tag = our local tag, from-tag = our remote tag. No match, more than one, or an early
 * dialog we did not initiate → 481; a terminated one → 603; a confirmed one with early-only →
 * 486. Authorising the request (§3) is the caller's business.
 */
export function matchReplaces<D extends ReplaceableDialog>(replaces: ReplacesValue, dialogs: Iterable<D>): ReplacesMatch<D> {
  const found: D[] = [];
  for (const d of dialogs) {
    if (d.id.callId === replaces.callId && d.id.localTag === replaces.toTag && d.id.remoteTag === replaces.fromTag) found.push(d);
  }
  const d = found[0];
  if (!d || found.length > 1) return { ok: false, status: 481, reason: 'Call/Transaction Does Not Exist' };
  if (d.state === DialogState.Terminated) return { ok: false, status: 603, reason: 'Decline' };
  if (d.state === DialogState.Confirmed && replaces.earlyOnly) return { ok: false, status: 486, reason: 'Busy Here' };
  if (d.state === DialogState.Early && d.role !== 'uac') return { ok: false, status: 481, reason: 'Call/Transaction Does Not Exist' };
  return { ok: true, dialog: d };
}

// ---------------------------------------------------------------------------------------------
// Refer-To and REFER (RFC 3515)

/**
 * %-escapes text for a header value embedded in a URI (RFC 3261 §25.1 hvalue = *(hnv-unreserved /
 * unreserved / escaped)): anything else, ';', '=', '@', '%' and '&' among them, becomes %HH of
 * its UTF-8 bytes.
 */
export function escapeUriHeaderValue(text: string): string {
  let out = '';
  for (const b of Buffer.from(text, 'utf8')) out += b < 128 && ((CLASS[b] ?? 0) & HNVCHAR) !== 0 ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  return out;
}

/** The target URI with an embedded Replaces header (RFC 3891 §7.1: "?Replaces=" + the escaped value). */
export function referToUri(target: Uri, replaces?: ReplacesValue): Uri {
  if (!replaces) return target;
  if (target.kind !== 'sip') throw new TypeError(`a Replaces header can only be embedded in a sip: or sips: URI, not ${target.scheme}:`);
  return target.with({ headers: target.headers.without('Replaces').with('Replaces', escapeUriHeaderValue(formatReplaces(replaces)), { quoted: false }) });
}

export interface ReferOptions {
  /** Where the peer is to send its INVITE. */
  target: Uri | NameAddr;
  /** Attended transfer: the dialog the INVITE is to replace (replacesForDialog() of our dialog with the target). */
  replaces?: ReplacesValue;
  /** Who asks for the transfer (RFC 3892), copied by the peer into its INVITE. */
  referredBy?: NameAddr;
  /** Ask for no implicit subscription (RFC 4488 §4: Refer-Sub: false): no NOTIFYs. */
  noSubscription?: boolean;
}

/** The header fields of a REFER: Refer-To, then Referred-By and Refer-Sub when asked for. */
export function referHeaders(o: ReferOptions): [string, string][] {
  const na = o.target instanceof NameAddr ? o.target : new NameAddr({ uri: o.target });
  const headers: [string, string][] = [['Refer-To', na.withUri(referToUri(na.uri, o.replaces)).toString()]];
  if (o.referredBy) headers.push(['Referred-By', o.referredBy.toString()]);
  if (o.noSubscription === true) headers.push(['Refer-Sub', 'false']);
  return headers;
}

/**
 * A REFER in a dialog (RFC 3515 §2.4), with our Contact (the REFER may create a subscription,
 * RFC 6665 §4.1). Its CSeq number is what the NOTIFYs name in Event id= when it is not the first
 * REFER of the dialog (see isNotifyForRefer()).
 */
export function createRefer(dialog: Dialog, o: ReferOptions, options: InDialogRequestOptions = {}): SipRequest {
  return dialog.createRequest('REFER', { contact: dialog.localContact ?? null, ...options, headers: [...referHeaders(o), ...(options.headers ?? [])] });
}

/** A REFER as received, ready to act on. */
export interface ReceivedRefer {
  /** The Refer-To as received. */
  readonly referTo: NameAddr;
  /** The URI to send the request to: the Refer-To URI without its embedded headers. */
  readonly target: Uri;
  /** The method the URI names (its method parameter, RFC 3261 §19.1.1), INVITE when absent. */
  readonly method: string;
  /** Replaces embedded in the Refer-To (unescaped and parsed): goes into the INVITE, with Require: replaces. */
  readonly replaces: ReplacesValue | undefined;
  /**
   * The other embedded headers, names and values unescaped (RFC 3261 §19.1.5). Copy only the
   * ones that are safe to take from a peer into the new request; Replaces is in `replaces`.
   */
  readonly headers: readonly (readonly [string, string])[];
  /** Referred-By (RFC 3892 §3): copy it into the INVITE. */
  readonly referredBy: NameAddr | undefined;
  /** Whether the REFER-Issuer wants the implicit subscription (RFC 4488: false with Refer-Sub: false). */
  readonly subscriptionWanted: boolean;
}

export type ReferReading = { readonly ok: true; readonly refer: ReceivedRefer } | { readonly ok: false; readonly status: 400; readonly reason: string };

/** Reads a received REFER (RFC 3515 §2.4.2): exactly one Refer-To, else 400; a malformed embedded Replaces is 400 too. */
export function readRefer(request: SipRequest): ReferReading {
  if (request.count('Refer-To') !== 1) return { ok: false, status: 400, reason: 'Bad Request - a REFER needs exactly one Refer-To' };
  const referTo = request.referTo;
  if (!referTo) return { ok: false, status: 400, reason: 'Bad Request - malformed Refer-To' };
  let target: Uri = referTo.uri;
  let method = 'INVITE';
  let replaces: ReplacesValue | undefined;
  const headers: [string, string][] = [];
  if (target.kind === 'sip') {
    method = (target.params.get('method') ?? 'INVITE').toUpperCase();
    for (const h of target.headers) {
      const name = unescapeUri(h.name);
      const value = unescapeUri(h.value ?? '');
      if (name.toLowerCase() === 'replaces') {
        const r = parseReplaces(value);
        if (!r.ok) return { ok: false, status: 400, reason: `Bad Request - ${r.reason} in Refer-To` };
        replaces = r.replaces;
      } else headers.push([name, value]);
    }
    target = target.with({ headers: Params.EMPTY, params: target.params.without('method') });
  }
  return { ok: true, refer: { referTo, target, method, replaces, headers, referredBy: request.referredBy, subscriptionWanted: referSubOf(request) !== false } };
}

/** Refer-Sub of a message (RFC 4488 §4): true, false, or undefined when absent or unreadable. */
export function referSubOf(msg: SipRequest | SipResponse): boolean | undefined {
  const v = msg.get('Refer-Sub')?.split(';')[0]?.trim().toLowerCase();
  return v === 'true' ? true : v === 'false' ? false : undefined;
}

/**
 * Whether accepting a REFER creates the implicit subscription, and the headers of the 202
 * (RFC 4488 §4): a REFER with Refer-Sub: false gets none and Refer-Sub: false when we honour it
 * (allowNoSubscription, default true); a subscription we keep anyway is announced with
 * Refer-Sub: true.
 */
export function referAcceptance(refer: SipRequest, options: { allowNoSubscription?: boolean } = {}): { subscription: boolean; headers: [string, string][] } {
  if (referSubOf(refer) !== false) return { subscription: true, headers: [] };
  if (options.allowNoSubscription ?? true) return { subscription: false, headers: [['Refer-Sub', 'false']] };
  return { subscription: true, headers: [['Refer-Sub', 'true']] };
}

/** Whether the 2xx to our REFER created a subscription (RFC 4488 §4: not when it says Refer-Sub: false), so NOTIFYs will come. */
export function referCreatedSubscription(response: SipResponse): boolean {
  return referSubOf(response) !== false;
}

// ---------------------------------------------------------------------------------------------
// NOTIFY (RFC 3515 §2.4.4-2.4.7)

/** The Event of the NOTIFYs of a REFER (RFC 3515 §2.4.6): "refer" for the first REFER of the dialog, "refer;id=<its CSeq>" for later ones. */
export function referEventValue(referCSeq?: number): string {
  return referCSeq === undefined ? REFER_EVENT : `${REFER_EVENT};id=${referCSeq}`;
}

/** Subscription-State of a NOTIFY (RFC 6665 §4.1.3): "active[;expires=N]", or "terminated;reason=noresource" once the result is final (RFC 3515 §2.4.7). */
export function subscriptionStateValue(final: boolean, expiresS?: number): string {
  if (final) return 'terminated;reason=noresource';
  return expiresS === undefined ? 'active' : `active;expires=${expiresS}`;
}

/** A message/sipfrag body holding a status line (RFC 3515 §2.4.5): "SIP/2.0 200 OK" and CRLF. */
export function sipfragBody(status: number, reason: string): string {
  return `SIP/2.0 ${status} ${reason}\r\n`;
}

export interface ReferNotifyOptions {
  /** The status of the referred request so far: 100 at first, then its final status. */
  status: number;
  reason: string;
  /** The REFER's CSeq number when it was not the first REFER of the dialog (Event id=). */
  referCSeq?: number;
  /** Subscription-State expires of a non-final NOTIFY. */
  expiresS?: number;
}

/** A NOTIFY reporting a REFER's progress (RFC 3515 §2.4.4): Event, Subscription-State (terminated when status >= 200) and the sipfrag body. */
export function createReferNotify(dialog: Dialog, o: ReferNotifyOptions, options: InDialogRequestOptions = {}): SipRequest {
  return dialog.createRequest('NOTIFY', {
    ...options,
    headers: [['Event', referEventValue(o.referCSeq)], ['Subscription-State', subscriptionStateValue(o.status >= 200, o.expiresS)], ...(options.headers ?? [])],
    body: sipfragBody(o.status, o.reason),
    contentType: SIPFRAG_CONTENT_TYPE,
  });
}

/**
 * Whether a NOTIFY belongs to the REFER with CSeq number referCSeq (RFC 3515 §2.4.6): Event
 * refer, with id= that number — or no id at all for the first REFER of the dialog.
 */
export function isNotifyForRefer(notify: SipRequest, referCSeq: number, firstInDialog: boolean): boolean {
  const ev = notify.event;
  if (ev?.value.toLowerCase() !== REFER_EVENT) return false;
  const id = ev.get('id');
  if (id === undefined) return firstInDialog;
  return id !== null && Number(id) === referCSeq;
}

/** What a NOTIFY of a refer subscription says. */
export interface ReferProgress {
  /** The status line of the sipfrag; undefined for a NOTIFY without a body. */
  readonly status: number | undefined;
  readonly reason: string | undefined;
  /** The referred request got its final response (status >= 200). */
  readonly final: boolean;
  /** ... and it was a 2xx: the transfer worked. */
  readonly succeeded: boolean;
  /** Subscription-State terminated: no more NOTIFYs (RFC 6665 §4.1.3). */
  readonly subscriptionTerminated: boolean;
}

export type ReferNotifyReading = { readonly ok: true; readonly progress: ReferProgress } | { readonly ok: false; readonly status: 400 | 489; readonly reason: string };

/**
 * Reads a NOTIFY of a refer subscription (RFC 3515 §2.4.5): Event must be refer (else 489), the
 * body a message/sipfrag whose first line is a SIP/2.0 status line (else 400).
 */
export function readReferNotify(notify: SipRequest): ReferNotifyReading {
  if (notify.event?.value.toLowerCase() !== REFER_EVENT) return { ok: false, status: 489, reason: 'Bad Event' };
  const terminated = notify.subscriptionState?.value.toLowerCase() === 'terminated';
  if (notify.body.length === 0) return { ok: true, progress: { status: undefined, reason: undefined, final: false, succeeded: false, subscriptionTerminated: terminated } };
  const ct = notify.contentType;
  if (ct && ct.essence !== 'message/sipfrag') return { ok: false, status: 400, reason: `Bad Request - a refer NOTIFY carries message/sipfrag, not ${ct.essence}` };
  const line = notify.bodyText.split(/\r?\n/, 1)[0] ?? '';
  const m = /^SIP\/2\.0 ([1-6]\d\d)(?: (.*))?$/.exec(line.trim());
  if (!m) return { ok: false, status: 400, reason: 'Bad Request - the sipfrag does not start with a status line' };
  const status = Number(m[1]);
  return { ok: true, progress: { status, reason: m[2] ?? '', final: status >= 200, succeeded: status >= 200 && status < 300, subscriptionTerminated: terminated } };
}
