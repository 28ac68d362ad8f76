// The emulator's front end for a run, from the flags and the config: the web page, the terminal, or the control API alone.
import type { EmulatorConfig } from '../config/emulator-schema.js';
import { addressProblem } from './password.js';

/** `--ui`: the page (with the control API), the terminal drawing, or the control API alone (`--no-ui`). */
export const UI_MODES = ['web', 'terminal', 'none'] as const;
export type UiMode = (typeof UI_MODES)[number];

/** Where and how the emulator's server listens (flags over the config's emulator section). */
export interface EmulatorServerSettings {
  port: number;
  address: string;
  passwordHash: string | undefined;
  /** Serve the page too (`--ui web`); false: the control API only (`--no-ui`). */
  page: boolean;
}

export interface FrontEndChoice {
  /** Draw the board in the terminal and read keys from stdin. */
  terminal: boolean;
  /** Run the web server: page and control API, or the API alone. */
  web: EmulatorServerSettings | undefined;
}

/**
 * The front end of a run: on a board with emulated chips, `web` by default; elsewhere none (a real
 * phone has its own LCD and keys). Returns a sentence for the user when the settings cannot work.
 */
export function chooseFrontEnd(o: { ui: UiMode | undefined; httpPort: number | undefined; httpAddress: string | undefined; emulated: boolean; config: EmulatorConfig }): FrontEndChoice | { error: string } {
  const ui = o.ui ?? (o.emulated ? 'web' : 'none');
  if (!o.emulated) {
    if (o.ui === 'web' || o.ui === 'terminal') return { error: `--ui ${o.ui} needs a board with emulated chips (--board emulator)` };
    return { terminal: false, web: undefined };
  }
  if (ui === 'terminal') return { terminal: true, web: undefined };
  const web: EmulatorServerSettings = { port: o.httpPort ?? o.config.httpPort, address: o.httpAddress ?? o.config.httpAddress, passwordHash: o.config.passwordHash, page: ui === 'web' };
  const problem = addressProblem(web.address, web.passwordHash);
  return problem ? { error: problem } : { terminal: false, web };
}

