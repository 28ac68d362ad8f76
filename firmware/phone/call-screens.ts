// The call screens (calling, ringing, connected, ended, incoming) and what each way a call ends shows and sounds like; call quality in words.
import type { DisplayCapabilities } from '../../hal/devices.js';
import type { RtpStreamStats } from '../media/media-engine.js';
import type { ToneName } from '../media/tones.js';
import type { SessionOutcome, SessionOutcomeKind } from '../sip/ua/index.js';
import { spread } from './screens.js';

/** What a way of ending shows (at most 16 characters) and the tone it plays while the handset is still up. */
export interface OutcomeView {
  text: string;
  /** undefined: silence (the person hung up themselves, or nothing went wrong). */
  tone: ToneName | undefined;
}

/**
 * Kinds the user agent is gaining with transfer and session timers (RFC 3515, 3891, 4028): listed
 * here too, so that the table is complete before and after they land.
 */
type PendingOutcomeKind = 'transferred' | 'replaced' | 'session-expired';

/**
 * Every SessionOutcome kind on the screen and in the earpiece. Busy and declined play the busy tone;
 * failures the network is to blame for (404, 480, 503, timeouts, transport errors) the congestion
 * ("fast busy", reorder) tone, as desk phones do; the far end hanging up plays busy tone until on hook.
 */
export const OUTCOME_VIEWS: Readonly<Record<SessionOutcomeKind | PendingOutcomeKind, OutcomeView>> = {
  'local-hangup': { text: 'Call ended', tone: undefined },
  'remote-hangup': { text: 'Call ended', tone: 'busy' },
  cancelled: { text: 'Cancelled', tone: undefined },
  'answered-elsewhere': { text: 'Taken elsewhere', tone: undefined },
  transferred: { text: 'Transferred', tone: undefined },
  replaced: { text: 'Call replaced', tone: undefined },
  'no-answer': { text: 'No answer', tone: 'congestion' },
  'no-ack': { text: 'Call failed', tone: 'congestion' },
  'media-failed': { text: 'Media failed', tone: 'congestion' },
  'session-expired': { text: 'Call dropped', tone: 'congestion' },
  forbidden: { text: 'Forbidden', tone: 'congestion' },
  'not-found': { text: 'Not found', tone: 'congestion' },
  timeout: { text: 'No answer', tone: 'congestion' },
  unavailable: { text: 'Unavailable', tone: 'congestion' },
  busy: { text: 'Busy', tone: 'busy' },
  'not-acceptable': { text: 'Not acceptable', tone: 'congestion' },
  declined: { text: 'Declined', tone: 'busy' },
  'server-error': { text: 'Server error', tone: 'congestion' },
  'auth-failed': { text: 'Auth failed', tone: 'congestion' },
  redirected: { text: 'Forwarded', tone: undefined },
  'redirect-failed': { text: 'Redirect failed', tone: 'congestion' },
  'network-error': { text: 'Network error', tone: 'congestion' },
  rejected: { text: 'Rejected', tone: 'congestion' },
};

export function outcomeView(o: SessionOutcome): OutcomeView {
  return OUTCOME_VIEWS[o.kind];
}

/** The SIP status line behind an outcome, for the third row: "486 Busy Here"; '' when none applies. */
export function outcomeDetail(o: SessionOutcome): string {
  return o.status > 0 ? `${o.status} ${o.reason}` : '';
}

/** What a call screen shows; the layout depends on the display. */
export interface CallView {
  /** "Calling", "Ringing", "Connected", "On hold", "Busy", "\u0002 Incoming"... with status glyphs in front. */
  title: string;
  /** The call timer, right-aligned on the first row. */
  timer?: string | undefined;
  /** The phonebook or caller-ID name, when known. */
  name: string | undefined;
  number: string;
  /** A row of its own on 20x4 (the status line, a waiting call, call quality). */
  detail?: string | undefined;
  /** The bottom row on 20x4 and OLED: softkey labels, or a hint. */
  bottom?: string | undefined;
}

/** The rows of a call screen. 16x2: title and timer, then the name (or number). */
export function callScreen(caps: DisplayCapabilities, v: CallView): string[] {
  const w = caps.columns;
  const rows = Array<string>(caps.rows).fill('');
  rows[0] = v.timer !== undefined ? spread(v.title, v.timer, w) : v.title.slice(0, w);
  rows[1] = (v.name ?? v.number).slice(0, w);
  if (caps.rows < 3) return rows;
  const extra = [v.name !== undefined ? v.number : undefined, v.detail].filter((x): x is string => x !== undefined && x !== '');
  const free = caps.rows >= 4 ? caps.rows - 3 : 1;
  // When rows are short, the detail (a status, a waiting call) wins over repeating the number.
  const shown = extra.length > free ? extra.slice(extra.length - free) : extra;
  shown.forEach((text, i) => (rows[2 + i] = text.slice(0, w)));
  if (caps.rows >= 4) rows[caps.rows - 1] = (v.bottom ?? '').slice(0, w);
  return rows;
}

/** The call quality figures a person reads: MOS, loss, jitter, round trip. */
export interface QualitySummary {
  mos: number;
  lossPercent: number;
  jitterMs: number;
  rttMs: number | null;
}

export function qualityOf(stats: RtpStreamStats): QualitySummary {
  return { mos: stats.mos, lossPercent: stats.effectiveLossPercent, jitterMs: stats.jitterMs, rttMs: stats.rttMs };
}

/** Two rows of at most 16 characters: "MOS 4.3 Loss 0.5%", "Jit 12ms RTT 40ms". */
export function qualityLines(q: QualitySummary): [string, string] {
  const loss = q.lossPercent < 10 ? q.lossPercent.toFixed(1) : String(Math.round(q.lossPercent));
  const rtt = q.rttMs === null ? '' : ` RTT ${Math.round(q.rttMs)}ms`;
  return [`MOS ${q.mos.toFixed(1)} Loss ${loss}%`, `Jit ${Math.round(q.jitterMs)}ms${rtt}`];
}
