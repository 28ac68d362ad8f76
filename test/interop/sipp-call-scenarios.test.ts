// Self-tests of the SIPp call scenarios (forking, early media, 3xx, 491 glare, session timer, PRACK, unknown source, INFO, MWI, MESSAGE): each runs against a SIPp stand-in for a correct phone (sipp/selftest/), directly and through Kamailio, and fails against a wrong one.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type KamailioInstance, startKamailio } from './support/kamailio.js';
import { CALL_SCENARIOS, redirectLoopInvites, sippDelayMs, sippLadder, startRegisteredSipp, uacTowardsPhone } from './support/sipp-calls.js';
import { SIPP_SCENARIO_DIR, type SippOptions, type SippResult, runSipp, startSipp } from './support/sipp.js';

/** Runs a UAS in the background and a UAC against it; both results, the UAS stopped by pid if it is still up. */
async function pair(uas: SippOptions, uac: (hostPort: string) => SippOptions, uasGraceMs = 3000): Promise<{ uas: SippResult; uac: SippResult }> {
  const server = await startSipp(uas);
  try {
    const client = await runSipp(uac(server.hostPort));
    const deadline = new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), uasGraceMs));
    const done = (await Promise.race([server.done, deadline])) ?? (await server.stop());
    return { uas: done, uac: client };
  } finally {
    await server.stop();
  }
}

/** A UAC scenario straight at a stand-in (the stand-in's address as the domain). */
const direct = (scenario: string, more: Omit<SippOptions, 'scenario' | 'target' | 'service'> = {}) => (hostPort: string) => uacTowardsPhone(scenario, '1003', { direct: hostPort }, { timeoutMs: 15_000, ...more });

describe('call scenarios: files and catalogue', () => {
  it.each(Object.keys(CALL_SCENARIOS))('%s.xml exists and its header says what it checks', (name) => {
    const file = join(SIPP_SCENARIO_DIR, `${name}.xml`);
    expect(existsSync(file)).toBe(true);
    expect(readFileSync(file, 'utf8')).toMatch(new RegExp(`${name}\\.xml - SIPp|${name}\\.xml - an? `));
  });
});

describe('call scenarios against stand-ins for a correct phone (direct)', () => {
  it.concurrent('uas-forking: ACK B, ACK + BYE of the later 200 from A, BYE of B answered', async () => {
    const r = await pair({ scenario: 'uas-forking', service: '1003', pauseMs: 300 }, direct('selftest/forking-caller'));
    expect(r.uac.ok, r.uac.summary).toBe(true);
    expect(r.uas.ok, r.uas.summary).toBe(true);
    expect(sippLadder(r.uas.messageLog)).toEqual(['< INVITE', '> 100 INVITE', '> 180 INVITE', '> 183 INVITE', '> 200 INVITE', '< ACK', '> 200 INVITE', '< ACK', '< BYE', '> 200 BYE', '> BYE', '< 200 BYE']);
  });

  it.concurrent('uas-forking fails a caller that never ACKs the second 200', async () => {
    const r = await pair({ scenario: 'uas-forking', service: '1003', timeoutMs: 8000 }, direct('uac-call', { pauseMs: 4000 }));
    expect(r.uas.ok).toBe(false);
  });

  it.concurrent('uas-early-media: 183 with SDP and RTP before the 200, BYE from SIPp', async () => {
    const r = await pair({ scenario: 'uas-early-media', service: '1003', pauseMs: 300 }, direct('uac-call', { pauseMs: 8000 }));
    expect(r.uas.ok, r.uas.summary).toBe(true);
    expect(r.uac.ok, r.uac.summary).toBe(true);
    expect(r.uas.actionLog).toMatch(/early-media: 200 OK for our BYE/);
    expect(sippLadder(r.uac.messageLog).slice(0, 4)).toEqual(['> INVITE', '< 100 INVITE', '< 183 INVITE', '< 200 INVITE']);
  });

  it.concurrent('uas-redirect: 302 with the Contact given by redirect_to, ACKed', async () => {
    const r = await pair({ scenario: 'uas-redirect', service: '1003', keys: { redirect_to: '1002@127.0.0.1:5999' } }, direct('selftest/redirect-caller'));
    expect(r.uac.ok, r.uac.summary).toBe(true);
    expect(r.uas.ok, r.uas.summary).toBe(true);
    expect(r.uac.actionLog).toContain('302 CSeq 1, Contact: <sip:1002@127.0.0.1:5999>;q=0.9;expires=60');
  });

  it.concurrent('uas-redirect-loop counts INVITEs in one Call-ID (CSeq 1..3) and in new Call-IDs', async () => {
    // -m 20: SIPp does not exit by itself; each of its calls ends 3 s after its last ACK, so wait 4.5 s before stopping it
    const same = await pair({ scenario: 'uas-redirect-loop', service: '1003', calls: 20 }, direct('selftest/redirect-follower'), 4500);
    expect(same.uac.ok, same.uac.summary).toBe(true);
    expect(redirectLoopInvites(same.uas.actionLog)).toBe(3);
    expect(same.uac.actionLog).toMatch(/Contact: <sip:loop1-xxx@127\.0\.0\.1:\d+;transport=UDP>/);
    const fresh = await pair({ scenario: 'uas-redirect-loop', service: '1003', calls: 20 }, direct('selftest/redirect-caller', { calls: 2 }), 4500);
    expect(fresh.uac.ok, fresh.uac.summary).toBe(true);
    expect(redirectLoopInvites(fresh.uas.actionLog)).toBe(2);
    expect(fresh.uas.stats?.failed, fresh.uas.summary).toBe(0);
  }, 30_000);

  it.concurrent('uas-glare: the Call-ID owner retrying after 2.5 s passes, after 1 s fails', async () => {
    const good = await pair({ scenario: 'uas-glare', service: '1003', pauseMs: 200 }, direct('selftest/glare-caller', { pauseMs: 2500 }));
    expect(good.uas.ok, good.uas.summary).toBe(true);
    expect(good.uac.ok, good.uac.summary).toBe(true);
    expect(sippDelayMs(good.uas.actionLog, CALL_SCENARIOS['uas-glare'].delayLog)).toBeGreaterThanOrEqual(2400);
    const early = await pair({ scenario: 'uas-glare', service: '1003', pauseMs: 200 }, direct('selftest/glare-caller', { pauseMs: 1000 }));
    expect(early.uas.ok).toBe(false);
    expect(early.uas.errorLog).toMatch(/retry_ms:\d+\.\d+ >= :2100/);
  });

  it.concurrent('uac-reinvite-glare: the callee retrying after 1 s passes, after 2.6 s fails', async () => {
    const good = await pair({ scenario: 'selftest/glare-callee', service: '1003', pauseMs: 1000 }, direct('uac-reinvite-glare', { pauseMs: 200 }));
    expect(good.uac.ok, good.uac.summary).toBe(true);
    expect(good.uas.ok, good.uas.summary).toBe(true);
    expect(sippDelayMs(good.uac.actionLog, CALL_SCENARIOS['uac-reinvite-glare'].delayLog)).toBeGreaterThanOrEqual(900);
    const late = await pair({ scenario: 'selftest/glare-callee', service: '1003', pauseMs: 2600, timeoutMs: 8000 }, direct('uac-reinvite-glare', { pauseMs: 200, timeoutMs: 8000 }));
    expect(late.uac.ok).toBe(false);
  });

  it.concurrent.each(['selftest/session-timer-caller', 'selftest/session-timer-caller-update'])('uas-session-timer takes the refresh of %s', async (caller) => {
    const r = await pair({ scenario: 'uas-session-timer', service: '1003', pauseMs: 200 }, direct(caller, { pauseMs: 1000 }));
    expect(r.uas.ok, r.uas.summary).toBe(true);
    expect(r.uac.ok, r.uac.summary).toBe(true);
    expect(r.uas.messageLog).toMatch(/^Session-Expires: 90;refresher=uac\r?$/m);
    expect(r.uas.messageLog).toMatch(/^Require: timer\r?$/m);
    expect(sippDelayMs(r.uas.actionLog, CALL_SCENARIOS['uas-session-timer'].delayLog)).toBeGreaterThanOrEqual(900);
  });

  it.concurrent('uas-session-timer refuses a caller without Supported: timer', async () => {
    const r = await pair({ scenario: 'uas-session-timer', service: '1003', timeoutMs: 5000 }, direct('uac-call', { pauseMs: 300, timeoutMs: 5000 }));
    expect(r.uas.ok).toBe(false);
    expect(r.uas.errorLog).toMatch(/header Supported: not found/);
  });

  it.concurrent('uac-session-timer-expiry: the callee keeps refresher=uac, Require: timer, and hangs up', async () => {
    const r = await pair({ scenario: 'selftest/session-timer-callee', service: '1003', pauseMs: 1000 }, direct('uac-session-timer-expiry'));
    expect(r.uac.ok, r.uac.summary).toBe(true);
    expect(sippDelayMs(r.uac.actionLog, CALL_SCENARIOS['uac-session-timer-expiry'].delayLog)).toBeGreaterThanOrEqual(900);
    const plain = await pair({ scenario: 'uas-answer', service: '1003', pauseMs: 500 }, direct('uac-session-timer-expiry', { timeoutMs: 5000 }));
    expect(plain.uac.ok).toBe(false);
  });

  it.concurrent('uac-prack: PRACK for the reliable 180, then 200; an unreliable 180 fails', async () => {
    const r = await pair({ scenario: 'selftest/prack-callee', service: '1003' }, direct('uac-prack', { pauseMs: 200 }));
    expect(r.uac.ok, r.uac.summary).toBe(true);
    expect(r.uas.ok, r.uas.summary).toBe(true);
    expect(r.uac.messageLog).toMatch(/^RAck: 4711 1 INVITE\r?$/m);
    const unreliable = await pair({ scenario: 'uas-answer', service: '1003', pauseMs: 500, timeoutMs: 5000 }, direct('uac-prack', { timeoutMs: 5000 }));
    expect(unreliable.uac.ok).toBe(false);
  });

  it.concurrent('uac-unknown-source: 403 passes, ringing fails', async () => {
    const r = await pair({ scenario: 'selftest/refuse-403', service: '1003' }, direct('uac-unknown-source'));
    expect(r.uac.ok, r.uac.summary).toBe(true);
    const ringing = await pair({ scenario: 'uas-answer', service: '1003', pauseMs: 500, timeoutMs: 5000 }, direct('uac-unknown-source', { timeoutMs: 5000 }));
    expect(ringing.uac.ok).toBe(false);
  });
});

describe('call scenarios through Kamailio (407, record-routed in-dialog requests, loopback relay)', () => {
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

  it('uac-call-dtmf-info: INFO relayed in the dialog to 1003', async () => {
    const uas = await startRegisteredSipp(k(), '1003', { scenario: 'selftest/callee-info' });
    try {
      const r = await runSipp(uacTowardsPhone('uac-call-dtmf-info', '1003', { kamailio: k().hostPort, caller: '1004' }, { pauseMs: 200, timeoutMs: 15_000 }));
      expect(r.ok, r.summary).toBe(true);
      expect(r.messageLog).toMatch(/SIP\/2\.0 407 /);
      expect(r.messageLog).toMatch(/^INFO sip:[^\n]* SIP\/2\.0\r?\n(?:[^\n]*\n)*?Route: <sip:127\.0\.0\.1:\d+;lr>/m);
      const seen = await uas.done;
      expect(seen.ok, seen.summary).toBe(true);
      expect(seen.actionLog.match(/DTMF (.)/g)).toEqual(['DTMF 1', 'DTMF 5', 'DTMF *', 'DTMF #']);
    } finally {
      await uas.stop();
    }
  });

  it('uac-prack: the PRACK of the early dialog passes the proxy', async () => {
    const uas = await startRegisteredSipp(k(), '1002', { scenario: 'selftest/prack-callee' });
    try {
      const r = await runSipp(uacTowardsPhone('uac-prack', '1002', { kamailio: k().hostPort, caller: '1001' }, { pauseMs: 200, timeoutMs: 15_000 }));
      expect(r.ok, r.summary).toBe(true);
      expect((await uas.done).ok).toBe(true);
    } finally {
      await uas.stop();
    }
  });

  it.each(['uac-notify-mwi', 'uac-message'])('%s out of dialog to a registered user, after a 407', async (scenario) => {
    const uas = await startRegisteredSipp(k(), '1004', { scenario: 'selftest/accept-request' });
    try {
      const r = await runSipp(uacTowardsPhone(scenario, '1004', { kamailio: k().hostPort, caller: '1003' }));
      expect(r.ok, r.summary).toBe(true);
      expect(sippLadder(r.messageLog).filter((l) => !l.includes(' 100 '))).toEqual(scenario === 'uac-message' ? ['> MESSAGE', '< 407 MESSAGE', '> MESSAGE', '< 200 MESSAGE'] : ['> NOTIFY', '< 407 NOTIFY', '> NOTIFY', '< 200 NOTIFY']);
      expect((await uas.done).ok).toBe(true);
    } finally {
      await uas.stop();
    }
  });

  it('a 302 is relayed to the caller, whose INVITE to the loopback Contact is relayed by address', async () => {
    const target = await startSipp({ scenario: 'uas-answer', service: '1002', pauseMs: 200 });
    const redirector = await startRegisteredSipp(k(), '1003', { scenario: 'uas-redirect', keys: { redirect_to: `1002@${target.hostPort}` } });
    try {
      const first = await runSipp(uacTowardsPhone('selftest/redirect-caller', '1003', { kamailio: k().hostPort, caller: '1004' }, { timeoutMs: 8000 }));
      expect(first.ok, first.summary).toBe(true);
      expect(first.actionLog).toContain(`Contact: <sip:1002@${target.hostPort}>`);
      const second = await runSipp(uacTowardsPhone('uac-call', '1002', { kamailio: k().hostPort, caller: '1004', domain: target.hostPort }, { pauseMs: 5000, timeoutMs: 10_000 }));
      expect(second.ok, second.summary).toBe(true);
      expect(second.messageLog).toMatch(/Record-Route: <sip:127\.0\.0\.1:\d+;lr>/);
      expect((await target.done).ok).toBe(true);
    } finally {
      await Promise.all([target.stop(), redirector.stop()]);
    }
  });
});
