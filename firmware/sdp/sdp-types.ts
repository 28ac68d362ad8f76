// The SDP layer's own vocabulary: codec descriptions, the local configuration, the negotiated audio stream and the verdicts (independent of firmware/media, DESIGN.md).

/** Audio encodings the SDP layer knows how to offer and recognise (RFC 3551 §6, RFC 7587). */
export type SdpCodecName = 'opus' | 'PCMU' | 'PCMA' | 'G722';
export const SDP_CODEC_NAMES: readonly SdpCodecName[] = ['opus', 'PCMU', 'PCMA', 'G722'];

/** RFC 3264 §5.1 / RFC 4566 §6 media direction, always from the point of view of the SDP's author. */
export type SdpDirection = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';

/** fmtp parameters as name → value strings (RFC 4566 §6 `a=fmtp:<fmt> <params>`; `k=v;k=v` for the audio codecs here). */
export type FmtpParams = Readonly<Record<string, string>>;

/**
 * One codec of the local preference list (CONVENTIONS.md #4: capabilities are data). The glue
 * (firmware/call) maps the media engine's capabilities to these.
 */
export interface SdpCodec {
  readonly name: SdpCodecName;
  /** The rtpmap clock rate: 48000 for Opus (RFC 7587 §4.1), 8000 for G.711 and for G.722 (RFC 3551 §4.5.2). */
  readonly clockRate: number;
  /** The rtpmap channel count: 2 for Opus (RFC 7587 §7), 1 otherwise. */
  readonly channels: number;
  /** RFC 3551 static payload type (0 PCMU, 8 PCMA, 9 G722); absent for a dynamic one. */
  readonly staticPayloadType?: number;
  /** The dynamic payload type to offer it with (96–127); default the first free one from 96. */
  readonly payloadType?: number;
  /** Our fmtp, written in offers and answers (Opus: useinbandfec, usedtx, maxplaybackrate, minptime — RFC 7587 §6.1). */
  readonly fmtp?: Readonly<Record<string, string | number>>;
  /** Packet durations we can send with it; absent: any. A peer's a=ptime outside these is not followed. */
  readonly ptimesMs?: readonly number[];
}

/** The SDES crypto-suites the layer can negotiate (RFC 4568 §6.2). */
export type SdpSrtpSuite = 'AES_CM_128_HMAC_SHA1_80' | 'AES_CM_128_HMAC_SHA1_32';
export const SDP_SRTP_SUITES: readonly SdpSrtpSuite[] = ['AES_CM_128_HMAC_SHA1_80', 'AES_CM_128_HMAC_SHA1_32'];

/**
 * off: plain RTP/AVP only (an RTP/SAVP offer is refused). optional: offers RTP/AVP with `a=crypto`
 * (best-effort SRTP, as baresip's `srtp` mode) and takes either. mandatory: offers RTP/SAVP and refuses
 * a peer without crypto.
 */
export type SrtpMode = 'off' | 'optional' | 'mandatory';

/** Random octets: node:crypto in the phone, a seeded source in tests (DESIGN.md: randomness is injected). */
export type SdpRandomBytes = (size: number) => Uint8Array;

/** What the local side of every offer and answer says. */
export interface SdpConfig {
  /** The address written in o= and c= (a literal IPv4 or IPv6 address; its family picks IP4 / IP6). */
  readonly address: string;
  /** Codecs in order of preference (at least one). */
  readonly codecs: readonly SdpCodec[];
  /** a=ptime: the packet duration we want to receive. Default 20. */
  readonly ptimeMs?: number;
  /** a=maxptime; absent: not written. */
  readonly maxptimeMs?: number;
  /** Default 'off'. */
  readonly srtp?: SrtpMode;
  /** Suites to offer and accept, in order of preference. Default SDP_SRTP_SUITES. */
  readonly srtpSuites?: readonly SdpSrtpSuite[];
  /** Offer and accept RFC 4733 telephone-event. Default true. */
  readonly telephoneEvent?: boolean;
  /** Offer and accept RFC 3389 comfort noise CN/8000 (pt 13) with 8 kHz codecs. Default true. */
  readonly comfortNoise?: boolean;
  /** Offer RFC 5761 rtcp-mux (it is always accepted when offered). Default true. */
  readonly rtcpMux?: boolean;
  /** o= username. Default '-'. */
  readonly username?: string;
  /** s= line. Default 'offhook'. */
  readonly sessionName?: string;
  /** Source of SRTP keys and of the o= session id. Default node:crypto's randomBytes. */
  readonly randomBytes?: SdpRandomBytes;
  /**
   * List every codec in common in an answer, in our order (RFC 3264 §6.1 allows it). Default false:
   * only the chosen one, since a stream of the engine receives one codec and a peer free to switch
   * among several would be heard as unknown payload types.
   */
  readonly answerAllCommonCodecs?: boolean;
  /** Refuse bodies longer than this many octets. Default 65536. */
  readonly maxSdpBytes?: number;
}

/** The ports our side of the stream listens on, known once the media stream is bound. */
export interface SdpLocalPorts {
  readonly rtpPort: number;
  /** Without rtcp-mux; default rtpPort + 1 (RFC 3550 §11). */
  readonly rtcpPort?: number;
}

/** Options of one offer or answer. */
export interface SdpMakeOptions extends SdpLocalPorts {
  /** Put the peer on hold (RFC 3264 §8.4): we stop receiving. */
  readonly hold: boolean;
}

/** Why an SDP was refused; `status` is what a SIP session answers with. */
export type SdpRefusalCode =
  | 'too-large'
  | 'malformed'
  | 'no-audio'
  | 'no-common-codec'
  | 'bad-address'
  | 'srtp-disabled'
  | 'srtp-required'
  | 'srtp-no-suite'
  | 'answer-mismatch';

/** An SDP that cannot be taken. Never thrown: returned as a verdict. */
export interface SdpRefusal {
  readonly ok: false;
  /** 400 for a body that does not parse, 488 Not Acceptable Here otherwise (RFC 3261 §21.4.26). */
  readonly status: 400 | 488;
  readonly code: SdpRefusalCode;
  /** A line a person can read (also fit for a Warning header). */
  readonly reason: string;
}

/** An endpoint of the negotiated stream. */
export interface SdpEndpoint {
  readonly address: string;
  readonly port: number;
  /** Equal to port with rtcp-mux; otherwise a=rtcp (RFC 3605) or port + 1. */
  readonly rtcpPort: number;
}

/** The codec both sides agreed on. */
export interface NegotiatedCodec {
  readonly name: SdpCodecName;
  /** The payload type we send with: the one in the peer's SDP (RFC 3264 §5.1: it names what its author receives). */
  readonly payloadType: number;
  /** The payload type in our own SDP for it (equal to payloadType unless the answerer renumbered). */
  readonly localPayloadType: number;
  readonly clockRate: number;
  readonly channels: number;
  /** The peer's fmtp for it (what the peer wants to receive: maxplaybackrate, useinbandfec, usedtx ...). */
  readonly fmtp: FmtpParams;
  /** Our fmtp for it. */
  readonly localFmtp: FmtpParams;
}

/** SDES keys of the stream (RFC 4568), in the engine's shape: ours protects what we send, the peer's what we receive. */
export interface NegotiatedSrtp {
  readonly suite: SdpSrtpSuite;
  /** Base64 of 30 octets (master key + salt). */
  readonly localKey: string;
  readonly remoteKey: string;
  /** The a=crypto tag both sides used. */
  readonly tag: number;
}

/** Everything the media engine needs about the audio stream an offer/answer exchange agreed on. */
export interface NegotiatedAudio {
  /** Index of the audio m-line in the SDPs. */
  readonly mediaIndex: number;
  readonly local: SdpEndpoint;
  readonly remote: SdpEndpoint;
  readonly rtcpMux: boolean;
  readonly codec: NegotiatedCodec;
  /** The packet duration we send with: the peer's a=ptime when our codec can do it, else ours. */
  readonly ptimeMs: number;
  /** RFC 4733 telephone-event at the codec's clock rate; undefined when the peer has none at that rate. */
  readonly telephoneEventPayloadType: number | undefined;
  /** RFC 3389 CN/8000; undefined when not agreed. */
  readonly comfortNoisePayloadType: number | undefined;
  /** What we do: sendrecv, sendonly (we send, do not receive), recvonly, inactive. */
  readonly direction: SdpDirection;
  /** The peer does not want to receive: it said sendonly / inactive, or c=0.0.0.0 (RFC 2543 hold). */
  readonly remoteHold: boolean;
  /** We asked for hold in this exchange. */
  readonly localHold: boolean;
  /** undefined: plain RTP. */
  readonly srtp: NegotiatedSrtp | undefined;
}

/** Programming errors: a method called in a state that does not allow it, or a broken configuration. */
export class SdpStateError extends Error {
  override readonly name = 'SdpStateError';
}

export class SdpConfigError extends Error {
  override readonly name = 'SdpConfigError';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field} ${message}`);
  }
}
