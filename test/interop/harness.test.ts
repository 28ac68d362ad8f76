// Self-tests of the interop harness: real Kamailio and SIPp start, talk, and stop by pid leaving nothing behind.
import { createSocket } from 'node:dgram';
import { existsSync, rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MissingToolError, PeerStartError } from './support/errors.js';
import { freePort } from './support/free-port.js';
import { type KamailioInstance, startKamailio } from './support/kamailio.js';
import { procState } from './support/process.js';
import { optionsRequest, probeSip } from './support/sip-probe.js';
import { runSipp, startSipp } from './support/sipp.js';
import { findTool } from './support/tools.js';
import { readSipPcap, sipLadder, startCapture } from './support/tshark.js';

describe('Kamailio + SIPp harness', () => {
  let kamailio: KamailioInstance | undefined;

  beforeAll(async () => {
    kamailio = await startKamailio();
  });

  afterAll(async () => {
    await kamailio?.stop();
  });

  const k = (): KamailioInstance => {
    if (!kamailio) throw new Error('kamailio did not start (see beforeAll)');
    return kamailio;
  };

  it('Kamailio answers OPTIONS to itself with 200 (raw probe and SIPp uac-options)', async () => {
    const answer = await probeSip({ host: '127.0.0.1', port: k().port, request: optionsRequest('127.0.0.1', k().port) });
    expect(answer?.status).toBe(200);
    expect(answer?.headers.get('server')).toEqual(['offhook-interop-kamailio']);
    const sipp = await runSipp({ scenario: 'uac-options', target: k().hostPort, timeoutMs: 8000 });
    expect(sipp.ok, sipp.summary).toBe(true);
    expect(sipp.actionLog).toMatch(/200 to OPTIONS/);
  });

  it('SIPp reg-auth registers 1001 with a 401 → 200 flow, seen on the wire by tshark', async () => {
    const capture = await startCapture({ ports: [k().port] });
    try {
      const sipp = await runSipp({
        scenario: 'reg-auth',
        target: k().hostPort,
        service: '1001',
        authPassword: 'pw1001',
        keys: { domain: 'test.local', contact: '127.0.0.1:5999', expires: 60 },
        timeoutMs: 8000,
      });
      expect(sipp.ok, sipp.summary).toBe(true);
      expect(sipp.stats?.successful).toBe(1);
      const packets = await readSipPcap(await capture.stop(), { ports: [k().port] });
      expect(sipLadder(packets)).toEqual(['REGISTER', '401 REGISTER', 'REGISTER', '200 REGISTER']);
      expect(packets.every((p) => p.source.startsWith('127.0.0.1:') && p.destination.startsWith('127.0.0.1:'))).toBe(true);
      expect(k().readLog()).toMatch(/REGISTER sip:1001@test\.local contact=<sip:1001@127\.0\.0\.1:5999;transport=UDP>/);
    } finally {
      await capture.stop();
      capture.removeFile();
    }
  });

  it('a wrong password is challenged again and the SIPp run fails', async () => {
    const sipp = await runSipp({ scenario: 'reg-auth', target: k().hostPort, service: '1002', authPassword: 'wrong', keys: { domain: 'test.local', contact: '127.0.0.1:5999', expires: 60 }, timeoutMs: 8000 });
    expect(sipp.ok).toBe(false);
    expect(sipp.code).toBe(1);
    expect(sipp.stats?.failed).toBe(1);
  });

  it('a call through the proxy: 1003 registered as a SIPp UAS, 1004 calls it with 407 auth, record-routed BYE', async () => {
    const uas = await startSipp({ scenario: 'uas-answer', service: '1003', pauseMs: 5000 });
    try {
      const reg = await runSipp({ scenario: 'reg-auth', target: k().hostPort, service: '1003', authPassword: 'pw1003', keys: { domain: 'test.local', contact: uas.hostPort, expires: 60 }, timeoutMs: 8000 });
      expect(reg.ok, reg.summary).toBe(true);
      const call = await runSipp({
        scenario: 'uac-call',
        target: k().hostPort,
        service: '1003',
        authUser: '1004',
        authPassword: 'pw1004',
        pauseMs: 200,
        keys: { caller: '1004', domain: 'test.local' },
        timeoutMs: 8000,
      });
      expect(call.ok, call.summary).toBe(true);
      expect(call.messageLog).toMatch(/SIP\/2\.0 407 /);
      expect(call.messageLog).toMatch(/Record-Route: <sip:127\.0\.0\.1:\d+;lr>/);
      const answered = await uas.done;
      expect(answered.ok, answered.summary).toBe(true);
    } finally {
      await uas.stop();
    }
  });

  it('a SIPp UAS in the background answers a SIPp UAC, and stop() by pid ends a waiting one', async () => {
    const uas = await startSipp({ scenario: 'uas-busy', service: '1003' });
    const uac = await runSipp({ scenario: 'uac-expect-fail', target: uas.hostPort, service: '1003', keys: { caller: '1004', domain: uas.hostPort }, globals: { expected: 486 }, timeoutMs: 8000 });
    expect(uac.ok, uac.summary).toBe(true);
    const uasResult = await uas.done;
    expect(uasResult.ok, uasResult.summary).toBe(true);
    expect(procState(uas.pid)).not.toBe('running');

    const idle = await startSipp({ scenario: 'uas-answer', service: '1003' });
    expect(procState(idle.pid)).toBe('running');
    const stopped = await idle.stop();
    expect(stopped.stats?.successful).toBe(0);
    expect(procState(idle.pid)).not.toBe('running');
  });
});

describe('SIPp calls', () => {
  it('uac-call → uas-answer directly (the UAS streams the generated u-law tone): 180, 200 with SDP, ACK, BYE', async () => {
    const uas = await startSipp({ scenario: 'uas-answer', service: '1003', pauseMs: 5000 });
    try {
      const uac = await runSipp({ scenario: 'uac-call', target: uas.hostPort, service: '1003', pauseMs: 300, keys: { caller: '1004', domain: uas.hostPort }, timeoutMs: 8000 });
      expect(uac.ok, uac.summary).toBe(true);
      const answered = await uas.done;
      expect(answered.ok, answered.summary).toBe(true);
      expect(answered.actionLog).toMatch(/caller sent BYE/);
    } finally {
      await uas.stop();
    }
  });

  it('uac-cancel → uas-ring-cancel: 180, CANCEL, 200, 487, ACK', async () => {
    const uas = await startSipp({ scenario: 'uas-ring-cancel', service: '1003' });
    try {
      const uac = await runSipp({ scenario: 'uac-cancel', target: uas.hostPort, service: '1003', pauseMs: 200, keys: { caller: '1004', domain: uas.hostPort }, timeoutMs: 8000 });
      expect(uac.ok, uac.summary).toBe(true);
      expect((await uas.done).ok).toBe(true);
    } finally {
      await uas.stop();
    }
  });
});

describe('Kamailio lifecycle', () => {
  it('stops by pid: the main process and every worker are gone, the run dir removed', async () => {
    const instance = await startKamailio({ ipv6: true, siptrace: true, ctl: true });
    expect(instance.workerPids.length).toBeGreaterThan(0);
    const v6 = await probeSip({ host: '::1', port: instance.port, request: optionsRequest('::1', instance.port) });
    expect(v6?.status).toBe(200);
    // WITH_SIPTRACE logs every request in full
    expect(instance.readLog()).toMatch(/RX OPTIONS sip:\[::1\]/);
    await instance.stop();
    expect(existsSync(instance.runDir)).toBe(false);
    for (const pid of [instance.pid, ...instance.workerPids]) expect(procState(pid), `pid ${pid}`).not.toBe('running');
    await expect(instance.stop()).resolves.toBeDefined();
  });

  it('a port already taken gives a PeerStartError with the end of the log', async () => {
    const port = await freePort();
    const squatter = createSocket('udp4');
    await new Promise<void>((resolve) => squatter.bind(port, '127.0.0.1', resolve));
    try {
      const err = await startKamailio({ port }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(PeerStartError);
      expect((err as PeerStartError).message).toMatch(/kamailio did not start: it exited/);
      expect((err as PeerStartError).logTail).toMatch(/Address already in use|bind/i);
      rmSync((err as PeerStartError).runDir, { recursive: true, force: true });
    } finally {
      squatter.close();
    }
  });

  it('two instances run side by side on different ports', async () => {
    const [a, b] = await Promise.all([startKamailio(), startKamailio()]);
    try {
      expect(a.port).not.toBe(b.port);
      for (const x of [a, b]) expect((await probeSip({ host: '127.0.0.1', port: x.port, request: optionsRequest('127.0.0.1', x.port) }))?.status).toBe(200);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });
});

describe('missing tools', () => {
  it('fail with the Debian package to install, never skip', () => {
    const saved = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      expect(() => findTool('sipp')).toThrow(MissingToolError);
      expect(() => findTool('sipp')).toThrow(/install the Debian package 'sip-tester'/);
      expect(() => findTool('tshark')).toThrow(/'tshark'/);
    } finally {
      process.env.PATH = saved;
    }
  });
});
