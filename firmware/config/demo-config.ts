// The emulator's built-in demo config: phones 100, 101, ... in one process, calling each other directly over SIP on 127.0.0.1 without a server.
import { buildConfig, parseConfigSource, type ConfigCheck, type LoadedConfig } from './config.js';

/** The first phone's extension and SIP port; phone i gets FIRST_EXT + i on FIRST_PORT + i. */
export const DEMO_FIRST_EXT = 100;
export const DEMO_FIRST_PORT = 5160;
/** At most this many phones (the schema's limit of `phones`). */
export const DEMO_MAX_PHONES = 8;
/** What error messages name as the demo's "file". */
export const DEMO_CONFIG_NAME = '(built-in emulator demo)';

/**
 * The demo as YAML, the same text a user would write for phones that call each other by address:
 * each phone an account that does not register (sip:100@127.0.0.1:5160), UDP and TCP listeners on
 * its port, calls taken from anyone (no proxy to come from), and a dialPlan.directory that sends
 * "101" to sip:101@127.0.0.1:5161. Audio stays the board's (null on the emulator board).
 */
export function demoConfigText(count = 2): string {
  if (!Number.isInteger(count) || count < 1 || count > DEMO_MAX_PHONES) throw new RangeError(`the demo runs 1 to ${DEMO_MAX_PHONES} phones, not ${count}`);
  const phones = Array.from({ length: count }, (_, i) => ({ ext: String(DEMO_FIRST_EXT + i), port: DEMO_FIRST_PORT + i }));
  return [
    `# ${DEMO_CONFIG_NAME}: ${count} phone${count === 1 ? '' : 's'} calling each other over SIP on 127.0.0.1, no server.`,
    'sip:',
    '  acceptCallsFrom: any',
    'dialPlan:',
    '  directory:',
    ...phones.map((p) => `    "${p.ext}": sip:${p.ext}@127.0.0.1:${p.port}`),
    'phones:',
    ...phones.flatMap((p) => [
      `  - name: "${p.ext}"`,
      `    accounts: [{ aor: "sip:${p.ext}@127.0.0.1:${p.port}", password: "", displayName: "Phone ${p.ext}", register: false, mwi: "off" }]`,
      '    sip:',
      `      listen: [{ transport: udp, address: 127.0.0.1, port: ${p.port} }, { transport: tcp, address: 127.0.0.1, port: ${p.port} }]`,
    ]),
    '',
  ].join('\n');
}

/** The demo as a loaded config (no file, no provisioning). */
export function loadDemoConfig(count = 2, checks?: ConfigCheck): LoadedConfig {
  const local = parseConfigSource(demoConfigText(count), DEMO_CONFIG_NAME);
  return { file: undefined, config: buildConfig({ local }, checks), local };
}
