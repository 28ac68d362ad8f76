// Command-line parsing for `offhook`: commands, flags, usage text. Pure, so it is tested without a process.
import { parseArgs } from 'node:util';
import { DEMO_MAX_PHONES } from './config/demo-config.js';
import { UI_MODES, type UiMode } from './emulator/front-end.js';
import { LOG_LEVELS, type LogLevel } from './util/log.js';

export const USAGE = `Usage:
  offhook [--config FILE] [--board NAME|FILE] [--log-level LEVEL] [--phones N]
          [--ui web|terminal|none] [--no-ui] [--http-port N] [--http-address ADDR]
      Run the phone. On the emulator board it serves a page that draws the phone, and a
      control API, at http://127.0.0.1:8080/ (--ui web, the default). --ui terminal draws
      the LCD in the terminal and reads keys from stdin: 0-9 * #, a-d for the softkeys
      A-D, h lifts / replaces the handset, q quits. --no-ui (--ui none) runs only the
      control API. On the emulator board without a config file (and not --ui terminal)
      it runs the built-in demo: phones 100 and 101 side by side, calling each other over
      SIP on 127.0.0.1 without a server.
  offhook hash-password
      Read a password (twice on a terminal, or one line from stdin) and print its hash
      for emulator.passwordHash in the config.
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
  --phones N          Emulator board: the built-in demo with N phones (1-${DEMO_MAX_PHONES}), 100, 101, ...
                      on SIP ports 5160, 5161, ... (default: 2 when there is no config file).
  --seconds N         hwtest: how long to echo keys and the hook (0 skips that step).
  --ui MODE           Emulator front end: web (default), terminal or none.
  --no-ui             The same as --ui none: the control API only (headless).
  --http-port N       Port of the page and control API (default 8080; 0 = any free
                      port, the URL is printed).
  --http-address A    Address to listen on (default 127.0.0.1); any other address
                      needs emulator.passwordHash in the config.
`;

export interface CliOptions {
  config: string | undefined;
  board: string | undefined;
  logLevel: LogLevel | undefined;
  seconds: number;
  /** Emulator front end; undefined: the default for the board. */
  ui?: UiMode | undefined;
  httpPort?: number | undefined;
  httpAddress?: string | undefined;
  /** `--phones N`: the emulator's built-in demo with N phones instead of a config file. */
  phones?: number | undefined;
}

export type CliCommand =
  | { kind: 'run'; options: CliOptions }
  | { kind: 'hwtest'; options: CliOptions }
  | { kind: 'hash-password' }
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
        ui: { type: 'string' },
        'no-ui': { type: 'boolean' },
        'http-port': { type: 'string' },
        'http-address': { type: 'string' },
        phones: { type: 'string' },
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
  if (positionals.length > 1 || (positionals[0] !== undefined && positionals[0] !== 'hwtest' && positionals[0] !== 'hash-password')) {
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
  if (positionals[0] === 'hash-password') return { kind: 'hash-password' };
  const web = parseWebFlags(values);
  if (typeof web === 'string') return { kind: 'usage-error', message: web };
  let phones: number | undefined;
  if (values.phones !== undefined) {
    phones = Number(values.phones);
    if (!/^\d+$/.test(values.phones) || phones < 1 || phones > DEMO_MAX_PHONES) return { kind: 'usage-error', message: `--phones must be a number from 1 to ${DEMO_MAX_PHONES}, got "${values.phones}"` };
    if (values.config !== undefined) return { kind: 'usage-error', message: '--phones runs the built-in demo and cannot be combined with --config (list the phones under `phones:` in the config instead)' };
  }
  const options: CliOptions = { config: values.config, board: values.board, logLevel: level as LogLevel | undefined, seconds, ...web, ...(phones !== undefined ? { phones } : {}) };
  return positionals[0] === 'hwtest' ? { kind: 'hwtest', options } : { kind: 'run', options };
}

/** --ui, --no-ui, --http-port, --http-address; a usage message when they are wrong. */
function parseWebFlags(values: { ui?: string | undefined; 'no-ui'?: boolean | undefined; 'http-port'?: string | undefined; 'http-address'?: string | undefined }): Pick<CliOptions, 'ui' | 'httpPort' | 'httpAddress'> | string {
  const ui = values['no-ui'] ? 'none' : values.ui;
  if (values['no-ui'] && values.ui !== undefined && values.ui !== 'none') return `--no-ui contradicts --ui ${values.ui}`;
  if (ui !== undefined && !(UI_MODES as readonly string[]).includes(ui)) return `--ui must be one of ${UI_MODES.join(', ')}, got "${ui}"`;
  let httpPort: number | undefined;
  if (values['http-port'] !== undefined) {
    httpPort = Number(values['http-port']);
    if (!/^\d+$/.test(values['http-port']) || httpPort > 65_535) return `--http-port must be a port number from 0 to 65535, got "${values['http-port']}"`;
  }
  if (values['http-address'] === '') return '--http-address must not be empty';
  const out: Pick<CliOptions, 'ui' | 'httpPort' | 'httpAddress'> = {};
  if (ui !== undefined) out.ui = ui as UiMode;
  if (httpPort !== undefined) out.httpPort = httpPort;
  if (values['http-address'] !== undefined) out.httpAddress = values['http-address'];
  return out;
}
