// The composition root: builds the hardware from the board profile, the media engine, the SIP user agent with calls, the phone on top, and the emulator front end.
import { SdpMediaHandler } from './call/sdp-media-handler.js';
import { callOptions, dndStatus, mediaHandlerFactory } from './call-setup.js';
import type { BoardProfile } from './config/board-schema.js';
import type { LoadedConfig } from './config/config.js';
import type { OffhookConfig } from './config/config-schema.js';
import type { Provisioner } from './config/provisioning.js';
import type { EmulatorServerSettings } from './emulator/front-end.js';
import { startEmulatorServer, userAgentStatus } from './emulator/start-server.js';
import { TerminalUi } from './emulator/terminal-ui.js';
import type { EmulatorWebServer } from './emulator/web-server.js';
import { buildHardware, type Hardware } from './hardware.js';
import { lineText, userAgentOptions } from './line-status.js';
import type { MediaEngine } from './media/media-engine.js';
import { startMedia } from './media-setup.js';
import { Phone } from './phone/phone.js';
import { PhoneState } from './phone/phone-state.js';
import { GLYPH_SLOTS } from './phone/screens.js';
import { UaCallService } from './phone/ua-call-service.js';
import { dialPlanOf, openStores, phonebookOf, phoneConfigChecks, ringOf, type PhoneStores } from './phone-setup.js';
import { startProvisioning } from './provisioning-setup.js';
import type { Clock } from './util/clock.js';
import type { Logger } from './util/log.js';
import { UserAgent } from './sip/ua/index.js';
import { NetworkWatch } from './sip/ua/network-watch.js';
import { SystemdNotifier } from './systemd/sd-notify.js';
import { firmwareVersion } from './version.js';
import { loadGlyphs } from '../hal/display/glyphs.js';

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
   * The config's layers as loadConfig(file, { provisioned: true }) read them: with them the phone
   * runs provisioning (when the config names a server) and restarts with a changed config.
   */
  loaded?: Pick<LoadedConfig, 'local' | 'provisioned' | 'provisionedProblem'> | undefined;
}

/** How the phone ended: an exit status, or 'restart' (a new provisioned config: start it again with the config reloaded). */
export type PhoneExit = number | 'restart';

export interface RunningPhone {
  hardware: Hardware;
  /** The SIP user agent, when the config has accounts. */
  ua: UserAgent | undefined;
  /** The media engine, undefined when it could not be loaded (then calls have no media). */
  media: MediaEngine | undefined;
  /** The user agent as the phone's call service. */
  calls: UaCallService | undefined;
  /** Call history and settings under the state directory. */
  stores: PhoneStores;
  phone: Phone;
  /** Running while the config names a provisioning server. */
  provisioner: Provisioner | undefined;
  stop(): Promise<void>;
  /** Resolves with the exit status when the phone stops (a signal, or q in the terminal), or 'restart'. */
  done: Promise<PhoneExit>;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export async function startPhone(o: StartOptions): Promise<RunningPhone> {
  const log = o.log;
  const config = o.config;
  const hardware = await buildHardware({ board: o.board, clock: o.clock, log, devDir: o.devDir });
  await hardware.display.init();
  await loadGlyphs(hardware.display, GLYPH_SLOTS);

  // Media: the native engine with the board's (or the config's) audio device; failures are shown, not fatal.
  const media = startMedia({ config, board: o.board, log, engine: o.media });
  const stores = await openStores({ config, board: o.board, clock: o.clock, log });

  // SIP: one user agent for the configured accounts, with calls on the engine; a socket that cannot be opened is shown on the LCD.
  let ua: UserAgent | undefined;
  let sipProblem: string | undefined;
  if (config.accounts.length > 0) {
    const factory = media.engine ? mediaHandlerFactory(config, { engine: media.engine, ua: () => ua, log: log.child({ mod: 'call' }) }) : undefined;
    try {
      ua = new UserAgent({ ...userAgentOptions(config, firmwareVersion()), calls: callOptions(config, factory), clock: o.clock, logger: log.child({ mod: 'sip' }) });
    } catch (err) {
      sipProblem = `SIP: ${message(err)}`;
      log.error({ err }, 'the SIP configuration cannot be used');
    }
  }
  const calls = ua
    ? new UaCallService({ ua, statsOf: (s) => (s.handler instanceof SdpMediaHandler ? s.handler.stream?.getStats() : undefined), dndStatus: dndStatus(config) })
    : undefined;

  // A device that failed is shown on what remains: the LCD names it when the LCD itself works.
  const missing = hardware.problems.map((p) => p.device);
  const problem = (): string | undefined => {
    if (missing.length > 0) return `No ${missing.join(', ')}`;
    return sipProblem ?? media.problem();
  };
  const accountStatus = (): string => {
    const p = problem();
    if (p !== undefined) return p;
    const status = ua?.snapshot().accounts[0];
    return status ? lineText(status.aor, status.line) : 'No account';
  };

  const phone = new Phone({
    display: hardware.display,
    keypad: hardware.keypad,
    hook: hardware.hook,
    leds: hardware.leds,
    ringer: hardware.ringer,
    clock: o.clock,
    log,
    format: config.display,
    calls,
    media: media.engine,
    dialPlan: dialPlanOf(config),
    toneCountry: config.tones.country,
    ring: ringOf(config, o.board),
    history: stores.history,
    settings: stores.settings,
    phonebook: phonebookOf(config),
    callWaiting: config.features.callWaiting,
    features: { forward: config.features.forward, autoAnswer: config.features.autoAnswer, hotline: config.features.hotline },
    accountStatus,
    problem,
  });
  // Subscribed before the UA starts: a registration can complete while the LCD is still drawing.
  const unsubscribeUa = ua?.on('registration', () => void phone.refresh());
  const unsubscribeMedia = media.engine?.on('deviceError', () => void phone.refresh());
  const unsubscribeRecovered = media.engine?.on('deviceRecovered', () => void phone.refresh());
  await phone.start();
  let watch: NetworkWatch | undefined;
  if (ua) {
    try {
      await ua.start();
      // A new address (DHCP, cable, roaming) must be registered again at once (RFC 3261 §10.2.4).
      const agent = ua;
      watch = new NetworkWatch({
        clock: o.clock,
        onChange: (change) => {
          log.info(change, 'network addresses changed: registering again');
          agent.networkChanged();
        },
      });
      watch.start();
    } catch (err) {
      sipProblem = `SIP: ${message(err)}`;
      log.error({ err }, 'the SIP user agent could not start');
      unsubscribeUa?.();
      ua = undefined;
      await phone.refresh();
    }
  }

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
      for (const s of ua?.sessions ?? []) s.hangup();
      calls?.close();
      unsubscribeUa?.();
      unsubscribeMedia?.();
      unsubscribeRecovered?.();
      watch?.stop();
      await ua?.stop();
      await phone.stop();
      media.close();
      await stores.close();
      await hardware.close();
      resolveDone(exit);
    })();
    return stopping;
  };
  const stop = (): Promise<void> => shutdown(0);

  // A new provisioned config: restart with it (the caller reloads the config) once no call is up.
  const restartWhenIdle = (): void => {
    if (stopping) return;
    if (phone.currentState === PhoneState.Idle && phone.activeCalls.length === 0) {
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

  if (hardware.panel && (o.terminal ?? o.board.gpio.backend === 'emulated')) {
    ui = new TerminalUi({ panel: hardware.panel, input: o.stdin, output: o.stdout, clock: o.clock, glyphSymbols: GLYPH_SLOTS.map((n) => TERMINAL_GLYPHS[n]), onQuit: () => void stop() });
    ui.start();
  }
  if (hardware.panel && o.web) {
    const status = userAgentStatus({ ua: () => ua, problem, calls: () => phone.activeCalls });
    const settings = { settings: o.web, panel: hardware.panel, firstAor: config.accounts[0]?.aor, status, clock: o.clock, log, announce: (line: string) => o.stdout.write(line) };
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
  log.info({ board: o.board.name, problems: hardware.problems.length, media: media.engine !== undefined, stateDir: stores.dir }, 'phone ready');
  systemd.ready();
  return { hardware, ua, media: media.engine, calls, stores, phone, provisioner, stop, done };
}
