// The SIP core's public API for the phone and the composition root: the user agent, and the types its options and events are made of.
export * from './ua/index.js';
export type { ListenConfig, NetworkTransportOptions } from './transport/network-transport.js';
export type { TlsClientOptions, TlsServerOptions } from './transport/tls-config.js';
export type { HostPort, SipTransport, TransportProtocol } from './transport/transport.js';
export type { TraceRecord } from './trace/trace-record.js';
export { CachingDnsResolver, type DnsResolver, NodeDnsResolver, StaticDnsResolver } from './locate/index.js';
export type { RandomSource, TransactionTimerOptions } from './transaction/index.js';
