// Codec capabilities of the media engine as data (CONVENTIONS.md #4, #11) and the options a stream takes per codec.

/**
 * RTP encoding names the engine registers (native/engine/codec-registry.cc). G.722 is absent: Debian
 * has no library for it (`apt-cache search g722` lists only sound files; spandsp would do but is not
 * linked by binding.gyp).
 */
export type CodecName = 'PCMU' | 'PCMA' | 'opus';

/** What the engine can do with a codec, for the SDP layer's offer and answer. */
export interface CodecCapability {
  readonly name: CodecName;
  /** RFC 3551 §6 static payload type, or undefined for a dynamic one (negotiated in SDP). */
  readonly staticPayloadType: number | undefined;
  /** The rtpmap clock rate (RFC 7587 §4.1: Opus always says 48000, whatever it runs at). */
  readonly rtpClockHz: number;
  /** Rates the codec itself can run at. */
  readonly sampleRatesHz: readonly number[];
  /** Packet durations the engine accepts. */
  readonly ptimesMs: readonly number[];
  /** rtpmap channel count to announce (Opus: always 2, RFC 7587 §7; the engine decodes to mono). */
  readonly rtpmapChannels: number;
  readonly fec: boolean;
  readonly dtx: boolean;
}

const G711_PTIMES = [10, 20, 30, 40, 50, 60] as const;

/** The registry's content. */
export const CODEC_CAPABILITIES: Readonly<Record<CodecName, CodecCapability>> = {
  PCMU: { name: 'PCMU', staticPayloadType: 0, rtpClockHz: 8000, sampleRatesHz: [8000], ptimesMs: G711_PTIMES, rtpmapChannels: 1, fec: false, dtx: false },
  PCMA: { name: 'PCMA', staticPayloadType: 8, rtpClockHz: 8000, sampleRatesHz: [8000], ptimesMs: G711_PTIMES, rtpmapChannels: 1, fec: false, dtx: false },
  opus: {
    name: 'opus',
    staticPayloadType: undefined,
    rtpClockHz: 48000,
    sampleRatesHz: [8000, 16000, 48000],
    ptimesMs: [10, 20, 40, 60],
    rtpmapChannels: 2,
    fec: true,
    dtx: true,
  },
};

/** PCMU or PCMA; the payload type defaults to the static one. */
export interface G711CodecOptions {
  name: 'PCMU' | 'PCMA';
  payloadType?: number;
}

/** Opus, RFC 7587 §6.1 fmtp parameters in engine terms. */
export interface OpusCodecOptions {
  name: 'opus';
  /** Dynamic payload type from the SDP (96–127). */
  payloadType: number;
  /** maxplaybackrate / sprop-maxcapturerate: 8000 (narrowband), 16000 (wideband, default) or 48000. */
  sampleRateHz?: 8000 | 16000 | 48000;
  /** useinbandfec: send LBRR data and use the peer's to rebuild lost frames. Default true. */
  fec?: boolean;
  /** usedtx: send nothing in silence. Default false. */
  dtx?: boolean;
  /** maxaveragebitrate; absent = libopus' default for the rate. */
  bitrateBps?: number;
  /** Loss the encoder plans FEC for (OPUS_SET_PACKET_LOSS_PERC). Default 10. */
  expectedLossPercent?: number;
  /** 0–10. Default 5 (a Pi 3 keeps up with several streams at 5). */
  complexity?: number;
}

export type CodecOptions = G711CodecOptions | OpusCodecOptions;

/** RFC 4733 telephone-event alongside the codec; its clock is the codec's RTP clock (§2.1). */
export interface TelephoneEventOptions {
  /** Dynamic payload type from the SDP (commonly 101). */
  payloadType: number;
}

/** RFC 3389 comfort noise (received only: the engine does not do silence suppression on G.711). */
export interface ComfortNoiseOptions {
  /** 13 for CN/8000 (RFC 3551 §6). */
  payloadType: number;
}
