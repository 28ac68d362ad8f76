// The contract between an INVITE session and whatever handles its offers and answers (SDP and media), so that firmware/sip stays free of SDP and media (DESIGN.md): SIP.js's SessionDescriptionHandler, PJSIP's pjmedia_sdp_neg seen from the invite session.

/** The body of an offer or an answer, opaque to the SIP layer. */
export interface SessionBody {
  /** The Content-Type, e.g. "application/sdp". */
  readonly contentType: string;
  readonly body: string;
}

/** The handler could not take an offer or an answer (no codec in common, malformed SDP...). */
export interface SessionBodyRefusal {
  readonly ok: false;
  /** The status to answer an offer with: 488 Not Acceptable Here, or 400 for a body that does not parse. */
  readonly status: 400 | 488;
  /** A line a person can read, also sent in a Warning header (RFC 3261 §20.43, code 304/305/399). */
  readonly reason: string;
}

export type SessionBodyVerdict = { readonly ok: true } | SessionBodyRefusal;

/** Why an offer is being made: the media direction it asks for. */
export interface OfferOptions {
  /** Put the peer on hold (RFC 3264 §8.4: a=sendonly, or inactive when the peer holds us too). */
  hold: boolean;
}

/**
 * One INVITE session's offer/answer state (RFC 3264) and the media behind it. The session calls
 * these at the protocol's moments; the handler decides what the bodies say and starts, changes and
 * stops the media. Exactly one offer is outstanding at a time (RFC 3264 §4, RFC 6337): the session
 * guarantees it and answers 491 / 500 to a peer that breaks that.
 *
 * Forking: an offer sent in an INVITE can get an answer from several early dialogs. Each call of
 * receiveAnswer names the dialog's remote tag (`fork`); the one from the dialog that answers 2xx
 * wins, and the handler plays the media of the latest early dialog until then.
 */
export interface SessionDescriptionHandler {
  /** A new offer: the initial INVITE, a re-INVITE or UPDATE (hold, resume, session refresh), or the 2xx to an INVITE without a body. */
  createOffer(options: OfferOptions): Promise<SessionBody>;
  /**
   * The peer's offer (INVITE, re-INVITE, UPDATE, or the 2xx / reliable 1xx answering our body-less
   * INVITE). A refusal makes the session answer the request with its status (488 for an INVITE).
   */
  receiveOffer(offer: SessionBody): SessionBodyVerdict;
  /** The answer to the offer last received; `hold` asks for sendonly / inactive in it. */
  createAnswer(options: OfferOptions): Promise<SessionBody>;
  /**
   * The peer's answer to our last offer. `early`: from a 1xx (early media). `fork`: the remote tag
   * of the dialog it came in. A refusal after a 2xx makes the session ACK and then BYE (RFC 3261 §13.2.2.4).
   */
  receiveAnswer(answer: SessionBody, context: { early: boolean; fork: string }): SessionBodyVerdict;
  /** An offer we made was refused (488, 491, a failed INVITE): back to the last agreed state. */
  rollback(): void;
  /** The session is confirmed (2xx + ACK): media flows both ways as negotiated. */
  confirmed(): void;
  /** Sends DTMF in the media (RFC 4733). Digits 0-9 * # A-D; false when the negotiated media has no telephone-event. */
  sendDtmf(digits: string, durationMs: number): boolean;
  /** The session ended: stop the media and free its ports. Idempotent. */
  close(): void;
  /**
   * The peer holds us, as the last completed offer/answer says (RFC 3264 §8.4: it offered
   * sendonly or inactive, or the RFC 2543 c=0.0.0.0). Optional: a handler without it never
   * reports a remote hold, and the session's 'hold' event then only follows our own hold.
   */
  readonly remoteHold?: boolean;
}

/** What the session offers its handler. */
export interface SessionDescriptionContext {
  /** The session's direction: 'outgoing' (we sent the INVITE) or 'incoming'. */
  readonly direction: 'outgoing' | 'incoming';
  /**
   * The media failed for good (no RTP for the configured time while not on hold, the RTP socket
   * gone): the session ends the call with a BYE (reason for the log and the UI).
   */
  mediaFailed(reason: string): void;
}

/** Makes one handler per INVITE session (incoming or outgoing). */
export type SessionDescriptionHandlerFactory = (context: SessionDescriptionContext) => SessionDescriptionHandler;
