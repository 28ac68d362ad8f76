// NetworkTransport: SIP over UDP, TCP and TLS on real sockets (node:dgram, node:net, node:tls), IPv4 and IPv6 (RFC 3261 §18).
import { type Server, type Socket, connect as netConnect, createServer as netCreateServer } from 'node:net';
import { type ConnectionOptions, type SecureContext, type TLSSocket, checkServerIdentity, connect as tlsConnect, createServer as tlsCreateServer } from 'node:tls';
import { networkInterfaces } from 'node:os';
import { RealClock, type Clock, type TimerHandle } from '../../util/clock.js';
import { Emitter, type Unsubscribe } from '../../util/emitter.js';
import { type Logger, silentLogger } from '../../util/log.js';
import { SipParseError } from '../message/errors.js';
import type { SipMessage, SipRequest } from '../message/message.js';
import { parseMessage } from '../message/parse.js';
import { serializeMessage } from '../message/serialize.js';
import type { TraceRecord } from '../trace/trace-record.js';
import type { HostPort, InboundMessage, SendResult, SendTarget, SipTransport, TransportEvents, TransportProtocol } from './transport.js';
import { ConnectionTable, connectionKey } from './connection-table.js';
import {
  errorResponseFor,
  isKeepAlive,
  isStun,
  looksLikeResponse,
  markReceived,
  preview,
  salvageRequest,
  sentByKey,
  topViaOf,
  udpResponseTarget,
  withTopViaTransport,
} from './inbound.js';
import { formatHostPort, ipFamily, mappedIpv6, normalizeAddress, stripBrackets } from './ip-address.js';
import { StreamConnection, type StreamKeepAliveOptions } from './stream-connection.js';
import { type TlsClientOptions, type TlsServerOptions, clientSecureContext, serverKeyPair } from './tls-config.js';
import { TransportError, errorText } from './transport-error.js';
import { UdpEndpoint, maxUdpPayload } from './udp-endpoint.js';

/** One listening socket. */
export interface ListenConfig {
  protocol: TransportProtocol;
  /** IP address to bind: "0.0.0.0", "::" (dual stack), "127.0.0.1", "::1"... */
  address: string;
  /** Port; 0 picks an ephemeral port (tests). */
  port: number;
  /**
   * The address to put in Via and Contact (localAddress()). Default: the bound address, or for a
   * wildcard bind the first non-internal interface address of that family (loopback if none).
   */
  advertisedAddress?: string | undefined;
  /** TLS listeners: key and certificate. */
  tls?: TlsServerOptions | undefined;
}

export interface NetworkTransportOptions {
  listen: readonly ListenConfig[];
  clock?: Clock | undefined;
  logger?: Logger | undefined;
  /** Largest datagram accepted (RFC 3261 §18.1.1: 65,535). Over it: 513 when the request's headers can be read. */
  maxDatagramBytes?: number | undefined;
  /** Largest TCP/TLS message accepted (default 64 KiB). Over it: 513 when its header section is readable, then the connection closes. */
  maxStreamMessageBytes?: number | undefined;
  /**
   * RFC 3261 §18.1.1: a request larger than this that would go over UDP goes over TCP (1300 bytes
   * when the path MTU is unknown, or the path MTU minus 200). Infinity turns the switch off.
   */
  udpMaxRequestBytes?: number | undefined;
  /** TCP connect and TLS handshake, together. */
  connectTimeoutMs?: number | undefined;
  /** A write that the peer does not drain within this time fails and closes the connection. */
  writeTimeoutMs?: number | undefined;
  /** A connection without traffic in either direction for this long is closed. */
  idleTimeoutMs?: number | undefined;
  /** A message must be complete within this time of its first byte (against stalled or slowloris peers). */
  incompleteMessageTimeoutMs?: number | undefined;
  /** Connections a TCP or TLS listener accepts at once. */
  maxInboundConnections?: number | undefined;
  /** Trust anchors and the insecure switch for outgoing TLS connections. */
  tls?: TlsClientOptions | undefined;
  /** CRLF keep-alives (RFC 5626 §4.4.1) on every connection this transport opens. Off by default. */
  streamKeepAlive?: StreamKeepAliveOptions | undefined;
  /**
   * Sent-by values the UA may put in Via besides the listening addresses ("host" for any port,
   * "host:port", "[v6]:port"). Responses whose top Via names none of these, and no sent-by this
   * transport has sent a request with, are discarded (RFC 3261 §18.1.2).
   */
  sentByAliases?: readonly string[] | undefined;
}

/** A request that could not be parsed, as the transport saw it. */
export interface BadRequestEvent {
  protocol: TransportProtocol;
  source: HostPort;
  local: HostPort;
  connectionId?: string | undefined;
  error: SipParseError;
  /** The status the transport answered with (400, 505, 513), or undefined when it could not answer. */
  answeredStatus: number | undefined;
  /** The first bytes, printable, for a log or a diagnostics screen. */
  preview: string;
}

export interface ConnectionInfo {
  connectionId: string;
  protocol: 'tcp' | 'tls';
  remote: HostPort;
  local: HostPort;
  opener: 'local' | 'remote';
}

/** TransportEvents and what the network transport adds. */
export type NetworkTransportEvents = {
  message: TransportEvents['message'];
  'connection-closed': TransportEvents['connection-closed'];
  'connection-opened': [ConnectionInfo];
  /** A request that could not be parsed: answered statelessly when possible (see BadRequestEvent). */
  'bad-request': [BadRequestEvent];
  /** Every SIP message sent and received, as bytes (pcap, debug log). Keep-alives are not traced. */
  trace: [TraceRecord];
};

const DEFAULTS = {
  maxDatagramBytes: 65_535,
  maxStreamMessageBytes: 65_536,
  udpMaxRequestBytes: 1300,
  connectTimeoutMs: 10_000,
  writeTimeoutMs: 10_000,
  idleTimeoutMs: 300_000,
  // 64*T1: a transaction that has not been received whole by then has timed out anyway.
  incompleteMessageTimeoutMs: 32_000,
  maxInboundConnections: 64,
  lingerMs: 2_000,
};

/** How long ACK and CANCEL follow an INVITE that was moved from UDP to TCP (RFC 3261 §9.1, §17.1.1.3). */
const SWITCH_MEMORY_MS = 300_000;
const MEMORY_ENTRIES = 256;

const KEEPALIVE_PING = Buffer.from('\r\n\r\n', 'latin1');

interface Listener {
  config: ListenConfig;
  protocol: TransportProtocol;
  family: 4 | 6;
  bound: HostPort;
  advertised: HostPort;
  udp?: UdpEndpoint;
  server?: Server;
}

interface InboundContext {
  protocol: TransportProtocol;
  source: HostPort;
  local: HostPort;
  connection?: StreamConnection | undefined;
  /** UDP: the endpoint it arrived on (answers leave from it). */
  udp?: UdpEndpoint | undefined;
}

function fail(error: TransportError): SendResult {
  return { ok: false, error };
}

function isWildcard(address: string): boolean {
  const a = stripBrackets(address);
  return a === '0.0.0.0' || a === '::' || a === '0:0:0:0:0:0:0:0';
}

/**
 * The transport layer on real sockets. Who does what:
 * - Received requests get received / rport (RFC 3261 §18.2.1, RFC 3581) before the transaction
 *   layer sees them; responses whose top Via is not ours are dropped (§18.1.2).
 * - Requests that cannot be parsed are answered here, statelessly, when Via, From, To, Call-ID
 *   and CSeq can be read (400, or 513 over a limit), and reported as 'bad-request' either way;
 *   malformed responses are dropped with a log line.
 * - A request over udpMaxRequestBytes for a UDP target goes over TCP (§18.1.1); the transport
 *   rewrites the top Via (transport TCP, port of our TCP listener) since only it knows the final
 *   protocol, and reports it in SendResult.protocol: the transaction layer must then treat the
 *   transaction as reliable. ACK and CANCEL for that branch follow it to TCP.
 * - Sends never throw; every failure is a SendResult with a TransportError.
 */
export class NetworkTransport implements SipTransport {
  private readonly options: NetworkTransportOptions;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly events = new Emitter<NetworkTransportEvents>();
  private readonly table = new ConnectionTable();
  private readonly connecting = new Map<string, Promise<StreamConnection | TransportError>>();
  private readonly listeners: Listener[] = [];
  private readonly limits: typeof DEFAULTS;
  private clientContext: SecureContext | undefined;
  private state: 'new' | 'starting' | 'running' | 'closing' | 'closed' = 'new';
  private nextConnectionNumber = 0;
  /** RFC 3261 §18.1.2: sent-by values of our listeners, as sentByKey(). */
  private readonly ownSentBy = new Set<string>();
  /** Hosts from sentByAliases that match any port. */
  private readonly aliasHosts = new Set<string>();
  /** Sent-by values of requests we sent (the UA may use a NAT address or a name): most recent last. */
  private readonly recentSentBy = new Map<string, true>();
  /** Branches of requests moved from UDP to TCP, with when to forget them. */
  private readonly switchedBranches = new Map<string, number>();
  private readonly udpKeepAlives = new Set<Unsubscribe>();
  private closing: Promise<void> | undefined;

  constructor(options: NetworkTransportOptions) {
    this.options = options;
    this.clock = options.clock ?? new RealClock();
    this.log = (options.logger ?? silentLogger()).child({ mod: 'sip/transport' });
    this.limits = {
      maxDatagramBytes: options.maxDatagramBytes ?? DEFAULTS.maxDatagramBytes,
      maxStreamMessageBytes: options.maxStreamMessageBytes ?? DEFAULTS.maxStreamMessageBytes,
      udpMaxRequestBytes: options.udpMaxRequestBytes ?? DEFAULTS.udpMaxRequestBytes,
      connectTimeoutMs: options.connectTimeoutMs ?? DEFAULTS.connectTimeoutMs,
      writeTimeoutMs: options.writeTimeoutMs ?? DEFAULTS.writeTimeoutMs,
      idleTimeoutMs: options.idleTimeoutMs ?? DEFAULTS.idleTimeoutMs,
      incompleteMessageTimeoutMs: options.incompleteMessageTimeoutMs ?? DEFAULTS.incompleteMessageTimeoutMs,
      maxInboundConnections: options.maxInboundConnections ?? DEFAULTS.maxInboundConnections,
      lingerMs: DEFAULTS.lingerMs,
    };
    for (const alias of options.sentByAliases ?? []) this.addAlias(alias);
  }

  // --- life cycle ---------------------------------------------------------------------------

  /** Binds every listener. Rejects with a TransportError (bind-failed) and releases what was bound when one fails. */
  async start(): Promise<void> {
    if (this.state !== 'new') throw new TransportError({ code: 'not-running', message: `start() called twice (state ${this.state})` });
    this.state = 'starting';
    try {
      this.clientContext = await clientSecureContext(this.options.tls ?? {});
      for (const config of this.options.listen) this.listeners.push(await this.bind(config));
    } catch (e) {
      this.state = 'closing';
      await this.releaseListeners();
      this.state = 'closed';
      throw e;
    }
    if (this.closing) {
      // close() was called while binding.
      await this.releaseListeners();
      throw new TransportError({ code: 'not-running', message: 'transport closed while starting' });
    }
    for (const l of this.listeners) this.registerOwnSentBy(l);
    this.state = 'running';
    this.log.info({ listen: this.listeners.map((l) => `${l.protocol} ${formatHostPort(l.bound.address, l.bound.port)}`) }, 'SIP transport listening');
  }

  /** Closes listeners and connections. No event is emitted once close() has begun. */
  close(): Promise<void> {
    this.closing ??= this.shutDown();
    return this.closing;
  }

  private async shutDown(): Promise<void> {
    if (this.state === 'new' || this.state === 'closed') {
      this.state = 'closed';
      return;
    }
    this.state = 'closing';
    for (const stop of [...this.udpKeepAlives]) stop();
    const connections = this.table.all();
    for (const c of connections) c.close();
    await Promise.all([this.releaseListeners(), ...connections.map((c) => c.closed)]);
    this.state = 'closed';
  }

  on<K extends keyof NetworkTransportEvents>(event: K, listener: (...args: NetworkTransportEvents[K]) => void): Unsubscribe {
    return this.events.on(event, listener);
  }

  localAddress(protocol: TransportProtocol, family?: 4 | 6): HostPort | undefined {
    const candidates = this.listeners.filter((l) => l.protocol === protocol && (family === undefined || l.family === family));
    const chosen = family === undefined ? (candidates.find((l) => l.family === 4) ?? candidates[0]) : candidates[0];
    return chosen ? { ...chosen.advertised } : undefined;
  }

  isReliable(protocol: TransportProtocol): boolean {
    return protocol !== 'udp';
  }

  /** Open TCP/TLS connections (diagnostics, tests). */
  connections(): ConnectionInfo[] {
    return this.table.all().map((c) => ({ connectionId: c.id, protocol: c.protocol, remote: { ...c.remote }, local: { ...c.local }, opener: c.opener }));
  }

  // --- sending ------------------------------------------------------------------------------

  async send(message: SipMessage, target: SendTarget): Promise<SendResult> {
    try {
      return await this.sendUnguarded(message, target);
    } catch (e) {
      // A bug (or a message the serializer refuses) must still not throw into the transaction layer.
      this.log.error({ err: e }, 'send failed unexpectedly');
      return fail(new TransportError({ code: 'write-failed', message: `send failed: ${errorText(e)}`, remote: target, cause: e }));
    }
  }

  /** Sends one keep-alive now: CRLFCRLF as a UDP datagram, or a ping on the stream to the target (RFC 5626 §3.5.1, §4.4.1). */
  async sendKeepAlive(target: SendTarget): Promise<SendResult> {
    if (this.state !== 'running') return fail(this.notRunning(target));
    if (target.protocol === 'udp') return this.sendDatagram(KEEPALIVE_PING, target, false);
    const c = await this.connection(target);
    if (c instanceof TransportError) return fail(c);
    const error = await c.ping();
    return error ? fail(error) : { ok: true, protocol: c.protocol, local: { ...c.local }, connectionId: c.id };
  }

  /**
   * Keeps a flow alive every intervalMs. UDP: a CRLFCRLF datagram (keeps a NAT binding open;
   * RFC 5626 §4.4.1 would use STUN, which many registrars do not answer). TCP/TLS: CRLFCRLF
   * pings on the connection to the target (opened if needed), which is closed with a
   * keepalive-timeout error when a pong is missing (pongTimeoutMs, default 10 s): the UA then
   * sees connection-closed and registers again. SIP OPTIONS pings belong to the UA, through the
   * transaction layer.
   */
  startKeepAlive(target: SendTarget, options: { intervalMs: number; pongTimeoutMs?: number }): Unsubscribe {
    let stopped = false;
    if (target.protocol === 'udp') {
      let timer: TimerHandle | undefined;
      const stop = (): void => {
        stopped = true;
        this.clock.clearTimeout(timer);
        this.udpKeepAlives.delete(stop);
      };
      const tick = (): void => {
        timer = this.clock.setTimeout(() => {
          if (stopped) return;
          void this.sendKeepAlive(target).then((r) => {
            if (!r.ok) this.log.debug({ err: r.error }, 'UDP keep-alive not sent');
          });
          tick();
        }, options.intervalMs);
      };
      this.udpKeepAlives.add(stop);
      tick();
      return stop;
    }
    let stopOnConnection: Unsubscribe | undefined;
    void this.connection(target).then((c) => {
      if (c instanceof TransportError) {
        this.log.warn({ err: c }, 'keep-alive: no connection to the target');
        return;
      }
      if (!stopped) stopOnConnection = c.startKeepAlive({ intervalMs: options.intervalMs, pongTimeoutMs: options.pongTimeoutMs ?? 10_000 });
    });
    return () => {
      stopped = true;
      stopOnConnection?.();
    };
  }

  private async sendUnguarded(message: SipMessage, target: SendTarget): Promise<SendResult> {
    if (this.state !== 'running') return fail(this.notRunning(target));
    if (ipFamily(target.address) === 0) {
      return fail(new TransportError({ code: 'bad-target', message: `not an IP address: ${target.address} (resolve it first, RFC 3263)`, remote: target }));
    }
    if (message.kind === 'response') return this.sendBytes(serializeMessage(message), target);
    const bytes = serializeMessage(message);
    // RFC 3261 §18.1.1: too large for UDP (or ACK / CANCEL of a request that was moved), over TCP.
    if (target.protocol === 'udp' && (bytes.length > this.limits.udpMaxRequestBytes || this.followsSwitch(message))) {
      return this.sendSwitched(message, bytes, target);
    }
    this.rememberSentBy(message);
    return this.sendBytes(bytes, target);
  }

  private sendBytes(bytes: Buffer, target: SendTarget): Promise<SendResult> {
    return target.protocol === 'udp' ? this.sendDatagram(bytes, target, true) : this.sendStream(bytes, target);
  }

  private async sendSwitched(message: SipRequest, udpBytes: Buffer, target: SendTarget): Promise<SendResult> {
    const family = ipFamily(target.address) === 6 ? 6 : 4;
    const tcpTarget: SendTarget = { protocol: 'tcp', address: target.address, port: target.port };
    const fitsDatagram = udpBytes.length <= maxUdpPayload(family);
    const c = await this.connection(tcpTarget);
    if (c instanceof TransportError) {
      // RFC 3261 §18.1.1: when the connection fails, the request is retried over UDP, if it fits.
      if (!fitsDatagram) return fail(c);
      this.log.info({ err: c, bytes: udpBytes.length }, 'TCP failed for a large request; sending it over UDP');
      this.rememberSentBy(message);
      return this.sendDatagram(udpBytes, target, true);
    }
    const port = this.listeners.find((l) => l.protocol === 'tcp' && l.family === family)?.advertised.port ?? c.local.port;
    const moved = withTopViaTransport(message, 'TCP', port);
    if (!moved) {
      // Our own top Via is unreadable: send the request unchanged where it was meant to go.
      this.rememberSentBy(message);
      return this.sendDatagram(udpBytes, target, true);
    }
    const branch = topViaOf(moved)?.branch;
    if (branch !== undefined && message.method !== 'ACK' && message.method !== 'CANCEL') this.rememberSwitch(branch);
    this.rememberSentBy(moved);
    return this.writeOn(c, serializeMessage(moved));
  }

  private followsSwitch(message: SipRequest): boolean {
    if (message.method !== 'ACK' && message.method !== 'CANCEL') return false;
    const branch = topViaOf(message)?.branch;
    if (branch === undefined) return false;
    const until = this.switchedBranches.get(branch);
    return until !== undefined && until > this.clock.now();
  }

  private rememberSwitch(branch: string): void {
    this.switchedBranches.delete(branch);
    this.switchedBranches.set(branch, this.clock.now() + SWITCH_MEMORY_MS);
    const now = this.clock.now();
    for (const [b, until] of this.switchedBranches) {
      if (this.switchedBranches.size <= MEMORY_ENTRIES && until > now) break;
      this.switchedBranches.delete(b);
    }
  }

  private async sendDatagram(bytes: Buffer, target: SendTarget, traced: boolean): Promise<SendResult> {
    const family = ipFamily(target.address) === 6 ? 6 : 4;
    const route = this.udpRoute(family, target.address);
    if (!route) return fail(new TransportError({ code: 'no-listener', message: `no UDP socket for IPv${family}`, remote: target }));
    if (bytes.length > maxUdpPayload(family)) {
      return fail(new TransportError({ code: 'too-large', message: `${bytes.length} bytes do not fit in a UDP datagram`, remote: target }));
    }
    const error = await route.endpoint.send(bytes, route.address, target.port);
    if (error) return fail(error);
    const local = this.udpLocal(route.endpoint);
    if (traced) this.trace({ direction: 'out', protocol: 'udp', local, remote: { protocol: 'udp', address: normalizeAddress(target.address), port: target.port }, bytes });
    return { ok: true, protocol: 'udp', local };
  }

  /** The UDP socket for a family: one of that family, or a dual-stack "::" socket with an IPv4-mapped address. */
  private udpRoute(family: 4 | 6, address: string): { endpoint: UdpEndpoint; address: string } | undefined {
    const same = this.listeners.find((l) => l.udp && l.family === family);
    if (same?.udp) return { endpoint: same.udp, address: stripBrackets(address) };
    if (family === 4) {
      const dual = this.listeners.find((l) => l.udp && l.family === 6 && isWildcard(l.bound.address));
      if (dual?.udp) return { endpoint: dual.udp, address: mappedIpv6(address) };
    }
    return undefined;
  }

  private udpLocal(endpoint: UdpEndpoint): HostPort {
    const l = this.listeners.find((x) => x.udp === endpoint);
    return l ? { ...l.advertised } : { ...endpoint.local };
  }

  private async sendStream(bytes: Buffer, target: SendTarget): Promise<SendResult> {
    const c = await this.connection(target);
    if (c instanceof TransportError) return fail(c);
    return this.writeOn(c, bytes);
  }

  private async writeOn(c: StreamConnection, bytes: Buffer): Promise<SendResult> {
    const error = await c.write(bytes);
    if (error) return fail(error);
    this.trace({ direction: 'out', protocol: c.protocol, local: c.local, remote: c.remote, bytes, connectionId: c.id, opener: c.opener });
    return { ok: true, protocol: c.protocol, local: { ...c.local }, connectionId: c.id };
  }

  // --- connections --------------------------------------------------------------------------

  /**
   * The connection to use for a target: the one named by connectionId when it is still open
   * (RFC 3261 §18.2.2: responses go back on the request's connection), else an open one to the
   * same address, port and protocol, else a new one (one connect per target at a time).
   */
  private async connection(target: SendTarget): Promise<StreamConnection | TransportError> {
    if (target.connectionId !== undefined) {
      const named = this.table.get(target.connectionId);
      if (named?.isOpen && named.protocol === target.protocol) return named;
    }
    const key = connectionKey(target);
    const open = this.table.find(key);
    if (open) return open;
    const pending = this.connecting.get(key);
    if (pending) return pending;
    // connect() reports failures as values; a throw from node:net or node:tls becomes one too.
    const attempt = this.connect(target, key).catch(
      (e: unknown) => new TransportError({ code: 'connect-failed', message: `connect failed: ${errorText(e)}`, remote: target, cause: e }),
    );
    this.connecting.set(key, attempt);
    try {
      return await attempt;
    } finally {
      this.connecting.delete(key);
    }
  }

  private connect(target: SendTarget, key: string): Promise<StreamConnection | TransportError> {
    if (this.state !== 'running') return Promise.resolve(this.notRunning(target));
    const protocol = target.protocol === 'tls' ? 'tls' : 'tcp';
    const family = ipFamily(target.address);
    if (family === 0) return Promise.resolve(new TransportError({ code: 'bad-target', message: `not an IP address: ${target.address}`, remote: target }));
    const host = stripBrackets(target.address);
    return new Promise((resolve) => {
      let socket: Socket;
      let tcpUp = false;
      const insecure = this.options.tls?.insecure === true;
      if (protocol === 'tls') {
        const serverName = target.serverName;
        // RFC 6066 §3: SNI carries host names only, never an IP address literal.
        const sni = serverName !== undefined && ipFamily(serverName) === 0 ? serverName : undefined;
        const tlsOptions: ConnectionOptions = { host, port: target.port, secureContext: this.clientContext, rejectUnauthorized: !insecure };
        // Node's defaults apply to options left out, not to options set to undefined.
        if (sni !== undefined) tlsOptions.servername = sni;
        // RFC 5922 §7.2: the certificate must match the name the target was resolved from.
        if (serverName !== undefined) tlsOptions.checkServerIdentity = (_host, cert) => checkServerIdentity(stripBrackets(serverName), cert);
        socket = tlsConnect(tlsOptions);
        if (insecure) {
          this.log.warn({ remote: formatHostPort(host, target.port), serverName }, 'TLS connection WITHOUT certificate verification (tls.insecure is set)');
        }
        socket.once('connect', () => {
          tcpUp = true;
        });
      } else {
        socket = netConnect({ host, port: target.port, family });
      }
      let settled = false;
      const done = (result: StreamConnection | TransportError): void => {
        if (settled) return;
        settled = true;
        this.clock.clearTimeout(timer);
        socket.off('error', onError);
        socket.off(protocol === 'tls' ? 'secureConnect' : 'connect', onConnected);
        if (result instanceof TransportError) socket.destroy();
        resolve(result);
      };
      const onError = (e: Error): void => {
        const tlsProblem = protocol === 'tls' && tcpUp;
        done(
          new TransportError({
            code: tlsProblem ? 'tls-failed' : 'connect-failed',
            message: `${tlsProblem ? 'TLS handshake failed' : 'connect failed'}: ${errorText(e)}`,
            remote: target,
            cause: e,
          }),
        );
      };
      const onConnected = (): void => {
        try {
          if (this.state !== 'running') {
            done(this.notRunning(target));
            return;
          }
          const c = this.adopt(socket, protocol, 'local', key);
          done(c ?? new TransportError({ code: 'connect-failed', message: 'connection closed right after connect', remote: target }));
        } catch (e) {
          done(new TransportError({ code: 'connect-failed', message: `connect failed: ${errorText(e)}`, remote: target, cause: e }));
        }
      };
      const timer = this.clock.setTimeout(() => {
        done(new TransportError({ code: 'connect-timeout', message: `no connection after ${this.limits.connectTimeoutMs} ms`, remote: target }));
      }, this.limits.connectTimeoutMs);
      socket.on('error', onError);
      socket.once(protocol === 'tls' ? 'secureConnect' : 'connect', onConnected);
    });
  }

  /** Takes over a connected socket; undefined when it is already gone. */
  private adopt(socket: Socket, protocol: 'tcp' | 'tls', opener: 'local' | 'remote', key?: string): StreamConnection | undefined {
    if (socket.destroyed || socket.remoteAddress === undefined || socket.remotePort === undefined) {
      socket.destroy();
      return undefined;
    }
    const remote: HostPort = { protocol, address: normalizeAddress(socket.remoteAddress), port: socket.remotePort };
    const local: HostPort = { protocol, address: normalizeAddress(socket.localAddress ?? ''), port: socket.localPort ?? 0 };
    const id = `${protocol}-${++this.nextConnectionNumber}`;
    const connection = new StreamConnection({
      id,
      protocol,
      opener,
      socket,
      remote,
      local,
      clock: this.clock,
      log: this.log,
      maxMessageBytes: this.limits.maxStreamMessageBytes,
      idleTimeoutMs: this.limits.idleTimeoutMs,
      incompleteMessageTimeoutMs: this.limits.incompleteMessageTimeoutMs,
      writeTimeoutMs: this.limits.writeTimeoutMs,
      lingerMs: this.limits.lingerMs,
      handlers: {
        onMessage: (c, bytes) => this.receive(bytes, { protocol, source: c.remote, local: c.local, connection: c }),
        onFramingError: (c, error, pending) => this.framingLost(c, error, pending),
        onClosed: (c, error) => this.connectionClosed(c, error),
      },
    });
    this.table.add(connection, key ?? connectionKey(remote));
    if (opener === 'local' && this.options.streamKeepAlive) connection.startKeepAlive(this.options.streamKeepAlive);
    this.log.debug({ conn: id, remote: formatHostPort(remote.address, remote.port), opener }, 'connection open');
    this.emit('connection-opened', { connectionId: id, protocol, remote: { ...remote }, local: { ...local }, opener });
    return connection;
  }

  private accept(socket: Socket, protocol: 'tcp' | 'tls'): void {
    try {
      if (this.state !== 'running') {
        socket.destroy();
        return;
      }
      this.adopt(socket, protocol, 'remote');
    } catch (e) {
      this.log.error({ err: e }, 'accepting a connection failed');
      socket.destroy();
    }
  }

  private connectionClosed(c: StreamConnection, error: TransportError | undefined): void {
    this.table.remove(c);
    this.log.debug({ conn: c.id, err: error }, 'connection closed');
    if (this.state === 'running') this.emit('connection-closed', { connectionId: c.id, remote: { ...c.remote }, error });
  }

  /** RFC 3261 §18.3: a stream that cannot be framed is closed, after answering the request if its head was readable. */
  private framingLost(c: StreamConnection, error: SipParseError, pending: Buffer): void {
    const closeError = new TransportError({ code: 'framing-lost', message: `framing lost: ${error.message}`, remote: c.remote, cause: error });
    const ctx: InboundContext = { protocol: c.protocol, source: c.remote, local: c.local, connection: c };
    if (pending.length > 0) this.trace({ direction: 'in', protocol: c.protocol, local: c.local, remote: c.remote, bytes: pending, connectionId: c.id, opener: c.opener });
    this.log.info({ conn: c.id, remote: formatHostPort(c.remote.address, c.remote.port), reason: error.message }, 'stream framing lost; closing the connection');
    void this.rejectUnparsable(pending, error, ctx).then(() => c.close(closeError, { graceful: true }));
  }

  // --- receiving ----------------------------------------------------------------------------

  private onDatagram(endpoint: UdpEndpoint, bytes: Buffer, source: HostPort): void {
    if (this.state !== 'running') return;
    // Keep-alives (CRLFCRLF, STUN) are not SIP messages: not traced, not reported.
    if (isKeepAlive(bytes) || isStun(bytes)) return;
    this.receive(bytes, { protocol: 'udp', source, local: this.udpLocal(endpoint), udp: endpoint });
  }

  private receive(bytes: Buffer, ctx: InboundContext): void {
    const stream = ctx.connection !== undefined;
    this.trace({ direction: 'in', protocol: ctx.protocol, local: ctx.local, remote: ctx.source, bytes, connectionId: ctx.connection?.id, opener: ctx.connection?.opener });
    const parsed = parseMessage(bytes, {
      transport: stream ? 'stream' : 'datagram',
      limits: { maxMessageBytes: stream ? this.limits.maxStreamMessageBytes : this.limits.maxDatagramBytes },
    });
    if (!parsed.ok) {
      void this.rejectUnparsable(bytes, parsed.error, ctx);
      return;
    }
    const message = parsed.message;
    if (message.kind === 'response') {
      // RFC 3261 §18.1.2: parseMessage guarantees a well-formed top Via on a response.
      const via = topViaOf(message);
      if (!via || !this.isOwnSentBy(via.host, via.port, via.transport)) {
        this.log.info({ source: formatHostPort(ctx.source.address, ctx.source.port), sentBy: via?.sentBy }, 'response for another sent-by dropped (RFC 3261 §18.1.2)');
        return;
      }
    } else {
      try {
        markReceived(message, ctx.source);
      } catch (e) {
        if (!(e instanceof SipParseError)) throw e;
        // Without a usable top Via the request cannot be answered (RFC 3261 §18.2.2).
        void this.rejectUnparsable(bytes, e, ctx);
        return;
      }
    }
    const inbound: InboundMessage = {
      message,
      source: { ...ctx.source },
      local: { ...ctx.local },
      connectionId: ctx.connection?.id,
      receivedAtMs: this.clock.now(),
    };
    this.emit('message', inbound);
  }

  /**
   * A message parseMessage() rejected (or one whose Via is unusable). Responses are dropped
   * (RFC 3261 §18.1.2). Requests are answered statelessly when their Via, From, To, Call-ID and
   * CSeq can be read (never an ACK), and reported as 'bad-request'. Never rejects.
   */
  private async rejectUnparsable(bytes: Buffer, error: SipParseError, ctx: InboundContext): Promise<void> {
    try {
      const where = formatHostPort(ctx.source.address, ctx.source.port);
      if (looksLikeResponse(bytes)) {
        this.log.info({ source: where, protocol: ctx.protocol, reason: error.message }, 'malformed response dropped (RFC 3261 §18.1.2)');
        return;
      }
      let answeredStatus: number | undefined;
      const request = salvageRequest(bytes);
      if (request) {
        try {
          markReceived(request, ctx.source);
        } catch (e) {
          if (!(e instanceof SipParseError)) throw e;
        }
        const response = errorResponseFor(request, error);
        const via = topViaOf(request);
        if (response && via) {
          const out = serializeMessage(response);
          const sent = ctx.connection ? await this.writeOn(ctx.connection, out) : await this.sendDatagram(out, udpResponseTarget(via, ctx.source), true);
          if (sent.ok) answeredStatus = response.status;
        }
      }
      // Answered requests are worth an info line; junk (port scanners, binary noise) only a debug
      // line, so that a flood of it does not fill the log.
      const line = { source: where, protocol: ctx.protocol, reason: error.message, answeredStatus, start: preview(bytes, 80) };
      if (answeredStatus !== undefined) this.log.info(line, `unparsable request answered with ${answeredStatus}`);
      else this.log.debug(line, 'unparsable message dropped');
      if (this.state === 'running') {
        this.emit('bad-request', {
          protocol: ctx.protocol,
          source: { ...ctx.source },
          local: { ...ctx.local },
          connectionId: ctx.connection?.id,
          error,
          answeredStatus,
          preview: preview(bytes),
        });
      }
    } catch (e) {
      this.log.error({ err: e }, 'handling an unparsable message failed');
    }
  }

  // --- sent-by bookkeeping (RFC 3261 §18.1.2) ------------------------------------------------

  private isOwnSentBy(host: string, port: number | undefined, viaTransport: string): boolean {
    const key = sentByKey(host, port, viaTransport);
    if (this.ownSentBy.has(key) || this.recentSentBy.has(key)) return true;
    return this.aliasHosts.has(key.slice(0, key.lastIndexOf(':')));
  }

  private rememberSentBy(request: SipRequest): void {
    const via = topViaOf(request);
    if (!via) return;
    const key = sentByKey(via.host, via.port, via.transport);
    this.recentSentBy.delete(key);
    this.recentSentBy.set(key, true);
    if (this.recentSentBy.size > MEMORY_ENTRIES) {
      const oldest = this.recentSentBy.keys().next();
      if (oldest.done !== true) this.recentSentBy.delete(oldest.value);
    }
  }

  private addAlias(alias: string): void {
    const m = /^(\[[^\]]+\]|[^:]+|[0-9a-fA-F:]+)(?::(\d+))?$/.exec(alias.trim());
    const host = m?.[1];
    if (host === undefined) {
      this.log.warn({ alias }, 'ignoring a malformed sent-by alias');
      return;
    }
    const port = m?.[2] !== undefined ? Number(m[2]) : undefined;
    const key = sentByKey(host, port ?? 0, 'UDP');
    if (port === undefined) this.aliasHosts.add(key.slice(0, key.lastIndexOf(':')));
    else this.ownSentBy.add(key);
  }

  private registerOwnSentBy(l: Listener): void {
    const viaTransport = l.protocol.toUpperCase();
    const hosts = new Set([l.bound.address, l.advertised.address]);
    if (isWildcard(l.bound.address)) {
      for (const list of Object.values(networkInterfaces())) for (const i of list ?? []) hosts.add(i.address);
    }
    for (const h of hosts) this.ownSentBy.add(sentByKey(h, l.bound.port, viaTransport));
  }

  // --- listeners ----------------------------------------------------------------------------

  private async bind(config: ListenConfig): Promise<Listener> {
    const family = ipFamily(config.address);
    const where = `${config.protocol} ${formatHostPort(config.address, config.port)}`;
    if (family === 0) throw new TransportError({ code: 'bind-failed', message: `listen address is not an IP address: ${where}` });
    const address = stripBrackets(config.address);
    if (config.protocol === 'udp') {
      const box: { endpoint?: UdpEndpoint } = {};
      const endpoint = await UdpEndpoint.bind({
        address,
        port: config.port,
        family,
        log: this.log,
        onDatagram: (bytes, source) => {
          if (box.endpoint) this.onDatagram(box.endpoint, bytes, source);
        },
      });
      box.endpoint = endpoint;
      return this.listener(config, family, endpoint.local, { udp: endpoint });
    }
    let server: Server;
    if (config.protocol === 'tls') {
      const tlsServer = tlsCreateServer({ ...(await serverKeyPair(config.tls, where)), handshakeTimeout: this.limits.connectTimeoutMs }, (s: TLSSocket) => this.accept(s, 'tls'));
      tlsServer.on('tlsClientError', (e: Error, s: TLSSocket) => {
        this.log.info({ err: e, remote: s.remoteAddress }, 'TLS handshake with a client failed');
        s.destroy();
      });
      server = tlsServer;
    } else {
      server = netCreateServer((s) => this.accept(s, 'tcp'));
    }
    server.maxConnections = this.limits.maxInboundConnections;
    await new Promise<void>((resolve, reject) => {
      const onError = (e: Error): void => reject(new TransportError({ code: 'bind-failed', message: `cannot listen on ${where}: ${errorText(e)}`, cause: e }));
      server.once('error', onError);
      server.listen({ host: address, port: config.port }, () => {
        server.off('error', onError);
        resolve();
      });
    });
    server.on('error', (e) => this.log.warn({ err: e, listener: where }, 'listener error'));
    const a = server.address();
    const port = a !== null && typeof a === 'object' ? a.port : config.port;
    return this.listener(config, family, { protocol: config.protocol, address: normalizeAddress(address), port }, { server });
  }

  private listener(config: ListenConfig, family: 4 | 6, bound: HostPort, socket: { udp?: UdpEndpoint; server?: Server }): Listener {
    const advertisedAddress = config.advertisedAddress ?? (isWildcard(bound.address) ? interfaceAddress(family) : bound.address);
    return { config, protocol: config.protocol, family, bound, advertised: { protocol: config.protocol, address: advertisedAddress, port: bound.port }, ...socket };
  }

  private async releaseListeners(): Promise<void> {
    const all = this.listeners.splice(0);
    await Promise.all(
      all.map(async (l) => {
        if (l.udp) await l.udp.close();
        const server = l.server;
        if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
      }),
    );
  }

  // --- helpers ------------------------------------------------------------------------------

  private notRunning(target: HostPort): TransportError {
    return new TransportError({ code: 'not-running', message: `transport is ${this.state}`, remote: target });
  }

  private trace(record: Omit<TraceRecord, 'wallTimeMs'>): void {
    if (this.events.listenerCount('trace') === 0) return;
    this.emit('trace', { ...record, local: { ...record.local }, remote: { ...record.remote }, wallTimeMs: this.clock.wallNow() });
  }

  /** Listener errors are logged, never thrown into a socket handler. */
  private emit<K extends keyof NetworkTransportEvents>(event: K, ...args: NetworkTransportEvents[K]): void {
    try {
      this.events.emit(event, ...args);
    } catch (e) {
      this.log.error({ err: e, event }, 'a transport event listener threw');
    }
  }
}

/** The first non-internal interface address of a family (loopback when there is none): the default advertised address of a wildcard listener. */
function interfaceAddress(family: 4 | 6): string {
  for (const list of Object.values(networkInterfaces())) {
    for (const i of list ?? []) {
      if (i.internal) continue;
      if (family === 4 && i.family === 'IPv4') return i.address;
      // Link-local addresses need a zone and are no use in a Via.
      if (family === 6 && i.family === 'IPv6' && !i.address.toLowerCase().startsWith('fe80')) return i.address;
    }
  }
  return family === 4 ? '127.0.0.1' : '::1';
}
