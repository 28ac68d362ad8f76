// The composition root: builds the hardware from the board profile, the phone on top, and the emulator front end.
import type { BoardProfile } from './config/board-schema.js';
import type { OffhookConfig } from './config/config-schema.js';
import type { EmulatorServerSettings } from './emulator/front-end.js';
import { startEmulatorServer, userAgentStatus } from './emulator/start-server.js';
import { TerminalUi } from './emulator/terminal-ui.js';
import type { EmulatorWebServer } from './emulator/web-server.js';
import { buildHardware, type Hardware } from './hardware.js';
import { lineText, userAgentOptions } from './line-status.js';
import { Phone } from './phone/phone.js';
import { GLYPH_SLOTS } from './phone/screens.js';
import type { Clock } from './util/clock.js';
import type { Logger } from './util/log.js';
import { UserAgent } from './sip/ua/index.js';
import { NetworkWatch } from './sip/ua/network-watch.js';
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
}

export interface RunningPhone {
  hardware: Hardware;
  /** The SIP user agent, when the config has accounts. */
  ua: UserAgent | undefined;
  phone: Phone;
  stop(): Promise<void>;
  /** Resolves with the exit status when the phone stops (a signal, or q in the terminal). */
  done: Promise<number>;
}

export async function startPhone(o: StartOptions): Promise<RunningPhone> {
  const log = o.log;
  const hardware = await buildHardware({ board: o.board, clock: o.clock, log, devDir: o.devDir });
  await hardware.display.init();
  await loadGlyphs(hardware.display, GLYPH_SLOTS);

  // SIP: one user agent for the configured accounts; a socket that cannot be opened is shown on the LCD.
  let ua: UserAgent | undefined;
  let sipProblem: string | undefined;
  if (o.config.accounts.length > 0) {
    try {
      ua = new UserAgent({ ...userAgentOptions(o.config, firmwareVersion()), clock: o.clock, logger: log.child({ mod: 'sip' }) });
    } catch (err) {
      sipProblem = `SIP: ${err instanceof Error ? err.message : String(err)}`;
      log.error({ err }, 'the SIP configuration cannot be used');
    }
  }

  // A device that failed is shown on what remains: the LCD names it when the LCD itself works.
  const missing = hardware.problems.map((p) => p.device);
  const accountStatus = (): string => {
    if (missing.length > 0) return `No ${missing.join(', ')}`;
    if (sipProblem) return sipProblem;
    const status = ua?.snapshot().accounts[0];
    return status ? lineText(status.aor, status.line) : 'No account';
  };

  const phone = new Phone({
    display: hardware.display,
    keypad: hardware.keypad,
    hook: hardware.hook,
    leds: hardware.leds,
    clock: o.clock,
    log,
    format: o.config.display,
    accountStatus,
  });
  // Subscribed before the UA starts: a registration can complete while the LCD is still drawing.
  const unsubscribeUa = ua?.on('registration', () => void phone.refresh());
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
      sipProblem = `SIP: ${err instanceof Error ? err.message : String(err)}`;
      log.error({ err }, 'the SIP user agent could not start');
      unsubscribeUa?.();
      ua = undefined;
      await phone.refresh();
    }
  }

  let ui: TerminalUi | undefined;
  let web: EmulatorWebServer | undefined;
  let resolveDone: (code: number) => void = () => undefined;
  const done = new Promise<number>((resolve) => (resolveDone = resolve));
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      log.info('offhook stopping');
      ui?.stop();
      await web?.close();
      unsubscribeUa?.();
      watch?.stop();
      await ua?.stop();
      await phone.stop();
      await hardware.close();
      resolveDone(0);
    })();
    return stopping;
  };

  if (hardware.panel && (o.terminal ?? o.board.gpio.backend === 'emulated')) {
    ui = new TerminalUi({ panel: hardware.panel, input: o.stdin, output: o.stdout, clock: o.clock, glyphSymbols: GLYPH_SLOTS.map((n) => TERMINAL_GLYPHS[n]), onQuit: () => void stop() });
    ui.start();
  }
  if (hardware.panel && o.web) {
    const status = userAgentStatus({ ua: () => ua, problem: () => (missing.length > 0 || sipProblem ? accountStatus() : undefined) });
    const settings = { settings: o.web, panel: hardware.panel, firstAor: o.config.accounts[0]?.aor, status, clock: o.clock, log, announce: (line: string) => o.stdout.write(line) };
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
  }
  log.info({ board: o.board.name, problems: hardware.problems.length }, 'phone ready');
  return { hardware, ua, phone, stop, done };
}
