// An in-memory SIP network (PJSIP's sip_transport_loop): transports attached at addresses, messages serialized and re-parsed on the way, with seeded drop / delay / duplicate / reorder / fail switches.
import type { Clock } from '../../util/clock.js';
import { Emitter, type Unsubscribe } from '../../util/emitter.js';
import { type Logger, silentLogger } from '../../util/log.js';
import type { SipMessage } from '../message/message.js';
import { parseMessage } from '../message/parse.js';
import { serializeMessage } from '../message/serialize.js';
import type { TraceRecord } from '../trace/trace-record.js';
import type { HostPort, InboundMessage, SendResult, SendTarget, SipTransport, TransportEvents, TransportProtocol } from './transport.js';

/** TransportEvents as a mapped type, which Emitter accepts (an interface has no implicit index signature). */
type TransportEventMap = { [K in keyof TransportEvents]: TransportEvents[K] };

/**
 * A deterministic pseudo-random source in [0, 1) from a 32-bit seed (xorshift32 behind a seed
 * scrambler), so that a lossy test run is the same on every machine.
 */
export function seededRandom(seed: number): () => number {
  // Scramble the seed so that nearby seeds give unrelated sequences; xorshift needs a non-zero state.
  let state = Math.imul((seed | 0) ^ 0x5bd1e995, 0x27d4eb2d) >>> 0;
  if (state === 0) state = 0x9e3779b9;
  return () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 4294967296;
  };
}

/** A message on its way through the loopback network, as the switches see it. */
export interface LoopbackPacket {
  /** The message as the sender passed it (the receiver gets a re-parsed copy). */
  readonly message: SipMessage;
  /** Its wire form. */
  readonly bytes: Buffer;
  readonly protocol: TransportProtocol;
  readonly source: HostPort;
  readonly target: SendTarget;
}

/**
 * The switches of a link. Probabilities are drawn from the network's seeded random source.
 * The probabilistic switches (drop, jitter, duplicate, reorder) apply to UDP only: a stream
 * (TCP, TLS) neither loses, duplicates nor reorders. The explicit ones (dropNext, dropIf, delay,
 * fail) apply to every protocol; a dropped stream message stands for a peer that never reads it.
 */
export interface LinkImpairments {
  /** Probability (0..1) that a datagram is lost. */
  dropProbability?: number;
  /** Lose the next N messages, then stop. */
  dropNext?: number;
  /** Lose every message this predicate selects. */
  dropIf?: ((packet: LoopbackPacket) => boolean) | undefined;
  /** Fixed one-way delay, ms. */
  delayMs?: number;
  /** Extra uniform delay in [0, jitterMs), ms (datagrams only). */
  jitterMs?: number;
  /** Probability (0..1) that a datagram arrives twice. */
  duplicateProbability?: number;
  /** Probability (0..1) that a datagram is held back by reorderHoldMs, so that later ones overtake it. */
  reorderProbability?: number;
  /** How long a reordered datagram is held back, ms (default 50). */
  reorderHoldMs?: number;
  /** Sends resolve { ok: false }: true for every send, or a predicate selecting some. */
  fail?: boolean | ((packet: LoopbackPacket) => boolean);
  /** Fail the next N sends, then stop. */
  failNext?: number;
}

/** What became of a packet, for traces and assertions. */
export type PacketFate = 'delivered' | 'dropped' | 'failed' | 'unroutable' | 'unparseable' | 'duplicated' | 'discarded';

// A type, not an interface: Emitter needs an implicit index signature.
export type LoopbackNetworkEvents = {
  /** Every packet's fate, at the time it is decided (delivered: on arrival). */
  packet: [{ packet: LoopbackPacket; fate: PacketFate; atMs: number }];
};

export interface LoopbackStats {
  sent: number;
  delivered: number;
  dropped: number;
  duplicated: number;
  failed: number;
  unroutable: number;
  unparseable: number;
}

/** The error a loopback send resolves with when a switch or the network makes it fail. */
export class LoopbackSendError extends Error {
  override readonly name = 'LoopbackSendError';
  constructor(
    message: string,
    /** Why: a fail switch, no listener at the target (connection refused), a closed connection or transport. */
    readonly code: 'switch' | 'refused' | 'connection-closed' | 'transport-closed' | 'protocol',
    readonly target: SendTarget,
  ) {
    super(message);
  }
}

export interface LoopbackNetworkOptions {
  clock: Clock;
  /** Seed of the random source behind the probabilistic switches (default 1). */
  seed?: number;
  /** A random source in [0, 1) to use instead of the seeded one. */
  random?: () => number;
  log?: Logger;
}

export interface AttachOptions {
  /** IP address the transport listens on (any string: nothing resolves it). */
  address: string;
  /** Port (default 5060). */
  port?: number;
  /** Protocols it listens on (default udp and tcp). */
  protocols?: readonly TransportProtocol[];
}

interface Connection {
  readonly id: string;
  readonly a: LoopbackTransport;
  readonly b: LoopbackTransport;
  readonly protocol: TransportProtocol;
  open: boolean;
  /** Delivery time of the last message scheduled on it, so that a stream keeps its order. */
  lastDeliveryMs: number;
}

/** The switches of one level: network-wide, or one transport's outbound side. */
export class LinkSwitches {
  settings: LinkImpairments = {};

  set(changes: LinkImpairments): void {
    this.settings = { ...this.settings, ...changes };
  }

  clear(): void {
    this.settings = {};
  }

  shouldFail(packet: LoopbackPacket): boolean {
    const s = this.settings;
    if (s.failNext !== undefined && s.failNext > 0) {
      s.failNext--;
      return true;
    }
    if (s.fail === true) return true;
    return typeof s.fail === 'function' && s.fail(packet);
  }

  shouldDrop(packet: LoopbackPacket, random: () => number): boolean {
    const s = this.settings;
    if (s.dropNext !== undefined && s.dropNext > 0) {
      s.dropNext--;
      return true;
    }
    if (s.dropIf?.(packet) === true) return true;
    // A draw is made only when the switch is on, so that turning one switch on does not shift
    // the sequence another switch sees.
    return packet.protocol === 'udp' && (s.dropProbability ?? 0) > 0 && random() < (s.dropProbability ?? 0);
  }

  delayMs(packet: LoopbackPacket, random: () => number): number {
    const s = this.settings;
    let d = s.delayMs ?? 0;
    if (packet.protocol === 'udp') {
      if ((s.jitterMs ?? 0) > 0) d += random() * (s.jitterMs ?? 0);
      if ((s.reorderProbability ?? 0) > 0 && random() < (s.reorderProbability ?? 0)) d += s.reorderHoldMs ?? 50;
    }
    return d;
  }

  shouldDuplicate(packet: LoopbackPacket, random: () => number): boolean {
    const p = this.settings.duplicateProbability ?? 0;
    return packet.protocol === 'udp' && p > 0 && random() < p;
  }
}

const endpointKey = (protocol: TransportProtocol, address: string, port: number): string => `${protocol} ${address.toLowerCase()} ${port}`;

/**
 * The network: transports attach at an address and port; a send is serialized with
 * serializeMessage() and the bytes re-parsed with parseMessage() at the receiver, so the wire
 * format is exercised on every hop. Delivery happens on the injected clock when a delay is set,
 * and on the microtask queue when there is none (a test then needs no clock step to see a
 * message arrive: awaiting one macrotask is enough).
 *
 * UDP to an address nobody listens on is lost silently, like a datagram; TCP / TLS to it fails
 * the send (connection refused). Streams are connections: the first send from A to B opens one,
 * the receiver sees its connectionId, and a response sent with that connectionId goes back on it.
 */
export class LoopbackNetwork {
  readonly clock: Clock;
  readonly stats: LoopbackStats = { sent: 0, delivered: 0, dropped: 0, duplicated: 0, failed: 0, unroutable: 0, unparseable: 0 };
  private readonly random: () => number;
  private readonly log: Logger;
  private readonly endpoints = new Map<string, LoopbackTransport>();
  private readonly connections = new Map<string, Connection>();
  private readonly switches = new LinkSwitches();
  private readonly events = new Emitter<LoopbackNetworkEvents>();
  private readonly transportEmitters = new WeakMap<LoopbackTransport, Emitter<TransportEventMap>>();
  private nextConnection = 1;

  constructor(options: LoopbackNetworkOptions) {
    this.clock = options.clock;
    this.random = options.random ?? seededRandom(options.seed ?? 1);
    this.log = (options.log ?? silentLogger()).child({ mod: 'sip/transport/loopback' });
  }

  /** Attaches a transport listening at address:port for the given protocols. */
  attach(options: AttachOptions): LoopbackTransport {
    const port = options.port ?? 5060;
    const protocols = options.protocols ?? ['udp', 'tcp'];
    for (const p of protocols) {
      if (this.endpoints.has(endpointKey(p, options.address, port))) throw new Error(`loopback: ${p} ${options.address}:${port} is already attached`);
    }
    const emitter = new Emitter<TransportEventMap>();
    const t = new LoopbackTransport(this, options.address, port, protocols);
    this.transportEmitters.set(t, emitter);
    for (const p of protocols) this.endpoints.set(endpointKey(p, options.address, port), t);
    return t;
  }

  /** Sets network-wide switches (merged into the current ones). */
  impair(changes: LinkImpairments): void {
    this.switches.set(changes);
  }

  /** Turns every network-wide switch off. */
  clearImpairments(): void {
    this.switches.clear();
  }

  on<K extends keyof LoopbackNetworkEvents>(event: K, listener: (...args: LoopbackNetworkEvents[K]) => void): Unsubscribe {
    return this.events.on(event, listener);
  }

  /** Breaks a stream connection: both ends see 'connection-closed', later sends on it fail. */
  breakConnection(connectionId: string, error?: Error): void {
    const c = this.connections.get(connectionId);
    if (!c) return;
    this.closeConnection(c, error);
  }

  /** Ids of the open stream connections (for assertions). */
  get openConnections(): string[] {
    return [...this.connections.values()].filter((c) => c.open).map((c) => c.id);
  }

  // --- called by LoopbackTransport ---------------------------------------------------------

  /** @internal The listener registry of a transport. */
  emitterOf(t: LoopbackTransport): Emitter<TransportEventMap> {
    const e = this.transportEmitters.get(t);
    if (!e) throw new Error('loopback: transport does not belong to this network');
    return e;
  }

  /** @internal */
  detach(t: LoopbackTransport): void {
    for (const p of t.protocols) {
      const key = endpointKey(p, t.address, t.port);
      if (this.endpoints.get(key) === t) this.endpoints.delete(key);
    }
    for (const c of [...this.connections.values()]) if (c.a === t || c.b === t) this.closeConnection(c, new Error('transport closed'));
  }

  /** @internal One send: switches, routing, scheduling. Never throws. */
  route(from: LoopbackTransport, message: SipMessage, target: SendTarget): SendResult {
    const protocol = target.protocol;
    const fail = (text: string, code: LoopbackSendError['code']): SendResult => ({ ok: false, error: new LoopbackSendError(`loopback: ${text}`, code, target) });
    if (from.closed) return fail('transport is closed', 'transport-closed');
    if (!from.protocols.includes(protocol)) return fail(`transport does not listen on ${protocol}`, 'protocol');
    const source: HostPort = { protocol, address: from.address, port: from.port };
    let bytes: Buffer;
    try {
      bytes = serializeMessage(message);
    } catch (e) {
      return { ok: false, error: e instanceof Error ? e : new Error(String(e)) };
    }
    const packet: LoopbackPacket = { message, bytes, protocol, source, target };
    this.stats.sent++;
    if (this.switches.shouldFail(packet) || from.switches.shouldFail(packet)) {
      this.stats.failed++;
      this.emit(packet, 'failed');
      return fail('send failed (fail switch)', 'switch');
    }

    const reliable = protocol !== 'udp';
    let dest: LoopbackTransport | undefined;
    let conn: Connection | undefined;
    if (reliable) {
      if (target.connectionId !== undefined) {
        conn = this.connections.get(target.connectionId);
        if (!conn?.open) return fail(`connection ${target.connectionId} is closed`, 'connection-closed');
        dest = conn.a === from ? conn.b : conn.a;
      } else {
        dest = this.endpoints.get(endpointKey(protocol, target.address, target.port));
        if (!dest) {
          this.stats.unroutable++;
          this.emit(packet, 'unroutable');
          return fail(`connection refused by ${target.address}:${target.port}`, 'refused');
        }
        conn = this.connectionBetween(from, dest, protocol);
      }
    } else {
      dest = this.endpoints.get(endpointKey(protocol, target.address, target.port));
      if (!dest) {
        // A datagram to nowhere is simply lost (but it was sent: the sender's trace shows it).
        this.trace(from, 'out', packet, undefined);
        this.stats.unroutable++;
        this.emit(packet, 'unroutable');
        return { ok: true, protocol, local: source };
      }
    }

    // From here on the message is on the wire as far as the sender can tell, lost or not.
    this.trace(from, 'out', packet, conn);

    if (this.switches.shouldDrop(packet, this.random) || from.switches.shouldDrop(packet, this.random)) {
      this.stats.dropped++;
      this.emit(packet, 'dropped');
      return conn ? { ok: true, protocol, local: source, connectionId: conn.id } : { ok: true, protocol, local: source };
    }

    let delay = this.switches.delayMs(packet, this.random) + from.switches.delayMs(packet, this.random);
    if (conn) {
      // A stream delivers in order whatever the delays say.
      const at = Math.max(this.clock.now() + delay, conn.lastDeliveryMs);
      conn.lastDeliveryMs = at;
      delay = at - this.clock.now();
    }
    const receiver = dest;
    const connection = conn;
    this.schedule(delay, () => this.deliver(packet, receiver, connection));
    if (this.switches.shouldDuplicate(packet, this.random) || from.switches.shouldDuplicate(packet, this.random)) {
      this.stats.duplicated++;
      this.emit(packet, 'duplicated');
      this.schedule(delay, () => this.deliver(packet, receiver, connection));
    }
    return conn ? { ok: true, protocol, local: source, connectionId: conn.id } : { ok: true, protocol, local: source };
  }

  private schedule(delayMs: number, run: () => void): void {
    if (delayMs <= 0) queueMicrotask(run);
    else this.clock.setTimeout(run, delayMs);
  }

  private deliver(packet: LoopbackPacket, dest: LoopbackTransport, conn: Connection | undefined): void {
    if (dest.closed || (conn && !conn.open)) {
      this.emit(packet, 'discarded');
      return;
    }
    this.trace(dest, 'in', packet, conn);
    const parsed = parseMessage(packet.bytes, { transport: packet.protocol === 'udp' ? 'datagram' : 'stream' });
    if (!parsed.ok) {
      this.stats.unparseable++;
      this.log.debug({ err: parsed.error.message }, 'unparseable message dropped');
      this.emit(packet, 'unparseable');
      return;
    }
    this.stats.delivered++;
    this.emit(packet, 'delivered');
    const inbound: InboundMessage = {
      message: parsed.message,
      source: packet.source,
      local: { protocol: packet.protocol, address: dest.address, port: dest.port },
      connectionId: conn?.id,
      receivedAtMs: this.clock.now(),
    };
    this.emitterOf(dest).emit('message', inbound);
  }

  private connectionBetween(from: LoopbackTransport, to: LoopbackTransport, protocol: TransportProtocol): Connection {
    for (const c of this.connections.values()) {
      if (c.open && c.protocol === protocol && ((c.a === from && c.b === to) || (c.a === to && c.b === from))) return c;
    }
    const c: Connection = { id: `loop-${protocol}-${this.nextConnection++}`, a: from, b: to, protocol, open: true, lastDeliveryMs: 0 };
    this.connections.set(c.id, c);
    return c;
  }

  private closeConnection(c: Connection, error: Error | undefined): void {
    if (!c.open) return;
    c.open = false;
    this.connections.delete(c.id);
    const remoteOf = (t: LoopbackTransport): HostPort => {
      const other = t === c.a ? c.b : c.a;
      return { protocol: c.protocol, address: other.address, port: other.port };
    };
    for (const t of [c.a, c.b]) if (!t.closed) this.emitterOf(t).emit('connection-closed', { connectionId: c.id, remote: remoteOf(t), error });
  }

  /** The 'trace' event of a transport (TransportEvents), as the network transport reports its bytes. */
  private trace(t: LoopbackTransport, direction: 'in' | 'out', packet: LoopbackPacket, conn: Connection | undefined): void {
    const emitter = this.emitterOf(t);
    if (emitter.listenerCount('trace') === 0) return;
    const protocol = packet.protocol;
    const target: HostPort = { protocol, address: packet.target.address, port: packet.target.port };
    const here: HostPort = direction === 'out' ? { ...packet.source } : { protocol, address: t.address, port: t.port };
    const there: HostPort = direction === 'out' ? target : { ...packet.source };
    const record: TraceRecord = {
      direction,
      protocol,
      local: here,
      remote: there,
      bytes: packet.bytes,
      wallTimeMs: this.clock.wallNow(),
      connectionId: conn?.id,
      opener: conn ? (conn.a === t ? 'local' : 'remote') : undefined,
    };
    emitter.emit('trace', record);
  }

  private emit(packet: LoopbackPacket, fate: PacketFate): void {
    this.events.emit('packet', { packet, fate, atMs: this.clock.now() });
  }
}

/** One endpoint on a LoopbackNetwork; made by LoopbackNetwork.attach(). */
export class LoopbackTransport implements SipTransport {
  /** This transport's outbound switches (in addition to the network's). */
  readonly switches = new LinkSwitches();
  private isClosed = false;

  constructor(
    private readonly network: LoopbackNetwork,
    readonly address: string,
    readonly port: number,
    readonly protocols: readonly TransportProtocol[],
  ) {}

  get closed(): boolean {
    return this.isClosed;
  }

  send(message: SipMessage, target: SendTarget): Promise<SendResult> {
    return Promise.resolve(this.network.route(this, message, target));
  }

  on<K extends keyof TransportEvents>(event: K, listener: (...args: TransportEvents[K]) => void): Unsubscribe {
    return this.network.emitterOf(this).on(event, listener);
  }

  localAddress(protocol: TransportProtocol): HostPort | undefined {
    if (this.isClosed || !this.protocols.includes(protocol)) return undefined;
    return { protocol, address: this.address, port: this.port };
  }

  isReliable(protocol: TransportProtocol): boolean {
    return protocol !== 'udp';
  }

  /** Sets switches on what this transport sends (merged into the current ones). */
  impair(changes: LinkImpairments): void {
    this.switches.set(changes);
  }

  clearImpairments(): void {
    this.switches.clear();
  }

  close(): Promise<void> {
    if (!this.isClosed) {
      this.isClosed = true;
      this.network.detach(this);
    }
    return Promise.resolve();
  }
}
