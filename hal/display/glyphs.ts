// The phone's status icons as 5x8 custom glyphs, and loading a chosen set of them into a display's slots.
import type { TextDisplay } from '../devices.js';

export type GlyphName = 'handset' | 'envelope' | 'signal' | 'bell' | 'hold' | 'mute' | 'lock' | 'forward';

/**
 * Eight rows of five bits each, MSB = leftmost pixel (the TextDisplay.defineGlyph format and the
 * HD44780's CGRAM layout). Drawn here; the bottom row stays free where the HD44780 draws its cursor.
 */
export const GLYPHS: Readonly<Record<GlyphName, readonly number[]>> = Object.freeze({
  // Handset off hook: earpiece top left, handle, mouthpiece bottom right.
  handset: Object.freeze([
    0b11000, //
    0b11000,
    0b01000,
    0b01000,
    0b00100,
    0b00011,
    0b00011,
    0b00000,
  ]),
  // Envelope: voicemail waiting.
  envelope: Object.freeze([
    0b00000, //
    0b11111,
    0b11011,
    0b10101,
    0b10001,
    0b10001,
    0b11111,
    0b00000,
  ]),
  // Signal bars: registered.
  signal: Object.freeze([
    0b00001, //
    0b00001,
    0b00101,
    0b00101,
    0b10101,
    0b10101,
    0b10101,
    0b00000,
  ]),
  // Bell: ringing.
  bell: Object.freeze([
    0b00100, //
    0b01110,
    0b01110,
    0b01110,
    0b01110,
    0b11111,
    0b00100,
    0b00000,
  ]),
  // Two bars: call on hold.
  hold: Object.freeze([
    0b00000, //
    0b11011,
    0b11011,
    0b11011,
    0b11011,
    0b11011,
    0b00000,
    0b00000,
  ]),
  // Speaker with a cross: microphone muted.
  mute: Object.freeze([
    0b01000, //
    0b11000,
    0b11101,
    0b11010,
    0b11101,
    0b11000,
    0b01000,
    0b00000,
  ]),
  // Padlock: media encrypted (SRTP).
  lock: Object.freeze([
    0b01110, //
    0b10001,
    0b10001,
    0b11111,
    0b11011,
    0b11011,
    0b11111,
    0b00000,
  ]),
  // Arrow: call forwarding on.
  forward: Object.freeze([
    0b00000, //
    0b00100,
    0b00110,
    0b11111,
    0b00110,
    0b00100,
    0b00000,
    0b00000,
  ]),
});

/**
 * Defines the named glyphs in slots 0, 1, 2 ... in the order given and returns, for each name, the
 * character that shows it (slot n is U+000n), e.g. `${chars.bell} Incoming call`.
 */
export async function loadGlyphs<N extends GlyphName>(display: TextDisplay, names: readonly N[]): Promise<Record<N, string>> {
  const slots = display.capabilities.customCharacters;
  if (names.length > slots) throw new RangeError(`${display.name} has ${slots} glyph slots, ${names.length} glyphs asked`);
  if (new Set(names).size !== names.length) throw new RangeError('each glyph may be loaded once');
  const chars: Partial<Record<N, string>> = {};
  for (const [slot, name] of names.entries()) {
    await display.defineGlyph(slot, GLYPHS[name]);
    chars[name] = String.fromCharCode(slot);
  }
  return chars as Record<N, string>;
}

/** The RangeError for a glyph slot or bitmap a 5x8 character display cannot take, or undefined when both are fine. */
export function glyphError(slot: number, rows: readonly number[]): RangeError | undefined {
  if (!Number.isInteger(slot) || slot < 0 || slot > 7) return new RangeError(`slot: expected 0..7, got ${slot}`);
  if (rows.length !== 8 || rows.some((r) => !Number.isInteger(r) || r < 0 || r > 0x1f)) return new RangeError('rows: expected 8 rows of 5 bits (0..0x1F)');
  return undefined;
}
