// One phone of the composition root: its board (hardware), media engine, stores, SIP user agent with calls, and the phone on top, started and stopped together.
import { EngineAudioControls } from './audio-controls.js';
import { SdpMediaHandler } from './call/sdp-media-handler.js';
import { callOptions, dndStatus, mediaHandlerFactory } from './call-setup.js';
import type { BoardProfile } from './config/board-schema.js';
import type { OffhookConfig } from './config/config-schema.js';
import type { BrowserAudioPort } from './emulator/browser-audio.js';
import type { PhoneStatusSource } from './emulator/phone-status.js';
import { userAgentStatus } from './emulator/start-server.js';
import { buildHardware, type Hardware } from './hardware.js';
import { lineText, userAgentOptions } from './line-status.js';
import type { MediaEngine } from './media/media-engine.js';
import { startMedia } from './media-setup.js';
import { Phone } from './phone/phone.js';
import { PhoneState } from './phone/phone-state.js';
import { GLYPH_SLOTS } from './phone/screens.js';
import { type ConferenceMixer, UaCallService } from './phone/ua-call-service.js';
import { dialPlanOf, openStores, phonebookOf, ringOf, type PhoneStores } from './phone-setup.js';
import { UserAgent } from './sip/ua/index.js';
import { NetworkWatch } from './sip/ua/network-watch.js';
import type { Clock } from './util/clock.js';
import type { Logger } from './util/log.js';
import { firmwareVersion } from './version.js';
import { loadGlyphs } from '../hal/display/glyphs.js';

export interface PhoneInstanceOptions {
  /** The phone's name in the emulator's URLs; undefined: named after its first account. */
  name: string | undefined;
  config: OffhookConfig;
  board: BoardProfile;
  log: Logger;
  clock: Clock;
  /** Where GPIO character devices are looked for (default /dev). */
  devDir?: string | undefined;
  /** The media engine to use instead of the native one (tests: MockMediaEngine); it is closed at stop. */
  media?: MediaEngine | undefined;
  /** Keep the stores in this subdirectory of the state directory (one of several phones sharing it). */
  stateSubdir?: string | undefined;
}

/** A phone built and started: what the composition root wires to its front ends. */
export interface PhoneInstance {
  readonly name: string | undefined;
  readonly config: OffhookConfig;
  readonly hardware: Hardware;
  /** The SIP user agent, when the config has accounts and it could start. */
  readonly ua: UserAgent | undefined;
  /** The media engine, undefined when it could not be loaded (then calls have no media). */
  readonly media: MediaEngine | undefined;
  /** The engine's microphone and speaker for the emulator's page (`media.audio.backend: browser`). */
  readonly browserAudio: BrowserAudioPort | undefined;
  /** The user agent as the phone's call service. */
  readonly calls: UaCallService | undefined;
  /** Call history and settings under the state directory. */
  readonly stores: PhoneStores;
  readonly phone: Phone;
  /** Lines and calls for the emulator's control API. */
  readonly status: PhoneStatusSource;
  /** No call up and the handset down: the phone may restart. */
  idle(): boolean;
  /** Calls hung up, the UA unregistered and stopped, then the phone, the engine, the stores and the hardware closed. */
  close(): Promise<void>;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Builds one phone from its config and board profile and starts it. A device, an audio device or
 * a SIP socket that fails is shown on the LCD (or what remains of the hardware), never fatal.
 */
export async function startPhoneInstance(o: PhoneInstanceOptions): Promise<PhoneInstance> {
  const config = o.config;
  const log = o.name !== undefined ? o.log.child({ phone: o.name }) : o.log;
  const hardware = await buildHardware({ board: o.board, clock: o.clock, log, devDir: o.devDir });
  await hardware.display.init();
  await loadGlyphs(hardware.display, GLYPH_SLOTS);

  // Media: the native engine with the board's (or the config's) audio device; failures are shown, not fatal.
  const media = startMedia({ config, board: o.board, log, engine: o.media });
  const stores = await openStores({ config, board: o.board, clock: o.clock, log, subdir: o.stateSubdir });
  // Volume and mute on the engine: the config's per-path gains and the persisted volume steps from the start.
  const audio = media.engine ? new EngineAudioControls({ engine: media.engine, paths: config.media.paths, log: log.child({ mod: 'audio' }) }) : undefined;
  audio?.start(stores.settings.settings.volume);

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
    ? new UaCallService({
        ua,
        statsOf: (s) => (s.handler instanceof SdpMediaHandler ? s.handler.stream?.getStats() : undefined),
        conferenceMixer: media.engine && conferenceMixer(media.engine),
        dndStatus: dndStatus(config),
        directory: config.dialPlan.directory,
      })
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
    audio,
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
  const agent = ua;
  const status = userAgentStatus({ ua: () => agent, problem, calls: () => phone.activeCalls });

  let closing: Promise<void> | undefined;
  return {
    name: o.name,
    config,
    hardware,
    ua: agent,
    media: media.engine,
    browserAudio: media.browserAudio,
    calls,
    stores,
    phone,
    status,
    idle: () => phone.currentState === PhoneState.Idle && phone.activeCalls.length === 0,
    close: () => {
      closing ??= (async () => {
        for (const s of agent?.sessions ?? []) s.hangup();
        calls?.close();
        unsubscribeUa?.();
        unsubscribeMedia?.();
        unsubscribeRecovered?.();
        watch?.stop();
        await agent?.stop();
        await phone.stop();
        media.close();
        await stores.close();
        await hardware.close();
      })();
      return closing;
    },
  };
}

/** The engine's mix-minus mixer over the streams of the SDP media handlers (MediaEngine.joinConference). */
function conferenceMixer(engine: MediaEngine): ConferenceMixer {
  return {
    streamOf: (s) => (s.handler instanceof SdpMediaHandler ? s.handler.stream : undefined),
    join: (streams) => engine.joinConference(streams),
    split: () => engine.splitConference(),
  };
}
