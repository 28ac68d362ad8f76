// Finds and loads a board profile by name (board/<name>.yaml) or by file, and checks what the schema alone cannot.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { boardSchema, type BoardProfile } from './board-schema.js';
import { ConfigError } from './config-error.js';
import type { SchemaIssue } from './schema.js';
import { loadYamlFile } from './yaml-file.js';

export const BUILTIN_BOARDS = ['rpi4', 'rpi5', 'zero2w', 'rpi4-usb-handset', 'emulator'] as const;

/** Folders searched for named boards: beside the bundle (dist/board), the source tree's board/, the installed package's. */
export function boardDirectories(fromUrl: string = import.meta.url): string[] {
  const dirs: string[] = [];
  let dir = dirname(fileURLToPath(fromUrl));
  for (let i = 0; i < 5; i++) {
    const candidate = join(dir, 'board');
    if (existsSync(join(candidate, 'emulator.yaml'))) dirs.push(candidate);
    dir = dirname(dir);
  }
  dirs.push('/etc/offhook/board', '/usr/share/offhook/board');
  return [...new Set(dirs)];
}

/** A name like "rpi4" resolves to <dir>/rpi4.yaml; anything with a slash or a .yaml suffix is a file path. */
export function resolveBoardFile(nameOrFile: string, dirs: readonly string[] = boardDirectories()): string {
  if (nameOrFile.includes('/') || nameOrFile.endsWith('.yaml') || nameOrFile.endsWith('.yml')) return resolve(nameOrFile);
  for (const d of dirs) {
    const f = join(d, `${nameOrFile}.yaml`);
    if (existsSync(f)) return f;
  }
  throw new ConfigError([
    { file: nameOrFile, path: [], message: `no board profile named "${nameOrFile}" (built in: ${BUILTIN_BOARDS.join(', ')}; searched ${dirs.join(', ')})` },
  ]);
}

/** Cross-field rules: the keypad's column count fits its layout, and no GPIO pin is used twice. */
export function checkBoardWiring(board: BoardProfile): SchemaIssue[] {
  const issues: SchemaIssue[] = [];
  const owners = new Map<number, string>();
  const claim = (pin: number, path: (string | number)[]): void => {
    const owner = owners.get(pin);
    if (owner !== undefined) issues.push({ path, message: `GPIO ${pin} is already used by ${owner}` });
    else owners.set(pin, path.join('.'));
  };
  if (board.keypad) {
    const want = board.keypad.layout === '4x3' ? 3 : 4;
    if (board.keypad.columnPins.length !== want) {
      issues.push({ path: ['keypad', 'columnPins'], message: `a ${board.keypad.layout} keypad needs ${want} column pins, got ${board.keypad.columnPins.length}` });
    }
    board.keypad.rowPins.forEach((p, i) => claim(p, ['keypad', 'rowPins', i]));
    board.keypad.columnPins.forEach((p, i) => claim(p, ['keypad', 'columnPins', i]));
  }
  if (board.hook.type === 'gpio') claim(board.hook.pin, ['hook', 'pin']);
  for (const [name, led] of Object.entries(board.leds)) claim(led.pin, ['leds', name, 'pin']);
  if (board.ringer.type === 'gpio-buzzer') claim(board.ringer.pin, ['ringer', 'pin']);
  if (board.audio.backend !== 'null' && (!board.audio.playback || !board.audio.capture)) {
    issues.push({ path: ['audio'], message: `the ${board.audio.backend} audio backend needs both playback and capture` });
  }
  return issues;
}

export interface LoadedBoard {
  file: string;
  profile: BoardProfile;
}

export function loadBoard(nameOrFile: string, dirs?: readonly string[]): LoadedBoard {
  const file = resolveBoardFile(nameOrFile, dirs);
  return { file, profile: loadYamlFile(file, boardSchema, checkBoardWiring) };
}

/** The built-in board that matches this machine's device-tree model, or the emulator on anything else. */
export function detectBoard(modelFile = '/proc/device-tree/model'): string {
  let model = '';
  try {
    model = readFileSync(modelFile, 'latin1').replace(/\0/g, '');
  } catch {
    return 'emulator';
  }
  if (/Raspberry Pi 5/.test(model)) return 'rpi5';
  if (/Raspberry Pi 4/.test(model)) return 'rpi4';
  if (/Raspberry Pi Zero 2/.test(model)) return 'zero2w';
  return 'emulator';
}
