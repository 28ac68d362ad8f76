// Session timers (RFC 4028): UAC headers and 422 retries, 2xx processing, the UAS answer and its refresher choice, and the running timer on a virtual clock.
import { describe, expect, it } from 'vitest';
import { createResponse } from '../../../firmware/sip/message/build.js';
import type { SipRequest, SipResponse } from '../../../firmware/sip/message/message.js';
import {
  ABSOLUTE_MIN_SE_S,
  SessionTimer,
  type SessionTimerAgreement,
  SessionTimerNegotiation,
  expiryDelayMs,
  readMinSE,
  readSessionExpires,
  sessionTimerConfig,
} from '../../../firmware/sip/ua/session-timer.js';
import { VirtualClock } from '../../../firmware/util/clock.js';
import { makeRequest } from '../support/sip-builders.js';

function invite(headers: readonly (readonly [string, string])[] = [], cseq = 1): SipRequest {
  return makeRequest({ method: 'INVITE', cseq, headers, contact: 'sip:alice@10.0.0.1' });
}

function response(req: SipRequest, status: number, headers: readonly (readonly [string, string])[] = []): SipResponse {
  return createResponse(req, { status, toTag: 'b-tag', headers });
}

function header(headers: readonly (readonly [string, string])[], name: string): string | undefined {
  return headers.find(([n]) => n === name)?.[1];
}

describe('configuration (RFC 4028 §4, §5)', () => {
  it('defaults to 1800 s and Min-SE 90, and never goes below 90', () => {
    expect(sessionTimerConfig()).toMatchObject({ enabled: true, sessionExpiresS: 1800, minSES: 90 });
    expect(sessionTimerConfig({ minSES: 30, sessionExpiresS: 60 })).toMatchObject({ minSES: 90, sessionExpiresS: 90 });
    expect(sessionTimerConfig({ minSES: 600, sessionExpiresS: 300 })).toMatchObject({ minSES: 600, sessionExpiresS: 600 });
    expect(sessionTimerConfig({ sessionExpiresS: undefined }).sessionExpiresS).toBe(1800);
    expect(() => sessionTimerConfig({ sessionExpiresS: 0 })).toThrow(RangeError);
    expect(() => sessionTimerConfig({ minSES: 1.5 })).toThrow(RangeError);
  });
});

describe('UAC side (RFC 4028 §7)', () => {
  it('asks for the configured interval with Supported, Min-SE and no refresher in the initial INVITE', () => {
    const n = new SessionTimerNegotiation();
    expect(n.requestHeaders()).toEqual([
      ['Supported', 'timer'],
      ['Session-Expires', '1800'],
      ['Min-SE', '90'],
    ]);
    expect(n.requestHeaders({ supported: false }).map(([h]) => h)).toEqual(['Session-Expires', 'Min-SE']);
  });

  it('sends nothing when disabled, and runs no timer', () => {
    const n = new SessionTimerNegotiation({ enabled: false });
    expect(n.requestHeaders()).toEqual([]);
    const inv = invite();
    expect(n.handle2xx(response(inv, 200, [['Require', 'timer'], ['Session-Expires', '900;refresher=uac']]))).toBeUndefined();
    expect(n.handle422(response(inv, 422, [['Min-SE', '300']]))).toMatchObject({ retry: false });
  });

  it('422: retries with Session-Expires and Min-SE raised to the 422 Min-SE', () => {
    const n = new SessionTimerNegotiation({ sessionExpiresS: 120 });
    const inv = invite(n.requestHeaders());
    const d = n.handle422(response(inv, 422, [['Min-SE', '600']]));
    expect(d.retry).toBe(true);
    if (!d.retry) return;
    expect(header(d.headers, 'Session-Expires')).toBe('600');
    expect(header(d.headers, 'Min-SE')).toBe('600');
    // The retried request is what later requests ask for too.
    expect(header(n.requestHeaders(), 'Session-Expires')).toBe('600');
    expect(n.minSES).toBe(600);
  });

  it('422: keeps a larger Session-Expires, only raising Min-SE', () => {
    const n = new SessionTimerNegotiation({ sessionExpiresS: 1800 });
    // Asking for 1800 and told Min-SE 1900.
    const d = n.handle422(response(invite(), 422, [['Min-SE', '1900']]));
    expect(d.retry && header(d.headers, 'Session-Expires')).toBe('1900');
  });

  it('422: is loop-safe (no Min-SE, a Min-SE not above what was asked, too many retries)', () => {
    const inv = invite();
    expect(new SessionTimerNegotiation().handle422(response(inv, 422))).toEqual({ retry: false, reason: '422 without a valid Min-SE' });
    const n = new SessionTimerNegotiation({ sessionExpiresS: 120 });
    expect(n.handle422(response(inv, 422, [['Min-SE', '120']])).retry).toBe(false);
    expect(n.handle422(response(inv, 422, [['Min-SE', '300']])).retry).toBe(true);
    // The same 422 again: asking 300 already.
    expect(n.handle422(response(inv, 422, [['Min-SE', '300']])).retry).toBe(false);
    expect(n.handle422(response(inv, 422, [['Min-SE', '400']])).retry).toBe(true);
    const last = n.handle422(response(inv, 422, [['Min-SE', '500']]));
    expect(last).toEqual({ retry: false, reason: 'gave up after 2 422 retries' });
    // A 2xx resets the count for the next request of the session.
    n.handle2xx(response(inv, 200, [['Session-Expires', '400;refresher=uac']]));
    expect(n.handle422(response(inv, 422, [['Min-SE', '500']])).retry).toBe(true);
  });

  it('2xx with Require: timer and refresher=uac: we refresh, at the interval of the 2xx', () => {
    const n = new SessionTimerNegotiation();
    const a = n.handle2xx(response(invite(), 200, [['Require', 'timer'], ['Session-Expires', '900;refresher=uac']]));
    expect(a).toEqual({ intervalS: 900, refresher: 'uac', weRefresh: true });
    // Later requests keep the roles: we are the UAC of a refresh and the refresher.
    expect(header(n.requestHeaders(), 'Session-Expires')).toBe('900;refresher=uac');
  });

  it('2xx with refresher=uas: the peer refreshes; our re-INVITEs say so', () => {
    const n = new SessionTimerNegotiation();
    const a = n.handle2xx(response(invite(), 200, [['Require', 'timer'], ['Session-Expires', '1200;refresher=uas']]));
    expect(a).toEqual({ intervalS: 1200, refresher: 'uas', weRefresh: false });
    expect(header(n.requestHeaders(), 'Session-Expires')).toBe('1200;refresher=uas');
    expect(n.agreement).toBe(a);
  });

  it('2xx without Session-Expires: the UAS does not support timers, we refresh alone at our interval (§7.2)', () => {
    const n = new SessionTimerNegotiation({ sessionExpiresS: 600 });
    expect(n.handle2xx(response(invite(), 200))).toEqual({ intervalS: 600, refresher: 'uac', weRefresh: true });
  });

  it('2xx with Session-Expires but no refresher: we take the job; an interval below 90 s is raised', () => {
    const n = new SessionTimerNegotiation();
    expect(n.handle2xx(response(invite(), 200, [['Session-Expires', '30']]))).toEqual({ intervalS: ABSOLUTE_MIN_SE_S, refresher: 'uac', weRefresh: true });
  });

  it('reads Session-Expires and Min-SE, compact form included, malformed as absent', () => {
    const req = invite([['x', '1000;refresher=UAS'], ['Min-SE', '120']]);
    expect(readSessionExpires(req)).toEqual({ intervalS: 1000, refresher: 'uas' });
    expect(readMinSE(req)).toBe(120);
    expect(readSessionExpires(invite([['Session-Expires', 'soon']]))).toBeUndefined();
  });
});

describe('UAS side (RFC 4028 §9)', () => {
  it('rejects a Session-Expires below our Min-SE with 422 and our Min-SE', () => {
    const n = new SessionTimerNegotiation({ minSES: 300 });
    const v = n.answerRequest(invite([['Supported', 'timer'], ['Session-Expires', '200']]));
    expect(v).toEqual({ ok: false, status: 422, reason: 'Session Interval Too Small', headers: [['Min-SE', '300']] });
  });

  it('UAC supports timer and leaves the refresher open: uac refreshes by default, Require: timer in the 2xx', () => {
    const n = new SessionTimerNegotiation();
    const v = n.answerRequest(invite([['Supported', 'timer'], ['Session-Expires', '900']]));
    expect(v).toEqual({ ok: true, headers: [['Require', 'timer'], ['Session-Expires', '900;refresher=uac']], agreement: { intervalS: 900, refresher: 'uac', weRefresh: false } });
  });

  it('uasPrefersRefresher: uas makes us the refresher when the UAC left it open', () => {
    const n = new SessionTimerNegotiation({ uasPrefersRefresher: 'uas' });
    const v = n.answerRequest(invite([['Supported', 'timer'], ['Session-Expires', '900']]));
    expect(v.ok && v.agreement).toEqual({ intervalS: 900, refresher: 'uas', weRefresh: true });
  });

  it('keeps the refresher the UAC chose', () => {
    const n = new SessionTimerNegotiation({ uasPrefersRefresher: 'uac' });
    const v = n.answerRequest(invite([['Supported', 'timer'], ['Session-Expires', '900;refresher=uas']]));
    expect(v.ok && header(v.headers, 'Session-Expires')).toBe('900;refresher=uas');
    expect(v.ok && v.agreement?.weRefresh).toBe(true);
  });

  it('Session-Expires from a UAC without timer support (a proxy put it in): we refresh, no Require', () => {
    const n = new SessionTimerNegotiation();
    const v = n.answerRequest(invite([['Session-Expires', '900;refresher=uac']]));
    expect(v).toEqual({ ok: true, headers: [['Session-Expires', '900;refresher=uas']], agreement: { intervalS: 900, refresher: 'uas', weRefresh: true } });
  });

  it('no Session-Expires but Supported: timer: we insert our interval', () => {
    const n = new SessionTimerNegotiation({ sessionExpiresS: 1200 });
    const v = n.answerRequest(invite([['Supported', '100rel, timer']]));
    expect(v.ok && v.headers).toEqual([['Require', 'timer'], ['Session-Expires', '1200;refresher=uac']]);
  });

  it('neither Session-Expires nor support: no timer, no headers', () => {
    expect(new SessionTimerNegotiation().answerRequest(invite())).toEqual({ ok: true, headers: [], agreement: undefined });
    expect(new SessionTimerNegotiation({ enabled: false }).answerRequest(invite([['Supported', 'timer'], ['Session-Expires', '30']]))).toEqual({ ok: true, headers: [], agreement: undefined });
  });

  it('lowers a long interval to ours, never below the request Min-SE', () => {
    const n = new SessionTimerNegotiation({ sessionExpiresS: 600 });
    const v = n.answerRequest(invite([['Supported', 'timer'], ['Session-Expires', '7200'], ['Min-SE', '900']]));
    expect(v.ok && v.agreement?.intervalS).toBe(900);
    const w = new SessionTimerNegotiation({ sessionExpiresS: 600 }).answerRequest(invite([['Supported', 'timer'], ['Session-Expires', '7200']]));
    expect(w.ok && w.agreement?.intervalS).toBe(600);
    // The Min-SE learned goes into our own later requests.
    expect(header(n.requestHeaders(), 'Min-SE')).toBe('900');
  });
});

describe('SessionTimer (RFC 4028 §10)', () => {
  function setup() {
    const clock = new VirtualClock();
    const events: string[] = [];
    const timer = new SessionTimer({ clock, refresh: () => events.push(`refresh@${clock.now()}`), expired: () => events.push(`expired@${clock.now()}`) });
    return { clock, events, timer };
  }
  const refresher: SessionTimerAgreement = { intervalS: 1800, refresher: 'uac', weRefresh: true };
  const watcher: SessionTimerAgreement = { intervalS: 1800, refresher: 'uas', weRefresh: false };

  it('expiry comes at interval - min(32, interval/3)', () => {
    expect(expiryDelayMs(1800)).toBe(1_768_000);
    expect(expiryDelayMs(90)).toBe(60_000);
  });

  it('as refresher: refresh() at half the interval, and each successful refresh restarts it', async () => {
    const { clock, events, timer } = setup();
    timer.start(refresher);
    await clock.advance(899_999);
    expect(events).toEqual([]);
    await clock.advance(1);
    expect(events).toEqual(['refresh@900000']);
    // The refresh's 2xx arrives 2 s later.
    await clock.advance(2_000);
    timer.start(refresher);
    await clock.advance(900_000);
    expect(events).toEqual(['refresh@900000', 'refresh@1802000']);
    expect(timer.running).toBe(true);
  });

  it('as refresher whose refresh never succeeds: expired() at the deadline', async () => {
    const { clock, events, timer } = setup();
    timer.start(refresher);
    await clock.runAll();
    expect(events).toEqual(['refresh@900000', 'expired@1768000']);
    expect(timer.running).toBe(false);
    expect(clock.pending).toBe(0);
  });

  it('not refresher: no refresh; expired() (send BYE) at 1768 s without a refresh from the peer', async () => {
    const { clock, events, timer } = setup();
    timer.start(watcher);
    expect(timer.expiresAtMs).toBe(1_768_000);
    await clock.advance(1_767_999);
    expect(events).toEqual([]);
    await clock.advance(1);
    expect(events).toEqual(['expired@1768000']);
  });

  it("not refresher: the peer's refresh (our 2xx to its re-INVITE / UPDATE) restarts the timer", async () => {
    const { clock, events, timer } = setup();
    const n = new SessionTimerNegotiation();
    timer.start(watcher);
    await clock.advance(900_000);
    const refresh = makeRequest({ method: 'UPDATE', cseq: 2, headers: [['Supported', 'timer'], ['Session-Expires', '1800;refresher=uac']] });
    const v = n.answerRequest(refresh);
    // refresher=uac in the peer's request is the peer: we still only watch.
    expect(v.ok && v.agreement).toEqual({ intervalS: 1800, refresher: 'uac', weRefresh: false });
    if (v.ok) timer.start(v.agreement);
    await clock.advance(1_767_999);
    expect(events).toEqual([]);
    await clock.advance(1);
    expect(events).toEqual(['expired@2668000']);
  });

  it('roles can swap on a refresh, and start(undefined) / stop() end it', async () => {
    const { clock, events, timer } = setup();
    timer.start(watcher);
    await clock.advance(100_000);
    timer.start({ intervalS: 90, refresher: 'uac', weRefresh: true });
    await clock.advance(45_000);
    expect(events).toEqual(['refresh@145000']);
    timer.start(undefined);
    expect(timer.running).toBe(false);
    expect(timer.agreement).toBeUndefined();
    timer.start(watcher);
    timer.stop();
    await clock.runAll();
    expect(events).toEqual(['refresh@145000']);
    expect(clock.pending).toBe(0);
  });

  it('a whole UAC flow: 422, retry, 2xx refresher=uac, refresh with the same headers', async () => {
    const { clock, events, timer } = setup();
    const n = new SessionTimerNegotiation({ sessionExpiresS: 100 });
    const first = invite(n.requestHeaders());
    expect(first.get('Session-Expires')).toBe('100');
    const retry = n.handle422(response(first, 422, [['Min-SE', '240']]));
    expect(retry.retry).toBe(true);
    if (!retry.retry) return;
    const second = invite(retry.headers, 2);
    expect(second.get('Session-Expires')).toBe('240');
    expect(second.get('Min-SE')).toBe('240');
    timer.start(n.handle2xx(response(second, 200, [['Require', 'timer'], ['Session-Expires', '240;refresher=uac']])));
    await clock.advance(120_000);
    expect(events).toEqual(['refresh@120000']);
    expect(n.requestHeaders()).toEqual([
      ['Supported', 'timer'],
      ['Session-Expires', '240;refresher=uac'],
      ['Min-SE', '240'],
    ]);
  });
});
