// The config's call settings as the user agent's calls options and the SDP media handlers' options (part of the composition root): codecs, ptime, Opus, jitter, SRTP per account, RTP address and ports, timers.
import { networkInterfaces } from 'node:os';
import { SdpMediaHandler, type SdpMediaHandlerOptions } from './call/sdp-media-handler.js';
import type { OffhookConfig } from './config/config-schema.js';
import type { CodecName } from './media/codecs.js';
import { MediaEngineError, type MediaEngine, type RtpStream, type RtpStreamOptions } from './media/media-engine.js';
import type { SrtpMode } from './sdp/index.js';
import type { CallOptions, SessionDescriptionHandlerFactory, UserAgent } from './sip/ua/index.js';
import type { Logger } from './util/log.js';

/** Tries this many ports of media.rtpPorts before a stream fails (each one taken by something else). */
const PORT_ATTEMPTS = 16;

function isWildcard(address: string): boolean {
  return address === '0.0.0.0' || address === '::' || address === '';
}

/** The config's codec names are the engine's (config/media-config-schema.ts repeats them). */
function engineCodecs(config: OffhookConfig): CodecName[] {
  return config.media.codecs.map((c): CodecName => c);
}

/**
 * Local RTP ports from media.rtpPorts: even ports (RTCP on the odd one above, RFC 3550 §11) handed
 * out round robin from a random start, so that a new call does not reuse the port of the call that
 * just ended (late packets of the old call would reach the new one). A port the system refuses
 * (another program has it) is skipped.
 */
export class RtpPortRange {
  private readonly first: number;
  private readonly count: number;
  private next: number;

  constructor(min: number, max: number, random: () => number = Math.random) {
    this.first = min % 2 === 0 ? min : min + 1;
    // The last RTP port needs its RTCP port (+1) inside the range too.
    this.count = Math.max(1, Math.floor((max - 1 - this.first) / 2) + 1);
    this.next = Math.floor(random() * this.count);
  }

  /** The next even port to try. */
  take(): number {
    const port = this.first + 2 * (this.next % this.count);
    this.next = (this.next + 1) % this.count;
    return port;
  }

  /** Creates a stream on a port of the range (retrying taken ones); a stream asking for a port of its own gets that one. */
  createStream(engine: MediaEngine, options: RtpStreamOptions): RtpStream {
    if (options.local.port !== undefined && options.local.port !== 0) return engine.createStream(options);
    let last: unknown;
    for (let i = 0; i < Math.min(PORT_ATTEMPTS, this.count); i++) {
      try {
        return engine.createStream({ ...options, local: { ...options.local, port: this.take(), rtcpPort: undefined } });
      } catch (err) {
        if (!(err instanceof MediaEngineError) || err.code !== 'ERR_MEDIA_SOCKET') throw err;
        last = err;
      }
    }
    throw last instanceof Error ? last : new MediaEngineError('ERR_MEDIA_SOCKET', 'no free RTP port in media.rtpPorts');
  }
}

/**
 * SRTP of a call by its direction. The handler factory learns no account (SessionDescriptionContext
 * has none): an outgoing call is the first account's (the phone calls from it, UaCallService →
 * ua.call()); an incoming one takes the accounts' mode when they all have the same, else "optional"
 * (SRTP when the caller offers keys, plain RTP otherwise), which is logged at start.
 */
export function srtpModes(config: OffhookConfig): { outgoing: SrtpMode; incoming: SrtpMode; mixed: boolean } {
  const modes = [...new Set(config.accounts.map((a) => a.srtp))];
  const outgoing = config.accounts[0]?.srtp ?? 'off';
  const mixed = modes.length > 1;
  return { outgoing, incoming: mixed ? 'optional' : outgoing, mixed };
}

/** The address RTP binds: the first SIP listener's, unless it is a wildcard (then every interface). */
export function rtpBindAddress(config: OffhookConfig): string {
  const listen = config.sip.listen[0]?.address ?? '0.0.0.0';
  return isWildcard(listen) ? (listen === '::' ? '::' : '0.0.0.0') : listen;
}

/**
 * The address written in the SDP when RTP binds a wildcard: the user agent's own advertised address
 * (what goes in Via and Contact, the interface the SIP listener found), else the first non-internal
 * IPv4 interface address, else loopback. Asked per call, so that a new DHCP lease is followed.
 */
export function advertisedRtpAddress(ua: () => UserAgent | undefined, family: 4 | 6 = 4): string {
  const listening = ua()?.snapshot().listening ?? [];
  const fromUa = listening.find((h) => (family === 4 ? !h.address.includes(':') : h.address.includes(':')) && !isWildcard(h.address));
  if (fromUa) return fromUa.address;
  for (const infos of Object.values(networkInterfaces())) {
    const a = infos?.find((i) => !i.internal && i.family === (family === 4 ? 'IPv4' : 'IPv6'));
    if (a) return a.address;
  }
  return family === 4 ? '127.0.0.1' : '::1';
}

export interface MediaHandlerSetup {
  engine: MediaEngine;
  /** The user agent, for the advertised address of a wildcard bind (asked at each call). */
  ua: () => UserAgent | undefined;
  log: Logger;
  /** Default: random ports of media.rtpPorts from Math.random. */
  ports?: RtpPortRange | undefined;
}

/** The SDP handler options the config gives (without engine and addresses): codecs, ptime, Opus, jitter, RTP timeout. */
export function sdpMediaOptions(config: OffhookConfig): Omit<SdpMediaHandlerOptions, 'engine' | 'bindAddress'> {
  const m = config.media;
  return {
    codecs: engineCodecs(config),
    ptimeMs: m.ptimeMs,
    opus: { sampleRateHz: m.opus.sampleRateHz, fec: m.opus.fec, dtx: m.opus.dtx },
    jitter: { minDelayMs: m.jitter.minDelayMs, maxDelayMs: m.jitter.maxDelayMs },
    rtpTimeoutS: config.sip.rtpTimeoutS,
  };
}

/**
 * The handler factory of every call: an SdpMediaHandler on the engine, bound to the SIP listen
 * address (or every interface), a port of media.rtpPorts, SRTP by direction (srtpModes).
 * opus.maxBitrateBps has no handler option yet: the encoder follows the peer's maxaveragebitrate.
 */
export function mediaHandlerFactory(config: OffhookConfig, o: MediaHandlerSetup): SessionDescriptionHandlerFactory {
  const ports = o.ports ?? new RtpPortRange(config.media.rtpPorts.min, config.media.rtpPorts.max);
  const bindAddress = rtpBindAddress(config);
  const srtp = srtpModes(config);
  if (srtp.mixed) o.log.warn({ accounts: config.accounts.map((a) => a.srtp) }, 'accounts differ in srtp: incoming calls take SRTP as optional, outgoing calls use the first account\'s');
  // Streams take their port from media.rtpPorts; everything else is the engine's.
  const base = { ...sdpMediaOptions(config), engine: o.engine, createStream: (options: RtpStreamOptions) => ports.createStream(o.engine, options), bindAddress, log: o.log };
  return (context) => {
    const advertisedAddress = isWildcard(bindAddress) ? advertisedRtpAddress(o.ua, bindAddress === '::' ? 6 : 4) : bindAddress;
    const mode: SrtpMode = context.direction === 'outgoing' ? srtp.outgoing : srtp.incoming;
    return new SdpMediaHandler({ ...base, advertisedAddress, srtp: mode }, context);
  };
}

/**
 * UserAgentOptions.calls from the config: ghost-call protection, call waiting (a second call rings
 * when features.callWaiting), do-not-disturb's status, the no-answer timeout, session timers, DTMF,
 * and the handler factory (undefined without a media engine: incoming calls then get 480).
 */
export function callOptions(config: OffhookConfig, factory: SessionDescriptionHandlerFactory | undefined): CallOptions {
  const sip = config.sip;
  return {
    sessionDescriptionHandlerFactory: factory,
    acceptCallsFrom: sip.acceptCallsFrom,
    maxCalls: config.features.callWaiting ? 2 : 1,
    noAnswerTimeoutMs: sip.noAnswerTimeoutS * 1000,
    sessionTimers: { enabled: sip.sessionTimer.enabled, expiresS: sip.sessionTimer.expiresS, minSeS: sip.sessionTimer.minSeS },
    dtmf: config.accounts[0]?.dtmf ?? 'rfc4733',
  };
}

/** What do-not-disturb answers (features.dnd.mode). */
export function dndStatus(config: OffhookConfig): 480 | 486 {
  return config.features.dnd.mode === 'busy-486' ? 486 : 480;
}
