// A panel without chips for the server tests: keys typed appear on the LCD's second row, the hook is a flag.
import type { EmulatorPanel, PanelDisplay } from '../../firmware/emulator/panel.js';

export class FakePanel implements EmulatorPanel {
  readonly keys: readonly string[] = ['1', '2', '3', 'A', '4', '5', '6', 'B', '7', '8', '9', 'C', '*', '0', '#', 'D'];
  typed = '';
  hook = false;
  ringing = false;
  mwi = false;
  readonly taps: string[] = [];
  readonly display: PanelDisplay | undefined;

  constructor(
    private readonly name = 'Idle',
    display?: PanelDisplay,
  ) {
    this.display = display;
  }

  lcdLines(): string[] {
    const first = this.hook ? '\u0000 Dial tone' : this.name;
    return [first.padEnd(20), this.typed.padEnd(20)];
  }
  backlight(): boolean {
    return true;
  }
  leds(): Record<string, boolean> {
    return { mwi: this.mwi, line: this.hook };
  }
  ringerOn(): boolean {
    return this.ringing;
  }
  offHook(): boolean {
    return this.hook;
  }
  async tapKey(key: string): Promise<void> {
    this.taps.push(key);
    await new Promise((r) => setTimeout(r, 2));
    this.typed += key;
  }
  async setHook(offHook: boolean): Promise<void> {
    await new Promise((r) => setTimeout(r, 2));
    this.hook = offHook;
    if (!offHook) this.typed = '';
  }
}
