// The whole phone end to end: startPhone on the emulated board with the native engine (file backend: a 1 kHz microphone, a WAV speaker), registered at Kamailio as 1003, calling baresip 1002 and called by it, driven by the hook and keys of the emulated panel.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadBoard } from '../../firmware/config/board.js';
import { loadConfig } from '../../firmware/config/config.js';
import type { PhoneStatus } from '../../firmware/emulator/phone-status.js';
import { startPhone, type RunningPhone } from '../../firmware/main.js';
import { phoneConfigChecks } from '../../firmware/phone-setup.js';
import { PhoneState } from '../../firmware/phone/phone-state.js';
import { RealClock } from '../../firmware/util/clock.js';
import { createLogger, silentLogger } from '../../firmware/util/log.js';
import { blockTone } from '../media/support/goertzel.js';
import { readWav, sine, writeWav } from '../media/support/wav-file.js';
import { type BaresipPhone, startBaresipPhones } from './support/baresip-phones.js';
import { type KamailioInstance, startKamailio } from './support/kamailio.js';
import { waitUntil } from './support/user-agent.js';

/** The phone's microphone (a WAV the file backend loops) and baresip's tone. */
const MIC_HZ = 1000;
const BARESIP_HZ = 600;
/** The engine's rate (mediaEngineOptions: 16 kHz unless Opus is fullband): the speaker WAV's. */
const ENGINE_RATE_HZ = 16000;
const LISTEN_MS = 1500;

const dir = mkdtempSync(join(tmpdir(), 'offhook-phone-calls-'));
const speakerWav = join(dir, 'speaker.wav');
const stateDir = join(dir, 'state');

let kamailio: KamailioInstance | undefined;
let baresip: BaresipPhone | undefined;
let phone: RunningPhone | undefined;
let apiUrl = '';

function running(): RunningPhone {
  if (!phone) throw new Error('the phone did not start (see beforeAll)');
  return phone;
}
function lcd(): string[] {
  return running().hardware.panel?.lcdLines().map((l) => l.trimEnd()) ?? [];
}
function state(): PhoneState {
  return running().phone.currentState;
}
async function waitFor(what: string, probe: () => boolean, timeoutMs = 8000): Promise<void> {
  await waitUntil(() => probe() || undefined, { timeoutMs, intervalMs: 20, what: () => `${what} (state ${state()}, LCD ${JSON.stringify(lcd())})` });
}
/** How much the engine has written to the speaker WAV so far, ms. */
function playedMs(): number {
  try {
    return ((statSync(speakerWav).size - 44) / 2 / ENGINE_RATE_HZ) * 1000;
  } catch {
    return 0;
  }
}
/** Waits until `ms` more of the speaker were written after SETTLE ms, and measures `hz` in that stretch. */
async function heard(hz: number, ms = LISTEN_MS): Promise<ReturnType<typeof blockTone>> {
  const from = playedMs() + 500;
  await waitUntil(() => playedMs() >= from + ms + 100 || undefined, { timeoutMs: ms + 5000, intervalMs: 20, what: 'the speaker WAV to grow' });
  const wav = readWav(speakerWav);
  return blockTone(wav.samples, wav.sampleRateHz, hz, from, from + ms);
}
async function apiState(): Promise<PhoneStatus> {
  const res = await fetch(`${apiUrl}api/state`);
  return ((await res.json()) as { phone: PhoneStatus }).phone;
}

beforeAll(async () => {
  kamailio = await startKamailio();
  const k = kamailio;
  [baresip] = await startBaresipPhones(k, { users: ['1002'], toneHz: () => BARESIP_HZ });
  const mic = join(dir, 'mic.wav');
  writeWav(mic, { sampleRateHz: ENGINE_RATE_HZ, samples: sine(MIC_HZ, 1000, ENGINE_RATE_HZ) });
  const file = join(dir, 'offhook.yaml');
  writeFileSync(
    file,
    [
      'accounts:',
      '  - aor: sip:1003@test.local',
      '    password: pw1003',
      `    registrar: sip:${k.hostPort}`,
      `    outboundProxy: sip:${k.hostPort}`,
      'sip:',
      '  listen:',
      '    - { transport: udp, address: 127.0.0.1, port: 0 }',
      'media:',
      '  codecs: [PCMU]',
      '  audio:',
      '    backend: file',
      `    capture: ${mic}`,
      `    playback: ${speakerWav}`,
      `stateDir: ${stateDir}`,
      '',
    ].join('\n'),
  );
  const stdout = new PassThrough();
  let printed = '';
  stdout.on('data', (d: Buffer) => (printed += d.toString()));
  const loaded = loadConfig(file, { checks: phoneConfigChecks });
  phone = await startPhone({
    config: loaded.config,
    board: loadBoard('emulator').profile,
    // OFFHOOK_INTEROP_LOGS=<dir>: the phone's log (debug, SIP messages included) there.
    log: process.env.OFFHOOK_INTEROP_LOGS !== undefined ? createLogger({ level: 'debug', file: join(process.env.OFFHOOK_INTEROP_LOGS, `phone-1003-${Date.now()}.log`) }) : silentLogger(),
    clock: new RealClock(),
    stdin: new PassThrough() as unknown as NodeJS.ReadStream,
    stdout: stdout as unknown as NodeJS.WriteStream,
    terminal: false,
    signals: false,
    web: { port: 0, address: '127.0.0.1', passwordHash: undefined, page: false },
  });
  apiUrl = /(http:\/\/\S+\/)api\/state/.exec(printed)?.[1] ?? '';
  await waitFor('the LCD to show Registered 1003', () => lcd()[0] === 'Registered 1003');
}, 30_000);

afterAll(async () => {
  await phone?.stop();
  await baresip?.stop();
  await kamailio?.stop();
});

describe('the phone (startPhone, emulated board, native engine) and baresip 1002 through Kamailio', () => {
  it('lift, dial 1002 #: baresip answers, Connected, its tone in the speaker; hang up: idle, the call in the history', async () => {
    const p = running();
    const panel = p.hardware.panel!;
    expect(p.media).toBeDefined();
    await panel.setHook(true);
    await waitFor('dial tone', () => state() === PhoneState.Dialing);
    for (const key of '1002#') await panel.tapKey(key);
    await waitFor('the call to be up', () => state() === PhoneState.Connected && (lcd()[0] ?? '').startsWith('Connected'), 10_000);
    expect(lcd()[1]).toBe('1002');
    expect((await apiState()).calls).toEqual([expect.objectContaining({ direction: 'outgoing', state: 'connected', remote: '1002', line: 'sip:1003@test.local' })]);

    const tone = await heard(BARESIP_HZ);
    expect(tone.blocks).toBeGreaterThanOrEqual(10);
    expect(tone.goodFraction, JSON.stringify(tone)).toBeGreaterThan(0.9);
    // Nothing of our own microphone comes back (no echo path in the file backend).
    expect((await heard(MIC_HZ, 500)).meanShare).toBeLessThan(0.1);

    await panel.setHook(false);
    await waitFor('idle', () => state() === PhoneState.Idle && lcd()[0] === 'Registered 1003');
    expect((await apiState()).calls).toEqual([]);
    expect(p.stores.history.list('dialed')[0]).toMatchObject({ direction: 'outgoing', number: '1002', outcome: 'answered' });
    await p.stores.history.flush();
    const file = JSON.parse(readFileSync(join(stateDir, 'history.json'), 'utf8')) as { data: { dialed: { number: string }[] } };
    expect(file.data.dialed[0]?.number).toBe('1002');
  }, 40_000);

  it('baresip dials 1003: the caller on the LCD, the ringer on; lift: Connected; baresip hangs up: ended, then idle on hook', async () => {
    const p = running();
    const panel = p.hardware.panel!;
    const b = baresip!;
    await b.dial('1003');
    await waitFor('ringing with the caller on the LCD', () => state() === PhoneState.Ringing && lcd().slice(0, 3).join('\n').includes('1002'), 10_000);
    expect(lcd()[0]).toMatch(/Incoming call/);
    await waitFor('the ringer', () => panel.ringerOn() || p.hardware.ringer?.ringing === true, 3000);
    expect((await apiState()).calls).toEqual([expect.objectContaining({ direction: 'incoming', state: 'ringing', remote: '1002' })]);

    await panel.setHook(true);
    await waitFor('the call to be up', () => state() === PhoneState.Connected && (lcd()[0] ?? '').startsWith('Connected'));
    expect(panel.ringerOn()).toBe(false);
    const tone = await heard(BARESIP_HZ, 1000);
    expect(tone.goodFraction, JSON.stringify(tone)).toBeGreaterThan(0.9);

    await b.hangup();
    await waitFor('the call to end', () => state() === PhoneState.Ended || state() === PhoneState.Idle);
    await panel.setHook(false);
    await waitFor('idle', () => state() === PhoneState.Idle && lcd()[0] === 'Registered 1003');
    expect(p.stores.history.list('received')[0]).toMatchObject({ direction: 'incoming', number: '1002', outcome: 'answered' });
  }, 40_000);
});

const BUNDLE = fileURLToPath(new URL('../../dist/offhook.mjs', import.meta.url));

describe('the bundle (dist/offhook.mjs from make bundle)', () => {
  it('--board emulator --no-ui --http-port 0 with an account: registers at Kamailio, /api/state shows the line registered', async () => {
    if (!existsSync(BUNDLE)) throw new Error(`${BUNDLE} is missing: run \`make bundle\` (or node scripts/build.mjs)`);
    const k = kamailio!;
    const file = join(dir, 'bundle.yaml');
    writeFileSync(
      file,
      [
        'accounts:',
        '  - aor: sip:1004@test.local',
        '    password: pw1004',
        `    registrar: sip:${k.hostPort}`,
        `    outboundProxy: sip:${k.hostPort}`,
        'sip:',
        '  listen:',
        '    - { transport: udp, address: 127.0.0.1, port: 0 }',
        `stateDir: ${join(dir, 'bundle-state')}`,
        'log: { level: warn }',
        '',
      ].join('\n'),
    );
    const child = spawn(process.execPath, [BUNDLE, '--board', 'emulator', '--no-ui', '--http-port', '0', '--config', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const url = await waitUntil(() => /(http:\/\/\S+\/)api\/state/.exec(out)?.[1], { timeoutMs: 10_000, what: () => `the control API's URL (stdout: ${out}; stderr: ${err.slice(-2000)})` });
      const line = await waitUntil(
        async () => {
          const status = ((await (await fetch(`${url}api/state`)).json()) as { phone: PhoneStatus }).phone;
          return status.lines[0]?.state === 'registered' ? status.lines[0] : undefined;
        },
        { timeoutMs: 10_000, intervalMs: 100, what: () => `line 1004 registered (stderr: ${err.slice(-2000)})` },
      );
      expect(line).toMatchObject({ aor: 'sip:1004@test.local', ext: '1004', text: 'Registered 1004' });
    } finally {
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    }
  }, 30_000);
});
