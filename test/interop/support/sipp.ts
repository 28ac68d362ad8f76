// Runs SIPp scenarios for interop tests: one run to completion (UAC), or in the background (UAS) with stop() by pid; ports and files per run.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, isAbsolute, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { PeerStartError } from './errors.js';
import { freePort, waitForListener } from './free-port.js';
import { type Exit, LoggedProcess } from './process.js';
import { ulawToneWav } from './tone-wav.js';
import { findTool } from './tools.js';

/** The folder of the project's SIPp scenarios. */
export const SIPP_SCENARIO_DIR = fileURLToPath(new URL('../sipp/', import.meta.url));

export interface SippOptions {
  /** A scenario of test/interop/sipp by name ("reg-auth") or a path to an XML file. */
  scenario: string;
  /** Remote "host:port" (UAC scenarios; for a UAS, where its requests would go, usually absent). */
  target?: string | undefined;
  /** -p: local SIP port. Default: a free one. */
  localPort?: number | undefined;
  /** -mp: first of 4 local media ports (RTP echo, +2). Default: a free block. */
  mediaPort?: number | undefined;
  /** -t u1 / t1. Default udp. */
  transport?: 'udp' | 'tcp' | undefined;
  /** -s: the user part of the Request-URI ([service]). */
  service?: string | undefined;
  /** -au / -ap: digest credentials for [authentication]. */
  authUser?: string | undefined;
  authPassword?: string | undefined;
  /** -key NAME VALUE for the scenario's [NAME] keywords (a keyword not given is a SIPp error). */
  keys?: Readonly<Record<string, string | number>> | undefined;
  /** -set NAME VALUE for <Global> variables (e.g. expected 486). */
  globals?: Readonly<Record<string, string | number>> | undefined;
  /** -m: calls to make / take before exiting. Default 1. */
  calls?: number | undefined;
  /** -d: pause length of <pause/>, ms. */
  pauseMs?: number | undefined;
  /** More SIPp arguments, appended as they are. */
  extraArgs?: readonly string[] | undefined;
  /** Kill the run after this long, ms (SIGUSR1 first so SIPp writes its statistics). Default 10000. */
  timeoutMs?: number | undefined;
  /** Keep the run directory (scenario, logs, statistics) after the run. Default false. */
  keepRunDir?: boolean | undefined;
}

/** The cumulative counters of SIPp's statistics file (-trace_stat), last line. */
export interface SippStats {
  created: number;
  successful: number;
  failed: number;
  retransmissions: number;
  unexpectedMessages: number;
  timeoutsOnRecv: number;
  /** Every column of the last line, by header name. */
  columns: Readonly<Record<string, string>>;
}

export interface SippResult {
  /** SIPp's exit code: 0 all calls succeeded, 1 some failed, 97/99 stopped, 255/254 fatal (bind) error. */
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Exit 0, statistics read, no failed call, at least one successful call. */
  ok: boolean;
  /** The run was ended by timeoutMs. */
  timedOut: boolean;
  stdout: string;
  stderr: string;
  stats: SippStats | undefined;
  /** -trace_err: unexpected messages and errors. */
  errorLog: string;
  /** -trace_msg: every message sent and received. */
  messageLog: string;
  /** -trace_logs: the scenario's <log> actions. */
  actionLog: string;
  localPort: number;
  runDir: string;
  /** One paragraph for assertion messages: command, exit, counters, the end of the error log. */
  summary: string;
}

export interface SippProcess {
  pid: number;
  localPort: number;
  mediaPort: number;
  /** "127.0.0.1:PORT" where it listens (what to register as a contact, or call). */
  hostPort: string;
  runDir: string;
  /** Settles when SIPp exits by itself (e.g. a UAS after its -m calls). */
  done: Promise<SippResult>;
  /** The scenario's <log> lines so far (-trace_logs; SIPp writes each line as it happens). */
  readActionLog(): string;
  /** Every message sent and received so far (-trace_msg). */
  readMessageLog(): string;
  /** Resolves with the first action-log line matching `pattern`; rejects after timeoutMs, or when SIPp exits first. */
  waitForLog(pattern: RegExp, timeoutMs: number): Promise<string>;
  /** Stops it by pid (SIGUSR1: SIPp's graceful quit; SIGKILL after 3 s) and gives its result. Idempotent. */
  stop(): Promise<SippResult>;
}

function scenarioPath(scenario: string): string {
  if (isAbsolute(scenario) || scenario.endsWith('.xml')) return scenario;
  return join(SIPP_SCENARIO_DIR, `${scenario}.xml`);
}

function read(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** Parses SIPp's statistics CSV (';'-separated; the first line names the columns). */
export function parseSippStats(csv: string): SippStats | undefined {
  const lines = csv.split('\n').filter((l) => l.trim().length > 0);
  const header = lines[0]?.split(';');
  const last = lines.length > 1 ? lines[lines.length - 1]?.split(';') : undefined;
  if (!header || !last) return undefined;
  const columns: Record<string, string> = {};
  header.forEach((name, i) => {
    if (name) columns[name] = last[i] ?? '';
  });
  const num = (name: string): number => Number(columns[name] ?? 'NaN');
  return {
    created: num('TotalCallCreated'),
    successful: num('SuccessfulCall(C)'),
    failed: num('FailedCall(C)'),
    retransmissions: num('Retransmissions(C)'),
    unexpectedMessages: num('FailedUnexpectedMessage(C)'),
    timeoutsOnRecv: num('FailedTimeoutOnRecv(C)'),
    columns,
  };
}

interface Prepared {
  binary: string;
  args: string[];
  runDir: string;
  localPort: number;
  mediaPort: number;
  files: { stdout: string; stderr: string; stats: string; errors: string; messages: string; actions: string };
}

async function prepare(options: SippOptions): Promise<Prepared> {
  const binary = findTool('sipp');
  const source = scenarioPath(options.scenario);
  if (!existsSync(source)) throw new Error(`SIPp scenario not found: ${source}`);
  const runDir = mkdtempSync(join(tmpdir(), 'offhook-sipp-'));
  const scenarioText = readFileSync(source, 'utf8');
  const scenarioFile = join(runDir, basename(source));
  writeFileSync(scenarioFile, scenarioText);
  // rtp_stream file names are relative to SIPp's working directory: the run directory.
  if (scenarioText.includes('uas-tone.pcmu.wav')) writeFileSync(join(runDir, 'uas-tone.pcmu.wav'), ulawToneWav({ frequencyHz: 1000, durationMs: 5000 }));

  const tcp = options.transport === 'tcp';
  const localPort = options.localPort ?? (await freePort({ protocols: tcp ? ['tcp'] : ['udp'] }));
  // Nothing is bound until SIPp starts: each pick avoids the ports picked before it (SIP and media once got the same one).
  const mediaPort = options.mediaPort ?? (await freePort({ protocols: ['udp'], count: 4, avoid: [localPort] }));
  const controlPort = await freePort({ protocols: ['udp'], avoid: [localPort, mediaPort, mediaPort + 1, mediaPort + 2, mediaPort + 3] });
  const files = {
    stdout: join(runDir, 'stdout.log'),
    stderr: join(runDir, 'stderr.log'),
    stats: join(runDir, 'stats.csv'),
    errors: join(runDir, 'errors.log'),
    messages: join(runDir, 'messages.log'),
    actions: join(runDir, 'actions.log'),
  };
  const args: string[] = [];
  if (options.target) args.push(options.target);
  args.push('-sf', scenarioFile);
  // Loopback only: -i (SIP), -mi (media; else the host's primary address, shared README §SIPp),
  // -bind_local (listen on -i, not on every address), -cp (the control socket defaults to 8888,
  // which two parallel SIPps would share).
  args.push('-i', '127.0.0.1', '-mi', '127.0.0.1', '-bind_local', '-p', String(localPort), '-mp', String(mediaPort), '-cp', String(controlPort));
  args.push('-t', tcp ? 't1' : 'u1', '-m', String(options.calls ?? 1), '-nostdin');
  args.push('-trace_stat', '-stf', files.stats, '-fd', '1');
  args.push('-trace_err', '-error_file', files.errors, '-trace_msg', '-message_file', files.messages, '-trace_logs', '-log_file', files.actions);
  if (options.service !== undefined) args.push('-s', options.service);
  if (options.authUser !== undefined) args.push('-au', options.authUser);
  if (options.authPassword !== undefined) args.push('-ap', options.authPassword);
  if (options.pauseMs !== undefined) args.push('-d', String(options.pauseMs));
  for (const [k, v] of Object.entries(options.keys ?? {})) args.push('-key', k, String(v));
  for (const [k, v] of Object.entries(options.globals ?? {})) args.push('-set', k, String(v));
  args.push(...(options.extraArgs ?? []));
  return { binary, args, runDir, localPort, mediaPort, files };
}

function collect(p: Prepared, exit: Exit, timedOut: boolean, keepRunDir: boolean): SippResult {
  const stats = parseSippStats(read(p.files.stats));
  const errorLog = read(p.files.errors);
  const result: Omit<SippResult, 'summary'> = {
    code: exit.code,
    signal: exit.signal,
    ok: exit.code === 0 && !timedOut && stats !== undefined && stats.failed === 0 && stats.successful > 0,
    timedOut,
    stdout: read(p.files.stdout),
    stderr: read(p.files.stderr),
    stats,
    errorLog,
    messageLog: read(p.files.messages),
    actionLog: read(p.files.actions),
    localPort: p.localPort,
    runDir: p.runDir,
  };
  const counters = stats ? `created ${stats.created}, successful ${stats.successful}, failed ${stats.failed}, unexpected ${stats.unexpectedMessages}, recv timeouts ${stats.timeoutsOnRecv}` : 'no statistics';
  const summary = [
    `sipp ${p.args.join(' ')}`,
    `exit ${exit.code ?? exit.signal ?? '?'}${timedOut ? ' (timed out)' : ''}; ${counters}`,
    errorLog ? `errors:\n${errorLog.trimEnd().split('\n').slice(-15).join('\n')}` : '',
    result.stderr ? `stderr:\n${result.stderr.trimEnd().split('\n').slice(-10).join('\n')}` : '',
  ]
    .filter((s) => s.length > 0)
    .join('\n');
  if (!keepRunDir) rmSync(p.runDir, { recursive: true, force: true });
  return { ...result, summary };
}

/**
 * Runs a scenario to the end (typically a UAC) and gives its exit code, output, statistics and
 * logs. Never rejects for a failing scenario: check `ok` (and `summary` for the message).
 * Throws MissingToolError when SIPp is not installed.
 */
export async function runSipp(options: SippOptions): Promise<SippResult> {
  const p = await prepare(options);
  const proc = new LoggedProcess({ command: p.binary, args: p.args, cwd: p.runDir, stdoutFile: p.files.stdout, stderrFile: p.files.stderr });
  const timeoutMs = options.timeoutMs ?? 10_000;
  const cancel = new AbortController();
  const timer = new Promise<'timeout'>((resolve) => {
    const t = setTimeout(() => resolve('timeout'), timeoutMs);
    cancel.signal.addEventListener('abort', () => clearTimeout(t));
  });
  const first = await Promise.race([proc.exited, timer]);
  cancel.abort();
  const timedOut = first === 'timeout';
  // SIGUSR1 is SIPp's graceful quit (like 'q'): it still writes its statistics.
  const exit = timedOut ? await proc.stop({ signal: 'SIGUSR1', graceMs: 3000 }) : first;
  return collect(p, exit, timedOut, options.keepRunDir ?? false);
}

/**
 * Starts a scenario in the background (typically a UAS: uas-answer, uas-busy ...) and resolves
 * once its SIP port is bound. stop() ends it by pid; `done` settles if it exits by itself.
 */
export async function startSipp(options: SippOptions): Promise<SippProcess> {
  const p = await prepare(options);
  const proc = new LoggedProcess({ command: p.binary, args: p.args, cwd: p.runDir, stdoutFile: p.files.stdout, stderrFile: p.files.stderr });
  const keep = options.keepRunDir ?? false;
  let result: SippResult | undefined;
  const finish = (exit: Exit): SippResult => (result ??= collect(p, exit, false, keep));
  const done = proc.exited.then(finish);
  const bound = await waitForListener(p.localPort, options.transport === 'tcp' ? 'tcp' : 'udp', 5000, () => proc.exitStatus === undefined);
  if (!bound) {
    await proc.stop({ signal: 'SIGKILL', graceMs: 1000 });
    throw new PeerStartError({ peer: 'sipp', reason: `not listening on 127.0.0.1:${p.localPort} after 5000 ms`, logFile: p.files.stderr, runDir: p.runDir });
  }
  let stopped: Promise<SippResult> | undefined;
  const readActionLog = (): string => read(p.files.actions);
  return {
    pid: proc.pid,
    localPort: p.localPort,
    mediaPort: p.mediaPort,
    hostPort: `127.0.0.1:${p.localPort}`,
    runDir: p.runDir,
    done,
    readActionLog,
    readMessageLog: () => read(p.files.messages),
    waitForLog: async (pattern, timeoutMs) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        // the run directory goes away once SIPp has exited (unless kept): then read the result's copy
        const exited = proc.exitStatus !== undefined;
        const text = exited ? (await done).actionLog : readActionLog();
        const line = text.split('\n').find((l) => pattern.test(l));
        if (line !== undefined) return line;
        if (exited) throw new Error(`sipp exited before logging ${String(pattern)}; action log:\n${text}`);
        if (Date.now() >= deadline) throw new Error(`sipp: nothing matched ${String(pattern)} in its action log within ${timeoutMs} ms; action log:\n${text}`);
        await sleep(25);
      }
    },
    stop: () => {
      stopped ??= (async () => {
        const exit = await proc.stop({ signal: 'SIGUSR1', graceMs: 3000 });
        return finish(exit);
      })();
      return stopped;
    },
  };
}
