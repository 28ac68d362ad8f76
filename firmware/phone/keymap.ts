// The key map: which key does what on each screen, for the 4x4 keypad (softkeys A-D) and the 4x3 one (long presses), in one table.

/** What a key can ask the phone to do (besides being a digit). */
export type PhoneAction =
  | 'redial'
  | 'dnd'
  | 'history'
  | 'speaker'
  | 'send'
  | 'backspace'
  | 'answer'
  | 'silence'
  | 'reject'
  | 'end'
  | 'hold'
  | 'mute'
  | 'transfer'
  | 'consult'
  | 'conference'
  | 'swap'
  | 'volume-down'
  | 'volume-up'
  | 'quality'
  | 'more'
  | 'next-list'
  | 'older'
  | 'newer'
  | 'dial-entry'
  | 'delete-entry'
  | 'menu'
  | 'menu-up'
  | 'menu-down'
  | 'menu-ok'
  | 'menu-back';

/** The screens that have keys of their own. A call has three pages of softkeys ('more' turns them). */
export type KeyContext =
  | 'idle'
  | 'predial'
  | 'dialing'
  | 'outgoing'
  | 'ringing'
  | 'call-1'
  | 'call-2'
  | 'call-3'
  | 'waiting'
  | 'transfer'
  | 'ended'
  | 'history'
  /** A menu list or a volume level. */
  | 'menu'
  /** A number typed in a menu (a forwarding target, a delay). */
  | 'menu-entry';

export interface Softkey {
  /** At most 4 characters: four labels fill a 20-column row (16: 3 characters each). */
  label: string;
  action: PhoneAction;
}

type Softkeys = readonly [Softkey | undefined, Softkey | undefined, Softkey | undefined, Softkey | undefined];
const k = (label: string, action: PhoneAction): Softkey => ({ label, action });
const MORE = k('More', 'more');

/**
 * The softkeys A, B, C, D of a 4x4 keypad on each screen. The same table labels the bottom row of
 * the LCD (20x4, OLED); phones without softkeys use LONG_PRESS and KEY_ACTIONS.
 */
export const SOFTKEYS: Readonly<Record<KeyContext, Softkeys>> = {
  idle: [k('Redl', 'redial'), k('DND', 'dnd'), k('Hist', 'history'), k('Spkr', 'speaker')],
  predial: [k('Dial', 'send'), undefined, undefined, k('Del', 'backspace')],
  dialing: [k('Redl', 'redial'), undefined, k('End', 'end'), k('Del', 'backspace')],
  outgoing: [undefined, undefined, undefined, k('End', 'end')],
  ringing: [k('Ans', 'answer'), k('Sil', 'silence'), k('Rej', 'reject'), undefined],
  'call-1': [k('Hold', 'hold'), k('Mute', 'mute'), k('Xfer', 'transfer'), MORE],
  'call-2': [k('Vol-', 'volume-down'), k('Vol+', 'volume-up'), k('Qual', 'quality'), MORE],
  'call-3': [k('Swap', 'swap'), k('Conf', 'conference'), k('End', 'end'), MORE],
  waiting: [k('Ans', 'answer'), undefined, k('Rej', 'reject'), k('End', 'end')],
  transfer: [k('Send', 'send'), k('Cnsl', 'consult'), k('Back', 'end'), k('Del', 'backspace')],
  ended: [k('Qual', 'quality'), k('Res', 'hold'), k('End', 'end'), undefined],
  history: [k('Dial', 'dial-entry'), k('List', 'next-list'), k('Next', 'older'), k('Back', 'end')],
  menu: [k('OK', 'menu-ok'), k('Up', 'menu-up'), k('Down', 'menu-down'), k('Back', 'menu-back')],
  'menu-entry': [k('Save', 'menu-ok'), undefined, k('Back', 'menu-back'), k('Del', 'backspace')],
};

/**
 * Long presses, on both keypads (the 4x3 one has no other way to reach these): in a call the key's
 * DTMF digit went out at the press, the long press adds the action. 2 and 8 are the arrows of a
 * phone keypad (up, down), 4 and 6 left and right.
 */
export const LONG_PRESS: Readonly<Partial<Record<KeyContext, Readonly<Record<string, PhoneAction>>>>> = {
  idle: { '*': 'menu' },
  predial: { '*': 'backspace' },
  dialing: { '*': 'backspace' },
  'call-1': { '2': 'volume-up', '8': 'volume-down', '*': 'mute', '#': 'hold', '4': 'swap', '6': 'transfer', '0': 'conference', '5': 'quality' },
  transfer: { '*': 'backspace', '6': 'consult' },
  ended: { '5': 'quality' },
  history: { '2': 'newer', '8': 'older', '*': 'next-list', '0': 'delete-entry' },
  'menu-entry': { '*': 'backspace' },
};

/** Plain presses that are commands rather than digits (both keypads). */
export const KEY_ACTIONS: Readonly<Partial<Record<KeyContext, Readonly<Record<string, PhoneAction>>>>> = {
  ringing: { '*': 'reject', '#': 'silence' },
  waiting: { '*': 'reject' },
  history: { '2': 'newer', '8': 'older', '#': 'dial-entry', '*': 'next-list' },
  menu: { '2': 'menu-up', '8': 'menu-down', '#': 'menu-ok', '*': 'menu-back' },
  'menu-entry': { '#': 'menu-ok' },
};

const SOFTKEY_NAMES = ['A', 'B', 'C', 'D'] as const;

/** The long-press table of a context; the call pages share the first page's. */
function longPressTable(context: KeyContext): Readonly<Record<string, PhoneAction>> | undefined {
  return LONG_PRESS[context.startsWith('call-') || context === 'waiting' ? 'call-1' : context];
}

/** What a key does on a screen: an action, or undefined (a digit, or nothing). */
export function actionOf(context: KeyContext, key: string, type: 'down' | 'long'): PhoneAction | undefined {
  if (type === 'long') return longPressTable(context)?.[key];
  const softkey = SOFTKEY_NAMES.indexOf(key as (typeof SOFTKEY_NAMES)[number]);
  if (softkey >= 0) return SOFTKEYS[context][softkey]?.action;
  return KEY_ACTIONS[context]?.[key];
}

/** The bottom row of labels for a width: four equal cells, each label cut to fit. */
export function softkeyRow(context: KeyContext, width: number): string {
  const cell = Math.floor(width / 4);
  return SOFTKEYS[context]
    .map((s) => (s?.label ?? '').slice(0, cell - 1).padEnd(cell))
    .join('')
    .trimEnd();
}

/** Whether a keypad layout has the softkeys A-D. */
export function hasSoftkeys(layout: readonly (readonly string[])[]): boolean {
  return layout.some((row) => row.includes('A'));
}
