// A DnsResolver answering from tables of records: for tests, and for phones with fixed host entries.
import { type DnsAnswer, type DnsResolver, type NaptrRecord, type SrvRecord, normalizeName } from './dns.js';
import { DnsLookupError, type DnsErrorCode, type DnsRecordType } from './errors.js';

/** Records by owner name (trailing dot optional, any case). */
export interface DnsZone {
  naptr?: Readonly<Record<string, readonly NaptrRecord[]>>;
  srv?: Readonly<Record<string, readonly SrvRecord[]>>;
  a?: Readonly<Record<string, readonly string[]>>;
  aaaa?: Readonly<Record<string, readonly string[]>>;
  /** Names whose every query fails with this code instead (SERVFAIL, TIMEOUT, REFUSED, FAILED). */
  failures?: Readonly<Record<string, Exclude<DnsErrorCode, 'NXDOMAIN'>>>;
  /** TTL given with every answer, s (default 300). */
  ttlSec?: number;
}

const TABLE: Record<DnsRecordType, 'naptr' | 'srv' | 'a' | 'aaaa'> = { NAPTR: 'naptr', SRV: 'srv', A: 'a', AAAA: 'aaaa' };

/**
 * Answers like a real authoritative server would: a name that owns records of some type (or has a
 * name below it: an empty non-terminal) gives NODATA (no records) for the other types; any other
 * name gives NXDOMAIN. Every query is recorded in `queries` ("SRV _sip._udp.example.com").
 */
export class StaticDnsResolver implements DnsResolver {
  /** Every query made, in order, as "TYPE name". */
  readonly queries: string[] = [];
  private zone: DnsZone;

  constructor(zone: DnsZone) {
    this.zone = zone;
  }

  /** Replaces the records (e.g. to check that a cache keeps serving the old ones until their TTL). */
  setZone(zone: DnsZone): void {
    this.zone = zone;
  }

  private lookup<T>(rrtype: DnsRecordType, name: string): Promise<DnsAnswer<T>> {
    const wanted = normalizeName(name);
    this.queries.push(`${rrtype} ${wanted}`);
    const failure = findIn(this.zone.failures, wanted);
    if (failure !== undefined) return Promise.reject(new DnsLookupError({ code: failure, hostname: wanted, rrtype, detail: 'static zone' }));
    const table = this.zone[TABLE[rrtype]] as Readonly<Record<string, readonly T[]>> | undefined;
    const records = findIn(table, wanted);
    if (records !== undefined) return Promise.resolve({ records: records.map((r) => (typeof r === 'object' ? { ...r } : r)), ttlSec: this.zone.ttlSec ?? 300 });
    if (this.exists(wanted)) return Promise.resolve({ records: [], ttlSec: this.zone.ttlSec ?? 300 });
    return Promise.reject(new DnsLookupError({ code: 'NXDOMAIN', hostname: wanted, rrtype, detail: 'static zone' }));
  }

  private exists(name: string): boolean {
    for (const key of ['naptr', 'srv', 'a', 'aaaa', 'failures'] as const) {
      for (const owner of Object.keys(this.zone[key] ?? {})) {
        const o = normalizeName(owner);
        if (o === name || o.endsWith(`.${name}`)) return true;
      }
    }
    return false;
  }

  naptr(name: string): Promise<DnsAnswer<NaptrRecord>> {
    return this.lookup('NAPTR', name);
  }

  srv(name: string): Promise<DnsAnswer<SrvRecord>> {
    return this.lookup('SRV', name);
  }

  a(name: string): Promise<DnsAnswer<string>> {
    return this.lookup('A', name);
  }

  aaaa(name: string): Promise<DnsAnswer<string>> {
    return this.lookup('AAAA', name);
  }
}

function findIn<V>(table: Readonly<Record<string, V>> | undefined, name: string): V | undefined {
  if (!table) return undefined;
  for (const [owner, value] of Object.entries(table)) if (normalizeName(owner) === name) return value;
  return undefined;
}
