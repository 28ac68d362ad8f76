// The `offhook` command: parses the command line, loads config and board, and runs the phone or the hardware test.
import { parseCli, USAGE, type CliOptions } from './cli-args.js';
import { detectBoard, loadBoard, type LoadedBoard } from './config/board.js';
import { loadConfig, type LoadedConfig } from './config/config.js';
import { ConfigError } from './config/config-error.js';
import { DEMO_CONFIG_NAME, loadDemoConfig } from './config/demo-config.js';
import { phoneConfigsOf, type PhoneConfig } from './config/phones.js';
import { emulatorConfigOf } from './config/emulator-schema.js';
import { chooseFrontEnd } from './emulator/front-end.js';
import { runHashPassword } from './emulator/hash-password-command.js';
import { EmulatorServerError } from './emulator/web-server.js';
import { runHwtest } from './hwtest.js';
import { startPhone } from './main.js';
import { phoneConfigChecks } from './phone-setup.js';
import { runSelftest } from './selftest.js';
import { RealClock } from './util/clock.js';
import { createLogger, type Logger } from './util/log.js';
import { firmwareVersion } from './version.js';

interface Setup {
  config: LoadedConfig;
  /** The phones to run: the config's `phones`, or the one phone of the config. */
  phones: PhoneConfig[];
  board: LoadedBoard;
  log: Logger;
}

/** Loads config and board; a broken file prints every problem (file:line:column: field: expected) and exits 1. */
function setup(options: CliOptions): Setup | undefined {
  try {
    // The local file over the last good provisioned config; the phone's digit map and phonebook checks give line:column too.
    let config = loadConfig(options.config, { provisioned: true, checks: phoneConfigChecks });
    const board = loadBoard(options.board ?? config.config.board ?? detectBoard());
    // The emulator without a config file (or with --phones N) runs the built-in demo: phones calling each other on 127.0.0.1.
    // Not by default in the terminal, which draws one phone: there it stays the one phone without an account.
    const noFile = config.file === undefined && config.provisioned === undefined;
    const demo = board.profile.gpio.backend === 'emulated' && (options.phones !== undefined || (noFile && options.ui !== 'terminal'));
    if (demo) config = loadDemoConfig(options.phones ?? 2, phoneConfigChecks);
    const phones = phoneConfigsOf(config, phoneConfigChecks);
    const log = createLogger({ level: options.logLevel ?? config.config.log.level, file: config.config.log.file });
    log.info({ version: firmwareVersion(), config: demo ? DEMO_CONFIG_NAME : (config.file ?? '(defaults)'), board: board.file, phones: phones.length }, 'offhook starting');
    return { config, phones, board, log };
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`offhook: configuration error\n${err.message}\n`);
      return undefined;
    }
    throw err;
  }
}

export async function cli(argv: readonly string[]): Promise<number> {
  if (argv.length === 1 && argv[0] === 'selftest') return runSelftest({ output: process.stdout });
  const cmd = parseCli(argv);
  switch (cmd.kind) {
    case 'help':
      process.stdout.write(USAGE);
      return 0;
    case 'version':
      process.stdout.write(`offhook ${firmwareVersion()}\n`);
      return 0;
    case 'usage-error':
      process.stderr.write(`offhook: ${cmd.message}\n\n${USAGE}`);
      return 2;
    case 'hash-password':
      return runHashPassword({ input: process.stdin, output: process.stdout, messages: process.stderr });
    case 'hwtest': {
      const s = setup(cmd.options);
      if (!s) return 1;
      return runHwtest({ board: s.board.profile, log: s.log, clock: new RealClock(), seconds: cmd.options.seconds, input: process.stdin, output: process.stdout });
    }
    case 'run': {
      // A new provisioned config ends the phone with 'restart': the config is read again and the phone built anew.
      for (;;) {
        const s = setup(cmd.options);
        if (!s) return 1;
        const o = cmd.options;
        const front = chooseFrontEnd({ ui: o.ui, httpPort: o.httpPort, httpAddress: o.httpAddress, emulated: s.board.profile.gpio.backend === 'emulated', config: emulatorConfigOf(s.config.config) });
        if ('error' in front) {
          process.stderr.write(`offhook: ${front.error}\n`);
          return 1;
        }
        try {
          const phone = await startPhone({ config: s.config.config, phones: s.phones, loaded: s.config, board: s.board.profile, log: s.log, clock: new RealClock(), stdin: process.stdin, stdout: process.stdout, ...front });
          const exit = await phone.done;
          if (exit !== 'restart') return exit;
        } catch (err) {
          if (!(err instanceof EmulatorServerError)) throw err;
          process.stderr.write(`offhook: ${err.message}\n`);
          return 1;
        }
      }
    }
  }
}

cli(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`offhook: fatal: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
