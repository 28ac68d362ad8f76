// Glare (RFC 3261 §14.1, §14.2; RFC 3311 §5.2): retry delays after 491, and the 491 / 500 verdicts on crossing re-INVITEs and UPDATEs.
import { describe, expect, it } from 'vitest';
import { checkIncomingRequest, glareRetryDelayMs, ownsCallId } from '../../../firmware/sip/ua/glare.js';

const fixed = (v: number) => (): number => v;

describe('retry delay after 491 (RFC 3261 §14.1)', () => {
  it('owner of the Call-ID (the dialog UAC): 2.1-4 s in units of 10 ms', () => {
    expect(glareRetryDelayMs(true, fixed(0))).toBe(2100);
    expect(glareRetryDelayMs(true, fixed(0.999999))).toBe(4000);
    expect(glareRetryDelayMs(true, fixed(0.5))).toBe(3050);
  });

  it('not the owner: 0-2 s in units of 10 ms', () => {
    expect(glareRetryDelayMs(false, fixed(0))).toBe(0);
    expect(glareRetryDelayMs(false, fixed(0.999999))).toBe(2000);
    expect(glareRetryDelayMs(false, fixed(0.25))).toBe(500);
  });

  it('stays in range and on the 10 ms grid for any random value, 1 included', () => {
    let x = 0.1234;
    for (let i = 0; i < 1000; i++) {
      x = (x * 9301 + 49297) % 233280 / 233280;
      const owner = glareRetryDelayMs(true, fixed(x));
      const other = glareRetryDelayMs(false, fixed(x));
      expect(owner % 10).toBe(0);
      expect(other % 10).toBe(0);
      expect(owner).toBeGreaterThanOrEqual(2100);
      expect(owner).toBeLessThanOrEqual(4000);
      expect(other).toBeGreaterThanOrEqual(0);
      expect(other).toBeLessThanOrEqual(2000);
    }
    expect(glareRetryDelayMs(true, fixed(1))).toBe(4000);
    expect(glareRetryDelayMs(false, fixed(1))).toBe(2000);
  });

  it('the UAC of the dialog owns the Call-ID', () => {
    expect(ownsCallId({ role: 'uac' })).toBe(true);
    expect(ownsCallId({ role: 'uas' })).toBe(false);
  });
});

describe('incoming re-INVITE / UPDATE (RFC 3261 §14.2, RFC 3311 §5.2)', () => {
  const r = fixed(0.5);

  it('lets a request through when nothing is pending', () => {
    expect(checkIncomingRequest('INVITE', true, {}, r)).toEqual({ ok: true });
    expect(checkIncomingRequest('UPDATE', true, {}, r)).toEqual({ ok: true });
    expect(checkIncomingRequest('INVITE', false, { inviteClientPending: false, inviteServerPending: false, localOfferPending: false, remoteOfferPending: false }, r)).toEqual({ ok: true });
  });

  it('re-INVITE while our INVITE or our offer is outstanding: 491', () => {
    expect(checkIncomingRequest('INVITE', true, { inviteClientPending: true }, r)).toEqual({ ok: false, status: 491, reason: 'Request Pending', headers: [] });
    expect(checkIncomingRequest('INVITE', false, { localOfferPending: true }, r)).toMatchObject({ ok: false, status: 491 });
  });

  it('re-INVITE while an INVITE we received is unanswered: 500 with Retry-After 0-10 s', () => {
    const v = checkIncomingRequest('INVITE', true, { inviteServerPending: true, inviteClientPending: true }, r);
    expect(v).toEqual({ ok: false, status: 500, reason: 'Server Internal Error - an earlier INVITE is still in progress', headers: [['Retry-After', '5']] });
    expect(checkIncomingRequest('INVITE', true, { inviteServerPending: true }, fixed(0))).toMatchObject({ headers: [['Retry-After', '0']] });
    expect(checkIncomingRequest('INVITE', true, { inviteServerPending: true }, fixed(0.9999))).toMatchObject({ headers: [['Retry-After', '10']] });
    expect(checkIncomingRequest('INVITE', true, { remoteOfferPending: true }, r)).toMatchObject({ ok: false, status: 500 });
  });

  it('UPDATE with an offer: 491 while our offer is unanswered, 500 while theirs is', () => {
    expect(checkIncomingRequest('UPDATE', true, { localOfferPending: true }, r)).toMatchObject({ ok: false, status: 491 });
    expect(checkIncomingRequest('UPDATE', true, { remoteOfferPending: true }, r)).toMatchObject({ ok: false, status: 500, headers: [['Retry-After', '5']] });
  });

  it('UPDATE without an offer (a session refresh) and other methods always pass', () => {
    const everything = { inviteClientPending: true, inviteServerPending: true, localOfferPending: true, remoteOfferPending: true };
    expect(checkIncomingRequest('UPDATE', false, everything, r)).toEqual({ ok: true });
    expect(checkIncomingRequest('INFO', true, everything, r)).toEqual({ ok: true });
  });
});
