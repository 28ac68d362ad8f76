// Call forward on the emulated board: always (302 at once, no ring, history "forwarded", idle indicator), busy, no answer; settings over config; and through real UserAgents on the loopback (the caller follows the 302).
import { describe, expect, it } from 'vitest';
import { PhoneState } from '../../firmware/phone/phone-state.js';
import { net } from '../sip/ua/call/call-fixture.js';
import { desk, run } from './support/desk.js';
import { FakeCallService } from './support/fake-call-service.js';
import { phoneBoard } from './support/phone-board.js';

const FORWARD = '\u0007';
const BELL = '\u0002';

describe('call forward on the emulated board', () => {
  it('always (from the settings): every call is redirected at once without ringing, logged as forwarded; the idle screen shows it', async () => {
    const calls = new FakeCallService();
    const b = await phoneBoard({ calls });
    b.settings.setForward('always', '1009');
    await b.wait();
    expect(b.lcd()[1]).toBe(`${FORWARD}1009`);
    const call = calls.ring('1002', 'Bob');
    await b.wait();
    expect(call.actions).toEqual(['redirect 1009']);
    expect(call.state).toBe('terminated');
    expect(b.phone.currentState).toBe(PhoneState.Idle);
    expect(b.hw.ringer?.ringing).toBe(false);
    expect(b.media.ringing).toBeNull();
    expect(b.lcd()[1]).toBe('Forwarded to 1009');
    await b.wait(3000);
    expect(b.lcd()[1]).toBe(`${FORWARD}1009`);
    expect(b.history.list('received')[0]).toMatchObject({ number: '1002', name: 'Bob', outcome: 'forwarded', forwardedTo: '1009' });
    expect(b.history.missedUnseen).toBe(0);
    // The history shows where it went.
    await b.keys('CB');
    expect(b.lcd().slice(0, 3)).toEqual(['Received 1/1   15:49', 'Bob', 'Fwd to 1009']);
  });

  it('the config target applies until the menu sets one; switched off in the settings (false) the phone rings again', async () => {
    const calls = new FakeCallService();
    const b = await phoneBoard({ calls, phone: { features: { forward: { always: '2000' } } } });
    expect(b.lcd()[1]).toBe(`${FORWARD}2000`);
    expect(calls.ring('1002').actions).toEqual(['redirect 2000']);
    b.settings.setForward('always', '2001');
    expect(calls.ring('1003').actions).toEqual(['redirect 2001']);
    b.settings.setForward('always', false);
    await b.wait(3000);
    const third = calls.ring('1004');
    await b.wait();
    expect(third.actions).toEqual([]);
    expect(b.phone.currentState).toBe(PhoneState.Ringing);
    expect(b.lcd()[0]).toBe(`${BELL} Incoming call`);
  });

  it('a call that cannot be redirected rings as usual', async () => {
    const calls = new FakeCallService();
    calls.redirectable = false;
    const b = await phoneBoard({ calls, phone: { features: { forward: { always: '2000' } } } });
    const call = calls.ring('1002');
    await b.wait();
    expect(call.actions).toEqual(['redirect 2000']);
    expect(b.phone.currentState).toBe(PhoneState.Ringing);
    expect(b.hw.ringer?.ringing).toBe(true);
  });

  it('busy: a call while in a call with call waiting off is redirected (486 without a target)', async () => {
    const calls = new FakeCallService();
    const b = await phoneBoard({ calls, phone: { callWaiting: false } });
    await b.lift();
    await b.keys('1002#');
    calls.last.answered();
    await b.wait();
    expect(b.phone.currentState).toBe(PhoneState.Connected);
    expect(calls.ring('1003').actions).toEqual(['reject 486']);
    b.settings.setForward('busy', '8000');
    const second = calls.ring('1004', 'Dan');
    await b.wait();
    expect(second.actions).toEqual(['redirect 8000']);
    expect(b.phone.currentState).toBe(PhoneState.Connected);
    expect(b.history.list('received')[0]).toMatchObject({ number: '1004', outcome: 'forwarded', forwardedTo: '8000' });
    expect(b.history.list('missed')[0]).toMatchObject({ number: '1003', outcome: 'missed' });
  });

  it('busy with call waiting on: the first call waits, a second waiting call is redirected', async () => {
    const calls = new FakeCallService();
    const b = await phoneBoard({ calls, phone: { features: { forward: { busy: '8000' } } } });
    await b.lift();
    await b.keys('1002#');
    calls.last.answered();
    await b.wait();
    const waiting = calls.ring('1003');
    await b.wait();
    expect(waiting.actions).toEqual([]);
    expect(b.lcd()[2]).toBe('Waiting: 1003');
    expect(calls.ring('1004').actions).toEqual(['redirect 8000']);
    await b.wait();
  });

  it('no answer: after noAnswerAfterS of ringing the call is redirected; the ringer stops; answered in time it is not', async () => {
    const calls = new FakeCallService();
    const b = await phoneBoard({ calls, phone: { features: { forward: { noAnswer: '3000', noAnswerAfterS: 5 } } } });
    const call = calls.ring('1002', 'Bob');
    await b.wait(4800);
    expect(call.actions).toEqual([]);
    expect(b.hw.ringer?.ringing).toBe(true);
    await b.wait(300);
    expect(call.actions).toEqual(['redirect 3000']);
    expect(b.phone.currentState).toBe(PhoneState.Idle);
    expect(b.hw.ringer?.ringing).toBe(false);
    expect(b.led('line')).toBe('off');
    expect(b.history.list('received')[0]).toMatchObject({ number: '1002', outcome: 'forwarded', forwardedTo: '3000' });
    expect(b.history.missedUnseen).toBe(0);

    // The settings' delay wins over the config's; a call answered before it stays.
    b.settings.setNoAnswerDelay(2);
    const second = calls.ring('1003');
    await b.wait(1000);
    await b.lift();
    await b.wait(3000);
    expect(second.actions).toEqual(['accept']);
    expect(b.phone.currentState).toBe(PhoneState.Connected);
  });

  it('no answer applies to a waiting call too', async () => {
    const calls = new FakeCallService();
    const b = await phoneBoard({ calls, phone: { features: { forward: { noAnswer: '3000', noAnswerAfterS: 3 } } } });
    await b.lift();
    await b.keys('1002#');
    calls.last.answered();
    const waiting = calls.ring('1003');
    await b.wait(3100);
    expect(waiting.actions).toEqual(['redirect 3000']);
    expect(b.phone.currentState).toBe(PhoneState.Connected);
    expect(b.media.tone).toBeNull();
  });
});

describe('call forward between real user agents (loopback)', () => {
  it('forward always: the caller follows the 302 to the third phone, which rings and answers; the forwarding phone never rang', async () => {
    const n = net();
    const alice = await desk(n, '1001', 'Alice');
    const bob = await desk(n, '1002', 'Bob');
    const carol = await desk(n, '1003', 'Carol');
    bob.board.settings.setForward('always', 'sip:1003@10.0.0.3');
    await alice.board.lift();
    await alice.board.keys('1002#');
    await run(n, alice.board);
    expect(bob.board.phone.currentState).toBe(PhoneState.Idle);
    expect(bob.board.hw.ringer?.ringing).toBe(false);
    expect(carol.board.phone.currentState).toBe(PhoneState.Ringing);
    expect(carol.board.lcd().slice(1, 3)).toEqual(['Alice', '1001']);
    expect(alice.board.phone.currentState).toBe(PhoneState.Ringback);
    await carol.board.lift();
    await run(n, alice.board);
    expect(alice.board.phone.currentState).toBe(PhoneState.Connected);
    expect(carol.board.phone.currentState).toBe(PhoneState.Connected);
    expect(bob.board.history.list('received')[0]).toMatchObject({ number: '1001', outcome: 'forwarded', forwardedTo: 'sip:1003@10.0.0.3' });
    await alice.board.hangUp();
    await run(n, alice.board);
    expect(carol.board.phone.currentState).toBe(PhoneState.Ended);
  });

  it('forward no answer: bob rings for noAnswerAfterS, then the call goes on to carol', async () => {
    const n = net();
    const alice = await desk(n, '1001', 'Alice');
    const bob = await desk(n, '1002', 'Bob', { features: { forward: { noAnswer: 'sip:1003@10.0.0.3', noAnswerAfterS: 2 } } });
    const carol = await desk(n, '1003', 'Carol');
    await alice.board.lift();
    await alice.board.keys('1002#');
    await run(n, alice.board);
    expect(bob.board.phone.currentState).toBe(PhoneState.Ringing);
    await run(n, alice.board, 2000);
    expect(bob.board.phone.currentState).toBe(PhoneState.Idle);
    expect(carol.board.phone.currentState).toBe(PhoneState.Ringing);
    expect(alice.board.phone.currentState).toBe(PhoneState.Ringback);
    expect(bob.board.history.list('received')[0]).toMatchObject({ outcome: 'forwarded', forwardedTo: 'sip:1003@10.0.0.3' });
  });
});
