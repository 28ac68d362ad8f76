// Starting the emulator's web server for the composition root: the phones' names in the URLs, their SIP status, the announced URL.
import { lineName } from '../line-status.js';
import type { UserAgent } from '../sip/ua/index.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/log.js';
import type { BrowserAudioPort } from './browser-audio.js';
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

/** A phone the server shows, as the composition root has it. */
export interface ServedPhone {
  /** Its name in /api/phones/<name>; undefined: the first account's user part, else "local". */
  name: string | undefined;
  firstAor: string | undefined;
  panel: EmulatorPanel;
  status: PhoneStatusSource;
  /** Its microphone and speaker, when they are the page's (media.audio.backend: browser). */
  audio?: BrowserAudioPort | undefined;
}

export interface StartEmulatorServerOptions {
  settings: EmulatorServerSettings;
  /** The phones shown side by side, the first one also under the short /api/<action> paths. */
  phones: readonly ServedPhone[];
  clock: Clock;
  log: Logger;
  /** Where the URL is announced for a person (stdout). */
  announce?: (line: string) => void;
}

/** A phone's extension in the URLs: its name, else its first account's user part, else "local"; made URL-safe. */
export function phoneExt(p: Pick<ServedPhone, 'name' | 'firstAor'>): string {
  const raw = p.name ?? (p.firstAor ? lineName(p.firstAor) : 'local');
  return raw.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 32) || 'local';
}

/** Starts the page / control API for the composition root and says where it is. */
export async function startEmulatorServer(o: StartEmulatorServerOptions): Promise<EmulatorWebServer> {
  const server = await EmulatorWebServer.start({
    phones: o.phones.map((p) => ({ ext: phoneExt(p), panel: p.panel, status: p.status, audio: p.audio })),
    clock: o.clock,
    log: o.log,
    port: o.settings.port,
    address: o.settings.address,
    passwordHash: o.settings.passwordHash,
    page: o.settings.page,
  });
  const what = o.phones.length === 1 ? 'the emulated phone is' : `the ${o.phones.length} emulated phones are`;
  o.announce?.(o.settings.page ? `offhook: ${what} at ${server.url}\n` : `offhook: control API at ${server.url}api/state\n`);
  return server;
}
