// The emulator's web server (node:http + ws): the page that draws the phone, its WebSocket, and the control API, with the password check.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { FONT_6X8 } from '../../hal/display/font-6x8.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/log.js';
import { BrowserAudioLink, type AudioClient } from './browser-audio.js';
import { ApiError, ControlApi, PhoneHandle, sendJson, type EmulatedPhone } from './control-api.js';
import type { PanelChanges, PanelInfo, PanelState } from './panel-state.js';
import { addressProblem, isLoopbackAddress, PasswordCheck } from './password.js';

export interface EmulatorServerOptions {
  /** The phones shown; the first one is also served without the /api/phones/<ext> prefix. */
  phones: readonly EmulatedPhone[];
  clock: Clock;
  log: Logger;
  /** TCP port; 0 picks a free one (read it back from `port`). */
  port: number;
  /** Listening address; anything but loopback requires passwordHash. */
  address: string;
  /** scrypt hash (`offhook hash-password`); when set, every request needs the password. */
  passwordHash?: string | undefined;
  /** Serve the page; false serves only the control API (`--no-ui`). */
  page: boolean;
  /** Where index.html, app.js and style.css are (default: web/ beside this module or the bundle). */
  assetsDir?: string;
  /** How often the chips are read for changes while someone watches (default 50 ms). */
  pollMs?: number;
  /** Heartbeat of event streams (default 15 s). */
  heartbeatMs?: number;
}

/** The server cannot start as configured: an address without a password, a port in use, missing page files. */
export class EmulatorServerError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'EmulatorServerError';
  }
}

/**
 * Messages the page sends over the WebSocket as JSON text. `audio` asks for the phone's microphone and
 * speaker (on, with the page's AudioContext rate) or gives them back; binary messages are then audio
 * frames (browser-audio.ts).
 */
export type ClientMessage =
  | { type: 'tap'; key: string }
  | { type: 'keys'; keys: string }
  | { type: 'hook'; offHook: boolean }
  | { type: 'audio'; on: true; sampleRateHz: number }
  | { type: 'audio'; on: false };

/**
 * Messages the server pushes over a phone's WebSocket: the starting point once, then changes. Each
 * names the phone it is about (`ext`), so that a page showing several phones can route them.
 * `hello.audio` says whether the phone's microphone and speaker can be the page's; `audio` answers
 * the page's `audio` requests (and says `off` when another page took them).
 */
export type ServerMessage =
  | { type: 'hello'; ext: string; info: PanelInfo; phones: string[]; font: Record<string, number[]>; state: PanelState; audio: boolean }
  | { type: 'change'; ext: string; changes: PanelChanges }
  | { type: 'audio'; ext: string; state: 'on' | 'off' | 'unavailable'; reason?: string; sampleRateHz?: number; engineRateHz?: number }
  | { type: 'error'; ext: string; message: string };

/**
 * Largest WebSocket message accepted from a page (a larger one closes the socket, code 1009): JSON
 * requests are tiny, and an audio frame of 20 ms at 96 kHz is 3,848 bytes.
 */
const MAX_WS_MESSAGE_BYTES = 4096;
/** At most one complaint a second about a page's audio frames (a broken page sends 50 a second). */
const AUDIO_ERROR_INTERVAL_MS = 1000;

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/** Everything the page loads comes from this server; nothing from elsewhere, no inline script. */
const PAGE_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': "default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-cache',
};

/** The page's files: web/ beside this module (firmware/emulator/web) or beside the bundle (dist/web). */
export function defaultAssetsDir(): string {
  return fileURLToPath(new URL('./web/', import.meta.url));
}

/** The A00 ROM's ASCII as the page draws it: 8 rows of 5 bits per character (the 6x8 font's 5x7 glyphs, row 8 blank). */
export function lcdFont(): Record<string, number[]> {
  const font: Record<string, number[]> = {};
  for (let code = FONT_6X8.firstCode; code <= FONT_6X8.lastCode; code++) {
    const ch = String.fromCharCode(code);
    const columns = FONT_6X8.glyph(ch);
    if (!columns) continue;
    font[ch] = [0, 1, 2, 3, 4, 5, 6, 7].map((row) => columns.slice(0, 5).reduce((bits, col, c) => (((col >> row) & 1) === 1 ? bits | (1 << (4 - c)) : bits), 0));
  }
  return font;
}

function loadAssets(dir: string): Map<string, { type: string; body: Buffer }> {
  if (!existsSync(join(dir, 'index.html'))) throw new EmulatorServerError(`the emulator page is missing: no index.html in ${dir} (run \`make build\`)`);
  const assets = new Map<string, { type: string; body: Buffer }>();
  for (const name of readdirSync(dir)) {
    const type = CONTENT_TYPES[name.slice(name.lastIndexOf('.'))];
    if (type) assets.set(`/${name}`, { type, body: readFileSync(join(dir, name)) });
  }
  const index = assets.get('/index.html');
  if (index) assets.set('/', index);
  return assets;
}

/** The host name of a Host or Origin value ("127.0.0.1:8080", "[::1]:80", "http://localhost:8080"). */
function hostnameOf(value: string): string | undefined {
  try {
    return new URL(value.includes('://') ? value : `http://${value}`).hostname;
  } catch {
    return undefined;
  }
}

/**
 * One HTTP server for the page, its WebSocket and the control API. Without a password (loopback
 * only) it also insists on a loopback Host header, so that a web site cannot reach the phone through
 * DNS rebinding; WebSocket upgrades must come from a page of this server (Origin = Host).
 */
export class EmulatorWebServer {
  private readonly server: Server;
  private readonly wss: WebSocketServer;
  private readonly api: ControlApi;
  private readonly handles: PhoneHandle[];
  /** The phones whose microphone and speaker are the page's (media.audio.backend: browser). */
  private readonly audio = new Map<PhoneHandle, BrowserAudioLink>();
  private readonly assets: Map<string, { type: string; body: Buffer }>;
  private readonly check: PasswordCheck | undefined;
  private readonly log: Logger;
  private readonly font = lcdFont();
  private closing: Promise<void> | undefined;

  private constructor(private readonly o: EmulatorServerOptions) {
    const problem = addressProblem(o.address, o.passwordHash);
    if (problem) throw new EmulatorServerError(problem);
    try {
      this.check = o.passwordHash ? new PasswordCheck(o.passwordHash) : undefined;
    } catch (err) {
      throw new EmulatorServerError(`emulator.passwordHash: ${err instanceof Error ? err.message : String(err)}`);
    }
    this.log = o.log.child({ mod: 'emulator/web' });
    this.handles = o.phones.map((p) => new PhoneHandle(p, o.clock, o.pollMs));
    for (const h of this.handles) if (h.phone.audio) this.audio.set(h, new BrowserAudioLink(h.phone.audio, o.clock, this.log.child({ phone: h.info.ext })));
    this.api = new ControlApi({ phones: this.handles, clock: o.clock, log: o.log, heartbeatMs: o.heartbeatMs });
    this.assets = o.page ? loadAssets(o.assetsDir ?? defaultAssetsDir()) : new Map<string, { type: string; body: Buffer }>();
    this.server = createServer((req, res) => void this.onRequest(req, res));
    this.wss = new WebSocketServer({ noServer: true, maxPayload: MAX_WS_MESSAGE_BYTES });
    this.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => void this.onUpgrade(req, socket, head));
  }

  /** Starts listening; rejects with an EmulatorServerError (address without password, port in use, ...). */
  static async start(o: EmulatorServerOptions): Promise<EmulatorWebServer> {
    const s = new EmulatorWebServer(o);
    await new Promise<void>((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException): void => {
        reject(new EmulatorServerError(`the emulator's server cannot listen on ${o.address} port ${o.port}: ${err.code === 'EADDRINUSE' ? 'the port is in use (pick another with --http-port)' : err.message}`, { cause: err }));
      };
      s.server.once('error', onError);
      s.server.listen(o.port, o.address, () => {
        s.server.off('error', onError);
        resolve();
      });
    });
    s.server.on('error', (err) => s.log.error({ err }, 'emulator server error'));
    s.log.info({ url: s.url, page: o.page, passwordRequired: Boolean(o.passwordHash) }, 'emulator server listening');
    return s;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** http://address:port/ (IPv6 in brackets). */
  get url(): string {
    const a = this.o.address;
    return `http://${a.includes(':') ? `[${a}]` : a}:${this.port}/`;
  }

  /** Ends every WebSocket and event stream and stops listening. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      for (const link of this.audio.values()) link.close();
      for (const ws of this.wss.clients) ws.close(1001, 'the phone is stopping');
      this.api.close();
      for (const h of this.handles) h.watcher.stop();
      await new Promise<void>((resolve) => {
        this.server.close(() => resolve());
        this.server.closeAllConnections();
        // Sockets handed to ws are no longer the HTTP server's: end them too.
        for (const ws of this.wss.clients) ws.terminate();
      });
      await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    })();
    return this.closing;
  }

  /** Whether the request may go on; answers 401 / 403 itself when not. */
  private async admit(req: IncomingMessage): Promise<{ ok: true } | { ok: false; status: 401 | 403; message: string }> {
    if (this.check) {
      if (await this.check.accepts(req.headers)) return { ok: true };
      return { ok: false, status: 401, message: 'this phone needs its password (HTTP Basic with any user name, or Authorization: Bearer <password>)' };
    }
    const host = hostnameOf(req.headers.host ?? '');
    if (!host || !isLoopbackAddress(host)) return { ok: false, status: 403, message: 'without a password this server only answers requests addressed to a loopback host (127.0.0.1, [::1], localhost)' };
    return { ok: true };
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const admitted = await this.admit(req);
      if (!admitted.ok) {
        const headers: Record<string, string> = admitted.status === 401 ? { 'www-authenticate': 'Basic realm="offhook", charset="UTF-8"' } : {};
        sendJson(res, admitted.status, { error: admitted.message }, headers);
        return;
      }
      const pathname = new URL(req.url ?? '/', 'http://localhost').pathname;
      if (pathname === '/api' || pathname.startsWith('/api/')) {
        await this.api.handle(req, res, pathname);
        return;
      }
      this.serveAsset(req, res, pathname);
    } catch (err) {
      this.log.error({ err }, 'request failed');
      if (!res.headersSent) sendJson(res, 500, { error: 'internal error (see the log)' });
    }
  }

  private serveAsset(req: IncomingMessage, res: ServerResponse, pathname: string): void {
    if (!this.o.page) {
      sendJson(res, 404, { error: 'the page is off (--no-ui): the control API is under /api (GET /api/state)' });
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendJson(res, 405, { error: `method ${req.method ?? ''} not allowed` }, { allow: 'GET, HEAD' });
      return;
    }
    const asset = this.assets.get(pathname);
    if (!asset) {
      sendJson(res, 404, { error: `no such page: ${pathname}` });
      return;
    }
    res.writeHead(200, { 'content-type': asset.type, 'content-length': asset.body.length, ...PAGE_HEADERS });
    res.end(req.method === 'HEAD' ? undefined : asset.body);
  }

  private async onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on('error', () => socket.destroy());
    const refuse = (status: number, message: string): void => {
      const reason = status === 401 ? 'Unauthorized' : status === 403 ? 'Forbidden' : 'Not Found';
      const auth = status === 401 ? 'WWW-Authenticate: Basic realm="offhook", charset="UTF-8"\r\n' : '';
      socket.end(`HTTP/1.1 ${status} ${reason}\r\n${auth}Content-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n${message}\n`);
    };
    try {
      const admitted = await this.admit(req);
      if (!admitted.ok) return refuse(admitted.status, admitted.message);
      const origin = req.headers.origin;
      if (origin !== undefined && hostnameOf(origin) !== hostnameOf(req.headers.host ?? '')) return refuse(403, 'WebSocket connections are only taken from this server\'s own page');
      const route = this.api.route(new URL(req.url ?? '/', 'http://localhost').pathname);
      if (route.kind !== 'phone' || route.action !== 'ws') return refuse(404, 'the WebSocket is at /api/ws or /api/phones/<ext>/ws');
      const phone = route.phone;
      this.wss.handleUpgrade(req, socket, head, (ws) => this.onSocket(ws, phone));
    } catch (err) {
      if (err instanceof ApiError) refuse(err.status === 404 ? 404 : 403, err.message);
      else {
        this.log.error({ err }, 'WebSocket upgrade failed');
        socket.destroy();
      }
    }
  }

  private onSocket(ws: WebSocket, phone: PhoneHandle): void {
    const send = (m: ServerMessage): void => {
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(m));
    };
    const ext = phone.info.ext;
    const audio = this.audio.get(phone);
    const client: AudioClient = {
      sendBinary: (frame) => {
        if (ws.readyState !== ws.OPEN) return false;
        ws.send(frame, { binary: true });
        return true;
      },
      bufferedBytes: () => ws.bufferedAmount,
      notify: (state, detail) => send({ type: 'audio', ext, state, ...detail }),
    };
    let lastAudioError = -Infinity;
    const audioError = (message: string): void => {
      const now = this.o.clock.now();
      if (now - lastAudioError < AUDIO_ERROR_INTERVAL_MS) return;
      lastAudioError = now;
      send({ type: 'error', ext, message });
    };
    const sub = phone.watcher.subscribe((changes) => send({ type: 'change', ext, changes }));
    send({ type: 'hello', ext, info: phone.info, phones: this.handles.map((h) => h.info.ext), font: this.font, state: sub.state, audio: audio !== undefined });
    ws.on('message', (data: RawData, isBinary: boolean) => {
      const bytes = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
      if (isBinary) {
        // An audio frame (browser-audio.ts); anything wrong with it is dropped and said (at most once a second).
        if (!audio) {
          audioError(`phone ${ext}'s microphone and speaker are not the page's (its media.audio.backend is not browser): audio frames are dropped`);
          return;
        }
        const problem = audio.capture(client, bytes);
        if (problem !== undefined) audioError(problem);
        return;
      }
      const fail = (err: unknown): void => send({ type: 'error', ext, message: err instanceof Error ? err.message : String(err) });
      try {
        const m = JSON.parse(bytes.toString('utf8')) as unknown;
        const msg = typeof m === 'object' && m !== null ? (m as Record<string, unknown>) : {};
        if (msg.type === 'tap' || msg.type === 'keys') {
          const keys = phone.parseKeys(msg.type === 'tap' ? msg.key : msg.keys);
          phone.tapKeys(keys).catch(fail);
        } else if (msg.type === 'hook' && typeof msg.offHook === 'boolean') {
          phone.setHook(msg.offHook).catch(fail);
        } else if (msg.type === 'audio' && typeof msg.on === 'boolean') {
          if (!audio) send({ type: 'audio', ext, state: 'unavailable', reason: `phone ${ext} does not use the page's microphone and speaker (media.audio.backend: browser)` });
          else if (msg.on) audio.attach(client, typeof msg.sampleRateHz === 'number' ? msg.sampleRateHz : NaN);
          else audio.detach(client);
        } else {
          throw new Error('unknown message: expected {"type":"tap","key":"1"}, {"type":"keys","keys":"101"}, {"type":"hook","offHook":true} or {"type":"audio","on":true,"sampleRateHz":48000}');
        }
      } catch (err) {
        fail(err instanceof SyntaxError ? new Error('messages are JSON objects') : err);
      }
    });
    ws.on('close', () => {
      sub.unsubscribe();
      audio?.detach(client, 'the page closed');
    });
    ws.on('error', (err) => this.log.debug({ err }, 'WebSocket error'));
  }
}
