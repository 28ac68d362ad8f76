import { describe, expect, it } from 'vitest';
import { PhoneState } from '../../firmware/phone/phone-state.js';
import { Phonebook } from '../../firmware/phone/phonebook.js';
import { FakeCallService } from './support/fake-call-service.js';
import { phoneBoard } from './support/phone-board.js';

const BELL = '\u0002';

describe('incoming calls on the emulated board', () => {
  it('rings (buzzer cadence, engine ring, LED) with the caller id; lifting answers; on hook ends; history has it', async () => {
    const calls = new FakeCallService();
    const b = await phoneBoard({ calls });
    const call = calls.ring('1002', 'Bob');
    await b.wait();
    expect(b.phone.currentState).toBe(PhoneState.Ringing);
    expect(b.lcd()).toEqual([`${BELL} Incoming call`, 'Bob', '1002', 'Ans  Sil  Rej']);
    expect(b.hw.ringer?.ringing).toBe(true);
    expect(b.media.ringing).not.toBeNull();
    expect(b.led('line')).toBe('fast-blink');
    // US cadence: 2 s on, 4 s off.
    expect(b.panel.ringerOn()).toBe(true);
    await b.wait(2100);
    expect(b.panel.ringerOn()).toBe(false);

    await b.lift();
    expect(call.actions).toEqual(['accept']);
    expect(b.hw.ringer?.ringing).toBe(false);
    expect(b.media.ringing).toBeNull();
    expect(b.lcd().slice(0, 3)).toEqual(['Connected      00:00', 'Bob', '1002']);
    expect(b.led('line')).toBe('on');
    await b.wait(3000);
    await b.hangUp();
    expect(call.actions).toEqual(['accept', 'hangup']);
    await b.history.flush();
    expect(b.history.list('received')).toEqual([expect.objectContaining({ number: '1002', name: 'Bob', outcome: 'answered', durationS: 3 })]);
  });

  it('the phonebook names the caller over the display name', async () => {
    const calls = new FakeCallService();
    const b = await phoneBoard({ calls, phone: { phonebook: new Phonebook([{ name: 'Alice (desk)', number: '+49 30 1002' }]) } });
    calls.ring('+49301002', 'ALICE A');
    await b.wait();
    expect(b.lcd().slice(1, 3)).toEqual(['Alice (desk)', '+49301002']);
  });

  it('a 16x2 shows the number on the first row and the name on the second', async () => {
    const calls = new FakeCallService();
    const b = await phoneBoard({ calls, display: { columns: 16, rows: 2 } });
    calls.ring('1002', 'Bob');
    await b.wait();
    expect(b.lcd()).toEqual([`${BELL} 1002`, 'Bob']);
  });

  it('the caller gives up: the screen goes back to idle with "1 missed", history has it as missed', async () => {
    const calls = new FakeCallService();
    const b = await phoneBoard({ calls });
    const call = calls.ring('1002');
    await b.wait(1000);
    call.callerCancels();
    await b.wait();
    expect(b.phone.currentState).toBe(PhoneState.Idle);
    expect(b.hw.ringer?.ringing).toBe(false);
    expect(b.led('line')).toBe('off');
    expect(b.lcd()[1]).toBe('1 missed');
    expect(b.history.missedUnseen).toBe(1);
    expect(b.history.list('missed')[0]).toMatchObject({ number: '1002', outcome: 'missed' });
  });

  it('reject with C (or * on any keypad): 603, logged as received-rejected, not missed', async () => {
    const calls = new FakeCallService();
    const b = await phoneBoard({ calls });
    const first = calls.ring('1002');
    await b.wait();
    await b.keys('C');
    expect(first.actions).toEqual(['reject 603']);
    expect(b.phone.currentState).toBe(PhoneState.Idle);
    const second = calls.ring('1003');
    await b.wait();
    await b.keys('*');
    expect(second.actions).toEqual(['reject 603']);
    expect(b.history.missedUnseen).toBe(0);
    expect(b.history.list('received').map((r) => r.outcome)).toEqual(['rejected', 'rejected']);
  });

  it('silence (B, or #) stops the ringer and keeps the call on the screen; lifting still answers', async () => {
    const calls = new FakeCallService();
    const b = await phoneBoard({ calls });
    const call = calls.ring('1002');
    await b.wait();
    await b.keys('B');
    expect(b.hw.ringer?.ringing).toBe(false);
    expect(b.media.ringing).toBeNull();
    expect(b.phone.currentState).toBe(PhoneState.Ringing);
    expect(b.lcd()[2]).toBe('Ringer off');
    expect(b.led('line')).toBe('fast-blink');
    await b.lift();
    expect(call.actions).toEqual(['accept']);
  });

  it('the answer softkey takes the call on the speaker', async () => {
    const calls = new FakeCallService();
    const b = await phoneBoard({ calls });
    const call = calls.ring('1002');
    await b.wait();
    await b.keys('A');
    expect(call.actions).toEqual(['accept']);
    expect(b.media.audioPath).toBe('speaker');
    expect(b.phone.currentState).toBe(PhoneState.Connected);
    // Lifting the handset moves the call to it.
    await b.lift();
    expect(b.media.audioPath).toBe('handset');
    expect(b.phone.currentState).toBe(PhoneState.Connected);
  });

  it('a call while dialing gets 486 and is logged as missed', async () => {
    const calls = new FakeCallService();
    const b = await phoneBoard({ calls });
    await b.lift();
    const call = calls.ring('1002');
    await b.wait();
    expect(call.actions).toEqual(['reject 486']);
    expect(b.phone.currentState).toBe(PhoneState.Dialing);
    expect(b.history.missedUnseen).toBe(1);
  });

  it('on-hook dialing gives way to an incoming call', async () => {
    const calls = new FakeCallService();
    const b = await phoneBoard({ calls });
    await b.keys('10');
    calls.ring('1002');
    await b.wait();
    expect(b.phone.currentState).toBe(PhoneState.Ringing);
    expect(b.phone.dialedDigits).toBe('');
  });
});
