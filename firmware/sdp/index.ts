// The SDP layer's public API: RFC 3264 offer/answer on sdp-transform, for firmware/call (and anything else that speaks SDP).
export { OfferAnswer, OfferAnswerState, INITIAL_SDP_VERSION, type SdpAnswerVerdict, type SdpLocalAnswer, type SdpOfferVerdict } from './offer-answer.js';
export { DEFAULT_MAX_SDP_BYTES, parseSdp, type SdpParseResult } from './sdp-parse.js';
export { parseFmtp, formatFmtp } from './sdp-formats.js';
export { SDES_KEY_SALT_BYTES, generateSdesKey } from './sdes.js';
export * from './sdp-types.js';
