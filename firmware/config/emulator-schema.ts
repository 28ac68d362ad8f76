// The `emulator` section of the configuration file: where the emulator's web page and control API listen, and their password.
import { number, object, optional, section, string, withDefault, type Infer } from './schema.js';

/**
 * `scrypt$N$r$p$salt$hash` with the salt and the derived key in base64, as `offhook hash-password`
 * prints it (firmware/emulator/password.ts makes and checks it).
 */
export const PASSWORD_HASH_PATTERN = /^scrypt\$(\d+)\$(\d+)\$(\d+)\$([A-Za-z0-9+/]+={0,2})\$([A-Za-z0-9+/]+={0,2})$/;

const emulator = object({
  /** TCP port of the page and the control API; 0 picks a free one (the URL is printed). */
  httpPort: withDefault(number({ integer: true, min: 0, max: 65_535 }), 8080),
  /** Address to listen on. Anything but a loopback address requires passwordHash. */
  httpAddress: withDefault(string({ minLength: 1 }), '127.0.0.1'),
  /** The password's scrypt hash; when set, every request needs the password (HTTP Basic or Bearer). */
  passwordHash: optional(string({ pattern: PASSWORD_HASH_PATTERN, patternName: 'a hash printed by `offhook hash-password` (scrypt$N$r$p$salt$hash)' })),
});

/** The section as a field of the config schema: `emulator: emulatorSection` in configSchema's object. */
export const emulatorSection = section(emulator);

export type EmulatorConfig = Infer<typeof emulator>;

export const EMULATOR_DEFAULTS: Readonly<EmulatorConfig> = Object.freeze({ httpPort: 8080, httpAddress: '127.0.0.1', passwordHash: undefined });

/** The emulator section of a loaded config; the defaults while config-schema.ts does not list the section. */
export function emulatorConfigOf(config: object): EmulatorConfig {
  const section = (config as { emulator?: EmulatorConfig }).emulator;
  return section ?? { ...EMULATOR_DEFAULTS };
}
