// The outcome of a request sent in a client transaction, as the promise API reports it.
import type { SipResponse } from '../message/message.js';

/**
 * How a request ended: a final response (RFC 3261 §8.1.3), Timer B / F expiry (§17.1.1.2,
 * §17.1.2.2: treat as 408), or a transport failure (§17.1.4: treat as 503).
 */
export type RequestOutcome = { kind: 'response'; response: SipResponse } | { kind: 'timeout' } | { kind: 'transport-error'; error: Error };

/** What became of a CANCEL (RFC 3261 §9.1): its own outcome, or why none was sent. */
export type CancelOutcome =
  | RequestOutcome
  /** The INVITE got a final response (or ended) before a CANCEL could be sent; nothing was sent. */
  | { kind: 'not-sent'; reason: 'final-response' | 'terminated' };
