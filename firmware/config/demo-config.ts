// The emulator's built-in demo config: phones 100, 101, ... in one process, calling each other directly over SIP on 127.0.0.1 without a server.
import { buildConfig, parseConfigSource, type ConfigCheck, type LoadedConfig } from './config.js';

/** The first phone's extension and SIP port; phone i gets FIRST_EXT + i on FIRST_PORT + i. */
export const DEMO_FIRST_EXT = 100;
export const DEMO_FIRST_PORT = 5160;
/** At most this many phones (the schema's limit of `phones`). */
export const DEMO_MAX_PHONES = 8;
/** What error messages name as the demo's "file". */
export const DEMO_CONFIG_NAME = '(built-in emulator demo)';

/** The echo of the demo's other phones: what they hear comes back this much later. */
export const DEMO_ECHO_DELAY_MS = 500;

/**
 * The demo as YAML, the same text a user would write for phones that call each other by address:
 * each phone an account that does not register (sip:100@127.0.0.1:5160), UDP and TCP listeners on
 * its port, calls taken from anyone (no proxy to come from), and a dialPlan.directory that sends
 * "101" to sip:101@127.0.0.1:5161.
 *
 * Audio, for one person at one desktop: the first phone's microphone and speaker are the page's
 * (`browser`: the page asks for the microphone when its handset is lifted or its audio button is
 * clicked), and every other phone is an echo test (`file` with an echo and no files): call 101 from
 * 100 and you hear yourself half a second later, through both engines, RTP and the page. Two phones
 * on the page's audio would leave the far end mute (the page gives its audio to one phone at a time).
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
    ...phones.flatMap((p, i) => [
      `  - name: "${p.ext}"`,
      `    accounts: [{ aor: "sip:${p.ext}@127.0.0.1:${p.port}", password: "", displayName: "Phone ${p.ext}", register: false, mwi: "off" }]`,
      '    sip:',
      `      listen: [{ transport: udp, address: 127.0.0.1, port: ${p.port} }, { transport: tcp, address: 127.0.0.1, port: ${p.port} }]`,
      i === 0
        ? '    media: { audio: { backend: browser } }                         # the page\'s microphone and speaker'
        : `    media: { audio: { backend: file, echo: { delayMs: ${DEMO_ECHO_DELAY_MS} } } }   # an echo test: you hear yourself`,
    ]),
    '',
  ].join('\n');
}

/** The demo as a loaded config (no file, no provisioning). */
export function loadDemoConfig(count = 2, checks?: ConfigCheck): LoadedConfig {
  const local = parseConfigSource(demoConfigText(count), DEMO_CONFIG_NAME);
  return { file: undefined, config: buildConfig({ local }, checks), local };
}
