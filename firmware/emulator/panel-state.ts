// The emulated phone's visible state as JSON (LCD, glyphs, pixels, LEDs, ringer, hook, phone status), its diffs, and a watcher that pushes them.
import type { Clock, TimerHandle } from '../util/clock.js';
import type { EmulatorPanel } from './panel.js';
import type { PhoneStatus, PhoneStatusSource } from './phone-status.js';

/** What the page and the control API know about a phone that does not change while it runs. */
export interface PanelInfo {
  /** The phone's name in /api/phones/<ext>/...: its first line's extension, or "local". */
  ext: string;
  display: { type: 'hd44780'; columns: number; rows: number } | { type: 'ssd1306'; width: number; height: number } | { type: 'text' };
  /** Keypad keys in reading order, four rows (4x3: 0-9 * #; 4x4 adds A-D). */
  keys: readonly string[];
  keypadColumns: number;
}

/** Everything a person can see on the phone right now. Diffs carry a subset of these fields, whole. */
export interface PanelState {
  /** The display's text, one string per row; CGRAM glyph slots as U+0000..U+0007. */
  lcd: string[];
  /** HD44780: the 8 CGRAM glyphs, 8 rows of 5 bits each (MSB = left pixel); empty for other displays. */
  glyphs: number[][];
  /** SSD1306: the panel as a viewer sees it, row-major, 1 bit per pixel (MSB first), base64; '' for other displays. */
  pixels: string;
  backlight: boolean;
  leds: Record<string, boolean>;
  ringer: boolean;
  offHook: boolean;
  phone: PhoneStatus;
}

export type PanelChanges = Partial<PanelState>;

export function panelInfo(ext: string, panel: EmulatorPanel): PanelInfo {
  const d = panel.display;
  const display: PanelInfo['display'] =
    d?.type === 'hd44780' ? { type: 'hd44780', columns: d.columns, rows: d.rows } : d?.type === 'ssd1306' ? { type: 'ssd1306', width: d.width, height: d.height } : { type: 'text' };
  // The matrix always has four rows (KEYPAD_LAYOUTS); the column count follows from the keys.
  return { ext, display, keys: panel.keys, keypadColumns: Math.max(1, Math.ceil(panel.keys.length / 4)) };
}

/** Packs the SSD1306 pixels as the viewer sees them into base64 (1024 bytes for 128x64). */
function packPixels(d: { width: number; height: number; pixel(x: number, y: number): boolean }): string {
  const bytes = new Uint8Array(Math.ceil((d.width * d.height) / 8));
  for (let y = 0; y < d.height; y++) {
    for (let x = 0; x < d.width; x++) {
      if (!d.pixel(x, y)) continue;
      const bit = y * d.width + x;
      bytes[bit >> 3] = (bytes[bit >> 3] ?? 0) | (0x80 >> (bit & 7));
    }
  }
  return Buffer.from(bytes).toString('base64');
}

/** Reads the chips now. Cheap enough for 20 reads a second (an SSD1306 costs 8192 pixel reads). */
export function readPanelState(panel: EmulatorPanel, status: PhoneStatusSource): PanelState {
  const d = panel.display;
  return {
    lcd: panel.lcdLines(),
    glyphs: d?.type === 'hd44780' ? [0, 1, 2, 3, 4, 5, 6, 7].map((slot) => d.cgram(slot)) : [],
    pixels: d?.type === 'ssd1306' ? packPixels(d) : '',
    backlight: panel.backlight(),
    leds: panel.leds(),
    ringer: panel.ringerOn(),
    offHook: panel.offHook(),
    phone: status.status(),
  };
}

/** The fields of `next` that differ from `prev` (compared as JSON); undefined when nothing changed. */
export function diffPanelState(prev: PanelState, next: PanelState): PanelChanges | undefined {
  const changes: PanelChanges = {};
  let any = false;
  for (const key of Object.keys(next) as (keyof PanelState)[]) {
    if (JSON.stringify(prev[key]) !== JSON.stringify(next[key])) {
      (changes as Record<string, unknown>)[key] = next[key];
      any = true;
    }
  }
  return any ? changes : undefined;
}

export type PanelListener = (changes: PanelChanges) => void;

export interface PanelWatcherOptions {
  panel: EmulatorPanel;
  status: PhoneStatusSource;
  clock: Clock;
  /** How often the chips are read while someone listens (default 50 ms, 20 Hz). */
  pollMs?: number;
}

/**
 * Turns the chips' state into change events. The emulated chips have no change events of their own,
 * so the watcher reads them every pollMs, but only while a listener is subscribed, and tells the
 * listeners only the fields that changed. Browsers and event-stream clients never poll: they get
 * these diffs pushed.
 */
export class PanelWatcher {
  private readonly listeners = new Set<PanelListener>();
  private last: PanelState | undefined;
  private timer: TimerHandle | undefined;

  constructor(private readonly o: PanelWatcherOptions) {}

  /** The state now (a fresh read; also what the next diff is computed against). */
  current(): PanelState {
    return readPanelState(this.o.panel, this.o.status);
  }

  /**
   * Subscribes: returns the full state to start from; the listener then gets every change after it.
   * The returned function unsubscribes.
   */
  subscribe(listener: PanelListener): { state: PanelState; unsubscribe: () => void } {
    const state = this.current();
    if (this.listeners.size === 0) {
      this.last = state;
      this.schedule();
    } else {
      // Bring the others up to date first, so the new listener's starting point is everyone's.
      this.check();
    }
    this.listeners.add(listener);
    return {
      state: this.last ?? state,
      unsubscribe: () => {
        this.listeners.delete(listener);
        if (this.listeners.size === 0) this.stop();
      },
    };
  }

  /** Reads now and pushes what changed (also called by the poll). */
  check(): void {
    if (!this.last) return;
    const next = this.current();
    const changes = diffPanelState(this.last, next);
    this.last = next;
    if (!changes) return;
    for (const l of [...this.listeners]) l(changes);
  }

  get listenerCount(): number {
    return this.listeners.size;
  }

  stop(): void {
    this.o.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.last = undefined;
    this.listeners.clear();
  }

  private schedule(): void {
    this.timer = this.o.clock.setTimeout(() => {
      this.check();
      if (this.listeners.size > 0) this.schedule();
    }, this.o.pollMs ?? 50);
  }
}
