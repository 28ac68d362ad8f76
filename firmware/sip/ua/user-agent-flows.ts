// Keeps the flow of each registered account open (RFC 5626 §3.5, §4.4): CRLF pings on TCP/TLS, OPTIONS pings on UDP, and reports a flow that is lost.
import type { Clock, TimerHandle } from '../../util/clock.js';
import type { Unsubscribe } from '../../util/emitter.js';
import { type Logger, silentLogger } from '../../util/log.js';
import type { ServerTarget } from '../locate/index.js';
import type { RandomSource } from '../transaction/index.js';
import { ipEquals } from '../transport/ip-address.js';
import type { HostPort, SendTarget, SipTransport } from '../transport/transport.js';
import type { RequestOutcome } from './request-sender.js';

export interface KeepAliveOptions {
  /**
   * Time between CRLFCRLF pings on a TCP or TLS flow to the registrar, ms (RFC 5626 §4.4.1:
   * 95-120 s when the registrar sends no Flow-Timer). Each flow picks a value between 80 % and
   * 100 % of it, so that phones started together do not ping together. 0 turns them off. Default 95000.
   */
  streamIntervalMs?: number | undefined;
  /** How long a CRLF pong may take before the flow counts as failed, ms (RFC 5626 §4.4.1: 10 s). Default 10000. */
  pongTimeoutMs?: number | undefined;
  /**
   * Time between OPTIONS pings on a UDP flow to the registrar, ms, also 80-100 % of it. They keep
   * the NAT binding open (most NATs drop UDP bindings after 30-180 s) and tell a dead server
   * (no answer within Timer F) from a live one. 0 turns them off. Default 30000.
   */
  udpOptionsIntervalMs?: number | undefined;
}

export const DEFAULT_KEEP_ALIVE: Readonly<Required<KeepAliveOptions>> = { streamIntervalMs: 95_000, pongTimeoutMs: 10_000, udpOptionsIntervalMs: 30_000 };

/** What a transport offers for CRLF keep-alives on a stream (NetworkTransport has it; the loopback does not). */
export interface StreamKeepAliveTransport {
  startKeepAlive(target: SendTarget, options: { intervalMs: number; pongTimeoutMs?: number }): Unsubscribe;
}

function canKeepAlive(t: SipTransport): t is SipTransport & StreamKeepAliveTransport {
  return typeof (t as Partial<StreamKeepAliveTransport>).startKeepAlive === 'function';
}

/** Why a flow was given up. */
export type FlowLossReason = 'connection-closed' | 'keepalive-timeout' | 'ping-timeout' | 'ping-transport-error';

export interface FlowKeeperOptions {
  transport: SipTransport;
  clock: Clock;
  random: RandomSource;
  keepAlive: Readonly<Required<KeepAliveOptions>>;
  /** Sends one OPTIONS ping to exactly this target (no failover: it is this flow that is tested). */
  ping: (accountId: string, target: ServerTarget) => Promise<RequestOutcome>;
  /** The flow of an account failed: the UA registers it again (RFC 5626 §4.4.1, §4.5). */
  onLost: (accountId: string, target: ServerTarget, reason: FlowLossReason, detail: string) => void;
  logger?: Logger | undefined;
}

interface Flow {
  target: ServerTarget;
  /** Stops the running keep-alive; undefined while none runs. */
  stop: (() => void) | undefined;
}

function describe(t: HostPort): string {
  return `${t.protocol}:${t.address}:${t.port}`;
}

/**
 * One flow per account: the target its REGISTER was last answered by (setTarget), kept alive
 * while the account is registered (start / stop).
 *
 * - TCP / TLS: CRLF pings through the transport (RFC 5626 §3.5.1, §4.4.1). A missing pong
 *   closes the connection, and any close of the connection to the flow's target (pong timeout,
 *   reset, the server closing it) is a lost flow: the account registers again, which opens a new
 *   connection.
 * - UDP: OPTIONS pings. Any response, whatever its status, proves the path works; a timeout
 *   (Timer F) or a transport error is a lost flow. One ping at a time per flow.
 */
export class FlowKeeper {
  private readonly flows = new Map<string, Flow>();
  private readonly log: Logger;
  private closed = false;

  constructor(private readonly o: FlowKeeperOptions) {
    this.log = (o.logger ?? silentLogger()).child({ mod: 'sip/ua/flows' });
  }

  /** The flow of an account, when one is known. */
  targetOf(accountId: string): ServerTarget | undefined {
    return this.flows.get(accountId)?.target;
  }

  /** The registrar target that answered the account's last REGISTER. A running keep-alive moves with it. */
  setTarget(accountId: string, target: ServerTarget): void {
    const flow = this.flows.get(accountId);
    if (flow && sameTarget(flow.target, target)) return;
    const running = flow?.stop !== undefined;
    this.stop(accountId);
    this.flows.set(accountId, { target, stop: undefined });
    if (running) this.start(accountId);
  }

  /** Starts (or restarts) the keep-alive of the account's flow: called once it is registered. */
  start(accountId: string): void {
    const flow = this.flows.get(accountId);
    if (!flow || this.closed) return;
    flow.stop?.();
    flow.stop = flow.target.protocol === 'udp' ? this.startPings(accountId, flow.target) : this.startCrlf(flow.target);
  }

  /** Stops the account's keep-alive (not registered any more); the flow's target is kept. */
  stop(accountId: string): void {
    const flow = this.flows.get(accountId);
    flow?.stop?.();
    if (flow) flow.stop = undefined;
  }

  /** Forgets an account. */
  remove(accountId: string): void {
    this.stop(accountId);
    this.flows.delete(accountId);
  }

  /** A stream closed: the flows over it (kept alive, i.e. registered) are lost. */
  connectionClosed(remote: HostPort, error: Error | undefined): void {
    if (this.closed) return;
    for (const [accountId, flow] of this.flows) {
      const t = flow.target;
      if (flow.stop === undefined || t.protocol === 'udp' || t.protocol !== remote.protocol || t.port !== remote.port || !ipEquals(t.address, remote.address)) continue;
      this.stop(accountId);
      const code = error && 'code' in error ? String(error.code) : undefined;
      this.o.onLost(accountId, t, code === 'keepalive-timeout' ? 'keepalive-timeout' : 'connection-closed', error?.message ?? 'connection closed');
    }
  }

  /** Stops everything; nothing is reported afterwards. */
  close(): void {
    this.closed = true;
    for (const id of this.flows.keys()) this.stop(id);
    this.flows.clear();
  }

  /** RFC 5626 §4.4.1: a keep-alive interval drawn between 80 % and 100 % of the configured one. */
  private jittered(intervalMs: number): number {
    return Math.round(intervalMs * (0.8 + 0.2 * this.o.random()));
  }

  private startCrlf(target: ServerTarget): () => void {
    const interval = this.o.keepAlive.streamIntervalMs;
    if (interval <= 0) return () => undefined;
    if (!canKeepAlive(this.o.transport)) {
      this.log.debug({ target: describe(target) }, 'transport has no CRLF keep-alive; the flow is not pinged');
      return () => undefined;
    }
    this.log.debug({ target: describe(target), intervalMs: interval }, 'CRLF keep-alive on');
    return this.o.transport.startKeepAlive(target, { intervalMs: this.jittered(interval), pongTimeoutMs: this.o.keepAlive.pongTimeoutMs });
  }

  private startPings(accountId: string, target: ServerTarget): () => void {
    const interval = this.o.keepAlive.udpOptionsIntervalMs;
    if (interval <= 0) return () => undefined;
    const clock = this.o.clock;
    let timer: TimerHandle | undefined;
    let stopped = false;
    let inFlight = false;
    const schedule = (): void => {
      timer = clock.setTimeout(() => {
        timer = undefined;
        if (stopped) return;
        if (!inFlight) ping();
        schedule();
      }, this.jittered(interval));
    };
    const ping = (): void => {
      inFlight = true;
      void this.o.ping(accountId, target).then((outcome) => {
        inFlight = false;
        if (stopped || this.closed || outcome.kind === 'response') return;
        this.stop(accountId);
        const reason = outcome.kind === 'timeout' ? 'ping-timeout' : 'ping-transport-error';
        this.o.onLost(accountId, target, reason, outcome.kind === 'timeout' ? 'no answer to an OPTIONS ping' : outcome.error.message);
      });
    };
    schedule();
    this.log.debug({ accountId, target: describe(target), intervalMs: interval }, 'OPTIONS keep-alive on');
    return () => {
      stopped = true;
      clock.clearTimeout(timer);
    };
  }
}

function sameTarget(a: HostPort, b: HostPort): boolean {
  return a.protocol === b.protocol && a.port === b.port && ipEquals(a.address, b.address);
}
