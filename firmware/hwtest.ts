// `offhook hwtest`: brings up the board's hardware, exercises each device, echoes keys and hook, prints a report.
import type { BoardProfile } from './config/board-schema.js';
import { panelAction } from './emulator/terminal-ui.js';
import { buildHardware } from './hardware.js';
import type { Clock } from './util/clock.js';
import type { Logger } from './util/log.js';
import { ResilientDisplay } from '../hal/display/resilient-display.js';
import { GLYPHS, loadGlyphs, type GlyphName } from '../hal/display/glyphs.js';

export interface HwtestOptions {
  board: BoardProfile;
  log: Logger;
  clock: Clock;
  /** How long to echo keys and hook changes; 0 skips the interactive step. */
  seconds: number;
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream;
}

interface Check {
  device: string;
  ok: boolean;
  detail: string;
}

function hex(n: number): string {
  return `0x${n.toString(16).padStart(2, '0')}`;
}

/** The test pattern: every cell of the first rows lit by a different character, then the glyphs. */
export function testPattern(columns: number, rows: number, glyphCount: number): string[] {
  const chars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghijklmnopqrstuvwxyz';
  const lines: string[] = [];
  for (let r = 0; r < rows; r++) {
    let line = '';
    for (let c = 0; c < columns; c++) line += chars[(r * columns + c) % chars.length] ?? '#';
    lines.push(line);
  }
  const glyphRow = Array.from({ length: glyphCount }, (_, i) => String.fromCharCode(i)).join('');
  if (rows > 0) lines[rows - 1] = `${glyphRow} offhook hwtest`.slice(0, columns);
  return lines;
}

/** Returns the exit status: 0 when every device named by the board works, 1 otherwise. */
export async function runHwtest(o: HwtestOptions): Promise<number> {
  const { board, clock, output } = o;
  const say = (line: string): void => void output.write(`${line}\n`);
  const checks: Check[] = [];
  say(`offhook hwtest on board "${board.name}"${board.description ? ` (${board.description})` : ''}`);

  const hw = await buildHardware({ board, clock, log: o.log });
  for (const p of hw.problems) checks.push({ device: p.device, ok: false, detail: p.error.message });

  // 1. The I2C bus: which addresses answer, and is the display among them.
  if (hw.i2c) {
    try {
      const found = await hw.i2c.scan();
      const want = board.display.type === 'none' ? undefined : board.display.address;
      const present = want === undefined || found.includes(want);
      checks.push({
        device: `I2C bus ${hw.i2c.name}`,
        ok: present,
        detail: `found ${found.length ? found.map(hex).join(' ') : 'nothing'}${want !== undefined ? `; the ${board.display.type} at ${hex(want)} ${present ? 'answers' : 'does NOT answer'}` : ''}`,
      });
    } catch (err) {
      checks.push({ device: `I2C bus ${hw.i2c.name}`, ok: false, detail: `scan failed: ${err instanceof Error ? err.message : String(err)}` });
    }
  }

  // 2. The display: init, glyphs, the test pattern.
  if (board.display.type !== 'none' && hw.display instanceof ResilientDisplay) {
    const display = hw.display;
    let failure: string | undefined;
    const off = display.on('error', (e) => (failure ??= e.message));
    await display.init();
    const names = Object.keys(GLYPHS) as GlyphName[];
    const glyphCount = Math.min(names.length, display.capabilities.customCharacters);
    await loadGlyphs(display, names.slice(0, glyphCount));
    const pattern = testPattern(display.capabilities.columns, display.capabilities.rows, glyphCount);
    for (const [r, line] of pattern.entries()) await display.writeLine(r, line);
    await display.setBacklight(false);
    await clock.sleep(300);
    await display.setBacklight(true);
    off();
    const caps = display.capabilities;
    checks.push({ device: `display ${board.display.type} ${caps.columns}x${caps.rows} at ${hex(board.display.address)}`, ok: failure === undefined && display.healthy, detail: failure ?? 'initialised, test pattern and glyphs drawn, backlight toggled' });
  }

  // 3. LEDs one by one, then the buzzer.
  if (hw.leds) {
    for (const name of hw.leds.names) {
      say(`LED ${name}: on for 1 s`);
      hw.leds.set(name, 'on');
      await clock.sleep(1000);
      hw.leds.set(name, 'off');
    }
    checks.push({ device: 'LEDs', ok: true, detail: `${hw.leds.names.join(', ')} switched on and off (check by eye)` });
  }
  if (hw.ringer) {
    say('ringer: 500 ms');
    hw.ringer.ring([500, 500]);
    await clock.sleep(500);
    hw.ringer.stop();
    checks.push({ device: 'ringer', ok: true, detail: 'buzzer driven for 500 ms (check by ear)' });
  }

  // 4. Echo keys and the hook on the LCD and here, for the given time.
  const keysSeen: string[] = [];
  let hookChanges = 0;
  if (o.seconds > 0 && (hw.keypad || hw.hook)) {
    say(`press keys and lift / replace the handset for ${o.seconds} s${hw.panel ? ' (emulator: type 0-9 * # a-d, h for the hook)' : ''}`);
    const rows = hw.display.capabilities.rows;
    await hw.display.clear();
    await hw.display.writeLine(0, 'hwtest: press keys');
    const unsubs = [
      hw.keypad?.on('key', (e) => {
        if (e.type === 'down') keysSeen.push(e.key);
        say(`key ${e.key} ${e.type}`);
        void hw.display.writeLine(Math.min(1, rows - 1), `key ${e.key} ${e.type}`);
      }),
      hw.hook?.on('change', (offHook) => {
        hookChanges++;
        say(`hook ${offHook ? 'off hook' : 'on hook'}`);
        void hw.display.writeLine(Math.min(2, rows - 1), `hook ${offHook ? 'off hook' : 'on hook'}`);
      }),
    ];
    let typing: Promise<void> = Promise.resolve();
    const onData = (chunk: Buffer | string): void => {
      for (const ch of chunk.toString()) {
        const action = hw.panel ? panelAction(hw.panel, ch) : undefined;
        if (action) typing = typing.then(action, action);
      }
    };
    if (hw.panel) o.input.on('data', onData);
    await clock.sleep(o.seconds * 1000);
    await typing;
    if (hw.panel) {
      o.input.off('data', onData);
      (o.input as { pause?: () => void }).pause?.();
    }
    for (const u of unsubs) u?.();
  }
  if (hw.keypad) checks.push({ device: 'keypad', ok: true, detail: keysSeen.length ? `keys seen: ${keysSeen.join(' ')}` : 'started; no key pressed' });
  if (hw.hook) checks.push({ device: 'hook switch', ok: true, detail: `${hookChanges} change(s); now ${hw.hook.offHook ? 'off hook' : 'on hook'}` });

  await hw.close();
  const failed = checks.filter((c) => !c.ok);
  say('');
  say('report:');
  for (const c of checks) say(`  [${c.ok ? ' ok ' : 'FAIL'}] ${c.device}: ${c.detail}`);
  say(`result: ${failed.length === 0 ? 'PASS' : `FAIL (${failed.length} device${failed.length > 1 ? 's' : ''} failed)`}`);
  return failed.length === 0 ? 0 : 1;
}
