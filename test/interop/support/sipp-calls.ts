// SIPp as the far end of the phone's calls: the catalogue of call scenarios, options for reaching the phone (directly or through Kamailio), registering a SIPp UAS as a Kamailio user, and reading what SIPp saw.
import { KAMAILIO_DOMAIN } from './kamailio.js';
import { type SippOptions, type SippProcess, type SippResult, runSipp, startSipp } from './sipp.js';

/** What a call scenario of test/interop/sipp/ plays and needs (its XML header says the rest). */
export interface CallScenario {
  /** uas: the phone calls SIPp (startSipp, then make the phone dial it); uac: SIPp calls / sends to the phone (runSipp). */
  role: 'uas' | 'uac';
  /** -key names the scenario uses (a missing one is a SIPp error). UAC scenarios: caller, domain (uacTowardsPhone fills them). */
  keys: readonly string[];
  /** What it does with -d (pauseMs), if anything. */
  pause?: string;
  /** A timeoutMs that leaves room for the slowest phone the scenario accepts. */
  timeoutMs: number;
  /** The action-log line with a measured delay, "… after N ms" (sippDelayMs() reads it). */
  delayLog?: RegExp;
  /** What the phone must do. */
  expects: string;
}

/** The SIPp peers of the call tests (the issue's list), by scenario name. */
export const CALL_SCENARIOS = {
  'uas-forking': {
    role: 'uas',
    keys: [],
    pause: 'how long the call with B lasts before SIPp sends BYE',
    timeoutMs: 15_000,
    expects: '180 (tag A), 183+SDP (tag B), 200 (B): ACK B; later 200 (A): ACK A and BYE A; keeps B; answers the BYE of B',
  },
  'uas-early-media': {
    role: 'uas',
    keys: [],
    pause: 'length of the answered call',
    timeoutMs: 15_000,
    expects: '183+SDP and 2 s of 1000 Hz early media, 200 with the same SDP: ACK, no PRACK/CANCEL; answers the BYE (or hangs up itself)',
  },
  'uas-redirect': {
    role: 'uas',
    keys: ['redirect_to'],
    timeoutMs: 10_000,
    expects: 'ACK of the 302, then a new INVITE to sip:<redirect_to>',
  },
  'uas-redirect-loop': {
    role: 'uas',
    keys: [],
    timeoutMs: 30_000,
    expects: 'ACK of each 302 (every Contact new, on the same SIPp); stops at its redirect limit. Count with redirectLoopInvites()',
  },
  'uas-glare': {
    role: 'uas',
    keys: [],
    pause: 'call length after the re-INVITE succeeded, before SIPp sends BYE',
    timeoutMs: 45_000,
    delayLog: /re-INVITE again after ([\d.]+) ms/,
    expects: 're-INVITE (within 30 s of the ACK) gets 491: ACK, same re-INVITE again 2.1-4 s later (the phone owns the Call-ID); ACK the 200; answer the BYE',
  },
  'uac-reinvite-glare': {
    role: 'uac',
    keys: ['caller', 'domain'],
    pause: 'call length after the re-INVITE succeeded, before SIPp sends BYE',
    timeoutMs: 60_000,
    delayLog: /re-INVITE again after ([\d.]+) ms/,
    expects: 'answers; its re-INVITE gets 491: ACK, again within 0-2 s (the phone does not own the Call-ID); ACK the 200; answer the BYE',
  },
  'uas-session-timer': {
    role: 'uas',
    keys: [],
    pause: 'call length after the refresh, before SIPp sends BYE',
    timeoutMs: 75_000,
    delayLog: /refresh by (?:UPDATE|re-INVITE) after ([\d.]+) ms/,
    expects: 'Supported: timer in the INVITE; after 200 with Session-Expires: 90;refresher=uac, one UPDATE or re-INVITE within 60 s (RFC 4028: ~45 s)',
  },
  'uac-session-timer-expiry': {
    role: 'uac',
    keys: ['caller', 'domain'],
    timeoutMs: 100_000,
    delayLog: /BYE after ([\d.]+) ms/,
    expects: '200 with Session-Expires: 90;refresher=uac and Require: timer; never refreshed, it sends BYE before 90 s (RFC 4028: ~60 s)',
  },
  'uac-prack': {
    role: 'uac',
    keys: ['caller', 'domain'],
    pause: 'call length before SIPp sends BYE',
    timeoutMs: 45_000,
    expects: 'reliable 180/183 (Require: 100rel, RSeq) retransmitted until the PRACK; 200 for the PRACK; then 200 for the INVITE',
  },
  'uac-unknown-source': {
    role: 'uac',
    keys: [],
    timeoutMs: 10_000,
    expects: '403 within 5 s for an INVITE straight from a stranger; no 180/183/200; no ringing',
  },
  'uac-call-dtmf-info': {
    role: 'uac',
    keys: ['caller', 'domain'],
    pause: 'call length after the four INFOs, before SIPp sends BYE',
    timeoutMs: 45_000,
    expects: 'answers; 200 for INFO application/dtmf-relay Signal=1, 5, *, #; reports those digits in order',
  },
  'uac-notify-mwi': {
    role: 'uac',
    keys: ['caller', 'domain'],
    timeoutMs: 10_000,
    expects: '200 for an unsolicited NOTIFY message-summary (Messages-Waiting: yes, Voice-Message: 2/8); send it through Kamailio',
  },
  'uac-message': {
    role: 'uac',
    keys: ['caller', 'domain'],
    timeoutMs: 10_000,
    expects: '200 or 202 for MESSAGE text/plain "Hello from SIPp, message 1"; send it through Kamailio',
  },
} as const satisfies Readonly<Record<string, CallScenario>>;

export type CallScenarioName = keyof typeof CALL_SCENARIOS;

/** How a SIPp UAC reaches the phone. */
export type PhoneRoute =
  /** Straight to the phone's listening address ("127.0.0.1:PORT"); From is sip:caller@that address. */
  | { direct: string; caller?: string }
  /** Through Kamailio ("127.0.0.1:PORT") as the registered user `caller` (1001-1004), answering its 407 with pw<caller>. */
  | { kamailio: string; caller: string; domain?: string };

/**
 * SippOptions for a UAC scenario towards the phone: target, Request-URI user (`to`), the caller /
 * domain keys and, through Kamailio, the caller's digest credentials. More options pass through.
 */
export function uacTowardsPhone(scenario: string, to: string, route: PhoneRoute, more: Omit<SippOptions, 'scenario' | 'target' | 'service'> = {}): SippOptions {
  const spec = (CALL_SCENARIOS as Readonly<Record<string, CallScenario>>)[scenario];
  const base: SippOptions =
    'direct' in route
      ? { scenario, target: route.direct, service: to, keys: { caller: route.caller ?? '1004', domain: route.direct } }
      : { scenario, target: route.kamailio, service: to, authUser: route.caller, authPassword: `pw${route.caller}`, keys: { caller: route.caller, domain: route.domain ?? KAMAILIO_DOMAIN } };
  // a scenario that uses no keys: leave them out (SIPp does not mind unused -key, but the command reads cleaner)
  const keys = spec && spec.keys.length === 0 ? {} : base.keys;
  return { ...base, timeoutMs: spec?.timeoutMs, ...more, keys: { ...keys, ...more.keys } };
}

/**
 * Registers `user` at Kamailio with a SIPp's address as its contact (reg-auth.xml, 401 then 200),
 * so that calls to sip:user@test.local reach that SIPp. Throws with SIPp's summary on failure.
 */
export async function registerSippContact(kamailio: { hostPort: string }, user: string, contact: string, expiresS = 300): Promise<SippResult> {
  const reg = await runSipp({ scenario: 'reg-auth', target: kamailio.hostPort, service: user, authPassword: `pw${user}`, keys: { domain: KAMAILIO_DOMAIN, contact, expires: expiresS }, timeoutMs: 8000 });
  if (!reg.ok) throw new Error(`registering ${user} -> ${contact} at ${kamailio.hostPort} failed:\n${reg.summary}`);
  return reg;
}

/** startSipp, then registers it at Kamailio as `user` (the phone can call sip:user@test.local). */
export async function startRegisteredSipp(kamailio: { hostPort: string }, user: string, options: SippOptions): Promise<SippProcess> {
  const sipp = await startSipp({ service: user, ...options });
  try {
    await registerSippContact(kamailio, user, sipp.hostPort);
  } catch (err) {
    await sipp.stop();
    throw err;
  }
  return sipp;
}

/** One message of SIPp's -trace_msg log. */
export interface SippTracedMessage {
  direction: 'sent' | 'received';
  /** "INVITE sip:1003@… SIP/2.0" or "SIP/2.0 200 OK". */
  startLine: string;
  /** Request method, or the CSeq method of a response. */
  method: string;
  /** Status of a response, undefined for a request. */
  status: number | undefined;
  /** The message as SIPp logged it (CRLFs kept). */
  text: string;
}

/** Splits SIPp's message log into messages (header lines "UDP message sent (N bytes):" / "… received [N] bytes :"). */
export function parseSippMessages(messageLog: string): SippTracedMessage[] {
  const out: SippTracedMessage[] = [];
  const blocks = messageLog.split(/^-{20,} .*$/m);
  for (const block of blocks) {
    const head = /^\s*(?:UDP|TCP|TLS) message (sent|received)[^\n]*\n\n?/.exec(block);
    if (!head) continue;
    const text = block.slice(head[0].length).replace(/\n+$/, '\n');
    const startLine = text.split(/\r?\n/)[0] ?? '';
    const cseq = /^CSeq:\s*\d+\s+(\S+)/im.exec(text)?.[1] ?? '';
    const status = /^SIP\/2\.0 (\d{3})/.exec(startLine);
    out.push({
      direction: head[1] === 'sent' ? 'sent' : 'received',
      startLine,
      method: status ? cseq : (startLine.split(' ')[0] ?? ''),
      status: status ? Number(status[1]) : undefined,
      text,
    });
  }
  return out;
}

/** "INVITE", "100 INVITE", "ACK"… from SIPp's point of view: `>` sent, `<` received (e.g. "< INVITE", "> 491 INVITE"). */
export function sippLadder(messageLog: string): string[] {
  return parseSippMessages(messageLog).map((m) => `${m.direction === 'sent' ? '>' : '<'} ${m.status !== undefined ? `${m.status} ` : ''}${m.method}`);
}

/** The delay a scenario measured and logged ("… after N ms", see CALL_SCENARIOS[name].delayLog), or undefined. */
export function sippDelayMs(actionLog: string, pattern: RegExp): number | undefined {
  const m = pattern.exec(actionLog);
  return m?.[1] !== undefined ? Number(m[1]) : undefined;
}

/** How many INVITEs uas-redirect-loop received (its "redirect-loop: INVITE #x…" lines). */
export function redirectLoopInvites(actionLog: string): number {
  return actionLog.split('\n').filter((l) => l.startsWith('redirect-loop: INVITE #')).length;
}
