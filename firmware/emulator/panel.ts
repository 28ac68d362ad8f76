// What an emulator front end sees of the emulated phone: the chips' outputs and the person's inputs.

/**
 * The emulated display chip as a front end draws it: an HD44780 character grid with its CGRAM, or
 * an SSD1306 pixel panel. The chip models satisfy these shapes; `type` says which one it is.
 */
export type PanelDisplay =
  | {
      readonly type: 'hd44780';
      readonly columns: number;
      readonly rows: number;
      /** The 8 pixel rows (5 bits each, MSB left) of CGRAM glyph slot 0..7. */
      cgram(slot: number): number[];
    }
  | {
      readonly type: 'ssd1306';
      readonly width: number;
      readonly height: number;
      /** The pixel a viewer sees at (x, y), (0, 0) top left. */
      pixel(x: number, y: number): boolean;
    };

/** The emulated phone as a person sees and touches it; read from the emulated chips, not from the drivers. */
export interface EmulatorPanel {
  /** The text the emulated display controller shows; custom glyph slots as U+0000..U+0007. */
  lcdLines(): string[];
  backlight(): boolean;
  /** Each LED's physical state right now (after active-low). */
  leds(): Record<string, boolean>;
  ringerOn(): boolean;
  offHook(): boolean;
  /** Presses a key like a finger: contact bounce, a hold, a release. Resolves when released. */
  tapKey(key: string): Promise<void>;
  /** Lifts or replaces the handset, with contact bounce. */
  setHook(offHook: boolean): Promise<void>;
  /** Key names on the emulated keypad. */
  readonly keys: readonly string[];
  /** The display chip itself, for front ends that draw its pixels (the web page); absent: text only. */
  readonly display?: PanelDisplay | undefined;
}

/** The display chip model of a board, tagged for front ends (the hardware builder passes what it attached). */
export function panelDisplay(
  lcd: { readonly columns: number; readonly rows: number; cgram(slot: number): number[] } | undefined,
  oled: { readonly width: number; readonly height: number; pixel(x: number, y: number): boolean } | undefined,
): PanelDisplay | undefined {
  if (lcd) return { type: 'hd44780', columns: lcd.columns, rows: lcd.rows, cgram: (slot) => lcd.cgram(slot) };
  if (oled) return { type: 'ssd1306', width: oled.width, height: oled.height, pixel: (x, y) => oled.pixel(x, y) };
  return undefined;
}
