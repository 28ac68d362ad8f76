// The emulator's control API (a desk phone's action URLs): state, keys, hook and an event stream per phone, under /api.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Clock, TimerHandle } from '../util/clock.js';
import type { Logger } from '../util/log.js';
import type { BrowserAudioPort } from './browser-audio.js';
import type { EmulatorPanel } from './panel.js';
import { PanelWatcher, panelInfo, type PanelChanges, type PanelInfo, type PanelState } from './panel-state.js';
import { NO_PHONE_STATUS, type PhoneStatusSource } from './phone-status.js';

/** A phone the server shows: its name in the URLs, its panel, and where its SIP status comes from. */
export interface EmulatedPhone {
  /** The extension in /api/phones/<ext>/...: letters, digits, '.', '_', '-'. */
  ext: string;
  panel: EmulatorPanel;
  status?: PhoneStatusSource | undefined;
  /** The phone's microphone and speaker, when they are the page's (`media.audio.backend: browser`). */
  audio?: BrowserAudioPort | undefined;
}

/** Request bodies are tiny JSON objects; anything bigger is refused with 413. */
export const MAX_BODY_BYTES = 4096;
/** Keys in one POST /api/keys (a long dial string with a PIN fits). */
export const MAX_KEYS = 64;
const EXT_PATTERN = /^[A-Za-z0-9._-]{1,32}$/;

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** Headers the answer carries (Allow on a 405). */
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** A phone behind the API: its watcher, and one queue of finger actions from every client, in order. */
export class PhoneHandle {
  readonly info: PanelInfo;
  readonly watcher: PanelWatcher;
  private actions: Promise<void> = Promise.resolve();

  constructor(
    readonly phone: EmulatedPhone,
    clock: Clock,
    pollMs?: number,
  ) {
    if (!EXT_PATTERN.test(phone.ext)) throw new RangeError(`phone extension "${phone.ext}": expected 1-32 letters, digits, '.', '_' or '-'`);
    this.info = panelInfo(phone.ext, phone.panel);
    this.watcher = new PanelWatcher({ panel: phone.panel, status: phone.status ?? NO_PHONE_STATUS, clock, pollMs });
  }

  /**
   * The keys of a dial string ("101#", "*a"), upper-cased, each one on the keypad; an ApiError (400)
   * names the first one that is not.
   */
  parseKeys(raw: unknown): string[] {
    if (typeof raw !== 'string' || raw.length === 0) throw new ApiError(400, '"keys" must be a non-empty string of keypad keys, e.g. "101#"');
    const keys = [...raw].map((k) => k.toUpperCase());
    if (keys.length > MAX_KEYS) throw new ApiError(400, `"keys" has ${keys.length} keys; at most ${MAX_KEYS} per request`);
    const valid = this.phone.panel.keys;
    keys.forEach((k, i) => {
      if (!valid.includes(k)) throw new ApiError(400, `unknown key ${JSON.stringify(raw[i] ?? k)} at position ${i + 1}; this keypad has ${valid.join(' ')}`);
    });
    return keys;
  }

  /** Taps the keys one after another (after whatever is queued); resolves when the last is released. */
  tapKeys(keys: readonly string[]): Promise<void> {
    return this.enqueue(async () => {
      for (const k of keys) await this.phone.panel.tapKey(k);
    });
  }

  setHook(offHook: boolean): Promise<void> {
    return this.enqueue(() => this.phone.panel.setHook(offHook));
  }

  private enqueue(action: () => Promise<void>): Promise<void> {
    const run = this.actions.then(action, action);
    this.actions = run.catch(() => undefined);
    return run;
  }
}

export interface ControlApiOptions {
  phones: readonly PhoneHandle[];
  clock: Clock;
  log: Logger;
  /** Comment lines on idle event streams, so proxies and clients see the connection alive (default 15 s). */
  heartbeatMs?: number;
}

export type ApiAction = 'state' | 'keys' | 'hook' | 'events' | 'ws';
const ACTIONS: readonly ApiAction[] = ['state', 'keys', 'hook', 'events', 'ws'];

/** Which phone and action a path names: /api/<action> is the first phone, /api/phones/<ext>/<action> any. */
export type ApiRoute = { kind: 'phones' } | { kind: 'phone'; phone: PhoneHandle; action: ApiAction };

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** Reads a small JSON object body: 415 unless it is application/json, 413 above MAX_BODY_BYTES, 400 if it does not parse. */
export async function readJsonBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  // application/json also keeps other web sites out: a cross-origin page cannot send it without a CORS preflight, which gets no grant.
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/json') throw new ApiError(415, 'the body must be JSON with Content-Type: application/json');
  const declared = Number(req.headers['content-length'] ?? '0');
  if (declared > MAX_BODY_BYTES) throw new ApiError(413, `the body is larger than ${MAX_BODY_BYTES} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new ApiError(413, `the body is larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  let value: unknown;
  try {
    value = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new ApiError(400, 'the body is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ApiError(400, 'the body must be a JSON object');
  return value as Record<string, unknown>;
}

/**
 * The routes under /api. For each phone (the first one also without the /phones/<ext> prefix):
 * GET state, POST keys {"keys":"101#"}, POST hook {"offHook":true}, GET events (server-sent events:
 * `info` and `state` once, then `change` with the fields that changed). GET /api/phones lists them.
 * The WebSocket at .../ws is upgraded by the web server; this class only names its route.
 */
export class ControlApi {
  private readonly streams = new Set<ServerResponse>();
  private readonly log: Logger;

  constructor(private readonly o: ControlApiOptions) {
    if (o.phones.length === 0) throw new RangeError('the control API needs at least one phone');
    const exts = new Set(o.phones.map((p) => p.info.ext));
    if (exts.size !== o.phones.length) throw new RangeError('two phones have the same extension');
    this.log = o.log.child({ mod: 'emulator/api' });
  }

  /** The route of an /api path; an ApiError (404) for anything else. */
  route(pathname: string): ApiRoute {
    const parts = pathname.split('/').filter((p) => p !== '');
    if (parts[0] !== 'api') throw new ApiError(404, `no such route: ${pathname}`);
    if (parts.length === 2 && parts[1] === 'phones') return { kind: 'phones' };
    let phone = this.o.phones[0];
    let action = parts[1];
    if (parts[1] === 'phones' && parts.length === 4) {
      const ext = decodeURIComponent(parts[2] ?? '');
      phone = this.o.phones.find((p) => p.info.ext === ext);
      if (!phone) throw new ApiError(404, `no phone with extension "${ext}"; phones: ${this.o.phones.map((p) => p.info.ext).join(', ')}`);
      action = parts[3];
    } else if (parts.length !== 2) {
      throw new ApiError(404, `no such route: ${pathname}`);
    }
    const known = ACTIONS.find((a) => a === action);
    if (!known || !phone) throw new ApiError(404, `no such route: ${pathname} (routes: ${ACTIONS.map((a) => `/api/${a}`).join(', ')}, /api/phones)`);
    return { kind: 'phone', phone, action: known };
  }

  /** Answers one HTTP request under /api (authentication has been checked by the server). */
  async handle(req: IncomingMessage, res: ServerResponse, pathname: string): Promise<void> {
    try {
      const route = this.route(pathname);
      const method = req.method ?? 'GET';
      if (route.kind === 'phones') {
        this.allow(method, 'GET');
        sendJson(res, 200, { phones: this.o.phones.map((p) => ({ ...p.info, url: `/api/phones/${encodeURIComponent(p.info.ext)}/` })) });
        return;
      }
      const { phone, action } = route;
      switch (action) {
        case 'state':
          this.allow(method, 'GET');
          sendJson(res, 200, this.stateBody(phone, phone.watcher.current()));
          return;
        case 'keys': {
          this.allow(method, 'POST');
          const body = await readJsonBody(req);
          const keys = phone.parseKeys(body.keys);
          this.log.debug({ ext: phone.info.ext, keys: keys.length }, 'keys from the control API');
          await phone.tapKeys(keys);
          sendJson(res, 200, this.stateBody(phone, phone.watcher.current()));
          return;
        }
        case 'hook': {
          this.allow(method, 'POST');
          const body = await readJsonBody(req);
          if (typeof body.offHook !== 'boolean') throw new ApiError(400, '"offHook" must be true (lift the handset) or false (hang up)');
          await phone.setHook(body.offHook);
          sendJson(res, 200, this.stateBody(phone, phone.watcher.current()));
          return;
        }
        case 'events':
          this.allow(method, 'GET');
          this.openStream(req, res, phone);
          return;
        case 'ws':
          throw new ApiError(426, 'this route is a WebSocket: connect with Upgrade: websocket');
      }
    } catch (err) {
      if (err instanceof ApiError) {
        // After a 413 the rest of the body is not read: the connection cannot be reused.
        const headers = err.status === 413 ? { ...err.headers, connection: 'close' } : err.headers;
        if (!res.headersSent) sendJson(res, err.status, { error: err.message }, headers);
        return;
      }
      this.log.error({ err }, 'control API request failed');
      if (!res.headersSent) sendJson(res, 500, { error: 'internal error (see the log)' });
      else res.destroy();
    }
  }

  /** Ends every open event stream (the server is closing). */
  close(): void {
    for (const res of this.streams) res.end();
    this.streams.clear();
  }

  private allow(method: string, expected: 'GET' | 'POST'): void {
    if (method !== expected) throw new ApiError(405, `method ${method} not allowed; this route takes only ${expected}`, { allow: expected });
  }

  private stateBody(phone: PhoneHandle, state: PanelState): PanelInfo & PanelState {
    return { ...phone.info, ...state };
  }

  /** Server-sent events (WHATWG HTML §9.2): info, state, then change events; a comment line as heartbeat. */
  private openStream(req: IncomingMessage, res: ServerResponse, phone: PhoneHandle): void {
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    const send = (event: string, data: unknown): void => {
      res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    };
    res.write('retry: 2000\n\n');
    send('info', phone.info);
    const sub = phone.watcher.subscribe((changes: PanelChanges) => send('change', changes));
    send('state', sub.state);
    this.streams.add(res);
    const clock = this.o.clock;
    let heartbeat: TimerHandle | undefined;
    const beat = (): void => {
      heartbeat = clock.setTimeout(() => {
        res.write(': keep-alive\n\n');
        beat();
      }, this.o.heartbeatMs ?? 15_000);
    };
    beat();
    let ended = false;
    const end = (): void => {
      if (ended) return;
      ended = true;
      clock.clearTimeout(heartbeat);
      sub.unsubscribe();
      this.streams.delete(res);
    };
    req.on('close', end);
    res.on('close', end);
  }
}
