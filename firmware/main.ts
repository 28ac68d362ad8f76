// The composition root: builds the phones (each its hardware, media engine, SIP user agent and phone: phone-instance.ts) and their front ends, provisioning, signals and systemd.
import type { BoardProfile } from './config/board-schema.js';
import type { LoadedConfig } from './config/config.js';
import type { OffhookConfig } from './config/config-schema.js';
import type { PhoneConfig } from './config/phones.js';
import type { Provisioner } from './config/provisioning.js';
import type { EmulatorServerSettings } from './emulator/front-end.js';
import { startEmulatorServer } from './emulator/start-server.js';
import { TerminalUi } from './emulator/terminal-ui.js';
import type { EmulatorWebServer } from './emulator/web-server.js';
import type { Hardware } from './hardware.js';
import type { MediaEngine } from './media/media-engine.js';
import type { Phone } from './phone/phone.js';
import { GLYPH_SLOTS } from './phone/screens.js';
import type { UaCallService } from './phone/ua-call-service.js';
import { startPhoneInstance, type PhoneInstance } from './phone-instance.js';
import { phoneConfigChecks, type PhoneStores } from './phone-setup.js';
import { startProvisioning } from './provisioning-setup.js';
import type { Clock } from './util/clock.js';
import type { Logger } from './util/log.js';
import type { UserAgent } from './sip/ua/index.js';
import { SystemdNotifier } from './systemd/sd-notify.js';

/** What the terminal draws for each glyph slot (GLYPH_SLOTS order). */
const TERMINAL_GLYPHS: Readonly<Record<(typeof GLYPH_SLOTS)[number], string>> = {
  handset: '☎',
  envelope: '✉',
  bell: '♪',
  signal: '▮',
  hold: '‖',
  mute: '⊘',
  lock: '⚿',
  forward: '→',
};

/** How often a pending restart (a new provisioned config) looks whether the phone is idle. */
const RESTART_POLL_MS = 5000;

export interface StartOptions {
  config: OffhookConfig;
  board: BoardProfile;
  log: Logger;
  clock: Clock;
  stdin: NodeJS.ReadStream;
  stdout: NodeJS.WriteStream;
  /** Draw the emulated board in the terminal (default: when the board uses emulated chips). */
  terminal?: boolean;
  /** Serve the emulated board's page and control API (firmware/emulator/start-server.ts); default none. */
  web?: EmulatorServerSettings | undefined;
  /** Where GPIO character devices are looked for (default /dev). */
  devDir?: string;
  /** Handle SIGINT / SIGTERM (default true). */
  signals?: boolean;
  /** The media engine to use instead of the native one (tests: MockMediaEngine); it is closed at stop. */
  media?: MediaEngine | undefined;
  /**
   * The phones to run (phoneConfigsOf(loaded): the config's `phones`); default one phone on
   * `config`. `config` stays the process's own (provisioning); the first phone gets `media`.
   */
  phones?: readonly PhoneSpec[] | undefined;
  /**
   * The config's layers as loadConfig(file, { provisioned: true }) read them: with them the phone
   * runs provisioning (when the config names a server) and restarts with a changed config.
   */
  loaded?: Pick<LoadedConfig, 'local' | 'provisioned' | 'provisionedProblem'> | undefined;
}

/** One phone to start: its config, its name in the emulator's URLs, and an engine of its own (tests). */
export interface PhoneSpec extends PhoneConfig {
  media?: MediaEngine | undefined;
}

/** How the phone ended: an exit status, or 'restart' (a new provisioned config: start it again with the config reloaded). */
export type PhoneExit = number | 'restart';

export interface RunningPhone {
  /** The first phone's hardware (the one phone of a config without `phones`). */
  hardware: Hardware;
  /** The first phone's SIP user agent, when its config has accounts. */
  ua: UserAgent | undefined;
  /** The first phone's media engine, undefined when it could not be loaded (then calls have no media). */
  media: MediaEngine | undefined;
  /** The first phone's user agent as its call service. */
  calls: UaCallService | undefined;
  /** The first phone's call history and settings under the state directory. */
  stores: PhoneStores;
  phone: Phone;
  /** Every phone of the process, in the config's order (one without `phones`). */
  phones: readonly PhoneInstance[];
  /** Running while the config names a provisioning server. */
  provisioner: Provisioner | undefined;
  stop(): Promise<void>;
  /** Resolves with the exit status when the phone stops (a signal, or q in the terminal), or 'restart'. */
  done: Promise<PhoneExit>;
}

/**
 * Builds and starts the phones (o.phones, else one phone on o.config), then their front ends: the
 * emulator's page and control API showing every phone, the terminal drawing the first, provisioning
 * (a new config restarts the process's phones once none has a call), signals and systemd.
 */
export async function startPhone(o: StartOptions): Promise<RunningPhone> {
  const log = o.log;
  const config = o.config;
  const specs: readonly PhoneSpec[] = o.phones ?? [{ name: undefined, config, stateSubdir: undefined }];
  if (specs.length === 0) throw new RangeError('startPhone needs at least one phone');
  const phones: PhoneInstance[] = [];
  try {
    for (const [i, spec] of specs.entries()) {
      phones.push(await startPhoneInstance({ name: spec.name, config: spec.config, board: o.board, log, clock: o.clock, devDir: o.devDir, media: i === 0 ? (spec.media ?? o.media) : spec.media, stateSubdir: spec.stateSubdir }));
    }
  } catch (err) {
    for (const p of phones.reverse()) await p.close();
    throw err;
  }
  const first = phones[0] as PhoneInstance;

  let ui: TerminalUi | undefined;
  let web: EmulatorWebServer | undefined;
  let provisioner: Provisioner | undefined;
  let restartTimer: ReturnType<Clock['setTimeout']> | undefined;
  let resolveDone: (exit: PhoneExit) => void = () => undefined;
  const done = new Promise<PhoneExit>((resolve) => (resolveDone = resolve));
  let stopping: Promise<void> | undefined;
  const offSignals: (() => void)[] = [];
  const systemd = new SystemdNotifier({ clock: o.clock, log });
  // Shutdown: calls hung up, the UA unregistered and stopped, then the engine closed and the stores written.
  const shutdown = (exit: PhoneExit): Promise<void> => {
    stopping ??= (async () => {
      log.info({ restart: exit === 'restart' }, 'offhook stopping');
      if (exit === 'restart') systemd.reloading();
      else systemd.stopping();
      for (const off of offSignals.splice(0)) off();
      o.clock.clearTimeout(restartTimer);
      provisioner?.stop();
      ui?.stop();
      await web?.close();
      await Promise.all(phones.map((p) => p.close()));
      resolveDone(exit);
    })();
    return stopping;
  };
  const stop = (): Promise<void> => shutdown(0);

  // A new provisioned config: restart with it (the caller reloads the config) once no call is up.
  const restartWhenIdle = (): void => {
    if (stopping) return;
    if (phones.every((p) => p.idle())) {
      void shutdown('restart');
      return;
    }
    restartTimer = o.clock.setTimeout(restartWhenIdle, RESTART_POLL_MS);
  };
  if (o.loaded) {
    provisioner = startProvisioning({
      loaded: { ...o.loaded, config },
      clock: o.clock,
      log,
      checks: phoneConfigChecks,
      onConfig: () => {
        log.info('a new provisioned config: the phone restarts with it once no call is up');
        o.clock.clearTimeout(restartTimer);
        restartWhenIdle();
      },
    });
  }

  // The terminal draws one phone: the first.
  const panel = first.hardware.panel;
  if (panel && (o.terminal ?? o.board.gpio.backend === 'emulated')) {
    ui = new TerminalUi({ panel, input: o.stdin, output: o.stdout, clock: o.clock, glyphSymbols: GLYPH_SLOTS.map((n) => TERMINAL_GLYPHS[n]), onQuit: () => void stop() });
    ui.start();
  }
  const shown = phones.flatMap((p) => (p.hardware.panel ? [{ name: p.name, firstAor: p.config.accounts[0]?.aor, panel: p.hardware.panel, status: p.status, audio: p.browserAudio }] : []));
  if (!o.web?.page) {
    for (const p of phones.filter((ph) => ph.browserAudio !== undefined)) {
      log.warn({ phone: p.name }, 'media.audio.backend is browser, but no emulator page is served (--ui web): the phone hears silence and its speaker goes nowhere');
    }
  }
  if (shown.length > 0 && o.web) {
    const settings = { settings: o.web, phones: shown, clock: o.clock, log, announce: (line: string) => o.stdout.write(line) };
    web = await startEmulatorServer(settings).catch(async (err: unknown) => {
      await stop();
      throw err;
    });
  }
  if (o.signals ?? true) {
    const onSignal = (sig: NodeJS.Signals): void => {
      log.info({ signal: sig }, 'signal');
      void stop();
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    offSignals.push(() => process.off('SIGINT', onSignal), () => process.off('SIGTERM', onSignal));
  }
  for (const p of phones) {
    log.info({ phone: p.name, board: o.board.name, problems: p.hardware.problems.length, media: p.media !== undefined, stateDir: p.stores.dir }, 'phone ready');
  }
  systemd.ready();
  return { hardware: first.hardware, ua: first.ua, media: first.media, calls: first.calls, stores: first.stores, phone: first.phone, phones, provisioner, stop, done };
}
