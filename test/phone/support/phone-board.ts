// The phone on the emulated board for tests: real drivers on emulated chips (HD44780 or SSD1306, keypad matrix, hook switch, LEDs, buzzer), a virtual clock, a MockMediaEngine and a call history in a temporary folder.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { loadBoard } from '../../../firmware/config/board.js';
import type { BoardProfile } from '../../../firmware/config/board-schema.js';
import { buildHardware, type Hardware } from '../../../firmware/hardware.js';
import { MockMediaEngine } from '../../../firmware/media/mock-media-engine.js';
import { CallHistory } from '../../../firmware/phone/call-history.js';
import type { CallService } from '../../../firmware/phone/call-service.js';
import { Phone, type PhoneOptions } from '../../../firmware/phone/phone.js';
import { GLYPH_SLOTS } from '../../../firmware/phone/screens.js';
import { SettingsStore } from '../../../firmware/phone/settings-store.js';
import { VirtualClock } from '../../../firmware/util/clock.js';
import { silentLogger } from '../../../firmware/util/log.js';
import { loadGlyphs } from '../../../hal/display/glyphs.js';
import type { EmulatorPanel } from '../../../firmware/emulator/panel.js';

/** 2026-11-21 (a Saturday) 15:49:30 local time. */
export const WALL = new Date(2026, 10, 21, 15, 49, 30).getTime();

export interface BoardOptions {
  display?: { columns: 16 | 20; rows: 2 | 4 } | 'oled';
  layout?: '4x3' | '4x4';
  /** A key held longer than this is a long press (the panel holds keys 80 ms). */
  longPressMs?: number;
  calls?: CallService | undefined;
  /** More phone options (dial plan, phonebook, ...). */
  phone?: Partial<PhoneOptions>;
  clock?: VirtualClock;
  media?: MockMediaEngine;
}

export interface PhoneBoard {
  clock: VirtualClock;
  hw: Hardware;
  panel: EmulatorPanel;
  phone: Phone;
  media: MockMediaEngine;
  history: CallHistory;
  settings: SettingsStore;
  /** The LCD's rows as the chip shows them, trailing spaces cut. */
  lcd(): string[];
  /** Taps keys like a finger, one after the other. */
  keys(keys: string): Promise<void>;
  lift(): Promise<void>;
  hangUp(): Promise<void>;
  /** Lets time pass (timers, the render queue). */
  wait(ms?: number): Promise<void>;
  /** The LED's pattern as the phone set it ('on', 'fast-blink', ...). */
  led(name: string): string;
}

const boards: PhoneBoard[] = [];
afterEach(async () => {
  for (const b of boards.splice(0)) {
    // A frame still being drawn (the call timer's tick) needs the virtual clock to finish.
    const stopping = b.phone.stop();
    await b.clock.advance(100);
    await stopping;
    await b.history.close();
    await b.settings.close();
    await b.hw.close();
  }
});

function profile(o: BoardOptions): BoardProfile {
  const base = loadBoard('emulator').profile;
  const display: BoardProfile['display'] =
    o.display === 'oled'
      ? { type: 'ssd1306', address: 0x3c, width: 128, height: 64 }
      : { type: 'hd44780', address: 0x27, columns: o.display?.columns ?? 20, rows: o.display?.rows ?? 4, pins: 'common' };
  const keypad = base.keypad && {
    ...base.keypad,
    ...(o.layout === '4x3' ? { layout: '4x3' as const, columnPins: base.keypad.columnPins.slice(0, 3) } : {}),
    ...(o.longPressMs !== undefined ? { longPressMs: o.longPressMs } : {}),
  };
  return { ...base, display, keypad };
}

/** Builds the board and the phone on it, started, with the idle screen drawn. */
export async function phoneBoard(o: BoardOptions = {}): Promise<PhoneBoard> {
  const clock = o.clock ?? new VirtualClock({ wallEpochMs: WALL });
  const log = silentLogger();
  const dir = mkdtempSync(join(tmpdir(), 'offhook-phone-'));
  const building = buildHardware({ board: profile(o), clock, log });
  const hw = await building;
  const init = hw.display.init();
  // The LCD's power-on wait and initialisation run on the virtual clock.
  await clock.advance(500);
  await init;
  const glyphs = loadGlyphs(hw.display, GLYPH_SLOTS);
  await clock.advance(50);
  await glyphs;
  const media = o.media ?? new MockMediaEngine();
  const history = new CallHistory({ file: join(dir, 'history.json'), clock, log, debounceMs: 10 });
  await history.load();
  const settings = new SettingsStore({ file: join(dir, 'settings.json'), clock, log, debounceMs: 10 });
  await settings.load();
  const phone = new Phone({
    display: hw.display,
    keypad: hw.keypad,
    hook: hw.hook,
    leds: hw.leds,
    ringer: hw.ringer,
    clock,
    log,
    format: { timeFormat: '24h', dateFormat: 'dmy' },
    calls: o.calls,
    media,
    history,
    settings,
    ...o.phone,
  });
  const started = phone.start();
  await clock.advance(100);
  await started;
  const panel = hw.panel;
  if (!panel) throw new Error('the emulator board has no panel');
  const wait = async (ms = 100): Promise<void> => {
    await clock.advance(ms);
  };
  const b: PhoneBoard = {
    clock,
    hw,
    panel,
    phone,
    media,
    history,
    settings,
    lcd: () => panel.lcdLines().map((l) => l.trimEnd()),
    async keys(keys) {
      for (const k of keys) {
        const tap = panel.tapKey(k);
        await clock.advance(130);
        await tap;
      }
      await wait(50);
    },
    async lift() {
      const done = panel.setHook(true);
      await clock.advance(100);
      await done;
      await wait(50);
    },
    async hangUp() {
      const done = panel.setHook(false);
      await clock.advance(100);
      await done;
      await wait(50);
    },
    wait,
    led: (name) => hw.leds?.get(name) ?? 'none',
  };
  boards.push(b);
  return b;
}
