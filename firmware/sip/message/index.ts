// The SIP message layer's public API: parse, validate, build, serialize, frame; URIs and typed header values.
export { SipParseError, type SipLimitName, type SipParseErrorInit } from './errors.js';
export { Params, type Param, type ParamOptions } from './params.js';
export { AbsoluteUri, SipUri, TelUri, type SipUriInit, type Uri, type UriResult, escapeUser, parseUri, sipUri, unescapeUri, uri, uriEquals } from './uri.js';
export {
  AuthValue,
  CSeq,
  H,
  MediaType,
  NameAddr,
  RAck,
  RetryAfter,
  SipDate,
  ValueWithParams,
  Via,
  Warning,
  type AnyHeaderSpec,
  type HeaderSpec,
  type NameAddrInit,
  type ViaInit,
  canonicalName,
  headerSpec,
} from './headers.js';
export { HeaderField, type HeaderInput, type SipMessage, SipRequest, type SipRequestInit, SipResponse, type SipResponseInit } from './message.js';
export { DEFAULT_PARSE_LIMITS, type ParseLimits, type ParseOptions, type ParseResult, parseMessage } from './parse.js';
export { type SerializeOptions, formatStartLine, serializeMessage } from './serialize.js';
export { type FramerEvent, type FramerOptions, SipStreamFramer } from './framer.js';
export { DEFAULT_CONTENT_TYPES, DEFAULT_KNOWN_METHODS, DEFAULT_SCHEMES, type ValidateOptions, type ValidationResult, mergeKey, validateRequest } from './validate.js';
export { type CreateRequestOptions, type CreateResponseOptions, type ExtraHeaders, createRequest, createResponse, reasonPhrase } from './build.js';
