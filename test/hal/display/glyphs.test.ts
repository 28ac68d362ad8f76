// Tests of the status glyphs and of loading them into a display's slots.
import { describe, expect, it } from 'vitest';
import { GLYPHS, loadGlyphs, type GlyphName } from '../../../hal/display/glyphs.js';
import type { TextDisplay } from '../../../hal/devices.js';
import { NullDisplay } from '../../../hal/display/null-display.js';

describe('GLYPHS', () => {
  it('has the eight status icons as 8 rows of 5 bits, all different', () => {
    const names = Object.keys(GLYPHS) as GlyphName[];
    expect(names.sort()).toEqual(['bell', 'envelope', 'forward', 'handset', 'hold', 'lock', 'mute', 'signal']);
    for (const name of names) {
      expect(GLYPHS[name]).toHaveLength(8);
      for (const row of GLYPHS[name]) expect(Number.isInteger(row) && row >= 0 && row <= 0x1f, `${name}: ${row}`).toBe(true);
      expect(GLYPHS[name].some((row) => row !== 0)).toBe(true);
    }
    expect(new Set(names.map((n) => GLYPHS[n].join(','))).size).toBe(8);
  });

  it('is frozen: no test or caller can redraw an icon for everyone', () => {
    expect(Object.isFrozen(GLYPHS)).toBe(true);
    expect(Object.isFrozen(GLYPHS.bell)).toBe(true);
  });
});

describe('loadGlyphs', () => {
  it('defines the glyphs in slots 0, 1, 2 ... and returns the character of each', async () => {
    const defined: [number, readonly number[]][] = [];
    const display: TextDisplay = {
      name: 'recording',
      capabilities: new NullDisplay({ customCharacters: 8 }).capabilities,
      init: () => Promise.resolve(),
      writeLine: () => Promise.resolve(),
      clear: () => Promise.resolve(),
      defineGlyph: (slot, rows) => {
        defined.push([slot, rows]);
        return Promise.resolve();
      },
      setBacklight: () => Promise.resolve(),
      close: () => Promise.resolve(),
    };
    const chars = await loadGlyphs(display, ['bell', 'lock']);
    expect(chars).toEqual({ bell: '\u0000', lock: '\u0001' });
    expect(defined).toEqual([
      [0, GLYPHS.bell],
      [1, GLYPHS.lock],
    ]);
  });

  it('refuses more glyphs than the display has slots, and duplicates', async () => {
    await expect(loadGlyphs(new NullDisplay({ customCharacters: 1 }), ['bell', 'lock'])).rejects.toThrow(RangeError);
    await expect(loadGlyphs(new NullDisplay(), ['bell', 'bell'])).rejects.toThrow(RangeError);
  });
});
