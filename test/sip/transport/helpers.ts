// Test helpers for the network transports: transports on ephemeral ports closed after each test, raw UDP/TCP peers, SIP text builders.
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { type Server, type Socket, connect, createServer } from 'node:net';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach } from 'vitest';
import { type SipMessage, SipRequest, type SipResponse } from '../../../firmware/sip/message/message.js';
import { parseMessage } from '../../../firmware/sip/message/parse.js';
import { NetworkTransport, type NetworkTransportEvents, type NetworkTransportOptions } from '../../../firmware/sip/transport/network-transport.js';
import { TransportError } from '../../../firmware/sip/transport/transport-error.js';
import type { SendResult } from '../../../firmware/sip/transport/transport.js';
import type { Logger } from '../../../firmware/util/log.js';

/**
 * Owns what a test opens (transports, raw peers, servers) and closes it after each test. One per
 * test file: `const h = harness();` at the top level.
 */
export class Harness {
  private readonly cleanups: (() => Promise<void> | void)[] = [];

  /** Runs fn after the current test (in reverse order of registration). */
  onCleanup(fn: () => Promise<void> | void): void {
    this.cleanups.push(fn);
  }

  async cleanup(): Promise<void> {
    const all = this.cleanups.splice(0).reverse();
    for (const c of all) await c();
  }

  /** A started transport, closed after the test. */
  async transport(options: NetworkTransportOptions): Promise<NetworkTransport> {
    const t = new NetworkTransport(options);
    await t.start();
    this.onCleanup(() => t.close());
    return t;
  }

  /**
   * A transport listening on UDP and TCP on the same port (as a phone does on 5060): the port
   * comes from an ephemeral UDP bind; a collision with another process is retried.
   */
  async udpTcpTransport(address: string, options: Omit<NetworkTransportOptions, 'listen'> = {}): Promise<NetworkTransport> {
    for (let attempt = 0; ; attempt++) {
      const probe = new NetworkTransport({ listen: [{ protocol: 'udp', address, port: 0 }] });
      await probe.start();
      const port = probe.localAddress('udp')?.port ?? 0;
      await probe.close();
      try {
        return await this.transport({ ...options, listen: [{ protocol: 'udp', address, port }, { protocol: 'tcp', address, port }] });
      } catch (e) {
        if (attempt >= 5) throw e;
      }
    }
  }

  async udpPeer(address = '127.0.0.1'): Promise<UdpPeer> {
    const peer = await UdpPeer.open(address);
    this.onCleanup(() => peer.close());
    return peer;
  }

  async tcpPeer(port: number, host = '127.0.0.1'): Promise<TcpPeer> {
    const peer = await TcpPeer.connect(port, host);
    this.onCleanup(() => {
      peer.socket.destroy();
    });
    return peer;
  }

  /** A raw TCP server that records what it receives and never answers. */
  async silentTcpServer(host = '127.0.0.1'): Promise<{ server: Server; port: number; peers: TcpPeer[] }> {
    const peers: TcpPeer[] = [];
    const server = createServer((s) => peers.push(TcpPeer.wrap(s)));
    await new Promise<void>((resolve) => server.listen(0, host, resolve));
    const a = server.address();
    const port = typeof a === 'object' && a ? a.port : 0;
    this.onCleanup(async () => {
      for (const p of peers) p.socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });
    return { server, port, peers };
  }
}

/** A Harness whose cleanup runs after each test of the calling file. */
export function harness(): Harness {
  const h = new Harness();
  afterEach(() => h.cleanup());
  return h;
}

/** Resolves with the next event of that name (matching the predicate), or rejects after timeoutMs. */
export function nextEvent<K extends keyof NetworkTransportEvents>(
  t: NetworkTransport,
  event: K,
  predicate: (...args: NetworkTransportEvents[K]) => boolean = () => true,
  timeoutMs = 5000,
): Promise<NetworkTransportEvents[K][0]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no '${event}' event within ${timeoutMs} ms`));
    }, timeoutMs);
    const off = t.on(event, (...args) => {
      if (!predicate(...args)) return;
      clearTimeout(timer);
      off();
      resolve(args[0]);
    });
  });
}

/** Collects every event of a kind. */
export function collect<K extends keyof NetworkTransportEvents>(t: NetworkTransport, event: K): NetworkTransportEvents[K][0][] {
  const out: NetworkTransportEvents[K][0][] = [];
  t.on(event, (...args) => out.push(args[0]));
  return out;
}

export interface RequestText {
  method?: string;
  uri?: string;
  via: string;
  callId?: string;
  cseq?: number;
  body?: string;
  extra?: readonly string[];
  /** Leave out Content-Length (and write the body anyway). */
  noContentLength?: boolean;
  contentLength?: number;
}

/** The wire text of a request. */
export function requestText(r: RequestText): string {
  const method = r.method ?? 'OPTIONS';
  const body = r.body ?? '';
  const lines = [
    `${method} ${r.uri ?? 'sip:bob@example.test'} SIP/2.0`,
    `Via: ${r.via}`,
    'Max-Forwards: 70',
    'From: <sip:alice@example.test>;tag=a1',
    'To: <sip:bob@example.test>',
    `Call-ID: ${r.callId ?? 'call-1@test'}`,
    `CSeq: ${r.cseq ?? 1} ${method}`,
    ...(r.extra ?? []),
  ];
  if (!r.noContentLength) lines.push(`Content-Length: ${r.contentLength ?? Buffer.byteLength(body)}`);
  return `${lines.join('\r\n')}\r\n\r\n${body}`;
}

export function parseRequest(text: string): SipRequest {
  const r = parseMessage(text, { limits: { maxMessageBytes: 1_000_000 } });
  if (!r.ok || r.message.kind !== 'request') throw new Error(`test request does not parse: ${r.ok ? 'response' : r.error.message}`);
  return r.message;
}

export function parseResponse(text: string | Buffer): SipResponse {
  const r = parseMessage(text);
  if (!r.ok || r.message.kind !== 'response') throw new Error(`not a response: ${r.ok ? 'request' : r.error.message}`);
  return r.message;
}

/** A request whose Via names the transport's own address (what the transaction layer would build). */
export function requestFrom(t: NetworkTransport, protocol: 'udp' | 'tcp' | 'tls', options: Omit<RequestText, 'via'> & { branch?: string; family?: 4 | 6 } = {}): SipRequest {
  const local = t.localAddress(protocol, options.family);
  if (!local) throw new Error(`no ${protocol} listener`);
  const host = local.address.includes(':') ? `[${local.address}]` : local.address;
  return parseRequest(requestText({ ...options, via: `SIP/2.0/${protocol.toUpperCase()} ${host}:${local.port};branch=${options.branch ?? 'z9hG4bK-test-1'};rport` }));
}

/** A raw UDP peer. */
export class UdpPeer {
  readonly received: { bytes: Buffer; port: number; address: string }[] = [];
  private waiters: (() => void)[] = [];

  private constructor(readonly socket: UdpSocket) {
    socket.on('message', (bytes, rinfo) => {
      this.received.push({ bytes, port: rinfo.port, address: rinfo.address });
      for (const w of this.waiters.splice(0)) w();
    });
  }

  static async open(address = '127.0.0.1'): Promise<UdpPeer> {
    const socket = createSocket(address.includes(':') ? 'udp6' : 'udp4');
    await new Promise<void>((resolve) => socket.bind(0, address, resolve));
    return new UdpPeer(socket);
  }

  get port(): number {
    return this.socket.address().port;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }

  send(bytes: string | Buffer, port: number, address = '127.0.0.1'): Promise<void> {
    return new Promise((resolve, reject) => this.socket.send(typeof bytes === 'string' ? Buffer.from(bytes) : bytes, port, address, (e) => (e ? reject(e) : resolve())));
  }

  /** Waits for the n-th datagram (1-based). */
  async datagram(n = 1, timeoutMs = 5000): Promise<Buffer> {
    const deadline = Date.now() + timeoutMs;
    while (this.received.length < n) {
      if (Date.now() > deadline) throw new Error(`UDP peer: ${this.received.length} datagrams, waited for ${n}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 50);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return this.received[n - 1]!.bytes;
  }
}

/** A raw TCP client: everything it receives is kept as text. */
export class TcpPeer {
  text = '';
  closed = false;
  private readonly closedPromise: Promise<void>;

  private constructor(readonly socket: Socket) {
    socket.on('data', (b: Buffer) => {
      this.text += b.toString('latin1');
    });
    socket.on('error', () => undefined);
    this.closedPromise = new Promise((resolve) =>
      socket.on('close', () => {
        this.closed = true;
        resolve();
      }),
    );
  }

  static async connect(port: number, host = '127.0.0.1'): Promise<TcpPeer> {
    const socket = connect({ port, host });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return new TcpPeer(socket);
  }

  static wrap(socket: Socket): TcpPeer {
    return new TcpPeer(socket);
  }

  write(bytes: string | Buffer): Promise<void> {
    return new Promise((resolve, reject) => this.socket.write(bytes, (e) => (e ? reject(e) : resolve())));
  }

  /** Waits until the received text satisfies the predicate. */
  async until(predicate: (text: string) => boolean, timeoutMs = 5000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this.text)) {
      if (Date.now() > deadline) throw new Error(`TCP peer: condition not met; received ${JSON.stringify(this.text.slice(0, 300))}`);
      await sleep(10);
    }
    return this.text;
  }

  waitClosed(timeoutMs = 5000): Promise<void> {
    return Promise.race([this.closedPromise, sleep(timeoutMs).then(() => Promise.reject(new Error('TCP peer: connection not closed')))]);
  }
}

/** A port nothing listens on (bound, then released). */
export async function closedTcpPort(host = '127.0.0.1'): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const a = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return typeof a === 'object' && a ? a.port : 0;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A pino logger whose lines are kept as objects. */
export function captureLogger(level = 'debug'): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString('utf8').split('\n')) if (l.trim() !== '') lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { logger: pino({ level }, sink), lines };
}

/** The request inside an inbound message (fails the test otherwise). */
export function asRequest(m: SipMessage): SipRequest {
  if (!(m instanceof SipRequest)) throw new Error('expected a request');
  return m;
}

/** The TransportError of a failed send (fails the test when it succeeded). */
export function sendError(r: SendResult): TransportError {
  if (r.ok) throw new Error('expected the send to fail');
  if (!(r.error instanceof TransportError)) throw new Error(`not a TransportError: ${r.error.message}`);
  return r.error;
}

/** The code of a TransportError (a connection-closed event's error), undefined for anything else. */
export function codeOf(e: unknown): string | undefined {
  return e instanceof TransportError ? e.code : undefined;
}
