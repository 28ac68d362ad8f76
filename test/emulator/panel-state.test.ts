// The panel's state as JSON and its diffs, read from the real drivers on emulated chips (HD44780 CGRAM, SSD1306 pixels).
import { describe, expect, it } from 'vitest';
import { loadBoard } from '../../firmware/config/board.js';
import { diffPanelState, PanelWatcher, panelInfo, readPanelState, type PanelChanges } from '../../firmware/emulator/panel-state.js';
import { NO_PHONE_STATUS, lineReport } from '../../firmware/emulator/phone-status.js';
import { buildHardware } from '../../firmware/hardware.js';
import { VirtualClock } from '../../firmware/util/clock.js';
import { silentLogger } from '../../firmware/util/log.js';
import { GLYPHS } from '../../hal/display/glyphs.js';
import { FakePanel } from './fake-panel.js';

async function emulatedHardware(display?: 'ssd1306') {
  const clock = new VirtualClock({ wallEpochMs: 0 });
  const base = loadBoard('emulator').profile;
  const board = display ? { ...base, display: { type: 'ssd1306' as const, address: 0x3c, width: 128 as const, height: 64 as const } } : base;
  const hw = await buildHardware({ board, clock, log: silentLogger() });
  const init = hw.display.init();
  await clock.advance(200);
  await init;
  return { hw, clock, panel: hw.panel! };
}

describe('panel state', () => {
  it('HD44780: the text and the CGRAM glyphs the driver loaded, read from the chip', async () => {
    const { hw, clock, panel } = await emulatedHardware();
    const write = (async () => {
      await hw.display.defineGlyph(2, GLYPHS.bell);
      await hw.display.writeLine(0, '\u0002 Hello');
    })();
    await clock.advance(50);
    await write;
    expect(panelInfo('1001', panel)).toEqual({ ext: '1001', display: { type: 'hd44780', columns: 20, rows: 4 }, keys: panel.keys, keypadColumns: 4 });
    const s = readPanelState(panel, NO_PHONE_STATUS);
    expect(s.lcd[0]).toBe('\u0002 Hello'.padEnd(20));
    expect(s.glyphs).toHaveLength(8);
    expect(s.glyphs[2]).toEqual([...GLYPHS.bell]);
    expect(s.pixels).toBe('');
    expect(s.leds).toEqual({ mwi: false, line: false });
    await hw.close();
  });

  it('SSD1306: the pixels as the viewer sees them, packed row-major', async () => {
    const { hw, clock, panel } = await emulatedHardware('ssd1306');
    const write = hw.display.writeLine(0, 'Hi');
    await clock.advance(50);
    await write;
    expect(panelInfo('x', panel).display).toEqual({ type: 'ssd1306', width: 128, height: 64 });
    const s = readPanelState(panel, NO_PHONE_STATUS);
    const bytes = Buffer.from(s.pixels, 'base64');
    expect(bytes).toHaveLength(1024);
    const d = panel.display;
    if (d?.type !== 'ssd1306') throw new Error('expected an SSD1306');
    let lit = 0;
    for (let y = 0; y < 64; y++) {
      for (let x = 0; x < 128; x++) {
        const bit = ((bytes[(y * 128 + x) >> 3]! >> (7 - ((y * 128 + x) & 7))) & 1) === 1;
        expect(bit).toBe(d.pixel(x, y));
        if (bit) lit++;
      }
    }
    expect(lit).toBeGreaterThan(10);
    expect(s.glyphs).toEqual([]);
    await hw.close();
  });

  it('diffs carry only the fields that changed', () => {
    const panel = new FakePanel();
    const a = readPanelState(panel, NO_PHONE_STATUS);
    expect(diffPanelState(a, readPanelState(panel, NO_PHONE_STATUS))).toBeUndefined();
    panel.hook = true;
    expect(diffPanelState(a, readPanelState(panel, NO_PHONE_STATUS))).toEqual({ lcd: ['\u0000 Dial tone'.padEnd(20), ''.padEnd(20)], leds: { mwi: false, line: true }, offHook: true });
  });

  it('the watcher reads the chips only while someone listens, and pushes diffs', async () => {
    const clock = new VirtualClock({ wallEpochMs: 0 });
    const panel = new FakePanel();
    let reads = 0;
    const watcher = new PanelWatcher({ panel, clock, pollMs: 50, status: { status: () => (reads++, { lines: [], calls: [] }) } });
    await clock.advance(500);
    expect(reads).toBe(0);
    const seen: PanelChanges[] = [];
    const sub = watcher.subscribe((c) => seen.push(c));
    expect(sub.state.ringer).toBe(false);
    panel.ringing = true;
    await clock.advance(50);
    expect(seen).toEqual([{ ringer: true }]);
    await clock.advance(200);
    expect(seen).toHaveLength(1);
    sub.unsubscribe();
    const before = reads;
    panel.ringing = false;
    await clock.advance(500);
    expect(reads).toBe(before);
    expect(watcher.listenerCount).toBe(0);
  });

  it('reports a line from the user agent status', () => {
    expect(lineReport({ aor: 'sip:1003@pbx.test', line: { state: 'registered', expiresAtMs: 1 } })).toEqual({ aor: 'sip:1003@pbx.test', ext: '1003', state: 'registered', text: 'Registered 1003' });
    const failed = lineReport({ aor: 'sip:1003@pbx.test', line: { state: 'failed', reason: 'wrong user name or password', statusCode: 401, cause: 'wrong-credentials', retryAtMs: 5 } });
    expect(failed).toMatchObject({ state: 'failed', reason: 'wrong user name or password', statusCode: 401, text: '1003: wrong user name or password' });
  });
});
