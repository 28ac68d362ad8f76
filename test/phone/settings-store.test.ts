// The user's settings: defaults, setters and their checks, persistence, files of older firmware, broken files.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StoreFormatError } from '../../firmware/phone/json-store.js';
import { defaultSettings, SettingsStore, validateSettings, type PhoneSettings } from '../../firmware/phone/settings-store.js';
import { VirtualClock } from '../../firmware/util/clock.js';
import { silentLogger } from '../../firmware/util/log.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'offhook-settings-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function settings() {
  const clock = new VirtualClock();
  const file = join(dir, 'settings.json');
  const s = new SettingsStore({ file, clock, log: silentLogger() });
  const changes: PhoneSettings[] = [];
  s.on('change', (v) => changes.push(v));
  return { s, clock, file, changes };
}

describe('SettingsStore', () => {
  it('starts from the defaults', async () => {
    const { s } = settings();
    expect(await s.load()).toEqual({ status: 'missing' });
    expect(s.settings).toEqual({ volume: { handset: 5, speaker: 5 }, ringTone: 'default', dnd: false, callForward: {} });
  });

  it('sets and clamps volumes', async () => {
    const { s } = settings();
    await s.load();
    expect(s.setVolume('handset', 8)).toBe(8);
    expect(s.setVolume('speaker', 14)).toBe(10);
    expect(s.stepVolume('speaker', 1)).toBe(10);
    expect(s.stepVolume('handset', -1)).toBe(7);
    expect(s.setVolume('handset', -3)).toBe(0);
    expect(s.settings.volume).toEqual({ handset: 0, speaker: 10 });
  });

  it('emits change only when something changed', async () => {
    const { s, changes } = settings();
    await s.load();
    changes.length = 0;
    s.setDnd(true);
    s.setDnd(true);
    expect(changes).toHaveLength(1);
    expect(s.toggleDnd()).toBe(false);
    expect(changes).toHaveLength(2);
  });

  it('sets and clears call forwarding, checking targets', async () => {
    const { s } = settings();
    await s.load();
    s.setForward('always', '+49 30 1234'.replace(/ /g, ''));
    s.setForward('busy', 'sip:voicemail@pbx.example.com');
    s.setForward('noAnswer', '*97');
    s.setNoAnswerDelay(15);
    expect(s.settings.callForward).toEqual({ always: '+49301234', busy: 'sip:voicemail@pbx.example.com', noAnswer: '*97', noAnswerAfterS: 15 });
    s.setForward('always', undefined);
    expect(s.settings.callForward).toEqual({ busy: 'sip:voicemail@pbx.example.com', noAnswer: '*97', noAnswerAfterS: 15 });
    expect(() => s.setForward('busy', 'call mom')).toThrow(StoreFormatError);
    expect(() => s.setForward('busy', '')).toThrow(/callForward.busy/);
    expect(() => s.setNoAnswerDelay(0)).toThrow(/noAnswerAfterS/);
    expect(() => s.setRingTone('../../etc/passwd')).toThrow(/ringTone/);
    s.setRingTone('trill-2');
    expect(s.settings.ringTone).toBe('trill-2');
  });

  it('persists apart from the config, and loads it back', async () => {
    const a = settings();
    await a.s.load();
    a.s.setVolume('speaker', 9);
    a.s.setDnd(true);
    a.s.setForward('noAnswer', '1009');
    // false: switched off in the menu (the config's target no longer applies).
    a.s.setForward('busy', false);
    await a.clock.advance(1000);
    await a.s.flush();
    expect(JSON.parse(readFileSync(a.file, 'utf8'))).toMatchObject({ kind: 'offhook-settings', version: 1 });
    const b = settings();
    expect(await b.s.load()).toEqual({ status: 'loaded' });
    expect(b.s.settings).toEqual({ volume: { handset: 5, speaker: 9 }, ringTone: 'default', dnd: true, callForward: { noAnswer: '1009', busy: false } });
    expect(b.changes).toEqual([b.s.settings]);
  });

  it('reset() goes back to the defaults', async () => {
    const { s } = settings();
    await s.load();
    s.setDnd(true);
    s.reset();
    expect(s.settings).toEqual(defaultSettings());
  });

  it('moves a broken file aside and uses the defaults', async () => {
    const { s, file } = settings();
    writeFileSync(file, JSON.stringify({ kind: 'offhook-settings', version: 1, data: { volume: { handset: 99 } } }));
    expect(await s.load()).toMatchObject({ status: 'corrupt', problem: expect.stringContaining('volume.handset'), movedTo: `${file}.corrupt-20260101T090000Z` });
    expect(s.settings).toEqual(defaultSettings());
  });
});

describe('validateSettings', () => {
  it('fills the fields an older firmware did not write, and drops unknown ones', () => {
    expect(validateSettings({ dnd: true, volume: { speaker: 2 }, futureThing: 1 })).toEqual({ ...defaultSettings(), dnd: true, volume: { handset: 5, speaker: 2 } });
    expect(validateSettings({})).toEqual(defaultSettings());
  });

  it.each([
    ['a non-object', 3, /settings: expected an object/],
    ['a fractional volume', { volume: { speaker: 2.5 } }, /volume.speaker/],
    ['a string DND', { dnd: 'yes' }, /dnd/],
    ['a bad forward target', { callForward: { always: 'x y' } }, /callForward.always/],
  ])('rejects %s', (_what, data, message) => {
    expect(() => validateSettings(data)).toThrow(message);
  });
});
