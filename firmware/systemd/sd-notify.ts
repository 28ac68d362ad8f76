// sd_notify(3) for offhook.service: READY=1 once the phone runs, WATCHDOG=1 from the event loop, STOPPING=1.
// The datagram goes out through offhook_sdnotify.node (firmware/systemd/native/sd-notify.c): Node has no
// AF_UNIX datagram socket, and `systemd-notify` would send from another PID, which systemd drops under
// NotifyAccess=main (and races against the helper's exit even with NotifyAccess=all).
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { nativeAddonCandidates, NativeAddonError } from '../media/native-addon.js';
import { nativeFileProblem } from '../media/native-file-check.js';
import type { Clock, TimerHandle } from '../util/clock.js';
import type { Logger } from '../util/log.js';

export const SD_NOTIFY_ADDON_FILE = 'offhook_sdnotify.node';

/** The addon's one export. */
export interface SdNotifyAddon {
  /** Sends one datagram; throws an Error with `code` (ENOENT, ECONNREFUSED, EAGAIN ...) when it cannot. */
  notify(socketPath: string, message: string): void;
}

/** Finds offhook_sdnotify.node where offhook_native.node would be (beside the bundle, or build/Release). */
export function loadSdNotifyAddon(from?: string | URL): SdNotifyAddon {
  const candidates = nativeAddonCandidates(from).map((file) => join(dirname(file), SD_NOTIFY_ADDON_FILE));
  const index = candidates.findIndex((file) => existsSync(file));
  const file = candidates[index];
  if (file === undefined) throw new NativeAddonError('missing', `no ${SD_NOTIFY_ADDON_FILE} found`, candidates);
  const tried = candidates.slice(0, index + 1);
  let exports: unknown;
  try {
    exports = createRequire(import.meta.url)(file);
  } catch (err) {
    throw new NativeAddonError('unloadable', `${file} could not be loaded (${String(err).split('\n', 1)[0] ?? ''})${nativeFileProblem(file, err)}`, tried, { cause: err });
  }
  if (typeof exports !== 'object' || exports === null || typeof (exports as Partial<SdNotifyAddon>).notify !== 'function') {
    throw new NativeAddonError('incompatible', `${basename(file)} has no notify()`, tried);
  }
  return exports as SdNotifyAddon;
}

export interface SystemdNotifierOptions {
  /** NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID are read from here (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** WATCHDOG_PID must name this process for the watchdog to run (default process.pid). */
  pid?: number;
  clock: Clock;
  log: Pick<Logger, 'warn' | 'debug'>;
  /** The sender (default: the addon, loaded only when NOTIFY_SOCKET is set). */
  addon?: () => SdNotifyAddon;
}

/**
 * The process's side of Type=notify and WatchdogSec=. Without NOTIFY_SOCKET (not under systemd) every
 * method does nothing and no addon is loaded. A failed send is logged once and never throws: systemd
 * notices a phone that stopped notifying, the phone must not stop because a notification failed.
 */
export class SystemdNotifier {
  readonly socketPath: string | undefined;
  /** Period of WATCHDOG=1 in ms (half of WATCHDOG_USEC), or undefined when systemd asks for none. */
  readonly watchdogIntervalMs: number | undefined;
  private addon: SdNotifyAddon | undefined;
  private timer: TimerHandle | undefined;
  private warned = false;

  constructor(private readonly o: SystemdNotifierOptions) {
    const env = o.env ?? process.env;
    const socketPath = env.NOTIFY_SOCKET;
    this.socketPath = socketPath !== undefined && socketPath !== '' ? socketPath : undefined;
    const usec = Number(env.WATCHDOG_USEC);
    const pidOk = env.WATCHDOG_PID === undefined || env.WATCHDOG_PID === '' || Number(env.WATCHDOG_PID) === (o.pid ?? process.pid);
    this.watchdogIntervalMs = this.socketPath && Number.isFinite(usec) && usec > 0 && pidOk ? Math.max(1, usec / 2000) : undefined;
  }

  /** READY=1, then WATCHDOG=1 every watchdogIntervalMs from the event loop until stop(). */
  ready(status?: string): void {
    this.send(status === undefined ? 'READY=1' : `READY=1\nSTATUS=${status}`);
    if (this.watchdogIntervalMs !== undefined && this.timer === undefined) this.scheduleWatchdog(this.watchdogIntervalMs);
  }

  status(text: string): void {
    this.send(`STATUS=${text}`);
  }

  /**
   * RELOADING=1 and no watchdog pings until the next ready(): the phone is built anew in this process
   * (a new provisioned config). STOPPING=1 there would make systemd stop the service.
   */
  reloading(): void {
    this.stop();
    this.send('RELOADING=1');
  }

  /** STOPPING=1 and no more watchdog pings: the process is about to exit. */
  stopping(): void {
    this.stop();
    this.send('STOPPING=1');
  }

  /** Stops the watchdog pings (sends nothing). */
  stop(): void {
    this.o.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private scheduleWatchdog(intervalMs: number): void {
    this.timer = this.o.clock.setTimeout(() => {
      this.send('WATCHDOG=1');
      this.scheduleWatchdog(intervalMs);
    }, intervalMs);
  }

  private send(message: string): void {
    if (this.socketPath === undefined) return;
    try {
      this.addon ??= (this.o.addon ?? loadSdNotifyAddon)();
      this.addon.notify(this.socketPath, message);
      this.o.log.debug({ message }, 'sd_notify');
    } catch (err) {
      if (this.warned) return;
      this.warned = true;
      this.o.log.warn({ err, socket: this.socketPath }, 'sd_notify failed: systemd will not hear from offhook');
    }
  }
}
