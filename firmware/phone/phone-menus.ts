// The menus on the idle phone: the main menu, the phonebook, the settings (DND, forwarding, volumes, ring tone) as a stack of pages moved through with up / down / OK / back and number entry.
import type { Phonebook } from './phonebook.js';
import { VOLUME_MAX, type ForwardKind, type SettingsStore, type VolumePath } from './settings-store.js';

/** One row of a list page. */
export interface MenuItem {
  label: string;
  /** Shown right-aligned on the row ("On", "1009", "5"). */
  value?: string | undefined;
  /** OK on the row. */
  select?: (() => void) | undefined;
  /** A number the row stands for: OK and lifting the handset call it (phonebook). */
  number?: string | undefined;
}

export type MenuPage =
  | { kind: 'list'; title: string; items: () => readonly MenuItem[]; index: number; empty: string }
  /** A level 0..max (volumes): up / down change it at once. */
  | { kind: 'level'; title: string; get: () => number; set: (level: number) => void; max: number }
  /** Digits typed on the keypad; save returns an error text to show, or undefined when it took them. */
  | { kind: 'entry'; title: string; digits: string; hint: string; save: (digits: string) => string | undefined };

/** What the menus need of the phone. */
export interface MenuHost {
  readonly settings: SettingsStore | undefined;
  readonly phonebook: Phonebook | undefined;
  readonly ringTones: readonly string[];
  noAnswerAfterS(): number;
  forwardTarget(kind: ForwardKind): string | undefined;
  dnd(): boolean;
  setDnd(on: boolean): void;
  volume(path: VolumePath): number;
  setVolume(path: VolumePath, level: number): void;
  /** Calls a number (on the speaker: the handset is down in the menus). */
  dial(number: string): void;
  openHistory(): void;
  /** Leaves the menus for the idle screen. */
  exit(): void;
  notice(text: string): void;
}

export type MenuMove = 'up' | 'down' | 'ok' | 'back' | 'backspace';

const FORWARD_LABELS: Readonly<Record<ForwardKind, string>> = { always: 'Always', busy: 'Busy', noAnswer: 'No answer' };
/** Digits a forwarding target may hold as typed (a URI cannot be typed on a keypad). */
const TYPED = /^\+?[0-9*#]*$/;
const MAX_ENTRY = 32;

/** The menu stack. The phone routes keys here in its Menu state and draws page() with menu-screens.ts. */
export class PhoneMenus {
  private stack: MenuPage[] = [];

  constructor(private readonly host: MenuHost) {}

  get page(): MenuPage | undefined {
    return this.stack[this.stack.length - 1];
  }

  /** Opens the main menu. */
  open(): void {
    this.stack = [this.mainPage()];
  }

  /** Opens the phonebook by itself (back leaves the menus). */
  openPhonebook(): void {
    this.stack = [this.phonebookPage()];
  }

  close(): void {
    this.stack = [];
  }

  /** The number of the row shown (phonebook), for lifting the handset. */
  get number(): string | undefined {
    const p = this.page;
    return p?.kind === 'list' ? p.items()[p.index]?.number : undefined;
  }

  move(m: MenuMove): void {
    const p = this.page;
    if (!p) return;
    if (m === 'back') {
      this.back();
      return;
    }
    switch (p.kind) {
      case 'list': {
        const items = p.items();
        if (m === 'up' || m === 'down') {
          if (items.length > 0) p.index = (p.index + (m === 'down' ? 1 : items.length - 1)) % items.length;
        } else if (m === 'ok') {
          const item = items[p.index];
          if (item?.select) item.select();
          else if (item?.number !== undefined) this.host.dial(item.number);
        }
        return;
      }
      case 'level':
        if (m === 'up' || m === 'down') p.set(Math.max(0, Math.min(p.max, p.get() + (m === 'up' ? 1 : -1))));
        else if (m === 'ok') this.back();
        return;
      case 'entry':
        if (m === 'backspace') p.digits = p.digits.slice(0, -1);
        else if (m === 'ok') {
          const error = p.save(p.digits);
          if (error === undefined) this.back();
          else this.host.notice(error);
        }
        return;
    }
  }

  /** A key typed into a number entry. */
  type(key: string): void {
    const p = this.page;
    if (p?.kind === 'entry' && p.digits.length < MAX_ENTRY) p.digits += key;
  }

  /** A long '*' in a number entry (4x3: no Del key): the '*' its press typed goes, and one more; on an empty entry: back. */
  longStar(): void {
    const p = this.page;
    if (p?.kind !== 'entry') return;
    if (p.digits.endsWith('*')) p.digits = p.digits.slice(0, -1);
    if (p.digits === '') this.back();
    else p.digits = p.digits.slice(0, -1);
  }

  private back(): void {
    this.stack.pop();
    if (this.stack.length === 0) this.host.exit();
  }

  private push(page: MenuPage): void {
    this.stack.push(page);
  }

  private list(title: string, items: () => readonly MenuItem[], empty = '(empty)'): MenuPage {
    return { kind: 'list', title, items, index: 0, empty };
  }

  // --- the pages --------------------------------------------------------------------------------

  private mainPage(): MenuPage {
    return this.list('Menu', () => [
      { label: 'Call history', select: () => this.host.openHistory() },
      { label: 'Phonebook', select: () => this.push(this.phonebookPage()) },
      { label: 'Settings', select: () => this.push(this.settingsPage()) },
    ]);
  }

  private phonebookPage(): MenuPage {
    return this.list('Phonebook', () => (this.host.phonebook?.search('') ?? []).map((e) => ({ label: e.name, value: e.number, number: e.number })), 'No entries');
  }

  private settingsPage(): MenuPage {
    const h = this.host;
    return this.list('Settings', () => [
      { label: 'DND', value: h.dnd() ? 'On' : 'Off', select: () => h.setDnd(!h.dnd()) },
      { label: 'Forward', value: h.forwardTarget('always') !== undefined ? 'Always' : '', select: () => this.push(this.forwardPage()) },
      { label: 'Handset vol', value: String(h.volume('handset')), select: () => this.push(this.volumePage('handset')) },
      { label: 'Speaker vol', value: String(h.volume('speaker')), select: () => this.push(this.volumePage('speaker')) },
      { label: 'Ring tone', value: h.settings?.settings.ringTone ?? 'default', select: () => this.push(this.ringTonePage()) },
    ]);
  }

  private volumePage(path: VolumePath): MenuPage {
    return {
      kind: 'level',
      title: path === 'handset' ? 'Handset volume' : 'Speaker volume',
      get: () => this.host.volume(path),
      set: (level) => this.host.setVolume(path, level),
      max: VOLUME_MAX,
    };
  }

  private ringTonePage(): MenuPage {
    const page = this.list('Ring tone', () =>
      this.host.ringTones.map((name) => ({
        label: name,
        value: (this.host.settings?.settings.ringTone ?? 'default') === name ? '*' : '',
        select: () => {
          if (!this.host.settings) this.host.notice('Not available');
          else this.host.settings.setRingTone(name);
          this.back();
        },
      })),
    );
    if (page.kind === 'list') page.index = Math.max(0, this.host.ringTones.indexOf(this.host.settings?.settings.ringTone ?? 'default'));
    return page;
  }

  private forwardPage(): MenuPage {
    const h = this.host;
    const kinds: ForwardKind[] = ['always', 'busy', 'noAnswer'];
    return this.list('Call forward', () => [
      ...kinds.map((kind) => ({ label: FORWARD_LABELS[kind], value: h.forwardTarget(kind) ?? 'Off', select: () => this.push(this.forwardEntry(kind)) })),
      { label: 'Ring for', value: `${h.noAnswerAfterS()}s`, select: () => this.push(this.delayEntry()) },
    ]);
  }

  /** A forwarding number: '#' / OK saves, an empty entry switches it off. */
  private forwardEntry(kind: ForwardKind): MenuPage {
    const now = this.host.forwardTarget(kind);
    return {
      kind: 'entry',
      title: `Fwd ${FORWARD_LABELS[kind].toLowerCase()} to:`,
      digits: now !== undefined && TYPED.test(now) ? now : '',
      hint: now !== undefined && !TYPED.test(now) ? now : 'Empty: off',
      save: (digits) => {
        const settings = this.host.settings;
        if (!settings) return 'Not available';
        try {
          settings.setForward(kind, digits === '' ? false : digits);
        } catch {
          return 'Invalid number';
        }
        this.host.notice(digits === '' ? `Fwd ${FORWARD_LABELS[kind].toLowerCase()} off` : `Fwd to ${digits}`);
        return undefined;
      },
    };
  }

  private delayEntry(): MenuPage {
    return {
      kind: 'entry',
      title: 'Ring for (s):',
      digits: String(this.host.noAnswerAfterS()),
      hint: '1 to 300 seconds',
      save: (digits) => {
        const settings = this.host.settings;
        if (!settings) return 'Not available';
        const s = Number(digits);
        if (!/^\d{1,3}$/.test(digits) || s < 1 || s > 300) return '1 to 300 seconds';
        settings.setNoAnswerDelay(s);
        return undefined;
      },
    };
  }
}
