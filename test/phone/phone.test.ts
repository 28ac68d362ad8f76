import { describe, expect, it } from 'vitest';
import { Phone } from '../../firmware/phone/phone.js';
import { PhoneState, phoneTransition } from '../../firmware/phone/phone-state.js';
import { idleScreen, spread, tail } from '../../firmware/phone/screens.js';
import { VirtualClock } from '../../firmware/util/clock.js';
import { silentLogger } from '../../firmware/util/log.js';
import { NullDisplay } from '../../hal/display/null-display.js';
import { FakeHook, FakeKeypad, FakeLeds } from '../support/fake-devices.js';

// 2026-11-21 (a Saturday) 15:49:30 local time.
const wall = new Date(2026, 10, 21, 15, 49, 30).getTime();

async function setup(caps: { columns: number; rows: number } = { columns: 20, rows: 4 }) {
  const clock = new VirtualClock({ wallEpochMs: wall });
  const display = new NullDisplay(caps);
  const keypad = new FakeKeypad();
  const hook = new FakeHook();
  const leds = new FakeLeds();
  const phone = new Phone({ display, keypad, hook, leds, clock, log: silentLogger(), format: { timeFormat: '24h', dateFormat: 'dmy' }, accountStatus: () => 'No account' });
  await phone.start();
  return { clock, display, keypad, hook, leds, phone };
}

describe('phone', () => {
  it('shows the idle screen: account state, date and time on a 20x4', async () => {
    const { display } = await setup();
    expect(display.lines()).toEqual(['No account', '', 'Sat 21 Nov     15:49', '']);
  });

  it('lays the idle screen out on a 16x2', async () => {
    const { display } = await setup({ columns: 16, rows: 2 });
    expect(display.lines()).toEqual(['No account', 'Sat 21 Nov 15:49']);
  });

  it('moves the clock on the minute', async () => {
    const { display, clock } = await setup();
    await clock.advance(29_000);
    expect(display.lines()[2]).toContain('15:49');
    await clock.advance(1_100);
    expect(display.lines()[2]).toContain('15:50');
  });

  it('lifting the handset shows dial tone, digits show as typed, replacing it returns to idle', async () => {
    const { display, keypad, hook, leds, phone, clock } = await setup();
    hook.set(true);
    await clock.advance(1);
    expect(phone.currentState).toBe(PhoneState.Dialing);
    expect(display.lines()[0]).toBe('\u0000 Dial tone');
    expect(leds.get('line')).toBe('on');
    keypad.type('1001');
    await clock.advance(1);
    expect(display.lines().slice(0, 2)).toEqual(['\u0000 Dialing', '1001']);
    hook.set(false);
    await clock.advance(1);
    expect(phone.currentState).toBe(PhoneState.Idle);
    expect(display.lines()[0]).toBe('No account');
    expect(leds.get('line')).toBe('off');
  });

  it('on-hook dialing: digits first, D erases, lifting keeps them', async () => {
    const { display, keypad, hook, phone, clock } = await setup();
    keypad.type('1002D3');
    await clock.advance(1);
    expect(phone.currentState).toBe(PhoneState.PreDial);
    expect(display.lines().slice(0, 2)).toEqual(['Number:', '1003']);
    hook.set(true);
    await clock.advance(1);
    expect(phone.dialedDigits).toBe('1003');
    expect(display.lines()[1]).toBe('1003');
  });

  it('erasing the last pre-dial digit returns to idle', async () => {
    const { keypad, phone, clock } = await setup();
    keypad.type('5D');
    await clock.advance(1);
    expect(phone.currentState).toBe(PhoneState.Idle);
  });

  it('rejects a transition the diagram does not draw', () => {
    expect(() => phoneTransition(PhoneState.Dialing, PhoneState.PreDial)).toThrow(/dialing -> pre-dial/);
  });

  it('layout helpers: spread keeps the right side, tail keeps the last digits', () => {
    expect(spread('Saturday 21 November', '15:49', 16)).toBe('Saturday 2 15:49');
    expect(tail('123456789012', 8)).toBe('<6789012');
    const rows = idleScreen({ columns: 20, rows: 4, customCharacters: 8, backlight: true, glyphWidth: 5, glyphHeight: 8 }, { accountStatus: 'Registered 1001', now: new Date(wall), format: { timeFormat: '12h', dateFormat: 'mdy' } });
    expect(rows[2]).toBe('Sat Nov 21    3:49pm');
  });
});
