// An offhook "phone" for the call interop tests: our UserAgent on loopback (registered at the harness Kamailio, or direct) with the native media engine (file backend: a tone as microphone, a WAV of what it plays) behind sdpMediaHandlerFactory; waits on session events with deadlines.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SdpMediaHandler, sdpMediaHandlerFactory } from '../../../firmware/call/sdp-media-handler.js';
import type { CodecName } from '../../../firmware/media/codecs.js';
import type { DtmfEvent, RtpStream, RtpStreamStats } from '../../../firmware/media/media-engine.js';
import { loadNativeAddon } from '../../../firmware/media/native-addon.js';
import { NativeMediaEngine } from '../../../firmware/media/native-media-engine.js';
import { type CallOptions, type IncomingSession, type Session, type SessionEvents, type SessionOutcome, SessionState } from '../../../firmware/sip/ua/index.js';
import { type BlockToneSummary, blockTone } from '../../media/support/goertzel.js';
import { readWav } from '../../media/support/wav-file.js';
import { KAMAILIO_DOMAIN } from './kamailio.js';
import { type TestUa, startTestUa, waitUntil } from './user-agent.js';

/** The engine rate of the test phones: G.711's (the calls are PCMU). */
export const PHONE_SAMPLE_RATE_HZ = 8000;

export interface OffhookPhoneOptions {
  /** The account's user (1001-1004 at the harness Kamailio), e.g. '1003'. */
  user: string;
  /** Register at this Kamailio ("127.0.0.1:PORT"), its outbound proxy too; without it the account does not register (direct calls). */
  kamailio?: { hostPort: string } | undefined;
  /** The microphone: a sine at this frequency (−12 dBFS). */
  toneHz: number;
  /** UserAgentOptions.calls, over { sessionDescriptionHandlerFactory } (e.g. acceptCallsFrom: 'any' for SIPp calling directly). */
  calls?: Omit<CallOptions, 'sessionDescriptionHandlerFactory'> | undefined;
  /** Codecs offered and accepted. Default ['PCMU']. */
  codecs?: readonly CodecName[] | undefined;
  /** How long to wait for the registration, ms. Default 5000. */
  registerTimeoutMs?: number | undefined;
}

export interface OffhookPhone {
  user: string;
  /** sip:USER@test.local (registered) or sip:USER@127.0.0.1 (direct). */
  aor: string;
  toneHz: number;
  /** The UA with its trace (support/user-agent.ts). */
  test: TestUa;
  engine: NativeMediaEngine;
  /** "127.0.0.1:PORT": where SIPp sends to reach the phone directly. */
  hostPort: string;
  /** Every 'incoming' session so far, oldest first. */
  incoming: IncomingSession[];
  /** Every 'dtmf' event of the engine (RFC 4733 keys received), oldest first. */
  dtmf: DtmfEvent[];
  /** The WAV of what the phone played (its speaker). */
  speakerWav: string;
  /** Incoming call number `from` (0-based, default 0: the first), once it came. */
  waitForIncoming(timeoutMs: number, from?: number): Promise<IncomingSession>;
  /** The RTP stream of a session's media handler (undefined before its first offer/answer and after it ended). */
  streamOf(session: Session): RtpStream | undefined;
  /** The stream's statistics, or a failed test. */
  statsOf(session: Session): RtpStreamStats;
  /** Engine time, ms: the position in speakerWav (the file backend writes one period per engine period). */
  nowMs(): number;
  /** How much audio speakerWav holds so far, ms (what was played, give or take the writer's buffering). */
  playedMs(): number;
  /** Tone `hz` in speakerWav over [fromMs, toMs) of it (blocks of 100 ms), read now (the file grows during the call). */
  heard(hz: number, fromMs: number, toMs: number): BlockToneSummary;
  /** Per 100 ms block over [fromMs, toMs): "ms:share" of the tone, for assertion messages. */
  heardBlocks(hz: number, fromMs: number, toMs: number): string;
  /** Resolves with the RFC 4733 key events ('begin') after index `from` of `dtmf` once `count` came. */
  waitForDtmf(count: number, timeoutMs: number, from?: number): Promise<DtmfEvent[]>;
  /** ua.stop(), then engine.close(); removes the run directory. Idempotent. */
  stop(): Promise<void>;
}

const addonPath = process.env.OFFHOOK_TEST_ADDON;
let addon: ReturnType<typeof loadNativeAddon> | undefined;

/**
 * Starts a phone: NativeMediaEngine (file backend, realtime clock, 8 kHz: a `toneHz` sine as the
 * microphone, the speaker into a WAV) and a UserAgent on 127.0.0.1 (UDP and TCP, ephemeral ports)
 * with one account, `user`/pw`user` (registered at `kamailio`, which is also its outbound proxy, or
 * not registered), calls through sdpMediaHandlerFactory on 127.0.0.1. Resolves once registered.
 */
export async function startOffhookPhone(options: OffhookPhoneOptions): Promise<OffhookPhone> {
  addon ??= loadNativeAddon(addonPath !== undefined ? { path: addonPath } : {});
  const dir = mkdtempSync(join(tmpdir(), `offhook-phone-${options.user}-`));
  const speakerWav = join(dir, 'speaker.wav');
  const engine = new NativeMediaEngine({ addon, sampleRateHz: PHONE_SAMPLE_RATE_HZ, audio: { backend: 'file', capture: { toneHz: options.toneHz }, playbackWavPath: speakerWav } });
  const dtmf: DtmfEvent[] = [];
  engine.on('dtmf', (e) => dtmf.push(e));
  const factory = sdpMediaHandlerFactory({ engine, bindAddress: '127.0.0.1', codecs: options.codecs ?? ['PCMU'] });
  const k = options.kamailio;
  const aor = k ? `sip:${options.user}@${KAMAILIO_DOMAIN}` : `sip:${options.user}@127.0.0.1`;
  let test: TestUa;
  try {
    test = await startTestUa({
      accounts: [
        k
          ? { id: 'line', aor, password: `pw${options.user}`, registrar: `sip:${k.hostPort}`, outboundProxy: `sip:${k.hostPort}` }
          : { id: 'line', aor, password: `pw${options.user}`, register: false },
      ],
      calls: { ...options.calls, sessionDescriptionHandlerFactory: factory },
      logFile: process.env.OFFHOOK_INTEROP_LOGS !== undefined ? join(process.env.OFFHOOK_INTEROP_LOGS, `ua-${options.user}-${Date.now()}.log`) : undefined,
    });
  } catch (e) {
    engine.close();
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  const incoming: IncomingSession[] = [];
  test.ua.on('incoming', (s) => incoming.push(s));
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopped ??= (async () => {
      try {
        await test.ua.stop();
      } finally {
        engine.close();
        rmSync(dir, { recursive: true, force: true });
      }
    })());
  if (k) {
    try {
      await test.waitForLine('line', 'registered', options.registerTimeoutMs ?? 5000);
    } catch (e) {
      await stop();
      throw e;
    }
  }
  const streamOf = (session: Session): RtpStream | undefined => (session.handler instanceof SdpMediaHandler ? session.handler.stream : undefined);
  return {
    user: options.user,
    aor,
    toneHz: options.toneHz,
    test,
    engine,
    hostPort: test.hostPort,
    incoming,
    dtmf,
    speakerWav,
    waitForIncoming: (timeoutMs, from = 0) =>
      waitUntil(() => incoming[from], { timeoutMs, intervalMs: 10, what: () => `incoming call #${from + 1} at ${options.user} (SIP seen: ${test.ladder().join(', ')})` }),
    streamOf,
    statsOf: (session) => {
      const stream = streamOf(session);
      if (!stream) throw new Error(`${options.user}: the session ${session.callId} has no RTP stream`);
      return stream.getStats();
    },
    nowMs: () => engine.nowMs(),
    playedMs: () => {
      try {
        return ((statSync(speakerWav).size - 44) / 2 / PHONE_SAMPLE_RATE_HZ) * 1000;
      } catch {
        return 0;
      }
    },
    heard: (hz, fromMs, toMs) => {
      const wav = readWav(speakerWav);
      return blockTone(wav.samples, wav.sampleRateHz, hz, fromMs, toMs);
    },
    heardBlocks: (hz, fromMs, toMs) => {
      const wav = readWav(speakerWav);
      const out: string[] = [];
      for (let t = fromMs; t + 100 <= toMs; t += 100) out.push(`${Math.round(t)}:${blockTone(wav.samples, wav.sampleRateHz, hz, t, t + 100).meanShare.toFixed(2)}`);
      return out.join(' ');
    },
    waitForDtmf: (count, timeoutMs, from = 0) =>
      waitUntil(
        () => {
          const begins = dtmf.slice(from).filter((e) => e.phase === 'begin');
          return begins.length >= count ? begins : undefined;
        },
        { timeoutMs, intervalMs: 10, what: () => `${count} RFC 4733 keys at ${options.user} (got: ${dtmf.map((e) => `${e.digit}/${e.phase}`).join(' ')})` },
      ),
    stop,
  };
}

/** Resolves with the first `event` of a session (arguments as an array) after now; rejects after timeoutMs, or when the session ends first (unless the event is 'ended'). */
export function nextEvent<K extends keyof SessionEvents>(session: Session, event: K, timeoutMs: number, match: (...args: SessionEvents[K]) => boolean = () => true): Promise<SessionEvents[K]> {
  return new Promise<SessionEvents[K]>((resolve, reject) => {
    const offs: (() => void)[] = [];
    const done = (): void => {
      clearTimeout(timer);
      for (const off of offs) off();
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`${session.direction} call ${session.callId}: no '${event}' within ${timeoutMs} ms (state ${session.state})`));
    }, timeoutMs);
    offs.push(
      session.on(event, (...args: SessionEvents[K]) => {
        if (!match(...args)) return;
        done();
        resolve(args);
      }),
    );
    if (event !== 'ended') {
      offs.push(
        session.on('ended', (o) => {
          done();
          reject(new Error(`${session.direction} call ${session.callId} ended (${o.kind} ${o.status} ${o.reason}) before '${event}'`));
        }),
      );
    }
  });
}

/** Resolves once the call is up (now or later); rejects when it ends first or after timeoutMs. */
export async function callUp(session: Session, timeoutMs: number): Promise<void> {
  if (session.state === SessionState.Confirmed) return;
  if (session.state === SessionState.Terminated) throw new Error(`call ${session.callId} ended (${session.outcome?.kind ?? '?'} ${session.outcome?.reason ?? ''}) instead of being answered`);
  await nextEvent(session, 'accepted', timeoutMs);
}

/** The session's outcome once it ended; rejects after timeoutMs. */
export async function callEnded(session: Session, timeoutMs: number): Promise<SessionOutcome> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${session.direction} call ${session.callId} still ${session.state} after ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([session.ended, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** Polls `probe` (a stream's counters...) until it holds, as waitUntil, with a short interval. */
export function eventually<T>(probe: () => T | undefined | false, timeoutMs: number, what: string | (() => string)): Promise<T> {
  return waitUntil(probe, { timeoutMs, intervalMs: 20, what });
}
