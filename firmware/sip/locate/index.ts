// Public API of SIP server location (RFC 3263): the locator, its failover list, and the DNS it runs on.
export { ServerLocator, type AddressFamily, type SentBy, type ServerLocatorOptions } from './locator.js';
export { TargetBlacklist, TargetList, type FailoverReason, type ServerTarget, type TargetBlacklistOptions, type TargetFailure } from './target-list.js';
export { NodeDnsResolver, normalizeName, type DnsAnswer, type DnsResolver, type NaptrRecord, type NodeDnsResolverOptions, type SrvRecord } from './dns.js';
export { CachingDnsResolver, type DnsCacheOptions } from './dns-cache.js';
export { StaticDnsResolver, type DnsZone } from './static-dns.js';
export { orderSrv, type RandomSource } from './srv-order.js';
export { DnsLookupError, LocateError, type DnsErrorCode, type DnsRecordType, type LocateErrorCode } from './errors.js';
