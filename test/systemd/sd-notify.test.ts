// SystemdNotifier and offhook_sdnotify.node against a fake $NOTIFY_SOCKET: a unix datagram socket bound by python3.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { loadSdNotifyAddon, SystemdNotifier, type SdNotifyAddon } from '../../firmware/systemd/sd-notify.js';
import { RealClock } from '../../firmware/util/clock.js';

const RECEIVER = `
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
path = sys.argv[1]
s.bind('\\0' + path[1:] if path.startswith('@') else path)
print('bound', flush=True)
while True:
    print(s.recv(4096).decode().replace('\\n', '|'), flush=True)
`;

/** A fake systemd: collects every datagram sent to `path`. */
class FakeNotifySocket {
  readonly messages: string[] = [];
  private readonly child: ChildProcessWithoutNullStreams;
  private waiters: (() => void)[] = [];

  private constructor(readonly path: string) {
    this.child = spawn('python3', ['-u', '-c', RECEIVER, path]);
    createInterface({ input: this.child.stdout }).on('line', (line) => {
      this.messages.push(line);
      for (const w of this.waiters.splice(0)) w();
    });
  }

  static async bind(path: string): Promise<FakeNotifySocket> {
    const s = new FakeNotifySocket(path);
    await s.waitFor((m) => m.includes('bound'));
    s.messages.length = 0;
    return s;
  }

  async waitFor(done: (messages: string[]) => boolean, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!done(this.messages)) {
      if (Date.now() > deadline) throw new Error(`timed out; got ${JSON.stringify(this.messages)}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }

  close(): void {
    this.child.kill();
  }
}

const log = () => {
  const warnings: unknown[] = [];
  return { warnings, warn: (...args: unknown[]) => warnings.push(args), debug: () => undefined };
};

describe('SystemdNotifier', () => {
  let dir: string | undefined;
  let fake: FakeNotifySocket | undefined;
  afterEach(() => {
    fake?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('sends READY=1, WATCHDOG=1 at half of WATCHDOG_USEC, then STOPPING=1 and nothing more', async () => {
    dir = mkdtempSync(join(tmpdir(), 'offhook-notify-'));
    fake = await FakeNotifySocket.bind(join(dir, 'notify'));
    const n = new SystemdNotifier({ env: { NOTIFY_SOCKET: fake.path, WATCHDOG_USEC: '100000', WATCHDOG_PID: String(process.pid) }, clock: new RealClock(), log: log() });
    expect(n.watchdogIntervalMs).toBe(50);
    const start = Date.now();
    n.ready('idle');
    await fake.waitFor((m) => m.filter((x) => x === 'WATCHDOG=1').length >= 3);
    expect(Date.now() - start).toBeGreaterThanOrEqual(140);
    expect(fake.messages[0]).toBe('READY=1|STATUS=idle');
    n.stopping();
    await fake.waitFor((m) => m.includes('STOPPING=1'));
    const count = fake.messages.length;
    await new Promise((r) => setTimeout(r, 200));
    expect(fake.messages.length).toBe(count);
  });

  it('sends RELOADING=1 and pauses the watchdog until the next READY=1 (an in-process restart)', async () => {
    dir = mkdtempSync(join(tmpdir(), 'offhook-notify-'));
    fake = await FakeNotifySocket.bind(join(dir, 'notify'));
    const n = new SystemdNotifier({ env: { NOTIFY_SOCKET: fake.path, WATCHDOG_USEC: '100000' }, clock: new RealClock(), log: log() });
    n.ready();
    n.reloading();
    await fake.waitFor((m) => m.includes('RELOADING=1'));
    await new Promise((r) => setTimeout(r, 150));
    expect(fake.messages).toEqual(['READY=1', 'RELOADING=1']);
    n.ready();
    await fake.waitFor((m) => m.filter((x) => x === 'WATCHDOG=1').length >= 1);
    n.stopping();
  });

  it('reaches an abstract socket (@name)', async () => {
    fake = await FakeNotifySocket.bind(`@offhook-test-${process.pid}`);
    loadSdNotifyAddon().notify(fake.path, 'STATUS=abstract');
    await fake.waitFor((m) => m.includes('STATUS=abstract'));
  });

  it('does nothing, and loads no addon, without NOTIFY_SOCKET', () => {
    const addon = (): SdNotifyAddon => {
      throw new Error('must not be loaded');
    };
    const l = log();
    const n = new SystemdNotifier({ env: { WATCHDOG_USEC: '100000' }, clock: new RealClock(), log: l, addon });
    expect(n.watchdogIntervalMs).toBeUndefined();
    n.ready();
    n.stopping();
    expect(l.warnings).toEqual([]);
  });

  it('runs no watchdog when WATCHDOG_PID names another process', () => {
    const n = new SystemdNotifier({ env: { NOTIFY_SOCKET: '/nonexistent/notify', WATCHDOG_USEC: '100000', WATCHDOG_PID: '1' }, pid: 4242, clock: new RealClock(), log: log() });
    expect(n.watchdogIntervalMs).toBeUndefined();
  });

  it('logs a failed send once and never throws', () => {
    const l = log();
    const n = new SystemdNotifier({ env: { NOTIFY_SOCKET: '/nonexistent/notify' }, clock: new RealClock(), log: l });
    n.ready();
    n.status('x');
    n.stopping();
    expect(l.warnings).toHaveLength(1);
    expect(() => loadSdNotifyAddon().notify('/nonexistent/notify', 'READY=1')).toThrow(expect.objectContaining({ code: 'ENOENT', syscall: 'sendto' }) as Error);
  });

  it('refuses a relative socket path and an empty message', () => {
    const addon = loadSdNotifyAddon();
    expect(() => addon.notify('relative', 'READY=1')).toThrow(RangeError);
    expect(() => addon.notify('/x', '')).toThrow(RangeError);
  });
});
