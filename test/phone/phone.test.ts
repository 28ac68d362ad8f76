import { describe, expect, it } from 'vitest';
import { outcomeView, OUTCOME_VIEWS, qualityLines } from '../../firmware/phone/call-screens.js';
import { idleScreen } from '../../firmware/phone/idle-screen.js';
import { actionOf, SOFTKEYS, softkeyRow } from '../../firmware/phone/keymap.js';
import { PhoneState, phoneTransition } from '../../firmware/phone/phone-state.js';
import { formatDuration, spread, tail } from '../../firmware/phone/screens.js';
import { outcomeOfStatus } from '../../firmware/sip/ua/call/session-outcome.js';
import { FakeCallService } from './support/fake-call-service.js';
import { phoneBoard, WALL } from './support/phone-board.js';

const ENVELOPE = '\u0001';
const BELL = '\u0002';
const FORWARD = '\u0007';
const CAPS = { columns: 20, rows: 4, customCharacters: 8, backlight: true, glyphWidth: 5, glyphHeight: 8 };

describe('the idle screen on the emulated board', () => {
  it('without a call service: the account text, date and time, no softkeys (as main.ts builds it today)', async () => {
    const b = await phoneBoard({ phone: { accountStatus: () => 'No account' } });
    expect(b.lcd()).toEqual(['No account', '', 'Sat 21 Nov     15:49', '']);
  });

  it('the registration line, the clock and the softkeys on a 20x4; the clock moves on the minute', async () => {
    const calls = new FakeCallService();
    const b = await phoneBoard({ calls });
    expect(b.lcd()).toEqual(['Registered 1001', '', 'Sat 21 Nov     15:49', 'Redl DND  Hist Spkr']);
    await b.wait(30_000);
    expect(b.lcd()[2]).toBe('Sat 21 Nov     15:50');
    calls.setLine({ state: 'registering', lastFailure: undefined });
    await b.wait();
    expect(b.lcd()[0]).toBe('Registering 1001');
    calls.setLine({ state: 'failed', reason: 'wrong user name or password (401 Unauthorized)', statusCode: 401, cause: 'wrong-credentials', retryAtMs: 0 });
    await b.wait();
    expect(b.lcd()[0]).toBe('1001: wrong user nam');
  });

  it('a problem replaces the line', async () => {
    const b = await phoneBoard({ calls: new FakeCallService(), phone: { problem: () => 'No keypad' } });
    expect(b.lcd()[0]).toBe('No keypad');
  });

  it('voicemail: the envelope with the count and the MWI LED; missed calls, DND and forwarding', async () => {
    const calls = new FakeCallService();
    const b = await phoneBoard({ calls });
    calls.setVoicemail({ waiting: true, newMessages: 2, oldMessages: 1 });
    await b.wait();
    expect(b.lcd()[1]).toBe(`${ENVELOPE}2`);
    expect(b.led('mwi')).toBe('slow-blink');
    b.history.add({ direction: 'incoming', number: '1002', startedAt: WALL, outcome: 'missed' });
    b.settings.setForward('always', '19');
    await b.keys('B');
    expect(calls.dnd).toEqual([false, true]);
    expect(b.settings.settings.dnd).toBe(true);
    expect(b.lcd()[1]).toBe('DND on');
    await b.wait(3000);
    expect(b.lcd()[1]).toBe(`${ENVELOPE}2 1 missed DND ${FORWARD}19`);
    b.settings.setForward('always', '1009');
    await b.wait();
    expect(b.lcd()[1]).toBe(`${ENVELOPE}2 ${BELL}1 DND ${FORWARD}`);
    calls.setVoicemail({ waiting: false, newMessages: 0, oldMessages: 3 });
    await b.wait();
    expect(b.led('mwi')).toBe('off');
  });

  it('16x2: the line, then the indicators (or the date) beside the clock', async () => {
    const calls = new FakeCallService();
    const b = await phoneBoard({ calls, display: { columns: 16, rows: 2 } });
    expect(b.lcd()).toEqual(['Registered 1001', 'Sat 21 Nov 15:49']);
    calls.setVoicemail({ waiting: true, newMessages: 3, oldMessages: 0 });
    b.history.add({ direction: 'incoming', number: '1002', startedAt: WALL, outcome: 'missed' });
    b.settings.setDnd(true);
    await b.wait();
    expect(b.lcd()).toEqual(['Registered 1001', `${ENVELOPE}3 ${BELL}1 DND  15:49`]);
  });

  it('OLED (21x8): one indicator per row', async () => {
    const calls = new FakeCallService();
    const b = await phoneBoard({ calls, display: 'oled' });
    b.history.add({ direction: 'incoming', number: '1002', startedAt: WALL, outcome: 'missed' });
    b.history.add({ direction: 'incoming', number: '1003', startedAt: WALL, outcome: 'missed' });
    b.settings.setDnd(true);
    await b.wait();
    expect(b.hw.display.capabilities).toMatchObject({ columns: 21, rows: 8 });
    const rows = b.lcd();
    expect(rows[0]).toBe('Registered 1001');
    expect(rows[2]).toBe('Sat 21 Nov      15:49');
    expect(rows[3]?.endsWith('2 missed calls')).toBe(true);
    expect(rows[4]).toBe('Do not disturb');
    expect(rows[7]).toBe('Redl DND  Hist Spkr');
  });

  it('history (C): the missed list newest first, the unseen count cleared; # dials the entry', async () => {
    const calls = new FakeCallService();
    const b = await phoneBoard({ calls });
    b.history.add({ direction: 'incoming', number: '1002', startedAt: WALL - 3_600_000, outcome: 'missed' });
    b.history.add({ direction: 'incoming', number: '1003', name: 'Carol', startedAt: WALL, outcome: 'missed' });
    await b.keys('C');
    expect(b.phone.currentState).toBe(PhoneState.History);
    expect(b.lcd()).toEqual(['Missed 1/2     15:49', 'Carol', '1003', 'Dial List Next Back']);
    expect(b.history.missedUnseen).toBe(0);
    await b.keys('C');
    expect(b.lcd().slice(0, 2)).toEqual(['Missed 2/2     14:49', '1002']);
    await b.keys('#');
    expect(calls.last.remote.number).toBe('1002');
  });

  it('4x3: a long * on the idle screen opens the menu (DND is in its settings)', async () => {
    const calls = new FakeCallService();
    const b = await phoneBoard({ calls, layout: '4x3', longPressMs: 50 });
    expect(b.lcd()[3]).toBe('');
    await b.keys('*');
    expect(b.phone.currentState).toBe(PhoneState.Menu);
    expect(b.lcd()[0]).toBe('Menu             1/3');
  });
});

describe('screens and tables', () => {
  it('rejects a transition the diagram does not draw', () => {
    expect(() => phoneTransition(PhoneState.Dialing, PhoneState.PreDial)).toThrow(/dialing -> pre-dial/);
  });

  it('layout helpers: spread keeps the right side, tail keeps the last digits, durations', () => {
    expect(spread('Saturday 21 November', '15:49', 16)).toBe('Saturday 2 15:49');
    expect(tail('123456789012', 8)).toBe('<6789012');
    expect(formatDuration(65_400)).toBe('01:05');
    expect(formatDuration(3_725_000)).toBe('1:02:05');
    const rows = idleScreen(CAPS, { line: 'Registered 1001', now: new Date(WALL), format: { timeFormat: '12h', dateFormat: 'mdy' }, missed: 0, voicemail: undefined, dnd: false, forward: undefined, softkeys: undefined });
    expect(rows[2]).toBe('Sat Nov 21    3:49pm');
  });

  it('every outcome has a screen text of at most 16 characters; busy tone for busy, congestion for network failures', () => {
    for (const v of Object.values(OUTCOME_VIEWS)) expect(v.text.length).toBeLessThanOrEqual(16);
    expect(outcomeView(outcomeOfStatus(486, 'Busy Here'))).toEqual({ text: 'Busy', tone: 'busy' });
    expect(outcomeView(outcomeOfStatus(404, 'Not Found')).tone).toBe('congestion');
    expect(outcomeView(outcomeOfStatus(503, 'Service Unavailable')).tone).toBe('congestion');
  });

  it('the key map: one table for softkeys and long presses; labels fit 16 and 20 columns', () => {
    expect(actionOf('idle', 'A', 'down')).toBe('redial');
    expect(actionOf('call-2', 'B', 'down')).toBe('volume-up');
    expect(actionOf('call-3', '2', 'long')).toBe('volume-up');
    expect(actionOf('ringing', '*', 'down')).toBe('reject');
    expect(actionOf('call-1', '5', 'down')).toBeUndefined();
    for (const keys of Object.values(SOFTKEYS)) for (const k of keys) expect((k?.label ?? '').length).toBeLessThanOrEqual(4);
    expect(softkeyRow('call-1', 16)).toBe('Hol Mut Xfe Mor');
    expect(qualityLines({ mos: 3.04, lossPercent: 12.6, jitterMs: 30.2, rttMs: 120 })).toEqual(['MOS 3.0 Loss 13%', 'Jit 30ms RTT 120ms']);
  });
});
