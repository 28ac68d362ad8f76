// Screen layouts: pure functions from what the phone knows to the text rows of a display of any size.
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

export interface IdleInfo {
  accountStatus: string;
  now: Date;
  format: ClockFormat;
}

export function idleScreen(caps: DisplayCapabilities, info: IdleInfo): string[] {
  const w = caps.columns;
  const time = formatTime(info.now, info.format);
  const date = formatDate(info.now, info.format, w - time.length - 1);
  const rows = Array<string>(caps.rows).fill('');
  rows[0] = info.accountStatus.slice(0, w);
  rows[caps.rows >= 4 ? 2 : caps.rows - 1] = spread(date, time, w);
  return rows;
}

export function dialScreen(caps: DisplayCapabilities, info: { offHook: boolean; digits: string }): string[] {
  const w = caps.columns;
  const rows = Array<string>(caps.rows).fill('');
  rows[0] = info.offHook ? `${glyph('handset')} ${info.digits ? 'Dialing' : 'Dial tone'}` : 'Number:';
  rows[1] = tail(info.digits, w);
  if (caps.rows >= 4) rows[3] = info.offHook ? '' : 'Lift handset to call'.slice(0, w);
  return rows;
}
