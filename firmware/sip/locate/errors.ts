// Typed errors of SIP server location (RFC 3263): one for a DNS query, one for a whole locate() call.

/**
 * Why a DNS query gave no answer. NODATA is not an error (the name exists without records of that
 * type, RFC 2308 §2.2) and never appears here: resolvers answer it with an empty record list.
 */
export type DnsErrorCode =
  /** The name does not exist (RCODE 3, RFC 1035 §4.1.1; RFC 2308 §2.1). */
  | 'NXDOMAIN'
  /** The server failed (RCODE 2) or answered something unusable. */
  | 'SERVFAIL'
  /** The server refused the query (RCODE 5). */
  | 'REFUSED'
  /** No answer in time from any configured server. */
  | 'TIMEOUT'
  /** Anything else: no server configured, bad name, socket error. */
  | 'FAILED';

export type DnsRecordType = 'NAPTR' | 'SRV' | 'A' | 'AAAA';

/** One DNS query that failed: which name, which type, why. */
export class DnsLookupError extends Error {
  readonly code: DnsErrorCode;
  readonly hostname: string;
  readonly rrtype: DnsRecordType;

  /** cause: the resolver's own error (node:dns 'ENOTFOUND', 'ETIMEOUT', ...), when there is one. */
  constructor(init: { code: DnsErrorCode; hostname: string; rrtype: DnsRecordType; detail?: string; cause?: unknown }) {
    super(`${init.rrtype} ${init.hostname}: ${init.code}${init.detail ? ` (${init.detail})` : ''}`, { cause: init.cause });
    this.name = 'DnsLookupError';
    this.code = init.code;
    this.hostname = init.hostname;
    this.rrtype = init.rrtype;
  }
}

export type LocateErrorCode =
  /** tel:, http: ... : only sip: and sips: URIs are located (RFC 3263 §4). */
  | 'UNSUPPORTED_URI'
  /** The URI asks for a transport we do not have, or sips: over UDP (RFC 3263 §4.1). */
  | 'UNSUPPORTED_TRANSPORT'
  /** The domain does not exist (NXDOMAIN). */
  | 'NOT_FOUND'
  /** The domain exists but no NAPTR, SRV, A or AAAA record gives a usable address. */
  | 'NO_TARGETS'
  /** DNS itself failed (timeout, SERVFAIL, refused): the domain may well exist. */
  | 'DNS_FAILURE';

/** locate() could not produce a single target: says which URI, why, and the DNS error behind it. */
export class LocateError extends Error {
  readonly code: LocateErrorCode;
  /** The URI being located, as text. */
  readonly uri: string;
  /** The DNS failure that decided the outcome, when there was one. */
  readonly dnsError: DnsLookupError | undefined;

  constructor(init: { code: LocateErrorCode; uri: string; reason: string; dnsError?: DnsLookupError | undefined }) {
    super(`cannot locate ${init.uri}: ${init.reason}`);
    this.name = 'LocateError';
    this.code = init.code;
    this.uri = init.uri;
    this.dnsError = init.dnsError;
  }
}
