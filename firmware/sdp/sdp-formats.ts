// RTP payload formats of an m-line: static payload types (RFC 3551 §6), rtpmap / fmtp reading, matching against our codecs, payload type allocation for offers.
import { asText, formatTokens, type MediaDescription } from './sdp-parse.js';
import type { FmtpParams, SdpCodec } from './sdp-types.js';

/** One format of an m-line, resolved through its rtpmap or the static table. */
export interface SdpFormat {
  readonly payloadType: number;
  /** Encoding name as written ('' when a dynamic type has no rtpmap). */
  readonly encoding: string;
  readonly clockRate: number;
  readonly channels: number;
  readonly fmtp: FmtpParams;
}

/** RFC 3551 §6 Table 4: the static audio payload types we may meet without an rtpmap. */
const STATIC_AUDIO: Readonly<Record<number, { encoding: string; clockRate: number; channels: number }>> = {
  0: { encoding: 'PCMU', clockRate: 8000, channels: 1 },
  8: { encoding: 'PCMA', clockRate: 8000, channels: 1 },
  9: { encoding: 'G722', clockRate: 8000, channels: 1 },
  13: { encoding: 'CN', clockRate: 8000, channels: 1 },
};

export const CN_STATIC_PAYLOAD_TYPE = 13;
/** RFC 4733 §3: telephone-event is dynamic; 101 is what nearly every phone uses for 8 kHz. */
export const TELEPHONE_EVENT_PREFERRED_PT = 101;
/** The events we announce: the 16 DTMF digits (RFC 4733 §3.2, the default when fmtp is absent). */
export const TELEPHONE_EVENT_FMTP = '0-15';

/** `a=fmtp` parameters: `k=v;k=v` (spaces tolerated, RFC 7587 §6.1), names lower-cased; a bare token maps to ''. */
export function parseFmtp(config: string): FmtpParams {
  const params: Record<string, string> = {};
  for (const part of config.split(';')) {
    const item = part.trim();
    if (item === '') continue;
    const eq = item.indexOf('=');
    if (eq < 0) params[item.toLowerCase()] = '';
    else params[item.slice(0, eq).trim().toLowerCase()] = item.slice(eq + 1).trim();
  }
  return params;
}

export function formatFmtp(params: Readonly<Record<string, string | number>>): string {
  return Object.entries(params)
    .map(([k, v]) => (v === '' ? k : `${k}=${v}`))
    .join(';');
}

/** The formats of an m-line in its order (its preference, RFC 3264 §5.1). */
export function formatsOf(m: MediaDescription): SdpFormat[] {
  const rtpmaps = Array.isArray(m.rtp) ? m.rtp : [];
  const fmtps = Array.isArray(m.fmtp) ? m.fmtp : [];
  const formats: SdpFormat[] = [];
  for (const token of formatTokens(m)) {
    const pt = Number(token);
    if (!Number.isInteger(pt)) continue;
    const map = rtpmaps.find((r) => r.payload === pt);
    const fmtp = fmtps.find((f) => f.payload === pt);
    const params = fmtp === undefined ? {} : parseFmtp(asText(fmtp.config));
    if (map !== undefined) {
      const rate = typeof map.rate === 'number' ? map.rate : 0;
      const channels = typeof map.encoding === 'number' ? map.encoding : 1;
      formats.push({ payloadType: pt, encoding: asText(map.codec), clockRate: rate, channels, fmtp: params });
      continue;
    }
    const known = STATIC_AUDIO[pt];
    if (known !== undefined) formats.push({ payloadType: pt, ...known, fmtp: params });
    else formats.push({ payloadType: pt, encoding: '', clockRate: 0, channels: 1, fmtp: params });
  }
  return formats;
}

function sameName(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase(); // RFC 4855 §3: encoding names are case-insensitive
}

/** Whether a format of the peer's is our codec. Opus is opus/48000/2 (RFC 7587 §7); a missing /2 is tolerated. */
export function formatIsCodec(format: SdpFormat, codec: SdpCodec): boolean {
  if (!sameName(format.encoding, codec.name) || format.clockRate !== codec.clockRate) return false;
  if (codec.name === 'opus') return format.channels === 1 || format.channels === 2;
  return format.channels === codec.channels;
}

export function isTelephoneEvent(format: SdpFormat): boolean {
  return sameName(format.encoding, 'telephone-event');
}

export function isComfortNoise(format: SdpFormat): boolean {
  return sameName(format.encoding, 'CN') && format.clockRate === 8000;
}

/** The payload types of our offers, fixed once per session so that a repeated offer is the same text (RFC 3264 §8). */
export interface PayloadPlan {
  /** Our codecs in preference order, each with its payload type. */
  readonly codecs: readonly { readonly codec: SdpCodec; readonly payloadType: number }[];
  /** telephone-event per clock rate of the codecs (RFC 4733 §2.1: it runs on the codec's clock). */
  readonly telephoneEvents: readonly { readonly clockRate: number; readonly payloadType: number }[];
  /** CN/8000 when a codec runs at 8000 Hz and comfort noise is on. */
  readonly comfortNoise: number | undefined;
}

/**
 * Payload types for our offers: static ones as RFC 3551 assigns, dynamic ones from 96 up (never
 * 64–95, which rtcp-mux forbids, RFC 5761 §4), telephone-event/8000 on 101 when it is free.
 */
export function planPayloadTypes(codecs: readonly SdpCodec[], telephoneEvent: boolean, comfortNoise: boolean): PayloadPlan {
  const used = new Set<number>();
  for (const c of codecs) {
    if (c.staticPayloadType !== undefined) used.add(c.staticPayloadType);
    else if (c.payloadType !== undefined) used.add(c.payloadType);
  }
  const rates = [...new Set(codecs.map((c) => c.clockRate))];
  const te8000Preferred = telephoneEvent && rates.includes(8000) && !used.has(TELEPHONE_EVENT_PREFERRED_PT);
  if (te8000Preferred) used.add(TELEPHONE_EVENT_PREFERRED_PT);
  let next = 96;
  const allocate = (): number => {
    while (used.has(next)) next++;
    if (next > 127) throw new RangeError('more than 32 dynamic payload types');
    used.add(next);
    return next;
  };
  const planned = codecs.map((codec) => ({ codec, payloadType: codec.staticPayloadType ?? codec.payloadType ?? allocate() }));
  const telephoneEvents = telephoneEvent
    ? rates.map((clockRate) => ({ clockRate, payloadType: clockRate === 8000 && te8000Preferred ? TELEPHONE_EVENT_PREFERRED_PT : allocate() }))
    : [];
  return {
    codecs: planned,
    telephoneEvents,
    comfortNoise: comfortNoise && rates.includes(8000) && !used.has(CN_STATIC_PAYLOAD_TYPE) ? CN_STATIC_PAYLOAD_TYPE : undefined,
  };
}
