// SDP offers and answers shaped like those of real peers (written for these tests), and the local configurations they are answered with.
import type { SdpCodec, SdpConfig } from '../../firmware/sdp/index.js';

/** Lines joined with CRLF, as peers send them. */
export const sdp = (...lines: string[]): string => lines.join('\r\n') + '\r\n';

/** A deterministic random source: bytes count up from `seed`. */
export function countingBytes(seed = 1): (size: number) => Uint8Array {
  let n = seed;
  return (size) => Uint8Array.from({ length: size }, () => n++ & 0xff);
}

export const OPUS: SdpCodec = {
  name: 'opus',
  clockRate: 48000,
  channels: 2,
  fmtp: { minptime: 10, useinbandfec: 1, usedtx: 0, maxplaybackrate: 16000 },
  ptimesMs: [10, 20, 40, 60],
};
export const PCMU: SdpCodec = { name: 'PCMU', clockRate: 8000, channels: 1, staticPayloadType: 0, ptimesMs: [10, 20, 30, 40, 50, 60] };
export const PCMA: SdpCodec = { name: 'PCMA', clockRate: 8000, channels: 1, staticPayloadType: 8, ptimesMs: [10, 20, 30, 40, 50, 60] };
export const G722: SdpCodec = { name: 'G722', clockRate: 8000, channels: 1, staticPayloadType: 9 };

export const config = (over: Partial<SdpConfig> = {}): SdpConfig => ({
  address: '192.0.2.1',
  codecs: [OPUS, PCMU, PCMA],
  randomBytes: countingBytes(),
  ...over,
});

// 30 octets of key and salt, base64 (40 characters).
export const KEY_A = Buffer.alloc(30, 0xa1).toString('base64');
export const KEY_B = Buffer.alloc(30, 0xb2).toString('base64');

/** baresip: opus first on 96 without telephone-event/48000, rtcp-mux, ssrc and label lines we ignore. */
export const BARESIP_OFFER = sdp(
  'v=0',
  'o=- 3402611262 2173547396 IN IP4 192.0.2.10',
  's=-',
  'c=IN IP4 192.0.2.10',
  't=0 0',
  'm=audio 10000 RTP/AVP 96 0 8 101',
  'b=AS:64',
  'a=rtpmap:96 opus/48000/2',
  'a=fmtp:96 stereo=1;sprop-stereo=1;maxplaybackrate=48000',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:8 PCMA/8000',
  'a=rtpmap:101 telephone-event/8000',
  'a=fmtp:101 0-15',
  'a=rtcp-mux',
  'a=ptime:20',
  'a=sendrecv',
  'a=label:1',
  'a=ssrc:1862183413 cname:a3b2c1d0-4a17-4c2b-9f4e-0b1a2c3d4e5f',
);

/** Asterisk: static types in its order, a=rtcp-less, maxptime 150, telephone-event 0-16. */
export const ASTERISK_OFFER = sdp(
  'v=0',
  'o=- 1939568386 1939568386 IN IP4 198.51.100.5',
  's=Asterisk',
  'c=IN IP4 198.51.100.5',
  't=0 0',
  'm=audio 17540 RTP/AVP 8 0 9 101',
  'a=rtpmap:8 PCMA/8000',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:9 G722/8000',
  'a=rtpmap:101 telephone-event/8000',
  'a=fmtp:101 0-16',
  'a=ptime:30',
  'a=maxptime:150',
  'a=sendrecv',
);

/** A Polycom desk phone: G.722 first, G.729, telephone-event on 127, no rtpmap for PCMU. */
export const POLYCOM_OFFER = sdp(
  'v=0',
  'o=- 1678901234 1678901234 IN IP4 203.0.113.50',
  's=Polycom IP Phone',
  'c=IN IP4 203.0.113.50',
  't=0 0',
  'a=sendrecv',
  'm=audio 2222 RTP/AVP 9 18 0 8 127',
  'a=rtpmap:9 G722/8000',
  'a=rtpmap:18 G729/8000',
  'a=fmtp:18 annexb=no',
  'a=rtpmap:8 PCMA/8000',
  'a=rtpmap:127 telephone-event/8000',
  'a=fmtp:127 0-15',
  'a=rtcp:2225',
);

/** An RFC 2543 peer putting us on hold: c=0.0.0.0, no direction attribute, no rtpmap at all. */
export const OLD_HOLD_OFFER = sdp('v=0', 'o=old 1 2 IN IP4 192.0.2.99', 's=-', 'c=IN IP4 0.0.0.0', 't=0 0', 'm=audio 5004 RTP/AVP 0 13');

/** Browser-like: opus on 111 with telephone-event/48000 on 110 and /8000 on 126, a video m-line after the audio one. */
export const BROWSER_OFFER = sdp(
  'v=0',
  'o=mozilla...THIS_IS_SDPARTA-115.0 4215774466893496 0 IN IP4 0.0.0.0',
  's=-',
  't=0 0',
  'a=msid-semantic:WMS *',
  'm=audio 49170 RTP/AVP 111 9 0 8 110 126',
  'c=IN IP4 192.0.2.20',
  'a=rtpmap:111 opus/48000/2',
  'a=fmtp:111 maxplaybackrate=48000;stereo=1;useinbandfec=1;usedtx=1',
  'a=rtpmap:9 G722/8000/1',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:8 PCMA/8000',
  'a=rtpmap:110 telephone-event/48000',
  'a=rtpmap:126 telephone-event/8000',
  'a=fmtp:110 0-15',
  'a=fmtp:126 0-15',
  'a=ptime:10',
  'a=sendrecv',
  'a=rtcp-mux',
  'm=video 49172 RTP/AVP 120 121',
  'c=IN IP4 192.0.2.20',
  'a=rtpmap:120 VP8/90000',
  'a=rtpmap:121 VP9/90000',
  'a=sendrecv',
);

/** SRTP: RTP/SAVP, an MKI line first (unusable), then the 32-bit tag, then the 80-bit one. */
export const SAVP_OFFER = sdp(
  'v=0',
  'o=- 8000 8000 IN IP4 192.0.2.30',
  's=-',
  'c=IN IP4 192.0.2.30',
  't=0 0',
  'm=audio 30000 RTP/SAVP 0 8 101',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:8 PCMA/8000',
  'a=rtpmap:101 telephone-event/8000',
  `a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${KEY_A}|2^20|1:4`,
  `a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:${KEY_A}|2^31`,
  `a=crypto:3 AES_CM_128_HMAC_SHA1_80 inline:${KEY_B}`,
  'a=sendrecv',
);

/** IPv6 peer, sendonly (it holds us). */
export const IPV6_HOLD_OFFER = sdp(
  'v=0',
  'o=- 55 56 IN IP6 2001:db8::10',
  's=-',
  'c=IN IP6 2001:db8::10',
  't=0 0',
  'm=audio 6000 RTP/AVP 0 101',
  'a=rtpmap:101 telephone-event/8000',
  'a=sendonly',
);

/** A plain offer whose direction line is replaced per test. */
export const plainOffer = (direction: string, port = 7000): string =>
  sdp('v=0', 'o=- 7 7 IN IP4 192.0.2.40', 's=-', 'c=IN IP4 192.0.2.40', 't=0 0', `m=audio ${port} RTP/AVP 0 101`, 'a=rtpmap:101 telephone-event/8000', `a=${direction}`);
