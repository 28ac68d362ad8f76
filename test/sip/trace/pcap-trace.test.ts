// The pcap trace: packet headers and checksums, and tshark reading a trace of real UDP and TCP traffic back as the same SIP messages.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createResponse } from '../../../firmware/sip/message/build.js';
import type { SipRequest } from '../../../firmware/sip/message/message.js';
import { LINKTYPE_RAW, PcapEncoder } from '../../../firmware/sip/trace/pcap-encoder.js';
import { PcapTrace } from '../../../firmware/sip/trace/pcap-trace.js';
import type { TraceRecord } from '../../../firmware/sip/trace/trace-record.js';
import type { NetworkTransport } from '../../../firmware/sip/transport/network-transport.js';
import { asRequest, harness, nextEvent, requestFrom } from '../transport/helpers.js';

const h = harness();

/** Ones' complement sum over a buffer; 0xffff when a header with its checksum in place is intact. */
function sum16(buf: Buffer): number {
  let s = 0;
  for (let i = 0; i + 1 < buf.length; i += 2) s += buf.readUInt16BE(i);
  if (buf.length % 2) s += buf.readUInt8(buf.length - 1) << 8;
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return s;
}

function record(over: Partial<TraceRecord> & Pick<TraceRecord, 'protocol' | 'direction'>): TraceRecord {
  const protocol = over.protocol;
  return {
    local: { protocol, address: '127.0.0.1', port: 5060 },
    remote: { protocol, address: '127.0.0.2', port: 5070 },
    bytes: Buffer.from('OPTIONS sip:x SIP/2.0\r\nContent-Length: 0\r\n\r\n'),
    wallTimeMs: 1_767_258_000_123.456,
    ...over,
  };
}

/** Splits pcap records after the 24-byte file header (or from 0 for encode() output). */
function packets(buf: Buffer, offset = 0): { tsSec: number; tsUsec: number; data: Buffer }[] {
  const out: { tsSec: number; tsUsec: number; data: Buffer }[] = [];
  let p = offset;
  while (p < buf.length) {
    const incl = buf.readUInt32LE(p + 8);
    expect(buf.readUInt32LE(p + 12)).toBe(incl);
    out.push({ tsSec: buf.readUInt32LE(p), tsUsec: buf.readUInt32LE(p + 4), data: buf.subarray(p + 16, p + 16 + incl) });
    p += 16 + incl;
  }
  return out;
}

describe('PcapEncoder', () => {
  it('writes a libpcap header with LINKTYPE_RAW', () => {
    const hdr = new PcapEncoder().fileHeader();
    expect(hdr.length).toBe(24);
    expect(hdr.readUInt32LE(0)).toBe(0xa1b2c3d4);
    expect([hdr.readUInt16LE(4), hdr.readUInt16LE(6)]).toEqual([2, 4]);
    expect(hdr.readUInt32LE(20)).toBe(LINKTYPE_RAW);
  });

  it('builds IPv4/UDP packets with correct lengths and checksums', () => {
    const r = record({ protocol: 'udp', direction: 'out' });
    const [p] = packets(new PcapEncoder().encode(r));
    const ip = p!.data;
    expect(p!.tsSec).toBe(1_767_258_000);
    expect(p!.tsUsec).toBe(123_456);
    expect(ip[0]).toBe(0x45);
    expect(ip.readUInt16BE(2)).toBe(ip.length);
    expect(ip[9]).toBe(17);
    expect(sum16(ip.subarray(0, 20))).toBe(0xffff);
    expect([...ip.subarray(12, 16)]).toEqual([127, 0, 0, 1]);
    expect([...ip.subarray(16, 20)]).toEqual([127, 0, 0, 2]);
    const udp = ip.subarray(20);
    expect([udp.readUInt16BE(0), udp.readUInt16BE(2), udp.readUInt16BE(4)]).toEqual([5060, 5070, udp.length]);
    const pseudo = Buffer.concat([ip.subarray(12, 20), Buffer.from([0, 17]), Buffer.from([udp.length >> 8, udp.length & 0xff])]);
    expect(sum16(Buffer.concat([pseudo, udp]))).toBe(0xffff);
    expect(udp.subarray(8).equals(r.bytes)).toBe(true);
  });

  it('builds IPv6/TCP flows: a handshake from the opener, then data with running sequence numbers', () => {
    const enc = new PcapEncoder();
    const base = { local: { protocol: 'tcp' as const, address: '::1', port: 40000 }, remote: { protocol: 'tcp' as const, address: '2001:db8::5', port: 5060 } };
    const first = packets(enc.encode(record({ ...base, protocol: 'tcp', direction: 'out', opener: 'local' })));
    expect(first).toHaveLength(4);
    const tcp = (d: Buffer): Buffer => d.subarray(40);
    const flags = first.map((p) => tcp(p.data)[13]);
    expect(flags).toEqual([0x02, 0x12, 0x10, 0x18]);
    const syn = tcp(first[0]!.data);
    const synAck = tcp(first[1]!.data);
    const data = tcp(first[3]!.data);
    expect(synAck.readUInt32BE(8)).toBe((syn.readUInt32BE(4) + 1) >>> 0);
    expect(data.readUInt32BE(4)).toBe((syn.readUInt32BE(4) + 1) >>> 0);
    expect(data.readUInt32BE(8)).toBe((synAck.readUInt32BE(4) + 1) >>> 0);
    for (const p of first) {
      const ip = p.data;
      expect(ip[0]! >> 4).toBe(6);
      expect(ip.readUInt16BE(4)).toBe(ip.length - 40);
      const seg = ip.subarray(40);
      const pseudo = Buffer.alloc(40);
      ip.copy(pseudo, 0, 8, 40);
      pseudo.writeUInt32BE(seg.length, 32);
      pseudo[39] = 6;
      expect(sum16(Buffer.concat([pseudo, seg]))).toBe(0xffff);
    }
    // The answer comes from the remote end; then a large message is cut into segments that follow each other.
    const reply = packets(enc.encode(record({ ...base, protocol: 'tcp', direction: 'in' })));
    expect(reply).toHaveLength(1);
    expect(tcp(reply[0]!.data).readUInt32BE(4)).toBe(data.readUInt32BE(8));
    const big = Buffer.alloc(70_000, 0x61);
    const segs = packets(enc.encode(record({ ...base, protocol: 'tcp', direction: 'out', bytes: big })));
    expect(segs.length).toBe(Math.ceil(70_000 / 1460));
    const seq0 = tcp(segs[0]!.data).readUInt32BE(4);
    expect(seq0).toBe((data.readUInt32BE(4) + record({ protocol: 'tcp', direction: 'out' }).bytes.length) >>> 0);
    expect(tcp(segs[1]!.data).readUInt32BE(4)).toBe((seq0 + segs[0]!.data.length - 60) >>> 0);
    expect(segs.reduce((n, s) => n + s.data.length - 60, 0)).toBe(70_000);
  });
});

describe('PcapTrace', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  /** Sends req from a to b, answers with the statuses, waits for each to arrive. */
  async function exchange(a: NetworkTransport, b: NetworkTransport, req: SipRequest, target: Parameters<NetworkTransport['send']>[1], statuses: number[]): Promise<void> {
    const arrived = nextEvent(b, 'message');
    expect((await a.send(req, target)).ok).toBe(true);
    const inbound = await arrived;
    for (const status of statuses) {
      const back = nextEvent(a, 'message');
      const res = createResponse(asRequest(inbound.message), { status, toTag: 'tt' });
      expect((await b.send(res, { ...inbound.source, connectionId: inbound.connectionId })).ok).toBe(true);
      await back;
    }
  }

  it('is read back by tshark as the same SIP messages, over UDP and TCP, IPv4 and IPv6', async () => {
    dir = mkdtempSync(join(tmpdir(), 'offhook-pcap-'));
    const file = join(dir, 'trace.pcap');
    const pcap = await PcapTrace.open(file);
    const a = await h.udpTcpTransport('127.0.0.1');
    const b = await h.udpTcpTransport('127.0.0.1');
    const a6 = await h.transport({ listen: [{ protocol: 'udp', address: '::1', port: 0 }] });
    const b6 = await h.transport({ listen: [{ protocol: 'udp', address: '::1', port: 0 }] });
    a.on('trace', pcap.record);
    a6.on('trace', pcap.record);
    const bPort = b.localAddress('udp')!.port;

    await exchange(a, b, requestFrom(a, 'udp', { method: 'OPTIONS', branch: 'z9hG4bK-1' }), { protocol: 'udp', address: '127.0.0.1', port: bPort }, [200]);
    await exchange(a, b, requestFrom(a, 'tcp', { method: 'REGISTER', branch: 'z9hG4bK-2' }), { protocol: 'tcp', address: '127.0.0.1', port: bPort }, [401]);
    // Over 1300 bytes: moved to TCP; over 32 KiB: several TCP segments for tshark to reassemble.
    const sdp = `v=0\r\n${'a=x-filler:0123456789abcdef0123456789abcdef\r\n'.repeat(900)}`;
    await exchange(a, b, requestFrom(a, 'udp', { method: 'INVITE', branch: 'z9hG4bK-3', body: sdp, extra: ['Content-Type: application/sdp'] }), { protocol: 'udp', address: '127.0.0.1', port: bPort }, [180, 200]);
    await exchange(a6, b6, requestFrom(a6, 'udp', { method: 'MESSAGE', branch: 'z9hG4bK-4', family: 6, body: 'hi' }), { protocol: 'udp', address: '::1', port: b6.localAddress('udp')!.port }, [202]);
    await pcap.close();

    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file).readUInt32LE(20)).toBe(LINKTYPE_RAW);
    const out = execFileSync('tshark', ['-r', file, '-Y', 'sip', '-T', 'fields', '-e', 'sip.Method', '-e', 'sip.Status-Code'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    const seen = out
      .trim()
      .split('\n')
      .map((l) => l.trim());
    expect(seen).toEqual(['OPTIONS', '200', 'REGISTER', '401', 'INVITE', '180', '200', 'MESSAGE', '202']);
  });

  it('writes to any stream, and stops quietly when the stream fails', async () => {
    const stream = new PassThrough();
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    const pcap = new PcapTrace(stream);
    const r = record({ protocol: 'udp', direction: 'in' });
    pcap.record(r);
    // File header, record header, IPv4 + UDP headers, the message.
    expect(Buffer.concat(chunks).length).toBe(24 + 16 + 28 + r.bytes.length);
    stream.destroy(new Error('disk full'));
    expect(() => pcap.record(record({ protocol: 'udp', direction: 'in' }))).not.toThrow();
    await pcap.close();
  });
});
