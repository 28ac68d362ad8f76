// Typed errors of the interop harness: a tool that is not installed, a peer that did not come up.
import { readFileSync } from 'node:fs';

/** The programs the harness runs and the Debian (bookworm) package each comes from. */
export const TOOL_PACKAGES = {
  kamailio: 'kamailio',
  /** Kamailio's RPC client (kamcmd ul.dump), from the same package. */
  kamcmd: 'kamailio',
  sipp: 'sip-tester',
  tshark: 'tshark',
  dumpcap: 'wireshark-common',
  /** The softphone of the media interop tests (baresip-core holds its modules). */
  baresip: 'baresip',
} as const;

export type ToolName = keyof typeof TOOL_PACKAGES;

/** A program the interop tests need is not installed: says which Debian package to install. */
export class MissingToolError extends Error {
  readonly tool: ToolName;
  readonly debianPackage: string;

  constructor(tool: ToolName) {
    const pkg = TOOL_PACKAGES[tool];
    super(`'${tool}' was not found on PATH or in /usr/sbin, /sbin: install the Debian package '${pkg}' (apt-get install -y ${pkg}; 'make deps' does it)`);
    this.name = 'MissingToolError';
    this.tool = tool;
    this.debianPackage = pkg;
  }
}

/** A peer did not come up: why, where its files are, and the end of its log. */
export class PeerStartError extends Error {
  readonly peer: string;
  readonly reason: string;
  readonly logTail: string;
  readonly runDir: string;

  constructor(init: { peer: string; reason: string; logFile: string; runDir: string }) {
    const logTail = tailOf(init.logFile);
    super(`${init.peer} did not start: ${init.reason} (run dir ${init.runDir}); last log lines:\n${logTail}`);
    this.name = 'PeerStartError';
    this.peer = init.peer;
    this.reason = init.reason;
    this.logTail = logTail;
    this.runDir = init.runDir;
  }
}

/** The last lines of a text file, or "(no log)". */
export function tailOf(file: string, lines = 25): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}
