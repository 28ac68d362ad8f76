// Test support: a UDP relay between two RTP endpoints that delays, jitters, drops (random or in bursts), reorders and duplicates packets, seeded and on a virtual clock.
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';

/** What the relay does to one direction. Probabilities are 0–1; times are ms of virtual time. */
export interface Impairment {
  delayMs?: number;
  /** Extra delay drawn uniformly from [0, jitterMs] per packet (reorders when it exceeds the packet spacing). */
  jitterMs?: number;
  /** Average share of packets dropped. */
  lossRate?: number;
  /**
   * Mean length of a loss burst, in packets: a two-state (Gilbert) model with P(bad → good) = 1 / meanBurst
   * and P(good → bad) chosen so that the average loss stays lossRate. Absent or 1 = independent loss.
   */
  meanBurstLength?: number;
  /** Share of packets held back by reorderDelayMs (so that the next ones overtake them). */
  reorderRate?: number;
  reorderDelayMs?: number;
  /** Share of packets sent twice. */
  duplicateRate?: number;
  /** Apply the above to RTCP too (default: RTCP passes untouched, with delayMs only). */
  impairRtcp?: boolean;
}

export type RelayDirection = 'aToB' | 'bToA';

export interface RelayDirectionStats {
  received: number;
  rtpReceived: number;
  rtcpReceived: number;
  dropped: number;
  /** RTP packets dropped, by payload type. */
  droppedByPayloadType: Map<number, number>;
  duplicated: number;
  reorderedHeld: number;
  forwarded: number;
  /** RTP datagrams forwarded (duplicates included). */
  rtpForwarded: number;
  /** Sequence numbers of the RTP packets dropped, in order. */
  droppedSeqs: number[];
}

interface Pending {
  dueMs: number;
  order: number;
  data: Buffer;
  channel: number;
}

export interface Endpoint {
  address: string;
  port: number;
}

/** mulberry32: a small seeded generator, so every run drops the same packets. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** RFC 5761 §4: RTCP packet types 192–223 in the second octet. */
export function isRtcp(data: Buffer): boolean {
  const second = data[1] ?? 0;
  return data.length >= 2 && second >= 192 && second <= 223;
}

/**
 * Side A's sockets face engine A (A sends to them), side B's face engine B. A packet that arrives on
 * side A channel i leaves from side B channel i towards B's channel i endpoint, and the other way:
 * each engine sees its packets come from the address it sends to (symmetric RTP). Channel 0 is RTP
 * (or RTP + RTCP with rtcp-mux), channel 1 RTCP on its own port.
 */
export class ImpairmentRelay {
  readonly stats: Record<RelayDirection, RelayDirectionStats>;
  /** Stop forwarding (a dead path) while false; packets are still received and counted. */
  forwarding = true;
  /** Rewrites packets in flight (an SSRC change by a B2BUA, say); return the buffer to forward. */
  rewrite: ((data: Buffer, direction: RelayDirection) => Buffer) | undefined;
  private readonly sideA: Socket[];
  private readonly sideB: Socket[];
  private targetsA: Endpoint[] = [];
  private targetsB: Endpoint[] = [];
  private readonly pending: Record<RelayDirection, Pending[]> = { aToB: [], bToA: [] };
  private readonly random: () => number;
  private readonly burstBad: Record<RelayDirection, boolean> = { aToB: false, bToA: false };
  private nowMs = 0;
  private order = 0;

  private constructor(
    sideA: Socket[],
    sideB: Socket[],
    private readonly impairments: Record<RelayDirection, Impairment>,
    seed: number,
  ) {
    this.sideA = sideA;
    this.sideB = sideB;
    this.random = seeded(seed);
    const fresh = (): RelayDirectionStats => ({
      received: 0,
      rtpReceived: 0,
      rtcpReceived: 0,
      dropped: 0,
      droppedByPayloadType: new Map(),
      duplicated: 0,
      reorderedHeld: 0,
      forwarded: 0,
      rtpForwarded: 0,
      droppedSeqs: [],
    });
    this.stats = { aToB: fresh(), bToA: fresh() };
    sideA.forEach((s, channel) => s.on('message', (msg: Buffer, from: RemoteInfo) => this.onPacket('aToB', channel, msg, from)));
    sideB.forEach((s, channel) => s.on('message', (msg: Buffer, from: RemoteInfo) => this.onPacket('bToA', channel, msg, from)));
  }

  /** Binds 2 × `channels` sockets on 127.0.0.1. */
  static async open(options: { channels?: number; seed: number; aToB?: Impairment; bToA?: Impairment }): Promise<ImpairmentRelay> {
    const bind = async (): Promise<Socket> => {
      const s = createSocket('udp4');
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.bind(0, '127.0.0.1', () => {
          s.off('error', reject);
          resolve();
        });
      });
      return s;
    };
    const channels = options.channels ?? 1;
    const sideA: Socket[] = [];
    const sideB: Socket[] = [];
    for (let i = 0; i < channels; i++) {
      sideA.push(await bind());
      sideB.push(await bind());
    }
    return new ImpairmentRelay(sideA, sideB, { aToB: options.aToB ?? {}, bToA: options.bToA ?? {} }, options.seed);
  }

  /** Where engine A should send (its remote): channel 0 port, channel 1 port. */
  portsForA(): number[] {
    return this.sideA.map((s) => s.address().port);
  }

  portsForB(): number[] {
    return this.sideB.map((s) => s.address().port);
  }

  /** The engines' local endpoints, per channel. */
  connect(a: Endpoint[], b: Endpoint[]): void {
    this.targetsA = a;
    this.targetsB = b;
  }

  setImpairment(direction: RelayDirection, impairment: Impairment): void {
    this.impairments[direction] = impairment;
  }

  get totalReceived(): number {
    return this.stats.aToB.received + this.stats.bToA.received;
  }

  /** Waits until `count` datagrams in all were received (the engines' sends reached the relay). */
  async settle(count: number): Promise<void> {
    for (let i = 0; this.totalReceived < count; i++) {
      if (i > 2000) throw new Error(`relay: ${this.totalReceived} datagrams of ${count} arrived`);
      await new Promise((resolve) => (i < 200 ? setImmediate(resolve) : setTimeout(resolve, 1)));
    }
  }

  /** Sets the virtual time and sends every packet due by then; resolves when the kernel has them. */
  async release(nowMs: number): Promise<void> {
    this.nowMs = nowMs;
    const sends: Promise<void>[] = [];
    for (const direction of ['aToB', 'bToA'] as const) {
      const queue = this.pending[direction];
      queue.sort((x, y) => x.dueMs - y.dueMs || x.order - y.order);
      while (queue.length > 0 && (queue[0]?.dueMs ?? Infinity) <= nowMs) {
        const p = queue.shift();
        if (p === undefined) break;
        sends.push(this.send(direction, p));
      }
    }
    await Promise.all(sends);
  }

  async close(): Promise<void> {
    await Promise.all([...this.sideA, ...this.sideB].map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }

  private send(direction: RelayDirection, p: Pending): Promise<void> {
    const socket = direction === 'aToB' ? this.sideB[p.channel] : this.sideA[p.channel];
    const target = direction === 'aToB' ? this.targetsB[p.channel] : this.targetsA[p.channel];
    if (socket === undefined || target === undefined) return Promise.resolve();
    this.stats[direction].forwarded++;
    if (p.channel === 0 && !isRtcp(p.data)) this.stats[direction].rtpForwarded++;
    return new Promise((resolve) => socket.send(p.data, target.port, target.address, () => resolve()));
  }

  private onPacket(direction: RelayDirection, channel: number, msg: Buffer, _from: RemoteInfo): void {
    const stats = this.stats[direction];
    stats.received++;
    const rtcp = channel === 1 || isRtcp(msg);
    if (rtcp) stats.rtcpReceived++;
    else stats.rtpReceived++;
    if (!this.forwarding) return;
    const imp = this.impairments[direction];
    const data = this.rewrite !== undefined && !rtcp ? this.rewrite(msg, direction) : msg;
    const base = this.nowMs + (imp.delayMs ?? 0);
    if (rtcp && imp.impairRtcp !== true) {
      this.pending[direction].push({ dueMs: base, order: this.order++, data, channel });
      return;
    }
    if (this.lose(direction, imp)) {
      stats.dropped++;
      const pt = (data[1] ?? 0) & 0x7f;
      stats.droppedByPayloadType.set(pt, (stats.droppedByPayloadType.get(pt) ?? 0) + 1);
      stats.droppedSeqs.push(data.readUInt16BE(2));
      return;
    }
    let due = base + this.random() * (imp.jitterMs ?? 0);
    if (this.random() < (imp.reorderRate ?? 0)) {
      due += imp.reorderDelayMs ?? 30;
      stats.reorderedHeld++;
    }
    this.pending[direction].push({ dueMs: due, order: this.order++, data, channel });
    if (this.random() < (imp.duplicateRate ?? 0)) {
      stats.duplicated++;
      this.pending[direction].push({ dueMs: due + this.random() * 20, order: this.order++, data, channel });
    }
  }

  private lose(direction: RelayDirection, imp: Impairment): boolean {
    const rate = imp.lossRate ?? 0;
    if (rate <= 0) return false;
    const burst = imp.meanBurstLength ?? 1;
    if (burst <= 1) return this.random() < rate;
    // Gilbert model: stay bad with 1 − 1/burst; enter bad with p such that p / (p + q) = rate.
    const q = 1 / burst;
    const p = (rate * q) / (1 - rate);
    const bad = this.burstBad[direction] ? this.random() >= q : this.random() < p;
    this.burstBad[direction] = bad;
    return bad;
  }
}
