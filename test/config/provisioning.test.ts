// The Provisioner against a real node:http server on 127.0.0.1, on a virtual clock: ETag / Last-Modified, errors, refusals, redirects, the interval.
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../firmware/config/config.js';
import { createHttpFetch, FetchError } from '../../firmware/config/provisioning-fetch.js';
import {
  normalizeMac,
  primaryMac,
  Provisioner,
  provisioningRequestUrl,
  redactUrl,
  urlFromDhcpOption66,
  type ProvisioningOutcome,
} from '../../firmware/config/provisioning.js';
import { VirtualClock } from '../../firmware/util/clock.js';
import { REDACTED_KEYS } from '../../firmware/util/log.js';

const MAC = '001565abcd01';
const HOUR = 3_600_000;

const GOOD = `accounts:
  - aor: sip:1003@pbx.example.com
    password: s3cret-acct
log: { level: warn }
`;

interface TestServer {
  url: string;
  requests: { path: string; headers: IncomingHttpHeaders }[];
  handler: (req: IncomingMessage, res: ServerResponse) => void;
}

const servers: Server[] = [];
const provisioners: Provisioner[] = [];
afterEach(async () => {
  for (const p of provisioners.splice(0)) p.stop();
  await Promise.all(
    servers.splice(0).map((s) => {
      const closed = new Promise<void>((resolve) => s.close(() => resolve()));
      s.closeAllConnections();
      return closed;
    }),
  );
});

async function startServer(handler: TestServer['handler'] = (_req, res) => res.end(GOOD)): Promise<TestServer> {
  const t: TestServer = { url: '', requests: [], handler };
  const server = createServer((req, res) => {
    t.requests.push({ path: req.url ?? '', headers: req.headers });
    t.handler(req, res);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return t;
}

/** A logger that keeps its JSON lines, redacting like the phone's (util/log.ts). */
function memoryLog(): { log: pino.Logger; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(...chunk.toString().split('\n').filter((l) => l !== ''));
      cb();
    },
  });
  const log = pino({ level: 'debug', redact: { paths: REDACTED_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`]), censor: '[redacted]' } }, stream);
  return { log, lines };
}

interface Rig {
  provisioner: Provisioner;
  clock: VirtualClock;
  lines: string[];
  stateDir: string;
}

/** A local config file with the provisioning section given, loaded as the phone does at boot, and a Provisioner on it. */
function rig(provisioning: string, options: { extraLocal?: string; stateDir?: string; clock?: VirtualClock } = {}): Rig {
  const stateDir = options.stateDir ?? mkdtempSync(join(tmpdir(), 'offhook-prov-'));
  const localFile = join(stateDir, 'offhook.yaml');
  writeFileSync(localFile, `stateDir: ${stateDir}\nprovisioning:\n${provisioning}${options.extraLocal ?? ''}`);
  const clock = options.clock ?? new VirtualClock();
  const { log, lines } = memoryLog();
  const provisioner = new Provisioner({ clock, log, loaded: loadConfig(localFile, { provisioned: true }), mac: MAC, random: () => 0.5 });
  provisioners.push(provisioner);
  return { provisioner, clock, lines, stateDir };
}

function nextOutcome(p: Provisioner): Promise<ProvisioningOutcome> {
  return new Promise((resolve) => {
    const off = p.on('outcome', (o) => {
      off();
      resolve(o);
    });
  });
}

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
  if (!cond()) throw new Error('condition not met');
}

describe('provisioning URLs', () => {
  it('takes DHCP option 66 as a URL or a bare host, and refuses TFTP', () => {
    expect(urlFromDhcpOption66('prov.example.com\n')).toBe('http://prov.example.com/');
    expect(urlFromDhcpOption66('"10.0.0.5:8080/phones/"')).toBe('http://10.0.0.5:8080/phones/');
    expect(urlFromDhcpOption66('https://prov.example.com/cfg/{mac}.yaml')).toBe('https://prov.example.com/cfg/%7Bmac%7D.yaml');
    expect(urlFromDhcpOption66('  \n')).toBeUndefined();
    expect(() => urlFromDhcpOption66('tftp://10.0.0.5/')).toThrow('tftp:// is not supported (http:// and https:// are)');
  });

  it('puts the MAC into {mac}, and fetches <mac>.yaml from a directory URL', () => {
    expect(provisioningRequestUrl('http://prov/phones/{mac}.yaml', MAC)).toBe(`http://prov/phones/${MAC}.yaml`);
    expect(provisioningRequestUrl('http://prov/phones/', MAC)).toBe(`http://prov/phones/${MAC}.yaml`);
    expect(provisioningRequestUrl('http://u:p@prov/', MAC)).toBe(`http://u:p@prov/${MAC}.yaml`);
    expect(provisioningRequestUrl('http://prov/phone.yaml', undefined)).toBe('http://prov/phone.yaml');
    expect(() => provisioningRequestUrl('http://prov/{mac}.yaml', undefined)).toThrow('the URL needs the MAC address');
    // A URL-encoded template, as urlFromDhcpOption66 gives it, works the same.
    expect(provisioningRequestUrl('https://prov.example.com/cfg/%7Bmac%7D.yaml', MAC)).toBe('https://prov.example.com/cfg/%7Bmac%7D.yaml');
  });

  it('logs URLs without credentials or query', () => {
    expect(redactUrl('https://admin:hunter2@prov.example.com/a.yaml?token=abc')).toBe('https://prov.example.com/a.yaml?…');
    expect(redactUrl('nonsense')).toBe('(not a URL)');
  });

  it('names the phone by the wired interface MAC in 12 lower-case hex digits', () => {
    expect(normalizeMac('00:15:65:AB:CD:01')).toBe(MAC);
    expect(normalizeMac('nope')).toBeUndefined();
    const info = (mac: string, internal = false) => ({ address: '10.0.0.2', netmask: '255.0.0.0', family: 'IPv4' as const, mac, internal, cidr: null });
    expect(primaryMac({ lo: [info('00:00:00:00:00:00', true)], wlan0: [info('b8:27:eb:00:00:02')], eth0: [info('B8:27:EB:00:00:01')] })).toBe('b827eb000001');
    expect(primaryMac({ wlan0: [info('b8:27:eb:00:00:02')] })).toBe('b827eb000002');
    expect(primaryMac({ lo: [info('00:00:00:00:00:00', true)] })).toBeUndefined();
  });
});

describe('Provisioner', () => {
  it('fetches at start, validates, caches atomically (0600) with its ETag, and emits the merged config; the local file wins', async () => {
    const server = await startServer((_req, res) => {
      res.setHeader('ETag', '"v1"');
      res.end(GOOD);
    });
    const r = rig(`  url: ${server.url}/phones/{mac}.yaml\n`, { extraLocal: 'log: { level: debug }\n' });
    const configs: unknown[] = [];
    r.provisioner.on('config', (c) => configs.push(c));
    const outcome = await r.provisioner.start();
    expect(outcome.kind).toBe('updated');
    expect(server.requests[0]?.path).toBe(`/phones/${MAC}.yaml`);
    expect(server.requests[0]?.headers['if-none-match']).toBeUndefined();
    expect(configs).toHaveLength(1);
    expect(r.provisioner.current.accounts[0]?.aor).toBe('sip:1003@pbx.example.com');
    expect(r.provisioner.current.log.level).toBe('debug');
    const cache = join(r.stateDir, 'provisioned.yaml');
    expect(readFileSync(cache, 'utf8')).toBe(GOOD);
    expect(statSync(cache).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(`${cache}.meta.json`, 'utf8'))).toMatchObject({ url: `${server.url}/phones/${MAC}.yaml`, etag: '"v1"' });
    expect(r.lines.join('\n')).not.toContain('s3cret-acct');
  });

  it('sends If-None-Match from the last good fetch, across a reboot, and keeps the config on 304', async () => {
    let etag = '"v1"';
    const server = await startServer((req, res) => {
      if (req.headers['if-none-match'] === etag) {
        res.statusCode = 304;
        res.end();
        return;
      }
      res.setHeader('ETag', etag);
      res.end(GOOD);
    });
    const first = rig(`  url: ${server.url}/p.yaml\n`);
    expect((await first.provisioner.start()).kind).toBe('updated');
    first.provisioner.stop();
    // Reboot: the phone starts on the cached config and asks with its validator.
    const second = rig(`  url: ${server.url}/p.yaml\n`, { stateDir: first.stateDir });
    expect(second.provisioner.current.accounts).toHaveLength(1);
    const events: string[] = [];
    second.provisioner.on('config', () => events.push('config'));
    second.provisioner.on('unchanged', () => events.push('unchanged'));
    expect((await second.provisioner.start()).kind).toBe('unchanged');
    expect(server.requests[1]?.headers['if-none-match']).toBe('"v1"');
    expect(events).toEqual(['unchanged']);
    // A new version on the server: 200 again, applied.
    etag = '"v2"';
    server.handler = (_req, res) => {
      res.setHeader('ETag', etag);
      res.end(GOOD.replace('level: warn', 'level: error'));
    };
    const o = await second.provisioner.fetchNow();
    expect(o.kind).toBe('updated');
    expect(second.provisioner.current.log.level).toBe('error');
  });

  it('sends If-Modified-Since when the server gives Last-Modified; the same body again is "unchanged"', async () => {
    const lastModified = 'Wed, 01 Jan 2026 09:00:00 GMT';
    const server = await startServer((_req, res) => {
      res.setHeader('Last-Modified', lastModified);
      res.end(GOOD);
    });
    const r = rig(`  url: ${server.url}/p.yaml\n`);
    await r.provisioner.start();
    const configs: unknown[] = [];
    r.provisioner.on('config', (c) => configs.push(c));
    expect((await r.provisioner.fetchNow()).kind).toBe('unchanged');
    expect(server.requests[1]?.headers['if-modified-since']).toBe(lastModified);
    expect(configs).toEqual([]);
  });

  it.each([
    [404, 'no config at this URL (404)'],
    [500, 'HTTP status 500'],
    [401, 'access refused (401)'],
  ])('keeps the last good config on %i, and retries after 1 min, doubling', async (status, reason) => {
    const server = await startServer();
    const r = rig(`  url: ${server.url}/p.yaml\n`);
    await r.provisioner.start();
    server.handler = (_req, res) => {
      res.statusCode = status;
      res.end('nope');
    };
    const before = r.provisioner.current;
    const o = await r.provisioner.fetchNow();
    expect(o).toEqual({ kind: 'failed', url: `${server.url}/p.yaml`, status, reason });
    expect(r.provisioner.current).toBe(before);
    expect(r.provisioner.nextFetchAt).toBe(r.clock.now() + 60_000);
    const next = nextOutcome(r.provisioner);
    await r.clock.advance(60_000);
    await next;
    expect(server.requests).toHaveLength(3);
    expect(r.provisioner.nextFetchAt).toBe(r.clock.now() + 120_000);
    expect(r.lines.some((l) => l.includes('provisioning fetch failed; keeping the current config') && l.includes(reason))).toBe(true);
  });

  it('gives up on a server that does not answer within timeoutS (on the clock)', async () => {
    const server = await startServer(() => undefined);
    const r = rig(`  url: ${server.url}/p.yaml\n  timeoutS: 10\n`);
    const pending = r.provisioner.start();
    await until(() => server.requests.length === 1);
    await r.clock.advance(10_000);
    expect(await pending).toMatchObject({ kind: 'failed', reason: 'timeout: no answer within 10000 ms' });
  });

  it('refuses a body over 1 MiB, declared or streamed', async () => {
    const big = `# ${'x'.repeat(1024 * 1024)}\n`;
    const server = await startServer((_req, res) => res.end(big));
    const r = rig(`  url: ${server.url}/p.yaml\n`);
    expect(await r.provisioner.start()).toMatchObject({ kind: 'failed', reason: 'too-large: the config is 1048579 bytes, more than the 1048576 allowed' });
    server.handler = (_req, res) => {
      res.write(big.slice(0, 600_000));
      res.end(big.slice(600_000));
    };
    expect(await r.provisioner.fetchNow()).toMatchObject({ kind: 'failed', reason: 'too-large: the config is more than the 1048576 bytes allowed' });
  });

  it('refuses invalid YAML with a log line naming it, and keeps the last good config and cache', async () => {
    const server = await startServer();
    const r = rig(`  url: ${server.url}/p.yaml\n`);
    await r.provisioner.start();
    const good = r.provisioner.current;
    server.handler = (_req, res) => res.end('accounts:\n  - aor: sip:1@x\n   password: [unclosed\n');
    const refused: string[] = [];
    r.provisioner.on('refused', (err) => refused.push(err.message));
    const o = await r.provisioner.fetchNow();
    expect(o.kind).toBe('refused');
    expect(refused[0]).toMatch(new RegExp(`^${server.url}/p\\.yaml:\\d+:\\d+: YAML syntax`));
    expect(r.provisioner.current).toBe(good);
    expect(readFileSync(join(r.stateDir, 'provisioned.yaml'), 'utf8')).toBe(GOOD);
    expect(r.lines.some((l) => l.includes('provisioned config refused; keeping the last good one') && l.includes('YAML syntax'))).toBe(true);
    // A refusal is not a failure: the next fetch is at the interval.
    expect(r.provisioner.nextFetchAt).toBe(r.clock.now() + 24 * HOUR);
  });

  it('refuses a schema error with the line and column in the fetched document, never showing a password', async () => {
    const server = await startServer((_req, res) => res.end(`${GOOD}media:\n  codecs: [opus, G722]\naccounts2: 1\n`.replace('password: s3cret-acct', 'password: 4242')));
    const r = rig(`  url: ${server.url}/p.yaml\n`);
    const o = await r.provisioner.start();
    if (o.kind !== 'refused') throw new Error(`refused expected, got ${o.kind}`);
    expect(o.error.message.split('\n')).toEqual([
      `${server.url}/p.yaml:7:12: accounts2: unknown field "accounts2" (known: board, log, display, accounts, sip, media, tones, dialPlan, phonebook, features, stateDir, provisioning, emulator, phones)`,
      `${server.url}/p.yaml:3:15: accounts[0].password: expected a string (quote a secret made of digits: "0123"), got a number (value not shown)`,
      `${server.url}/p.yaml:6:18: media.codecs[1]: G722 is not available: this build has no G.722 codec (no G.722 library is linked); use opus for wideband audio (one of "opus", "PCMU", "PCMA")`,
    ]);
    expect(r.lines.join('\n')).not.toContain('4242');
  });

  it('follows redirects (at most 5), and does not carry basic auth to another origin', async () => {
    const target = await startServer();
    const server = await startServer((req, res) => {
      if (req.url === '/p.yaml') {
        res.statusCode = 302;
        res.setHeader('Location', '/moved.yaml');
      } else if (req.url === '/moved.yaml') {
        res.statusCode = 301;
        res.setHeader('Location', `${target.url}/final.yaml`);
      }
      res.end();
    });
    const r = rig(`  url: ${server.url}/p.yaml\n  username: phone\n  password: "pw-prov"\n`);
    expect((await r.provisioner.start()).kind).toBe('updated');
    const basic = `Basic ${Buffer.from('phone:pw-prov').toString('base64')}`;
    expect(server.requests.map((q) => [q.path, q.headers.authorization])).toEqual([
      ['/p.yaml', basic],
      ['/moved.yaml', basic],
    ]);
    expect(target.requests.map((q) => [q.path, q.headers.authorization])).toEqual([['/final.yaml', undefined]]);
    expect(r.lines.join('\n')).not.toMatch(/pw-prov|cGhvbmU6cHctcHJvdg/);

    server.handler = (_req, res) => {
      res.statusCode = 307;
      res.setHeader('Location', '/again');
      res.end();
    };
    expect(await r.provisioner.fetchNow()).toMatchObject({ kind: 'failed', reason: 'redirects: more than 5 redirects' });
    expect(server.requests).toHaveLength(2 + 6);
  });

  it('takes basic auth from user:password in the URL, and never logs them', async () => {
    const server = await startServer((req, res) => {
      if (req.headers.authorization !== `Basic ${Buffer.from('ph:se cret').toString('base64')}`) res.statusCode = 401;
      res.end(GOOD);
    });
    const r = rig(`  url: "${server.url.replace('//', '//ph:se%20cret@')}/p.yaml"\n`);
    expect((await r.provisioner.start()).kind).toBe('updated');
    expect(r.lines.join('\n')).not.toMatch(/se%20cret|se cret/);
  });

  it('fetches <mac>.yaml from the host DHCP option 66 names, when the config has no URL', async () => {
    const server = await startServer();
    const stateDir = mkdtempSync(join(tmpdir(), 'offhook-prov-'));
    const option66 = join(stateDir, 'dhcp-option-66');
    writeFileSync(option66, `${server.url.replace('http://', '')}\n`);
    const r = rig(`  dhcpOption66File: ${option66}\n`, { stateDir });
    expect((await r.provisioner.start()).kind).toBe('updated');
    expect(server.requests[0]?.path).toBe(`/${MAC}.yaml`);
  });

  it('is disabled without a URL (no option 66 file either), and looks again at the interval', async () => {
    const r = rig(`  dhcpOption66File: /nonexistent/dhcp-option-66\n`);
    expect(await r.provisioner.start()).toEqual({ kind: 'disabled' });
    expect(r.provisioner.nextFetchAt).toBe(24 * HOUR);
  });

  it('fetches every intervalH with ±10 % jitter on the clock', async () => {
    const server = await startServer((_req, res) => res.end(GOOD));
    const clock = new VirtualClock();
    const stateDir = mkdtempSync(join(tmpdir(), 'offhook-prov-'));
    writeFileSync(join(stateDir, 'offhook.yaml'), `stateDir: ${stateDir}\nprovisioning:\n  url: ${server.url}/p.yaml\n  intervalH: 24\n`);
    const { log } = memoryLog();
    let random = 0;
    const p = new Provisioner({ clock, log, loaded: loadConfig(join(stateDir, 'offhook.yaml'), { provisioned: true }), mac: MAC, random: () => random });
    provisioners.push(p);
    await p.start();
    expect(p.nextFetchAt).toBe(0.9 * 24 * HOUR);
    random = 0.999;
    const next = nextOutcome(p);
    await clock.advance(0.9 * 24 * HOUR - 1);
    expect(server.requests).toHaveLength(1);
    await clock.advance(1);
    await next;
    expect(server.requests).toHaveLength(2);
    expect(p.nextFetchAt).toBeCloseTo(clock.now() + 1.0998 * 24 * HOUR, 0);
  });

  it('follows an interval the server sets when the local file leaves it', async () => {
    const server = await startServer((_req, res) => res.end(`${GOOD}provisioning: { intervalH: 2 }\n`));
    const r = rig(`  url: ${server.url}/p.yaml\n`);
    await r.provisioner.start();
    expect(r.provisioner.current.provisioning).toMatchObject({ url: `${server.url}/p.yaml`, intervalH: 2 });
    expect(r.provisioner.nextFetchAt).toBe(2 * HOUR);
    const next = nextOutcome(r.provisioner);
    await r.clock.advance(2 * HOUR);
    expect((await next).kind).toBe('unchanged');
  });
});

describe('createHttpFetch', () => {
  it('reports a connection refused as a network failure', async () => {
    const server = await startServer();
    const url = `${server.url}/p.yaml`;
    await new Promise<void>((resolve) => servers.pop()?.close(() => resolve()));
    const fetch = createHttpFetch({ clock: new VirtualClock() });
    await expect(fetch({ url, headers: {}, timeoutMs: 1000, maxBytes: 100, maxRedirects: 0 })).rejects.toBeInstanceOf(FetchError);
  });

  it('refuses a redirect to another scheme', async () => {
    const server = await startServer((_req, res) => {
      res.statusCode = 302;
      res.setHeader('Location', 'ftp://127.0.0.1/x');
      res.end();
    });
    const fetch = createHttpFetch({ clock: new VirtualClock() });
    await expect(fetch({ url: `${server.url}/p`, headers: {}, timeoutMs: 1000, maxBytes: 100, maxRedirects: 5 })).rejects.toMatchObject({ code: 'bad-url' });
  });
});
