import { describe, expect, it } from 'vitest';
import type { VolumePath } from '../../firmware/phone/settings-store.js';
import { PhoneState } from '../../firmware/phone/phone-state.js';
import { FakeCallService } from './support/fake-call-service.js';
import { phoneBoard, type BoardOptions } from './support/phone-board.js';

const HOLD = '\u0004';
const MUTE = '\u0005';

/** A board with one connected outgoing call to 1002. */
async function inCall(o: BoardOptions = {}) {
  const calls = new FakeCallService();
  const audio = { volumes: [] as [VolumePath, number][], muted: [] as boolean[] };
  const b = await phoneBoard({
    calls,
    ...o,
    phone: { audio: { setVolume: (p, l) => audio.volumes.push([p, l]), setMuted: (m) => audio.muted.push(m) }, ...o.phone },
  });
  await b.lift();
  await b.keys('1002#');
  const call = calls.last;
  call.answered();
  await b.wait();
  return { b, calls, call, audio };
}

describe('keys in a call', () => {
  it('digits, * and # go out as DTMF', async () => {
    const { b, call } = await inCall();
    await b.keys('12*#');
    expect(call.dtmf).toEqual(['1', '2', '*', '#']);
  });

  it('mute (B) shows its glyph and tells the audio; again unmutes', async () => {
    const { b, audio } = await inCall();
    await b.keys('B');
    expect(audio.muted).toEqual([true]);
    expect(b.lcd()[0]).toBe(`${MUTE} Connected    00:00`);
    expect(b.lcd()[2]).toBe('Muted');
    await b.keys('B');
    expect(audio.muted).toEqual([true, false]);
    expect(b.lcd()[0]).toBe('Connected      00:00');
  });

  it('volume: the second page (D) has Vol- / Vol+, per path, persisted in the settings', async () => {
    const { b, audio } = await inCall();
    await b.keys('D');
    expect(b.lcd()[3]).toBe('Vol- Vol+ Qual More');
    await b.keys('BB');
    expect(b.lcd()[2]).toBe('Handset vol 7');
    await b.keys('A');
    expect(audio.volumes.filter(([p]) => p === 'handset').map(([, l]) => l).slice(-3)).toEqual([6, 7, 6]);
    expect(b.settings.settings.volume).toEqual({ handset: 6, speaker: 5 });
    await b.settings.flush();
  });

  it('hold and resume (A); the line LED blinks slowly while held', async () => {
    const { b, call } = await inCall();
    await b.keys('A');
    expect(call.actions).toEqual(['hold']);
    expect(b.lcd()[0]).toBe(`${HOLD} On hold      00:00`);
    expect(b.led('line')).toBe('slow-blink');
    await b.keys('A');
    expect(call.actions).toEqual(['hold', 'resume']);
    expect(b.lcd()[0]).toBe('Connected      00:00');
  });

  it('a hold the peer refuses is undone and said', async () => {
    const { b, call } = await inCall();
    call.agree = false;
    await b.keys('A');
    expect(b.lcd()[0]).toBe('Connected      00:00');
    expect(b.lcd()[2]).toBe('Hold failed');
  });

  it('on hook with the call on hold: it rings back; lifting resumes it', async () => {
    const { b, call } = await inCall();
    await b.keys('A');
    await b.hangUp();
    expect(call.actions).toEqual(['hold']);
    expect(b.phone.currentState).toBe(PhoneState.Ringing);
    expect(b.lcd()[0]).toBe(`${HOLD} Held call`);
    expect(b.hw.ringer?.ringing).toBe(true);
    await b.lift();
    expect(call.actions).toEqual(['hold', 'resume']);
    expect(b.phone.currentState).toBe(PhoneState.Connected);
    expect(b.hw.ringer?.ringing).toBe(false);
  });

  it('call waiting: a second call beeps and shows; A answers it (the first goes on hold); Swap (page 3) swaps; on hook ends one, the other rings back', async () => {
    const { b, calls, call } = await inCall();
    const second = calls.ring('1003', 'Carol');
    await b.wait();
    expect(b.media.tone?.segments[0]?.frequenciesHz).toEqual([440]);
    expect(b.lcd()[2]).toBe('Waiting: Carol');
    expect(b.lcd()[3]).toBe('Ans       Rej  End');
    await b.keys('A');
    expect(call.actions).toEqual(['hold']);
    expect(second.actions).toEqual(['accept']);
    expect(b.media.tone).toBeNull();
    expect(b.lcd().slice(0, 3)).toEqual(['Connected      00:00', 'Carol', `${HOLD} 1002`]);
    await b.keys('DD'); // page 3
    expect(b.lcd()[3]).toBe('Swap Conf End  More');
    await b.keys('A');
    expect(second.actions).toEqual(['accept', 'hold']);
    expect(call.actions).toEqual(['hold', 'resume']);
    expect(b.lcd().slice(0, 3)).toEqual(['Connected      00:00', '1002', `${HOLD} Carol`]);
    await b.hangUp();
    expect(call.actions).toContain('hangup');
    expect(b.phone.currentState).toBe(PhoneState.Ringing);
    await b.lift();
    expect(second.actions).toEqual(['accept', 'hold', 'resume']);
    expect(b.lcd()[1]).toBe('Carol');
  });

  it('a waiting call rejected with C gets 603; one that gives up just disappears', async () => {
    const { b, calls } = await inCall();
    const w1 = calls.ring('1003');
    await b.wait();
    await b.keys('C');
    expect(w1.actions).toEqual(['reject 603']);
    const w2 = calls.ring('1004');
    await b.wait();
    w2.callerCancels();
    await b.wait();
    expect(b.media.tone).toBeNull();
    expect(b.lcd()[2]).toBe('');
    expect(b.history.missedUnseen).toBe(1);
  });

  it('the far end hangs up while another call is held: "Call ended", Res (B) resumes the held one', async () => {
    const { b, calls, call } = await inCall();
    const second = calls.ring('1003');
    await b.wait();
    await b.keys('A');
    second.remoteHangup();
    await b.wait();
    expect(b.phone.currentState).toBe(PhoneState.Ended);
    expect(b.lcd()[0]).toBe('Call ended     00:00');
    expect(b.lcd()[2]).toBe(`${HOLD} 1 on hold`);
    await b.keys('B');
    expect(call.actions).toEqual(['hold', 'resume']);
    expect(b.phone.currentState).toBe(PhoneState.Connected);
  });

  it('blind transfer: Xfer (C), the number, #; the call is handed over and ends', async () => {
    const { b, call } = await inCall();
    await b.keys('C');
    expect(b.phone.currentState).toBe(PhoneState.Transfer);
    expect(b.lcd()[0]).toBe('Transfer to:');
    await b.keys('1005#');
    expect(call.actions).toEqual(['transfer 1005', 'hangup']);
    expect(b.phone.currentState).toBe(PhoneState.Ended);
  });

  it('a transfer cancelled with Back returns to the call', async () => {
    const { b, call } = await inCall();
    await b.keys('C1C');
    expect(b.phone.currentState).toBe(PhoneState.Connected);
    expect(call.actions).toEqual([]);
  });

  it('conference (page 3, B) joins the active and the held call', async () => {
    const { b, calls, call } = await inCall();
    const second = calls.ring('1003');
    await b.wait();
    await b.keys('A');
    await b.keys('DDB');
    expect(calls.conferenced).toEqual([[second.id, call.id]]);
    expect(b.lcd()[0]).toBe('Conference     00:00');
  });

  it('conference pressed again splits it: the other call goes on hold', async () => {
    const { b, calls, call } = await inCall();
    const second = calls.ring('1003');
    await b.wait();
    await b.keys('A');
    await b.keys('DDB');
    expect(calls.conferenced).toHaveLength(1);
    await b.keys('B');
    expect(calls.splits).toBe(1);
    expect(b.lcd()[0]).not.toMatch(/^Conference/);
    expect(call.actions).toContain('hold');
    expect(second.actions).not.toContain('hangup');
  });

  it('a leg of the conference hanging up splits it; the other call goes on', async () => {
    const { b, calls, call } = await inCall();
    const second = calls.ring('1003');
    await b.wait();
    await b.keys('A');
    await b.keys('DDB');
    call.remoteHangup();
    await b.wait();
    expect(calls.splits).toBe(1);
    expect(b.phone.currentState).toBe(PhoneState.Connected);
    expect(second.actions).not.toContain('hangup');
  });

  it('the quality key (page 2, C) shows MOS, loss and jitter during the call', async () => {
    const { b, call } = await inCall();
    call.statsValue = { mos: 4.1, effectiveLossPercent: 2.25, jitterMs: 7, rttMs: null };
    await b.keys('DC');
    await b.wait(1000);
    expect(b.lcd().slice(2)).toEqual(['MOS 4.1 Loss 2.3%', 'Jit 7ms']);
    await b.keys('C');
    expect(b.lcd()[3]).toBe('Vol- Vol+ Qual More');
  });

  it('4x3 keypad: long presses do what the softkeys do (2 / 8 volume, * mute, # hold)', async () => {
    const { b, call, audio } = await inCall({ layout: '4x3', longPressMs: 50 });
    expect(b.lcd()[3]).toBe('');
    await b.keys('2');
    expect(audio.volumes.at(-1)).toEqual(['handset', 6]);
    await b.keys('*');
    expect(audio.muted).toEqual([true]);
    await b.keys('#');
    expect(call.actions).toEqual(['hold']);
    // The press sent its digit before the long press was known.
    expect(call.dtmf).toEqual(['2', '*', '#']);
  });

  it('End (page 3, C) with the handset up and a call on hold: the held call comes back at once', async () => {
    const { b, calls, call } = await inCall();
    const second = calls.ring('1003');
    await b.wait();
    await b.keys('A'); // answer the waiting call, the first goes on hold
    await b.keys('DDC'); // End
    expect(second.actions).toEqual(['accept', 'hangup']);
    expect(call.actions).toEqual(['hold', 'resume']);
    expect(b.phone.currentState).toBe(PhoneState.Connected);
    expect(b.hw.ringer?.ringing).toBe(false);
  });
});
