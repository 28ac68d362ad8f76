// The contract between the SIP transport layer (RFC 3261 §18) and the transaction layer above it.
import type { Unsubscribe } from '../../util/emitter.js';
import type { SipMessage } from '../message/message.js';
import type { TraceRecord } from '../trace/trace-record.js';

export type TransportProtocol = 'udp' | 'tcp' | 'tls';

/** A transport address: protocol, IP address (v4 or v6, no brackets) and port. */
export interface HostPort {
  protocol: TransportProtocol;
  address: string;
  port: number;
}

/** Where to send a message. For a response on a stream, connectionId names the connection the request came in on. */
export interface SendTarget extends HostPort {
  /** Reuse this connection (responses on TCP/TLS go back on the request's connection, RFC 3261 §18.2.2). */
  connectionId?: string | undefined;
  /** TLS: the host name to verify the server certificate against (SNI). */
  serverName?: string | undefined;
}

/** A message that arrived, with where it came from (for received / rport, RFC 3261 §18.2.1, RFC 3581). */
export interface InboundMessage {
  message: SipMessage;
  /** The packet's source address. */
  source: HostPort;
  /** The local address and port it arrived on. */
  local: HostPort;
  /** Stream transports: the connection it arrived on. */
  connectionId?: string | undefined;
  /** Clock time of arrival, ms. */
  receivedAtMs: number;
}

/** What happened to a send; the transaction layer turns a failure into a transport-error event (RFC 3261 §17.1.4). */
export type SendResult = { ok: true; protocol: TransportProtocol; local: HostPort; connectionId?: string | undefined } | { ok: false; error: Error };

export interface TransportEvents {
  message: [InboundMessage];
  /** A stream closed (so that flows, registrations and keep-alives can react). */
  'connection-closed': [{ connectionId: string; remote: HostPort; error?: Error | undefined }];
  /**
   * Every SIP message sent and received, as bytes, for the pcap file and the debug log
   * (keep-alives are not traced). A transport that cannot see its bytes may emit none.
   */
  trace: [TraceRecord];
}

/**
 * The transport layer as the transaction layer sees it (SIP.js keeps this to two members; we add
 * what RFC 3261 §18 needs: the local address for Via and Contact, and reliability for the timers).
 * Implementations: network (UDP / TCP / TLS over node:dgram, node:net, node:tls) and the in-memory
 * loopback with drop / delay / duplicate / reorder switches. A send never throws: it resolves with
 * a SendResult.
 */
export interface SipTransport {
  send(message: SipMessage, target: SendTarget): Promise<SendResult>;
  on<K extends keyof TransportEvents>(event: K, listener: (...args: TransportEvents[K]) => void): Unsubscribe;
  /** The address and port to put in Via sent-by and Contact for this protocol (undefined when not listening). */
  localAddress(protocol: TransportProtocol, family?: 4 | 6): HostPort | undefined;
  /** TCP and TLS are reliable: Timers A, E, G are not used and D, I, J, K are zero (RFC 3261 §17). */
  isReliable(protocol: TransportProtocol): boolean;
  close(): Promise<void>;
}
