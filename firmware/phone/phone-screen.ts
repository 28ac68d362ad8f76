// Which screen the phone shows in each state, from a snapshot of what it knows: idle, dialing, the call screens, the ended screen, the after-call summary, the call history.
import type { DisplayCapabilities } from '../../hal/devices.js';
import type { CallListName } from './call-history.js';
import { callScreen, qualityLines, qualityOf, type CallView } from './call-screens.js';
import { idleScreen } from './idle-screen.js';
import { softkeyRow, type KeyContext } from './keymap.js';
import { lineText } from './line-text.js';
import { menuScreen } from './menu-screens.js';
import type { MenuPage } from './phone-menus.js';
import type { PhoneCall } from './phone-call.js';
import type { PhoneOptions } from './phone-core.js';
import { PhoneState } from './phone-state.js';
import { dialScreen, formatDuration, formatTime, glyph, spread } from './screens.js';

/** What the screen is drawn from (a snapshot the Phone takes for each frame). */
export interface PhoneView {
  caps: DisplayCapabilities;
  state: PhoneState;
  options: PhoneOptions;
  nowMs: number;
  /** The keypad has softkeys A-D and the phone has calls: label them on the bottom row. */
  softkeys: boolean;
  context: KeyContext;
  offHook: boolean;
  speaker: boolean;
  muted: boolean;
  digits: string;
  focus: PhoneCall | undefined;
  waiting: PhoneCall | undefined;
  /** Held calls other than the focused one. */
  held: readonly PhoneCall[];
  ended: { text: string; detail: string; call: PhoneCall | undefined } | undefined;
  /** The call to summarise on the idle screen (duration, quality), while it is shown. */
  summary: PhoneCall | undefined;
  showQuality: boolean;
  silenced: boolean;
  notice: string | undefined;
  dnd: boolean;
  /** The call-forward-always target in force (settings, else config). */
  forward: string | undefined;
  history: { list: CallListName; index: number };
  /** The menu page shown (Menu state). */
  menu: MenuPage | undefined;
}

const LIST_TITLES: Readonly<Record<CallListName, string>> = { missed: 'Missed', received: 'Received', dialed: 'Dialed' };

export function phoneScreen(v: PhoneView): string[] {
  switch (v.state) {
    case PhoneState.Idle:
      return v.summary ? summaryScreen(v, v.summary) : idle(v);
    case PhoneState.PreDial:
      return dialScreen(v.caps, { title: 'Number:', digits: v.digits, hint: nameOf(v, v.digits), bottom: v.softkeys ? softkeyRow('predial', v.caps.columns) : 'Lift handset to call' });
    case PhoneState.Dialing:
      return dialScreen(v.caps, {
        title: `${v.speaker ? 'Spkr' : glyph('handset')} ${v.digits ? 'Dialing' : 'Dial tone'}`,
        digits: v.digits,
        hint: v.notice ?? nameOf(v, v.digits),
        bottom: bottom(v),
      });
    case PhoneState.Transfer:
      return dialScreen(v.caps, { title: 'Transfer to:', digits: v.digits, hint: v.notice ?? (v.focus ? `${glyph('hold')} ${v.focus.label}` : ''), bottom: bottom(v) });
    case PhoneState.History:
      return historyScreen(v);
    case PhoneState.Menu:
      return v.menu ? menuScreen(v.caps, v.menu, { softkeys: bottom(v), notice: v.notice }) : idle(v);
    default:
      return call(v);
  }
}

function bottom(v: PhoneView): string | undefined {
  return v.softkeys ? softkeyRow(v.context, v.caps.columns) : undefined;
}

function nameOf(v: PhoneView, number: string): string | undefined {
  return number === '' ? undefined : v.options.phonebook?.nameFor(number);
}

function lineOf(v: PhoneView): string {
  const problem = v.options.problem?.();
  if (problem !== undefined) return problem;
  const calls = v.options.calls;
  if (!calls) return v.options.accountStatus?.() ?? 'No account';
  const line = calls.line();
  return line ? lineText(line.aor, line.line) : 'No account';
}

function idle(v: PhoneView): string[] {
  const o = v.options;
  return idleScreen(v.caps, {
    line: lineOf(v),
    now: new Date(o.clock.wallNow()),
    format: o.format,
    missed: o.history?.missedUnseen ?? 0,
    voicemail: o.calls?.voicemail(),
    dnd: v.dnd,
    forward: v.forward,
    softkeys: bottom(v),
    notice: v.notice,
  });
}

/** The quality screen of a call whose media gave no statistics. */
const NO_QUALITY: [string, string] = ['Quality: no data', ''];

/** Quality rows of a call, when its media gave statistics. */
function quality(call: PhoneCall | undefined): [string, string] | undefined {
  return call?.stats ? qualityLines(qualityOf(call.stats)) : undefined;
}

/** The call screens: Calling, Ringing (both ways), Connected, Ended. */
function call(v: PhoneView): string[] {
  const c = v.focus ?? v.ended?.call;
  const small = v.caps.rows < 3;
  const view: CallView = { title: '', name: c?.name, number: c?.number ?? '', bottom: bottom(v) };
  let detail: string | undefined;
  let stats: [string, string] | undefined;
  switch (v.state) {
    case PhoneState.Calling:
      view.title = 'Calling';
      break;
    case PhoneState.Ringback:
      view.title = c?.earlyMedia ? 'Ringing (media)' : 'Ringing';
      break;
    case PhoneState.Ringing:
      if (c?.recall) view.title = `${glyph('hold')} Held call`;
      else view.title = small && c?.name !== undefined ? `${glyph('bell')} ${c.number}` : `${glyph('bell')} Incoming call`;
      detail = v.silenced ? 'Ringer off' : undefined;
      break;
    case PhoneState.Connected: {
      const flags = `${c?.held ? glyph('hold') : ''}${v.muted ? glyph('mute') : ''}`;
      const what = c?.conference ? 'Conference' : c?.held ? 'On hold' : c?.connected ? 'Connected' : 'Connecting';
      view.title = flags ? `${flags} ${what}` : what;
      if (c?.connected) view.timer = formatDuration(c.talkMs(v.nowMs));
      if (v.waiting) detail = `Waiting: ${v.waiting.label}`;
      else if (v.held.length > 0) detail = `${glyph('hold')} ${v.held.map((h) => h.label).join(', ')}`;
      if (v.showQuality) stats = quality(c) ?? NO_QUALITY;
      break;
    }
    case PhoneState.Ended: {
      view.title = v.ended?.text ?? 'Call ended';
      if (c?.connectedAtMs !== undefined) view.timer = formatDuration(c.talkMs(v.nowMs));
      detail = v.ended?.detail || (v.held.length > 0 ? `${glyph('hold')} ${v.held.length} on hold` : undefined);
      // Call quality after a call: shown by itself when the call was up.
      stats = c?.connectedAtMs !== undefined ? (quality(c) ?? (v.showQuality ? NO_QUALITY : undefined)) : undefined;
      if (!c) view.number = '';
      break;
    }
    default:
  }
  if (stats) {
    detail = stats[0];
    if (v.caps.rows >= 4) view.bottom = stats[1];
  }
  view.detail = v.notice ?? detail;
  if (small && view.detail !== undefined && view.detail !== '' && (v.notice !== undefined || v.waiting !== undefined || stats !== undefined)) {
    // Two rows: what just happened (a notice, a waiting call, the quality) takes the name's row.
    view.name = undefined;
    view.number = view.detail;
  }
  return callScreen(v.caps, view);
}

/** The idle screen's first seconds after a call: how long it lasted, and its quality. */
function summaryScreen(v: PhoneView, c: PhoneCall): string[] {
  const q = quality(c);
  const rows = callScreen(v.caps, { title: 'Call ended', timer: formatDuration(c.talkMs(v.nowMs)), name: c.name, number: c.number, detail: q?.[0], bottom: q?.[1] });
  if (v.caps.rows < 3 && q) rows[1] = q[0].slice(0, v.caps.columns);
  return rows;
}

function historyScreen(v: PhoneView): string[] {
  const w = v.caps.columns;
  const list = v.options.history?.list(v.history.list) ?? [];
  const entry = list[v.history.index];
  const title = LIST_TITLES[v.history.list];
  if (!entry) return callScreen(v.caps, { title: spread(v.notice ?? title, 'empty', w), name: undefined, number: '', bottom: bottom(v) });
  const at = new Date(entry.startedAt);
  return callScreen(v.caps, {
    title: v.notice ?? `${title} ${v.history.index + 1}/${list.length}`,
    timer: formatTime(at, v.options.format),
    name: entry.name,
    number: entry.number,
    detail: entry.outcome === 'forwarded' ? `Fwd to ${entry.forwardedTo ?? '?'}` : entry.durationS !== undefined ? formatDuration(entry.durationS * 1000) : undefined,
    bottom: bottom(v),
  });
}
