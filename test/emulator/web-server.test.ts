// The emulator's server over real HTTP on loopback: control API routes, validation, event stream, WebSocket, page, password.
import { request } from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { EmulatorServerError, EmulatorWebServer, type EmulatorServerOptions, type ServerMessage } from '../../firmware/emulator/web-server.js';
import { hashPassword } from '../../firmware/emulator/password.js';
import { RealClock } from '../../firmware/util/clock.js';
import { silentLogger } from '../../firmware/util/log.js';
import { FakePanel } from './fake-panel.js';

const servers: EmulatorWebServer[] = [];
const assetsDir = mkdtempSync(join(tmpdir(), 'offhook-web-'));
writeFileSync(join(assetsDir, 'index.html'), '<!doctype html><title>phone</title>');
writeFileSync(join(assetsDir, 'app.js'), 'console.log(1);');
let hash = '';

beforeAll(async () => {
  // A cheap cost for tests; the command uses N = 16384.
  hash = await hashPassword('s3cret pass', { N: 1024, r: 8, p: 1 });
});

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function start(o: Partial<EmulatorServerOptions> = {}, panels = [new FakePanel()]) {
  const server = await EmulatorWebServer.start({
    phones: panels.map((panel, i) => ({ ext: i === 0 ? '1001' : `100${i + 1}`, panel, status: { status: () => ({ lines: [{ aor: 'sip:1001@pbx.test', ext: '1001', state: 'registered', text: 'Registered 1001' }], calls: [] }) } })),
    clock: new RealClock(),
    log: silentLogger(),
    port: 0,
    address: '127.0.0.1',
    page: true,
    assetsDir,
    pollMs: 10,
    ...o,
  });
  servers.push(server);
  return { server, panel: panels[0]!, base: server.url.replace(/\/$/, '') };
}

function post(url: string, body: unknown, headers: Record<string, string> = {}) {
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
}

/** A raw request, for headers fetch will not let a caller set (Host). */
function rawGet(url: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Opens a WebSocket and collects its messages. */
async function openSocket(url: string, options: WebSocket.ClientOptions = {}) {
  const ws = new WebSocket(url, options);
  const messages: ServerMessage[] = [];
  const waiters: (() => void)[] = [];
  ws.on('message', (d: Buffer) => {
    messages.push(JSON.parse(d.toString()) as ServerMessage);
    for (const w of waiters.splice(0)) w();
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const next = async (pred: (m: ServerMessage) => boolean, timeoutMs = 2000): Promise<ServerMessage> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = messages.find(pred);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no such message; got ${JSON.stringify(messages)}`);
      await new Promise<void>((r) => {
        waiters.push(r);
        setTimeout(r, 50);
      });
    }
  };
  return { ws, messages, next };
}

describe('control API', () => {
  it('GET /api/state: LCD, LEDs, ringer, hook, the phone section, the display and keys', async () => {
    const { base } = await start();
    const res = await fetch(`${base}/api/state`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('application/json');
    const s = (await res.json()) as Record<string, unknown>;
    expect(s).toMatchObject({
      ext: '1001',
      lcd: ['Idle'.padEnd(20), ''.padEnd(20)],
      backlight: true,
      leds: { mwi: false, line: false },
      ringer: false,
      offHook: false,
      phone: { lines: [{ state: 'registered', text: 'Registered 1001' }], calls: [] },
      display: { type: 'text' },
      keypadColumns: 4,
    });
  });

  it('POST /api/keys taps the keys in order and answers when they are done', async () => {
    const { base, panel } = await start();
    const res = await post(`${base}/api/keys`, { keys: '101#' });
    expect(res.status).toBe(200);
    expect(panel.taps).toEqual(['1', '0', '1', '#']);
    expect(((await res.json()) as { lcd: string[] }).lcd[1]).toBe('101#'.padEnd(20));
    // Softkeys in lower case are the same keys.
    await post(`${base}/api/keys`, { keys: 'd' });
    expect(panel.taps.at(-1)).toBe('D');
  });

  it('refuses unknown keys, wrong bodies, wrong methods and big bodies with a clear message', async () => {
    const { base, panel } = await start();
    const bad = await post(`${base}/api/keys`, { keys: '12x4' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toBe('unknown key "x" at position 3; this keypad has 1 2 3 A 4 5 6 B 7 8 9 C * 0 # D');
    expect(panel.taps).toEqual([]); // nothing is pressed when any key is wrong
    expect((await post(`${base}/api/keys`, { keys: '' })).status).toBe(400);
    expect((await post(`${base}/api/keys`, { keys: 101 })).status).toBe(400);
    expect((await post(`${base}/api/keys`, { keys: '1'.repeat(65) })).status).toBe(400);
    expect((await post(`${base}/api/keys`, '{"keys": ')).status).toBe(400);
    expect((await post(`${base}/api/keys`, '[1]')).status).toBe(400);
    const text = await fetch(`${base}/api/keys`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{"keys":"1"}' });
    expect(text.status).toBe(415);
    const big = await post(`${base}/api/keys`, { keys: '1', pad: 'x'.repeat(5000) });
    expect(big.status).toBe(413);
    const get = await fetch(`${base}/api/keys`);
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    expect((await fetch(`${base}/api/nothing`)).status).toBe(404);
    const hook = await post(`${base}/api/hook`, { offHook: 'yes' });
    expect(hook.status).toBe(400);
    expect(((await hook.json()) as { error: string }).error).toContain('"offHook" must be true');
  });

  it('POST /api/hook lifts and replaces the handset', async () => {
    const { base, panel } = await start();
    const up = await post(`${base}/api/hook`, { offHook: true });
    expect(up.status).toBe(200);
    expect(panel.hook).toBe(true);
    expect(((await up.json()) as { offHook: boolean }).offHook).toBe(true);
    await post(`${base}/api/hook`, { offHook: false });
    expect(panel.hook).toBe(false);
  });

  it('routes /api/phones/<ext>/... to each phone; the short paths are the first phone', async () => {
    const a = new FakePanel('Phone A');
    const b = new FakePanel('Phone B');
    const { base } = await start({}, [a, b]);
    const list = (await (await fetch(`${base}/api/phones`)).json()) as { phones: { ext: string; url: string }[] };
    expect(list.phones.map((p) => [p.ext, p.url])).toEqual([
      ['1001', '/api/phones/1001/'],
      ['1002', '/api/phones/1002/'],
    ]);
    expect(((await (await fetch(`${base}/api/phones/1002/state`)).json()) as { lcd: string[] }).lcd[0]).toBe('Phone B'.padEnd(20));
    expect(((await (await fetch(`${base}/api/state`)).json()) as { lcd: string[] }).lcd[0]).toBe('Phone A'.padEnd(20));
    await post(`${base}/api/phones/1002/keys`, { keys: '7' });
    expect(b.taps).toEqual(['7']);
    expect(a.taps).toEqual([]);
    const missing = await fetch(`${base}/api/phones/1009/state`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: string }).error).toBe('no phone with extension "1009"; phones: 1001, 1002');
  });

  it('GET /api/events streams the state, then only what changed', async () => {
    const { base, panel } = await start();
    const ac = new AbortController();
    const res = await fetch(`${base}/api/events`, { signal: ac.signal });
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const reader = res.body!.getReader();
    let text = '';
    const until = async (needle: string) => {
      while (!text.includes(needle)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`stream ended before ${needle}`);
        text += Buffer.from(value).toString();
      }
    };
    await until('event: state\n');
    expect(text).toContain('event: info\ndata: {"ext":"1001"');
    panel.ringing = true;
    await until('event: change\n');
    await until('\n\n');
    const change = text.slice(text.indexOf('event: change\n'));
    expect(JSON.parse(/data: (.*)\n/.exec(change)![1]!)).toEqual({ ringer: true });
    ac.abort();
  });
});

describe('WebSocket', () => {
  it('says hello with the state and the LCD font, pushes changes, and takes taps and the hook', async () => {
    const { server, panel } = await start();
    const { ws, next } = await openSocket(`${server.url.replace('http', 'ws')}api/ws`);
    const hello = await next((m) => m.type === 'hello');
    if (hello.type !== 'hello') throw new Error('expected hello');
    expect(hello.info.ext).toBe('1001');
    expect(hello.phones).toEqual(['1001']);
    expect(hello.state.offHook).toBe(false);
    // 'A' in the 5x7 font, as 8 rows of 5 bits (the bottom row is the cursor line).
    expect(hello.font.A).toHaveLength(8);
    expect(hello.font.A?.[7]).toBe(0);
    ws.send(JSON.stringify({ type: 'hook', offHook: true }));
    const lifted = await next((m) => m.type === 'change' && m.changes.offHook === true);
    expect(lifted.type === 'change' && lifted.changes.leds).toEqual({ mwi: false, line: true });
    ws.send(JSON.stringify({ type: 'tap', key: '5' }));
    await next((m) => m.type === 'change' && (m.changes.lcd?.[1] ?? '').startsWith('5'));
    expect(panel.taps).toEqual(['5']);
    ws.send(JSON.stringify({ type: 'tap', key: '%' }));
    const err = await next((m) => m.type === 'error');
    expect(err.type === 'error' && err.message).toContain('unknown key "%"');
    ws.send('not json');
    await next((m) => m.type === 'error' && m.message === 'messages are JSON objects');
    ws.close();
  });

  it('refuses a connection from another site (Origin) and paths that are not a WebSocket', async () => {
    const { server } = await start();
    const wsBase = server.url.replace('http', 'ws');
    await expect(openSocket(`${wsBase}api/ws`, { origin: 'http://evil.example' })).rejects.toThrow(/403/);
    await expect(openSocket(`${wsBase}api/state`)).rejects.toThrow(/404/);
    const same = await openSocket(`${wsBase}api/phones/1001/ws`, { origin: server.url.replace(/\/$/, '') });
    same.ws.close();
  });
});

describe('page', () => {
  it('serves the page with a strict content security policy; --no-ui serves only /api', async () => {
    const { base } = await start();
    const res = await fetch(`${base}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/html');
    expect(res.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(await res.text()).toContain('<title>phone</title>');
    expect((await fetch(`${base}/app.js`)).headers.get('content-type')).toContain('text/javascript');
    expect((await fetch(`${base}/../etc/passwd`)).status).toBe(404);
    const headless = await start({ page: false });
    const off = await fetch(`${headless.base}/`);
    expect(off.status).toBe(404);
    expect(((await off.json()) as { error: string }).error).toContain('--no-ui');
    expect((await fetch(`${headless.base}/api/state`)).status).toBe(200);
  });

  it('fails to start with a clear error when the page files are missing or the port is taken', async () => {
    await expect(start({ assetsDir: join(assetsDir, 'nope') })).rejects.toThrow(/no index.html/);
    const { server } = await start();
    await expect(start({ port: server.port })).rejects.toThrow(/port is in use/);
  });
});

describe('password', () => {
  it('on loopback without a password: no credentials needed, but the Host must be a loopback name (DNS rebinding)', async () => {
    const { base } = await start();
    expect((await rawGet(`${base}/api/state`, { host: 'localhost' })).status).toBe(200);
    const rebound = await rawGet(`${base}/api/state`, { host: 'attacker.example:8080' });
    expect(rebound.status).toBe(403);
    expect(rebound.body).toContain('loopback host');
  });

  it('also listens on ::1', async () => {
    const { server } = await start({ address: '::1' });
    expect(server.url).toMatch(/^http:\/\/\[::1\]:\d+\/$/);
    expect((await fetch(`${server.url}api/state`)).status).toBe(200);
  });

  it('refuses a non-loopback address without a password before listening', async () => {
    await expect(start({ address: '0.0.0.0' })).rejects.toBeInstanceOf(EmulatorServerError);
    await expect(start({ address: '192.0.2.1' })).rejects.toThrow(/not a loopback address: set emulator.passwordHash/);
    await expect(start({ passwordHash: 'scrypt$nonsense' })).rejects.toThrow(/emulator.passwordHash/);
  });

  it('with a password: 401 without it or with a wrong one; HTTP Basic (any user) and Bearer pass', async () => {
    const { base, server } = await start({ passwordHash: hash });
    const none = await fetch(`${base}/api/state`);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toContain('Basic realm="offhook"');
    expect((await fetch(`${base}/`)).status).toBe(401);
    const basic = (user: string, pw: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${pw}`).toString('base64')}` });
    expect((await fetch(`${base}/api/state`, { headers: basic('admin', 'wrong') })).status).toBe(401);
    expect((await fetch(`${base}/api/state`, { headers: basic('admin', 's3cret pass') })).status).toBe(200);
    expect((await fetch(`${base}/api/state`, { headers: basic('', 's3cret pass') })).status).toBe(200);
    expect((await fetch(`${base}/api/state`, { headers: { authorization: 'Bearer s3cret' } })).status).toBe(401);
    expect((await post(`${base}/api/hook`, { offHook: true }, { authorization: 'Bearer s3cret pass' })).status).toBe(401); // a token has no spaces
    const wsBase = server.url.replace('http', 'ws');
    await expect(openSocket(`${wsBase}api/ws`)).rejects.toThrow(/401/);
    const ok = await openSocket(`${wsBase}api/ws`, { headers: basic('x', 's3cret pass') });
    await ok.next((m) => m.type === 'hello');
    ok.ws.close();
  });
});
