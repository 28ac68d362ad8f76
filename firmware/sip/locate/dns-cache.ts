// A TTL-respecting cache in front of any DnsResolver, on the injected Clock (RFC 1035 §3.2.1 TTL, RFC 2308 negative caching).
import type { Clock } from '../../util/clock.js';
import type { DnsAnswer, DnsResolver, NaptrRecord, SrvRecord } from './dns.js';
import { normalizeName } from './dns.js';
import { DnsLookupError, type DnsRecordType } from './errors.js';

export interface DnsCacheOptions {
  clock: Clock;
  /** Lifetime of answers that carry no TTL (node:dns gives none for NAPTR and SRV), s. Default 60. */
  defaultTtlSec?: number | undefined;
  /** Upper bound on any lifetime, s, so that a renumbered server is found again. Default 3600. */
  maxTtlSec?: number | undefined;
  /** Lifetime of NXDOMAIN and NODATA answers (RFC 2308 §5), s. Default 30. Other failures are never cached. */
  negativeTtlSec?: number | undefined;
  /** Entries kept at most; the oldest go first. Default 256. */
  maxEntries?: number | undefined;
}

type Entry = { expiresAtMs: number; answer: DnsAnswer<unknown> } | { expiresAtMs: number; error: DnsLookupError };

/**
 * Caches answers per (type, name) until their TTL runs out on the Clock, remembers NXDOMAIN and
 * NODATA for a short while, and merges concurrent identical queries into one. A TIMEOUT or SERVFAIL
 * is not remembered: the next call asks again.
 */
export class CachingDnsResolver implements DnsResolver {
  private readonly entries = new Map<string, Entry>();
  private readonly inFlight = new Map<string, Promise<DnsAnswer<unknown>>>();
  private readonly clock: Clock;
  private readonly defaultTtlSec: number;
  private readonly maxTtlSec: number;
  private readonly negativeTtlSec: number;
  private readonly maxEntries: number;

  constructor(
    private readonly upstream: DnsResolver,
    options: DnsCacheOptions,
  ) {
    this.clock = options.clock;
    this.defaultTtlSec = options.defaultTtlSec ?? 60;
    this.maxTtlSec = options.maxTtlSec ?? 3600;
    this.negativeTtlSec = options.negativeTtlSec ?? 30;
    this.maxEntries = options.maxEntries ?? 256;
  }

  /** Number of entries held (expired ones included until they are looked at or evicted). */
  get size(): number {
    return this.entries.size;
  }

  /** Forgets everything (e.g. when the network changes). */
  clear(): void {
    this.entries.clear();
  }

  private async cached<T>(rrtype: DnsRecordType, name: string, ask: (name: string) => Promise<DnsAnswer<T>>): Promise<DnsAnswer<T>> {
    const n = normalizeName(name);
    const key = `${rrtype} ${n}`;
    const now = this.clock.now();
    const hit = this.entries.get(key);
    if (hit && hit.expiresAtMs > now) {
      if ('error' in hit) throw hit.error;
      const remainingSec = Math.max(0, Math.floor((hit.expiresAtMs - now) / 1000));
      return { records: hit.answer.records as T[], ttlSec: remainingSec };
    }
    if (hit) this.entries.delete(key);
    const pending = this.inFlight.get(key);
    if (pending) return (await pending) as DnsAnswer<T>;
    const query = ask(n);
    this.inFlight.set(key, query);
    try {
      const answer = await query;
      // An empty answer is NODATA: negative-cached like NXDOMAIN (RFC 2308 §5).
      const ttlSec = answer.records.length === 0 ? this.negativeTtlSec : Math.min(answer.ttlSec ?? this.defaultTtlSec, this.maxTtlSec);
      this.store(key, { expiresAtMs: this.clock.now() + ttlSec * 1000, answer });
      return answer;
    } catch (err) {
      if (err instanceof DnsLookupError && err.code === 'NXDOMAIN') this.store(key, { expiresAtMs: this.clock.now() + this.negativeTtlSec * 1000, error: err });
      throw err;
    } finally {
      this.inFlight.delete(key);
    }
  }

  private store(key: string, entry: Entry): void {
    if (entry.expiresAtMs <= this.clock.now()) return; // TTL 0: use once, never cache (RFC 1035 §3.2.1)
    this.entries.delete(key);
    this.entries.set(key, entry);
    if (this.entries.size <= this.maxEntries) return;
    const now = this.clock.now();
    for (const [k, e] of this.entries) if (e.expiresAtMs <= now) this.entries.delete(k);
    // Map iteration is insertion order: the first keys are the oldest.
    for (const k of this.entries.keys()) {
      if (this.entries.size <= this.maxEntries) break;
      this.entries.delete(k);
    }
  }

  naptr(name: string): Promise<DnsAnswer<NaptrRecord>> {
    return this.cached('NAPTR', name, (n) => this.upstream.naptr(n));
  }

  srv(name: string): Promise<DnsAnswer<SrvRecord>> {
    return this.cached('SRV', name, (n) => this.upstream.srv(n));
  }

  a(name: string): Promise<DnsAnswer<string>> {
    return this.cached('A', name, (n) => this.upstream.a(n));
  }

  aaaa(name: string): Promise<DnsAnswer<string>> {
    return this.cached('AAAA', name, (n) => this.upstream.aaaa(n));
  }
}
