// The composed phone on the emulated board: real drivers on emulated chips, a virtual clock, keys and hook in, LCD out.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { loadBoard } from '../firmware/config/board.js';
import type { BoardProfile } from '../firmware/config/board-schema.js';
import { defaultConfig } from '../firmware/config/config.js';
import { buildHardware } from '../firmware/hardware.js';
import { startPhone } from '../firmware/main.js';
import { PhoneState } from '../firmware/phone/phone-state.js';
import { VirtualClock } from '../firmware/util/clock.js';
import { silentLogger } from '../firmware/util/log.js';

const wall = new Date(2026, 10, 21, 9, 5, 0).getTime();

async function start(board: BoardProfile = loadBoard('emulator').profile, devDir?: string) {
  const clock = new VirtualClock({ wallEpochMs: wall });
  const starting = startPhone({
    // The call history and settings go to a directory of this test, not the user's.
    config: { ...defaultConfig(), stateDir: mkdtempSync(join(tmpdir(), 'offhook-state-')) },
    board,
    log: silentLogger(),
    clock,
    stdin: new PassThrough() as unknown as NodeJS.ReadStream,
    stdout: new PassThrough() as unknown as NodeJS.WriteStream,
    terminal: false,
    signals: false,
    devDir,
  });
  // The LCD's power-on wait and initialisation run on the virtual clock, the stores' files on the real one in between.
  const started = { value: false };
  void starting.then(() => (started.value = true));
  for (let i = 0; i < 200 && !started.value; i++) {
    await clock.advance(50);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  const running = await starting;
  await clock.advance(100);
  return { clock, running, panel: running.hardware.panel };
}

/** Does something that takes finger time on the clock, advancing the clock while it happens. */
async function act(clock: VirtualClock, action: Promise<void>, settleMs = 200): Promise<void> {
  await clock.advance(settleMs);
  await action;
  await clock.advance(50);
}

describe('the phone on the emulated board', () => {
  it('shows the idle screen on the emulated HD44780', async () => {
    const { panel, running } = await start();
    expect(panel?.lcdLines()).toEqual(['No account          ', '                    ', 'Sat 21 Nov     09:05', '                    ']);
    expect(panel?.backlight()).toBe(true);
    await running.stop();
  });

  it('lift, dial 1001 on the matrix keypad, replace: LCD, line LED and state follow', async () => {
    const { running, clock } = await start();
    const panel = running.hardware.panel!;
    await act(clock, panel.setHook(true));
    expect(running.phone.currentState).toBe(PhoneState.Dialing);
    expect(panel.leds()).toEqual({ mwi: false, line: true });
    expect(panel.lcdLines()[0]).toBe('\u0000 Dial tone         ');
    for (const k of '1001') await act(clock, panel.tapKey(k));
    expect(panel.lcdLines().slice(0, 2)).toEqual(['\u0000 Dialing           ', '1001                ']);
    await act(clock, panel.setHook(false));
    expect(running.phone.currentState).toBe(PhoneState.Idle);
    expect(panel.lcdLines()[0]).toBe('No account          ');
    expect(panel.leds().line).toBe(false);
    await running.stop();
  });

  it('brings up every device of the emulator board', async () => {
    const { running } = await start();
    const hw = running.hardware;
    expect(hw.problems).toEqual([]);
    expect([hw.keypad, hw.hook, hw.leds, hw.ringer, hw.i2c, hw.gpio].every((d) => d !== undefined)).toBe(true);
    await running.stop();
  });

  it('a missing GPIO chip is reported on the LCD, which keeps working', async () => {
    const board = { ...loadBoard('emulator').profile, gpio: { backend: 'cdev' as const, chipLabel: 'pinctrl-bcm2711' } };
    const devDir = mkdtempSync(join(tmpdir(), 'offhook-dev-'));
    const hw = await buildHardware({ board, clock: new VirtualClock(), log: silentLogger(), devDir });
    expect(hw.problems.map((p) => p.device)).toEqual(['gpio']);
    expect(hw.problems[0]?.error.message).toContain('no GPIO chip labelled "pinctrl-bcm2711"');
    expect(hw.keypad).toBeUndefined();
    await hw.close();
    // Without GPIO there is no panel to read the chips through; the LCD text is what the phone wrote.
    const { running } = await start(board, devDir);
    expect(running.hardware.display.capabilities.columns).toBe(20);
    expect((running.hardware.display as unknown as { lines(): string[] }).lines()[0]).toBe('No gpio');
    await running.stop();
  });
});
