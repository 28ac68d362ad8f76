// The SessionDescriptionHandler of a call: SDP offer/answer (firmware/sdp) driving one RTP stream of the media engine (firmware/media), as pjsua-lib joins pjsip and pjmedia.
import { CODEC_CAPABILITIES, type CodecName, type CodecOptions } from '../media/codecs.js';
import { MediaEngineError, type JitterOptions, type MediaDirection, type MediaEngine, type RtpStream, type RtpStreamOptions, type Unsubscribe } from '../media/media-engine.js';
import {
  OfferAnswer,
  OfferAnswerState,
  SdpStateError,
  type NegotiatedAudio,
  type SdpCodec,
  type SdpRandomBytes,
  type SdpSrtpSuite,
  type SrtpMode,
} from '../sdp/index.js';
import type {
  OfferOptions,
  SessionBody,
  SessionBodyRefusal,
  SessionBodyVerdict,
  SessionDescriptionContext,
  SessionDescriptionHandler,
  SessionDescriptionHandlerFactory,
} from '../sip/ua/session-description.js';
import { silentLogger, type Logger } from '../util/log.js';

export const SDP_CONTENT_TYPE = 'application/sdp';

/** Opus settings of our side (RFC 7587 §6.1 fmtp, and the encoder). */
export interface OpusPreference {
  /** maxplaybackrate we announce and the highest rate we encode at. Default 16000 (wideband). */
  sampleRateHz?: 8000 | 16000 | 48000;
  /** useinbandfec=1, and LBRR in what we send. Default true. */
  fec?: boolean;
  /** usedtx=1; we send DTX only when the peer asks for it too. Default false. */
  dtx?: boolean;
  /** Encoder complexity 0–10 (engine default 5). */
  complexity?: number;
}

/** How the calls of one account (or the phone) do media. */
export interface SdpMediaHandlerOptions {
  engine: MediaEngine;
  /** Address the RTP socket binds: a literal, '0.0.0.0' or '::' for all. */
  bindAddress: string;
  /** Address written in the SDP; default bindAddress (which must then not be a wildcard). */
  advertisedAddress?: string;
  /** Local RTP port; 0 / absent: the kernel picks (an even one, RTCP on the next). */
  localPort?: number;
  /**
   * Makes the call's stream instead of engine.createStream(): the composition root picks the port
   * from the configured RTP range this way (a bound port is kept when the stream is made again).
   */
  createStream?: ((options: RtpStreamOptions) => RtpStream) | undefined;
  /** Codecs in order of preference, by the engine's names. Default opus, PCMU, PCMA. */
  codecs?: readonly CodecName[];
  opus?: OpusPreference;
  /** Packet duration we ask for (a=ptime). Default 20. */
  ptimeMs?: number;
  /** Default 'off'. */
  srtp?: SrtpMode;
  srtpSuites?: readonly SdpSrtpSuite[];
  /** The call fails (context.mediaFailed) after this long without RTP while we receive. 0 / absent: never. */
  rtpTimeoutS?: number;
  jitter?: JitterOptions;
  /** Symmetric RTP latching (NAT). Default false. */
  latching?: boolean;
  /** Offer rtcp-mux. Default true. */
  rtcpMux?: boolean;
  /** SRTP keys and o= session ids; default node:crypto. */
  randomBytes?: SdpRandomBytes;
  log?: Logger;
}

const DEFAULT_CODECS: readonly CodecName[] = ['opus', 'PCMU', 'PCMA'];

function isWildcard(address: string): boolean {
  return address === '0.0.0.0' || address === '::';
}

/** The engine's codecs as the SDP layer's descriptions (capabilities are data, CONVENTIONS.md #4). */
export function sdpCodecsFor(codecs: readonly CodecName[], opus: OpusPreference = {}): SdpCodec[] {
  return codecs.map((name): SdpCodec => {
    const cap = CODEC_CAPABILITIES[name];
    const base = { name, clockRate: cap.rtpClockHz, channels: cap.rtpmapChannels, ptimesMs: cap.ptimesMs };
    if (name !== 'opus') return cap.staticPayloadType === undefined ? base : { ...base, staticPayloadType: cap.staticPayloadType };
    const minptime = Math.min(...cap.ptimesMs);
    return {
      ...base,
      fmtp: { minptime, useinbandfec: (opus.fec ?? true) ? 1 : 0, usedtx: (opus.dtx ?? false) ? 1 : 0, maxplaybackrate: opus.sampleRateHz ?? 16000 },
    };
  });
}

/** The direction with the sending half taken away: what early media does before the call is confirmed. */
function receiveOnly(direction: MediaDirection): MediaDirection {
  return direction === 'sendrecv' || direction === 'recvonly' ? 'recvonly' : 'inactive';
}

function refuse(status: 400 | 488, reason: string): SessionBodyRefusal {
  return { ok: false, status, reason };
}

function describe(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * One call's offers and answers and its RTP stream. The stream is bound by the first offer or answer
 * (its port goes into the SDP) and lives until close(); a change of rtcp-mux, which a bound stream
 * cannot make, rebinds it on the same port. Early answers play early media receive-only; confirmed()
 * opens the sending side. The answer of each fork moves the stream to that fork's address.
 */
export class SdpMediaHandler implements SessionDescriptionHandler {
  private readonly oa: OfferAnswer;
  private readonly engine: MediaEngine;
  private readonly log: Logger;
  private readonly codecPreference: readonly CodecName[];
  private streamValue: RtpStream | undefined;
  private streamMux = false;
  /** The offer taken asks for rtcp-mux, which our answer accepts (RFC 5761 §5.1.1). */
  private offerMux = false;
  private confirmedValue = false;
  /** The answer last applied came in a 1xx: we only listen until confirmed(). */
  private early = false;
  private fork: string | undefined;
  private closed = false;
  private failed = false;
  private readonly unsubscribe: Unsubscribe;

  constructor(
    private readonly options: SdpMediaHandlerOptions,
    private readonly context: SessionDescriptionContext,
  ) {
    const advertised = options.advertisedAddress ?? options.bindAddress;
    if (isWildcard(advertised)) throw new RangeError('advertisedAddress is needed when bindAddress is a wildcard');
    this.engine = options.engine;
    this.log = (options.log ?? silentLogger()).child({ mod: 'call/sdp-media' });
    this.codecPreference = options.codecs ?? DEFAULT_CODECS;
    const maxptimeMs = Math.min(...this.codecPreference.map((c) => Math.max(...CODEC_CAPABILITIES[c].ptimesMs)));
    this.oa = new OfferAnswer({
      address: advertised,
      codecs: sdpCodecsFor(this.codecPreference, options.opus),
      ptimeMs: options.ptimeMs ?? 20,
      maxptimeMs,
      srtp: options.srtp ?? 'off',
      ...(options.srtpSuites !== undefined ? { srtpSuites: options.srtpSuites } : {}),
      rtcpMux: options.rtcpMux ?? true,
      ...(options.randomBytes !== undefined ? { randomBytes: options.randomBytes } : {}),
    });
    this.unsubscribe = this.engine.on('rtpTimeout', (e) => {
      if (this.closed || this.failed || e.streamId !== this.streamValue?.id) return;
      // The engine reports it only while receiving; a hold in either direction never gets here.
      this.failed = true;
      this.log.warn({ silentMs: e.silentMs }, 'no RTP: the call has lost its media');
      this.context.mediaFailed(`no RTP received for ${Math.round(e.silentMs / 1000)} s`);
    });
  }

  /** The stream (undefined before the first offer or answer, and after close()). */
  get stream(): RtpStream | undefined {
    return this.streamValue;
  }

  /** What the last completed offer/answer agreed on. */
  get negotiated(): NegotiatedAudio | undefined {
    return this.oa.negotiated;
  }

  /** The offer/answer state (for logs and tests). */
  get offerAnswerState(): OfferAnswerState {
    return this.oa.state;
  }

  /** The peer holds us (sendonly / inactive / c=0.0.0.0), as the last completed offer/answer says: the session's remote hold. */
  get remoteHold(): boolean {
    return this.oa.remoteHold;
  }

  createOffer(options: OfferOptions): Promise<SessionBody> {
    try {
      this.checkOpen();
      // rtcp-mux is not known before the answer: bind RTP and RTCP apart, rebind if the answer takes mux.
      const stream = this.ensureStream(this.streamValue === undefined ? false : this.streamMux);
      const body = this.oa.createOffer({ hold: options.hold, rtpPort: stream.localRtpPort, rtcpPort: stream.localRtcpPort });
      return Promise.resolve({ contentType: SDP_CONTENT_TYPE, body });
    } catch (e) {
      return Promise.reject(e instanceof Error ? e : new Error(describe(e)));
    }
  }

  receiveOffer(offer: SessionBody): SessionBodyVerdict {
    if (this.closed) return refuse(488, 'the call is over');
    const typeRefusal = checkContentType(offer);
    if (typeRefusal !== undefined) return typeRefusal;
    if (this.oa.state !== OfferAnswerState.Stable) return refuse(488, `an offer is already outstanding (${this.oa.state})`);
    const verdict = this.oa.receiveOffer(offer.body);
    if (!verdict.ok) {
      this.log.info({ code: verdict.code, reason: verdict.reason }, 'offer refused');
      return refuse(verdict.status, verdict.reason);
    }
    this.offerMux = verdict.rtcpMux;
    return { ok: true };
  }

  createAnswer(options: OfferOptions): Promise<SessionBody> {
    try {
      this.checkOpen();
      if (this.oa.state !== OfferAnswerState.HaveRemoteOffer) throw new SdpStateError(`no offer to answer (${this.oa.state})`);
      const stream = this.ensureStream(this.offerMux);
      const answer = this.oa.createAnswer({ hold: options.hold, rtpPort: stream.localRtpPort, rtcpPort: stream.localRtcpPort });
      this.early = false;
      const applied = this.apply(answer.negotiated);
      if (!applied.ok) throw new Error(applied.reason);
      return Promise.resolve({ contentType: SDP_CONTENT_TYPE, body: answer.sdp });
    } catch (e) {
      return Promise.reject(e instanceof Error ? e : new Error(describe(e)));
    }
  }

  receiveAnswer(answer: SessionBody, context: { early: boolean; fork: string }): SessionBodyVerdict {
    if (this.closed) return refuse(488, 'the call is over');
    const typeRefusal = checkContentType(answer);
    if (typeRefusal !== undefined) return typeRefusal;
    let verdict;
    try {
      verdict = this.oa.receiveAnswer(answer.body);
    } catch (e) {
      return refuse(488, `no offer of ours to answer: ${describe(e)}`);
    }
    if (!verdict.ok) {
      this.log.info({ code: verdict.code, reason: verdict.reason, fork: context.fork }, 'answer refused');
      return refuse(verdict.status, verdict.reason);
    }
    if (this.fork !== undefined && this.fork !== context.fork) this.log.debug({ from: this.fork, to: context.fork }, 'media moves to another fork');
    this.fork = context.fork;
    this.early = context.early && !this.confirmedValue;
    return this.apply(verdict.negotiated);
  }

  rollback(): void {
    if (this.closed) return;
    this.oa.rollback();
    const agreed = this.oa.negotiated;
    if (agreed !== undefined) {
      const restored = this.apply(agreed);
      if (!restored.ok) this.log.warn({ reason: restored.reason }, 'could not restore the media after a rollback');
    } else if (this.streamValue?.state === 'started') {
      this.streamValue.stop(); // the early media of an INVITE that failed
    }
  }

  confirmed(): void {
    if (this.closed) return;
    this.confirmedValue = true;
    this.oa.closeOffer();
    if (this.early) {
      this.early = false;
      const agreed = this.oa.negotiated;
      if (agreed !== undefined) this.apply(agreed);
    }
  }

  sendDtmf(digits: string, durationMs: number): boolean {
    const stream = this.streamValue;
    const n = this.oa.negotiated;
    if (this.closed || stream?.state !== 'started' || n?.telephoneEventPayloadType === undefined) return false;
    if (n.direction !== 'sendrecv' && n.direction !== 'sendonly') return false;
    if (this.early) return false;
    if (!/^[0-9*#A-Da-d]+$/.test(digits)) return false;
    try {
      stream.sendDtmf(digits, { durationMs });
      return true;
    } catch (e) {
      if (e instanceof MediaEngineError) {
        this.log.warn({ code: e.code, err: e.message }, 'DTMF not sent');
        return false;
      }
      throw e;
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe();
    this.streamValue?.close();
    this.streamValue = undefined;
  }

  private checkOpen(): void {
    if (this.closed) throw new SdpStateError('the call is over');
  }

  /** The stream with this rtcp-mux, bound on our port (created, or rebound when mux changes). */
  private ensureStream(rtcpMux: boolean): RtpStream {
    const current = this.streamValue;
    if (current !== undefined && this.streamMux === rtcpMux) return current;
    const port = current?.localRtpPort ?? this.options.localPort ?? 0;
    const wasStarted = current?.state === 'started';
    current?.close();
    this.streamValue = undefined;
    const first = this.codecPreference[0] ?? 'PCMU';
    const create = this.options.createStream ?? ((o: RtpStreamOptions) => this.engine.createStream(o));
    const stream = create({
      local: { address: this.options.bindAddress, port },
      rtcpMux,
      latching: this.options.latching ?? false,
      direction: 'sendrecv',
      codec: first === 'opus' ? { name: 'opus', payloadType: 96 } : { name: first },
      ptimeMs: this.options.ptimeMs ?? 20,
      ...(this.options.jitter !== undefined ? { jitter: this.options.jitter } : {}),
    });
    this.streamValue = stream;
    this.streamMux = rtcpMux;
    if (current !== undefined) this.log.debug({ port, rtcpMux, wasStarted }, 'stream rebound for rtcp-mux');
    return stream;
  }

  /** Configures and starts the stream as an exchange agreed. */
  private apply(n: NegotiatedAudio): SessionBodyVerdict {
    try {
      const stream = this.ensureStream(n.rtcpMux);
      const direction: MediaDirection = this.early ? receiveOnly(n.direction) : n.direction;
      const srtp = n.srtp;
      stream.update({
        // c=0.0.0.0 (RFC 2543 hold): nowhere to send.
        remote: isWildcard(n.remote.address) ? null : { address: n.remote.address, port: n.remote.port, ...(n.rtcpMux ? {} : { rtcpPort: n.remote.rtcpPort }) },
        direction,
        codec: this.codecOptions(n),
        ptimeMs: n.ptimeMs,
        telephoneEvent: n.telephoneEventPayloadType === undefined ? null : { payloadType: n.telephoneEventPayloadType },
        comfortNoise: n.comfortNoisePayloadType === undefined ? null : { payloadType: n.comfortNoisePayloadType },
        srtp: srtp === undefined ? null : { suite: srtp.suite, localKey: srtp.localKey, remoteKey: srtp.remoteKey },
        rtpTimeoutMs: Math.round((this.options.rtpTimeoutS ?? 0) * 1000),
      });
      if (stream.state !== 'started') stream.start();
      return { ok: true };
    } catch (e) {
      this.log.warn({ err: describe(e) }, 'the media engine refused the negotiated stream');
      return refuse(488, `the media engine cannot run the negotiated stream: ${describe(e)}`);
    }
  }

  private codecOptions(n: NegotiatedAudio): CodecOptions {
    const c = n.codec;
    if (c.name === 'PCMU' || c.name === 'PCMA') return { name: c.name, payloadType: c.payloadType };
    if (c.name !== 'opus') throw new RangeError(`the media engine has no ${c.name}`);
    const ours = this.options.opus?.sampleRateHz ?? 16000;
    // RFC 7587 §6.1: maxplaybackrate is what the peer can play; encoding above it is wasted.
    const theirs = Number(c.fmtp.maxplaybackrate ?? 48000);
    const limit = Math.min(ours, Number.isFinite(theirs) && theirs > 0 ? theirs : 48000);
    const sampleRateHz = ([48000, 16000, 8000] as const).find((r) => r <= limit) ?? 8000;
    const bitrate = Number(c.fmtp.maxaveragebitrate);
    return {
      name: 'opus',
      payloadType: c.payloadType,
      sampleRateHz,
      fec: this.options.opus?.fec ?? true,
      dtx: (this.options.opus?.dtx ?? false) && c.fmtp.usedtx === '1',
      ...(Number.isInteger(bitrate) && bitrate >= 6000 && bitrate <= 510000 ? { bitrateBps: bitrate } : {}),
      ...(this.options.opus?.complexity !== undefined ? { complexity: this.options.opus.complexity } : {}),
    };
  }
}

function checkContentType(body: SessionBody): SessionBodyRefusal | undefined {
  const type = body.contentType.split(';', 1)[0]?.trim().toLowerCase();
  return type === SDP_CONTENT_TYPE ? undefined : refuse(488, `the body is ${body.contentType}, not ${SDP_CONTENT_TYPE}`);
}

/** One handler per INVITE session, all with these options. */
export function sdpMediaHandlerFactory(options: SdpMediaHandlerOptions): SessionDescriptionHandlerFactory {
  return (context) => new SdpMediaHandler(options, context);
}
