// The phone's own status for the control API (lines now, calls later), and the source the composition root fills it from.
import { lineName, lineText } from '../line-status.js';
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

/**
 * One call as the control API reports it. Declared now so that clients can be written against the
 * shape; the list stays empty until the phone makes calls.
 */
export interface CallReport {
  id: string;
  /** The line (account AOR) the call is on. */
  line: string;
  direction: 'incoming' | 'outgoing';
  /** A phone-level state: 'dialing', 'ringing', 'early', 'connected', 'held', 'ended'. */
  state: string;
  /** The remote party's URI, and its display name when it sent one. */
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
