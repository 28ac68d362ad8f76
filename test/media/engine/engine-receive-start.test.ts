// What reaches a stream's sockets before start() is not the started stream's: with the sockets read
// in the media tick (a stopped stream's RTCP socket only every 100 ms), such a datagram may still wait
// in the socket when the stream starts; the engine drops it by its kernel arrival time. Regression:
// baresip sends an APP-only "PING" (no SR/RR first, RFC 3550 §6.1 / A.2: invalid) when it answers, so
// before our start(); it was counted in invalidPackets after the network thread was removed.
import { createSocket, type Socket } from 'node:dgram';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadNativeAddon } from '../../../firmware/media/native-addon.js';
import { NativeMediaEngine } from '../../../firmware/media/native-media-engine.js';

const path = process.env.OFFHOOK_TEST_ADDON;
const addon = loadNativeAddon(path !== undefined ? { path } : {});

/** baresip's NAT pinhole packet (libre rtcp_send_app(rs, "PING", "PONG", 4)), byte for byte. */
const APP_PING = Buffer.from('80cc000309469cc650494e47504f4e47', 'hex');

let engine: NativeMediaEngine;
let peer: Socket;

beforeEach(async () => {
  peer = createSocket('udp4');
  await new Promise<void>((resolve) => peer.bind(0, '127.0.0.1', resolve));
});

afterEach(() => {
  engine.close();
  peer.close();
});

function send(port: number, data: Buffer): Promise<void> {
  return new Promise((resolve, reject) => peer.send(data, port, '127.0.0.1', (err) => (err ? reject(err) : resolve())));
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('datagrams and start() (real-time clock, sockets read in the media tick)', () => {
  it('drops an RTCP datagram that arrived before start() even when read after it; counts one that arrives after', async () => {
    engine = new NativeMediaEngine({ addon, sampleRateHz: 8000, audio: { backend: 'null' } });
    const stream = engine.createStream({
      local: { address: '127.0.0.1' },
      remote: { address: '127.0.0.1', port: peer.address().port, rtcpPort: peer.address().port },
      codec: { name: 'PCMU' },
    });
    // The peer answers first (and pings), then we start, well within the stopped stream's 100 ms
    // between RTCP reads: the datagram is read by the started stream.
    await send(stream.localRtcpPort, APP_PING);
    stream.start();
    await sleep(300); // > 2 RTCP reads
    let stats = stream.getStats();
    expect(stats.invalidPackets).toBe(0);
    expect(stats.rtcpReceived).toBe(0);

    // The same packet after start() is the peer's and is invalid RTCP (not a compound packet that
    // starts with SR or RR): still counted.
    await send(stream.localRtcpPort, APP_PING);
    await sleep(300);
    stats = stream.getStats();
    expect(stats.invalidPackets).toBe(1);
    expect(stats.rtcpReceived).toBe(0);
  });
});
