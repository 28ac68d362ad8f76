// The idle screen: the line's registration, time and date, missed calls, voicemail, DND and forwarding, softkey labels, laid out for 16x2, 20x4 and OLED rows.
import type { DisplayCapabilities } from '../../hal/devices.js';
import { type ClockFormat, formatDate, formatTime, glyph, spread } from './screens.js';

export interface IdleInfo {
  /** The registration line ("Registered 1003", "1003: wrong user name or password (401 ...)"), or a problem. */
  line: string;
  now: Date;
  format: ClockFormat;
  /** Missed calls not yet viewed. */
  missed: number;
  /** New voicemail messages (MWI); the envelope shows when `waiting` even without a count. */
  voicemail: { waiting: boolean; newMessages: number } | undefined;
  dnd: boolean;
  /** The call-forward-always target, when set. */
  forward: string | undefined;
  /** Softkey labels for the bottom row (4x4 keypads), or undefined. */
  softkeys: string | undefined;
  /** A short message for a few seconds ("DND on", "No number to redial"): it takes the indicators' place. */
  notice?: string | undefined;
}

interface Indicator {
  /** For 20 columns and more. */
  long: string;
  /** For narrower rows. */
  short: string;
  /** One row of its own on a tall display (OLED). */
  line: string;
}

function indicators(info: IdleInfo): Indicator[] {
  const out: Indicator[] = [];
  const vm = info.voicemail;
  if (vm && (vm.waiting || vm.newMessages > 0)) {
    const n = vm.newMessages > 0 ? String(vm.newMessages) : '';
    out.push({ long: `${glyph('envelope')}${n}`, short: `${glyph('envelope')}${n}`, line: `${glyph('envelope')} ${vm.newMessages > 0 ? `${n} new voicemail` : 'Voicemail'}` });
  }
  if (info.missed > 0) out.push({ long: `${info.missed} missed`, short: `${glyph('bell')}${info.missed}`, line: `${glyph('bell')} ${info.missed} missed call${info.missed === 1 ? '' : 's'}` });
  if (info.dnd) out.push({ long: 'DND', short: 'DND', line: 'Do not disturb' });
  if (info.forward !== undefined) out.push({ long: `${glyph('forward')}${info.forward}`, short: glyph('forward'), line: `${glyph('forward')} Fwd ${info.forward}` });
  return out;
}

/** The idle screen's rows for a display of any size. */
export function idleScreen(caps: DisplayCapabilities, info: IdleInfo): string[] {
  const w = caps.columns;
  const time = formatTime(info.now, info.format);
  const rows = Array<string>(caps.rows).fill('');
  const items = indicators(info);
  rows[0] = info.line.slice(0, w);
  if (caps.rows < 4) {
    // 16x2: the indicators (or a notice, or the date) share the second row with the clock.
    const left = info.notice ?? (items.length > 0 ? items.map((i) => i.short).join(' ') : formatDate(info.now, info.format, w - time.length - 1));
    rows[caps.rows - 1] = spread(left, time, w);
    return rows;
  }
  rows[2] = spread(formatDate(info.now, info.format, w - time.length - 1), time, w);
  const bottom = caps.rows - 1;
  if (info.softkeys !== undefined) rows[bottom] = info.softkeys.slice(0, w);
  if (caps.rows >= 6 && info.notice === undefined) {
    // A tall display (OLED 21x8): one indicator per row under the clock.
    items.slice(0, bottom - 3).forEach((item, i) => (rows[3 + i] = item.line.slice(0, w)));
    return rows;
  }
  const long = items.map((i) => i.long).join(' ');
  rows[1] = (info.notice ?? (long.length <= w ? long : items.map((i) => i.short).join(' '))).slice(0, w);
  return rows;
}
