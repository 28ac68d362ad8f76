// The settings the user changes on the phone (volumes, ring tone, DND, call forwarding), persisted apart from the provisioned config.
import type { Clock } from '../util/clock.js';
import { Emitter, type Unsubscribe } from '../util/emitter.js';
import type { Logger } from '../util/log.js';
import { JsonStore, type CorruptFileReport, type StoreLoadResult } from './json-store.js';
import { checkBoolean, checkNumber, checkObject, checkOptional, checkString } from './store-checks.js';

/** Volume steps 0 (silent) to VOLUME_MAX, as the volume bar on the LCD shows them. */
export const VOLUME_MAX = 10;
export type VolumePath = 'handset' | 'speaker';
export type ForwardKind = 'always' | 'busy' | 'noAnswer';
export const FORWARD_KINDS: readonly ForwardKind[] = ['always', 'busy', 'noAnswer'];

/** A forwarding target set in the menu; false: switched off there (the provisioned target no longer applies). */
export type ForwardSetting = string | false;

/** What the menu set; a field left undefined falls back to the config's features.forward. */
export interface CallForwardSettings {
  /** Forward every call here (the phone does not ring). */
  always?: ForwardSetting | undefined;
  /** Forward here when already in a call. */
  busy?: ForwardSetting | undefined;
  /** Forward here after ringing noAnswerAfterS unanswered. */
  noAnswer?: ForwardSetting | undefined;
  noAnswerAfterS?: number | undefined;
}

export interface PhoneSettings {
  volume: Readonly<Record<VolumePath, number>>;
  /** Name of the ring tone (the ringer maps it to a cadence or a file). */
  ringTone: string;
  /** Do not disturb: incoming calls are turned away (and logged as missed). */
  dnd: boolean;
  callForward: Readonly<CallForwardSettings>;
}

export function defaultSettings(): PhoneSettings {
  return { volume: { handset: 5, speaker: 5 }, ringTone: 'default', dnd: false, callForward: {} };
}

/** A number typed on the keypad, a '+' number, or a SIP URI. */
const FORWARD_TARGET = /^(?:\+?[0-9*#]{1,64}|sips?:[^\s]{1,250})$/i;
const RING_TONE = /^[a-z0-9][a-z0-9_-]{0,31}$/i;

const checkVolume = (v: unknown, path: string): number => checkNumber(v, path, { min: 0, max: VOLUME_MAX, integer: true });
const checkTarget = (v: unknown, path: string): string => checkString(v, path, { pattern: FORWARD_TARGET });
const checkRingTone = (v: unknown, path: string): string => checkString(v, path, { pattern: RING_TONE });
const checkNoAnswerAfter = (v: unknown, path: string): number => checkNumber(v, path, { min: 1, max: 300, integer: true });

/**
 * A stored settings object. Fields that are absent take their defaults, so a file written by an
 * older firmware (with fewer settings) still loads; fields that are present must be valid, and
 * unknown ones are dropped.
 */
export function validateSettings(data: unknown): PhoneSettings {
  const d = defaultSettings();
  const o = checkObject(data, 'settings');
  const volume = checkOptional(o.volume, (v) => checkObject(v, 'volume')) ?? {};
  const forward = checkOptional(o.callForward, (v) => checkObject(v, 'callForward')) ?? {};
  const callForward: CallForwardSettings = {};
  const noAnswerAfterS = checkOptional(forward.noAnswerAfterS, (v) => checkNoAnswerAfter(v, 'callForward.noAnswerAfterS'));
  if (noAnswerAfterS !== undefined) callForward.noAnswerAfterS = noAnswerAfterS;
  for (const kind of FORWARD_KINDS) {
    const target = checkOptional(forward[kind], (v) => (v === false ? false : checkTarget(v, `callForward.${kind}`)));
    if (target !== undefined) callForward[kind] = target;
  }
  return {
    volume: {
      handset: checkOptional(volume.handset, (v) => checkVolume(v, 'volume.handset')) ?? d.volume.handset,
      speaker: checkOptional(volume.speaker, (v) => checkVolume(v, 'volume.speaker')) ?? d.volume.speaker,
    },
    ringTone: checkOptional(o.ringTone, (v) => checkRingTone(v, 'ringTone')) ?? d.ringTone,
    dnd: checkOptional(o.dnd, (v) => checkBoolean(v, 'dnd')) ?? d.dnd,
    callForward,
  };
}

export interface SettingsStoreOptions {
  file: string;
  clock: Clock;
  log: Logger;
  /** See JsonStoreOptions.debounceMs. */
  debounceMs?: number;
}

export type SettingsStoreEvents = {
  change: [PhoneSettings];
  corrupt: [CorruptFileReport];
  /** Writing the file failed (it is retried). */
  error: [Error];
};

/**
 * The user's settings. Setters check their value (throwing StoreFormatError for one the file could
 * not hold, except volumes, which are clamped to 0–VOLUME_MAX) and emit 'change' when it changed.
 */
export class SettingsStore {
  private readonly events = new Emitter<SettingsStoreEvents>();
  private readonly store: JsonStore<PhoneSettings>;

  constructor(o: SettingsStoreOptions) {
    this.store = new JsonStore({
      file: o.file,
      kind: 'offhook-settings',
      validate: validateSettings,
      defaults: defaultSettings,
      clock: o.clock,
      log: o.log,
      ...(o.debounceMs !== undefined ? { debounceMs: o.debounceMs } : {}),
    });
    this.store.on('corrupt', (report) => this.events.emit('corrupt', report));
    this.store.on('error', (err) => this.events.emit('error', err));
  }

  on<K extends keyof SettingsStoreEvents>(event: K, listener: (...args: SettingsStoreEvents[K]) => void): Unsubscribe {
    return this.events.on(event, listener);
  }

  /** Reads the file at start; a broken one is moved aside and the defaults apply. */
  async load(): Promise<StoreLoadResult> {
    const result = await this.store.load();
    this.events.emit('change', this.store.value);
    return result;
  }

  get settings(): Readonly<PhoneSettings> {
    return this.store.value;
  }

  /** Sets a volume, clamped to 0–VOLUME_MAX; returns the level kept. */
  setVolume(path: VolumePath, level: number): number {
    const kept = Math.min(VOLUME_MAX, Math.max(0, Math.round(level)));
    this.change({ volume: { ...this.settings.volume, [path]: kept } });
    return kept;
  }

  /** The volume keys: one step up (+1) or down (-1). */
  stepVolume(path: VolumePath, delta: number): number {
    return this.setVolume(path, this.settings.volume[path] + delta);
  }

  setRingTone(name: string): void {
    this.change({ ringTone: checkRingTone(name, 'ringTone') });
  }

  setDnd(on: boolean): void {
    this.change({ dnd: on });
  }

  /** Flips DND; returns the new state. */
  toggleDnd(): boolean {
    this.setDnd(!this.settings.dnd);
    return this.settings.dnd;
  }

  /** Sets one forwarding target, switches it off (false), or (undefined) clears it: the config's target applies again. */
  setForward(kind: ForwardKind, target: ForwardSetting | undefined): void {
    const checked = target === undefined || target === false ? target : checkTarget(target, `callForward.${kind}`);
    const callForward: CallForwardSettings = {};
    if (this.settings.callForward.noAnswerAfterS !== undefined) callForward.noAnswerAfterS = this.settings.callForward.noAnswerAfterS;
    for (const k of FORWARD_KINDS) {
      const value = k === kind ? checked : this.settings.callForward[k];
      if (value !== undefined) callForward[k] = value;
    }
    this.change({ callForward });
  }

  setNoAnswerDelay(seconds: number): void {
    this.change({ callForward: { ...this.settings.callForward, noAnswerAfterS: checkNoAnswerAfter(seconds, 'callForward.noAnswerAfterS') } });
  }

  /** Back to the defaults (a factory reset of the user's settings). */
  reset(): void {
    this.store.set(defaultSettings());
    this.events.emit('change', this.store.value);
  }

  flush(): Promise<void> {
    return this.store.flush();
  }

  close(): Promise<void> {
    return this.store.close();
  }

  private change(patch: Partial<PhoneSettings>): void {
    const next = { ...this.settings, ...patch };
    if (JSON.stringify(next) === JSON.stringify(this.settings)) return;
    this.store.set(next);
    this.events.emit('change', next);
  }
}
