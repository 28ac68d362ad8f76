// Starting the emulator's web server for the composition root: the phone's name in the URLs, its SIP status, the announced URL.
import { lineName } from '../line-status.js';
import type { UserAgent } from '../sip/ua/index.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/log.js';
import type { EmulatorPanel } from './panel.js';
import { callReport, lineReport, type CallView, type PhoneStatus, type PhoneStatusSource } from './phone-status.js';
import type { EmulatorServerSettings } from './front-end.js';
import { EmulatorWebServer } from './web-server.js';

/** The phone's lines and calls as the control API reports them, read from the user agent and the phone on each call. */
export function userAgentStatus(o: { ua: () => UserAgent | undefined; problem: () => string | undefined; calls?: () => readonly CallView[] }): PhoneStatusSource {
  return {
    status(): PhoneStatus {
      const lines = o.ua()?.snapshot().accounts.map(lineReport) ?? [];
      // The phone calls from its first line (UaCallService); the session knows no account of its own here.
      const line = lines[0]?.aor ?? '';
      const status: PhoneStatus = { lines, calls: o.calls?.().map((c) => callReport(c, line)) ?? [] };
      const problem = o.problem();
      if (problem !== undefined) status.problem = problem;
      return status;
    },
  };
}

export interface StartEmulatorServerOptions {
  settings: EmulatorServerSettings;
  panel: EmulatorPanel;
  /** The first account's AOR names the phone in /api/phones/<ext>; "local" without one. */
  firstAor: string | undefined;
  status: PhoneStatusSource;
  clock: Clock;
  log: Logger;
  /** Where the URL is announced for a person (stdout). */
  announce?: (line: string) => void;
}

/** Starts the page / control API for the composition root and says where it is. */
export async function startEmulatorServer(o: StartEmulatorServerOptions): Promise<EmulatorWebServer> {
  const ext = o.firstAor ? lineName(o.firstAor).replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 32) || 'local' : 'local';
  const server = await EmulatorWebServer.start({
    phones: [{ ext, panel: o.panel, status: o.status }],
    clock: o.clock,
    log: o.log,
    port: o.settings.port,
    address: o.settings.address,
    passwordHash: o.settings.passwordHash,
    page: o.settings.page,
  });
  o.announce?.(o.settings.page ? `offhook: the emulated phone is at ${server.url}\n` : `offhook: control API at ${server.url}api/state\n`);
  return server;
}
