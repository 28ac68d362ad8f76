// One session's offer/answer state (RFC 3264): o= id and version, the agreed and pending descriptions, stable / have-local-offer / have-remote-offer with rollback.
import {
  acceptAnswer,
  buildAnswer,
  buildOfferMedia,
  buildSession,
  isRefusal,
  offerDirection,
  resolveSdpConfig,
  selectFromOffer,
  type OfferPlan,
  type OfferSelection,
  type ResolvedSdpConfig,
} from './negotiate.js';
import { parseSdp, writeSdp, type MediaDescription, type SessionDescription } from './sdp-parse.js';
import { generateSdesKey, type SdesCrypto } from './sdes.js';
import { SdpStateError, type NegotiatedAudio, type SdpConfig, type SdpMakeOptions, type SdpRefusal, type SdpSrtpSuite } from './sdp-types.js';

/**
 * States of one session's offer/answer exchange (RFC 3264 §4; the names of RFC 8829 §3.2 / JSEP).
 *
 * ```text
 *                 createOffer()                               receiveOffer() ok
 *   ┌──────────────────┐ ◄───────────── ┌────────┐ ───────────────► ┌───────────────────┐
 *   │ have-local-offer │                │ stable │                  │ have-remote-offer │
 *   └──────────────────┘ ─────────────► └────────┘ ◄─────────────── └───────────────────┘
 *           receiveAnswer() ok, rollback()  │  ▲      createAnswer(), rollback()
 *                                           └──┘ receiveAnswer() ok from another fork / the
 *                                                final answer after an early one (same offer)
 * ```
 *
 * A refused offer or answer changes nothing (the verdict is returned, the state stays).
 */
export enum OfferAnswerState {
  Stable = 'stable',
  HaveLocalOffer = 'have-local-offer',
  HaveRemoteOffer = 'have-remote-offer',
}

const S = OfferAnswerState;

const EDGES: Readonly<Record<OfferAnswerState, readonly OfferAnswerState[]>> = {
  [S.Stable]: [S.HaveLocalOffer, S.HaveRemoteOffer, S.Stable],
  [S.HaveLocalOffer]: [S.Stable],
  [S.HaveRemoteOffer]: [S.Stable],
};

/** receiveOffer() took the offer: an answer can be made. `rtcpMux` says whether it will accept rtcp-mux (the stream must be bound for it). */
export type SdpOfferVerdict = { readonly ok: true; readonly rtcpMux: boolean; readonly srtp: boolean } | SdpRefusal;

/** receiveAnswer() took the answer. */
export type SdpAnswerVerdict = { readonly ok: true; readonly negotiated: NegotiatedAudio } | SdpRefusal;

/** Our answer and what it agreed on. */
export interface SdpLocalAnswer {
  readonly sdp: string;
  readonly negotiated: NegotiatedAudio;
}

/** The last exchange both sides agreed on. */
interface Agreement {
  readonly local: string;
  readonly remote: string;
  readonly negotiated: NegotiatedAudio;
}

/** The first o= version of a session. */
export const INITIAL_SDP_VERSION = 1;

/**
 * The offer/answer of one SIP session (RFC 3264), on one audio stream. Every SDP it writes has the
 * same o= username and session id; the version goes up by one whenever the SDP differs from the last
 * one sent, and stays when it is the same (RFC 3264 §8: a session refresh that changes nothing).
 * Pure: no clock, no I/O; keys and the session id come from the injected random source.
 */
export class OfferAnswer {
  readonly sessionId: string;
  private readonly config: ResolvedSdpConfig;
  private stateValue = OfferAnswerState.Stable;
  private agreed: Agreement | undefined;
  /** The offer we made and the agreement before it (rollback). Kept after an answer, for answers from other forks. */
  private localOffer: { sdp: string; plan: OfferPlan; before: Agreement | undefined } | undefined;
  private remoteOffer: { text: string; sdp: SessionDescription; selection: OfferSelection } | undefined;
  private lastSent: { version: number; text: string } | undefined;
  private readonly keys = new Map<SdpSrtpSuite, string>();

  /** Throws SdpConfigError for a configuration that cannot work. */
  constructor(config: SdpConfig) {
    this.config = resolveSdpConfig(config);
    // RFC 4566 §5.2: a numeric session id, unique enough; 48 random bits stay exact in a number.
    const b = this.config.randomBytes(6);
    this.sessionId = String(b.reduce((n, byte) => n * 256 + byte, 0) || 1);
  }

  get state(): OfferAnswerState {
    return this.stateValue;
  }

  /** The o= version of the last SDP we sent; undefined before the first. */
  get sessionVersion(): number | undefined {
    return this.lastSent?.version;
  }

  /** What the last completed exchange agreed on; undefined before the first. */
  get negotiated(): NegotiatedAudio | undefined {
    return this.agreed?.negotiated;
  }

  /** Our SDP of the last completed exchange (offer or answer). */
  get localDescription(): string | undefined {
    return this.agreed?.local;
  }

  /** The peer's SDP of the last completed exchange. */
  get remoteDescription(): string | undefined {
    return this.agreed?.remote;
  }

  /** Our offer waiting for an answer (have-local-offer), or the peer's waiting for ours (have-remote-offer). */
  get pendingDescription(): string | undefined {
    if (this.stateValue === S.HaveLocalOffer) return this.localOffer?.sdp;
    if (this.stateValue === S.HaveRemoteOffer) return this.remoteOffer?.text;
    return undefined;
  }

  /** Whether the peer holds us, as far as the last agreement says. */
  get remoteHold(): boolean {
    return this.agreed?.negotiated.remoteHold ?? false;
  }

  /** Whether our offers carry a=rtcp-mux (RFC 5761 §5.1.1). */
  get offersRtcpMux(): boolean {
    return this.config.rtcpMux;
  }

  /**
   * Makes an offer (initial INVITE, re-INVITE, UPDATE, or the 2xx to an INVITE without a body).
   * Every codec in our order, telephone-event per clock rate, CN, crypto per suite (SRTP on), rtcp-mux.
   */
  createOffer(options: SdpMakeOptions): string {
    this.transition(S.HaveLocalOffer, 'create an offer');
    const cryptos: SdesCrypto[] =
      this.config.srtp === 'off' ? [] : this.config.srtpSuites.map((suite, i) => ({ tag: i + 1, suite, key: this.keyOf(suite) }));
    const plan: OfferPlan = {
      protocol: this.config.srtp === 'mandatory' ? 'RTP/SAVP' : 'RTP/AVP',
      direction: offerDirection(options.hold, this.remoteHold),
      hold: options.hold,
      rtcpMux: this.config.rtcpMux,
      cryptos,
      ports: { rtpPort: options.rtpPort, ...(options.rtcpPort !== undefined ? { rtcpPort: options.rtcpPort } : {}) },
    };
    const sdp = this.stamp([buildOfferMedia(this.config, plan)]);
    this.localOffer = { sdp, plan, before: this.agreed };
    this.remoteOffer = undefined;
    return sdp;
  }

  /**
   * The peer's answer to our offer. Also taken in the stable state when it answers the offer already
   * answered — another fork's, or the 2xx's after a 1xx's — until the next offer. A refusal changes nothing.
   */
  receiveAnswer(text: string): SdpAnswerVerdict {
    const offer = this.localOffer;
    if (offer === undefined || (this.stateValue !== S.HaveLocalOffer && this.stateValue !== S.Stable)) {
      throw new SdpStateError(`cannot take an answer in state ${this.stateValue} without an offer of ours`);
    }
    const parsed = parseSdp(text, this.config.maxSdpBytes);
    if (!parsed.ok) return parsed;
    const negotiated = acceptAnswer(this.config, parsed.sdp, offer.plan);
    if (isRefusal(negotiated)) return negotiated;
    this.transition(S.Stable, 'take an answer');
    this.agreed = { local: offer.sdp, remote: text, negotiated };
    return { ok: true, negotiated };
  }

  /** The peer's offer. A refusal (400 / 488) changes nothing: the last agreement stays (RFC 3264 §6, RFC 3261 §14.2). */
  receiveOffer(text: string): SdpOfferVerdict {
    if (this.stateValue !== S.Stable) throw new SdpStateError(`cannot take an offer in state ${this.stateValue} (RFC 3264 §4: one offer at a time)`);
    const parsed = parseSdp(text, this.config.maxSdpBytes);
    if (!parsed.ok) return parsed;
    const selection = selectFromOffer(this.config, parsed.sdp);
    if (isRefusal(selection)) return selection;
    this.transition(S.HaveRemoteOffer, 'take an offer');
    this.remoteOffer = { text, sdp: parsed.sdp, selection };
    this.localOffer = undefined;
    return { ok: true, rtcpMux: selection.rtcpMux, srtp: selection.crypto !== undefined };
  }

  /** The answer to the offer taken by receiveOffer(), with our ports and hold applied (RFC 3264 §6.1, §8.4). */
  createAnswer(options: SdpMakeOptions): SdpLocalAnswer {
    const offer = this.remoteOffer;
    if (this.stateValue !== S.HaveRemoteOffer || offer === undefined) throw new SdpStateError(`cannot answer in state ${this.stateValue}: no offer taken`);
    const ports = { rtpPort: options.rtpPort, ...(options.rtcpPort !== undefined ? { rtcpPort: options.rtcpPort } : {}) };
    const parts = buildAnswer(this.config, offer.sdp, offer.selection, { hold: options.hold, ports, keyOf: (suite) => this.keyOf(suite) });
    const sdp = this.stamp(parts.media);
    this.transition(S.Stable, 'answer');
    this.agreed = { local: sdp, remote: offer.text, negotiated: parts.negotiated };
    this.remoteOffer = undefined;
    return { sdp, negotiated: parts.negotiated };
  }

  /**
   * Back to the last agreement: our offer was refused (488, 491, a failed INVITE), or the peer's offer
   * is dropped before we answered. After an offer of ours, an answer taken from it is forgotten too.
   * Nothing to undo in the stable state without an open offer.
   */
  rollback(): void {
    if (this.localOffer !== undefined && (this.stateValue === S.HaveLocalOffer || this.stateValue === S.Stable)) {
      this.agreed = this.localOffer.before;
      this.localOffer = undefined;
      if (this.stateValue !== S.Stable) this.transition(S.Stable, 'roll back');
      return;
    }
    if (this.stateValue === S.HaveRemoteOffer) {
      this.remoteOffer = undefined;
      this.transition(S.Stable, 'roll back');
    }
  }

  /** The offer stops taking answers (the session is confirmed: a late fork's answer is not ours to take). */
  closeOffer(): void {
    if (this.stateValue === S.Stable) this.localOffer = undefined;
  }

  private transition(to: OfferAnswerState, what: string): void {
    if (!EDGES[this.stateValue].includes(to)) throw new SdpStateError(`cannot ${what} in state ${this.stateValue}`);
    this.stateValue = to;
  }

  private keyOf(suite: SdpSrtpSuite): string {
    let key = this.keys.get(suite);
    if (key === undefined) {
      key = generateSdesKey(this.config.randomBytes);
      this.keys.set(suite, key);
    }
    return key;
  }

  /** Serializes with the o= version of RFC 3264 §8: the last one when the SDP is unchanged, the next otherwise. */
  private stamp(media: MediaDescription[]): string {
    const write = (version: number): string => writeSdp(buildSession(this.config, { sessionId: this.sessionId, version }, structuredClone(media)));
    if (this.lastSent !== undefined) {
      const same = write(this.lastSent.version);
      if (same === this.lastSent.text) return same;
    }
    const version = this.lastSent === undefined ? INITIAL_SDP_VERSION : this.lastSent.version + 1;
    const text = write(version);
    this.lastSent = { version, text };
    return text;
  }
}
