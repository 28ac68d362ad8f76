// The call-quality screen when the media gives no statistics ("no data"), during a call and after it, and a held call ringing back through real UserAgents.
import { describe, expect, it } from 'vitest';
import { PhoneState } from '../../firmware/phone/phone-state.js';
import { net } from '../sip/ua/call/call-fixture.js';
import { desk, run } from './support/desk.js';
import { FakeCallService } from './support/fake-call-service.js';
import { phoneBoard } from './support/phone-board.js';

const HOLD = '\u0004';

describe('call quality without statistics', () => {
  it('the quality key in a call shows "no data"; after the call, Qual on the ended screen too', async () => {
    const calls = new FakeCallService();
    const b = await phoneBoard({ calls });
    await b.lift();
    await b.keys('1002#');
    calls.last.answered();
    await b.wait(2000);
    await b.keys('DC');
    expect(b.lcd()[2]).toBe('Quality: no data');
    calls.last.remoteHangup();
    await b.wait();
    expect(b.phone.currentState).toBe(PhoneState.Ended);
    expect(b.lcd()[2]).toBe('');
    await b.keys('A');
    expect(b.lcd()[2]).toBe('Quality: no data');
  });

  it('4x3: a long 5 in a call shows it', async () => {
    const calls = new FakeCallService();
    const b = await phoneBoard({ calls, layout: '4x3', longPressMs: 50 });
    await b.lift();
    await b.keys('1002#');
    calls.last.answered();
    await b.wait();
    await b.keys('5');
    expect(b.lcd()[2]).toBe('Quality: no data');
  });
});

describe('a held call rings back (real user agents)', () => {
  it('on hook with the call on hold: the phone rings; lifting resumes the call (re-INVITE)', async () => {
    const n = net();
    const alice = await desk(n, '1001', 'Alice');
    const bob = await desk(n, '1002', 'Bob');
    await alice.board.lift();
    await alice.board.keys('1002#');
    await run(n, alice.board);
    await bob.board.lift();
    await run(n, alice.board);
    await alice.board.keys('A');
    await run(n, alice.board);
    expect(alice.board.lcd()[0]).toMatch(new RegExp(`^${HOLD} On hold`));
    await alice.board.hangUp();
    await run(n, alice.board);
    expect(alice.board.phone.currentState).toBe(PhoneState.Ringing);
    expect(alice.board.lcd()[0]).toBe(`${HOLD} Held call`);
    expect(alice.board.hw.ringer?.ringing).toBe(true);
    expect(bob.board.phone.currentState).toBe(PhoneState.Connected);
    expect(bob.media.streams.find((st) => st.state === 'started')?.options.direction).toBe('recvonly');
    await alice.board.lift();
    await run(n, alice.board);
    expect(alice.board.phone.currentState).toBe(PhoneState.Connected);
    expect(alice.board.lcd()[0]).toMatch(/^Connected/);
    expect(alice.board.hw.ringer?.ringing).toBe(false);
    // Bob's media plays again: the resume re-INVITE went through.
    expect(bob.media.streams.find((st) => st.state === 'started')?.options.direction).toBe('sendrecv');
  });
});
