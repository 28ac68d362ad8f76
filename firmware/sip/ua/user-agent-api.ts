// The UserAgent's options, events, status types and state error: the surface the phone programs against.
import type { Clock } from '../../util/clock.js';
import type { Logger } from '../../util/log.js';
import type { RandomBytes } from '../auth/index.js';
import type { DnsResolver } from '../locate/index.js';
import type { TraceRecord } from '../trace/trace-record.js';
import type { RandomSource, TransactionTimerOptions } from '../transaction/index.js';
import type { ListenConfig, NetworkTransportOptions } from '../transport/network-transport.js';
import type { TlsClientOptions } from '../transport/tls-config.js';
import type { HostPort, SipTransport } from '../transport/transport.js';
import type { AccountSettings } from './account.js';
import type { CallOptions, RefusedCall } from './call/call-manager.js';
import type { IncomingSession } from './call/incoming-session.js';
import type { RegistrationStatus } from './registration.js';
import type { RegistrationTiming } from './registration-timing.js';
import type { FlowLossReason, KeepAliveOptions } from './user-agent-flows.js';
import type { LineStatus } from './user-agent-line.js';
import type { MwiSummary } from './mwi.js';
import type { UaMessage } from './user-agent-services.js';

export interface UserAgentTraceOptions {
  /** Write every SIP message sent and received to this pcap file (created mode 0600: it holds digest credentials). */
  pcapFile?: string | undefined;
  /** Write every SIP message to the log at debug level, Authorization values redacted. Default true (free unless debug is on). */
  logMessages?: boolean | undefined;
}

export interface UserAgentOptions {
  /**
   * The listening sockets: protocol, address ("0.0.0.0", "::", "127.0.0.1", "::1"...), port
   * (0: ephemeral), the address to advertise in Via and Contact, TLS key and certificate.
   * Default: UDP and TCP on 0.0.0.0:5060.
   */
  listen?: readonly ListenConfig[] | undefined;
  /** Outgoing TLS: trust anchors (caFile), or the lab-only insecure switch. */
  tls?: TlsClientOptions | undefined;
  /** More NetworkTransport settings: timeouts (ms), size limits, sent-by aliases. */
  network?: Omit<NetworkTransportOptions, 'listen' | 'clock' | 'logger' | 'tls'> | undefined;
  /** A transport to use instead of opening sockets (the loopback network in tests). It must be started; stop() closes it. */
  transport?: SipTransport | undefined;
  /** The SIP accounts (lines); each registers unless its settings say otherwise. */
  accounts?: readonly AccountSettings[] | undefined;
  /** Default: the real clock. */
  clock?: Clock | undefined;
  /** Uniform numbers in [0, 1) for branches, tags and Call-IDs (unguessable, RFC 3261 §19.3) and for jitter. Default: the OS CSPRNG. */
  random?: RandomSource | undefined;
  /** Random bytes for registration Call-IDs and tags and digest cnonces. Default: node:crypto. */
  randomBytes?: RandomBytes | undefined;
  /** DNS for RFC 3263. Default: node:dns behind a TTL cache, with getaddrinfo (/etc/hosts) when DNS has no address. */
  dns?: DnsResolver | undefined;
  /** Address families to locate servers in, by preference. Default: the listeners' (IPv4 first). */
  families?: readonly (4 | 6)[] | undefined;
  logger?: Logger | undefined;
  trace?: UserAgentTraceOptions | undefined;
  keepAlive?: KeepAliveOptions | undefined;
  /** The User-Agent header of requests and the Server header of responses. Default "offhook". */
  userAgent?: string | undefined;
  /** Option-tags this UA supports (Supported; a Require naming others gets 420). Default none. */
  supported?: readonly string[] | undefined;
  /** Registration refresh, backoff and unregister timing (ms, fractions). */
  registration?: Partial<RegistrationTiming> | undefined;
  /** T1, T2, T4, Timer D (ms). */
  timers?: TransactionTimerOptions | undefined;
  /** Calls: the SessionDescriptionHandler factory, ghost-call protection, busy, do-not-disturb, timeouts. */
  calls?: CallOptions | undefined;
}

export interface AccountStatus {
  accountId: string;
  aor: string;
  line: LineStatus;
  /** The registration client's full status. */
  registration: RegistrationStatus;
  /** The server the account's registration goes to (its flow), once one answered. */
  flow: HostPort | undefined;
}

export type UserAgentState = 'new' | 'starting' | 'running' | 'stopping' | 'stopped';

export interface UserAgentSnapshot {
  state: UserAgentState;
  /** Where the UA can be reached, per protocol and family (what goes in Via and Contact). */
  listening: HostPort[];
  accounts: AccountStatus[];
}

export interface FlowLostEvent {
  accountId: string;
  target: HostPort;
  reason: FlowLossReason;
  detail: string;
}

// A type, not an interface: Emitter needs an implicit index signature.
export type UserAgentEvents = {
  /** An account's registration changed: what the phone shows on its line. */
  registration: [AccountStatus];
  /** A registered account's flow failed (no pong, no answer to a ping, connection gone); it registers again. */
  'flow-lost': [FlowLostEvent];
  /** Every SIP message sent or received (with the transport's bytes). */
  trace: [TraceRecord];
  /** A call came in and passed the checks (it rings: 180 was sent unless calls.autoRing is false). */
  incoming: [IncomingSession];
  /** A call that passed the ghost-call checks but was turned away by do-not-disturb or busy, without ringing. */
  refused: [RefusedCall];
  /** An account's message summary (RFC 3842): from its subscription, or an unsolicited NOTIFY of its registrar or proxy. */
  mwi: [MwiSummary];
  /** A text MESSAGE (RFC 3428) from the registrar or proxy (or anyone with calls.acceptCallsFrom 'any'), or within a call. */
  message: [UaMessage];
};

export interface StopOptions {
  /** Unregister the accounts first (default true). */
  unregister?: boolean | undefined;
  /** The longest stop() waits for the unregisters' answers, ms. Default: registration.unregisterTimeoutMs (2 s). */
  timeoutMs?: number | undefined;
}

/** start() or stop() called in a state that does not allow it. */
export class UserAgentStateError extends Error {
  constructor(
    readonly operation: string,
    readonly state: UserAgentState,
  ) {
    super(`UserAgent.${operation}() is not possible while the user agent is ${state}`);
    this.name = 'UserAgentStateError';
  }
}
