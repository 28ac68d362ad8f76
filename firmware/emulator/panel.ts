// What an emulator front end sees of the emulated phone: the chips' outputs and the person's inputs.

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
}
