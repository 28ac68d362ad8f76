// The device interfaces the phone talks to (DESIGN.md): Keypad, HookSwitch, TextDisplay, Leds, Ringer.
import type { Unsubscribe } from '../firmware/util/emitter.js';
import type { HalError } from './errors.js';

/** A key name: '0'-'9', '*', '#', and 'A'-'D' (softkeys) on a 4x4 pad. */
export type KeyName = string;

export interface KeyEvent {
  key: KeyName;
  /** 'down' when debounced pressed, 'up' when released, 'long' once when held past the long-press time. */
  type: 'down' | 'up' | 'long';
  /** Clock time of the event in ms. */
  atMs: number;
}

export interface Keypad {
  /** The keys this pad has, row by row. */
  readonly layout: readonly (readonly KeyName[])[];
  on(event: 'key', listener: (e: KeyEvent) => void): Unsubscribe;
  on(event: 'error', listener: (e: HalError) => void): Unsubscribe;
  start(): Promise<void>;
  close(): Promise<void>;
}

export interface HookSwitch {
  /** Debounced state. */
  readonly offHook: boolean;
  on(event: 'change', listener: (offHook: boolean) => void): Unsubscribe;
  on(event: 'error', listener: (e: HalError) => void): Unsubscribe;
  start(): Promise<void>;
  close(): Promise<void>;
}

/** Capabilities as data (Zephyr's auxdisplay_capabilities): screens lay themselves out from these. */
export interface DisplayCapabilities {
  columns: number;
  rows: number;
  /** Number of user-definable glyph slots; text refers to slot n with the character U+000n. */
  customCharacters: number;
  backlight: boolean;
  /** Glyph cell size in pixels (5x8 for an HD44780). */
  glyphWidth: number;
  glyphHeight: number;
}

export interface TextDisplay {
  readonly name: string;
  readonly capabilities: DisplayCapabilities;
  /** Initialises the controller; rejects with a HalError when the device does not answer. */
  init(): Promise<void>;
  /** Writes one row, padded with spaces or cut to the row's width. Only changed cells reach the device. */
  writeLine(row: number, text: string): Promise<void>;
  clear(): Promise<void>;
  /** Defines glyph slot 0..customCharacters-1 from glyphHeight rows of glyphWidth bits (MSB left). */
  defineGlyph(slot: number, rows: readonly number[]): Promise<void>;
  setBacklight(on: boolean): Promise<void>;
  close(): Promise<void>;
}

export type LedPattern = 'off' | 'on' | 'slow-blink' | 'fast-blink';

export interface Leds {
  /** LED names from the board profile, e.g. 'mwi', 'line', 'speaker'. */
  readonly names: readonly string[];
  set(name: string, pattern: LedPattern): void;
  get(name: string): LedPattern;
  close(): Promise<void>;
}

/** A ring cadence: alternating on / off durations in ms, repeated (e.g. US [2000, 4000]). */
export type RingCadence = readonly number[];

export interface Ringer {
  readonly ringing: boolean;
  ring(cadence?: RingCadence): void;
  stop(): void;
  close(): Promise<void>;
}
