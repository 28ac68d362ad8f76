// The phone's building blocks from the config (part of the composition root): the config checks of the digit map and phonebook, the state directory with the call history and settings stores, dial plan, phonebook, ringing.
import { constants } from 'node:fs';
import { access, mkdir, mkdtemp } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BoardProfile } from './config/board-schema.js';
import type { OffhookConfig } from './config/config-schema.js';
import { defaultConfig, type ConfigCheck } from './config/config.js';
import type { SchemaIssue } from './config/schema.js';
import type { RingRequest } from './media/media-engine.js';
import type { ToneCountry } from './media/tones.js';
import { CallHistory } from './phone/call-history.js';
import { DialPlan, DialPlanError, parseDigitMap } from './phone/dial-plan.js';
import { checkPhonebook, Phonebook, type NormalizeOptions } from './phone/phonebook.js';
import { SettingsStore } from './phone/settings-store.js';
import type { Clock } from './util/clock.js';
import type { Logger } from './util/log.js';

/** Dialing out of the country: "+" stands for this prefix in the phonebook's numbers. */
const INTERNATIONAL_PREFIX: Readonly<Record<ToneCountry, string>> = { US: '011', UK: '00', DE: '00', FR: '00', JP: '010' };

function phonebookOptions(config: OffhookConfig): NormalizeOptions {
  return { internationalPrefix: INTERNATIONAL_PREFIX[config.tones.country] };
}

/**
 * The checks the config layer cannot make itself (it may not import the phone): the digit map's
 * syntax (the column inside the map is in the message; the loader adds the file's line and column)
 * and the phonebook's numbers. loadConfig and the Provisioner get it as `checks`.
 */
export const phoneConfigChecks: ConfigCheck = (config) => {
  const issues: SchemaIssue[] = [];
  try {
    parseDigitMap(config.dialPlan.digitMap);
  } catch (err) {
    if (!(err instanceof DialPlanError)) throw err;
    issues.push({ path: ['dialPlan', 'digitMap'], message: `column ${err.position} of the digit map: ${err.problem}` });
  }
  for (const i of checkPhonebook(config.phonebook, phonebookOptions(config))) issues.push({ path: ['phonebook', i.index, i.field], message: i.message });
  return issues;
};

export function dialPlanOf(config: OffhookConfig): DialPlan {
  const d = config.dialPlan;
  return new DialPlan({ map: d.digitMap, interDigitMs: d.interDigitTimeoutS * 1000, firstDigitMs: d.firstDigitTimeoutS * 1000, sendKey: d.sendKey === 'none' ? null : d.sendKey });
}

export function phonebookOf(config: OffhookConfig): Phonebook {
  return new Phonebook(config.phonebook, phonebookOptions(config));
}

/**
 * What the engine rings on the speaker (PhoneOptions.ring): a WAV or a country's cadence as
 * tones.ringTone says. With "default" on a board that has a buzzer, only the buzzer rings (null);
 * without one (ringer "audio" or "none") the speaker rings the country's cadence (undefined).
 */
export function ringOf(config: OffhookConfig, board: BoardProfile): RingRequest | null | undefined {
  const tone = config.tones.ringTone;
  if (tone === 'default') return board.ringer.type === 'gpio-buzzer' ? null : undefined;
  if (tone.startsWith('/')) return { wav: tone, loop: true };
  return { country: tone as ToneCountry };
}

/** The stateDir default of the schema: the emulator replaces it with a directory a user can write. */
const DEFAULT_STATE_DIR = defaultConfig().stateDir;

/** $XDG_STATE_HOME/offhook, else ~/.local/state/offhook (XDG Base Directory). */
export function userStateDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_STATE_HOME !== undefined && env.XDG_STATE_HOME.startsWith('/') ? env.XDG_STATE_HOME : join(homedir(), '.local', 'state');
  return join(base, 'offhook');
}

export interface PhoneStores {
  history: CallHistory;
  settings: SettingsStore;
  /** Where they are kept. */
  dir: string;
  /** False when the state directory could not be written: they live in a temporary directory for this run. */
  persistent: boolean;
  /** Writes what is pending, then stops the stores' timers. */
  close(): Promise<void>;
}

function errText(err: unknown): string {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string' ? err.code : err instanceof Error ? err.message : String(err);
}

/**
 * Opens the call history (history.json) and the settings (settings.json) in the state directory:
 * config.stateDir, or on the emulator board, while the config leaves the default /var/lib/offhook,
 * the user's own (userStateDir()). A directory that cannot be created or written (a desktop without
 * /var/lib/offhook, a read-only file system) is reported in the log and the phone runs without
 * persistence: the stores live in a fresh temporary directory until the phone stops. With `subdir`
 * (one of several phones sharing the state directory) they go to that subdirectory of it.
 */
export async function openStores(o: { config: OffhookConfig; board: BoardProfile; clock: Clock; log: Logger; env?: NodeJS.ProcessEnv; subdir?: string | undefined }): Promise<PhoneStores> {
  const emulated = o.board.gpio.backend === 'emulated';
  const base = emulated && o.config.stateDir === DEFAULT_STATE_DIR ? userStateDir(o.env) : o.config.stateDir;
  const wanted = o.subdir !== undefined ? join(base, o.subdir) : base;
  let dir = wanted;
  let persistent = true;
  try {
    await mkdir(wanted, { recursive: true, mode: 0o700 });
    await access(wanted, constants.W_OK);
  } catch (err) {
    dir = await mkdtemp(join(tmpdir(), 'offhook-state-'));
    persistent = false;
    o.log.warn({ stateDir: wanted, reason: errText(err), instead: dir }, 'the state directory cannot be written: call history and settings are kept only until the phone stops');
  }
  const log = o.log.child({ mod: 'phone/state' });
  const history = new CallHistory({ file: join(dir, 'history.json'), clock: o.clock, log });
  const settings = new SettingsStore({ file: join(dir, 'settings.json'), clock: o.clock, log });
  await Promise.all([history.load(), settings.load()]);
  o.log.info({ stateDir: dir, persistent }, 'phone state loaded');
  return {
    history,
    settings,
    dir,
    persistent,
    close: async () => {
      const results = await Promise.allSettled([history.close(), settings.close()]);
      for (const r of results) if (r.status === 'rejected') o.log.error({ err: errText(r.reason) }, 'a store could not be written at shutdown');
    },
  };
}
