// The phone's SIP user agent: transport, transaction layer, RFC 3263 locator, registrations with failover and keep-alives, calls (INVITE sessions), OPTIONS answers and the SIP trace, composed behind one object.
import { randomBytes as cryptoRandomBytes } from 'node:crypto';
import { type Clock, RealClock } from '../../util/clock.js';
import { Emitter, type Unsubscribe } from '../../util/emitter.js';
import { type Logger, silentLogger } from '../../util/log.js';
import { CachingDnsResolver, type DnsResolver, NodeDnsResolver, ServerLocator, type ServerTarget } from '../locate/index.js';
import { NameAddr, type SipRequest, type SipUri, type Uri, createRequest, uri as parseUriText } from '../message/index.js';
import { createLogTrace } from '../trace/log-trace.js';
import { PcapTrace } from '../trace/pcap-trace.js';
import { type AnyServerTransaction, TransactionLayer, createCallId, createTag, cryptoRandom } from '../transaction/index.js';
import { ipFamily } from '../transport/ip-address.js';
import { type ListenConfig, NetworkTransport } from '../transport/network-transport.js';
import type { HostPort, InboundMessage, SipTransport, TransportProtocol } from '../transport/transport.js';
import { Account, AccountError, type AccountSettings } from './account.js';
import { CallManager, type CallRequestOptions, type DoNotDisturb } from './call/call-manager.js';
import type { OutgoingSession } from './call/outgoing-session.js';
import type { Session } from './call/session.js';
import { type ContactAddress, type RegistrationClient, RegistrationState, type RegistrationStatus } from './registration.js';
import { RegistrationManager } from './registration-manager.js';
import type { RequestOutcome } from './request-sender.js';
import { type AccountStatus, type StopOptions, type UserAgentEvents, type UserAgentOptions, type UserAgentSnapshot, type UserAgentState, UserAgentStateError } from './user-agent-api.js';
import { DEFAULT_KEEP_ALIVE, type FlowLossReason, FlowKeeper } from './user-agent-flows.js';
import { lineStatus } from './user-agent-line.js';
import { FailoverRequestSender } from './user-agent-sender.js';
import { type UaCapabilities, answerOutOfDialog, uaOptionTags, validationOptions } from './user-agent-uas.js';
import { UserAgentServices } from './user-agent-services.js';
import type { SendMessageResult } from './instant-message.js';
import type { MwiSummary } from './mwi.js';

export { type LineStatus, describeFailure, lineStatus } from './user-agent-line.js';
export {
  type AccountStatus,
  type FlowLostEvent,
  type StopOptions,
  type UserAgentEvents,
  type UserAgentOptions,
  type UserAgentSnapshot,
  type UserAgentState,
  UserAgentStateError,
  type UserAgentTraceOptions,
} from './user-agent-api.js';

const PROTOCOLS: readonly TransportProtocol[] = ['udp', 'tcp', 'tls'];

/**
 * The SIP user agent of the phone. One transport (any number of listening sockets), one
 * transaction layer with the stateless checks of RFC 3261 §8.2 set to this UA's capabilities,
 * one RFC 3263 locator, and a registration client per account whose requests fail over between
 * the located targets (FailoverRequestSender).
 *
 * Calls (CallManager, firmware/sip/ua/call/): call() makes an OutgoingSession; an INVITE that
 * passes the checks (from a registrar or proxy of an account unless calls.acceptCallsFrom is
 * 'any'; not busy; no do-not-disturb) becomes an IncomingSession and an 'incoming' event.
 * Requests within a dialog go to their session (481 for unknown dialogs). MWI and MESSAGE:
 * UserAgentServices ('mwi', 'message' events, sendMessage()).
 *
 * Other requests outside a dialog: OPTIONS gets 200 with Allow, Accept, Accept-Encoding,
 * Accept-Language and Supported (answerOutOfDialog); unknown methods 501, and the other
 * malformed or unsupported requests their §8.2 status, from the layer.
 *
 * NAT and dead-server handling (RFC 5626 §4.4): each registered account's flow is kept alive
 * with CRLF pings (TCP, TLS) or OPTIONS pings (UDP); a lost flow makes it register again.
 *
 * Trace: every message sent and received goes to the pcap file when one is configured, to the
 * log at debug level (credentials redacted), and out as 'trace' events.
 */
export class UserAgent {
  readonly clock: Clock;
  /** The transaction layer, for the INVITE sessions built on this UA. */
  readonly transactions: TransactionLayer;
  readonly transport: SipTransport;
  readonly locator: ServerLocator;
  readonly registrations: RegistrationManager;
  /** The INVITE sessions. */
  readonly calls: CallManager;
  private readonly network: NetworkTransport | undefined;
  private readonly sender: FailoverRequestSender;
  private readonly flows: FlowKeeper;
  /** MWI and MESSAGE (user-agent-services.ts). */
  private readonly services: UserAgentServices;
  private readonly dns: DnsResolver;
  private readonly log: Logger;
  private readonly options: UserAgentOptions;
  private readonly capabilities: UaCapabilities;
  private readonly events = new Emitter<UserAgentEvents>();
  private readonly subscriptions: Unsubscribe[] = [];
  private readonly accounts = new Map<string, Account>();
  /** The protocols the transport listens on: an account can only use one of them (its Via needs a sent-by). */
  private readonly protocols: readonly TransportProtocol[];
  private pcap: PcapTrace | undefined;
  private current: UserAgentState = 'new';
  private stopping: Promise<void> | undefined;

  /** Checks the accounts (AccountError names the bad field) and builds the layers; start() opens the sockets. */
  constructor(options: UserAgentOptions = {}) {
    this.options = options;
    this.clock = options.clock ?? new RealClock();
    this.log = (options.logger ?? silentLogger()).child({ mod: 'sip/ua' });
    const random = options.random ?? cryptoRandom;
    const randomBytes = options.randomBytes ?? ((n: number) => new Uint8Array(cryptoRandomBytes(n)));
    const userAgent = options.userAgent ?? 'offhook';
    this.capabilities = { supported: uaOptionTags(options.supported ?? [], { sessionTimers: options.calls?.sessionTimers?.enabled !== false }), server: userAgent };
    const listen = options.listen ?? [
      { protocol: 'udp', address: '0.0.0.0', port: 5060 },
      { protocol: 'tcp', address: '0.0.0.0', port: 5060 },
    ];
    if (options.transport) {
      this.transport = options.transport;
    } else {
      this.network = new NetworkTransport({ ...options.network, listen, tls: options.tls, clock: this.clock, logger: options.logger });
      this.transport = this.network;
    }
    this.transactions = new TransactionLayer({
      transport: this.transport,
      clock: this.clock,
      random,
      timers: options.timers,
      validation: validationOptions(this.capabilities),
      log: options.logger,
    });
    this.dns = options.dns ?? new CachingDnsResolver(new NodeDnsResolver({ systemFallback: true }), { clock: this.clock });
    this.protocols = options.transport ? PROTOCOLS.filter((p) => options.transport?.localAddress(p) !== undefined) : protocolsOf(listen);
    this.locator = new ServerLocator({
      dns: this.dns,
      clock: this.clock,
      transports: this.protocols,
      families: options.families ?? (options.transport ? [4] : familiesOf(listen)),
      random,
      log: options.logger,
    });
    this.sender = new FailoverRequestSender({
      layer: this.transactions,
      locator: this.locator,
      logger: options.logger,
      onAnswer: (request, target) => this.answered(request, target),
    });
    this.flows = new FlowKeeper({
      transport: this.transport,
      clock: this.clock,
      random,
      keepAlive: { ...DEFAULT_KEEP_ALIVE, ...definedOnly(options.keepAlive ?? {}) },
      ping: (accountId, target) => this.ping(accountId, target),
      onLost: (accountId, target, reason, detail) => this.flowLost(accountId, target, reason, detail),
      logger: options.logger,
    });
    this.registrations = new RegistrationManager({
      sender: this.sender,
      clock: this.clock,
      random,
      randomBytes,
      contactAddress: (account) => this.contactAddress(account),
      logger: options.logger,
      userAgent,
      timing: options.registration,
    });
    this.calls = new CallManager(
      {
        layer: this.transactions,
        locator: this.locator,
        sender: this.sender,
        clock: this.clock,
        logger: options.logger ?? silentLogger(),
        userAgent,
        supported: this.capabilities.supported,
        accounts: () => [...this.accounts.values()],
        account: (id) => this.accounts.get(id),
        digest: (id) => this.registrations.get(id)?.digest,
        contactAddress: (account, protocol) => this.contactAddress(account, protocol),
        flowTarget: (id) => this.flows.targetOf(id),
        onIncoming: (session) => this.events.emit('incoming', session),
        onRefused: (call) => this.events.emit('refused', call),
      },
      options.calls,
    );
    this.services = new UserAgentServices({
      sender: this.sender,
      clock: this.clock,
      random,
      randomBytes,
      logger: options.logger ?? silentLogger(),
      userAgent,
      contactAddress: (account) => this.contactAddress(account),
      digest: (id) => this.registrations.get(id)?.digest,
      serverAccount: (source) => this.calls.serverAccount(source),
      acceptFromAnyone: () => options.calls?.acceptCallsFrom === 'any',
      onMwi: (summary) => this.events.emit('mwi', summary),
      onMessage: (message) => this.events.emit('message', message),
    });
    this.calls.onSession((session) => this.services.attach(session));
    for (const settings of options.accounts ?? []) this.addAccountUnstarted(Account.from(settings));
  }

  get state(): UserAgentState {
    return this.current;
  }

  on<K extends keyof UserAgentEvents>(event: K, listener: (...args: UserAgentEvents[K]) => void): Unsubscribe {
    return this.events.on(event, listener);
  }

  /**
   * Opens the trace, binds the sockets (a TransportError with code bind-failed when one cannot
   * be bound) and starts registering every account.
   */
  async start(): Promise<void> {
    if (this.current !== 'new') throw new UserAgentStateError('start', this.current);
    this.current = 'starting';
    const trace = this.options.trace ?? {};
    if (trace.pcapFile !== undefined) {
      try {
        this.pcap = await PcapTrace.open(trace.pcapFile, { logger: this.options.logger });
      } catch (e) {
        // Tracing is a diagnostic: the phone works without it.
        this.log.error({ err: e instanceof Error ? e.message : String(e), file: trace.pcapFile }, 'cannot open the pcap trace file; tracing to it is off');
      }
    }
    const logTrace = trace.logMessages === false ? undefined : createLogTrace(this.options.logger ?? silentLogger());
    const pcap = this.pcap;
    this.subscriptions.push(
      this.transport.on('trace', (record) => {
        pcap?.record(record);
        logTrace?.(record);
        this.events.emit('trace', record);
      }),
      this.transport.on('connection-closed', ({ remote, error }) => this.flows.connectionClosed(remote, error)),
      this.transactions.on('request', (tx, inbound) => this.incoming(tx, inbound)),
      this.transactions.on('ack', (ack) => this.calls.receiveAck(ack)),
      this.transactions.on('stray-response', (response) => this.calls.strayResponse(response)),
      this.transactions.on('rejected', (request, response) => this.log.debug({ method: request.method, status: response.status, reason: response.reason }, 'request refused by the stateless checks (RFC 3261 §8.2)')),
      this.registrations.on('state', (accountId, status) => this.registrationChanged(accountId, status)),
    );
    try {
      await this.network?.start();
    } catch (e) {
      this.current = 'stopped';
      await this.release();
      throw e;
    }
    this.current = 'running';
    this.log.info({ listening: this.listening().map((h) => `${h.protocol} ${h.address}:${h.port}`), accounts: [...this.accounts.keys()] }, 'user agent started');
    this.registrations.startAll();
    this.services.start();
  }

  /**
   * Unregisters every account (bounded by timeoutMs, never hangs on a dead registrar), then
   * closes the transaction layer, the transport and the trace. Idempotent; never rejects.
   */
  stop(options: StopOptions = {}): Promise<void> {
    this.stopping ??= this.shutDown(options);
    return this.stopping;
  }

  /** The state of every account, for a status screen. */
  snapshot(): UserAgentSnapshot {
    return { state: this.current, listening: this.listening(), accounts: [...this.accounts.keys()].map((id) => this.accountStatus(id)).filter((s): s is AccountStatus => s !== undefined) };
  }

  /** One account's status; undefined for an unknown id. */
  accountStatus(accountId: string): AccountStatus | undefined {
    const account = this.accounts.get(accountId);
    const client = this.registrations.get(accountId);
    if (!account || !client) return undefined;
    const flow = this.flows.targetOf(accountId);
    return { accountId, aor: account.aor.toString(), line: lineStatus(client.status), registration: client.status, flow: flow && { protocol: flow.protocol, address: flow.address, port: flow.port } };
  }

  /** Adds an account (AccountError for bad settings, DuplicateAccountError for a known id); it registers at once when the UA runs. */
  addAccount(settings: AccountSettings): Account {
    const account = Account.from(settings);
    const client = this.addAccountUnstarted(account);
    if (this.current === 'running' && account.register) client.start();
    return account;
  }

  /** Unregisters an account (bounded by the unregister timeout) and forgets it. */
  async removeAccount(accountId: string): Promise<void> {
    this.flows.remove(accountId);
    await this.services.remove(accountId);
    await this.registrations.remove(accountId);
    this.accounts.delete(accountId);
  }

  /** The network changed (new address, interface up): forget DNS answers and sticky targets, register again. */
  networkChanged(): void {
    if (this.dns instanceof CachingDnsResolver) this.dns.clear();
    this.sender.forgetPreferred();
    this.registrations.networkChanged();
  }

  /**
   * Sends an OPTIONS outside a dialog to a SIP URI (a server or another phone) through RFC 3263
   * with failover, From the given account's AOR (default: the first account). Resolves with
   * its outcome: a status probe for diagnostics.
   */
  sendOptions(target: string | SipUri, options: { accountId?: string } = {}): Promise<RequestOutcome> {
    if (this.current !== 'running') return Promise.resolve({ kind: 'transport-error', error: new UserAgentStateError('sendOptions', this.current) });
    let to: SipUri;
    try {
      const u = typeof target === 'string' ? parseUriText(target) : target;
      if (u.kind !== 'sip') throw new TypeError(`OPTIONS needs a sip: or sips: URI, got ${u.toString()}`);
      to = u;
    } catch (e) {
      return Promise.resolve({ kind: 'transport-error', error: e instanceof Error ? e : new Error(String(e)) });
    }
    const account = options.accountId !== undefined ? this.accounts.get(options.accountId) : [...this.accounts.values()][0];
    return this.sender.send(this.optionsRequest(to, account));
  }

  /**
   * Calls a number or URI: "1004" (at the account's domain), "1004@pbx.example.com", a sip:,
   * sips: or tel: URI. From the given account (default: the first). The session starts at once;
   * follow it with its events and its `ended` promise. Throws UserAgentStateError when the UA is
   * not running, CallTargetError for a target that cannot be dialled.
   */
  call(target: string | Uri, options: CallRequestOptions = {}): OutgoingSession {
    if (this.current !== 'running') throw new UserAgentStateError('call', this.current);
    return this.calls.call(target, options);
  }

  /**
   * Sends a text MESSAGE (RFC 3428) outside a dialog to a sip: URI, from an account (default: the
   * first) through its outbound proxy, answering one digest challenge. Resolves with the outcome.
   */
  sendMessage(to: string | Uri, text: string, options: { accountId?: string } = {}): Promise<SendMessageResult> {
    if (this.current !== 'running') return Promise.resolve({ ok: false, cause: 'not-configured', status: 0, reason: `the user agent is ${this.current}` });
    return this.services.sendMessage(to, text, options.accountId);
  }

  /** An account's last message summary (MWI), from its subscription or an unsolicited NOTIFY. */
  mwiSummary(accountId: string): MwiSummary | undefined {
    return this.services.mwiSummary(accountId);
  }

  /** Calls up or being set up. */
  get sessions(): Session[] {
    return this.calls.calls;
  }

  /** Do-not-disturb: incoming calls get 486 or 480 and never ring; false turns it off. */
  setDoNotDisturb(dnd: DoNotDisturb): void {
    this.calls.setDoNotDisturb(dnd);
  }

  /** Where the UA is reached over a protocol (the Via and Contact address), when it listens on it. */
  localAddress(protocol: TransportProtocol, family?: 4 | 6): HostPort | undefined {
    return this.transport.localAddress(protocol, family);
  }

  // --- internals ----------------------------------------------------------------------------

  private addAccountUnstarted(account: Account): RegistrationClient {
    if (!this.protocols.includes(account.transport)) {
      throw new AccountError('transport', `${account.transport} is not among the protocols the phone listens on (${this.protocols.join(', ')}): add a ${account.transport} listener`);
    }
    const client = this.registrations.add(account);
    this.accounts.set(account.id, account);
    this.services.add(account);
    return client;
  }

  private listening(): HostPort[] {
    const out: HostPort[] = [];
    for (const p of PROTOCOLS) {
      for (const f of [4, 6] as const) {
        const a = this.transport.localAddress(p, f);
        if (a && !out.some((o) => o.protocol === a.protocol && o.address === a.address && o.port === a.port)) out.push(a);
      }
    }
    return out;
  }

  /**
   * The Contact of an account's REGISTER: our address for its transport, in the family of the
   * server that holds its flow, else of the next hop when it is an address literal.
   */
  private contactAddress(account: Account | undefined, protocol: TransportProtocol = account?.transport ?? 'udp'): ContactAddress | undefined {
    const flow = account && this.flows.targetOf(account.id);
    const hop = account ? ipFamily(account.nextHop.host) : 0;
    const family = flow ? ipFamily(flow.address) : hop;
    const local = (family !== 0 ? this.transport.localAddress(protocol, family) : undefined) ?? this.transport.localAddress(protocol);
    return local && { host: local.address, port: local.port, transport: protocol };
  }

  /** A REGISTER was answered by a target: that server holds (or refused) the binding, and is the account's flow. */
  private answered(request: SipRequest, target: ServerTarget): void {
    if (request.method !== 'REGISTER') return;
    const client = this.registrations.clients.find((c) => c.callId === request.callId);
    if (client) this.flows.setTarget(client.account.id, target);
  }

  private registrationChanged(accountId: string, status: RegistrationStatus): void {
    if (status.state === RegistrationState.Registered) {
      this.flows.start(accountId);
      this.services.registered(accountId);
    }
    else if (status.state !== RegistrationState.Refreshing) this.flows.stop(accountId);
    const s = this.accountStatus(accountId);
    if (s) this.events.emit('registration', s);
  }

  private flowLost(accountId: string, target: ServerTarget, reason: FlowLossReason, detail: string): void {
    this.log.warn({ accountId, target: `${target.protocol}:${target.address}:${target.port}`, reason, detail }, 'flow to the registrar lost: registering again (RFC 5626 §4.4.1)');
    // A server that stopped answering is tried last by the new registration (RFC 5626 §4.5);
    // a connection the server closed says nothing against the server.
    if (reason !== 'connection-closed') this.sender.targetFailed(target, { reason: 'timeout' });
    this.events.emit('flow-lost', { accountId, target: { protocol: target.protocol, address: target.address, port: target.port }, reason, detail });
    this.registrations.get(accountId)?.transportLost();
  }

  /** An OPTIONS ping on a UDP flow: to exactly that target, in a new transaction, no failover. */
  private ping(accountId: string, target: ServerTarget): Promise<RequestOutcome> {
    const account = this.accounts.get(accountId);
    if (!account) return Promise.resolve({ kind: 'transport-error', error: new Error(`no account ${accountId}`) });
    const request = this.optionsRequest(account.nextHop.with({ params: account.nextHop.params.without('lr') }), account);
    return new Promise<RequestOutcome>((resolve) => {
      try {
        this.transactions.sendRequest(request, target, {
          onFinal: (response) => resolve({ kind: 'response', response }),
          onTimeout: () => resolve({ kind: 'timeout' }),
          onTransportError: (error) => resolve({ kind: 'transport-error', error }),
        });
      } catch (e) {
        resolve({ kind: 'transport-error', error: e instanceof Error ? e : new Error(String(e)) });
      }
    });
  }

  /** An OPTIONS outside a dialog (RFC 3261 §11.1): From the account's AOR, To the URI asked about. */
  private optionsRequest(to: SipUri, account: Account | undefined): SipRequest {
    const random = this.transactions.random;
    const fromUri = account?.aor ?? parseUriText('sip:anonymous@anonymous.invalid');
    return createRequest({
      method: 'OPTIONS',
      uri: to,
      from: new NameAddr({ displayName: account?.displayName, uri: fromUri }).withTag(createTag(random)),
      to: new NameAddr({ uri: to }),
      callId: createCallId(random),
      cseq: 1,
      route: account?.outboundProxy && !sameHost(to, account.outboundProxy) ? [new NameAddr({ uri: account.outboundProxy })] : [],
      headers: [
        ['Accept', 'application/sdp'],
        ['User-Agent', this.capabilities.server ?? 'offhook'],
      ],
    });
  }

  private incoming(tx: AnyServerTransaction, inbound: InboundMessage): void {
    // MWI subscriptions first: their dialogs are not in the calls' registry (it would say 481).
    // While stopping, only their final NOTIFYs (the answer to our unsubscribe) are taken.
    if ((this.current === 'running' || this.current === 'stopping') && this.services.receiveInSubscription(tx)) return;
    if (this.current !== 'running') return;
    if (this.calls.receiveRequest(tx, inbound)) return;
    if (this.services.receiveOutOfDialog(tx, inbound)) return;
    const answer = answerOutOfDialog(tx, this.capabilities);
    this.log.debug({ method: answer.method, status: answer.status, source: `${inbound.source.protocol}:${inbound.source.address}:${inbound.source.port}` }, 'request answered');
  }

  private async shutDown(options: StopOptions): Promise<void> {
    if (this.current === 'new' || this.current === 'stopped') {
      this.current = 'stopped';
      await this.release();
      return;
    }
    this.current = 'stopping';
    // The calls end first, while the layer can still send their BYE and CANCEL.
    this.calls.hangupAll();
    try {
      // MWI unsubscribes alongside, while the transport still runs.
      await Promise.all([this.registrations.stopAll({ unregister: options.unregister, timeoutMs: options.timeoutMs }), this.services.stop({ unsubscribe: options.unregister, timeoutMs: options.timeoutMs })]);
    } catch (e) {
      this.log.error({ err: e instanceof Error ? e.message : String(e) }, 'unregistering failed');
    }
    this.current = 'stopped';
    await this.release();
    this.log.info('user agent stopped');
  }

  /** Closes everything this UA holds, in the order that sends nothing more: flows, layer, transport, trace. */
  private async release(): Promise<void> {
    this.flows.close();
    this.calls.close();
    this.transactions.close();
    try {
      await this.transport.close();
    } catch (e) {
      this.log.error({ err: e instanceof Error ? e.message : String(e) }, 'closing the transport failed');
    }
    for (const off of this.subscriptions.splice(0)) off();
    await this.pcap?.close();
  }
}

function protocolsOf(listen: readonly ListenConfig[]): TransportProtocol[] {
  return PROTOCOLS.filter((p) => listen.some((l) => l.protocol === p));
}

/** IPv4 when a listener is IPv4 or a dual-stack "::"; IPv6 when one is IPv6. */
function familiesOf(listen: readonly ListenConfig[]): (4 | 6)[] {
  const v4 = listen.some((l) => ipFamily(l.address) === 4 || isDualStack(l.address));
  const v6 = listen.some((l) => ipFamily(l.address) === 6);
  const out: (4 | 6)[] = [];
  if (v4) out.push(4);
  if (v6) out.push(6);
  return out.length > 0 ? out : [4];
}

function isDualStack(address: string): boolean {
  const a = address.replace(/^\[|\]$/g, '');
  return a === '::' || a === '0:0:0:0:0:0:0:0';
}

function sameHost(a: SipUri, b: SipUri): boolean {
  return a.host.toLowerCase() === b.host.toLowerCase() && a.port === b.port;
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
