// What a transport reports for every SIP message it sends or receives, for the pcap writer and the debug log.
import type { HostPort, TransportProtocol } from '../transport/transport.js';

export interface TraceRecord {
  direction: 'in' | 'out';
  protocol: TransportProtocol;
  /** Our end: the socket's local address and port. */
  local: HostPort;
  /** The peer: the packet's source (in) or destination (out). */
  remote: HostPort;
  /**
   * The bytes as on the wire (before received / rport are added to a request that came in;
   * TLS: the plaintext). Malformed messages are traced too: they are what one debugs.
   */
  bytes: Buffer;
  /** Wall-clock time, ms since the epoch (the Clock's wallNow()). */
  wallTimeMs: number;
  /** Stream transports: the connection, and which side opened it (for a plausible TCP handshake in a pcap). */
  connectionId?: string | undefined;
  opener?: 'local' | 'remote' | undefined;
}

/** Something that takes trace records: the pcap writer, the debug-log tracer. */
export type TraceSink = (record: TraceRecord) => void;
