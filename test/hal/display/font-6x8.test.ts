// Tests of the built-in 6x8 font: coverage, cell layout, and that every glyph can be told apart.
import { describe, expect, it } from 'vitest';
import { FONT_6X8 } from '../../../hal/display/font-6x8.js';

const printable = Array.from({ length: 0x7f - 0x20 }, (_, i) => String.fromCharCode(0x20 + i));

describe('FONT_6X8', () => {
  it('covers printable ASCII 0x20..0x7E with 6 columns each', () => {
    expect(FONT_6X8.firstCode).toBe(0x20);
    expect(FONT_6X8.lastCode).toBe(0x7e);
    for (const ch of printable) expect(FONT_6X8.glyph(ch), ch).toHaveLength(6);
  });

  it('draws 5x7: the 6th column and the 8th row stay empty as spacing', () => {
    for (const ch of printable) {
      const columns = FONT_6X8.glyph(ch) ?? [];
      expect(columns[5], ch).toBe(0);
      for (const column of columns) expect(column & 0x80, ch).toBe(0);
    }
  });

  it('has a blank space and ink in every other glyph', () => {
    expect(FONT_6X8.glyph(' ')).toEqual([0, 0, 0, 0, 0, 0]);
    for (const ch of printable.slice(1)) expect(FONT_6X8.glyph(ch)?.some((c) => c !== 0), ch).toBe(true);
  });

  it('gives every character its own picture, so screens can be read back as text', () => {
    const pictures = new Set(printable.map((ch) => FONT_6X8.glyph(ch)?.join(',')));
    expect(pictures.size).toBe(printable.length);
  });

  it('draws what it says: "L" is a vertical stroke with a foot, "-" a middle bar', () => {
    expect(FONT_6X8.glyph('L')).toEqual([0x7f, 0x40, 0x40, 0x40, 0x40, 0x00]);
    expect(FONT_6X8.glyph('-')).toEqual([0x08, 0x08, 0x08, 0x08, 0x08, 0x00]);
  });

  it('has nothing outside ASCII', () => {
    expect(FONT_6X8.glyph('é')).toBeUndefined();
    expect(FONT_6X8.glyph('\u0001')).toBeUndefined();
    expect(FONT_6X8.glyph('ab')).toBeUndefined();
  });
});
