// SdpMediaHandler.remoteHold, what the session reports as the peer's hold: sendonly and inactive offers, the RFC 2543 c=0.0.0.0, and back to sendrecv.
import { describe, expect, it } from 'vitest';
import { SdpMediaHandler } from '../../firmware/call/sdp-media-handler.js';
import { MockMediaEngine } from '../../firmware/media/mock-media-engine.js';
import { OLD_HOLD_OFFER, countingBytes, sdp } from '../sdp/fixtures.js';

function handler(direction: 'outgoing' | 'incoming', address: string, firstPort: number): SdpMediaHandler {
  const engine = new MockMediaEngine({ firstPort });
  return new SdpMediaHandler({ engine, bindAddress: address, rtpTimeoutS: 30, randomBytes: countingBytes(firstPort) }, { direction, mediaFailed: () => undefined });
}

async function exchange(a: SdpMediaHandler, b: SdpMediaHandler, holdA: boolean, holdB = false): Promise<void> {
  expect(b.receiveOffer(await a.createOffer({ hold: holdA }))).toEqual({ ok: true });
  expect(a.receiveAnswer(await b.createAnswer({ hold: holdB }), { early: false, fork: 't' })).toEqual({ ok: true });
}

describe('SdpMediaHandler.remoteHold', () => {
  it('follows the peer holding us (sendonly, then inactive when both hold) and resuming', async () => {
    const a = handler('outgoing', '192.0.2.1', 40000);
    const b = handler('incoming', '192.0.2.2', 50000);
    await exchange(a, b, false);
    expect([a.remoteHold, b.remoteHold]).toEqual([false, false]);
    await exchange(a, b, true);
    expect([a.remoteHold, b.remoteHold]).toEqual([false, true]);
    await exchange(b, a, true, true);
    expect([a.remoteHold, b.remoteHold]).toEqual([true, true]);
    await exchange(a, b, false, true);
    expect([a.remoteHold, b.remoteHold]).toEqual([true, false]);
    await exchange(b, a, false, false);
    expect([a.remoteHold, b.remoteHold]).toEqual([false, false]);
  });

  it('recognises old peers: c=0.0.0.0 and a=inactive offers', async () => {
    const b = handler('incoming', '192.0.2.2', 50000);
    b.receiveOffer({ contentType: 'application/sdp', body: OLD_HOLD_OFFER });
    await b.createAnswer({ hold: false });
    expect(b.remoteHold).toBe(true);
    const c = handler('incoming', '192.0.2.3', 60000);
    c.receiveOffer({ contentType: 'application/sdp', body: sdp('v=0', 'o=old 1 2 IN IP4 192.0.2.99', 's=-', 'c=IN IP4 192.0.2.99', 't=0 0', 'm=audio 5004 RTP/AVP 0', 'a=inactive') });
    await c.createAnswer({ hold: false });
    expect(c.remoteHold).toBe(true);
  });
});
