// The phone's own status for the control API (lines and calls), and the source the composition root fills it from.
import { lineName, lineText } from '../line-status.js';
import type { PhoneCall } from '../phone/phone-call.js';
import type { AccountStatus } from '../sip/ua/index.js';

/** One SIP account (a line) as the control API reports it. */
export interface LineReport {
  aor: string;
  /** The AOR's user part, the extension a person reads ("1003"). */
  ext: string;
  state: 'off' | 'registering' | 'registered' | 'failed';
  /** What the idle screen shows for the line: "Registered 1003", "1003: wrong user name or password". */
  text: string;
  /** Why it failed, for state 'failed'. */
  reason?: string;
  statusCode?: number;
}

/** One call as the control API reports it (the phone's active calls, the focused one first). */
export interface CallReport {
  id: string;
  /** The line (account AOR) the call is on. */
  line: string;
  direction: 'incoming' | 'outgoing';
  /** A phone-level state: 'dialing', 'ringing', 'early', 'connected', 'held', 'ended'. */
  state: string;
  /** The remote party: the number as dialed or as the caller presented it; and its name (phonebook, else caller ID). */
  remote: string;
  remoteName?: string;
  /** Clock milliseconds when the call was answered, once it was. */
  connectedAtMs?: number;
}

/** The `phone` section of GET /api/state and of the state events. Fields are only ever added. */
export interface PhoneStatus {
  lines: LineReport[];
  calls: CallReport[];
  /** What keeps the phone from working as configured (a missing device, an unusable SIP socket). */
  problem?: string;
}

/**
 * Where the emulator's server reads the phone's status from: a function the composition root
 * supplies, called on every state read (about 20 times a second while someone watches), so it must
 * be cheap. A later phone adds its calls here without the server changing.
 */
export interface PhoneStatusSource {
  status(): PhoneStatus;
}

/** The status of a phone that has no SIP side: no lines, no calls. */
export const NO_PHONE_STATUS: PhoneStatusSource = { status: () => ({ lines: [], calls: [] }) };

/** An account of the user agent as a line report. */
export function lineReport(a: Pick<AccountStatus, 'aor' | 'line'>): LineReport {
  const report: LineReport = { aor: a.aor, ext: lineName(a.aor), state: a.line.state, text: lineText(a.aor, a.line) };
  if (a.line.state === 'failed') {
    report.reason = a.line.reason;
    report.statusCode = a.line.statusCode;
  }
  return report;
}

/** What callReport reads of a call (the phone's PhoneCall). */
export type CallView = Pick<PhoneCall, 'session' | 'direction' | 'number' | 'name' | 'connectedAtMs' | 'outcome' | 'held' | 'alerting' | 'earlyMedia'>;

/** A call of the phone as a call report, on the line (AOR) it is on. */
export function callReport(call: CallView, line: string): CallReport {
  let state: string;
  // A call hung up here stays until its session ends (a CANCEL waits for its 487): it is over for the person.
  if (call.outcome !== undefined || call.session.state === 'terminating' || call.session.state === 'terminated') state = 'ended';
  else if (call.connectedAtMs !== undefined) state = call.held ? 'held' : 'connected';
  else if (call.direction === 'incoming') state = 'ringing';
  else state = call.earlyMedia ? 'early' : call.alerting ? 'ringing' : 'dialing';
  const report: CallReport = { id: call.session.id, line, direction: call.direction, state, remote: call.number };
  if (call.name !== undefined) report.remoteName = call.name;
  if (call.connectedAtMs !== undefined) report.connectedAtMs = call.connectedAtMs;
  return report;
}
