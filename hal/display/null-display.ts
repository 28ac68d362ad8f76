// A display that shows nothing: for boards without one, so the phone needs no special case.
import type { DisplayCapabilities, TextDisplay } from '../devices.js';

export class NullDisplay implements TextDisplay {
  readonly name = 'none';
  readonly capabilities: DisplayCapabilities;
  private readonly rows: string[];

  constructor(capabilities: Partial<DisplayCapabilities> = {}) {
    this.capabilities = { columns: 20, rows: 4, customCharacters: 8, backlight: false, glyphWidth: 5, glyphHeight: 8, ...capabilities };
    this.rows = Array<string>(this.capabilities.rows).fill('');
  }

  /** What would be shown, for logs and tests. */
  lines(): readonly string[] {
    return this.rows;
  }

  init(): Promise<void> {
    return Promise.resolve();
  }
  writeLine(row: number, text: string): Promise<void> {
    if (row >= 0 && row < this.rows.length) this.rows[row] = text.slice(0, this.capabilities.columns);
    return Promise.resolve();
  }
  clear(): Promise<void> {
    this.rows.fill('');
    return Promise.resolve();
  }
  defineGlyph(): Promise<void> {
    return Promise.resolve();
  }
  setBacklight(): Promise<void> {
    return Promise.resolve();
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}
