// Screen helpers (glyphs, time, date, fitting text in a row) and the dialing screen: pure functions to the text rows of a display of any size.
import type { DisplayCapabilities } from '../../hal/devices.js';

export interface ClockFormat {
  timeFormat: '24h' | '12h';
  dateFormat: 'dmy' | 'mdy' | 'ymd';
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** Glyph slots loaded at start (hal/display/glyphs.ts names them); text refers to slot n as U+000n. */
export const GLYPH_SLOTS = ['handset', 'envelope', 'bell', 'signal', 'hold', 'mute', 'lock', 'forward'] as const;
export type GlyphName = (typeof GLYPH_SLOTS)[number];
export function glyph(name: GlyphName): string {
  return String.fromCharCode(GLYPH_SLOTS.indexOf(name));
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

export function formatTime(date: Date, format: ClockFormat): string {
  const h = date.getHours();
  const m = pad2(date.getMinutes());
  if (format.timeFormat === '24h') return `${pad2(h)}:${m}`;
  return `${h % 12 === 0 ? 12 : h % 12}:${m}${h < 12 ? 'am' : 'pm'}`;
}

export function formatDate(date: Date, format: ClockFormat, width: number): string {
  const day = DAYS[date.getDay()] ?? '';
  const month = MONTHS[date.getMonth()] ?? '';
  const d = date.getDate();
  if (format.dateFormat === 'ymd') return `${date.getFullYear()}-${pad2(date.getMonth() + 1)}-${pad2(d)}`;
  const long = format.dateFormat === 'dmy' ? `${day} ${d} ${month}` : `${day} ${month} ${d}`;
  return long.length <= width ? long : format.dateFormat === 'dmy' ? `${d} ${month}` : `${month} ${d}`;
}

/** Left text and right text on one row; the right side wins when both do not fit. */
export function spread(left: string, right: string, width: number): string {
  if (right.length >= width) return right.slice(0, width);
  const room = width - right.length - 1;
  const l = left.slice(0, Math.max(0, room));
  return l + ' '.repeat(width - l.length - right.length) + right;
}

/** The tail of a long number, marked with '<' when cut, so the last digits typed stay visible. */
export function tail(text: string, width: number): string {
  return text.length <= width ? text : `<${text.slice(text.length - width + 1)}`;
}

export interface DialInfo {
  /** The first row: "\u0000 Dial tone", "\u0000 Dialing", "Number:", "Transfer to:". */
  title: string;
  digits: string;
  /** A third row (20x4): the phonebook name of the number so far, or a hint. */
  hint?: string | undefined;
  /** The bottom row on displays with 3 or more rows: softkey labels, or a hint. */
  bottom?: string | undefined;
}

/** The screen while a number is typed (off hook, on hook, or the target of a transfer). */
export function dialScreen(caps: DisplayCapabilities, info: DialInfo): string[] {
  const w = caps.columns;
  const rows = Array<string>(caps.rows).fill('');
  rows[0] = info.title.slice(0, w);
  rows[1] = tail(info.digits, w);
  if (caps.rows >= 4) {
    rows[2] = (info.hint ?? '').slice(0, w);
    rows[caps.rows - 1] = (info.bottom ?? '').slice(0, w);
  } else if (caps.rows === 3) {
    rows[2] = (info.bottom ?? '').slice(0, w);
  }
  return rows;
}

/** "mm:ss", or "h:mm:ss" past the hour: the call timer. */
export function formatDuration(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  return h > 0 ? `${h}:${pad2(m)}:${pad2(s)}` : `${pad2(m)}:${pad2(s)}`;
}
