import { describe, expect, it } from 'vitest';
import { DialPlan } from '../../firmware/phone/dial-plan.js';
import { PhoneState } from '../../firmware/phone/phone-state.js';
import { Phonebook } from '../../firmware/phone/phonebook.js';
import { countryTone } from '../../firmware/media/tones.js';
import { FakeCallService } from './support/fake-call-service.js';
import { phoneBoard } from './support/phone-board.js';

const H = '\u0000'; // the handset glyph's slot

describe('outgoing calls on the emulated board', () => {
  it('lift: dial tone; the first digit stops it; # sends; Calling, Ringing with ringback, Connected with the timer', async () => {
    const calls = new FakeCallService();
    const b = await phoneBoard({ calls });
    await b.lift();
    expect(b.phone.currentState).toBe(PhoneState.Dialing);
    expect(b.lcd()[0]).toBe(`${H} Dial tone`);
    expect(b.media.tone).toMatchObject({ segments: countryTone('US', 'dial').segments, repeat: true });
    expect(b.led('line')).toBe('on');
    await b.keys('1');
    expect(b.media.tone).toBeNull();
    await b.keys('002');
    expect(b.lcd().slice(0, 2)).toEqual([`${H} Dialing`, '1002']);
    await b.keys('#');
    expect(calls.placed.map((c) => c.remote.number)).toEqual(['1002']);
    expect(b.phone.currentState).toBe(PhoneState.Calling);
    expect(b.lcd().slice(0, 2)).toEqual(['Calling', '1002']);
    expect(b.lcd()[3]).toBe('               End');

    calls.last.ringing();
    await b.wait();
    expect(b.phone.currentState).toBe(PhoneState.Ringback);
    expect(b.lcd()[0]).toBe('Ringing');
    expect(b.media.tone?.segments[0]?.frequenciesHz).toEqual([440, 480]);

    calls.last.answered();
    await b.wait();
    expect(b.media.tone).toBeNull();
    expect(b.lcd().slice(0, 2)).toEqual(['Connected      00:00', '1002']);
    expect(b.lcd()[3]).toBe('Hold Mute Xfer More');
    await b.wait(65_000);
    expect(b.lcd()[0]).toBe('Connected      01:05');

    await b.hangUp();
    expect(calls.last.actions).toContain('hangup');
    expect(b.phone.currentState).toBe(PhoneState.Idle);
    expect(b.lcd()[0]).toBe('Call ended     01:05');
    await b.wait(6000);
    expect(b.lcd()[0]).toBe('Registered 1001');
    await b.history.flush();
    expect(b.history.list('dialed')).toEqual([expect.objectContaining({ number: '1002', outcome: 'answered', durationS: 65 })]);
  });

  it('early media: no local ringback', async () => {
    const calls = new FakeCallService();
    const b = await phoneBoard({ calls });
    await b.lift();
    await b.keys('1002#');
    calls.last.ringing(true);
    await b.wait();
    expect(b.phone.currentState).toBe(PhoneState.Ringback);
    expect(b.media.tone).toBeNull();
  });

  it.each([
    [486, 'Busy Here', 'Busy', [480, 620], 500],
    [404, 'Not Found', 'Not found', [480, 620], 250],
    [480, 'Temporarily Unavailable', 'Unavailable', [480, 620], 250],
    [503, 'Service Unavailable', 'Server error', [480, 620], 250],
    [603, 'Decline', 'Declined', [480, 620], 500],
  ])('a %d shows "%s" with its tone until on hook', async (status, reason, text, hz, onMs) => {
    const calls = new FakeCallService();
    const b = await phoneBoard({ calls });
    await b.lift();
    await b.keys('1002#');
    calls.last.fail(status, reason);
    await b.wait();
    expect(b.phone.currentState).toBe(PhoneState.Ended);
    expect(b.lcd().slice(0, 3)).toEqual([text, '1002', `${status} ${reason}`.slice(0, 20)]);
    expect(b.media.tone?.segments[0]).toMatchObject({ frequenciesHz: hz, durationMs: onMs });
    await b.wait(30_000);
    expect(b.phone.currentState).toBe(PhoneState.Ended);
    await b.hangUp();
    expect(b.phone.currentState).toBe(PhoneState.Idle);
    expect(b.media.tone).toBeNull();
    await b.history.flush();
    expect(b.history.list('dialed')[0]?.outcome).toBe(status === 486 ? 'busy' : 'failed');
  });

  it('a network error (the UA refuses the target) shows its reason with congestion tone', async () => {
    const calls = new FakeCallService();
    calls.refuse = 'no account to call from';
    const b = await phoneBoard({ calls });
    await b.lift();
    await b.keys('1002#');
    expect(b.lcd().slice(0, 3)).toEqual(['Call failed', '', 'no account to call f']);
    expect(b.media.tone?.segments[0]?.durationMs).toBe(250);
  });

  it('the far end hanging up: "Call ended" with busy tone, the duration and the call quality', async () => {
    const calls = new FakeCallService();
    const b = await phoneBoard({ calls });
    await b.lift();
    await b.keys('1002#');
    calls.last.statsValue = { mos: 4.31, effectiveLossPercent: 0.5, jitterMs: 12.4, rttMs: 40 };
    calls.last.answered();
    await b.wait(10_000);
    calls.last.statsValue = undefined; // the stream is gone: the last sample stays
    calls.last.remoteHangup();
    await b.wait();
    expect(b.lcd()).toEqual(['Call ended     00:10', '1002', 'MOS 4.3 Loss 0.5%', 'Jit 12ms RTT 40ms']);
    expect(b.media.tone?.segments[0]?.durationMs).toBe(500);
  });

  it('the inter-digit timeout (4 s) sends; a digit map sends on a full match; backspace erases', async () => {
    const calls = new FakeCallService();
    const b = await phoneBoard({ calls, phone: { dialPlan: new DialPlan({ map: '1xxx|9x.T' }) } });
    await b.lift();
    await b.keys('12D');
    expect(b.lcd()[1]).toBe('1');
    await b.keys('234');
    expect(calls.placed.map((c) => c.remote.number)).toEqual(['1234']);
    await b.hangUp();
    await b.lift();
    await b.keys('955');
    await b.wait(3800);
    expect(calls.placed).toHaveLength(1);
    await b.wait(300);
    expect(calls.placed.map((c) => c.remote.number)).toEqual(['1234', '955']);
  });

  it('a number no pattern matches: "Invalid number" with congestion tone', async () => {
    const calls = new FakeCallService();
    const b = await phoneBoard({ calls, phone: { dialPlan: new DialPlan({ map: '1xxx' }) } });
    await b.lift();
    await b.keys('5');
    expect(b.phone.currentState).toBe(PhoneState.Ended);
    expect(b.lcd()[0]).toBe('Invalid number');
    expect(calls.placed).toHaveLength(0);
  });

  it('on-hook dialing: type, see the phonebook name, lift to call', async () => {
    const calls = new FakeCallService();
    const b = await phoneBoard({ calls, phone: { phonebook: new Phonebook([{ name: 'Alice', number: '1002' }]) } });
    await b.keys('1003D2');
    expect(b.phone.currentState).toBe(PhoneState.PreDial);
    expect(b.lcd()).toEqual(['Number:', '1002', 'Alice', 'Dial           Del']);
    await b.lift();
    expect(calls.placed.map((c) => c.remote.number)).toEqual(['1002']);
    expect(b.lcd().slice(0, 3)).toEqual(['Calling', 'Alice', '1002']);
  });

  it('on-hook dialing and the send key: the call goes out on the speaker; End hangs up', async () => {
    const calls = new FakeCallService();
    const b = await phoneBoard({ calls });
    await b.keys('1002#');
    expect(calls.placed).toHaveLength(1);
    expect(b.media.audioPath).toBe('speaker');
    calls.last.answered();
    await b.wait();
    expect(b.phone.currentState).toBe(PhoneState.Connected);
    await b.keys('DDC'); // More, More, End
    expect(calls.last.actions).toContain('hangup');
    expect(b.phone.currentState).toBe(PhoneState.Idle);
  });

  it('redial: A on the idle screen, or # with nothing dialed; nothing to redial says so', async () => {
    const calls = new FakeCallService();
    const b = await phoneBoard({ calls });
    await b.keys('A');
    expect(b.lcd()[1]).toBe('No number to redial');
    await b.lift();
    await b.keys('1002#');
    await b.hangUp();
    await b.keys('A');
    expect(calls.placed.map((c) => c.remote.number)).toEqual(['1002', '1002']);
    await b.keys('D'); // End
    await b.lift();
    await b.keys('#');
    expect(calls.placed.map((c) => c.remote.number)).toEqual(['1002', '1002', '1002']);
  });

  it('on hook while it rings cancels the call; it is logged as cancelled', async () => {
    const calls = new FakeCallService();
    const b = await phoneBoard({ calls });
    await b.lift();
    await b.keys('1002#');
    calls.last.ringing();
    await b.wait();
    await b.hangUp();
    expect(b.media.tone).toBeNull();
    expect(b.phone.currentState).toBe(PhoneState.Idle);
    await b.history.flush();
    expect(b.history.list('dialed')[0]?.outcome).toBe('cancelled');
  });
});
