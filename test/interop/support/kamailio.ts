// Starts and stops a real Kamailio registrar/proxy for interop tests: a fresh run directory and free port per run, stopped by pid.
import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './free-port.js';
import { type Exit, LoggedProcess, childPids, procState } from './process.js';
import { optionsRequest, probeSip } from './sip-probe.js';
import { findTool } from './tools.js';
import { PeerStartError } from './errors.js';

/** The config this helper runs (users 1001-1004 / pw1001-pw1004, realm and domain test.local). */
export const KAMAILIO_CFG = fileURLToPath(new URL('../kamailio/kamailio.cfg', import.meta.url));

/** Users of kamailio.cfg: the password of user N is "pwN". */
export const KAMAILIO_USERS = ['1001', '1002', '1003', '1004'] as const;
export const KAMAILIO_DOMAIN = 'test.local';

export interface KamailioOptions {
  /** UDP+TCP port on 127.0.0.1 (and ::1 with ipv6). Default: a free port, chosen per run. */
  port?: number | undefined;
  /** Also listen on [::1]. */
  ipv6?: boolean | undefined;
  /** Log every SIP message in full to the log file (WITH_SIPTRACE). */
  siptrace?: boolean | undefined;
  /** Enable the ctl socket in the run directory, for kamcmd (e.g. `kamcmd -s unix:SOCK ul.dump`). */
  ctl?: boolean | undefined;
  /** How long to wait until it answers OPTIONS, ms. Default 8000. */
  startTimeoutMs?: number | undefined;
  /** Shared memory, MiB (-m). Default 32: several instances run side by side. */
  sharedMemoryMiB?: number | undefined;
  /** registrar min_expires, s: a shorter interval asked for is raised to it. Default 10. */
  minExpiresS?: number | undefined;
  /** registrar default_expires, s (a REGISTER that asks for none). Default 3600. */
  defaultExpiresS?: number | undefined;
}

/** One contact of Kamailio's location table (kamcmd ul.dump). */
export interface LocationContact {
  /** The AoR as stored: the user part alone (usrloc use_domain=0). */
  aor: string;
  /** The Contact URI as registered. */
  address: string;
  /** Seconds left. */
  expiresS: number;
  /** Kamailio's socket it came in on, e.g. "udp:127.0.0.1:25060". */
  socket: string;
  userAgent: string;
}

export interface KamailioInstance {
  /** Always 127.0.0.1. */
  address: string;
  port: number;
  /** "127.0.0.1:PORT", the SIPp target. */
  hostPort: string;
  /** The main process (started with -DD: it stays our child). */
  pid: number;
  /** Its forked workers (UDP/TCP receivers, timers), as seen once it answered. */
  workerPids: readonly number[];
  runDir: string;
  logFile: string;
  /** unix socket for kamcmd, when started with ctl. */
  ctlSocket: string | undefined;
  /** The log so far. */
  readLog(): string;
  /** Runs a kamcmd RPC (needs ctl: true), e.g. rpc('ul.dump'); rejects with kamcmd's output when it fails. */
  rpc(...args: string[]): Promise<string>;
  /** The location table (kamcmd ul.dump; needs ctl: true). */
  locationContacts(): Promise<LocationContact[]>;
  /**
   * Stops it (SIGTERM to its pid, SIGKILL after 5 s, stragglers among its workers killed by pid)
   * and removes the run directory unless keepRunDir. Idempotent.
   */
  stop(options?: { keepRunDir?: boolean }): Promise<Exit>;
}

/**
 * Starts Kamailio in the foreground (-DD, logging to stderr with -E, into kamailio.log), waits
 * until it answers an OPTIONS to itself with 200, and returns a handle that stops it by pid.
 * Without an explicit port, a port taken by someone else in the meantime means another try on
 * another port. Throws MissingToolError when kamailio is not installed.
 */
export async function startKamailio(options: KamailioOptions = {}): Promise<KamailioInstance> {
  const binary = findTool('kamailio');
  const attempts = options.port === undefined ? 3 : 1;
  let lastError: Error | undefined;
  for (let i = 0; i < attempts; i++) {
    const port = options.port ?? (await freePort({ host: '127.0.0.1', protocols: ['udp', 'tcp'] }));
    if (options.ipv6 && options.port === undefined) {
      // The same port must be free on ::1 too; if not, pick again.
      const v6free = await freePort({ host: '::1', minPort: port, maxPort: port, attempts: 1 }).then(
        () => true,
        () => false,
      );
      if (!v6free) continue;
    }
    try {
      return await startOnce(binary, port, options);
    } catch (err) {
      lastError = err as Error;
      const bindFailure = err instanceof PeerStartError && /address already in use|bind/i.test(err.logTail);
      if (!bindFailure) throw err;
      rmSync(err.runDir, { recursive: true, force: true });
    }
  }
  throw lastError ?? new Error('kamailio: no free port found');
}

async function startOnce(binary: string, port: number, options: KamailioOptions): Promise<KamailioInstance> {
  const runDir = mkdtempSync(join(tmpdir(), 'offhook-kamailio-'));
  const cfg = join(runDir, 'kamailio.cfg');
  copyFileSync(KAMAILIO_CFG, cfg);
  const logFile = join(runDir, 'kamailio.log');
  const ctlSocket = options.ctl ? join(runDir, 'kamailio_ctl') : undefined;
  // -DD: no fork of the main process, so the pid we hold is Kamailio's; -E: log to stderr.
  // -Y: runtime dir (fifo, sockets) in the run dir instead of /run/kamailio; -w: working dir.
  // No -u/-g: as root it simply runs as root; no -P: we know the pid (shared README pitfall 5).
  const args = ['-f', cfg, '-DD', '-E', '-m', String(options.sharedMemoryMiB ?? 32), '-M', '8', '-Y', runDir, '-w', runDir, '-A', `SIP_PORT=${port}`];
  if (options.ipv6) args.push('-A', 'WITH_IPV6');
  if (options.siptrace) args.push('-A', 'WITH_SIPTRACE');
  if (ctlSocket) args.push('-A', `CTL_SOCK="unix:${ctlSocket}"`);
  if (options.minExpiresS !== undefined) args.push('-A', `MIN_EXPIRES=${options.minExpiresS}`);
  if (options.defaultExpiresS !== undefined) args.push('-A', `DEFAULT_EXPIRES=${options.defaultExpiresS}`);

  const proc = new LoggedProcess({ command: binary, args, cwd: runDir, stdoutFile: logFile, stderrFile: logFile });
  const startTimeoutMs = options.startTimeoutMs ?? 8000;
  const deadline = Date.now() + startTimeoutMs;
  let ready = false;
  while (!ready && !proc.exitStatus && Date.now() < deadline) {
    const answer = await Promise.race([
      probeSip({ host: '127.0.0.1', port, request: optionsRequest('127.0.0.1', port), timeoutMs: Math.min(1000, Math.max(1, deadline - Date.now())) }),
      proc.exited.then(() => undefined),
    ]);
    ready = answer?.status === 200;
  }
  if (!ready) {
    const exit = proc.exitStatus;
    const workers = childPids(proc.pid);
    await proc.stop({ graceMs: 2000, workers });
    const reason = exit ? `it exited (code ${exit.code}, signal ${exit.signal})` : `no 200 to OPTIONS on 127.0.0.1:${port} within ${startTimeoutMs} ms`;
    throw new PeerStartError({ peer: 'kamailio', reason, logFile, runDir });
  }

  const workerPids = childPids(proc.pid);
  let stopped: Promise<Exit> | undefined;
  return {
    address: '127.0.0.1',
    port,
    hostPort: `127.0.0.1:${port}`,
    pid: proc.pid,
    workerPids,
    runDir,
    logFile,
    ctlSocket,
    readLog: () => readFileSync(logFile, 'utf8'),
    rpc: (...rpcArgs) => kamcmd(ctlSocket, rpcArgs),
    locationContacts: async () => parseUlDump(await kamcmd(ctlSocket, ['ul.dump'])),
    stop: (stopOptions = {}) => {
      stopped ??= (async () => {
        // Workers forked after start (TCP readers on demand) are picked up here as well.
        const workers = [...new Set([...workerPids, ...childPids(proc.pid)])];
        const exit = await proc.stop({ signal: 'SIGTERM', graceMs: 5000, workers });
        const left = [proc.pid, ...workers].filter((p) => procState(p) === 'running');
        if (left.length > 0) throw new Error(`kamailio processes still running after stop: ${left.join(', ')}`);
        if (!stopOptions.keepRunDir) rmSync(runDir, { recursive: true, force: true });
        return exit;
      })();
      return stopped;
    },
  };
}

/** Runs kamcmd against the ctl socket of an instance. */
function kamcmd(ctlSocket: string | undefined, args: readonly string[]): Promise<string> {
  if (ctlSocket === undefined) return Promise.reject(new Error('kamcmd needs an instance started with ctl: true'));
  const binary = findTool('kamcmd');
  return new Promise((resolve, reject) => {
    execFile(binary, ['-s', `unix:${ctlSocket}`, ...args], { timeout: 5000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`kamcmd ${args.join(' ')} failed: ${err.message}\n${stdout}${stderr}`));
      else resolve(stdout);
    });
  });
}

/** The contacts of a `kamcmd ul.dump` text ("AoR: 1001", then "Address: sip:...", "Expires: 60", ...). */
export function parseUlDump(text: string): LocationContact[] {
  const out: LocationContact[] = [];
  let aor = '';
  let current: LocationContact | undefined;
  for (const raw of text.split('\n')) {
    const m = /^\s*([A-Za-z-]+): (.*)$/.exec(raw);
    if (!m) continue;
    const [, key, value = ''] = m;
    if (key === 'AoR') aor = value;
    else if (key === 'Address') {
      current = { aor, address: value, expiresS: NaN, socket: '', userAgent: '' };
      out.push(current);
    } else if (current && key === 'Expires') current.expiresS = Number(value);
    else if (current && key === 'Socket') current.socket = value;
    else if (current && key === 'User-Agent') current.userAgent = value;
  }
  return out;
}
