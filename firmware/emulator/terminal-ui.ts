// The emulator in a terminal: draws the emulated LCD, LEDs, ringer and hook as text and turns stdin keys into key presses.
import type { Clock, TimerHandle } from '../util/clock.js';
import type { EmulatorPanel } from './panel.js';

export interface TerminalUiOptions {
  panel: EmulatorPanel;
  input: NodeJS.ReadableStream & { setRawMode?: (raw: boolean) => unknown; isTTY?: boolean };
  output: NodeJS.WritableStream & { isTTY?: boolean };
  clock: Clock;
  /** Symbols drawn for glyph slots 0..7 (the terminal cannot show CGRAM bitmaps). */
  glyphSymbols: readonly string[];
  /** Called when the user quits (q or Ctrl-C). */
  onQuit: () => void;
  /** After the end of piped input: how long to let the phone settle before quitting. */
  settleMs?: number;
  /** How often the chips are looked at for changes. */
  refreshMs?: number;
}

/** What a typed character does on the panel: a key press, the hook, or nothing. */
export function panelAction(panel: EmulatorPanel, ch: string): (() => Promise<void>) | undefined {
  if (ch === 'h' || ch === 'H' || ch === ' ') return () => panel.setHook(!panel.offHook());
  const key = ch.toUpperCase();
  if (panel.keys.includes(key)) return () => panel.tapKey(key);
  return undefined;
}

/** Draws a frame only when something changed; on a TTY the frame is redrawn in place. */
export class TerminalUi {
  private lastFrame = '';
  private timer: TimerHandle | undefined;
  private keyQueue: Promise<void> = Promise.resolve();
  private readonly onData = (chunk: Buffer | string): void => {
    for (const ch of chunk.toString()) this.onChar(ch);
  };

  constructor(private readonly o: TerminalUiOptions) {}

  start(): void {
    if (this.o.input.isTTY && this.o.input.setRawMode) this.o.input.setRawMode(true);
    this.o.input.on('data', this.onData);
    // At the end of piped input, finish pressing what was typed and show the result before quitting.
    this.o.input.on('end', () => {
      void this.keyQueue.then(async () => {
        await this.o.clock.sleep(this.o.settleMs ?? 300);
        this.draw();
        this.o.onQuit();
      });
    });
    this.tick();
  }

  stop(): void {
    this.o.clock.clearTimeout(this.timer);
    this.o.input.off('data', this.onData);
    if (this.o.input.isTTY && this.o.input.setRawMode) this.o.input.setRawMode(false);
    if (typeof (this.o.input as { pause?: () => void }).pause === 'function') (this.o.input as { pause: () => void }).pause();
  }

  /** Resolves when every key typed so far has been pressed and released on the emulated pad. */
  idle(): Promise<void> {
    return this.keyQueue;
  }

  private tick(): void {
    this.draw();
    this.timer = this.o.clock.setTimeout(() => this.tick(), this.o.refreshMs ?? 50);
  }

  private onChar(ch: string): void {
    const p = this.o.panel;
    if (ch === 'q' || ch === '\u0003') {
      this.o.onQuit();
      return;
    }
    const action = panelAction(p, ch);
    if (!action) return;
    // Keys typed faster than a finger could press them are queued and pressed one after another.
    const run = action;
    this.keyQueue = this.keyQueue.then(run, run);
  }

  frame(): string {
    const p = this.o.panel;
    const lines = p.lcdLines().map((l) => [...l].map((c) => (c.charCodeAt(0) < 8 ? (this.o.glyphSymbols[c.charCodeAt(0)] ?? '?') : c)).join(''));
    const width = Math.max(...lines.map((l) => [...l].length), 16);
    const leds = Object.entries(p.leds())
      .map(([name, on]) => `${name} ${on ? '(*)' : '( )'}`)
      .join('  ');
    return [
      `+${'-'.repeat(width)}+${p.backlight() ? '' : '  backlight off'}`,
      ...lines.map((l) => `|${l}${' '.repeat(width - [...l].length)}|`),
      `+${'-'.repeat(width)}+`,
      `hook: ${p.offHook() ? 'OFF HOOK' : 'on hook '}  ringer: ${p.ringerOn() ? 'RING' : 'off '}  ${leds}`,
      'keys: 0-9 * # | a-d softkeys | h hook | q quit',
    ].join('\n');
  }

  private draw(): void {
    const f = this.frame();
    if (f === this.lastFrame) return;
    this.lastFrame = f;
    this.o.output.write(this.o.output.isTTY ? `\x1b[H\x1b[2J${f}\n` : `${f}\n\n`);
  }
}
