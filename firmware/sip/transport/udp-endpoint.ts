// One bound UDP socket (node:dgram): datagrams in through a guarded callback, sends that resolve with an error instead of throwing.
import { type Socket, createSocket } from 'node:dgram';
import type { Logger } from '../../util/log.js';
import type { HostPort } from './transport.js';
import { TransportError, errorText } from './transport-error.js';
import { normalizeAddress } from './ip-address.js';

/** Largest UDP payload: 65,535 minus the IPv4 (20) and UDP (8) headers; IPv6 has no header in its length field. */
export function maxUdpPayload(family: 4 | 6): number {
  return family === 4 ? 65_507 : 65_527;
}

export interface UdpEndpointOptions {
  address: string;
  port: number;
  family: 4 | 6;
  log: Logger;
  onDatagram: (bytes: Buffer, source: HostPort) => void;
}

export class UdpEndpoint {
  private closed = false;

  private constructor(
    private readonly socket: Socket,
    readonly local: HostPort,
    readonly family: 4 | 6,
  ) {}

  /** Binds a socket; rejects with a TransportError (bind-failed) when the address is taken or absent. */
  static bind(options: UdpEndpointOptions): Promise<UdpEndpoint> {
    const socket = createSocket({ type: options.family === 4 ? 'udp4' : 'udp6' });
    const log = options.log;
    return new Promise((resolve, reject) => {
      const onBindError = (e: Error): void => {
        socket.close();
        reject(new TransportError({ code: 'bind-failed', message: `cannot bind UDP ${options.address}:${options.port}: ${errorText(e)}`, cause: e }));
      };
      socket.once('error', onBindError);
      socket.bind(options.port, options.address, () => {
        socket.off('error', onBindError);
        // ICMP errors are not reported on unconnected sockets, but any socket error must have a listener.
        socket.on('error', (e) => log.warn({ err: e }, 'UDP socket error'));
        const a = socket.address();
        const endpoint = new UdpEndpoint(socket, { protocol: 'udp', address: normalizeAddress(a.address), port: a.port }, options.family);
        socket.on('message', (msg, rinfo) => {
          try {
            options.onDatagram(msg, { protocol: 'udp', address: normalizeAddress(rinfo.address), port: rinfo.port });
          } catch (e) {
            log.error({ err: e }, 'UDP datagram handler failed');
          }
        });
        resolve(endpoint);
      });
    });
  }

  send(bytes: Buffer, address: string, port: number): Promise<TransportError | undefined> {
    const remote: HostPort = { protocol: 'udp', address, port };
    if (this.closed) return Promise.resolve(new TransportError({ code: 'not-running', message: 'UDP socket closed', remote }));
    return new Promise((resolve) => {
      try {
        this.socket.send(bytes, port, address, (e) => {
          resolve(e ? new TransportError({ code: 'write-failed', message: `UDP send failed: ${errorText(e)}`, remote, cause: e }) : undefined);
        });
      } catch (e) {
        resolve(new TransportError({ code: 'write-failed', message: `UDP send failed: ${errorText(e)}`, remote, cause: e }));
      }
    });
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    return new Promise((resolve) => {
      try {
        this.socket.close(() => resolve());
      } catch {
        resolve();
      }
    });
  }
}
