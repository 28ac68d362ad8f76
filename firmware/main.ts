// The composition root: builds the hardware from the board profile, the phone on top, and the emulator front end.
import type { BoardProfile } from './config/board-schema.js';
import type { OffhookConfig } from './config/config-schema.js';
import { TerminalUi } from './emulator/terminal-ui.js';
import { buildHardware, type Hardware } from './hardware.js';
import { Phone } from './phone/phone.js';
import { GLYPH_SLOTS } from './phone/screens.js';
import type { Clock } from './util/clock.js';
import type { Logger } from './util/log.js';
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
  /** Where GPIO character devices are looked for (default /dev). */
  devDir?: string;
  /** Handle SIGINT / SIGTERM (default true). */
  signals?: boolean;
}

export interface RunningPhone {
  hardware: Hardware;
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

  // A device that failed is shown on what remains: the LCD names it when the LCD itself works.
  const missing = hardware.problems.map((p) => p.device);
  const accountStatus = (): string => (missing.length > 0 ? `No ${missing.join(', ')}` : 'No account');

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
  await phone.start();

  let ui: TerminalUi | undefined;
  let resolveDone: (code: number) => void = () => undefined;
  const done = new Promise<number>((resolve) => (resolveDone = resolve));
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      log.info('offhook stopping');
      ui?.stop();
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
  if (o.signals ?? true) {
    const onSignal = (sig: NodeJS.Signals): void => {
      log.info({ signal: sig }, 'signal');
      void stop();
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  }
  log.info({ board: o.board.name, problems: hardware.problems.length }, 'phone ready');
  return { hardware, phone, stop, done };
}
