// The narrow contract the UA layers send requests through; the transaction layer implements it (RFC 3261 §17.1).
import type { SipRequest, SipResponse } from '../message/index.js';

/**
 * How a client transaction ended (RFC 3261 §17.1): a final response, Timer B / F firing
 * (§17.1.1.2, §17.1.2.2; a UA treats it as 408, §8.1.3.1), or a transport failure (§17.1.4;
 * treated as 503).
 */
export type RequestOutcome = { kind: 'response'; response: SipResponse } | { kind: 'timeout' } | { kind: 'transport-error'; error: Error };

/**
 * Sends one request in a new client transaction and resolves with its outcome; never rejects.
 * The implementation adds the top Via (with a fresh branch, §8.1.1.7) and picks the next hop
 * from the Route set or the Request-URI (RFC 3263); the caller builds everything else.
 */
export interface RequestSender {
  send(request: SipRequest, options?: { onProvisional?: (r: SipResponse) => void }): Promise<RequestOutcome>;
}
