// Two SdpMediaHandlers on mock media engines offering and answering each other: streams configured consistently, hold, early media and forks, SRTP, DTMF, RTP timeout, rollback, close.
import { describe, expect, it } from 'vitest';
import { SdpMediaHandler, type SdpMediaHandlerOptions } from '../../firmware/call/sdp-media-handler.js';
import { MockMediaEngine, type MockRtpStream } from '../../firmware/media/mock-media-engine.js';
import type { SessionBody, SessionDescriptionContext } from '../../firmware/sip/ua/session-description.js';
import { ASTERISK_OFFER, OLD_HOLD_OFFER, countingBytes, sdp } from '../sdp/fixtures.js';

interface Side {
  engine: MockMediaEngine;
  handler: SdpMediaHandler;
  failures: string[];
  stream: () => MockRtpStream;
}

function side(direction: 'outgoing' | 'incoming', address: string, firstPort: number, over: Partial<SdpMediaHandlerOptions> = {}): Side {
  const engine = new MockMediaEngine({ firstPort });
  const failures: string[] = [];
  const context: SessionDescriptionContext = { direction, mediaFailed: (reason) => failures.push(reason) };
  const handler = new SdpMediaHandler({ engine, bindAddress: address, rtpTimeoutS: 30, randomBytes: countingBytes(firstPort), ...over }, context);
  return {
    engine,
    handler,
    failures,
    stream: () => {
      const s = engine.streams.filter((x) => x.state !== 'closed');
      expect(s).toHaveLength(1);
      return s[0]!;
    },
  };
}

/** Offer from `a`, answer from `b`, answer into `a`; returns both bodies. */
async function exchange(a: Side, b: Side, opts: { holdA?: boolean; holdB?: boolean; early?: boolean; fork?: string } = {}): Promise<{ offer: SessionBody; answer: SessionBody }> {
  const offer = await a.handler.createOffer({ hold: opts.holdA ?? false });
  expect(b.handler.receiveOffer(offer)).toEqual({ ok: true });
  const answer = await b.handler.createAnswer({ hold: opts.holdB ?? false });
  expect(a.handler.receiveAnswer(answer, { early: opts.early ?? false, fork: opts.fork ?? 'tag-b' })).toEqual({ ok: true });
  return { offer, answer };
}

const call = (over: Partial<SdpMediaHandlerOptions> = {}, overB: Partial<SdpMediaHandlerOptions> = over): [Side, Side] => [
  side('outgoing', '192.0.2.1', 40000, over),
  side('incoming', '192.0.2.2', 50000, overB),
];

describe('SdpMediaHandler end to end', () => {
  it('offer → answer: each stream sends to the other, same codec and payload types, rtcp-mux, started', async () => {
    const [a, b] = call();
    const { offer, answer } = await exchange(a, b);
    expect(offer.contentType).toBe('application/sdp');
    expect(offer.body).toContain('m=audio 40000 RTP/AVP 96 0 8 97 101 13');
    expect(answer.body).toContain('m=audio 50000 RTP/AVP 96 97');
    a.handler.confirmed();
    b.handler.confirmed();
    const sa = a.stream().options;
    const sb = b.stream().options;
    expect(sa.remote).toEqual({ address: '192.0.2.2', port: 50000 });
    expect(sb.remote).toEqual({ address: '192.0.2.1', port: 40000 });
    expect(sa.codec).toEqual(sb.codec);
    expect(sa.codec).toMatchObject({ name: 'opus', payloadType: 96, sampleRateHz: 16000, fec: true, dtx: false });
    expect([sa.telephoneEvent, sb.telephoneEvent]).toEqual([{ payloadType: 97 }, { payloadType: 97 }]);
    expect([sa.direction, sb.direction]).toEqual(['sendrecv', 'sendrecv']);
    expect([sa.rtcpMux, sb.rtcpMux]).toEqual([true, true]);
    expect([sa.rtpTimeoutMs, sa.srtp]).toEqual([30000, undefined]);
    expect([a.stream().state, b.stream().state]).toEqual(['started', 'started']);
    // A bound before knowing about rtcp-mux and was rebound on the same port when the answer took it.
    const created = a.engine.calls.flatMap((c) => (c.method === 'createStream' ? [[c.options.local.port, c.options.rtcpMux]] : []));
    expect(created).toEqual([
      [0, false],
      [40000, true],
    ]);
    expect(a.engine.streams[0]!.state).toBe('closed');
  });

  it('G.711 in the preference order of the answerer, without rtcp-mux', async () => {
    const [a, b] = call({ codecs: ['PCMA', 'PCMU'], rtcpMux: false }, { codecs: ['PCMU', 'PCMA'] });
    await exchange(a, b);
    expect(a.stream().options.codec).toEqual({ name: 'PCMU', payloadType: 0 });
    expect(b.stream().options.codec).toEqual({ name: 'PCMU', payloadType: 0 });
    expect(a.stream().options.remote).toEqual({ address: '192.0.2.2', port: 50000, rtcpPort: 50001 });
    expect(b.stream().options.remote).toEqual({ address: '192.0.2.1', port: 40000, rtcpPort: 40001 });
    expect([a.stream().options.comfortNoise, b.stream().options.comfortNoise]).toEqual([{ payloadType: 13 }, { payloadType: 13 }]);
    expect(a.engine.calls.filter((c) => c.method === 'createStream')).toHaveLength(1);
  });

  it('SRTP: keys crossed between the two streams', async () => {
    const [a, b] = call({ srtp: 'mandatory' }, { srtp: 'optional' });
    const { offer } = await exchange(a, b);
    expect(offer.body).toContain('RTP/SAVP');
    const ka = a.stream().options.srtp!;
    const kb = b.stream().options.srtp!;
    expect(ka.suite).toBe('AES_CM_128_HMAC_SHA1_80');
    expect(kb.suite).toBe(ka.suite);
    expect(ka.localKey).toBe(kb.remoteKey);
    expect(ka.remoteKey).toBe(kb.localKey);
    expect(ka.localKey).not.toBe(kb.localKey);
  });

  it('SRTP off on one side and mandatory on the other: 488', async () => {
    const [a, b] = call({ srtp: 'mandatory' }, { srtp: 'off' });
    const offer = await a.handler.createOffer({ hold: false });
    const v = b.handler.receiveOffer(offer);
    expect(v).toMatchObject({ ok: false, status: 488, reason: expect.stringMatching(/SRTP is off/) });
    expect(b.engine.streams).toHaveLength(0);
  });

  it('hold and resume: sendonly / recvonly, then both on hold inactive, then sendrecv again', async () => {
    const [a, b] = call();
    await exchange(a, b);
    a.handler.confirmed();
    b.handler.confirmed();
    await exchange(a, b, { holdA: true });
    expect([a.stream().options.direction, b.stream().options.direction]).toEqual(['sendonly', 'recvonly']);
    await exchange(b, a, { holdA: true, holdB: true }); // B holds too: its re-offer is inactive
    expect([a.stream().options.direction, b.stream().options.direction]).toEqual(['inactive', 'inactive']);
    await exchange(a, b, { holdA: false, holdB: false }); // A resumes, B does not re-hold in its answer
    expect([a.stream().options.direction, b.stream().options.direction]).toEqual(['sendrecv', 'sendrecv']);
    expect(a.engine.calls.filter((c) => c.method === 'createStream')).toHaveLength(2); // no rebinding on re-INVITEs
  });

  it('early media from two forks: receive-only from the latest fork, the 2xx one wins, confirmed() opens sending', async () => {
    const a = side('outgoing', '192.0.2.1', 40000, { rtcpMux: false });
    const b1 = side('incoming', '192.0.2.2', 50000);
    const b2 = side('incoming', '192.0.2.3', 60000);
    const offer = await a.handler.createOffer({ hold: false });
    b1.handler.receiveOffer(offer);
    b2.handler.receiveOffer(offer);
    const ans1 = await b1.handler.createAnswer({ hold: false });
    const ans2 = await b2.handler.createAnswer({ hold: false });
    expect(a.handler.receiveAnswer(ans1, { early: true, fork: 'b1' })).toEqual({ ok: true });
    expect(a.stream().options.remote?.address).toBe('192.0.2.2');
    expect(a.stream().options.direction).toBe('recvonly');
    expect(a.stream().state).toBe('started');
    expect(a.handler.sendDtmf('1', 100)).toBe(false);
    expect(a.handler.receiveAnswer(ans2, { early: true, fork: 'b2' })).toEqual({ ok: true });
    expect(a.stream().options.remote).toEqual({ address: '192.0.2.3', port: 60000, rtcpPort: 60001 });
    expect(a.handler.receiveAnswer(ans1, { early: false, fork: 'b1' })).toEqual({ ok: true });
    expect(a.stream().options.remote?.address).toBe('192.0.2.2');
    expect(a.stream().options.direction).toBe('sendrecv');
    a.handler.confirmed();
    expect(a.stream().options.direction).toBe('sendrecv');
    expect(a.handler.sendDtmf('1#', 120)).toBe(true);
    expect(a.stream().dtmfSent).toEqual([{ digits: '1#', options: { durationMs: 120 } }]);
  });

  it('early answer then confirmed() starts sending what was agreed', async () => {
    const [a, b] = call();
    await exchange(a, b, { early: true });
    expect(a.stream().options.direction).toBe('recvonly');
    a.handler.confirmed();
    expect(a.stream().options.direction).toBe('sendrecv');
  });

  it('rollback of a refused hold re-offer keeps the call as it was; of a failed INVITE stops the early media', async () => {
    const [a, b] = call();
    await exchange(a, b);
    a.handler.confirmed();
    await a.handler.createOffer({ hold: true });
    a.handler.rollback();
    expect(a.stream().options.direction).toBe('sendrecv');
    expect(a.stream().state).toBe('started');

    const [c, d] = call();
    await exchange(c, d, { early: true });
    c.handler.rollback();
    expect(c.stream().state).toBe('stopped');
    expect(c.handler.negotiated).toBeUndefined();
  });

  it('late offer: the incoming side offers in its 2xx and takes the answer from the ACK', async () => {
    const [a, b] = call();
    await exchange(b, a); // b (incoming) offers, a answers
    expect(b.stream().options.remote?.port).toBe(40000);
    expect(a.stream().options.remote?.port).toBe(50000);
  });
});

describe('SdpMediaHandler against other peers', () => {
  it('answers Asterisk with PCMU, its ptime, DTMF on 101; no RTP for the timeout fails the call once', async () => {
    const b = side('incoming', '192.0.2.2', 50000);
    expect(b.handler.receiveOffer({ contentType: 'application/sdp', body: ASTERISK_OFFER })).toEqual({ ok: true });
    const answer = await b.handler.createAnswer({ hold: false });
    expect(answer.body).toContain('m=audio 50000 RTP/AVP 0 101');
    const o = b.stream().options;
    expect([o.codec, o.ptimeMs, o.telephoneEvent, o.rtcpMux]).toEqual([{ name: 'PCMU', payloadType: 0 }, 30, { payloadType: 101 }, false]);
    expect(o.remote).toEqual({ address: '198.51.100.5', port: 17540, rtcpPort: 17541 });
    b.handler.confirmed();
    expect(b.handler.sendDtmf('123', 100)).toBe(true);
    expect(b.handler.sendDtmf('12x', 100)).toBe(false);
    b.engine.emit({ type: 'rtpTimeout', streamId: b.stream().id + 100, timeMs: 1, silentMs: 30000 });
    expect(b.failures).toEqual([]);
    b.engine.emit({ type: 'rtpTimeout', streamId: b.stream().id, timeMs: 1, silentMs: 30000 });
    b.engine.emit({ type: 'rtpTimeout', streamId: b.stream().id, timeMs: 2, silentMs: 31000 });
    expect(b.failures).toEqual(['no RTP received for 30 s']);
  });

  it('no telephone-event at the codec rate: sendDtmf says false', async () => {
    const b = side('incoming', '192.0.2.2', 50000);
    b.handler.receiveOffer({ contentType: 'application/sdp', body: ASTERISK_OFFER.replace(' 101\r\n', '\r\n').replace(/a=(rtpmap|fmtp):101.*\r\n/g, '') });
    await b.handler.createAnswer({ hold: false });
    b.handler.confirmed();
    expect(b.stream().options.telephoneEvent).toBeUndefined();
    expect(b.handler.sendDtmf('1', 100)).toBe(false);
  });

  it('RFC 2543 hold: no remote to send to, receive only', async () => {
    const b = side('incoming', '192.0.2.2', 50000);
    b.handler.receiveOffer({ contentType: 'application/sdp', body: OLD_HOLD_OFFER });
    await b.handler.createAnswer({ hold: false });
    expect(b.stream().options.remote).toBeUndefined();
    expect(b.stream().options.direction).toBe('recvonly');
  });

  it('refusals: wrong content type, a broken body (400), no codec in common (488)', () => {
    const b = side('incoming', '192.0.2.2', 50000);
    expect(b.handler.receiveOffer({ contentType: 'text/plain', body: ASTERISK_OFFER })).toMatchObject({ ok: false, status: 488 });
    expect(b.handler.receiveOffer({ contentType: 'application/sdp', body: 'garbage' })).toMatchObject({ ok: false, status: 400 });
    const g729 = sdp('v=0', 'o=- 1 1 IN IP4 192.0.2.9', 's=-', 'c=IN IP4 192.0.2.9', 't=0 0', 'm=audio 4000 RTP/AVP 18');
    expect(b.handler.receiveOffer({ contentType: 'Application/SDP; charset=utf-8', body: g729 })).toMatchObject({ ok: false, status: 488, reason: expect.stringMatching(/no codec in common/) });
    expect(b.handler.receiveAnswer({ contentType: 'application/sdp', body: ASTERISK_OFFER }, { early: false, fork: 'x' })).toMatchObject({ ok: false, status: 488 });
  });

  it('close() frees the stream once; nothing after it reaches the engine or the session', async () => {
    const [a, b] = call();
    await exchange(a, b);
    const stream = a.stream();
    a.handler.close();
    a.handler.close();
    expect(stream.state).toBe('closed');
    expect(a.engine.calls.filter((c) => c.method === 'close' && c.streamId === stream.id)).toHaveLength(1);
    a.engine.emit({ type: 'rtpTimeout', streamId: stream.id, timeMs: 1, silentMs: 30000 });
    expect(a.failures).toEqual([]);
    expect(a.handler.sendDtmf('1', 100)).toBe(false);
    await expect(a.handler.createOffer({ hold: false })).rejects.toThrow(/over/);
  });

  it('a port the engine cannot bind rejects the offer', async () => {
    const engine = new MockMediaEngine({ busyPort: 42000 });
    const h = new SdpMediaHandler({ engine, bindAddress: '192.0.2.1', localPort: 42000 }, { direction: 'outgoing', mediaFailed: () => undefined });
    await expect(h.createOffer({ hold: false })).rejects.toThrow(/in use/);
  });

  it('a wildcard bind address needs an advertised one', () => {
    const engine = new MockMediaEngine();
    const ctx: SessionDescriptionContext = { direction: 'outgoing', mediaFailed: () => undefined };
    expect(() => new SdpMediaHandler({ engine, bindAddress: '0.0.0.0' }, ctx)).toThrow(/advertisedAddress/);
    expect(() => new SdpMediaHandler({ engine, bindAddress: '0.0.0.0', advertisedAddress: '192.0.2.1' }, ctx)).not.toThrow();
  });
});
