// The engine's SRTP / SRTCP on the wire against an independent RFC 3711 implementation written here on node:crypto: both ways, both suites.
import { createCipheriv, createHmac } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RtpStream } from '../../../firmware/media/media-engine.js';
import { loadNativeAddon } from '../../../firmware/media/native-addon.js';
import { NativeMediaEngine } from '../../../firmware/media/native-media-engine.js';
import { generateSrtpKey, type SrtpSuite } from '../../../firmware/media/srtp.js';
import { blockTone } from '../support/goertzel.js';
import { buildRtp, RtpPeer } from '../support/rtp-peer.js';
import { readWav, sine } from '../support/wav-file.js';

// ---------------------------------------------------------------------------------------------------
// RFC 3711 with AES-CM and HMAC-SHA1, key derivation rate 0, no MKI: just enough to check the engine.

interface SessionKeys {
  encKey: Buffer;
  authKey: Buffer;
  salt: Buffer;
}

function aesCm(key: Buffer, iv: Buffer, data: Buffer): Buffer {
  // §4.1.1: the keystream is AES of IV, IV + 1, ... (a 128-bit big-endian counter), which is what
  // OpenSSL's CTR mode computes.
  const cipher = createCipheriv('aes-128-ctr', key, iv);
  return Buffer.concat([cipher.update(data), cipher.final()]);
}

/** §4.3.1 / §4.3.3: x = (label || r) XOR master salt, with r = 0 (kdr 0); the key is AES-CM(master key, x · 2^16). */
function deriveKey(master: Buffer, label: number, length: number): Buffer {
  const iv = Buffer.alloc(16);
  master.copy(iv, 0, 16, 30); // the 112-bit salt in the top bytes, the low 16 bits 0
  iv[7] = (iv[7] ?? 0) ^ label; // the 56-bit key_id is aligned on the salt's least significant bits
  return aesCm(master.subarray(0, 16), iv, Buffer.alloc(length));
}

/** §4.3.2: labels 0-2 for SRTP, 3-5 for SRTCP. */
function sessionKeys(master: Buffer, rtcp: boolean): SessionKeys {
  const base = rtcp ? 3 : 0;
  return { encKey: deriveKey(master, base, 16), authKey: deriveKey(master, base + 1, 20), salt: deriveKey(master, base + 2, 14) };
}

/** §4.1.1: IV = (k_s · 2^16) XOR (SSRC · 2^64) XOR (i · 2^16). */
function packetIv(salt: Buffer, ssrc: number, index: bigint): Buffer {
  const iv = Buffer.alloc(16);
  salt.copy(iv, 0);
  const ssrcBytes = Buffer.alloc(4);
  ssrcBytes.writeUInt32BE(ssrc >>> 0);
  for (let k = 0; k < 4; k++) iv[4 + k] = (iv[4 + k] ?? 0) ^ (ssrcBytes[k] ?? 0);
  const indexBytes = Buffer.alloc(8);
  indexBytes.writeBigUInt64BE(index);
  for (let k = 0; k < 6; k++) iv[8 + k] = (iv[8 + k] ?? 0) ^ (indexBytes[2 + k] ?? 0);
  return iv;
}

function hmac(key: Buffer, ...parts: Buffer[]): Buffer {
  const h = createHmac('sha1', key);
  for (const p of parts) h.update(p);
  return h.digest();
}

function u32(value: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(value >>> 0);
  return b;
}

const TAG_BYTES: Record<SrtpSuite, number> = { AES_CM_128_HMAC_SHA1_80: 10, AES_CM_128_HMAC_SHA1_32: 4 };

/** One direction: our own rollover counter and SRTCP index, as the RFC keeps them per SSRC. */
class ReferenceSrtp {
  private readonly rtp: SessionKeys;
  private readonly rtcp: SessionKeys;
  private roc = 0;
  private lastSeq = -1;
  private rtcpIndex = 0;

  constructor(
    master: Buffer,
    private readonly suite: SrtpSuite,
  ) {
    this.rtp = sessionKeys(master, false);
    this.rtcp = sessionKeys(master, true);
  }

  /** §3.3: encrypt the payload of a 12-octet-header packet, append the tag over header, payload and ROC. */
  protectRtp(packet: Buffer): Buffer {
    const seq = packet.readUInt16BE(2);
    if (this.lastSeq >= 0 && seq < this.lastSeq) this.roc++;
    this.lastSeq = seq;
    const index = (BigInt(this.roc) << 16n) | BigInt(seq);
    const header = packet.subarray(0, 12);
    const payload = aesCm(this.rtp.encKey, packetIv(this.rtp.salt, packet.readUInt32BE(8), index), packet.subarray(12));
    const tag = hmac(this.rtp.authKey, header, payload, u32(this.roc)).subarray(0, TAG_BYTES[this.suite]);
    return Buffer.concat([header, payload, tag]);
  }

  /** §3.3 receiver side (ROC guessed as the sender's, §3.3.1 without reordering): null when the tag fails. */
  unprotectRtp(packet: Buffer): Buffer | null {
    const tagBytes = TAG_BYTES[this.suite];
    const seq = packet.readUInt16BE(2);
    const roc = this.lastSeq >= 0 && seq < this.lastSeq ? this.roc + 1 : this.roc;
    const body = packet.subarray(0, packet.length - tagBytes);
    const tag = hmac(this.rtp.authKey, body, u32(roc)).subarray(0, tagBytes);
    if (!tag.equals(packet.subarray(packet.length - tagBytes))) return null;
    this.roc = roc;
    this.lastSeq = seq;
    const index = (BigInt(roc) << 16n) | BigInt(seq);
    const payload = aesCm(this.rtp.encKey, packetIv(this.rtp.salt, packet.readUInt32BE(8), index), body.subarray(12));
    return Buffer.concat([body.subarray(0, 12), payload]);
  }

  /** §3.4: all but the first 8 octets encrypted, then E flag + 31-bit index, then an 80-bit tag (RFC 4568 §6.2.2). */
  protectRtcp(packet: Buffer): Buffer {
    const index = this.rtcpIndex++;
    const encrypted = aesCm(this.rtcp.encKey, packetIv(this.rtcp.salt, packet.readUInt32BE(4), BigInt(index)), packet.subarray(8));
    const body = Buffer.concat([packet.subarray(0, 8), encrypted, u32((0x80000000 | index) >>> 0)]);
    return Buffer.concat([body, hmac(this.rtcp.authKey, body).subarray(0, 10)]);
  }

  /** The plain compound packet and its SRTCP index, or null when the tag fails or E is not set. */
  unprotectRtcp(packet: Buffer): { plain: Buffer; index: number } | null {
    const body = packet.subarray(0, packet.length - 10);
    if (!hmac(this.rtcp.authKey, body).subarray(0, 10).equals(packet.subarray(packet.length - 10))) return null;
    const word = body.readUInt32BE(body.length - 4);
    if ((word & 0x80000000) === 0) return null;
    const index = word & 0x7fffffff;
    const plain = aesCm(this.rtcp.encKey, packetIv(this.rtcp.salt, packet.readUInt32BE(4), BigInt(index)), body.subarray(8, body.length - 4));
    return { plain: Buffer.concat([body.subarray(0, 8), plain]), index };
  }
}

// ---------------------------------------------------------------------------------------------------

const path = process.env.OFFHOOK_TEST_ADDON;
const addon = loadNativeAddon(path !== undefined ? { path } : {});

let dir: string;
let peer: RtpPeer;
let engine: NativeMediaEngine | undefined;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'offhook-srtp-'));
  peer = await RtpPeer.open();
});

afterEach(async () => {
  engine?.close();
  engine = undefined;
  await peer.close();
  rmSync(dir, { recursive: true, force: true });
});

function open(suite: SrtpSuite, keys: { engine: string; peer: string }): { e: NativeMediaEngine; s: RtpStream } {
  const e = new NativeMediaEngine({
    addon,
    clock: 'virtual',
    sampleRateHz: 8000,
    randomSeed: 9,
    audio: { backend: 'file', capture: { toneHz: 1000 }, playbackWavPath: join(dir, 'speaker.wav') },
  });
  engine = e;
  const s = e.createStream({
    local: { address: '127.0.0.1' },
    remote: { address: '127.0.0.1', port: peer.port },
    rtcpMux: true,
    rtcpMinIntervalMs: 500,
    codec: { name: 'PCMU' },
    srtp: { suite, localKey: keys.engine, remoteKey: keys.peer },
  });
  s.start();
  return { e, s };
}

async function run(e: NativeMediaEngine, s: RtpStream, ms: number): Promise<void> {
  for (let t = 0; t < ms; t += 10) {
    e.advance(10);
    const st = s.getStats();
    await peer.settle(st.packetsSent + st.rtcpSent);
  }
  await e.drainEvents();
}

describe('RFC 3711 reference (the checker checks out)', () => {
  it('derives the session keys of RFC 3711 Appendix B.3', () => {
    const master = Buffer.concat([Buffer.from('E1F97A0D3E018BE0D64FA32C06DE4139', 'hex'), Buffer.from('0EC675AD498AFEEBB6960B3AABE6', 'hex')]);
    const keys = sessionKeys(master, false);
    expect(keys.encKey.toString('hex').toUpperCase()).toBe('C61E7A93744F39EE10734AFE3FF7A087');
    expect(keys.salt.toString('hex').toUpperCase()).toBe('30CBBC08863D8C85D49DB34A9AE1');
    expect(keys.authKey.toString('hex').toUpperCase()).toBe('CEBE321F6FF7716B6FD4AB49AF256A156D38BAA4');
  });
});

describe.each(['AES_CM_128_HMAC_SHA1_80', 'AES_CM_128_HMAC_SHA1_32'] as const)('%s on the wire', (suite) => {
  it('what the engine sends decrypts and authenticates here: SRTP carries the tone, SRTCP an SR with our CNAME', async () => {
    const keys = { engine: generateSrtpKey(), peer: generateSrtpKey() };
    const { e, s } = open(suite, keys);
    await run(e, s, 2000);
    const reference = new ReferenceSrtp(Buffer.from(keys.engine, 'base64'), suite);
    const pcm: Int16Array[] = [];
    for (const p of peer.rtp) {
      const { marker, payloadType, seq, timestamp, ssrc } = p.header;
      const datagram = Buffer.concat([buildRtp({ marker, payloadType, seq, timestamp, ssrc, payload: new Uint8Array(0) }), p.payload]);
      expect(datagram.length).toBe(12 + 160 + TAG_BYTES[suite]);
      const plain = reference.unprotectRtp(datagram);
      expect(plain, `packet ${p.header.seq} authenticates`).not.toBeNull();
      pcm.push(addon.g711.decode('PCMU', new Uint8Array(plain?.subarray(12) ?? [])));
    }
    expect(pcm.length).toBeGreaterThanOrEqual(95);
    const audio = Int16Array.from(pcm.flatMap((f) => [...f]));
    const tone = blockTone(audio, 8000, 1000, 100, 1900, 20);
    expect(tone.goodFraction).toBe(1);
    // SRTCP: the E flag set (encrypted), indexes counting up by one, and inside a valid SR.
    const rtcp = peer.rtcp.map((r) => reference.unprotectRtcp(r.data));
    expect(rtcp.length).toBeGreaterThanOrEqual(2);
    expect(rtcp.every((r) => r !== null)).toBe(true);
    const indexes = rtcp.map((r) => r?.index ?? -1);
    indexes.slice(1).forEach((index, i) => expect(index).toBe((indexes[i] ?? 0) + 1));
    const first = rtcp[0]?.plain ?? Buffer.alloc(0);
    expect(first[1]).toBe(200); // SR (RFC 3550 §6.4.1)
    expect(first.readUInt32BE(4)).toBe(s.localSsrc);
    expect(first.includes(Buffer.from('offhook'))).toBe(true); // SDES CNAME, in clear only after decryption
    expect(peer.rtcp[0]?.data.includes(Buffer.from('offhook'))).toBe(false);
  });

  it('what is protected here plays in the engine; one flipped bit is an auth failure; SRTCP from here is taken', async () => {
    const keys = { engine: generateSrtpKey(), peer: generateSrtpKey() };
    const { e, s } = open(suite, keys);
    const reference = new ReferenceSrtp(Buffer.from(keys.peer, 'base64'), suite);
    const codes = addon.g711.encode('PCMU', sine(440, 2000, 8000, -12));
    // Starting just below a wrap of the sequence number exercises the rollover counter (§3.3.1).
    const seq0 = 65536 - 40;
    for (let i = 0; i < 100; i++) {
      const packet = buildRtp({ payloadType: 0, seq: (seq0 + i) & 0xffff, timestamp: 1000 + 160 * i, ssrc: 0x5eed0001, payload: codes.subarray(160 * i, 160 * (i + 1)) });
      const srtpPacket = reference.protectRtp(packet);
      if (i === 50) {
        const tampered = Buffer.from(srtpPacket);
        tampered[20] = (tampered[20] ?? 0) ^ 0x01;
        await peer.send(tampered, s.localRtpPort);
      } else {
        await peer.send(srtpPacket, s.localRtpPort);
      }
      if (i === 60) await peer.send(reference.protectRtcp(rrFor(s.localSsrc)), s.localRtpPort);
      await run(e, s, 20);
    }
    const stats = s.getStats();
    e.close();
    engine = undefined;
    const out = readWav(join(dir, 'speaker.wav'));
    console.log(`${suite}: engine received`, { packets: stats.packetsReceived, authFailures: stats.srtpAuthFailures, rtcp: stats.rtcpReceived, lost: stats.packetsLost });
    expect(stats.srtpAuthFailures).toBe(1);
    expect(stats.packetsReceived).toBe(99);
    expect(stats.packetsLost).toBe(1);
    expect(stats.rtcpReceived).toBe(1);
    expect(stats.remote).not.toBeNull();
    expect(blockTone(out.samples, 8000, 440, 300, 2000, 100).meanShare).toBeGreaterThan(0.97);
  });
});

/** An RR (RFC 3550 §6.4.2) from SSRC 0x5eed0001 with one report block about `ssrc`, and an SDES CNAME. */
function rrFor(ssrc: number): Buffer {
  const rr = Buffer.alloc(32);
  rr[0] = 0x81;
  rr[1] = 201;
  rr.writeUInt16BE(7, 2);
  rr.writeUInt32BE(0x5eed0001, 4);
  rr.writeUInt32BE(ssrc >>> 0, 8);
  const sdes = Buffer.alloc(16);
  sdes[0] = 0x81;
  sdes[1] = 202;
  sdes.writeUInt16BE(3, 2);
  sdes.writeUInt32BE(0x5eed0001, 4);
  sdes[8] = 1; // CNAME
  sdes[9] = 4;
  sdes.write('peer', 10, 'ascii');
  return Buffer.concat([rr, sdes]);
}
