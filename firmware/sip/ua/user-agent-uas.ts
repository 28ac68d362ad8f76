// What the UA says it can do (Allow, Accept, Supported: RFC 3261 §11.2, §8.2) and how it answers the requests outside a dialog that are not calls.
import type { ValidateOptions } from '../message/index.js';
import type { AnyServerTransaction } from '../transaction/index.js';

/**
 * The methods this UA handles (the Allow header, RFC 3261 §20.5): calls (INVITE, ACK, CANCEL,
 * BYE; re-INVITE within a call) and OPTIONS; REFER in a call (transfer, RFC 3515), NOTIFY (of
 * our REFERs and MWI subscriptions, and unsolicited MWI, RFC 6665 / 3842) and MESSAGE (RFC
 * 3428). Any other method gets 501 with this Allow from the stateless checks (RFC 3261 §8.2.1).
 * The other in-dialog extensions join this list with the modules that handle them
 * (Session.handleRequests).
 */
export const UA_METHODS: readonly string[] = ['INVITE', 'ACK', 'CANCEL', 'BYE', 'OPTIONS', 'REFER', 'NOTIFY', 'MESSAGE', 'PRACK', 'UPDATE', 'INFO'];
/**
 * Body types it understands (RFC 3261 §8.2.3: others get 415 with this Accept): SDP, message
 * summaries (MWI NOTIFY), text (MESSAGE), sipfrag (the NOTIFYs of a REFER).
 */
export const UA_ACCEPT: readonly string[] = ['application/sdp', 'application/simple-message-summary', 'text/plain', 'message/sipfrag', 'application/dtmf-relay', 'application/dtmf'];
/**
 * Option-tags the UA always supports, before UserAgentOptions.supported: Replaces (RFC 3891 §6.1),
 * Refer-Sub: false (RFC 4488), reliable provisional responses (RFC 3262) and session timers
 * (RFC 4028; left out when calls.sessionTimers.enabled is false: uaOptionTags).
 */
export const UA_SUPPORTED: readonly string[] = ['replaces', 'norefersub', '100rel', 'timer'];
/** UA_SUPPORTED (without timer when session timers are off) and then the configured option-tags, each once. */
export function uaOptionTags(configured: readonly string[], options: { sessionTimers: boolean }): string[] {
  return [...new Set([...UA_SUPPORTED.filter((t) => options.sessionTimers || t !== 'timer'), ...configured])];
}
/** Event packages it takes NOTIFYs of (Allow-Events, RFC 6665 §8.2.2). */
export const UA_EVENTS: readonly string[] = ['message-summary', 'refer'];
/** Content-Encodings it understands: none but the identity (RFC 3261 §20.2). */
export const UA_ACCEPT_ENCODING: readonly string[] = ['identity'];
/** Languages of its reason phrases and of any text it sends. */
export const UA_ACCEPT_LANGUAGE: readonly string[] = ['en'];
/** Request-URI schemes it can be reached at (others get 416, RFC 3261 §8.2.2.1). */
export const UA_SCHEMES: readonly string[] = ['sip', 'sips'];

export interface UaCapabilities {
  /** Option-tags in Supported, and the ones a Require may name (RFC 3261 §8.2.2.3: others get 420). */
  supported: readonly string[];
  /** The Server header of the responses the UA builds (RFC 3261 §20.35). */
  server: string | undefined;
}

/** The stateless checks of the TransactionLayer (RFC 3261 §8.2) with this UA's capabilities. */
export function validationOptions(c: UaCapabilities): ValidateOptions {
  return {
    knownMethods: UA_METHODS,
    supportedSchemes: UA_SCHEMES,
    supportedOptions: c.supported,
    acceptedContentTypes: UA_ACCEPT,
    acceptedEncodings: UA_ACCEPT_ENCODING,
  };
}

/**
 * RFC 3261 §11.2: the answer to OPTIONS lists what the UA could do with an INVITE. Supported is
 * sent even when empty, which says "no extension" (§20.37) rather than leaving the peer to guess.
 */
export function capabilityHeaders(c: UaCapabilities): [string, string][] {
  const headers: [string, string][] = [
    ['Allow', UA_METHODS.join(', ')],
    ['Accept', UA_ACCEPT.join(', ')],
    ['Accept-Encoding', UA_ACCEPT_ENCODING.join(', ')],
    ['Accept-Language', UA_ACCEPT_LANGUAGE.join(', ')],
    ['Supported', c.supported.join(', ')],
    ['Allow-Events', UA_EVENTS.join(', ')],
  ];
  if (c.server !== undefined) headers.push(['Server', c.server]);
  return headers;
}

/** What became of a request the UA answered itself (for its log line and tests). */
export interface OutOfDialogAnswer {
  method: string;
  status: number;
}

/**
 * Answers a request that passed the stateless checks and that the CallManager left alone (it
 * takes every INVITE and every request with a To tag):
 * - OPTIONS outside a dialog: 200 with the capabilities (RFC 3261 §11.2).
 * - Anything with a To tag: 481, no such dialog (RFC 3261 §12.2.2).
 * - An INVITE (only reached when no CallManager runs): 480 Temporarily Unavailable, which tells
 *   a proxy to try the other contacts of the AOR.
 * - Any other method outside a dialog (BYE without a To tag): 481 as well, there is nothing it could end.
 */
export function answerOutOfDialog(tx: AnyServerTransaction, c: UaCapabilities): OutOfDialogAnswer {
  const request = tx.request;
  const server: [string, string][] = c.server !== undefined ? [['Server', c.server]] : [];
  let status: number;
  if (request.to.tag !== undefined) status = 481;
  else if (request.method === 'OPTIONS') status = 200;
  else if (request.method === 'INVITE') status = 480;
  else status = 481;
  tx.reply(status, { headers: status === 200 ? capabilityHeaders(c) : server });
  return { method: request.method, status };
}
