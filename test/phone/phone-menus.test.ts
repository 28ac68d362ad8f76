// The menus on the emulated board: main menu, phonebook, settings (DND, forwarding with number entry, volumes, ring tone), history from the menu with delete; 4x4 softkeys and 4x3 keys; 16x2, 20x4 and OLED layouts; changes persisted in the SettingsStore.
import { describe, expect, it } from 'vitest';
import { RING_CADENCES } from '../../firmware/media/tones.js';
import { PhoneState } from '../../firmware/phone/phone-state.js';
import { Phonebook } from '../../firmware/phone/phonebook.js';
import { FakeCallService } from './support/fake-call-service.js';
import { phoneBoard, WALL } from './support/phone-board.js';

const FORWARD = '\u0007';
const BELL = '\u0002';
const phonebook = (): Phonebook =>
  new Phonebook([
    { name: 'Carol', number: '1003' },
    { name: 'Alice', number: '1002', speedDial: 2 },
  ]);

/** Every tap is also a long press (the panel holds keys 80 ms): a long '*' opens the menu from idle. */
const LONG = { longPressMs: 50 };

describe('menus on a 20x4 with a 4x4 keypad (softkeys OK / Up / Down / Back)', () => {
  it('long * opens the menu; Up / Down move a cursor (the list turns); the phonebook dials the entry on the speaker', async () => {
    const calls = new FakeCallService();
    const b = await phoneBoard({ calls, ...LONG, phone: { phonebook: phonebook() } });
    await b.keys('*');
    expect(b.phone.currentState).toBe(PhoneState.Menu);
    expect(b.lcd()).toEqual(['Menu             1/3', '>Call history', ' Phonebook', 'OK   Up   Down Back']);
    await b.keys('B');
    expect(b.lcd().slice(0, 3)).toEqual(['Menu             3/3', '>Settings', '']);
    await b.keys('C');
    await b.keys('8');
    expect(b.lcd()[2]).toBe('>Phonebook');
    await b.keys('A');
    expect(b.lcd().slice(0, 3)).toEqual(['Phonebook        1/2', '>Alice          1002', ' Carol          1003']);
    await b.keys('8#');
    expect(calls.last.remote.number).toBe('1003');
    expect(b.phone.currentState).toBe(PhoneState.Calling);
    expect(b.media.audioPath).toBe('speaker');
  });

  it('lifting the handset on a phonebook entry calls it on the handset; Back leaves level by level', async () => {
    const calls = new FakeCallService();
    const b = await phoneBoard({ calls, ...LONG, phone: { phonebook: phonebook() } });
    await b.keys('*8A');
    await b.lift();
    expect(calls.last.remote.number).toBe('1002');
    expect(b.media.audioPath).toBe('handset');
    await b.hangUp();
    await b.keys('*8A');
    await b.keys('D');
    expect(b.lcd()[0]).toBe('Menu             2/3');
    await b.keys('D');
    expect(b.phone.currentState).toBe(PhoneState.Idle);
  });

  it('settings: DND on / off, the volume level bar (persisted), the ring tone from the choices', async () => {
    const calls = new FakeCallService();
    const b = await phoneBoard({ calls, ...LONG });
    await b.keys('*BA');
    expect(b.lcd()).toEqual(['Settings         1/5', '>DND             Off', ' Forward', 'OK   Up   Down Back']);
    await b.keys('A');
    expect(b.lcd()[1]).toBe('>DND              On');
    expect(calls.dnd).toEqual([false, true]);
    expect(b.settings.settings.dnd).toBe(true);
    await b.keys('88');
    expect(b.lcd().slice(1, 3)).toEqual(['>Handset vol       5', ' Speaker vol       5']);
    await b.keys('A');
    expect(b.lcd().slice(0, 2)).toEqual(['Handset volume', '[#####-----] 5']);
    await b.keys('BB');
    expect(b.lcd()[1]).toBe('[#######---] 7');
    await b.keys('A');
    expect(b.lcd()[1]).toBe('>Handset vol       7');
    await b.keys('88A');
    expect(b.lcd().slice(0, 3)).toEqual(['Ring tone        1/6', '>default           *', ' US']);
    await b.keys('888A');
    expect(b.settings.settings.ringTone).toBe('DE');
    expect(b.lcd()[1]).toBe('>Ring tone        DE');
    await b.settings.flush();
    expect(b.settings.settings.volume.handset).toBe(7);
    // Out of the menus, an incoming call rings with the German cadence on the buzzer and the engine.
    await b.keys('DD');
    expect(b.phone.currentState).toBe(PhoneState.Idle);
    b.settings.setDnd(false);
    calls.ring('1002');
    await b.wait();
    expect(b.media.ringing).toMatchObject({ kind: 'tone', spec: { segments: expect.arrayContaining([expect.objectContaining({ durationMs: RING_CADENCES.DE.onOffMs[0] })]) } });
    expect(b.panel.ringerOn()).toBe(true);
    await b.wait(RING_CADENCES.DE.onOffMs[0]! + 100);
    expect(b.panel.ringerOn()).toBe(false);
  });

  it('forwarding: a number typed and saved (persisted, the idle indicator), an empty entry switches it off over the config', async () => {
    const calls = new FakeCallService();
    const b = await phoneBoard({ calls, ...LONG, phone: { features: { forward: { busy: '5000', noAnswerAfterS: 25 } } } });
    await b.keys('*BA8A');
    expect(b.lcd()).toEqual(['Call forward     1/4', '>Always          Off', ' Busy           5000', 'OK   Up   Down Back']);
    await b.keys('A');
    expect(b.lcd()).toEqual(['Fwd always to:', '', 'Empty: off', 'Save      Back Del']);
    await b.keys('1009');
    expect(b.lcd()[1]).toBe('1009');
    await b.keys('#');
    expect(b.settings.settings.callForward.always).toBe('1009');
    expect(b.lcd().slice(0, 2)).toEqual(['Fwd to 1009', '>Always         1009']);
    // Busy comes from the config until the menu switches it off.
    await b.keys('8A');
    expect(b.lcd()[1]).toBe('5000');
    await b.keys('DDDD');
    expect(b.lcd()[1]).toBe('');
    await b.keys('A');
    expect(b.settings.settings.callForward.busy).toBe(false);
    expect(b.lcd()[2]).toBe('>Busy            Off');
    // Ring for: the config's 25 s until set here.
    await b.keys('88');
    expect(b.lcd()[2]).toBe('>Ring for        25s');
    await b.keys('ADD0#');
    expect(b.lcd()[0]).toBe('1 to 300 seconds');
    await b.keys('D1#');
    expect(b.settings.settings.callForward.noAnswerAfterS).toBe(1);
    await b.keys('DDD');
    expect(b.phone.currentState).toBe(PhoneState.Idle);
    await b.wait(3000);
    expect(b.lcd()[1]).toBe(`${FORWARD}1009`);
    expect(calls.ring('1002').actions).toEqual(['redirect 1009']);
    await b.wait();
  });

  it('history from the menu: Back returns to the menu; a long 0 deletes the entry shown', async () => {
    const calls = new FakeCallService();
    const b = await phoneBoard({ calls, ...LONG });
    b.history.add({ direction: 'incoming', number: '1002', startedAt: WALL - 60_000, outcome: 'missed' });
    b.history.add({ direction: 'incoming', number: '1003', startedAt: WALL, outcome: 'missed' });
    await b.keys('*A');
    expect(b.phone.currentState).toBe(PhoneState.History);
    expect(b.lcd()[0]).toBe('Missed 1/2     15:49');
    await b.keys('0');
    expect(b.history.list('missed').map((r) => r.number)).toEqual(['1002']);
    expect(b.lcd().slice(0, 2)).toEqual(['Deleted        15:48', '1002']);
    await b.keys('D');
    expect(b.phone.currentState).toBe(PhoneState.Menu);
    await b.keys('D');
    expect(b.phone.currentState).toBe(PhoneState.Idle);
  });

  it('an incoming call rings over the menu; a minute without a key goes back to idle', async () => {
    const calls = new FakeCallService();
    const b = await phoneBoard({ calls, ...LONG });
    await b.keys('*');
    const call = calls.ring('1002');
    await b.wait();
    expect(b.phone.currentState).toBe(PhoneState.Ringing);
    expect(b.lcd()[0]).toBe(`${BELL} Incoming call`);
    call.callerCancels();
    await b.wait();
    await b.keys('*8');
    await b.wait(59_000);
    expect(b.phone.currentState).toBe(PhoneState.Menu);
    await b.wait(1100);
    expect(b.phone.currentState).toBe(PhoneState.Idle);
  });
});

describe('menus on a 16x2 with a 4x3 keypad (2 / 8 move, # OK, * back)', () => {
  it('one row per item; the settings reached and changed with 8 and #; * goes back', async () => {
    const calls = new FakeCallService();
    const b = await phoneBoard({ calls, display: { columns: 16, rows: 2 }, layout: '4x3', ...LONG });
    await b.keys('*');
    expect(b.lcd()).toEqual(['Menu         1/3', '>Call history']);
    await b.keys('88#');
    expect(b.lcd()).toEqual(['Settings     1/5', '>DND         Off']);
    await b.keys('#');
    expect(b.lcd()[1]).toBe('>DND          On');
    await b.keys('8#');
    expect(b.lcd()).toEqual(['Call forward 1/4', '>Always      Off']);
    await b.keys('8#');
    expect(b.lcd()).toEqual(['Fwd busy to:', '']);
    await b.keys('55#');
    expect(b.settings.settings.callForward.busy).toBe('55');
    expect(b.lcd()).toEqual(['Fwd to 55', '>Busy         55']);
    await b.wait(3000);
    await b.keys('*');
    expect(b.lcd()[0]).toBe('Settings     2/5');
    await b.keys('**');
    expect(b.phone.currentState).toBe(PhoneState.Idle);
  });

  it('a 20x4 without softkeys shows the keys to use on the bottom row', async () => {
    const b = await phoneBoard({ calls: new FakeCallService(), layout: '4x3', ...LONG });
    await b.keys('*');
    expect(b.lcd()[3]).toBe('2/8 move # OK * back');
    await b.keys('88#8##');
    expect(b.lcd()).toEqual(['Fwd always to:', '', 'Empty: off', '# save  long * del']);
  });
});

describe('menus on the OLED (21x8)', () => {
  it('six items under the title, softkeys at the bottom', async () => {
    const b = await phoneBoard({ calls: new FakeCallService(), display: 'oled', ...LONG });
    await b.keys('*88#');
    const rows = b.lcd();
    expect(rows).toHaveLength(8);
    expect(rows[0]).toBe('Settings          1/5');
    expect(rows.slice(1, 6)).toEqual(['>DND              Off', ' Forward', ' Handset vol        5', ' Speaker vol        5', ' Ring tone    default']);
    expect(rows[7]).toBe('OK   Up   Down Back');
  });
});
