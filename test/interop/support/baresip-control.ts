// baresip's ctrl_tcp (JSON in netstrings) over ONE persistent connection: commands answered by token, and the events (CALL_INCOMING, CALL_ESTABLISHED, CALL_DTMF_START, TRANSFER ...) it pushes, recorded for waitForEvent().
import { type Socket, connect } from 'node:net';

/** ctrl_tcp's answer to a command. */
export interface BaresipResponse {
  ok: boolean;
  data: string;
}

/** An event ctrl_tcp pushed ({"event":true,"type":...}). */
export interface BaresipEvent {
  /** CALL_INCOMING, CALL_RINGING, CALL_PROGRESS, CALL_ESTABLISHED, CALL_CLOSED, CALL_DTMF_START, CALL_DTMF_END, TRANSFER, TRANSFER_FAILED, REGISTERING, REGISTER_OK, REGISTER_FAIL ... */
  type: string;
  class: string;
  accountaor: string;
  direction?: string;
  peeruri?: string;
  /** Event-specific: the DTMF key, the Refer-To target, the reason of CALL_CLOSED ... */
  param?: string;
  /** When it arrived (Date.now()). */
  atMs: number;
}

/**
 * One connection to ctrl_tcp. baresip 1.0's ctrl_tcp keeps a single client connection (a new one
 * replaces the old), so commands and events share this one; opened on first use.
 */
export class BaresipControl {
  readonly events: BaresipEvent[] = [];
  private socket: Socket | undefined;
  private connecting: Promise<Socket> | undefined;
  private buffer = Buffer.alloc(0);
  private readonly pending = new Map<string, (r: BaresipResponse) => void>();
  private readonly waiters = new Set<() => void>();
  private sequence = 0;

  constructor(private readonly port: number) {}

  /** Connects now (startBaresip does, so that no event is missed); commands connect on demand anyway. */
  async open(): Promise<void> {
    await this.connect();
  }

  private connect(): Promise<Socket> {
    this.connecting ??= new Promise<Socket>((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port: this.port });
      socket.once('connect', () => {
        this.socket = socket;
        resolve(socket);
      });
      socket.once('error', (err) => {
        this.connecting = undefined;
        reject(err);
      });
      socket.on('data', (chunk: Buffer) => this.onData(chunk));
      socket.on('close', () => {
        this.socket = undefined;
        this.connecting = undefined;
      });
    });
    return this.connecting;
  }

  private onData(chunk: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    for (;;) {
      const colon = this.buffer.indexOf(':');
      if (colon < 0) return;
      const length = Number(this.buffer.subarray(0, colon).toString('ascii'));
      if (this.buffer.length < colon + 1 + length + 1) return;
      const body = this.buffer.subarray(colon + 1, colon + 1 + length).toString('utf8');
      this.buffer = this.buffer.subarray(colon + 1 + length + 1);
      const message = JSON.parse(body) as { response?: boolean; event?: boolean; ok?: boolean; data?: string; token?: string } & Partial<Omit<BaresipEvent, 'atMs'>>;
      if (message.response === true) {
        const resolve = message.token !== undefined ? this.pending.get(message.token) : undefined;
        if (resolve && message.token !== undefined) {
          this.pending.delete(message.token);
          resolve({ ok: message.ok === true, data: message.data ?? '' });
        }
      } else if (message.event === true) {
        this.events.push({
          type: message.type ?? '',
          class: message.class ?? '',
          accountaor: message.accountaor ?? '',
          direction: message.direction,
          peeruri: message.peeruri,
          param: message.param,
          atMs: Date.now(),
        });
        for (const wake of this.waiters) wake();
      }
    }
  }

  /** Sends a menu command ("dial", "accept", "hold", "transfer" ...); rejects after timeoutMs without an answer. */
  async command(command: string, params = '', timeoutMs = 3000): Promise<BaresipResponse> {
    const socket = await this.connect();
    const token = `offhook-${process.pid}-${++this.sequence}`;
    return new Promise<BaresipResponse>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(token);
        reject(new Error(`baresip ctrl_tcp 127.0.0.1:${this.port}: no response to '${command} ${params}' within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(token, (r) => {
        clearTimeout(timer);
        resolve(r);
      });
      const json = JSON.stringify({ command, params, token });
      socket.write(`${Buffer.byteLength(json)}:${json},`);
    });
  }

  /**
   * Resolves with the first event of `type` (matching `match`, if given) at index `from` or later
   * of `events` (default: any recorded so far); rejects after timeoutMs listing what came.
   */
  async waitForEvent(type: string, timeoutMs: number, options: { match?: (e: BaresipEvent) => boolean; from?: number } = {}): Promise<BaresipEvent> {
    await this.connect();
    const find = (): BaresipEvent | undefined => this.events.slice(options.from ?? 0).find((e) => e.type === type && (options.match?.(e) ?? true));
    const found = find();
    if (found) return found;
    return new Promise<BaresipEvent>((resolve, reject) => {
      const wake = (): void => {
        const e = find();
        if (!e) return;
        clearTimeout(timer);
        this.waiters.delete(wake);
        resolve(e);
      };
      const timer = setTimeout(() => {
        this.waiters.delete(wake);
        reject(new Error(`baresip 127.0.0.1:${this.port}: no ${type} event within ${timeoutMs} ms; events: ${this.events.map((e) => `${e.type}(${e.param ?? ''})`).join(', ')}`));
      }, timeoutMs);
      this.waiters.add(wake);
    });
  }

  close(): void {
    this.socket?.destroy();
    this.socket = undefined;
    this.connecting = undefined;
  }
}
