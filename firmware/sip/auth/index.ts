// Digest authentication's public API (RFC 2617, RFC 7616, RFC 8760): the per-account client and the computations.
export {
  DIGEST_ALGORITHMS,
  type DigestAlgorithm,
  type DigestQop,
  type DigestResponseInput,
  type Ha1Input,
  algorithmStrength,
  computeDigestResponse,
  computeHa1,
  digestHash,
  formatNonceCount,
  hashUsername,
  isSessionAlgorithm,
  parseAlgorithm,
} from './digest.js';
export { type ChallengeKind, type DigestChallenge, type ParsedChallenge, type UnsupportedChallenge, chooseChallenge, credentialsHeader, parseChallenge, readChallenges } from './challenge.js';
export {
  type ChallengeOutcome,
  type ChallengeRefusal,
  DigestClient,
  type DigestClientOptions,
  DigestExchange,
  type ExchangeRoute,
  type RandomBytes,
} from './digest-client.js';
