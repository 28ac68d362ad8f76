// Encodes trace records as libpcap packets: LINKTYPE_RAW with synthesized IPv4/IPv6 and UDP/TCP headers that Wireshark, tshark and sngrep accept.
import { ipBytes } from '../transport/ip-address.js';
import type { TraceRecord } from './trace-record.js';

/** LINKTYPE_RAW: each packet starts with an IPv4 or IPv6 header (the version nibble tells which). */
export const LINKTYPE_RAW = 101;
/** Largest packet recorded (the usual tcpdump snap length). */
export const PCAP_SNAP_LENGTH = 262_144;

const PROTO_TCP = 6;
const PROTO_UDP = 17;
const TCP_SYN = 0x02;
const TCP_ACK = 0x10;
const TCP_PSH = 0x08;
/**
 * TCP payload per synthesized segment, the Ethernet MSS: a large message becomes segments that
 * tshark reassembles, each small enough for sngrep (which skips packets over 20 KiB).
 */
const MAX_SEGMENT_BYTES = 1460;
/** Largest UDP payload an IPv4 packet can carry (65,535 - 20 - 8). */
const MAX_UDP_V4_PAYLOAD = 65_507;
/** Flows remembered for sequence numbers; the oldest is forgotten beyond that. */
const MAX_FLOWS = 4096;

/** Sequence state of one TCP connection, seen from our side. */
interface TcpFlow {
  localNext: number;
  remoteNext: number;
}

/** Ones' complement sum of 16-bit big-endian words (RFC 1071), not yet complemented. */
function onesSum(buf: Buffer, initial = 0): number {
  let sum = initial;
  const even = buf.length & ~1;
  for (let i = 0; i < even; i += 2) sum += buf.readUInt16BE(i);
  if (even !== buf.length) sum += buf.readUInt8(even) << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

function checksum(parts: readonly Buffer[]): number {
  let sum = 0;
  for (const p of parts) sum = onesSum(p, sum);
  return ~sum & 0xffff;
}

/** 32-bit FNV-1a of a string: a deterministic initial sequence number per flow. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** Address bytes; both ends in the same family (an IPv4 end beside an IPv6 one becomes IPv4-mapped). */
function addressPair(a: string, b: string): [Buffer, Buffer] {
  let x = ipBytes(a) ?? Buffer.alloc(4);
  let y = ipBytes(b) ?? Buffer.alloc(4);
  const mapped = (v4: Buffer): Buffer => Buffer.concat([Buffer.alloc(10), Buffer.from([0xff, 0xff]), v4]);
  if (x.length !== y.length) {
    if (x.length === 4) x = mapped(x);
    if (y.length === 4) y = mapped(y);
  }
  return [x, y];
}

/**
 * Turns trace records into pcap packets. Stateful per file: IPv4 identification numbers, and
 * for each TCP flow the sequence numbers of both directions, so that a stream's messages follow
 * each other and tshark reassembles a message split over segments. The first record of a flow
 * is preceded by a synthesized three-way handshake from the side that opened the connection.
 */
export class PcapEncoder {
  private ipId = 0;
  private readonly flows = new Map<string, TcpFlow>();

  /** The 24-byte global header: microsecond timestamps, version 2.4, little-endian. */
  fileHeader(): Buffer {
    const h = Buffer.alloc(24);
    h.writeUInt32LE(0xa1b2c3d4, 0);
    h.writeUInt16LE(2, 4);
    h.writeUInt16LE(4, 6);
    h.writeInt32LE(0, 8);
    h.writeUInt32LE(0, 12);
    h.writeUInt32LE(PCAP_SNAP_LENGTH, 16);
    h.writeUInt32LE(LINKTYPE_RAW, 20);
    return h;
  }

  /** The pcap records (record header + packet) for one trace record. */
  encode(record: TraceRecord): Buffer {
    const out = record.direction === 'out';
    const [localIp, remoteIp] = addressPair(record.local.address, record.remote.address);
    const src = out ? { ip: localIp, port: record.local.port } : { ip: remoteIp, port: record.remote.port };
    const dst = out ? { ip: remoteIp, port: record.remote.port } : { ip: localIp, port: record.local.port };
    const packets: Buffer[] = [];
    if (record.protocol === 'udp') {
      const payload = localIp.length === 4 ? record.bytes.subarray(0, MAX_UDP_V4_PAYLOAD) : record.bytes;
      packets.push(this.ipPacket(src.ip, dst.ip, PROTO_UDP, udpSegment(src, dst, payload)));
    } else {
      const key = `${record.local.address}|${record.local.port}|${record.remote.address}|${record.remote.port}`;
      const flow = this.flows.get(key) ?? this.openFlow(key, record, localIp, remoteIp, packets);
      const segments = Math.max(1, Math.ceil(record.bytes.length / MAX_SEGMENT_BYTES));
      for (let i = 0; i < segments; i++) {
        const chunk = record.bytes.subarray(i * MAX_SEGMENT_BYTES, (i + 1) * MAX_SEGMENT_BYTES);
        const seq = out ? flow.localNext : flow.remoteNext;
        const ack = out ? flow.remoteNext : flow.localNext;
        packets.push(this.ipPacket(src.ip, dst.ip, PROTO_TCP, tcpSegment(src, dst, seq, ack, TCP_PSH | TCP_ACK, chunk)));
        if (out) flow.localNext = (flow.localNext + chunk.length) >>> 0;
        else flow.remoteNext = (flow.remoteNext + chunk.length) >>> 0;
      }
    }
    return Buffer.concat(packets.map((p) => this.pcapRecord(record.wallTimeMs, p)));
  }

  private openFlow(key: string, record: TraceRecord, localIp: Buffer, remoteIp: Buffer, packets: Buffer[]): TcpFlow {
    const localIsn = fnv1a(`L${key}`);
    const remoteIsn = fnv1a(`R${key}`);
    const local = { ip: localIp, port: record.local.port };
    const remote = { ip: remoteIp, port: record.remote.port };
    const opener = record.opener ?? (record.direction === 'out' ? 'local' : 'remote');
    const [a, b, aIsn, bIsn] = opener === 'local' ? [local, remote, localIsn, remoteIsn] : [remote, local, remoteIsn, localIsn];
    packets.push(this.ipPacket(a.ip, b.ip, PROTO_TCP, tcpSegment(a, b, aIsn, 0, TCP_SYN, Buffer.alloc(0))));
    packets.push(this.ipPacket(b.ip, a.ip, PROTO_TCP, tcpSegment(b, a, bIsn, (aIsn + 1) >>> 0, TCP_SYN | TCP_ACK, Buffer.alloc(0))));
    packets.push(this.ipPacket(a.ip, b.ip, PROTO_TCP, tcpSegment(a, b, (aIsn + 1) >>> 0, (bIsn + 1) >>> 0, TCP_ACK, Buffer.alloc(0))));
    const flow = { localNext: (localIsn + 1) >>> 0, remoteNext: (remoteIsn + 1) >>> 0 };
    this.flows.set(key, flow);
    if (this.flows.size > MAX_FLOWS) {
      const oldest = this.flows.keys().next();
      if (oldest.done !== true) this.flows.delete(oldest.value);
    }
    return flow;
  }

  private ipPacket(src: Buffer, dst: Buffer, protocol: number, segment: { header: Buffer; payload: Buffer; checksumAt: number }): Buffer {
    const length = segment.header.length + segment.payload.length;
    // The transport checksum covers a pseudo-header of the addresses (RFC 768, RFC 793, RFC 8200 §8.1).
    const pseudo = Buffer.alloc(src.length === 4 ? 12 : 40);
    if (src.length === 4) {
      src.copy(pseudo, 0);
      dst.copy(pseudo, 4);
      pseudo[9] = protocol;
      pseudo.writeUInt16BE(length, 10);
    } else {
      src.copy(pseudo, 0);
      dst.copy(pseudo, 16);
      pseudo.writeUInt32BE(length, 32);
      pseudo[39] = protocol;
    }
    let sum = checksum([pseudo, segment.header, segment.payload]);
    // RFC 768: a computed UDP checksum of zero is sent as all ones.
    if (sum === 0 && protocol === PROTO_UDP) sum = 0xffff;
    segment.header.writeUInt16BE(sum, segment.checksumAt);
    let ip: Buffer;
    if (src.length === 4) {
      ip = Buffer.alloc(20);
      ip[0] = 0x45;
      ip.writeUInt16BE(Math.min(0xffff, 20 + length), 2);
      ip.writeUInt16BE(this.ipId, 4);
      this.ipId = (this.ipId + 1) & 0xffff;
      ip.writeUInt16BE(0x4000, 6); // don't fragment
      ip[8] = 64;
      ip[9] = protocol;
      src.copy(ip, 12);
      dst.copy(ip, 16);
      ip.writeUInt16BE(checksum([ip]), 10);
    } else {
      ip = Buffer.alloc(40);
      ip.writeUInt32BE(0x60000000, 0);
      ip.writeUInt16BE(Math.min(0xffff, length), 4);
      ip[6] = protocol;
      ip[7] = 64;
      src.copy(ip, 8);
      dst.copy(ip, 24);
    }
    return Buffer.concat([ip, segment.header, segment.payload]);
  }

  private pcapRecord(wallTimeMs: number, packet: Buffer): Buffer {
    const h = Buffer.alloc(16);
    const seconds = Math.floor(wallTimeMs / 1000);
    const micros = Math.min(999_999, Math.floor((wallTimeMs - seconds * 1000) * 1000));
    const included = packet.subarray(0, PCAP_SNAP_LENGTH);
    h.writeUInt32LE(seconds >>> 0, 0);
    h.writeUInt32LE(micros, 4);
    h.writeUInt32LE(included.length, 8);
    h.writeUInt32LE(packet.length, 12);
    return Buffer.concat([h, included]);
  }
}

interface End {
  ip: Buffer;
  port: number;
}

function udpSegment(src: End, dst: End, payload: Buffer): { header: Buffer; payload: Buffer; checksumAt: number } {
  const header = Buffer.alloc(8);
  header.writeUInt16BE(src.port, 0);
  header.writeUInt16BE(dst.port, 2);
  header.writeUInt16BE(Math.min(0xffff, 8 + payload.length), 4);
  return { header, payload, checksumAt: 6 };
}

function tcpSegment(src: End, dst: End, seq: number, ack: number, flags: number, payload: Buffer): { header: Buffer; payload: Buffer; checksumAt: number } {
  const header = Buffer.alloc(20);
  header.writeUInt16BE(src.port, 0);
  header.writeUInt16BE(dst.port, 2);
  header.writeUInt32BE(seq >>> 0, 4);
  header.writeUInt32BE(ack >>> 0, 8);
  header[12] = 5 << 4; // data offset: 5 words, no options
  header[13] = flags;
  header.writeUInt16BE(65_535, 14); // window
  return { header, payload, checksumAt: 16 };
}
