// Command-line parsing for `offhook`: commands, flags, usage text. Pure, so it is tested without a process.
import { parseArgs } from 'node:util';
import { LOG_LEVELS, type LogLevel } from './util/log.js';

export const USAGE = `Usage:
  offhook [--config FILE] [--board NAME|FILE] [--log-level LEVEL]
      Run the phone. The emulator board draws its LCD in the terminal and reads keys
      from stdin: 0-9 * #, a-d for the softkeys A-D, h lifts / replaces the handset, q quits.
  offhook hwtest [--config FILE] [--board NAME|FILE] [--seconds N]
      Test the board's hardware: scan the I2C bus, draw a test pattern, blink the LEDs,
      ring the buzzer, echo key presses and hook changes for N seconds (default 30),
      then print a report.
  offhook --help      Show this text.
  offhook --version   Show the version.

Options:
  --config FILE       Configuration file (default /etc/offhook/offhook.yaml; optional).
  --board NAME|FILE   Board profile: rpi4, rpi5, zero2w, rpi4-usb-handset, emulator, or a
                      YAML file (default: from the config, else detected from the device tree).
  --log-level LEVEL   One of ${LOG_LEVELS.join(', ')} (overrides the config).
  --seconds N         hwtest: how long to echo keys and the hook (0 skips that step).
`;

export interface CliOptions {
  config: string | undefined;
  board: string | undefined;
  logLevel: LogLevel | undefined;
  seconds: number;
}

export type CliCommand =
  | { kind: 'run'; options: CliOptions }
  | { kind: 'hwtest'; options: CliOptions }
  | { kind: 'help' }
  | { kind: 'version' }
  | { kind: 'usage-error'; message: string };

export function parseCli(argv: readonly string[]): CliCommand {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        config: { type: 'string' },
        board: { type: 'string' },
        'log-level': { type: 'string' },
        seconds: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'V' },
      },
    });
  } catch (err) {
    return { kind: 'usage-error', message: err instanceof Error ? err.message : String(err) };
  }
  const { values, positionals } = parsed;
  if (values.help) return { kind: 'help' };
  if (values.version) return { kind: 'version' };
  if (positionals.length > 1 || (positionals[0] !== undefined && positionals[0] !== 'hwtest')) {
    return { kind: 'usage-error', message: `unknown command "${positionals.join(' ')}"` };
  }
  const level = values['log-level'];
  if (level !== undefined && !(LOG_LEVELS as readonly string[]).includes(level)) {
    return { kind: 'usage-error', message: `--log-level must be one of ${LOG_LEVELS.join(', ')}, got "${level}"` };
  }
  let seconds = 30;
  if (values.seconds !== undefined) {
    seconds = Number(values.seconds);
    if (!Number.isFinite(seconds) || seconds < 0 || seconds > 3600) return { kind: 'usage-error', message: `--seconds must be a number from 0 to 3600, got "${values.seconds}"` };
  }
  const options: CliOptions = { config: values.config, board: values.board, logLevel: level as LogLevel | undefined, seconds };
  return positionals[0] === 'hwtest' ? { kind: 'hwtest', options } : { kind: 'run', options };
}
