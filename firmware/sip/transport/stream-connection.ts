// One TCP or TLS connection: framing by Content-Length, CRLF keep-alives, idle and stall timeouts, writes that report errors.
import type { Socket } from 'node:net';
import type { Logger } from '../../util/log.js';
import type { Clock, TimerHandle } from '../../util/clock.js';
import type { Unsubscribe } from '../../util/emitter.js';
import { type SipParseError } from '../message/errors.js';
import { SipStreamFramer } from '../message/framer.js';
import type { HostPort } from './transport.js';
import { TransportError, errorText } from './transport-error.js';

const PING = Buffer.from('\r\n\r\n', 'latin1');
const PONG = Buffer.from('\r\n', 'latin1');

export interface StreamKeepAliveOptions {
  /** Time between CRLFCRLF pings (RFC 5626 §4.4.1 suggests 95 to 120 s for TCP and TLS). */
  intervalMs: number;
  /** A pong must arrive within this time, else the flow has failed (RFC 5626 §4.4.1: 10 s). */
  pongTimeoutMs: number;
}

export interface StreamConnectionHandlers {
  /** One complete message, cut by Content-Length. */
  onMessage(connection: StreamConnection, bytes: Buffer): void;
  /**
   * Framing is lost (RFC 3261 §18.3). pending holds the bytes of the message that could not be
   * framed, as far as they arrived (its header section, when complete, can be answered). The
   * connection stops reading; the handler closes it.
   */
  onFramingError(connection: StreamConnection, error: SipParseError, pending: Buffer): void;
  /** Called once, when the socket is gone. */
  onClosed(connection: StreamConnection, error: TransportError | undefined): void;
}

export interface StreamConnectionOptions {
  id: string;
  protocol: 'tcp' | 'tls';
  /** Who opened it: we (a request to a target) or the peer (accepted on a listener). */
  opener: 'local' | 'remote';
  socket: Socket;
  remote: HostPort;
  local: HostPort;
  clock: Clock;
  log: Logger;
  maxMessageBytes: number;
  idleTimeoutMs: number;
  incompleteMessageTimeoutMs: number;
  writeTimeoutMs: number;
  /** How long a closing connection waits for the peer's FIN after ours before it is destroyed. */
  lingerMs: number;
  handlers: StreamConnectionHandlers;
}

/**
 * Owns one socket. Every socket callback is guarded: nothing thrown by a handler leaves it, a
 * handler error closes this connection only.
 */
export class StreamConnection {
  readonly id: string;
  readonly protocol: 'tcp' | 'tls';
  readonly opener: 'local' | 'remote';
  readonly remote: HostPort;
  readonly local: HostPort;
  private readonly socket: Socket;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly o: StreamConnectionOptions;
  private readonly framer: SipStreamFramer;
  /** Received chunks still (partly) held by the framer: the tail of them is the pending message. */
  private retained: Buffer[] = [];
  private retainedBytes = 0;
  private lastActivityMs: number;
  private idleTimer: TimerHandle | undefined;
  private incompleteTimer: TimerHandle | undefined;
  private keepAliveTimer: TimerHandle | undefined;
  private pongTimer: TimerHandle | undefined;
  /** Which startKeepAlive() call the running keep-alive belongs to (an old unsubscribe must not stop a newer one). */
  private keepAliveGeneration = 0;
  private lingerTimer: TimerHandle | undefined;
  private readonly pendingWrites = new Set<(error: TransportError | undefined) => void>();
  private state: 'open' | 'closing' | 'closed' = 'open';
  private closeError: TransportError | undefined;
  private resolveClosed: () => void = () => undefined;
  /** Resolves once the socket is gone and onClosed has run. */
  readonly closed: Promise<void>;

  constructor(options: StreamConnectionOptions) {
    this.o = options;
    this.id = options.id;
    this.protocol = options.protocol;
    this.opener = options.opener;
    this.remote = options.remote;
    this.local = options.local;
    this.socket = options.socket;
    this.clock = options.clock;
    this.log = options.log.child({ conn: options.id });
    this.framer = new SipStreamFramer({ maxMessageBytes: options.maxMessageBytes });
    this.lastActivityMs = this.clock.now();
    this.closed = new Promise((resolve) => {
      this.resolveClosed = resolve;
    });
    this.socket.setNoDelay(true);
    this.socket.on('data', (chunk: Buffer) => this.guard(() => this.onData(chunk)));
    this.socket.on('error', (e: Error) => this.guard(() => this.onSocketError(e)));
    this.socket.on('close', () => this.guard(() => this.finish()));
    this.armIdle(options.idleTimeoutMs);
  }

  get isOpen(): boolean {
    return this.state === 'open';
  }

  /** Writes bytes; resolves with an error instead of throwing. */
  write(bytes: Buffer): Promise<TransportError | undefined> {
    if (this.state !== 'open') {
      return Promise.resolve(new TransportError({ code: 'connection-closed', message: 'connection is closed', remote: this.remote }));
    }
    this.lastActivityMs = this.clock.now();
    return new Promise((resolve) => {
      const finish = (error: TransportError | undefined): void => {
        if (!this.pendingWrites.delete(finish)) return;
        this.clock.clearTimeout(timer);
        resolve(error);
      };
      this.pendingWrites.add(finish);
      // A peer that stops reading fills the socket buffers; the write must not wait forever.
      const timer: TimerHandle = this.clock.setTimeout(() => {
        const error = new TransportError({ code: 'write-timeout', message: `write not finished after ${this.o.writeTimeoutMs} ms`, remote: this.remote });
        finish(error);
        this.close(error);
      }, this.o.writeTimeoutMs);
      try {
        this.socket.write(bytes, (e) => {
          finish(e ? new TransportError({ code: 'write-failed', message: `write failed: ${errorText(e)}`, remote: this.remote, cause: e }) : undefined);
        });
      } catch (e) {
        finish(new TransportError({ code: 'write-failed', message: `write failed: ${errorText(e)}`, remote: this.remote, cause: e }));
      }
    });
  }

  /**
   * Sends a CRLFCRLF ping every intervalMs and closes the connection with a keepalive-timeout
   * error when no CRLF pong comes back within pongTimeoutMs (RFC 5626 §4.4.1). Replaces any
   * keep-alive already running on this connection.
   */
  startKeepAlive(options: StreamKeepAliveOptions): Unsubscribe {
    this.stopKeepAlive();
    const tick = (): void => {
      this.keepAliveTimer = this.clock.setTimeout(() => {
        if (this.state !== 'open') return;
        void this.write(PING);
        if (this.pongTimer === undefined) {
          this.pongTimer = this.clock.setTimeout(() => {
            this.pongTimer = undefined;
            this.close(new TransportError({ code: 'keepalive-timeout', message: `no keep-alive pong within ${options.pongTimeoutMs} ms`, remote: this.remote }));
          }, options.pongTimeoutMs);
        }
        tick();
      }, options.intervalMs);
    };
    const generation = ++this.keepAliveGeneration;
    tick();
    return () => {
      if (this.keepAliveGeneration === generation) this.stopKeepAlive();
    };
  }

  private stopKeepAlive(): void {
    this.clock.clearTimeout(this.keepAliveTimer);
    this.clock.clearTimeout(this.pongTimer);
    this.keepAliveTimer = undefined;
    this.pongTimer = undefined;
  }

  /** Sends one CRLFCRLF ping now (RFC 5626 §3.5.1). */
  ping(): Promise<TransportError | undefined> {
    return this.write(PING);
  }

  /**
   * Closes the connection. With graceful, our FIN goes after what is queued and the peer gets
   * lingerMs to close its side (incoming bytes are discarded meanwhile: destroying a socket
   * with unread data would send a RST, and the peer could lose our last response).
   */
  close(error?: TransportError, options: { graceful?: boolean } = {}): void {
    if (this.state === 'closed') return;
    this.closeError ??= error;
    if (options.graceful && this.state === 'open') {
      this.state = 'closing';
      this.stopTimers();
      this.socket.end();
      this.lingerTimer = this.clock.setTimeout(() => this.socket.destroy(), this.o.lingerMs);
      return;
    }
    this.state = 'closing';
    this.socket.destroy();
    // 'close' follows asynchronously; finish() runs then.
  }

  private guard(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.log.error({ err: e }, 'stream connection handler failed; closing the connection');
      try {
        this.close(new TransportError({ code: 'framing-lost', message: `internal error: ${errorText(e)}`, remote: this.remote, cause: e }));
      } catch {
        // nothing more can be done; the socket is being destroyed
      }
    }
  }

  private onData(chunk: Buffer): void {
    if (this.state !== 'open') return;
    this.lastActivityMs = this.clock.now();
    // A keep-alive alone in a chunk between messages is handled here: the framer pairs a lone
    // CRLF with a CRLF in the next chunk into a ping, so that two pongs in a row would read as
    // a ping and the second pong would be lost.
    if (this.framer.buffered === 0 && (chunk.equals(PONG) || chunk.equals(PING))) {
      if (chunk.length === PONG.length) this.pongReceived();
      else this.pingReceived();
      return;
    }
    this.retained.push(chunk);
    this.retainedBytes += chunk.length;
    const events = this.framer.push(chunk);
    for (const ev of events) {
      // A handler may have closed the connection (the getter defeats narrowing of this.state).
      if (!this.isOpen) return;
      switch (ev.type) {
        case 'message':
          this.restartIncompleteTimer();
          this.o.handlers.onMessage(this, ev.bytes);
          break;
        case 'ping':
          this.pingReceived();
          break;
        case 'pong':
          this.pongReceived();
          break;
        case 'error': {
          const pending = this.pendingBytes();
          this.retained = [];
          this.retainedBytes = 0;
          this.clock.clearTimeout(this.incompleteTimer);
          this.o.handlers.onFramingError(this, ev.error, pending);
          return;
        }
      }
    }
    this.trimRetained();
    if (this.framer.buffered === 0) {
      this.clock.clearTimeout(this.incompleteTimer);
      this.incompleteTimer = undefined;
    } else if (this.incompleteTimer === undefined) {
      this.restartIncompleteTimer();
    }
  }

  /** RFC 5626 §3.5.1: a CRLFCRLF ping is answered with a CRLF pong. */
  private pingReceived(): void {
    // While we wait for a pong, CRLF CRLF may also be our pong next to the peer's CRLF: count it.
    if (this.pongTimer !== undefined) this.pongReceived();
    void this.write(PONG);
  }

  private pongReceived(): void {
    this.clock.clearTimeout(this.pongTimer);
    this.pongTimer = undefined;
  }

  /** The last framer.buffered bytes received: the message the framer is in. */
  private pendingBytes(): Buffer {
    const all = this.retained.length === 1 ? (this.retained[0] ?? Buffer.alloc(0)) : Buffer.concat(this.retained, this.retainedBytes);
    return all.subarray(Math.max(0, all.length - this.framer.buffered));
  }

  /** Drops retained chunks the framer no longer holds bytes of. */
  private trimRetained(): void {
    const keep = this.framer.buffered;
    while (this.retained.length > 0) {
      const first = this.retained[0];
      if (!first || this.retainedBytes - first.length < keep) break;
      this.retained.shift();
      this.retainedBytes -= first.length;
    }
  }

  /** A message must be complete within incompleteMessageTimeoutMs of its first byte (slowloris). */
  private restartIncompleteTimer(): void {
    this.clock.clearTimeout(this.incompleteTimer);
    this.incompleteTimer = undefined;
    if (this.framer.buffered === 0 && this.retainedBytes === 0) return;
    this.incompleteTimer = this.clock.setTimeout(() => {
      this.incompleteTimer = undefined;
      if (this.framer.buffered === 0) return;
      this.close(new TransportError({ code: 'incomplete-message', message: `message incomplete after ${this.o.incompleteMessageTimeoutMs} ms`, remote: this.remote }));
    }, this.o.incompleteMessageTimeoutMs);
  }

  private armIdle(delayMs: number): void {
    this.idleTimer = this.clock.setTimeout(() => {
      this.idleTimer = undefined;
      if (this.state !== 'open') return;
      const idle = this.clock.now() - this.lastActivityMs;
      if (idle >= this.o.idleTimeoutMs) {
        this.log.debug({ idleMs: idle }, 'closing idle connection');
        this.close(new TransportError({ code: 'idle-timeout', message: `no traffic for ${this.o.idleTimeoutMs} ms`, remote: this.remote }), { graceful: true });
      } else {
        this.armIdle(this.o.idleTimeoutMs - idle);
      }
    }, delayMs);
  }

  private onSocketError(e: Error): void {
    this.closeError ??= new TransportError({ code: 'connection-closed', message: `connection error: ${errorText(e)}`, remote: this.remote, cause: e });
    this.log.debug({ err: e }, 'socket error');
  }

  private stopTimers(): void {
    this.stopKeepAlive();
    this.clock.clearTimeout(this.idleTimer);
    this.clock.clearTimeout(this.incompleteTimer);
    this.idleTimer = undefined;
    this.incompleteTimer = undefined;
  }

  private finish(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.stopTimers();
    this.clock.clearTimeout(this.lingerTimer);
    this.retained = [];
    const error = this.closeError;
    const closed = error ?? new TransportError({ code: 'connection-closed', message: 'connection closed', remote: this.remote });
    for (const finish of [...this.pendingWrites]) finish(closed);
    try {
      this.o.handlers.onClosed(this, error);
    } finally {
      this.resolveClosed();
    }
  }
}
