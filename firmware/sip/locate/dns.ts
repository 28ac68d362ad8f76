// The DNS queries RFC 3263 needs (NAPTR, SRV, A, AAAA) behind an interface, and its node:dns implementation.
import { Resolver, lookup } from 'node:dns/promises';
import { DnsLookupError, type DnsErrorCode, type DnsRecordType } from './errors.js';

/** A NAPTR record (RFC 3403 §4.1). */
export interface NaptrRecord {
  order: number;
  preference: number;
  /** "S" for SIP (RFC 3263 §4.1): the replacement is an SRV name. */
  flags: string;
  /** "SIP+D2U", "SIP+D2T", "SIPS+D2T", ... */
  service: string;
  regexp: string;
  replacement: string;
}

/** An SRV record (RFC 2782). */
export interface SrvRecord {
  priority: number;
  weight: number;
  port: number;
  /** The target host name; "." means the service is decidedly not available (RFC 2782). */
  name: string;
}

/**
 * The answer to one query. NODATA (the name exists without records of the type) is an empty list;
 * a missing name rejects with a DnsLookupError whose code is NXDOMAIN.
 */
export interface DnsAnswer<T> {
  records: T[];
  /** Seconds the answer may be cached; undefined when the resolver does not say (node:dns for NAPTR, SRV). */
  ttlSec: number | undefined;
}

/**
 * What RFC 3263 asks of DNS. Injected, so that tests feed tables of records (StaticDnsResolver)
 * and the phone uses node:dns (NodeDnsResolver), optionally behind a cache (CachingDnsResolver).
 * Every method either resolves (possibly with no records) or rejects with a DnsLookupError.
 */
export interface DnsResolver {
  naptr(name: string): Promise<DnsAnswer<NaptrRecord>>;
  srv(name: string): Promise<DnsAnswer<SrvRecord>>;
  /** IPv4 addresses, dotted quad. */
  a(name: string): Promise<DnsAnswer<string>>;
  /** IPv6 addresses, without brackets. */
  aaaa(name: string): Promise<DnsAnswer<string>>;
}

export interface NodeDnsResolverOptions {
  /** DNS servers as "ip" or "ip:port" ("[v6]:port"); the system's (/etc/resolv.conf) when absent. */
  servers?: readonly string[] | undefined;
  /** Time to wait for one answer before retrying, ms (c-ares default: 5000). */
  queryTimeoutMs?: number | undefined;
  /** Attempts per server before giving up (c-ares default: 4). */
  tries?: number | undefined;
  /**
   * When DNS has no A/AAAA for a name, ask the system's resolver too (getaddrinfo: /etc/hosts,
   * mDNS through nsswitch), as a person who put the PBX in /etc/hosts expects. c-ares reads
   * neither. Default false; note that getaddrinfo may query the system's DNS servers as well.
   */
  systemFallback?: boolean | undefined;
}

/** node:dns error codes (dns.NOTFOUND, ...) to ours. */
function codeOf(err: unknown): { code: DnsErrorCode; nodata: boolean; detail: string } {
  const raw = typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : '';
  switch (raw) {
    case 'ENODATA':
      return { code: 'FAILED', nodata: true, detail: raw };
    case 'ENOTFOUND':
      return { code: 'NXDOMAIN', nodata: false, detail: raw };
    case 'ESERVFAIL':
    case 'EBADRESP':
    case 'EFORMERR':
    case 'ENOTIMP':
      return { code: 'SERVFAIL', nodata: false, detail: raw };
    case 'EREFUSED':
      return { code: 'REFUSED', nodata: false, detail: raw };
    case 'ETIMEOUT':
    case 'ECONNREFUSED':
      // c-ares reports an unreachable server (ICMP port unreachable) as ECONNREFUSED after its retries.
      return { code: 'TIMEOUT', nodata: false, detail: raw };
    default:
      return { code: 'FAILED', nodata: false, detail: raw || (err instanceof Error ? err.message : String(err)) };
  }
}

/** Strips the root label's dot and lower-cases, so that names compare and cache as one. */
export function normalizeName(name: string): string {
  const n = name.toLowerCase();
  return n.endsWith('.') ? n.slice(0, -1) : n;
}

/** DNS through node:dns (c-ares): one Resolver instance of its own, so setServers() touches nothing else. */
export class NodeDnsResolver implements DnsResolver {
  private readonly resolver: Resolver;
  private readonly systemFallback: boolean;

  constructor(options: NodeDnsResolverOptions = {}) {
    this.resolver = new Resolver({ timeout: options.queryTimeoutMs ?? 2000, tries: options.tries ?? 2 });
    if (options.servers) this.resolver.setServers([...options.servers]);
    this.systemFallback = options.systemFallback ?? false;
  }

  /** Abandons the queries in flight (they reject with a FAILED DnsLookupError). */
  cancel(): void {
    this.resolver.cancel();
  }

  private async run<T>(rrtype: DnsRecordType, name: string, query: () => Promise<T[]>, ttlOf: (records: T[]) => number | undefined): Promise<DnsAnswer<T>> {
    try {
      const records = await query();
      return { records, ttlSec: ttlOf(records) };
    } catch (err) {
      const { code, nodata, detail } = codeOf(err);
      if (nodata) return { records: [], ttlSec: undefined };
      throw new DnsLookupError({ code, hostname: name, rrtype, detail, cause: err });
    }
  }

  naptr(name: string): Promise<DnsAnswer<NaptrRecord>> {
    return this.run('NAPTR', name, () => this.resolver.resolveNaptr(name), () => undefined);
  }

  srv(name: string): Promise<DnsAnswer<SrvRecord>> {
    return this.run('SRV', name, () => this.resolver.resolveSrv(name), () => undefined);
  }

  a(name: string): Promise<DnsAnswer<string>> {
    return this.addresses('A', name, () => this.resolver.resolve4(name, { ttl: true }));
  }

  aaaa(name: string): Promise<DnsAnswer<string>> {
    return this.addresses('AAAA', name, () => this.resolver.resolve6(name, { ttl: true }));
  }

  private async addresses(rrtype: 'A' | 'AAAA', name: string, query: () => Promise<{ address: string; ttl: number }[]>): Promise<DnsAnswer<string>> {
    let answer: DnsAnswer<{ address: string; ttl: number }>;
    try {
      answer = await this.run(rrtype, name, query, minTtl);
    } catch (err) {
      if (!(err instanceof DnsLookupError) || err.code !== 'NXDOMAIN' || !this.systemFallback) throw err;
      const found = await this.system(rrtype, name);
      if (found.length === 0) throw err;
      return { records: found, ttlSec: undefined };
    }
    if (answer.records.length === 0 && this.systemFallback) return { records: await this.system(rrtype, name), ttlSec: undefined };
    return { records: answer.records.map((r) => r.address), ttlSec: answer.ttlSec };
  }

  /** getaddrinfo for one family; nothing on any failure (the DNS answer stands). */
  private async system(rrtype: 'A' | 'AAAA', name: string): Promise<string[]> {
    try {
      const found = await lookup(name, { family: rrtype === 'A' ? 4 : 6, all: true });
      return found.map((f) => f.address);
    } catch {
      return [];
    }
  }
}

function minTtl(records: { ttl: number }[]): number | undefined {
  if (records.length === 0) return undefined;
  return Math.min(...records.map((r) => r.ttl));
}
