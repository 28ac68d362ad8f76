// Child processes of the interop tests: spawn with output to files, watch, and stop by pid only (never by name).
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, readdirSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

export type ProcState = 'running' | 'zombie' | 'gone';

/**
 * The state of a pid from /proc. A zombie has exited: the sandbox's PID 1 reaps orphans late, so a
 * daemon's worker that lost its parent can linger as one (shared peers README, pitfall 8).
 */
export function procState(pid: number): ProcState {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return /^State:\s+[ZX]/m.test(status) ? 'zombie' : 'running';
  } catch {
    return 'gone';
  }
}

/** The command name of a pid (/proc/PID/comm), undefined when it is gone. */
export function procComm(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** The pids whose parent is `pid` (Kamailio's forked workers), from /proc/PID/stat. */
export function childPids(pid: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after the last ')'.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(entry));
    } catch {
      // raced with its exit
    }
  }
  return out;
}

/** Waits until none of the pids runs (gone or zombie); true when that happened in time. */
export async function waitStopped(pids: readonly number[], timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (pids.every((p) => procState(p) !== 'running')) return true;
    if (Date.now() >= deadline) return false;
    await sleep(20);
  }
}

/** Sends a signal to a pid if it still runs the expected program (a recycled pid is left alone). */
export function signalIf(pid: number, comm: string, signal: NodeJS.Signals): boolean {
  if (procState(pid) !== 'running' || procComm(pid)?.startsWith(comm.slice(0, 15)) !== true) return false;
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    return false;
  }
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface SpawnLoggedOptions {
  command: string;
  args: readonly string[];
  cwd: string;
  /** stdout goes here (created or truncated). */
  stdoutFile: string;
  /** stderr goes here; the same path as stdoutFile interleaves both. */
  stderrFile: string;
  env?: NodeJS.ProcessEnv;
}

/**
 * A started program whose output goes straight to files (no pipe to drain, nothing lost when it
 * is killed), with its exit as a promise and a stop() that signals only its own pid and, when asked,
 * the workers it forked (checked by name).
 */
export class LoggedProcess {
  readonly pid: number;
  readonly exited: Promise<Exit>;
  private readonly child: ChildProcess;
  private exit: Exit | undefined;
  private readonly comm: string;
  private readonly killOnExit = (): void => {
    // The test process is going away without stop(): leave no peer behind.
    this.child.kill('SIGKILL');
  };

  constructor(options: SpawnLoggedOptions) {
    const out = openSync(options.stdoutFile, 'w');
    const err = options.stderrFile === options.stdoutFile ? out : openSync(options.stderrFile, 'w');
    try {
      this.child = spawn(options.command, [...options.args], { cwd: options.cwd, stdio: ['ignore', out, err], env: options.env ?? process.env });
    } finally {
      closeSync(out);
      if (err !== out) closeSync(err);
    }
    this.exited = new Promise<Exit>((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.exit = { code, signal };
        process.off('exit', this.killOnExit);
        resolve(this.exit);
      });
      this.child.once('error', () => {
        this.exit = { code: null, signal: null };
        process.off('exit', this.killOnExit);
        resolve(this.exit);
      });
    });
    if (this.child.pid === undefined) throw new Error(`could not start ${options.command}`);
    this.pid = this.child.pid;
    this.comm = options.command.split('/').pop() ?? options.command;
    process.on('exit', this.killOnExit);
  }

  /** The exit status, once it has exited. */
  get exitStatus(): Exit | undefined {
    return this.exit;
  }

  /**
   * Stops it: `signal` to its pid, then SIGKILL after graceMs; `workers` (pids it forked, named
   * like it) get SIGKILL too if they outlive it. Resolves with its exit status; idempotent.
   */
  async stop(options: { signal?: NodeJS.Signals; graceMs?: number; workers?: readonly number[] } = {}): Promise<Exit> {
    if (!this.exit) {
      this.child.kill(options.signal ?? 'SIGTERM');
      const cancel = new AbortController();
      const timer = sleep(options.graceMs ?? 5000, undefined, { signal: cancel.signal }).then(
        () => undefined,
        () => undefined,
      );
      const first = await Promise.race([this.exited, timer]);
      cancel.abort();
      if (!first) this.child.kill('SIGKILL');
    }
    const exit = await this.exited;
    const workers = options.workers ?? [];
    if (!(await waitStopped(workers, 2000))) {
      for (const w of workers) signalIf(w, this.comm, 'SIGKILL');
      await waitStopped(workers, 2000);
    }
    return exit;
  }
}
