// RFC 3264 offer/answer as pure functions: our offer's m-line, the choice made from a peer's offer and the answer to it, the check of a peer's answer to our offer.
import { randomBytes as cryptoRandomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import {
  DEFAULT_MAX_SDP_BYTES,
  connectionOf,
  directionOf,
  formatTokens,
  ipVersionOf,
  isOldStyleHold,
  refusal,
  type MediaDescription,
  type SessionDescription,
} from './sdp-parse.js';
import {
  TELEPHONE_EVENT_FMTP,
  formatFmtp,
  formatIsCodec,
  formatsOf,
  isComfortNoise,
  isTelephoneEvent,
  planPayloadTypes,
  type PayloadPlan,
  type SdpFormat,
} from './sdp-formats.js';
import { cryptoAttribute, cryptoLineCount, usableCryptos, type SdesCrypto } from './sdes.js';
import {
  SDP_CODEC_NAMES,
  SDP_SRTP_SUITES,
  SdpConfigError,
  type FmtpParams,
  type NegotiatedAudio,
  type NegotiatedSrtp,
  type SdpCodec,
  type SdpConfig,
  type SdpDirection,
  type SdpEndpoint,
  type SdpLocalPorts,
  type SdpRandomBytes,
  type SdpRefusal,
  type SdpSrtpSuite,
  type SrtpMode,
} from './sdp-types.js';

/** The configuration with its defaults filled in and checked. */
export interface ResolvedSdpConfig {
  readonly address: string;
  readonly ipVersion: 4 | 6;
  readonly codecs: readonly SdpCodec[];
  readonly ptimeMs: number;
  readonly maxptimeMs: number | undefined;
  readonly srtp: SrtpMode;
  readonly srtpSuites: readonly SdpSrtpSuite[];
  readonly telephoneEvent: boolean;
  readonly comfortNoise: boolean;
  readonly rtcpMux: boolean;
  readonly username: string;
  readonly sessionName: string;
  readonly randomBytes: SdpRandomBytes;
  readonly maxSdpBytes: number;
  readonly answerAllCommonCodecs: boolean;
  readonly payloads: PayloadPlan;
}

const NO_SPACE = /^\S+$/;

/** Fills in defaults; throws SdpConfigError naming the field at fault. */
export function resolveSdpConfig(config: SdpConfig): ResolvedSdpConfig {
  if (isIP(config.address) === 0) throw new SdpConfigError('address', 'must be a literal IPv4 or IPv6 address');
  if (config.address === '0.0.0.0' || config.address === '::') throw new SdpConfigError('address', 'must be the address peers send to, not a wildcard (0.0.0.0 means hold, RFC 3264 §8.4)');
  if (config.codecs.length === 0) throw new SdpConfigError('codecs', 'must name at least one codec');
  for (const [i, c] of config.codecs.entries()) {
    if (!SDP_CODEC_NAMES.includes(c.name)) throw new SdpConfigError(`codecs[${i}].name`, `must be one of ${SDP_CODEC_NAMES.join(', ')}`);
    if (!Number.isInteger(c.clockRate) || c.clockRate <= 0) throw new SdpConfigError(`codecs[${i}].clockRate`, 'must be a positive integer');
    if (c.payloadType !== undefined && (!Number.isInteger(c.payloadType) || c.payloadType < 96 || c.payloadType > 127)) {
      throw new SdpConfigError(`codecs[${i}].payloadType`, 'must be a dynamic payload type, 96 to 127');
    }
  }
  const ptimeMs = config.ptimeMs ?? 20;
  if (!Number.isInteger(ptimeMs) || ptimeMs < 10 || ptimeMs > 120) throw new SdpConfigError('ptimeMs', 'must be an integer from 10 to 120');
  if (config.maxptimeMs !== undefined && (!Number.isInteger(config.maxptimeMs) || config.maxptimeMs < ptimeMs)) {
    throw new SdpConfigError('maxptimeMs', 'must be an integer no less than ptimeMs');
  }
  const srtpSuites = config.srtpSuites ?? SDP_SRTP_SUITES;
  const srtp = config.srtp ?? 'off';
  if (srtp !== 'off' && srtpSuites.length === 0) throw new SdpConfigError('srtpSuites', 'must name a suite when SRTP is on');
  const username = config.username ?? '-';
  const sessionName = config.sessionName ?? 'offhook';
  if (!NO_SPACE.test(username)) throw new SdpConfigError('username', 'must be one token without spaces (RFC 4566 §5.2)');
  if (sessionName === '' || /[\r\n]/.test(sessionName)) throw new SdpConfigError('sessionName', 'must be one non-empty line');
  const telephoneEvent = config.telephoneEvent ?? true;
  const comfortNoise = config.comfortNoise ?? true;
  return {
    address: config.address,
    ipVersion: ipVersionOf(config.address),
    codecs: config.codecs,
    ptimeMs,
    maxptimeMs: config.maxptimeMs,
    srtp,
    srtpSuites,
    telephoneEvent,
    comfortNoise,
    rtcpMux: config.rtcpMux ?? true,
    username,
    sessionName,
    randomBytes: config.randomBytes ?? cryptoRandomBytes,
    maxSdpBytes: config.maxSdpBytes ?? DEFAULT_MAX_SDP_BYTES,
    answerAllCommonCodecs: config.answerAllCommonCodecs ?? false,
    payloads: planPayloadTypes(config.codecs, telephoneEvent, comfortNoise),
  };
}

// ---------------------------------------------------------------------------------------------
// Directions (RFC 3264 §6.1, §8.4)

interface Flow {
  readonly send: boolean;
  readonly recv: boolean;
}

export function flowOf(d: SdpDirection): Flow {
  return { send: d === 'sendrecv' || d === 'sendonly', recv: d === 'sendrecv' || d === 'recvonly' };
}

export function directionFrom(flow: Flow): SdpDirection {
  if (flow.send) return flow.recv ? 'sendrecv' : 'sendonly';
  return flow.recv ? 'recvonly' : 'inactive';
}

/**
 * The direction of an offer of ours: sendrecv, or for hold sendonly — inactive when the peer holds us
 * too (RFC 3264 §8.4). Not holding, we offer sendrecv even while the peer holds us: its answer keeps
 * its hold, and a recvonly offer would leave it no way to resume in the answer.
 */
export function offerDirection(hold: boolean, remoteHold: boolean): SdpDirection {
  if (!hold) return 'sendrecv';
  return remoteHold ? 'inactive' : 'sendonly';
}

// ---------------------------------------------------------------------------------------------
// Building SDP

/** The o= line's fields that stay for a whole session (RFC 3264 §8: only the version moves). */
export interface SdpOrigin {
  readonly sessionId: string;
  readonly version: number;
}

export function buildSession(config: ResolvedSdpConfig, origin: SdpOrigin, media: MediaDescription[]): SessionDescription {
  return {
    version: 0,
    origin: {
      username: config.username,
      sessionId: origin.sessionId,
      sessionVersion: origin.version,
      netType: 'IN',
      ipVer: config.ipVersion,
      address: config.address,
    },
    name: config.sessionName,
    connection: { version: config.ipVersion, ip: config.address },
    timing: { start: 0, stop: 0 },
    media,
  };
}

function rtpmapOf(pt: number, encoding: string, clockRate: number, channels: number): MediaDescription['rtp'][number] {
  return channels > 1 ? { payload: pt, codec: encoding, rate: clockRate, encoding: channels } : { payload: pt, codec: encoding, rate: clockRate };
}

function localEndpoint(config: ResolvedSdpConfig, ports: SdpLocalPorts, rtcpMux: boolean): SdpEndpoint {
  return { address: config.address, port: ports.rtpPort, rtcpPort: rtcpMux ? ports.rtpPort : (ports.rtcpPort ?? ports.rtpPort + 1) };
}

/** What we offered, kept to check the answer against. */
export interface OfferPlan {
  readonly protocol: 'RTP/AVP' | 'RTP/SAVP';
  readonly direction: SdpDirection;
  readonly hold: boolean;
  readonly rtcpMux: boolean;
  readonly cryptos: readonly SdesCrypto[];
  readonly ports: SdpLocalPorts;
}

/** Our offer's audio m-line: every codec in our order, telephone-event per clock rate, CN, crypto, rtcp-mux. */
export function buildOfferMedia(config: ResolvedSdpConfig, plan: OfferPlan): MediaDescription {
  const p = config.payloads;
  const m: MediaDescription = { type: 'audio', port: plan.ports.rtpPort, protocol: plan.protocol, payloads: '', rtp: [], fmtp: [] };
  const pts: number[] = [];
  for (const { codec, payloadType } of p.codecs) {
    pts.push(payloadType);
    m.rtp.push(rtpmapOf(payloadType, codec.name, codec.clockRate, codec.channels));
    if (codec.fmtp !== undefined && Object.keys(codec.fmtp).length > 0) m.fmtp.push({ payload: payloadType, config: formatFmtp(codec.fmtp) });
  }
  for (const te of p.telephoneEvents) {
    pts.push(te.payloadType);
    m.rtp.push(rtpmapOf(te.payloadType, 'telephone-event', te.clockRate, 1));
    m.fmtp.push({ payload: te.payloadType, config: TELEPHONE_EVENT_FMTP });
  }
  if (p.comfortNoise !== undefined) {
    pts.push(p.comfortNoise);
    m.rtp.push(rtpmapOf(p.comfortNoise, 'CN', 8000, 1));
  }
  m.payloads = pts.join(' ');
  finishMedia(config, m, plan.direction, plan.cryptos, plan.rtcpMux, localEndpoint(config, plan.ports, false).rtcpPort);
  return m;
}

function finishMedia(config: ResolvedSdpConfig, m: MediaDescription, direction: SdpDirection, cryptos: readonly SdesCrypto[], rtcpMux: boolean, rtcpPort: number): void {
  m.rtcp = { port: rtcpPort }; // RFC 3605
  if (cryptos.length > 0) m.crypto = cryptos.map(cryptoAttribute);
  m.ptime = config.ptimeMs;
  if (config.maxptimeMs !== undefined) m.maxptime = config.maxptimeMs;
  m.direction = direction;
  if (rtcpMux) m.rtcpMux = 'rtcp-mux';
}

// ---------------------------------------------------------------------------------------------
// Shared reading of the peer's audio m-line

function remoteEndpoint(m: MediaDescription, address: string, rtcpMux: boolean): SdpEndpoint {
  const rtcp = m.rtcp?.port;
  const rtcpPort = rtcpMux ? m.port : typeof rtcp === 'number' && rtcp > 0 && rtcp <= 65535 ? rtcp : m.port + 1;
  return { address, port: m.port, rtcpPort };
}

/** The packet duration we send with: the peer's a=ptime (what it wants to receive, RFC 4566 §6) when we can, else ours within its maxptime. */
function sendPtime(config: ResolvedSdpConfig, codec: SdpCodec, m: MediaDescription): number {
  const can = (ms: number): boolean => (codec.ptimesMs === undefined ? ms >= 10 && ms <= 120 : codec.ptimesMs.includes(ms));
  const wanted = typeof m.ptime === 'number' ? Math.round(m.ptime) : undefined;
  if (wanted !== undefined && can(wanted)) return wanted;
  const max = typeof m.maxptime === 'number' ? m.maxptime : Infinity;
  if (config.ptimeMs <= max && can(config.ptimeMs)) return config.ptimeMs;
  const fitting = (codec.ptimesMs ?? [10, 20, 30, 40, 50, 60]).filter((ms) => ms <= max);
  return fitting.length > 0 ? Math.max(...fitting) : config.ptimeMs;
}

function codecName(f: SdpFormat): string {
  return f.encoding === '' ? String(f.payloadType) : `${f.encoding}/${f.clockRate}`;
}

// ---------------------------------------------------------------------------------------------
// Answering a peer's offer (RFC 3264 §6)

/** What we take from a peer's offer; the answer is built from it once our port and hold are known. */
export interface OfferSelection {
  readonly mediaIndex: number;
  readonly protocol: string;
  readonly remote: SdpEndpoint;
  /** Our codecs the offer has, in our order (RFC 3264 §6.1 lets the answerer order), each with the offerer's format. */
  readonly common: readonly { readonly codec: SdpCodec; readonly format: SdpFormat }[];
  readonly telephoneEvent: SdpFormat | undefined;
  readonly comfortNoise: SdpFormat | undefined;
  readonly crypto: SdesCrypto | undefined;
  readonly rtcpMux: boolean;
  readonly remoteDirection: SdpDirection;
  readonly oldStyleHold: boolean;
  readonly ptimeMs: number;
}

const SRTP_PROTOCOL = 'RTP/SAVP';
const RTP_PROTOCOL = 'RTP/AVP';

function selectAudio(config: ResolvedSdpConfig, sdp: SessionDescription, m: MediaDescription, mediaIndex: number): OfferSelection | SdpRefusal {
  const { address, literal } = connectionOf(sdp, m);
  if (!literal) return refusal(488, 'bad-address', `the audio stream's address '${address}' is not a literal IPv4 or IPv6 address`);
  // RFC 4568 §5.1.1 / RFC 3264: SAVP asks for SRTP; crypto lines on plain AVP are best-effort SRTP.
  const secure = m.protocol === SRTP_PROTOCOL;
  let crypto: SdesCrypto | undefined;
  if (secure && config.srtp === 'off') return refusal(488, 'srtp-disabled', 'the offer asks for SRTP (RTP/SAVP) and SRTP is off');
  if (config.srtp !== 'off') {
    crypto = usableCryptos(m, config.srtpSuites)[0];
    if (crypto === undefined && secure) {
      const why = cryptoLineCount(m) === 0 ? 'has no a=crypto line' : `has no a=crypto line with a suite we run (${config.srtpSuites.join(', ')}) and a plain inline key`;
      return refusal(488, 'srtp-no-suite', `the RTP/SAVP offer ${why}`);
    }
    if (crypto === undefined && config.srtp === 'mandatory') return refusal(488, 'srtp-required', 'SRTP is mandatory and the offer has no usable a=crypto line');
  }
  const formats = formatsOf(m);
  const common: { codec: SdpCodec; format: SdpFormat }[] = [];
  for (const codec of config.codecs) {
    const format = formats.find((f) => formatIsCodec(f, codec));
    if (format !== undefined && !common.some((c) => c.format.payloadType === format.payloadType)) common.push({ codec, format });
  }
  const chosen = common[0];
  if (chosen === undefined) {
    const offered = formats.filter((f) => !isTelephoneEvent(f) && !isComfortNoise(f)).map(codecName);
    return refusal(488, 'no-common-codec', `no codec in common: offered ${offered.join(', ') || 'none'}, we have ${config.codecs.map((c) => c.name).join(', ')}`);
  }
  const rate = chosen.codec.clockRate;
  const rtcpMux = m.rtcpMux === 'rtcp-mux';
  return {
    mediaIndex,
    protocol: m.protocol,
    remote: remoteEndpoint(m, address, rtcpMux),
    common,
    telephoneEvent: config.telephoneEvent ? formats.find((f) => isTelephoneEvent(f) && f.clockRate === rate) : undefined,
    comfortNoise: config.comfortNoise && rate === 8000 ? formats.find(isComfortNoise) : undefined,
    crypto,
    rtcpMux,
    remoteDirection: directionOf(sdp, m),
    oldStyleHold: isOldStyleHold(address),
    ptimeMs: sendPtime(config, chosen.codec, m),
  };
}

/**
 * Picks the audio stream we take from a peer's offer: the first m=audio over RTP/AVP or RTP/SAVP with
 * a port that we can agree on. Every other m-line is rejected in the answer (RFC 3264 §6).
 */
export function selectFromOffer(config: ResolvedSdpConfig, sdp: SessionDescription): OfferSelection | SdpRefusal {
  let firstRefusal: SdpRefusal | undefined;
  for (const [i, m] of sdp.media.entries()) {
    if (m.type !== 'audio' || m.port === 0 || (m.protocol !== RTP_PROTOCOL && m.protocol !== SRTP_PROTOCOL)) continue;
    const s = selectAudio(config, sdp, m, i);
    if (!isRefusal(s)) return s;
    firstRefusal ??= s;
  }
  return firstRefusal ?? refusal(488, 'no-audio', 'the offer has no audio stream over RTP/AVP or RTP/SAVP');
}

/** Our key per suite, made on first use and kept for the session (RFC 4568 §7.1.4 lets a re-offer keep it). */
export type KeyOf = (suite: SdpSrtpSuite) => string;

export interface AnswerParts {
  readonly media: MediaDescription[];
  readonly negotiated: NegotiatedAudio;
}

/** The answer's m-lines (as many as the offer's, RFC 3264 §6) and what it agrees on. */
export function buildAnswer(
  config: ResolvedSdpConfig,
  offer: SessionDescription,
  s: OfferSelection,
  options: { hold: boolean; ports: SdpLocalPorts; keyOf: KeyOf },
): AnswerParts {
  const remoteFlow = flowOf(s.remoteDirection);
  // RFC 3264 §6.1: we send only what the peer will receive, and stop receiving on our own hold (§8.4).
  const flow = { send: remoteFlow.recv && !s.oldStyleHold, recv: remoteFlow.send && !options.hold };
  const direction = directionFrom(flow);
  const chosen = s.common[0];
  if (chosen === undefined) throw new RangeError('an offer selection without a codec');
  const listed = config.answerAllCommonCodecs ? s.common : [chosen];
  const audio: MediaDescription = { type: 'audio', port: options.ports.rtpPort, protocol: s.protocol, payloads: '', rtp: [], fmtp: [] };
  const pts: number[] = [];
  for (const { codec, format } of listed) {
    pts.push(format.payloadType);
    audio.rtp.push(rtpmapOf(format.payloadType, codec.name, codec.clockRate, codec.channels));
    if (codec.fmtp !== undefined && Object.keys(codec.fmtp).length > 0) audio.fmtp.push({ payload: format.payloadType, config: formatFmtp(codec.fmtp) });
  }
  if (s.telephoneEvent !== undefined) {
    pts.push(s.telephoneEvent.payloadType);
    audio.rtp.push(rtpmapOf(s.telephoneEvent.payloadType, 'telephone-event', s.telephoneEvent.clockRate, 1));
    audio.fmtp.push({ payload: s.telephoneEvent.payloadType, config: TELEPHONE_EVENT_FMTP });
  }
  if (s.comfortNoise !== undefined) {
    pts.push(s.comfortNoise.payloadType);
    audio.rtp.push(rtpmapOf(s.comfortNoise.payloadType, 'CN', 8000, 1));
  }
  audio.payloads = pts.join(' ');
  const ours: SdesCrypto | undefined = s.crypto === undefined ? undefined : { tag: s.crypto.tag, suite: s.crypto.suite, key: options.keyOf(s.crypto.suite) };
  const local = localEndpoint(config, options.ports, s.rtcpMux);
  finishMedia(config, audio, direction, ours === undefined ? [] : [ours], s.rtcpMux, local.rtcpPort);
  const media = offer.media.map((m, i): MediaDescription => {
    if (i === s.mediaIndex) return audio;
    // RFC 3264 §6: a rejected stream keeps its m-line with port 0 and at least one of the offered formats.
    return { type: m.type, port: 0, protocol: m.protocol, payloads: formatTokens(m)[0] ?? '0', rtp: [], fmtp: [] };
  });
  const srtp: NegotiatedSrtp | undefined =
    ours === undefined || s.crypto === undefined ? undefined : { suite: ours.suite, localKey: ours.key, remoteKey: s.crypto.key, tag: ours.tag };
  return {
    media,
    negotiated: {
      mediaIndex: s.mediaIndex,
      local,
      remote: s.remote,
      rtcpMux: s.rtcpMux,
      codec: negotiatedCodec(chosen.codec, chosen.format, chosen.format.payloadType),
      ptimeMs: s.ptimeMs,
      telephoneEventPayloadType: s.telephoneEvent?.payloadType,
      comfortNoisePayloadType: s.comfortNoise?.payloadType,
      direction,
      remoteHold: !remoteFlow.recv || s.oldStyleHold,
      localHold: options.hold,
      srtp,
    },
  };
}

function stringParams(params: Readonly<Record<string, string | number>> | undefined): FmtpParams {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(params ?? {})) out[k.toLowerCase()] = String(v);
  return out;
}

function negotiatedCodec(codec: SdpCodec, remote: SdpFormat, localPayloadType: number): NegotiatedAudio['codec'] {
  return {
    name: codec.name,
    payloadType: remote.payloadType,
    localPayloadType,
    clockRate: codec.clockRate,
    channels: codec.channels,
    fmtp: remote.fmtp,
    localFmtp: stringParams(codec.fmtp),
  };
}

// ---------------------------------------------------------------------------------------------
// Taking the peer's answer to our offer (RFC 3264 §7)

export function isRefusal(value: object): value is SdpRefusal {
  return (value as { ok?: unknown }).ok === false;
}

function mismatch(reason: string): SdpRefusal {
  return refusal(488, 'answer-mismatch', reason);
}

/** Checks an answer against the offer it answers and says what it agreed on. */
export function acceptAnswer(config: ResolvedSdpConfig, answer: SessionDescription, plan: OfferPlan): NegotiatedAudio | SdpRefusal {
  if (answer.media.length !== 1) return mismatch(`the answer has ${answer.media.length} m-lines for the offer's 1 (RFC 3264 §6)`);
  const m = answer.media[0];
  if (m === undefined || m.type !== 'audio') return mismatch('the answer has no audio m-line where the offer had it');
  if (m.port === 0) return mismatch('the peer rejected the audio stream (port 0)');
  if (m.protocol !== plan.protocol) return mismatch(`the answer's transport ${m.protocol} is not the offer's ${plan.protocol}`);
  const { address, literal } = connectionOf(answer, m);
  if (!literal) return refusal(488, 'bad-address', `the answer's address '${address}' is not a literal IPv4 or IPv6 address`);
  const formats = formatsOf(m);
  let chosen: { codec: SdpCodec; format: SdpFormat; localPayloadType: number } | undefined;
  for (const format of formats) {
    // The answer SHOULD keep our numbers (RFC 3264 §6.1); match by what the format is, so a renumbering answer still works.
    const ours = config.payloads.codecs.find((p) => formatIsCodec(format, p.codec));
    if (ours !== undefined) {
      chosen = { codec: ours.codec, format, localPayloadType: ours.payloadType };
      break;
    }
  }
  if (chosen === undefined) return mismatch(`the answer has no codec we offered (it lists ${formats.map(codecName).join(', ')})`);
  const rate = chosen.codec.clockRate;
  const offeredTe = config.payloads.telephoneEvents.some((t) => t.clockRate === rate);
  const telephoneEvent = offeredTe ? formats.find((f) => isTelephoneEvent(f) && f.clockRate === rate) : undefined;
  const comfortNoise = config.payloads.comfortNoise !== undefined && rate === 8000 ? formats.find(isComfortNoise) : undefined;
  let srtp: NegotiatedSrtp | undefined;
  if (plan.cryptos.length > 0) {
    const theirs = usableCryptos(m, config.srtpSuites);
    if (theirs.length > 1) return mismatch('the answer has more than one a=crypto line (RFC 4568 §5.1.2 allows one)');
    const answered = theirs[0];
    if (answered !== undefined) {
      const mine = plan.cryptos.find((c) => c.tag === answered.tag && c.suite === answered.suite);
      if (mine === undefined) return mismatch(`the answer's a=crypto tag ${answered.tag} (${answered.suite}) is not one we offered`);
      srtp = { suite: mine.suite, localKey: mine.key, remoteKey: answered.key, tag: mine.tag };
    } else if (cryptoLineCount(m) > 0) {
      return mismatch('the answer has an a=crypto line we cannot use (suite, MKI or key)');
    } else if (plan.protocol === SRTP_PROTOCOL) {
      return mismatch('the RTP/SAVP answer has no a=crypto line');
    }
  }
  const rtcpMux = plan.rtcpMux && m.rtcpMux === 'rtcp-mux';
  const oldStyleHold = isOldStyleHold(address);
  const offered = flowOf(plan.direction);
  const answered = flowOf(directionOf(answer, m));
  // RFC 3264 §6.1 makes the answer a subset of the offer; intersecting both keeps a sloppy answer (sendrecv to our sendonly) from resuming anything.
  const flow = { send: offered.send && answered.recv && !oldStyleHold, recv: offered.recv && answered.send };
  return {
    mediaIndex: 0,
    local: localEndpoint(config, plan.ports, rtcpMux),
    remote: remoteEndpoint(m, address, rtcpMux),
    rtcpMux,
    codec: negotiatedCodec(chosen.codec, chosen.format, chosen.localPayloadType),
    ptimeMs: sendPtime(config, chosen.codec, m),
    telephoneEventPayloadType: telephoneEvent?.payloadType,
    comfortNoisePayloadType: comfortNoise?.payloadType,
    direction: directionFrom(flow),
    remoteHold: !answered.recv || oldStyleHold,
    localHold: plan.hold,
    srtp,
  };
}
