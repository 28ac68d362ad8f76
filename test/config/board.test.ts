import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BUILTIN_BOARDS, detectBoard, loadBoard, resolveBoardFile } from '../../firmware/config/board.js';
import { ConfigError } from '../../firmware/config/config-error.js';

const dir = mkdtempSync(join(tmpdir(), 'offhook-board-'));
function boardFile(name: string, text: string): string {
  const f = join(dir, `${name}.yaml`);
  writeFileSync(f, text);
  return f;
}
function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.message.split('\n');
    throw err;
  }
  throw new Error('expected a ConfigError');
}

const minimal = `name: test
gpio: { backend: emulated }
display: { type: hd44780, address: 0x27, columns: 16, rows: 2 }
keypad:
  layout: 4x3
  rowPins: [1, 2, 3, 4]
  columnPins: [5, 6, 7]
hook: { type: gpio, pin: 8 }
`;

describe('board profiles', () => {
  it.each(BUILTIN_BOARDS)('built-in board %s loads and validates', (name) => {
    const { profile, file } = loadBoard(name);
    expect(profile.name).toBe(name);
    expect(file.endsWith(`board/${name}.yaml`)).toBe(true);
  });

  it('fills defaults: hook debounce 30 ms, keypad debounce 10 ms, common pin map', () => {
    const { profile } = loadBoard(boardFile('minimal', minimal));
    expect(profile.hook).toEqual({ type: 'gpio', pin: 8, contact: 'normally-open', debounceMs: 30 });
    expect(profile.keypad?.debounceMs).toBe(10);
    expect(profile.display).toMatchObject({ type: 'hd44780', columns: 16, rows: 2, pins: 'common' });
  });

  it('names the field, the line and the column of a wrong value', () => {
    const f = boardFile('bad-address', minimal.replace('address: 0x27', 'address: 0x99'));
    expect(problemsOf(() => loadBoard(f))).toEqual([`${f}:3:36: display.address: expected an integer from 3 to 119, got 153`]);
  });

  it('reports an unknown field (a typo) at its line', () => {
    const f = boardFile('typo', minimal.replace('hook: { type: gpio, pin: 8 }', 'hook: { type: gpio, pin: 8, debounce: 30 }'));
    const [line] = problemsOf(() => loadBoard(f));
    expect(line).toMatch(new RegExp(`^${f}:8:\\d+: hook\\.debounce: unknown field "debounce"`));
  });

  it('reports a missing required field with what was expected', () => {
    const f = boardFile('no-rows', minimal.replace('  rowPins: [1, 2, 3, 4]\n', ''));
    const [line] = problemsOf(() => loadBoard(f));
    expect(line).toContain('keypad.rowPins: missing required field "rowPins" (a list of exactly 4');
  });

  it('rejects an unknown display type and lists the known ones', () => {
    const f = boardFile('oled', minimal.replace('type: hd44780', 'type: st7920'));
    const [line] = problemsOf(() => loadBoard(f));
    expect(line).toContain('display.type: expected "hd44780", "ssd1306", "none", got "st7920"');
  });

  it('checks the wiring across fields: a pin used twice, a 4x3 layout with four columns', () => {
    const f = boardFile('clash', minimal.replace('hook: { type: gpio, pin: 8 }', 'hook: { type: gpio, pin: 2 }').replace('columnPins: [5, 6, 7]', 'columnPins: [5, 6, 7, 9]'));
    const lines = problemsOf(() => loadBoard(f));
    expect(lines.some((l) => l.includes('keypad.columnPins: a 4x3 keypad needs 3 column pins, got 4'))).toBe(true);
    expect(lines.some((l) => l.includes('hook.pin: GPIO 2 is already used by keypad.rowPins.1'))).toBe(true);
  });

  it('reports YAML syntax errors with their position', () => {
    const f = boardFile('syntax', 'name: x\ndisplay: { type: hd44780\n');
    const [line] = problemsOf(() => loadBoard(f));
    expect(line).toMatch(new RegExp(`^${f}:\\d+:\\d+: YAML syntax`));
  });

  it('an unknown board name lists the built-in ones', () => {
    expect(() => resolveBoardFile('rpi9')).toThrow(/no board profile named "rpi9" \(built in: rpi4, rpi5, zero2w/);
  });

  it('detects the board from the device-tree model', () => {
    const model = join(dir, 'model');
    writeFileSync(model, 'Raspberry Pi 5 Model B Rev 1.0\0');
    expect(detectBoard(model)).toBe('rpi5');
    writeFileSync(model, 'Raspberry Pi Zero 2 W Rev 1.0\0');
    expect(detectBoard(model)).toBe('zero2w');
    expect(detectBoard(join(dir, 'missing'))).toBe('emulator');
  });
});
