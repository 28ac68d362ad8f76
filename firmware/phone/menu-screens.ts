// The menu screens (lists with a cursor, a volume level, a number entry) laid out for 16x2, 20x4 and OLED rows: pure functions of the page and the display's capabilities.
import type { DisplayCapabilities } from '../../hal/devices.js';
import type { MenuPage } from './phone-menus.js';
import { dialScreen, spread } from './screens.js';

/** The bottom row for keypads without softkeys (4x3): which keys move. */
export const MENU_HINT = '2/8 move # OK * back';
export const ENTRY_HINT = '# save  long * del';

export interface MenuScreenInfo {
  /** Softkey labels (4x4), or undefined: the hint goes there on displays with 3 rows and more. */
  softkeys: string | undefined;
  /** A short message in place of the title ("Fwd to 1009", "Invalid number"). */
  notice?: string | undefined;
}

/** One list row: the cursor, the label, the value right-aligned. */
function itemRow(label: string, value: string | undefined, selected: boolean, width: number): string {
  const text = value ? spread(label, value, width - 1) : label.slice(0, width - 1);
  return `${selected ? '>' : ' '}${text}`;
}

/** A level as a bar: "[#####-----] 5" (fits 16 columns for 0-10). */
export function levelBar(level: number, max: number, width: number): string {
  const cells = Math.max(1, Math.min(max, width - 5));
  const full = Math.round((level / max) * cells);
  return `[${'#'.repeat(full)}${'-'.repeat(cells - full)}] ${level}`;
}

export function menuScreen(caps: DisplayCapabilities, page: MenuPage, info: MenuScreenInfo): string[] {
  const w = caps.columns;
  const rows = Array<string>(caps.rows).fill('');
  const tall = caps.rows >= 3;
  const bottom = tall ? (info.softkeys ?? (page.kind === 'entry' ? ENTRY_HINT : MENU_HINT)) : undefined;
  if (page.kind === 'entry') {
    return dialScreen(caps, { title: info.notice ?? page.title, digits: page.digits, hint: page.hint, bottom });
  }
  if (bottom !== undefined) rows[caps.rows - 1] = bottom.slice(0, w);
  if (page.kind === 'level') {
    rows[0] = (info.notice ?? page.title).slice(0, w);
    rows[1] = levelBar(page.get(), page.max, w).slice(0, w);
    return rows;
  }
  const items = page.items();
  rows[0] = info.notice !== undefined ? info.notice.slice(0, w) : items.length > 0 ? spread(page.title, `${page.index + 1}/${items.length}`, w) : page.title.slice(0, w);
  const room = caps.rows - 1 - (bottom !== undefined ? 1 : 0);
  if (items.length === 0) {
    rows[1] = page.empty.slice(0, w);
    return rows;
  }
  // Whole pages of rows, so the cursor moves down a still list and the list turns at the end.
  const start = Math.floor(page.index / room) * room;
  for (let r = 0; r < room; r++) {
    const item = items[start + r];
    if (item) rows[1 + r] = itemRow(item.label, item.value, start + r === page.index, w);
  }
  return rows;
}
