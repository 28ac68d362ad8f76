// Test support: a hand-driven RTP peer on a UDP socket — builds packets byte by byte and records what the engine sends.
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { isRtcp } from './impairment-relay.js';

export interface RtpHeaderFields {
  version: number;
  padding: boolean;
  extension: boolean;
  csrcCount: number;
  marker: boolean;
  payloadType: number;
  seq: number;
  timestamp: number;
  ssrc: number;
}

export interface CapturedPacket {
  header: RtpHeaderFields;
  payload: Buffer;
  from: RemoteInfo;
}

export interface BuildOptions {
  payloadType: number;
  seq: number;
  timestamp: number;
  ssrc: number;
  marker?: boolean;
  payload: Uint8Array;
  /** CSRC identifiers (RFC 3550 §5.1), skipped by the receiver. */
  csrcs?: number[];
  /** A header extension of this many 32-bit words (§5.3.1). */
  extensionWords?: number;
  /** Padding octets at the end, the last one counting them (§5.1). */
  padding?: number;
}

/** An RTP packet, with the optional parts of the fixed header filled in as asked. */
export function buildRtp(o: BuildOptions): Buffer {
  const csrcs = o.csrcs ?? [];
  const ext = o.extensionWords ?? -1;
  const pad = o.padding ?? 0;
  const header = Buffer.alloc(12 + 4 * csrcs.length + (ext >= 0 ? 4 + 4 * ext : 0));
  header[0] = 0x80 | (pad > 0 ? 0x20 : 0) | (ext >= 0 ? 0x10 : 0) | csrcs.length;
  header[1] = (o.marker === true ? 0x80 : 0) | o.payloadType;
  header.writeUInt16BE(o.seq & 0xffff, 2);
  header.writeUInt32BE(o.timestamp >>> 0, 4);
  header.writeUInt32BE(o.ssrc >>> 0, 8);
  csrcs.forEach((c, i) => header.writeUInt32BE(c >>> 0, 12 + 4 * i));
  if (ext >= 0) {
    const at = 12 + 4 * csrcs.length;
    header.writeUInt16BE(0xbede, at); // RFC 8285 one-byte profile, content irrelevant here
    header.writeUInt16BE(ext, at + 2);
    for (let i = 0; i < ext; i++) header.writeUInt32BE(0xdeadbeef, at + 4 + 4 * i);
  }
  const padding = Buffer.alloc(pad);
  if (pad > 0) padding[pad - 1] = pad;
  return Buffer.concat([header, Buffer.from(o.payload), padding]);
}

export function parseRtp(data: Buffer): { header: RtpHeaderFields; payload: Buffer } {
  const first = data[0] ?? 0;
  const second = data[1] ?? 0;
  const csrcCount = first & 0x0f;
  const header: RtpHeaderFields = {
    version: first >> 6,
    padding: (first & 0x20) !== 0,
    extension: (first & 0x10) !== 0,
    csrcCount,
    marker: (second & 0x80) !== 0,
    payloadType: second & 0x7f,
    seq: data.readUInt16BE(2),
    timestamp: data.readUInt32BE(4),
    ssrc: data.readUInt32BE(8),
  };
  return { header, payload: data.subarray(12 + 4 * csrcCount) };
}

/** A UDP socket on 127.0.0.1 that records RTP and RTCP it receives. */
export class RtpPeer {
  readonly rtp: CapturedPacket[] = [];
  readonly rtcp: { data: Buffer; from: RemoteInfo }[] = [];

  private constructor(private readonly socket: Socket) {
    socket.on('message', (data: Buffer, from: RemoteInfo) => {
      if (isRtcp(data)) this.rtcp.push({ data, from });
      else this.rtp.push({ ...parseRtp(data), from });
    });
  }

  static async open(): Promise<RtpPeer> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
    return new RtpPeer(socket);
  }

  get port(): number {
    return this.socket.address().port;
  }

  get received(): number {
    return this.rtp.length + this.rtcp.length;
  }

  send(data: Buffer, port: number): Promise<void> {
    return new Promise((resolve) => this.socket.send(data, port, '127.0.0.1', () => resolve()));
  }

  /** Waits until `count` datagrams in all have arrived. */
  async settle(count: number): Promise<void> {
    for (let i = 0; this.received < count; i++) {
      if (i > 2000) throw new Error(`peer: ${this.received} datagrams of ${count} arrived`);
      await new Promise((resolve) => (i < 200 ? setImmediate(resolve) : setTimeout(resolve, 1)));
    }
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}
