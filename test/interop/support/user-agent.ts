// Our UserAgent as an interop peer: on loopback ephemeral ports, its SIP trace and events recorded, and waits bounded by deadlines instead of fixed sleeps.
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { type SipMessage, type SipRequest, parseMessage } from '../../../firmware/sip/message/index.js';
import type { TraceRecord } from '../../../firmware/sip/trace/trace-record.js';
import type { TransportProtocol } from '../../../firmware/sip/transport/transport.js';
import { type AccountStatus, type FlowLostEvent, type LineStatus, UserAgent, type UserAgentOptions } from '../../../firmware/sip/ua/index.js';

export interface TestUa {
  ua: UserAgent;
  /** Every message sent and received, as the UA's 'trace' events gave them. */
  traces: TraceRecord[];
  /** Every 'registration' event. */
  registrations: AccountStatus[];
  lost: FlowLostEvent[];
  /** Our listening port for a protocol. */
  port(protocol?: TransportProtocol): number;
  /** "127.0.0.1:PORT" (UDP), what SIPp targets. */
  hostPort: string;
  /** The messages of the trace, parsed, with their direction. */
  messages(): { direction: 'in' | 'out'; message: SipMessage; atWallMs: number }[];
  /** The requests we sent of a method. */
  sent(method: string): SipRequest[];
  /** "REGISTER", "401 REGISTER"... for the trace, like sipLadder() for a capture. */
  ladder(): string[];
  /** Resolves with the account's status once its line is in that state; rejects with what was seen after timeoutMs. */
  waitForLine(accountId: string, state: LineStatus['state'], timeoutMs: number): Promise<AccountStatus>;
  stop(): Promise<void>;
}

export interface TestUaOptions extends Partial<UserAgentOptions> {
  /** Debug log of the UA (JSON lines), for when a test fails. */
  logFile?: string | undefined;
  /** Listen address (default 127.0.0.1; "::1" for IPv6 only). */
  host?: string | undefined;
}

/**
 * Polls a condition until it holds (returns a value other than undefined / false) or the
 * deadline passes; the error says what was awaited. For conditions on another process (a log
 * line, a location table), where no event tells us.
 */
export async function waitUntil<T>(probe: () => T | undefined | false | Promise<T | undefined | false>, options: { timeoutMs: number; what: string | (() => string); intervalMs?: number }): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() >= deadline) throw new Error(`timed out after ${options.timeoutMs} ms waiting for ${typeof options.what === 'string' ? options.what : options.what()}`);
    await sleep(options.intervalMs ?? 25);
  }
}

function describe(m: SipMessage): string {
  return m.kind === 'request' ? m.method : `${m.status} ${m.cseq.method}`;
}

/** Starts a UserAgent on loopback (UDP and TCP on ephemeral ports unless `listen` says otherwise). */
export async function startTestUa(options: TestUaOptions = {}): Promise<TestUa> {
  const host = options.host ?? '127.0.0.1';
  const { logFile, host: _host, ...rest } = options;
  const logger = logFile !== undefined ? pino({ level: 'debug' }, pino.destination({ dest: logFile, sync: true })) : undefined;
  const ua = new UserAgent({
    listen: [
      { protocol: 'udp', address: host, port: 0 },
      { protocol: 'tcp', address: host, port: 0 },
    ],
    userAgent: 'offhook-interop',
    logger,
    ...rest,
  });
  const traces: TraceRecord[] = [];
  const registrations: AccountStatus[] = [];
  const lost: FlowLostEvent[] = [];
  ua.on('trace', (r) => traces.push(r));
  ua.on('registration', (s) => registrations.push(s));
  ua.on('flow-lost', (e) => lost.push(e));
  await ua.start();
  const port = (protocol: TransportProtocol = 'udp'): number => {
    const a = ua.localAddress(protocol);
    if (!a) throw new Error(`the UA does not listen on ${protocol}`);
    return a.port;
  };
  const messages = (): ReturnType<TestUa['messages']> =>
    traces.map((t) => {
      const r = parseMessage(t.bytes);
      if (!r.ok) throw new Error(`our own trace holds an unparsable message: ${r.error.message}`);
      return { direction: t.direction, message: r.message, atWallMs: t.wallTimeMs };
    });
  return {
    ua,
    traces,
    registrations,
    lost,
    port,
    hostPort: `${host.includes(':') ? `[${host}]` : host}:${port('udp')}`,
    messages,
    sent: (method) =>
      messages()
        .filter((m) => m.direction === 'out' && m.message.kind === 'request' && m.message.method === method)
        .map((m) => m.message as SipRequest),
    ladder: () => messages().map((m) => describe(m.message)),
    waitForLine: (accountId, state, timeoutMs) =>
      waitUntil(
        () => {
          const s = ua.accountStatus(accountId);
          return s?.line.state === state ? s : undefined;
        },
        { timeoutMs, what: () => `account ${accountId} ${state} (now ${JSON.stringify(ua.accountStatus(accountId)?.line)}; seen ${messages().map((m) => describe(m.message)).join(', ')})` },
      ),
    stop: () => ua.stop(),
  };
}
