// The composition root's call wiring: startPhone with an account and a MockMediaEngine (UA calls options, RTP ports, stores, the control API's calls), and the setup helpers (media options, SRTP modes, port range, state directory, config checks).
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { callOptions, RtpPortRange, rtpBindAddress, srtpModes } from '../firmware/call-setup.js';
import { loadBoard } from '../firmware/config/board.js';
import { ConfigError } from '../firmware/config/config-error.js';
import { defaultConfig, loadConfig } from '../firmware/config/config.js';
import type { OffhookConfig } from '../firmware/config/config-schema.js';
import type { PhoneStatus } from '../firmware/emulator/phone-status.js';
import { startPhone } from '../firmware/main.js';
import { mediaEngineOptions, startMedia } from '../firmware/media-setup.js';
import { MockMediaEngine } from '../firmware/media/mock-media-engine.js';
import { openStores, phoneConfigChecks, ringOf, userStateDir } from '../firmware/phone-setup.js';
import { PhoneState } from '../firmware/phone/phone-state.js';
import { RealClock } from '../firmware/util/clock.js';
import { silentLogger } from '../firmware/util/log.js';

const emulator = loadBoard('emulator').profile;
const rpi4 = loadBoard('rpi4').profile;

function tmp(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A config from YAML lines, checked as the command line checks it. */
function configFrom(lines: string[]): OffhookConfig {
  const file = join(tmp('offhook-cfg-'), 'offhook.yaml');
  writeFileSync(file, `${lines.join('\n')}\n`);
  return loadConfig(file, { checks: phoneConfigChecks }).config;
}

async function waitFor(what: string, probe: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('startPhone with an account and an injected media engine', () => {
  it('builds the UA with calls on the engine: a call gets an RTP port of media.rtpPorts, the control API lists it, the history keeps it', async () => {
    const stateDir = tmp('offhook-state-');
    const config = configFrom([
      'accounts:',
      // Nothing answers at this registrar: the line fails, the call rings out into nothing.
      '  - { aor: "sip:1003@127.0.0.1:9", password: pw, register: false }',
      'sip:',
      '  listen: [{ transport: udp, address: 127.0.0.1, port: 0 }]',
      'media:',
      '  rtpPorts: { min: 20000, max: 20010 }',
      '  paths: { handset: { micGainDb: -2, speakerGainDb: 3 } }',
      `stateDir: ${stateDir}`,
    ]);
    const media = new MockMediaEngine({ clock: 'realtime' });
    const stdout = new PassThrough();
    let printed = '';
    stdout.on('data', (d: Buffer) => (printed += d.toString()));
    const running = await startPhone({
      config,
      board: emulator,
      log: silentLogger(),
      clock: new RealClock(),
      stdin: new PassThrough() as unknown as NodeJS.ReadStream,
      stdout: stdout as unknown as NodeJS.WriteStream,
      terminal: false,
      signals: false,
      media,
      web: { port: 0, address: '127.0.0.1', passwordHash: undefined, page: false },
    });
    const url = /(http:\/\/\S+\/)api\/state/.exec(printed)?.[1] ?? '';
    const calls = async (): Promise<PhoneStatus['calls']> => ((await (await fetch(`${url}api/state`)).json()) as { phone: PhoneStatus }).phone.calls;
    try {
      expect(running.media).toBe(media);
      // The volume and mute (EngineAudioControls): the config's per-path gains at the saved (middle) volume step.
      expect(media.gains.handset).toEqual({ micGainDb: -2, speakerGainDb: 3 });
      expect(media.gains.speaker).toEqual({ micGainDb: 0, speakerGainDb: 0 });
      expect(running.calls).toBeDefined();
      expect(running.stores.dir).toBe(stateDir);
      expect(running.stores.persistent).toBe(true);
      const panel = running.hardware.panel!;
      await panel.setHook(true);
      for (const key of '1002#') await panel.tapKey(key);
      await waitFor('the INVITE', () => running.ua?.sessions.length === 1);
      const stream = media.streams[0];
      expect(stream?.localRtpPort).toBeGreaterThanOrEqual(20000);
      expect(stream?.localRtpPort).toBeLessThanOrEqual(20008);
      expect((stream?.localRtpPort ?? 1) % 2).toBe(0);
      expect(stream?.options.local.address).toBe('127.0.0.1');
      expect(await calls()).toEqual([expect.objectContaining({ direction: 'outgoing', remote: '1002', line: 'sip:1003@127.0.0.1:9' })]);
      await panel.setHook(false);
      await waitFor('idle', () => running.phone.currentState === PhoneState.Idle);
      // The CANCEL waits for an answer that does not come: the call is over for the person, not yet for SIP.
      expect((await calls()).map((c) => c.state)).toEqual(['ended']);
    } finally {
      await running.stop();
    }
    expect(media.closed).toBe(true);
    expect(await running.done).toBe(0);
    // The CANCEL got no answer: the session ended when the UA stopped, before the stores were written.
    const file = JSON.parse(readFileSync(join(stateDir, 'history.json'), 'utf8')) as { data: { dialed: { number: string; outcome: string }[] } };
    expect(file.data.dialed[0]).toMatchObject({ number: '1002', outcome: 'cancelled' });
  });
});

describe('the setup helpers', () => {
  it('media: the board profile\'s device, or media.audio from the config; processing per path', () => {
    expect(mediaEngineOptions(defaultConfig(), emulator).audio).toEqual({ backend: 'null' });
    expect(mediaEngineOptions(defaultConfig(), rpi4).audio).toEqual({ backend: 'alsa', capture: 'plughw:CARD=wm8960soundcard,DEV=0', playback: 'plughw:CARD=wm8960soundcard,DEV=0' });
    const config = configFrom([
      'media:',
      '  audio: { backend: file, capture: /tmp/mic.wav, playback: /tmp/out.wav }',
      '  paths: { speaker: { aec: { enabled: false }, noiseSuppressionDb: -10 } }',
    ]);
    const o = mediaEngineOptions(config, rpi4);
    expect(o.audio).toEqual({ backend: 'file', capture: { wavPath: '/tmp/mic.wav', loop: true }, playbackWavPath: '/tmp/out.wav' });
    expect(o.audioProcessing?.speaker).toEqual({ aec: { enabled: false }, noiseSuppressionDb: -10 });
    expect(o.sampleRateHz).toBe(16000);
  });

  it('media: browser audio is the engine\'s external backend, with a port for the emulator\'s page; an echo test phone is file with an echo', () => {
    const browser = configFrom(['media:', '  audio: { backend: browser, prerollMs: 60 }']);
    expect(mediaEngineOptions(browser, emulator).audio).toEqual({ backend: 'external', capturePrerollMs: 60, captureBufferMs: 300 });
    const echo = configFrom(['media:', '  audio: { backend: file, echo: { delayMs: 300, gainDb: -3 } }']);
    expect(mediaEngineOptions(echo, emulator).audio).toEqual({ backend: 'file', echo: { delayMs: 300, gainDb: -3 } });
    const media = startMedia({ config: browser, board: emulator, log: silentLogger() });
    try {
      expect(media.engine?.getAudioStats()).toMatchObject({ backend: 'external', external: { captureQueuedFrames: 0 } });
      const port = media.browserAudio;
      expect(port?.sampleRateHz).toBe(16000);
      port?.pushCapture(new Int16Array(480));
      expect(media.engine?.getAudioStats().external?.capturePushedFrames).toBe(480);
      expect(port?.createResampler(48000, 16000).process(new Int16Array(4800)).length).toBeGreaterThan(1400);
    } finally {
      media.close();
    }
    // Another backend, or the page's audio with an engine that fell back to null: no port.
    const plain = startMedia({ config: defaultConfig(), board: emulator, log: silentLogger() });
    expect(plain.browserAudio).toBeUndefined();
    plain.close();
    const mock = startMedia({ config: browser, board: emulator, log: silentLogger(), engine: new MockMediaEngine({ backend: 'null' }) });
    expect(mock.browserAudio).toBeUndefined();
    mock.close();
  });

  it('media: no addon means no engine and "No audio engine"; a device the engine refuses falls back to null audio', () => {
    const none = startMedia({ config: defaultConfig(), board: emulator, log: silentLogger(), addon: () => { throw new Error('no offhook_native.node found'); } });
    expect(none.engine).toBeUndefined();
    expect(none.problem()).toBe('No audio engine');
    const config = configFrom(['media:', '  audio: { backend: file, capture: /nonexistent/mic.wav }']);
    const fallback = startMedia({ config, board: emulator, log: silentLogger() });
    try {
      expect(fallback.engine?.getAudioStats().backend).toBe('null');
      expect(fallback.problem()).toMatch(/^No audio: /);
    } finally {
      fallback.close();
    }
  });

  it('calls: SRTP by direction, RTP bind address, call waiting, DND and timers', () => {
    const one = configFrom(['accounts:', '  - { aor: "sip:1@pbx", password: p, srtp: mandatory, transport: tls }']);
    expect(srtpModes(one)).toEqual({ outgoing: 'mandatory', incoming: 'mandatory', mixed: false });
    const two = configFrom(['accounts:', '  - { aor: "sip:1@pbx", password: p }', '  - { aor: "sip:2@pbx", password: p, srtp: mandatory }']);
    expect(srtpModes(two)).toEqual({ outgoing: 'off', incoming: 'optional', mixed: true });
    expect(rtpBindAddress(defaultConfig())).toBe('0.0.0.0');
    const c = configFrom(['features: { callWaiting: false }', 'sip: { noAnswerTimeoutS: 30, acceptCallsFrom: any, sessionTimer: { enabled: false } }']);
    expect(callOptions(c, undefined)).toMatchObject({ maxCalls: 1, noAnswerTimeoutMs: 30_000, acceptCallsFrom: 'any', sessionTimers: { enabled: false } });
    expect(callOptions(defaultConfig(), undefined).maxCalls).toBe(2);
  });

  it('RTP ports: even ones of the range, round robin, a taken one skipped', () => {
    const ports = new RtpPortRange(20000, 20007, () => 0);
    expect([ports.take(), ports.take(), ports.take(), ports.take()]).toEqual([20000, 20002, 20004, 20006]);
    expect(ports.take()).toBe(20000);
    const engine = new MockMediaEngine({ busyPort: 20002 });
    const stream = ports.createStream(engine, { local: { address: '127.0.0.1' }, codec: { name: 'PCMU' } });
    expect(stream.localRtpPort).toBe(20004);
  });

  it('state: the emulator uses the user\'s state directory for the default; an unwritable one runs from a temporary directory', async () => {
    expect(userStateDir({ XDG_STATE_HOME: '/x/state' })).toBe('/x/state/offhook');
    const config = { ...defaultConfig(), stateDir: '/dev/null/offhook' };
    const stores = await openStores({ config, board: rpi4, clock: new RealClock(), log: silentLogger() });
    expect(stores.persistent).toBe(false);
    expect(stores.dir.startsWith(tmpdir())).toBe(true);
    stores.history.add({ direction: 'outgoing', number: '1002', startedAt: Date.now(), outcome: 'answered' });
    await stores.close();
  });

  it('config: a bad digit map is an error at its line and column, with the column inside the map', () => {
    try {
      configFrom(['dialPlan:', '  digitMap: "[2-9]xx|((0"']);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).message).toMatch(/offhook\.yaml:2:\d+: dialPlan\.digitMap: column \d+ of the digit map/);
    }
  });

  it('ringing: the buzzer alone by default on a board that has one; a WAV or a country when configured', () => {
    expect(ringOf(defaultConfig(), emulator)).toBeNull();
    expect(ringOf(defaultConfig(), { ...emulator, ringer: { type: 'audio' } })).toBeUndefined();
    expect(ringOf(configFrom(['tones: { ringTone: UK }']), emulator)).toEqual({ country: 'UK' });
    expect(ringOf(configFrom(['tones: { ringTone: /usr/share/ring.wav }']), emulator)).toEqual({ wav: '/usr/share/ring.wav', loop: true });
  });
});
