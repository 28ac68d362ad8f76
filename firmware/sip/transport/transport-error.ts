// The typed error of the network transports: what failed (a code), towards whom, and the system error behind it.
import type { HostPort } from './transport.js';
import { formatHostPort } from './ip-address.js';

export type TransportErrorCode =
  /** The transport is not started or already closed. */
  | 'not-running'
  /** No socket for this protocol and address family. */
  | 'no-listener'
  /** The target is not an IP address (name resolution belongs to the resolver, RFC 3263). */
  | 'bad-target'
  /** TCP connect refused, unreachable, reset during connect. */
  | 'connect-failed'
  | 'connect-timeout'
  /** TLS handshake failed: certificate not trusted, wrong host name, protocol error. */
  | 'tls-failed'
  /** Writing to a socket failed or did not finish in time. */
  | 'write-failed'
  | 'write-timeout'
  /** The message does not fit: larger than a datagram, or than the stream limit. */
  | 'too-large'
  /** The connection closed before or while the message was written. */
  | 'connection-closed'
  /** No CRLF pong within the pong timeout (RFC 5626 §4.4.1). */
  | 'keepalive-timeout'
  /** No traffic for idleTimeoutMs. */
  | 'idle-timeout'
  /** A partial message stayed incomplete for too long (slow or stalled peer). */
  | 'incomplete-message'
  /** The byte stream can no longer be cut into messages (RFC 3261 §18.3). */
  | 'framing-lost'
  /** The listening socket failed (bind error). */
  | 'bind-failed';

export interface TransportErrorInit {
  code: TransportErrorCode;
  message: string;
  remote?: HostPort | undefined;
  cause?: unknown;
}

/** Never thrown out of send(): returned in a SendResult, or carried by a connection-closed event. */
export class TransportError extends Error {
  readonly code: TransportErrorCode;
  readonly remote: HostPort | undefined;
  /** The system error code behind it (ECONNREFUSED, ERR_TLS_CERT_ALTNAME_INVALID...), when there is one. */
  readonly systemCode: string | undefined;

  constructor(init: TransportErrorInit) {
    const where = init.remote ? ` (${init.remote.protocol} ${formatHostPort(init.remote.address, init.remote.port)})` : '';
    super(`${init.message}${where}`, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = 'TransportError';
    this.code = init.code;
    this.remote = init.remote;
    this.systemCode = systemCodeOf(init.cause);
  }
}

function systemCodeOf(e: unknown): string | undefined {
  if (typeof e !== 'object' || e === null || !('code' in e)) return undefined;
  const code = e.code;
  return typeof code === 'string' ? code : undefined;
}

/** The message of an unknown thrown value. */
export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
