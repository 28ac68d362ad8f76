// RFC 3264 offer/answer on SDPs shaped like real peers': answers, refusals, our offers, o= versions, hold, SRTP, IPv6, late offers and rollback.
import { describe, expect, it } from 'vitest';
import { parse } from 'sdp-transform';
import { OfferAnswer, OfferAnswerState, SdpConfigError, SdpStateError, type NegotiatedAudio, type SdpConfig } from '../../firmware/sdp/index.js';
import {
  ASTERISK_OFFER,
  BARESIP_OFFER,
  BROWSER_OFFER,
  G722,
  IPV6_HOLD_OFFER,
  KEY_A,
  KEY_B,
  OLD_HOLD_OFFER,
  PCMA,
  PCMU,
  POLYCOM_OFFER,
  SAVP_OFFER,
  config,
  countingBytes,
  plainOffer,
  sdp,
} from './fixtures.js';

const PORTS = { rtpPort: 40000 };

function answerTo(offer: string, over: Partial<SdpConfig> = {}, hold = false): { sdp: string; n: NegotiatedAudio } {
  const oa = new OfferAnswer(config(over));
  const verdict = oa.receiveOffer(offer);
  if (!verdict.ok) throw new Error(`refused: ${verdict.reason}`);
  const a = oa.createAnswer({ hold, ...PORTS });
  return { sdp: a.sdp, n: a.negotiated };
}

const lines = (text: string): string[] => text.split('\r\n');

describe('answering offers from real peers', () => {
  const cases: {
    name: string;
    offer: string;
    over?: Partial<SdpConfig>;
    codec: [string, number];
    te: number | undefined;
    cn: number | undefined;
    direction: string;
    remoteHold: boolean;
    remote: [string, number, number];
    rtcpMux: boolean;
    ptimeMs: number;
    mLine: string;
  }[] = [
    {
      name: 'baresip: opus on its 96; no telephone-event at 48 kHz, so none',
      offer: BARESIP_OFFER,
      codec: ['opus', 96],
      te: undefined,
      cn: undefined,
      direction: 'sendrecv',
      remoteHold: false,
      remote: ['192.0.2.10', 10000, 10000],
      rtcpMux: true,
      ptimeMs: 20,
      mLine: 'm=audio 40000 RTP/AVP 96',
    },
    {
      name: 'Asterisk: our order (PCMU) over its (PCMA first), its ptime 30, RTCP on port + 1',
      offer: ASTERISK_OFFER,
      codec: ['PCMU', 0],
      te: 101,
      cn: undefined,
      direction: 'sendrecv',
      remoteHold: false,
      remote: ['198.51.100.5', 17540, 17541],
      rtcpMux: false,
      ptimeMs: 30,
      mLine: 'm=audio 40000 RTP/AVP 0 101',
    },
    {
      name: 'Polycom: PCMU without rtpmap, telephone-event on 127, a=rtcp, session-level direction',
      offer: POLYCOM_OFFER,
      codec: ['PCMU', 0],
      te: 127,
      cn: undefined,
      direction: 'sendrecv',
      remoteHold: false,
      remote: ['203.0.113.50', 2222, 2225],
      rtcpMux: false,
      ptimeMs: 20,
      mLine: 'm=audio 40000 RTP/AVP 0 127',
    },
    {
      name: 'Polycom with G.722 preferred',
      offer: POLYCOM_OFFER,
      over: { codecs: [G722, PCMU] },
      codec: ['G722', 9],
      te: 127,
      cn: undefined,
      direction: 'sendrecv',
      remoteHold: false,
      remote: ['203.0.113.50', 2222, 2225],
      rtcpMux: false,
      ptimeMs: 20,
      mLine: 'm=audio 40000 RTP/AVP 9 127',
    },
    {
      name: 'RFC 2543 hold (c=0.0.0.0): we only receive; CN/8000 accepted',
      offer: OLD_HOLD_OFFER,
      codec: ['PCMU', 0],
      te: undefined,
      cn: 13,
      direction: 'recvonly',
      remoteHold: true,
      remote: ['0.0.0.0', 5004, 5005],
      rtcpMux: false,
      ptimeMs: 20,
      mLine: 'm=audio 40000 RTP/AVP 0 13',
    },
    {
      name: 'browser: opus on 111, telephone-event/48000 on 110 (not 126), ptime 10, rtcp-mux',
      offer: BROWSER_OFFER,
      codec: ['opus', 111],
      te: 110,
      cn: undefined,
      direction: 'sendrecv',
      remoteHold: false,
      remote: ['192.0.2.20', 49170, 49170],
      rtcpMux: true,
      ptimeMs: 10,
      mLine: 'm=audio 40000 RTP/AVP 111 110',
    },
    {
      name: 'IPv6 peer holding us (sendonly)',
      offer: IPV6_HOLD_OFFER,
      over: { address: '2001:db8::1' },
      codec: ['PCMU', 0],
      te: 101,
      cn: undefined,
      direction: 'recvonly',
      remoteHold: true,
      remote: ['2001:db8::10', 6000, 6001],
      rtcpMux: false,
      ptimeMs: 20,
      mLine: 'm=audio 40000 RTP/AVP 0 101',
    },
  ];

  it.each(cases)('$name', (c) => {
    const { sdp: answer, n } = answerTo(c.offer, c.over);
    expect([n.codec.name, n.codec.payloadType]).toEqual(c.codec);
    expect(n.codec.localPayloadType).toBe(c.codec[1]);
    expect(n.telephoneEventPayloadType).toBe(c.te);
    expect(n.comfortNoisePayloadType).toBe(c.cn);
    expect(n.direction).toBe(c.direction);
    expect(n.remoteHold).toBe(c.remoteHold);
    expect([n.remote.address, n.remote.port, n.remote.rtcpPort]).toEqual(c.remote);
    expect(n.rtcpMux).toBe(c.rtcpMux);
    expect(n.local).toEqual({ address: c.over?.address ?? '192.0.2.1', port: 40000, rtcpPort: c.rtcpMux ? 40000 : 40001 });
    expect(n.ptimeMs).toBe(c.ptimeMs);
    expect(n.srtp).toBeUndefined();
    const l = lines(answer);
    expect(l).toContain(c.mLine);
    expect(l).toContain(`a=${c.direction}`);
    expect(l.includes('a=rtcp-mux')).toBe(c.rtcpMux);
    // What we wrote parses back to what we agreed (the answer is valid SDP).
    const parsed = parse(answer);
    expect(parsed.media[0]?.port).toBe(40000);
  });

  it('rejects the video m-line of a browser offer with port 0 and keeps the m-line count (RFC 3264 §6)', () => {
    const { sdp: answer } = answerTo(BROWSER_OFFER);
    const parsed = parse(answer);
    expect(parsed.media.map((m) => [m.type, m.port])).toEqual([
      ['audio', 40000],
      ['video', 0],
    ]);
    expect(lines(answer)).toContain('m=video 0 RTP/AVP 120');
  });

  it('takes the peer fmtp for the codec and writes ours', () => {
    const { sdp: answer, n } = answerTo(BROWSER_OFFER);
    expect(n.codec.fmtp).toEqual({ maxplaybackrate: '48000', stereo: '1', useinbandfec: '1', usedtx: '1' });
    expect(n.codec.localFmtp).toEqual({ minptime: '10', useinbandfec: '1', usedtx: '0', maxplaybackrate: '16000' });
    expect(lines(answer)).toContain('a=fmtp:111 minptime=10;useinbandfec=1;usedtx=0;maxplaybackrate=16000');
    expect(lines(answer)).toContain('a=rtpmap:111 opus/48000/2');
  });

  it('lists every codec in common, in our order, with answerAllCommonCodecs', () => {
    const { sdp: answer, n } = answerTo(ASTERISK_OFFER, { answerAllCommonCodecs: true });
    expect(lines(answer)).toContain('m=audio 40000 RTP/AVP 0 8 101');
    expect(n.codec.name).toBe('PCMU');
  });

  it('SRTP: skips the MKI line, takes the first suite it runs (the offer order), answers that tag with its own key', () => {
    const { sdp: answer, n } = answerTo(SAVP_OFFER, { srtp: 'optional' });
    expect(n.srtp).toMatchObject({ tag: 2, suite: 'AES_CM_128_HMAC_SHA1_32', remoteKey: KEY_A });
    expect(n.srtp?.localKey).not.toBe(KEY_A);
    expect(Buffer.from(n.srtp?.localKey ?? '', 'base64')).toHaveLength(30);
    const l = lines(answer);
    expect(l).toContain('m=audio 40000 RTP/SAVP 0 101');
    expect(l.filter((x) => x.startsWith('a=crypto:'))).toEqual([`a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:${n.srtp?.localKey}`]);
  });

  it('SRTP: only the suites configured are taken', () => {
    const { n } = answerTo(SAVP_OFFER, { srtp: 'mandatory', srtpSuites: ['AES_CM_128_HMAC_SHA1_80'] });
    expect(n.srtp).toMatchObject({ tag: 3, suite: 'AES_CM_128_HMAC_SHA1_80', remoteKey: KEY_B });
  });

  it('SRTP: best-effort crypto on RTP/AVP is answered with crypto when SRTP is on, ignored when off', () => {
    const offer = SAVP_OFFER.replace('RTP/SAVP', 'RTP/AVP');
    expect(answerTo(offer, { srtp: 'optional' }).n.srtp?.tag).toBe(2);
    expect(answerTo(offer, { srtp: 'mandatory' }).n.srtp?.tag).toBe(2);
    const off = answerTo(offer, { srtp: 'off' });
    expect(off.n.srtp).toBeUndefined();
    expect(off.sdp).not.toContain('a=crypto');
  });
});

describe('refusals', () => {
  const big = sdp('v=0', 'o=- 1 1 IN IP4 192.0.2.9', 's=-', 'c=IN IP4 192.0.2.9', 't=0 0', 'm=audio 4000 RTP/AVP 0', ...Array.from({ length: 3000 }, (_, i) => `a=x-padding-${i}:${'z'.repeat(20)}`));
  const head = ['v=0', 'o=- 1 1 IN IP4 192.0.2.9', 's=-', 'c=IN IP4 192.0.2.9', 't=0 0'];
  const cases: { name: string; offer: string; over?: Partial<SdpConfig>; status: number; code: string; reason: RegExp }[] = [
    { name: 'not SDP at all', offer: 'hello, world', status: 400, code: 'malformed', reason: /v=0/ },
    { name: 'an empty body', offer: '', status: 400, code: 'malformed', reason: /v=0/ },
    { name: 'no o= line', offer: sdp('v=0', 's=-', 'c=IN IP4 192.0.2.9', 't=0 0', 'm=audio 4000 RTP/AVP 0'), status: 400, code: 'malformed', reason: /o= line/ },
    { name: 'a port that is not a number', offer: sdp(...head, 'm=audio abc RTP/AVP 0'), status: 400, code: 'malformed', reason: /m-line 1 has no valid port/ },
    { name: 'a format that is not a payload type', offer: sdp(...head, 'm=audio 4000 RTP/AVP 0 pcmu'), status: 400, code: 'malformed', reason: /not an RTP payload type/ },
    { name: 'no c= anywhere', offer: sdp('v=0', 'o=- 1 1 IN IP4 192.0.2.9', 's=-', 't=0 0', 'm=audio 4000 RTP/AVP 0'), status: 400, code: 'malformed', reason: /no c= line/ },
    { name: 'more than 64 KiB', offer: big, status: 488, code: 'too-large', reason: /more than the 65536/ },
    { name: 'video only', offer: sdp(...head, 'm=video 4000 RTP/AVP 96', 'a=rtpmap:96 H264/90000'), status: 488, code: 'no-audio', reason: /no audio stream/ },
    { name: 'audio over RTP/AVPF only', offer: sdp(...head, 'm=audio 4000 RTP/AVPF 0'), status: 488, code: 'no-audio', reason: /no audio stream/ },
    { name: 'audio on port 0 only', offer: sdp(...head, 'm=audio 0 RTP/AVP 0'), status: 488, code: 'no-audio', reason: /no audio stream/ },
    { name: 'G.729 only', offer: sdp(...head, 'm=audio 4000 RTP/AVP 18 101', 'a=rtpmap:18 G729/8000', 'a=rtpmap:101 telephone-event/8000'), status: 488, code: 'no-common-codec', reason: /offered G729\/8000, we have opus, PCMU, PCMA/ },
    { name: 'G.722 offered, not configured', offer: sdp(...head, 'm=audio 4000 RTP/AVP 9'), status: 488, code: 'no-common-codec', reason: /offered G722\/8000/ },
    { name: 'opus at a wrong clock rate', offer: sdp(...head, 'm=audio 4000 RTP/AVP 96', 'a=rtpmap:96 opus/16000/1'), over: { codecs: [config().codecs[0]!] }, status: 488, code: 'no-common-codec', reason: /offered opus\/16000/ },
    { name: 'a host name in c=', offer: sdp('v=0', 'o=- 1 1 IN IP4 pbx.example.com', 's=-', 'c=IN IP4 pbx.example.com', 't=0 0', 'm=audio 4000 RTP/AVP 0'), status: 488, code: 'bad-address', reason: /pbx\.example\.com/ },
    { name: 'RTP/SAVP with SRTP off', offer: SAVP_OFFER, status: 488, code: 'srtp-disabled', reason: /SRTP is off/ },
    { name: 'plain RTP/AVP with SRTP mandatory', offer: ASTERISK_OFFER, over: { srtp: 'mandatory' }, status: 488, code: 'srtp-required', reason: /mandatory/ },
    { name: 'RTP/SAVP without crypto', offer: sdp(...head, 'm=audio 4000 RTP/SAVP 0'), over: { srtp: 'optional' }, status: 488, code: 'srtp-no-suite', reason: /has no a=crypto line$/ },
    {
      name: 'RTP/SAVP with only a suite we do not run and an MKI line',
      offer: sdp(...head, 'm=audio 4000 RTP/SAVP 0', `a=crypto:1 AES_256_CM_HMAC_SHA1_80 inline:${KEY_A}${KEY_A}`, `a=crypto:2 AES_CM_128_HMAC_SHA1_80 inline:${KEY_A}|2^20|1:4`),
      over: { srtp: 'mandatory' },
      status: 488,
      code: 'srtp-no-suite', reason: /suite we run/,
    },
    {
      name: 'RTP/SAVP with a short key',
      offer: sdp(...head, 'm=audio 4000 RTP/SAVP 0', `a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${Buffer.alloc(16, 1).toString('base64')}`),
      over: { srtp: 'optional' },
      status: 488,
      code: 'srtp-no-suite', reason: /plain inline key/,
    },
  ];

  it.each(cases)('$name → $status $code, and nothing changes', (c) => {
    const oa = new OfferAnswer(config(c.over));
    // An agreement first (when the configuration takes Asterisk's offer), which the refusal must leave alone.
    if (oa.receiveOffer(ASTERISK_OFFER).ok) oa.createAnswer({ hold: false, ...PORTS });
    const before = { state: oa.state, negotiated: oa.negotiated, local: oa.localDescription, version: oa.sessionVersion };
    const verdict = oa.receiveOffer(c.offer);
    expect(verdict.ok).toBe(false);
    if (verdict.ok) return;
    expect([verdict.status, verdict.code]).toEqual([c.status, c.code]);
    expect(verdict.reason).toMatch(c.reason);
    expect({ state: oa.state, negotiated: oa.negotiated, local: oa.localDescription, version: oa.sessionVersion }).toEqual(before);
    expect(oa.state).toBe(OfferAnswerState.Stable);
  });

  it('a second offer while one is outstanding is a state error (the session answers 491)', () => {
    const oa = new OfferAnswer(config());
    expect(oa.receiveOffer(ASTERISK_OFFER).ok).toBe(true);
    expect(() => oa.receiveOffer(ASTERISK_OFFER)).toThrow(SdpStateError);
    expect(() => oa.createOffer({ hold: false, ...PORTS })).toThrow(SdpStateError);
  });

  it('a configuration that cannot work throws SdpConfigError naming the field', () => {
    expect(() => new OfferAnswer(config({ codecs: [] }))).toThrow(SdpConfigError);
    expect(() => new OfferAnswer(config({ address: '0.0.0.0' }))).toThrow(/address/);
    expect(() => new OfferAnswer(config({ address: 'phone.local' }))).toThrow(/address/);
    expect(() => new OfferAnswer(config({ codecs: [{ ...PCMU, name: 'GSM' as 'PCMU' }] }))).toThrow(/codecs\[0\]\.name/);
  });
});

describe('our offer', () => {
  it('lists our codecs in order, telephone-event per clock rate, CN, ptime/maxptime, a=rtcp, rtcp-mux', () => {
    const oa = new OfferAnswer(config({ maxptimeMs: 60 }));
    const l = lines(oa.createOffer({ hold: false, rtpPort: 40000 }));
    expect(l[0]).toBe('v=0');
    expect(l[1]).toMatch(/^o=- \d+ 1 IN IP4 192\.0\.2\.1$/);
    expect(l).toContain('c=IN IP4 192.0.2.1');
    expect(l).toContain('m=audio 40000 RTP/AVP 96 0 8 97 101 13');
    expect(l).toEqual(
      expect.arrayContaining([
        'a=rtpmap:96 opus/48000/2',
        'a=fmtp:96 minptime=10;useinbandfec=1;usedtx=0;maxplaybackrate=16000',
        'a=rtpmap:0 PCMU/8000',
        'a=rtpmap:8 PCMA/8000',
        'a=rtpmap:97 telephone-event/48000',
        'a=rtpmap:101 telephone-event/8000',
        'a=fmtp:101 0-15',
        'a=rtpmap:13 CN/8000',
        'a=rtcp:40001',
        'a=ptime:20',
        'a=maxptime:60',
        'a=sendrecv',
        'a=rtcp-mux',
      ]),
    );
    expect(l.some((x) => x.startsWith('a=crypto'))).toBe(false);
    expect(oa.state).toBe(OfferAnswerState.HaveLocalOffer);
  });

  it('G.711 only: no 48 kHz telephone-event; telephone-event and CN can be turned off', () => {
    const oa = new OfferAnswer(config({ codecs: [PCMA, PCMU] }));
    expect(lines(oa.createOffer({ hold: false, ...PORTS }))).toContain('m=audio 40000 RTP/AVP 8 0 101 13');
    const bare = new OfferAnswer(config({ codecs: [PCMA], telephoneEvent: false, comfortNoise: false, rtcpMux: false }));
    const l = lines(bare.createOffer({ hold: false, ...PORTS }));
    expect(l).toContain('m=audio 40000 RTP/AVP 8');
    expect(l).not.toContain('a=rtcp-mux');
  });

  it.each([
    ['optional', 'RTP/AVP'],
    ['mandatory', 'RTP/SAVP'],
  ] as const)('SRTP %s: %s with one a=crypto per suite, each its own 30-octet key from the random source', (mode, proto) => {
    const oa = new OfferAnswer(config({ srtp: mode, randomBytes: countingBytes(7) }));
    const l = lines(oa.createOffer({ hold: false, ...PORTS }));
    expect(l.find((x) => x.startsWith('m=audio'))).toBe(`m=audio 40000 ${proto} 96 0 8 97 101 13`);
    const crypto = l.filter((x) => x.startsWith('a=crypto:'));
    expect(crypto.map((x) => x.replace(/inline:.*/, ''))).toEqual(['a=crypto:1 AES_CM_128_HMAC_SHA1_80 ', 'a=crypto:2 AES_CM_128_HMAC_SHA1_32 ']);
    const keys = crypto.map((x) => x.replace(/.*inline:/, ''));
    expect(keys.map((k) => Buffer.from(k, 'base64').length)).toEqual([30, 30]);
    expect(keys[0]).not.toBe(keys[1]);
    // The bytes after the 6 of the session id: 7+6 = 13 up.
    expect(Buffer.from(keys[0]!, 'base64')[0]).toBe(13);
  });

  it('IPv6: o= and c= say IP6', () => {
    const oa = new OfferAnswer(config({ address: '2001:db8::1' }));
    const l = lines(oa.createOffer({ hold: false, ...PORTS }));
    expect(l[1]).toMatch(/^o=- \d+ 1 IN IP6 2001:db8::1$/);
    expect(l).toContain('c=IN IP6 2001:db8::1');
  });
});

describe('o= version (RFC 3264 §8)', () => {
  const answerFor = (offer: string): string =>
    sdp('v=0', 'o=- 9 9 IN IP4 192.0.2.50', 's=-', 'c=IN IP4 192.0.2.50', 't=0 0', 'm=audio 9000 RTP/AVP 0 101', 'a=rtpmap:101 telephone-event/8000', offer.includes('a=sendonly') ? 'a=recvonly' : 'a=sendrecv');

  it('stays for an unchanged re-offer, moves by one for each change, with the same session id', () => {
    const oa = new OfferAnswer(config());
    const versionOf = (text: string): [string, number] => {
      const o = parse(text).origin;
      return [String(o.sessionId), o.sessionVersion];
    };
    const o1 = oa.createOffer({ hold: false, ...PORTS });
    expect(oa.receiveAnswer(answerFor(o1)).ok).toBe(true);
    const o2 = oa.createOffer({ hold: false, ...PORTS }); // session refresh
    expect(o2).toBe(o1);
    oa.receiveAnswer(answerFor(o2));
    const o3 = oa.createOffer({ hold: true, ...PORTS });
    oa.receiveAnswer(answerFor(o3));
    const o4 = oa.createOffer({ hold: false, ...PORTS });
    oa.receiveAnswer(answerFor(o4));
    expect([o1, o2, o3, o4].map(versionOf)).toEqual([
      [oa.sessionId, 1],
      [oa.sessionId, 1],
      [oa.sessionId, 2],
      [oa.sessionId, 3],
    ]);
  });

  it('answers share the counter: an unchanged re-offer from the peer gets the same answer', () => {
    const oa = new OfferAnswer(config());
    oa.receiveOffer(ASTERISK_OFFER);
    const a1 = oa.createAnswer({ hold: false, ...PORTS }).sdp;
    oa.receiveOffer(ASTERISK_OFFER);
    const a2 = oa.createAnswer({ hold: false, ...PORTS }).sdp;
    oa.receiveOffer(ASTERISK_OFFER);
    const a3 = oa.createAnswer({ hold: true, ...PORTS }).sdp;
    const o4 = oa.createOffer({ hold: true, ...PORTS });
    expect(a2).toBe(a1);
    expect([a1, a3, o4].map((t) => parse(t).origin.sessionVersion)).toEqual([1, 2, 3]);
  });

  it('a refused offer of ours still used its version: the next different one goes beyond it', () => {
    const oa = new OfferAnswer(config());
    const o1 = oa.createOffer({ hold: false, ...PORTS });
    oa.receiveAnswer(answerFor(o1));
    oa.createOffer({ hold: true, ...PORTS }); // version 2, refused with 488
    oa.rollback();
    expect(oa.negotiated?.localHold).toBe(false);
    const o3 = oa.createOffer({ hold: false, rtpPort: 40010 });
    expect(parse(o3).origin.sessionVersion).toBe(3);
  });
});

describe('hold (RFC 3264 §6.1, §8.4)', () => {
  it.each([
    ['sendrecv', false, 'sendrecv', false],
    ['sendonly', false, 'recvonly', true],
    ['recvonly', false, 'sendonly', false],
    ['inactive', false, 'inactive', true],
    ['sendrecv', true, 'sendonly', false],
    ['sendonly', true, 'inactive', true],
    ['recvonly', true, 'sendonly', false],
    ['inactive', true, 'inactive', true],
  ] as const)('peer offers %s, our hold %s → we answer %s (peer holds us: %s)', (offered, hold, answered, remoteHold) => {
    const { sdp: answer, n } = answerTo(plainOffer(offered), {}, hold);
    expect(n.direction).toBe(answered);
    expect(lines(answer)).toContain(`a=${answered}`);
    expect(n.remoteHold).toBe(remoteHold);
    expect(n.localHold).toBe(hold);
  });

  it('our hold offer is sendonly, or inactive while the peer holds us; resuming offers sendrecv', () => {
    const oa = new OfferAnswer(config({ codecs: [PCMU] }));
    expect(oa.receiveOffer(plainOffer('sendonly')).ok).toBe(true);
    oa.createAnswer({ hold: false, ...PORTS });
    expect(oa.remoteHold).toBe(true);
    expect(lines(oa.createOffer({ hold: true, ...PORTS }))).toContain('a=inactive');
    expect(oa.receiveAnswer(plainOffer('inactive')).ok).toBe(true);
    expect(oa.negotiated?.direction).toBe('inactive');
    expect(lines(oa.createOffer({ hold: false, ...PORTS }))).toContain('a=sendrecv');
    // The peer resumed meanwhile and answers sendrecv.
    const ok = oa.receiveAnswer(plainOffer('sendrecv'));
    expect(ok.ok && ok.negotiated.direction).toBe('sendrecv');
    expect(oa.remoteHold).toBe(false);
    expect(lines(oa.createOffer({ hold: true, ...PORTS }))).toContain('a=sendonly');
    // A sloppy answer (sendrecv to our sendonly) does not make us receive.
    const sloppy = oa.receiveAnswer(plainOffer('sendrecv'));
    expect(sloppy.ok && sloppy.negotiated.direction).toBe('sendonly');
  });

  it('an answer with c=0.0.0.0 holds us', () => {
    const oa = new OfferAnswer(config({ codecs: [PCMU] }));
    oa.createOffer({ hold: false, ...PORTS });
    const v = oa.receiveAnswer(OLD_HOLD_OFFER);
    expect(v.ok && [v.negotiated.direction, v.negotiated.remoteHold]).toEqual(['recvonly', true]);
  });
});

describe("taking the peer's answer", () => {
  const head = ['v=0', 'o=- 5 5 IN IP4 192.0.2.60', 's=-', 'c=IN IP4 192.0.2.60', 't=0 0'];

  it('takes the codec it chose, its telephone-event at that rate, rtcp-mux, and its payload type when it renumbers', () => {
    const oa = new OfferAnswer(config());
    oa.createOffer({ hold: false, ...PORTS });
    const v = oa.receiveAnswer(
      sdp(...head, 'm=audio 8000 RTP/AVP 98 99', 'a=rtpmap:98 opus/48000/2', 'a=fmtp:98 useinbandfec=1', 'a=rtpmap:99 telephone-event/48000', 'a=rtcp-mux', 'a=ptime:40'),
    );
    expect(v.ok).toBe(true);
    if (!v.ok) return;
    expect(v.negotiated.codec).toMatchObject({ name: 'opus', payloadType: 98, localPayloadType: 96, fmtp: { useinbandfec: '1' } });
    expect(v.negotiated.telephoneEventPayloadType).toBe(99);
    expect(v.negotiated.rtcpMux).toBe(true);
    expect(v.negotiated.local).toEqual({ address: '192.0.2.1', port: 40000, rtcpPort: 40000 });
    expect(v.negotiated.remote).toEqual({ address: '192.0.2.60', port: 8000, rtcpPort: 8000 });
    expect(v.negotiated.ptimeMs).toBe(40);
    expect(oa.state).toBe(OfferAnswerState.Stable);
  });

  it('a ptime our codec cannot do is not followed', () => {
    const oa = new OfferAnswer(config());
    oa.createOffer({ hold: false, ...PORTS });
    const v = oa.receiveAnswer(sdp(...head, 'm=audio 8000 RTP/AVP 96', 'a=rtpmap:96 opus/48000/2', 'a=ptime:30'));
    expect(v.ok && v.negotiated.ptimeMs).toBe(20);
  });

  it('SRTP: two OfferAnswers agree on a tag and hold each other\'s keys crossed', () => {
    const a = new OfferAnswer(config({ srtp: 'mandatory', randomBytes: countingBytes(1) }));
    const b = new OfferAnswer(config({ address: '192.0.2.2', srtp: 'optional', srtpSuites: ['AES_CM_128_HMAC_SHA1_32'], randomBytes: countingBytes(100) }));
    const offer = a.createOffer({ hold: false, ...PORTS });
    expect(b.receiveOffer(offer)).toEqual({ ok: true, rtcpMux: true, srtp: true });
    const answer = b.createAnswer({ hold: false, rtpPort: 50000 });
    const v = a.receiveAnswer(answer.sdp);
    expect(v.ok).toBe(true);
    if (!v.ok) return;
    const sa = v.negotiated.srtp!;
    const sb = answer.negotiated.srtp!;
    expect([sa.tag, sa.suite, sb.tag, sb.suite]).toEqual([2, 'AES_CM_128_HMAC_SHA1_32', 2, 'AES_CM_128_HMAC_SHA1_32']);
    expect(sa.localKey).toBe(sb.remoteKey);
    expect(sa.remoteKey).toBe(sb.localKey);
    expect(sa.localKey).not.toBe(sa.remoteKey);
  });

  it('answers from two forks to one offer: each is taken until the offer is closed', () => {
    const oa = new OfferAnswer(config({ codecs: [PCMU] }));
    oa.createOffer({ hold: false, ...PORTS });
    const f1 = oa.receiveAnswer(plainOffer('sendrecv', 7000));
    const f2 = oa.receiveAnswer(plainOffer('sendrecv', 7100));
    expect(f1.ok && f1.negotiated.remote.port).toBe(7000);
    expect(f2.ok && f2.negotiated.remote.port).toBe(7100);
    oa.closeOffer();
    expect(() => oa.receiveAnswer(plainOffer('sendrecv', 7200))).toThrow(SdpStateError);
  });

  const mismatches: { name: string; over?: Partial<SdpConfig>; answer: string; status?: number }[] = [
    { name: 'two m-lines for our one', answer: sdp(...head, 'm=audio 8000 RTP/AVP 0', 'm=video 0 RTP/AVP 96') },
    { name: 'the audio rejected (port 0)', answer: sdp(...head, 'm=audio 0 RTP/AVP 0') },
    { name: 'a codec we did not offer', answer: sdp(...head, 'm=audio 8000 RTP/AVP 18', 'a=rtpmap:18 G729/8000') },
    { name: 'RTP/SAVP to our RTP/AVP', answer: sdp(...head, 'm=audio 8000 RTP/SAVP 0', `a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${KEY_A}`) },
    { name: 'RTP/SAVP without a=crypto', over: { srtp: 'mandatory' }, answer: sdp(...head, 'm=audio 8000 RTP/SAVP 0') },
    { name: 'a crypto tag we did not offer', over: { srtp: 'mandatory' }, answer: sdp(...head, 'm=audio 8000 RTP/SAVP 0', `a=crypto:9 AES_CM_128_HMAC_SHA1_80 inline:${KEY_A}`) },
    { name: 'our tag with the other suite', over: { srtp: 'optional' }, answer: sdp(...head, 'm=audio 8000 RTP/AVP 0', `a=crypto:1 AES_CM_128_HMAC_SHA1_32 inline:${KEY_A}`) },
    { name: 'a broken body', answer: 'v=0\r\nm=audio', status: 400 },
  ];

  it.each(mismatches)('refuses $name, and stays waiting for a good one', (c) => {
    const oa = new OfferAnswer(config(c.over));
    oa.createOffer({ hold: false, ...PORTS });
    const v = oa.receiveAnswer(c.answer);
    expect(v.ok).toBe(false);
    if (v.ok) return;
    expect(v.status).toBe(c.status ?? 488);
    expect(oa.state).toBe(OfferAnswerState.HaveLocalOffer);
    expect(oa.negotiated).toBeUndefined();
  });

  it('optional SRTP: a plain answer without crypto is plain RTP', () => {
    const oa = new OfferAnswer(config({ srtp: 'optional' }));
    oa.createOffer({ hold: false, ...PORTS });
    const v = oa.receiveAnswer(sdp(...head, 'm=audio 8000 RTP/AVP 0'));
    expect(v.ok && v.negotiated.srtp).toBeUndefined();
  });
});

describe('late offer and rollback', () => {
  it('INVITE without SDP: we offer in the 200 and take the answer from the ACK', () => {
    const uas = new OfferAnswer(config({ codecs: [PCMA, PCMU] }));
    const uac = new OfferAnswer(config({ address: '192.0.2.2', codecs: [PCMU, PCMA] }));
    const offerIn200 = uas.createOffer({ hold: false, rtpPort: 41000 });
    expect(uac.receiveOffer(offerIn200).ok).toBe(true);
    const answerInAck = uac.createAnswer({ hold: false, rtpPort: 42000 });
    const v = uas.receiveAnswer(answerInAck.sdp);
    expect(v.ok).toBe(true);
    if (!v.ok) return;
    // The UAC answers in its own preference order among what we offered.
    expect([v.negotiated.codec.name, answerInAck.negotiated.codec.name]).toEqual(['PCMU', 'PCMU']);
    expect(v.negotiated.remote.port).toBe(42000);
    expect(answerInAck.negotiated.remote.port).toBe(41000);
    expect([uas.state, uac.state]).toEqual([OfferAnswerState.Stable, OfferAnswerState.Stable]);
  });

  it('rollback of our refused re-offer restores the last agreement; of an untaken peer offer, the stable state', () => {
    const oa = new OfferAnswer(config({ codecs: [PCMU] }));
    oa.receiveOffer(ASTERISK_OFFER);
    const agreed = oa.createAnswer({ hold: false, ...PORTS });
    oa.createOffer({ hold: true, ...PORTS });
    expect(oa.pendingDescription).toContain('a=sendonly');
    oa.rollback();
    expect(oa.state).toBe(OfferAnswerState.Stable);
    expect(oa.negotiated).toEqual(agreed.negotiated);
    expect(oa.localDescription).toBe(agreed.sdp);
    expect(oa.receiveOffer(plainOffer('inactive')).ok).toBe(true);
    oa.rollback();
    expect(oa.state).toBe(OfferAnswerState.Stable);
    expect(oa.negotiated).toEqual(agreed.negotiated);
    expect(() => oa.createAnswer({ hold: false, ...PORTS })).toThrow(SdpStateError);
  });

  it('rollback of an initial offer after an early answer forgets that answer', () => {
    const oa = new OfferAnswer(config({ codecs: [PCMU] }));
    oa.createOffer({ hold: false, ...PORTS });
    expect(oa.receiveAnswer(plainOffer('sendrecv')).ok).toBe(true);
    oa.rollback();
    expect(oa.negotiated).toBeUndefined();
    expect(oa.state).toBe(OfferAnswerState.Stable);
  });
});
