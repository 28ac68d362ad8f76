// Auto-answer (intercom) and hotline on the emulated board, and auto-answer through real UserAgents: delay, onlyFrom, the intercom headers (only with the feature enabled), the beep, the speaker path.
import { describe, expect, it } from 'vitest';
import { intercomRequest } from '../../firmware/phone/phone-features.js';
import { PhoneState } from '../../firmware/phone/phone-state.js';
import { net } from '../sip/ua/call/call-fixture.js';
import { desk, run } from './support/desk.js';
import { FakeCallService } from './support/fake-call-service.js';
import { phoneBoard } from './support/phone-board.js';

describe('auto-answer (intercom)', () => {
  it('answers on the speaker after delayS with a short beep; the handset lifted later takes the audio', async () => {
    const calls = new FakeCallService();
    const b = await phoneBoard({ calls, phone: { features: { autoAnswer: { enabled: true, delayS: 2 } } } });
    const call = calls.ring('1002', 'Bob');
    await b.wait(1900);
    expect(call.actions).toEqual([]);
    expect(b.phone.currentState).toBe(PhoneState.Ringing);
    await b.wait(200);
    expect(call.actions).toEqual(['accept']);
    expect(b.phone.currentState).toBe(PhoneState.Connected);
    expect(b.hw.ringer?.ringing).toBe(false);
    expect(b.media.audioPath).toBe('speaker');
    // The beep: the country's confirmation tone (three short bursts), then silence.
    expect(b.media.tone?.segments).toHaveLength(6);
    expect(b.media.tone?.repeat).toBe(false);
    await b.wait(700);
    expect(b.media.tone).toBeNull();
    await b.lift();
    expect(b.media.audioPath).toBe('handset');
    expect(b.phone.currentState).toBe(PhoneState.Connected);
  });

  it('delayS 0: at once; onlyFrom limits it to the listed callers (compared normalised)', async () => {
    const calls = new FakeCallService();
    const b = await phoneBoard({ calls, phone: { features: { autoAnswer: { enabled: true, delayS: 0, onlyFrom: ['sip:1005@pbx.test', '+49 30 1234'] } } } });
    const stranger = calls.ring('1002');
    await b.wait(5000);
    expect(stranger.actions).toEqual([]);
    expect(b.phone.currentState).toBe(PhoneState.Ringing);
    stranger.callerCancels();
    await b.wait();
    const listed = calls.ring('+49301234');
    await b.wait();
    expect(listed.actions).toEqual(['accept']);
    expect(b.phone.currentState).toBe(PhoneState.Connected);
  });

  it('the intercom headers answer a caller outside onlyFrom (after answer-after), but never with the feature disabled', async () => {
    const calls = new FakeCallService();
    const b = await phoneBoard({ calls, phone: { features: { autoAnswer: { enabled: true, delayS: 0, onlyFrom: ['1005'] } } } });
    const paged = calls.ring('1002', 'Page', { 'Call-Info': ['<sip:pbx.test>;answer-after=1'] });
    await b.wait(500);
    expect(paged.actions).toEqual([]);
    await b.wait(600);
    expect(paged.actions).toEqual(['accept']);
    await b.keys('DDC'); // More, More: page 3, End
    expect(b.phone.currentState).toBe(PhoneState.Idle);

    const off = new FakeCallService();
    const d = await phoneBoard({ calls: off, phone: { features: { autoAnswer: { enabled: false } } } });
    const header = off.ring('1002', undefined, { 'Alert-Info': ['<http://pbx.test>;info=alert-autoanswer'] });
    await d.wait(3000);
    expect(header.actions).toEqual([]);
    expect(d.phone.currentState).toBe(PhoneState.Ringing);
    // No config at all: the same.
    const none = new FakeCallService();
    const e = await phoneBoard({ calls: none });
    const h2 = none.ring('1002', undefined, { 'Call-Info': [';answer-after=0'] });
    await e.wait(1000);
    expect(h2.actions).toEqual([]);
  });

  it('reads the usual intercom headers', () => {
    const h = (headers: Record<string, string[]>) => intercomRequest((n) => headers[n] ?? []);
    expect(h({ 'Alert-Info': ['<http://x>;info=alert-autoanswer'] })).toBe(0);
    expect(h({ 'Alert-Info': ['Intercom'] })).toBe(0);
    expect(h({ 'Call-Info': ['<sip:pbx>;answer-after=3'] })).toBe(3);
    expect(h({ 'Call-Info': [' ;answer-after=0'] })).toBe(0);
    expect(h({ 'Alert-Info': ['<http://x/ring.wav>'] })).toBeUndefined();
    expect(h({})).toBeUndefined();
  });

  it('not while busy: a call during a call waits as usual', async () => {
    const calls = new FakeCallService();
    const b = await phoneBoard({ calls, phone: { features: { autoAnswer: { enabled: true } } } });
    await b.lift();
    await b.keys('1002#');
    calls.last.answered();
    const waiting = calls.ring('1003');
    await b.wait(2000);
    expect(waiting.actions).toEqual([]);
    expect(b.lcd()[2]).toBe('Waiting: 1003');
  });

  it('between real user agents: the called phone answers by itself on the speaker', async () => {
    const n = net();
    const alice = await desk(n, '1001', 'Alice');
    const bob = await desk(n, '1002', 'Bob', { features: { autoAnswer: { enabled: true, delayS: 1, onlyFrom: ['1001'] } } });
    await alice.board.lift();
    await alice.board.keys('1002#');
    await run(n, alice.board);
    expect(bob.board.phone.currentState).toBe(PhoneState.Ringing);
    await run(n, alice.board, 1000);
    expect(bob.board.phone.currentState).toBe(PhoneState.Connected);
    expect(alice.board.phone.currentState).toBe(PhoneState.Connected);
    expect(bob.media.audioPath).toBe('speaker');
    await alice.board.hangUp();
    await run(n, alice.board);
    expect(bob.board.phone.currentState).toBe(PhoneState.Ended);
  });
});

describe('hotline', () => {
  it('off hook with no key for delayS dials the hotline number', async () => {
    const calls = new FakeCallService();
    const b = await phoneBoard({ calls, phone: { features: { hotline: { number: '911', delayS: 3 } } } });
    await b.lift();
    expect(b.phone.currentState).toBe(PhoneState.Dialing);
    expect(b.media.tone?.segments[0]?.frequenciesHz).toEqual([350, 440]);
    await b.wait(2800);
    expect(calls.placed).toEqual([]);
    await b.wait(300);
    expect(calls.last.remote.number).toBe('911');
    expect(b.phone.currentState).toBe(PhoneState.Calling);
  });

  it('a key cancels it and dialing goes on; the first-digit timeout does not cut a long hotline wait', async () => {
    const calls = new FakeCallService();
    const b = await phoneBoard({ calls, phone: { features: { hotline: { number: '911', delayS: 20 } } } });
    await b.lift();
    await b.wait(15_000);
    expect(b.phone.currentState).toBe(PhoneState.Dialing);
    await b.keys('10');
    await b.wait(6000);
    // The number typed went after the inter-digit timeout, not the hotline.
    expect(calls.placed.map((c) => c.remote.number)).toEqual(['10']);
  });

  it('delayS 0: at once, on the handset or with the speaker key', async () => {
    const calls = new FakeCallService();
    const b = await phoneBoard({ calls, phone: { features: { hotline: { number: '2000', delayS: 0 } } } });
    await b.lift();
    expect(calls.last.remote.number).toBe('2000');
    expect(b.phone.currentState).toBe(PhoneState.Calling);
    expect(b.media.tone).toBeNull();
    await b.hangUp();
    await b.keys('D');
    expect(calls.placed).toHaveLength(2);
    expect(b.media.audioPath).toBe('speaker');
  });
});
