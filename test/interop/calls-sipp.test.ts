// The phone's calls against the SIPp call scenarios (sipp/*.xml, CALL_SCENARIOS): forking, 183 early media, 3xx and a redirect loop, 491 glare both ways, session timer refresh and expiry, PRACK, INFO DTMF, unsolicited MWI and MESSAGE through Kamailio, and an INVITE straight from a stranger (403, no ringing).
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MwiSummary, SessionProgress, UaMessage } from '../../firmware/sip/ua/index.js';
import type { SessionDtmfEvent } from '../../firmware/sip/ua/call/session-features.js';
import { type KamailioInstance, startKamailio } from './support/kamailio.js';
import { type OffhookPhone, type OffhookPhoneOptions, callEnded, callUp, eventually, startOffhookPhone } from './support/offhook-phone.js';
import { CALL_SCENARIOS, redirectLoopInvites, sippDelayMs, sippLadder, uacTowardsPhone } from './support/sipp-calls.js';
import { runSipp, startSipp } from './support/sipp.js';

/** SIPp's uas-tone.pcmu.wav (support/sipp.ts): 1000 Hz. The phones play 700 Hz, clear of it. */
const SIPP_TONE_HZ = 1000;
const PHONE_TONE_HZ = 700;

/** A phone for one test, stopped when it is done. Direct (not registered) unless `kamailio` is given. */
async function withPhone<T>(options: Partial<OffhookPhoneOptions>, fn: (p: OffhookPhone) => Promise<T>): Promise<T> {
  const p = await startOffhookPhone({ user: '1003', toneHz: PHONE_TONE_HZ, ...options });
  try {
    return await fn(p);
  } finally {
    for (const s of p.test.ua.sessions) s.hangup();
    await p.stop();
  }
}

/** A phone SIPp calls straight at its address (calls from anyone accepted). */
const direct = { calls: { acceptCallsFrom: 'any' as const } };

/** The responses the phone sent to INVITEs, by status ("100", "180", "200"...). */
function inviteResponses(p: OffhookPhone): string[] {
  return p.test
    .messages()
    .filter((m) => m.direction === 'out' && m.message.kind === 'response' && m.message.cseq.method === 'INVITE')
    .map((m) => (m.message.kind === 'response' ? String(m.message.status) : ''));
}

// Long scenarios first: it.concurrent runs 5 at a time in declaration order, so the two session
// timer calls (~45 s and ~60 s) run beside all the others.
describe.concurrent('the phone against the SIPp call scenarios', () => {
  let kamailio: KamailioInstance | undefined;
  beforeAll(async () => {
    kamailio = await startKamailio();
  });
  afterAll(async () => {
    await kamailio?.stop();
  });
  const k = (): KamailioInstance => {
    if (!kamailio) throw new Error('kamailio did not start (see beforeAll)');
    return kamailio;
  };

  it('uas-session-timer: Supported: timer in the INVITE; the phone refreshes the 90 s session at about 45 s', async () => {
    await withPhone({}, async (p) => {
      const sipp = await startSipp({ scenario: 'uas-session-timer', service: '1002', pauseMs: 300, timeoutMs: CALL_SCENARIOS['uas-session-timer'].timeoutMs });
      try {
        const call = p.test.ua.call(`sip:1002@${sipp.hostPort}`);
        await callUp(call, 5000);
        expect(p.test.sent('INVITE')[0]?.get('Supported')).toMatch(/\btimer\b/);
        const r = await sipp.done;
        expect(r.ok, r.summary).toBe(true);
        const delay = sippDelayMs(r.actionLog, CALL_SCENARIOS['uas-session-timer'].delayLog);
        // RFC 4028 §10: the refresher refreshes at half the interval
        expect(delay).toBeGreaterThan(40_000);
        expect(delay).toBeLessThan(50_000);
        expect(await callEnded(call, 5000)).toMatchObject({ kind: 'remote-hangup' });
      } finally {
        await sipp.stop();
      }
    });
  }, 90_000);

  it('uac-session-timer-expiry: 200 keeps Session-Expires: 90;refresher=uac with Require: timer; nobody refreshes, the phone sends BYE at about 60 s', async () => {
    await withPhone(direct, async (p) => {
      const sipp = runSipp(uacTowardsPhone('uac-session-timer-expiry', '1003', { direct: p.hostPort }));
      const incoming = await p.waitForIncoming(5000);
      await incoming.accept();
      await callUp(incoming, 5000);
      const ok = p.test.messages().find((m) => m.direction === 'out' && m.message.kind === 'response' && m.message.status === 200 && m.message.cseq.method === 'INVITE')?.message;
      expect(ok?.get('Session-Expires')).toMatch(/^90;\s*refresher=uac$/);
      expect(ok?.get('Require')).toMatch(/\btimer\b/);
      expect(await callEnded(incoming, 95_000)).toMatchObject({ kind: 'session-expired' });
      const r = await sipp;
      expect(r.ok, r.summary).toBe(true);
      const delay = sippDelayMs(r.actionLog, CALL_SCENARIOS['uac-session-timer-expiry'].delayLog);
      // RFC 4028 §10: 90 − min(32, 90/3) = 60 s
      expect(delay).toBeGreaterThan(55_000);
      expect(delay).toBeLessThan(65_000);
    });
  }, 110_000);

  it('uas-forking: ACK of B’s 200, then ACK and BYE of A’s later 200; the call stays with B until its BYE', async () => {
    await withPhone({}, async (p) => {
      const sipp = await startSipp({ scenario: 'uas-forking', service: '1002', pauseMs: 1500 });
      try {
        const call = p.test.ua.call(`sip:1002@${sipp.hostPort}`);
        await callUp(call, 5000);
        expect(await callEnded(call, 10_000)).toMatchObject({ kind: 'remote-hangup' });
        const r = await sipp.done;
        expect(r.ok, r.summary).toBe(true);
        expect(sippLadder(r.messageLog)).toEqual(['< INVITE', '> 100 INVITE', '> 180 INVITE', '> 183 INVITE', '> 200 INVITE', '< ACK', '> 200 INVITE', '< ACK', '< BYE', '> 200 BYE', '> BYE', '< 200 BYE']);
        // the media went to B (the first 2xx, port -mp), never to A (-mp + 2)
        expect(p.test.sent('BYE')).toHaveLength(1);
      } finally {
        await sipp.stop();
      }
    });
  }, 30_000);

  it('uas-early-media: the 183’s 1000 Hz is heard before the 200 (progress earlyMedia: true), no PRACK or CANCEL', async () => {
    await withPhone({}, async (p) => {
      const sipp = await startSipp({ scenario: 'uas-early-media', service: '1002', pauseMs: 500 });
      try {
        const call = p.test.ua.call(`sip:1002@${sipp.hostPort}`);
        const progress: (SessionProgress & { atMs: number })[] = [];
        call.on('progress', (e) => progress.push({ ...e, atMs: p.playedMs() }));
        let answeredAtMs = 0;
        call.on('accepted', () => (answeredAtMs = p.playedMs()));
        await callUp(call, 8000);
        const early = progress.find((e) => e.earlyMedia);
        expect(progress.map((e) => `${e.status} ${e.earlyMedia}`)).toEqual(['183 true']);
        if (!early) throw new Error('no early media');
        // SIPp sends 2 s of tone between its 183 and its 200: the phone played it before the answer
        expect(answeredAtMs - early.atMs).toBeGreaterThan(1500);
        await eventually(() => p.playedMs() > answeredAtMs, 2000, 'the WAV reaching the answer');
        // at least a second of it (blocks of 100 ms holding mostly 1000 Hz, at SIPp's −6 dBFS) before the 200
        const before = p.heard(SIPP_TONE_HZ, early.atMs, answeredAtMs);
        const blocks = p.heardBlocks(SIPP_TONE_HZ, early.atMs, answeredAtMs);
        expect(Math.round(before.goodFraction * before.blocks), blocks).toBeGreaterThanOrEqual(10);
        expect(before.minLevelDbfs < -40 || before.meanLevelDbfs > -20, blocks).toBe(true);
        expect(await callEnded(call, 8000)).toMatchObject({ kind: 'remote-hangup' });
        const r = await sipp.done;
        expect(r.ok, r.summary).toBe(true);
        expect(sippLadder(r.messageLog).slice(0, 4)).toEqual(['< INVITE', '> 100 INVITE', '> 183 INVITE', '> 200 INVITE']);
        expect(sippLadder(r.messageLog).filter((l) => /PRACK|CANCEL/.test(l))).toEqual([]);
      } finally {
        await sipp.stop();
      }
    });
  }, 30_000);

  it('uas-redirect: ACK of the 302, then the call to its Contact (a second SIPp) is answered', async () => {
    await withPhone({}, async (p) => {
      const target = await startSipp({ scenario: 'uas-answer', service: '1002', pauseMs: 800 });
      const redirector = await startSipp({ scenario: 'uas-redirect', service: '1004', keys: { redirect_to: `1002@${target.hostPort}` } });
      try {
        const call = p.test.ua.call(`sip:1004@${redirector.hostPort}`);
        await callUp(call, 8000);
        expect(call.remote.uri.toString()).toBe(`sip:1004@${redirector.hostPort}`);
        expect(p.test.sent('INVITE').map((i) => i.uri.toString())).toEqual([`sip:1004@${redirector.hostPort}`, `sip:1002@${target.hostPort}`]);
        expect(await callEnded(call, 8000)).toMatchObject({ kind: 'remote-hangup' });
        const [r, t] = await Promise.all([redirector.done, target.done]);
        expect(r.ok, r.summary).toBe(true);
        expect(t.ok, t.summary).toBe(true);
      } finally {
        await Promise.all([target.stop(), redirector.stop()]);
      }
    });
  }, 30_000);

  it('uas-redirect-loop: every 302 ACKed, the phone stops at its limit (maxRedirects 5: six INVITEs) as redirect-failed', async () => {
    await withPhone({}, async (p) => {
      const sipp = await startSipp({ scenario: 'uas-redirect-loop', service: '1002', calls: 20, timeoutMs: CALL_SCENARIOS['uas-redirect-loop'].timeoutMs });
      try {
        const call = p.test.ua.call(`sip:1002@${sipp.hostPort}`);
        expect(await callEnded(call, 15_000)).toMatchObject({ kind: 'redirect-failed' });
        expect(p.test.sent('INVITE')).toHaveLength(6);
        expect(p.test.sent('ACK')).toHaveLength(6);
        // each of SIPp's calls ends 3 s after its last ACK; then it has nothing more to say
        await sleep(3500);
        const r = await sipp.stop();
        expect(redirectLoopInvites(r.actionLog)).toBe(6);
        expect(r.stats?.failed, r.summary).toBe(0);
      } finally {
        await sipp.stop();
      }
    });
  }, 30_000);

  it('uas-glare: the phone’s re-INVITE (hold) gets 491; it owns the Call-ID and tries again 2.1–4 s later; hold succeeds', async () => {
    await withPhone({}, async (p) => {
      const sipp = await startSipp({ scenario: 'uas-glare', service: '1002', pauseMs: 500, timeoutMs: CALL_SCENARIOS['uas-glare'].timeoutMs });
      try {
        const call = p.test.ua.call(`sip:1002@${sipp.hostPort}`);
        await callUp(call, 5000);
        await sipp.waitForLog(/ACK received, call up/, 5000);
        const held = await call.hold();
        expect(held).toEqual({ ok: true, held: { local: true, remote: false } });
        expect(await callEnded(call, 8000)).toMatchObject({ kind: 'remote-hangup' });
        const r = await sipp.done;
        expect(r.ok, r.summary).toBe(true);
        const delay = sippDelayMs(r.actionLog, CALL_SCENARIOS['uas-glare'].delayLog) ?? 0;
        expect(delay).toBeGreaterThanOrEqual(2100);
        expect(delay).toBeLessThanOrEqual(4300);
      } finally {
        await sipp.stop();
      }
    });
  }, 45_000);

  it('uac-reinvite-glare: SIPp calls, the phone’s re-INVITE gets 491; not the Call-ID owner, it retries within 2 s', async () => {
    await withPhone(direct, async (p) => {
      const sipp = runSipp(uacTowardsPhone('uac-reinvite-glare', '1003', { direct: p.hostPort }, { pauseMs: 500 }));
      const incoming = await p.waitForIncoming(5000);
      await incoming.accept();
      await callUp(incoming, 5000);
      const [held, r] = await Promise.all([incoming.hold(), sipp]);
      const what = `${r.summary}\n${sippLadder(r.messageLog).join(', ')}`;
      expect(held, what).toEqual({ ok: true, held: { local: true, remote: false } });
      expect(r.ok, what).toBe(true);
      expect(await callEnded(incoming, 8000)).toMatchObject({ kind: 'remote-hangup' });
      const delay = sippDelayMs(r.actionLog, CALL_SCENARIOS['uac-reinvite-glare'].delayLog) ?? -1;
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThanOrEqual(2300);
    });
  }, 45_000);

  it('uac-prack: Require: 100rel gets a reliable 180 (RSeq), retransmitted until the PRACK; 200 for the PRACK, then for the INVITE', async () => {
    await withPhone(direct, async (p) => {
      const sipp = runSipp(uacTowardsPhone('uac-prack', '1003', { direct: p.hostPort }, { pauseMs: 300 }));
      const incoming = await p.waitForIncoming(5000);
      await eventually(() => p.test.messages().some((m) => m.direction === 'in' && m.message.kind === 'request' && m.message.method === 'PRACK'), 5000, 'the PRACK');
      const ringing = p.test.messages().find((m) => m.direction === 'out' && m.message.kind === 'response' && m.message.status === 180)?.message;
      expect(ringing?.get('Require')).toMatch(/\b100rel\b/);
      expect(ringing?.get('RSeq')).toMatch(/^\d+$/);
      await incoming.accept();
      await callUp(incoming, 5000);
      expect(await callEnded(incoming, 8000)).toMatchObject({ kind: 'remote-hangup' });
      const r = await sipp;
      expect(r.ok, r.summary).toBe(true);
      expect(r.messageLog).toMatch(/^RAck: \d+ \d+ INVITE\r?$/m);
      const statuses = inviteResponses(p);
      expect(statuses.indexOf('200')).toBeGreaterThan(statuses.indexOf('180'));
    });
  }, 30_000);

  it('uac-unknown-source: an INVITE straight to the registered phone from another port of 127.0.0.1 gets 403 and never rings', async () => {
    await withPhone({ kamailio: k() }, async (p) => {
      const r = await runSipp(uacTowardsPhone('uac-unknown-source', '1003', { direct: p.hostPort }));
      expect(r.ok, r.summary).toBe(true);
      expect(p.incoming).toEqual([]);
      expect(inviteResponses(p).filter((s) => s !== '100')).toEqual(['403']);
    });
  }, 20_000);

  it('uac-call-dtmf-info through Kamailio: 200 for each INFO, the keys 1 5 * # reported in order', async () => {
    await withPhone({ user: '1004', kamailio: k() }, async (p) => {
      const sipp = runSipp(uacTowardsPhone('uac-call-dtmf-info', '1004', { kamailio: k().hostPort, caller: '1001' }, { pauseMs: 300 }));
      const incoming = await p.waitForIncoming(8000);
      expect(incoming.remote.number).toBe('1001');
      const keys: SessionDtmfEvent[] = [];
      incoming.on('dtmf', (e) => keys.push(e));
      await incoming.accept();
      expect(await callEnded(incoming, 10_000)).toMatchObject({ kind: 'remote-hangup' });
      const r = await sipp;
      expect(r.ok, r.summary).toBe(true);
      expect(keys).toEqual(['1', '5', '*', '#'].map((digit) => ({ digit, durationMs: 160, via: 'info' })));
    });
  }, 30_000);

  it('uac-notify-mwi through Kamailio: 200 for the unsolicited NOTIFY, and the mwi event says 2 new / 8 old', async () => {
    await withPhone({ user: '1001', kamailio: k() }, async (p) => {
      const mwi: MwiSummary[] = [];
      p.test.ua.on('mwi', (s) => mwi.push(s));
      const r = await runSipp(uacTowardsPhone('uac-notify-mwi', '1001', { kamailio: k().hostPort, caller: '1004' }));
      expect(r.ok, r.summary).toBe(true);
      expect(mwi).toMatchObject([{ accountId: 'line', waiting: true, newVoice: 2, oldVoice: 8, source: 'unsolicited' }]);
    });
  }, 20_000);

  it('uac-message through Kamailio: 200 for the MESSAGE, and the message event has its text', async () => {
    await withPhone({ user: '1002', kamailio: k() }, async (p) => {
      const messages: UaMessage[] = [];
      p.test.ua.on('message', (m) => messages.push(m));
      const r = await runSipp(uacTowardsPhone('uac-message', '1002', { kamailio: k().hostPort, caller: '1004' }));
      expect(r.ok, r.summary).toBe(true);
      expect(messages).toMatchObject([{ accountId: 'line', inDialog: false }]);
      expect(messages[0]?.body.trim()).toBe('Hello from SIPp, message 1');
      expect(messages[0]?.from.uri).toMatch(/^sip:1004@test\.local/);
    });
  }, 20_000);
});
