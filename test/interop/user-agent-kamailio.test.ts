// The UserAgent against a real Kamailio: digest registration over UDP, TCP and IPv6, refreshes, a wrong password without a retry storm, unregister, CRLF keep-alives, a lost flow, and our pcap read by tshark.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RegistrationState } from '../../firmware/sip/ua/index.js';
import { type KamailioInstance, startKamailio } from './support/kamailio.js';
import { readSipPcap, readTcpPayloads, sipLadder, startCapture } from './support/tshark.js';
import { type TestUa, type TestUaOptions, startTestUa, waitUntil } from './support/user-agent.js';

const DOMAIN = 'test.local';

describe('UserAgent against Kamailio', () => {
  let kamailio: KamailioInstance | undefined;
  let dir = '';
  const running: TestUa[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'offhook-ua-kamailio-'));
    // min_expires 1 s, so that refreshes of a 2 s binding can be watched within the test.
    kamailio = await startKamailio({ ctl: true, ipv6: true, minExpiresS: 1 });
  });

  afterEach(async () => {
    for (const t of running.splice(0)) await t.stop();
  });

  afterAll(async () => {
    await kamailio?.stop();
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  const k = (): KamailioInstance => {
    if (!kamailio) throw new Error('kamailio did not start (see beforeAll)');
    return kamailio;
  };

  async function ua(user: string, options: Omit<TestUaOptions, 'transport'> & { password?: string; over?: 'udp' | 'tcp'; expiresS?: number; registrar?: string } = {}): Promise<TestUa> {
    const { password, over: transport, expiresS, registrar, ...rest } = options;
    const t = await startTestUa({
      accounts: [{ id: 'line', aor: `sip:${user}@${DOMAIN}`, password: password ?? `pw${user}`, registrar: registrar ?? `sip:${k().hostPort}`, transport, expiresS }],
      logFile: join(dir, `ua-${user}-${Date.now()}.log`),
      ...rest,
    });
    running.push(t);
    return t;
  }

  /** Kamailio's log lines for REGISTERs it received from one of our ports. */
  const registersInLog = (fromPort: number): number => k().readLog().split('\n').filter((l) => l.includes(`RX REGISTER `) && l.includes(`from 127.0.0.1:${fromPort} `)).length;

  it('registers over UDP (401 → 200), is in the location table, unregisters on stop; tshark reads the same ladder from our pcap as from the wire', async () => {
    const capture = await startCapture({ ports: [k().port] });
    try {
      const pcapFile = join(dir, 'ua-udp.pcap');
      const t = await ua('1001', { trace: { pcapFile } });
      const status = await t.waitForLine('line', 'registered', 5000);
      expect(t.registrations.map((e) => e.line.state)).toEqual(['registering', 'registered']);
      expect(status.flow).toEqual({ protocol: 'udp', address: '127.0.0.1', port: k().port });
      expect(status.registration).toMatchObject({ state: RegistrationState.Registered, expiresS: 3600 });
      const contact = `sip:1001@127.0.0.1:${t.port('udp')}`;
      expect((await k().locationContacts()).filter((c) => c.aor === '1001')).toMatchObject([{ address: contact, socket: `udp:127.0.0.1:${k().port}`, userAgent: 'offhook-interop' }]);
      expect(k().readLog()).toContain(`REGISTER sip:1001@test.local contact=<${contact}>`);

      // Unregister on stop: bounded, and the binding is gone from Kamailio's table.
      const stopStarted = Date.now();
      await t.stop();
      // Bounded by the unregister timeout (2 s) plus closing the sockets.
      expect(Date.now() - stopStarted).toBeLessThan(3000);
      expect((await k().locationContacts()).filter((c) => c.aor === '1001')).toEqual([]);
      const unregister = t.sent('REGISTER').at(-1);
      expect([unregister?.expires, unregister?.contact[0]?.params.get('expires')]).toEqual([0, '0']);

      // Our pcap, a loopback capture of the wire and our trace events tell the same story.
      const ours = sipLadder(await readSipPcap(pcapFile, { ports: [k().port] }));
      const wire = sipLadder(await readSipPcap(await capture.stop(), { ports: [k().port] }));
      expect(ours.slice(0, 4)).toEqual(['REGISTER', '401 REGISTER', 'REGISTER', '200 REGISTER']);
      expect(ours.at(-1)).toBe('200 REGISTER');
      expect(wire).toEqual(ours);
      expect(t.ladder()).toEqual(ours);
    } finally {
      await capture.stop();
      capture.removeFile();
    }
  });

  it('refreshes a short binding before it expires (Kamailio min_expires 1 s, 2 s asked)', async () => {
    const t = await ua('1002', { expiresS: 2 });
    await t.waitForLine('line', 'registered', 5000);
    const registered = (): { atMs: number; expiresS: number }[] =>
      t.registrations.flatMap((e) => (e.registration.state === RegistrationState.Registered ? [{ atMs: e.registration.expiresAtMs - e.registration.expiresS * 1000, expiresS: e.registration.expiresS }] : []));
    await waitUntil(() => registered().length >= 4, { timeoutMs: 10_000, what: () => `three refreshes (${registered().length - 1} so far; ${t.ladder().join(', ')})` });
    const times = registered();
    expect(times.every((r) => r.expiresS === 2)).toBe(true);
    const gaps = times.slice(1).map((r, i) => r.atMs - (times[i]?.atMs ?? 0));
    // RFC 3261 §10.2.4: each refresh lands at 45-50 % of the 2 s, far from the expiry.
    for (const g of gaps) {
      expect(g, `gaps between registrations ${gaps.join(', ')} ms`).toBeGreaterThanOrEqual(850);
      expect(g, `gaps between registrations ${gaps.join(', ')} ms`).toBeLessThan(2000);
    }
    // The line never left "registered" while refreshing.
    expect(t.registrations.slice(1).every((e) => e.line.state === 'registered')).toBe(true);
    const sent = t.sent('REGISTER').length;
    const port = t.port('udp');
    await t.stop();
    // Kamailio saw every REGISTER we sent (the unregister included), no more.
    expect(registersInLog(port)).toBe(t.sent('REGISTER').length);
    // The first registration costs a 401 round; each refresh at most one more (reused nonce, or one new challenge).
    expect(sent, t.ladder().join(', ')).toBeLessThanOrEqual(2 + 2 * (times.length - 1));
  });

  it('a wrong password is a failed line with the reason, retried with backoff: no REGISTER storm', async () => {
    const retryBaseMs = 250;
    const windowMs = 3000;
    const t = await ua('1003', { password: 'wrong', registration: { retryBaseMs, retryMaxMs: 4000 } });
    const failed = await t.waitForLine('line', 'failed', 5000);
    expect(failed.line).toMatchObject({ state: 'failed', cause: 'wrong-credentials', statusCode: 401, reason: 'wrong user name or password (401 Unauthorized)' });
    const firstAt = t.traces[0]?.wallTimeMs ?? Date.now();
    // Counting over a window is the point of this test, so it does wait for the window to pass.
    await sleep(Math.max(0, firstAt + windowMs - Date.now()));
    const inWindow = t.traces.filter((r) => r.direction === 'out' && r.wallTimeMs <= firstAt + windowMs).length;
    // RFC 5626 §4.5: the n-th retry comes at least base * (2^n - 1) after the first failure, so within
    // the window at most n retries with base * (2^n - 1) <= window; each attempt is 2 REGISTERs (401 twice).
    const maxRetries = Math.floor(Math.log2(windowMs / retryBaseMs + 1));
    const bound = 2 * (1 + maxRetries);
    expect(inWindow, `REGISTERs in ${windowMs} ms: ${inWindow} (bound ${bound}); ${t.ladder().join(', ')}`).toBeGreaterThanOrEqual(2);
    expect(inWindow).toBeLessThanOrEqual(bound);
    expect(t.registrations.filter((e) => e.line.state === 'failed').length).toBeGreaterThanOrEqual(1);
    expect((await k().locationContacts()).filter((c) => c.aor === '1003')).toEqual([]);
    expect(k().readLog()).toMatch(/AUTH failed .* au=1003/);
  });

  it('registers over TCP, keeps the flow open with CRLF pings Kamailio answers, and unregisters on the same connection', async () => {
    const capture = await startCapture({ ports: [k().port] });
    try {
      const t = await ua('1004', { over: 'tcp', keepAlive: { streamIntervalMs: 200, pongTimeoutMs: 1500 } });
      const status = await t.waitForLine('line', 'registered', 5000);
      expect(status.flow).toEqual({ protocol: 'tcp', address: '127.0.0.1', port: k().port });
      const contact = `sip:1004@127.0.0.1:${t.port('tcp')};transport=tcp`;
      const table = (await k().locationContacts()).filter((c) => c.aor === '1004');
      expect(table.map((c) => [c.address.toLowerCase(), c.socket])).toEqual([[contact, `tcp:127.0.0.1:${k().port}`]]);
      // Longer than the first ping (at most 200 ms) plus the pong timeout: a missing pong would have closed the flow by now.
      await sleep(2000);
      expect(t.lost).toEqual([]);
      expect(t.sent('REGISTER')).toHaveLength(2);
      await t.stop();
      expect((await k().locationContacts()).filter((c) => c.aor === '1004')).toEqual([]);
      const segments = await readTcpPayloads(await capture.stop());
      const uaEnd = `127.0.0.1:${segments.find((s) => s.destination === `127.0.0.1:${k().port}`)?.source.split(':')[1] ?? '?'}`;
      const pings = segments.filter((s) => s.source === uaEnd && s.payload.toString('latin1') === '\r\n\r\n');
      const pongs = segments.filter((s) => s.destination === uaEnd && s.payload.toString('latin1') === '\r\n');
      expect(pings.length, `${pings.length} pings, ${pongs.length} pongs`).toBeGreaterThanOrEqual(5);
      expect(pongs.length).toBeGreaterThanOrEqual(pings.length - 1);
      // Every SIP message went over that one connection.
      const sip = await readSipPcap(capture.file, { ports: [k().port] });
      expect(sip.every((p) => p.transport === 'tcp' && (p.source === uaEnd || p.destination === uaEnd))).toBe(true);
    } finally {
      await capture.stop();
      capture.removeFile();
    }
  });

  it('registers over IPv6 to [::1] from a dual-stack UA: Via, Contact and flow are IPv6, and OPTIONS pings keep the UDP flow', async () => {
    const t = await ua('1001', {
      listen: [
        { protocol: 'udp', address: '127.0.0.1', port: 0 },
        { protocol: 'udp', address: '::1', port: 0 },
        { protocol: 'tcp', address: '127.0.0.1', port: 0 },
      ],
      registrar: `sip:[::1]:${k().port}`,
      keepAlive: { udpOptionsIntervalMs: 200 },
    });
    const status = await t.waitForLine('line', 'registered', 5000);
    // The UDP flow is kept open with OPTIONS pings, which Kamailio answers 200 (its keep-alive route).
    await waitUntil(() => t.messages().some((m) => m.direction === 'in' && m.message.kind === 'response' && m.message.cseq.method === 'OPTIONS' && m.message.status === 200), {
      timeoutMs: 3000,
      what: () => `a 200 to an OPTIONS ping (${t.ladder().join(', ')})`,
    });
    expect(t.lost).toEqual([]);
    expect(status.flow).toEqual({ protocol: 'udp', address: '::1', port: k().port });
    const v6Port = t.ua.localAddress('udp', 6)?.port;
    const sent = [...t.sent('REGISTER'), ...t.sent('OPTIONS')];
    // RFC 3261 §18.1.1: the sent-by is the address the request leaves from.
    expect(new Set(sent.map((r) => r.topVia.sentBy))).toEqual(new Set([`[::1]:${v6Port}`]));
    expect((await k().locationContacts()).filter((c) => c.aor === '1001')).toMatchObject([{ address: `sip:1001@[::1]:${v6Port}`, socket: `udp:[::1]:${k().port}` }]);
    await t.stop();
    expect((await k().locationContacts()).filter((c) => c.aor === '1001')).toEqual([]);
  });
});

describe('UserAgent and a Kamailio that restarts', () => {
  it('sees the TCP flow go when the server stops, reports it, retries with backoff, and registers again once it is back', async () => {
    let k2 = await startKamailio();
    const port = k2.port;
    let t: TestUa | undefined;
    try {
      t = await startTestUa({
        accounts: [{ id: 'line', aor: `sip:1002@${DOMAIN}`, password: 'pw1002', registrar: `sip:127.0.0.1:${port}`, transport: 'tcp' }],
        registration: { retryBaseMs: 500, retryMaxMs: 2000 },
        // T1 100 ms: Timer F 6.4 s, for a REGISTER that went into the dying server's backlog.
        timers: { t1Ms: 100 },
      });
      const ua = t;
      await ua.waitForLine('line', 'registered', 5000);
      await k2.stop();
      await waitUntil(() => ua.lost.length > 0, { timeoutMs: 5000, what: 'the flow-lost event' });
      expect(ua.lost[0]).toMatchObject({ accountId: 'line', reason: 'connection-closed', target: { protocol: 'tcp', address: '127.0.0.1', port } });
      // RFC 5626 §4.4.1: it registered again at once, which cannot succeed while the server is down.
      const failed = (await ua.waitForLine('line', 'failed', 10_000)).line;
      expect(failed.state === 'failed' ? failed.cause : failed.state).toMatch(/^(transport-error|timeout)$/);
      k2 = await startKamailio({ port });
      await ua.waitForLine('line', 'registered', 10_000);
      const connections = new Set(ua.traces.filter((r) => r.direction === 'out').map((r) => r.connectionId));
      expect(connections.size).toBeGreaterThanOrEqual(2);
      expect(ua.registrations.map((e) => e.line.state).slice(0, 4)).toEqual(['registering', 'registered', 'registering', 'failed']);
    } finally {
      await t?.stop();
      await k2.stop();
    }
  });
});
