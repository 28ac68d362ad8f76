// Starts and stops a real baresip softphone for media interop tests (config per run, free ports, stopped by pid), and a tiny SIP caller that sets up a call with it.
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { BaresipControl, type BaresipResponse } from './baresip-control.js';
import { PeerStartError } from './errors.js';
import { freePort, waitForListener } from './free-port.js';
import { type Exit, LoggedProcess } from './process.js';
import { findTool } from './tools.js';

/** Debian's baresip 1.0.0 keeps its modules here (package baresip-core). */
export const BARESIP_MODULE_DIR = '/usr/lib/baresip/modules';

/** One account (user agent) of the instance; calls reach it as sip:USER@127.0.0.1:sipPort. */
export interface BaresipAccount {
  user: string;
  /** audio_codecs, in order of preference (baresip names: PCMU, PCMA, opus). Default ['PCMU']. */
  codecs?: readonly string[];
  /** Media encryption (baresip's srtp module): 'srtp-mand' = RTP/SAVP with SDES (RFC 4568); 'srtp' = best effort on RTP/AVP. */
  mediaenc?: 'srtp' | 'srtp-mand';
  /** Default 'auto': incoming calls are answered at once. */
  answerMode?: 'auto' | 'manual';
  /**
   * Register at this registrar ("127.0.0.1:PORT", e.g. the harness Kamailio), which is also the
   * outbound proxy of every request: the AOR becomes sip:USER@domain with digest password
   * `password`. Without it: no registration, calls go straight to sip:USER@127.0.0.1:sipPort.
   */
  registrar?: string;
  /** Digest password (with registrar). Default "pw" + user, as in kamailio.cfg. */
  password?: string;
  /** AOR domain (with registrar). Default test.local. */
  domain?: string;
  /** Registration interval asked for, s (with registrar). Default 600. */
  regintS?: number;
}

export interface BaresipOptions {
  /** Default one account, user 'baresip'. */
  accounts?: readonly BaresipAccount[];
  /** The microphone: a sine at this frequency, as a WAV that the aufile module plays. */
  toneHz: number;
  /** Peak level of the sine. Default −12 dBFS. */
  toneLevelDbfs?: number;
  /** Rate of the WAV and of baresip's source and player (ausrc_srate / auplay_srate). Default 8000 (G.711's). */
  sampleRateHz?: number;
  /** Length of the WAV: aufile stops at its end. Default 60. */
  toneSeconds?: number;
  /** Record with the sndfile filter: dump-<time>-dec.wav (what it received), -enc.wav (what it sent). Default true. */
  record?: boolean;
  /** Open the ctrl_tcp control socket, for command() (dial, hangup, ...). Default false. */
  control?: boolean;
  /** Packet time baresip asks for and sends (its config's ptime is per account in 1.0: ;ptime=). Default 20. */
  ptimeMs?: number;
  /** How long to wait for "baresip is ready" and its SIP port, ms. Default 5000. */
  startTimeoutMs?: number;
  /** Keep the run directory (config, log, recordings) after stop(). Default false. */
  keepRunDir?: boolean;
  /**
   * audio_player as "module,device". Default "alsa,null": ALSA's null device (no sound card needed),
   * which does not block, so baresip's player thread spins on it; "aubridge,<name>" paces itself
   * every 4 ms like a device would (what the CPU benchmark uses), discarding the audio when no source
   * of that name reads it.
   */
  player?: string;
  /** More config lines ("opus_bitrate 24000" ...), appended. */
  extraConfig?: readonly string[];
}

/** ctrl_tcp's answer to a command (JSON in a netstring). */

export type { BaresipEvent, BaresipResponse } from './baresip-control.js';
export { BaresipControl } from './baresip-control.js';

export interface BaresipRecordings {
  /** What baresip decoded from the far end (sndfile "dec"), or undefined if there is none. */
  received: string | undefined;
  /** What it encoded and sent (sndfile "enc"). */
  sent: string | undefined;
}

export interface BaresipInstance {
  pid: number;
  sipPort: number;
  /** "127.0.0.1:PORT". */
  hostPort: string;
  /** First and last port of its RTP range (rtp_ports). */
  rtpPorts: readonly [number, number];
  runDir: string;
  logFile: string;
  readLog(): string;
  /** sip:USER@127.0.0.1:PORT for each account, by user. */
  uri(user: string): string;
  /** The recordings of each call so far, oldest first (sndfile makes one pair per call). */
  recordings(): BaresipRecordings[];
  /** Sends a menu command over ctrl_tcp (needs `control`); rejects after timeoutMs without an answer. */
  command(command: string, params?: string, timeoutMs?: number): Promise<BaresipResponse>;
  /** The ctrl_tcp connection (needs `control`): its `events` and waitForEvent(type, ms). */
  control(): BaresipControl;
  /** SIGTERM by pid, SIGKILL after graceMs (default 3000); removes the run dir unless kept. Idempotent. */
  stop(graceMs?: number): Promise<Exit>;
}

/** A mono 16-bit PCM WAV holding a sine (aufile reads WAV; sox is not needed). */
export function writeToneWav(path: string, options: { hz: number; sampleRateHz: number; seconds: number; levelDbfs?: number }): void {
  const n = Math.round(options.seconds * options.sampleRateHz);
  const peak = 32767 * 10 ** ((options.levelDbfs ?? -12) / 20);
  const data = Buffer.alloc(2 * n);
  for (let i = 0; i < n; i++) data.writeInt16LE(Math.round(peak * Math.sin((2 * Math.PI * options.hz * i) / options.sampleRateHz)), 2 * i);
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'ascii');
  header.writeUInt32LE(36 + data.length, 4);
  header.write('WAVEfmt ', 8, 'ascii');
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20); // PCM
  header.writeUInt16LE(1, 22); // mono
  header.writeUInt32LE(options.sampleRateHz, 24);
  header.writeUInt32LE(options.sampleRateHz * 2, 28);
  header.writeUInt16LE(2, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36, 'ascii');
  header.writeUInt32LE(data.length, 40);
  writeFileSync(path, Buffer.concat([header, data]));
}

function accountLine(a: BaresipAccount, ptimeMs: number): string {
  if (a.registrar !== undefined) {
    // registered through the harness Kamailio: it is the outbound proxy of everything (no DNS)
    const params = [`auth_pass=${a.password ?? `pw${a.user}`}`, `outbound="sip:${a.registrar}"`, `regint=${a.regintS ?? 600}`, `audio_codecs=${(a.codecs ?? ['PCMU']).join(',')}`, `answermode=${a.answerMode ?? 'auto'}`, 'medianat=', 'mwi=no', `ptime=${ptimeMs}`];
    if (a.mediaenc !== undefined) params.push(`mediaenc=${a.mediaenc}`);
    return `<sip:${a.user}@${a.domain ?? 'test.local'}>;${params.join(';')}`;
  }
  // regint=0: no registration (calls come straight to sip_listen); medianat= and mwi=no keep it
  // from sending anything anywhere but to the peer of a call (shared peers README, pitfall 3).
  const params = [`regint=0`, `audio_codecs=${(a.codecs ?? ['PCMU']).join(',')}`, `answermode=${a.answerMode ?? 'auto'}`, 'medianat=', 'mwi=no', `ptime=${ptimeMs}`];
  if (a.mediaenc !== undefined) params.push(`mediaenc=${a.mediaenc}`);
  return `<sip:${a.user}@127.0.0.1>;${params.join(';')}`;
}

function configText(o: {
  sipPort: number;
  rtpMin: number;
  rtpMax: number;
  rate: number;
  record: boolean;
  ctrlPort: number | undefined;
  codecs: Set<string>;
  player: string;
  extra: readonly string[];
}): string {
  const modules = [...(o.codecs.has('PCMU') || o.codecs.has('PCMA') ? ['g711.so'] : []), ...(o.codecs.has('opus') ? ['opus.so'] : [])];
  const lines = [
    '# baresip 1.0.0 config written by test/interop/support/baresip.ts for one run (loopback only).',
    'poll_method\t\tepoll',
    `sip_listen\t\t127.0.0.1:${o.sipPort}`,
    'call_local_timeout\t120',
    'call_max_calls\t\t4',
    // aufile plays tone.wav; Debian's baresip 1.0.0 has no file player (shared peers README, pitfall 1):
    // the player is ALSA's null device and the sndfile filter records what was received.
    'audio_source\t\taufile,tone.wav',
    `audio_player\t\t${o.player}`,
    'audio_alert\t\talsa,null',
    `ausrc_srate\t\t${o.rate}`,
    `auplay_srate\t\t${o.rate}`,
    'ausrc_channels\t\t1',
    'auplay_channels\t\t1',
    'audio_level\t\tno',
    'ausrc_format\t\ts16',
    'auplay_format\t\ts16',
    'auenc_format\t\ts16',
    'audec_format\t\ts16',
    'audio_buffer\t\t20-160',
    'rtp_tos\t\t\t0',
    `rtp_ports\t\t${o.rtpMin}-${o.rtpMax}`,
    'rtcp_mux\t\tno',
    'jitter_buffer_delay\t5-10',
    'rtp_stats\t\tno',
    // Loopback only; a stray DNS query goes to 127.0.0.1 and fails (pitfall 3).
    'dns_server\t\t127.0.0.1:53',
    'net_interface\t\t127.0.0.1',
    `module_path\t\t${BARESIP_MODULE_DIR}`,
    ...modules.map((m) => `module\t\t\t${m}`),
    'module\t\t\tsrtp.so',
    ...(o.record ? ['module\t\t\tsndfile.so', 'snd_path\t\t.'] : []),
    'module\t\t\taufile.so',
    'module\t\t\talsa.so',
    ...(o.player.startsWith('alsa,') ? [] : [`module\t\t\t${o.player.split(',')[0] ?? ''}.so`]),
    'module_tmp\t\taccount.so',
    'module_app\t\tmenu.so',
    ...(o.ctrlPort !== undefined ? ['module_app\t\tctrl_tcp.so', `ctrl_tcp_listen\t\t127.0.0.1:${o.ctrlPort}`] : []),
    'statmode_default\toff',
    'menu_bell\t\tno',
    'ringback_disabled\tyes',
    ...o.extra,
  ];
  return `${lines.join('\n')}\n`;
}

/**
 * Starts baresip in a fresh run directory: config, accounts and tone.wav written there, SIP on a
 * free 127.0.0.1 port (UDP and TCP), RTP in a free block of 20 ports. Resolves once it said it is
 * ready and listens. Throws MissingToolError (package 'baresip') or PeerStartError.
 */
export async function startBaresip(options: BaresipOptions): Promise<BaresipInstance> {
  const binary = findTool('baresip');
  const runDir = mkdtempSync(join(tmpdir(), 'offhook-baresip-'));
  const accounts = options.accounts ?? [{ user: 'baresip' }];
  const rate = options.sampleRateHz ?? 8000;
  const record = options.record ?? true;
  // two ports: baresip 1.0 also listens for TLS on sip_listen's port + 1 (a ctrl_tcp port chosen
  // there would fail with "Address already in use")
  const sipPort = await freePort({ protocols: ['udp', 'tcp'], count: 2 });
  // Nothing is bound until baresip starts: each pick avoids the ports picked before it.
  const rtpMin = await freePort({ protocols: ['udp'], count: 20, avoid: [sipPort, sipPort + 1] });
  const ctrlPort = options.control === true ? await freePort({ protocols: ['tcp'], avoid: [sipPort, sipPort + 1] }) : undefined;
  const codecs = new Set(accounts.flatMap((a) => a.codecs ?? ['PCMU']));
  writeFileSync(join(runDir, 'config'), configText({ sipPort, rtpMin, rtpMax: rtpMin + 19, rate, record, ctrlPort, codecs, player: options.player ?? 'alsa,null', extra: options.extraConfig ?? [] }));
  writeFileSync(join(runDir, 'accounts'), `${accounts.map((a) => accountLine(a, options.ptimeMs ?? 20)).join('\n')}\n`);
  writeFileSync(join(runDir, 'contacts'), '');
  writeToneWav(join(runDir, 'tone.wav'), { hz: options.toneHz, sampleRateHz: rate, seconds: options.toneSeconds ?? 60, levelDbfs: options.toneLevelDbfs ?? -12 });

  const logFile = join(runDir, 'baresip.log');
  const proc = new LoggedProcess({ command: binary, args: ['-f', runDir], cwd: runDir, stdoutFile: logFile, stderrFile: logFile });
  const readLog = (): string => {
    try {
      return readFileSync(logFile, 'latin1');
    } catch {
      return '';
    }
  };
  const timeoutMs = options.startTimeoutMs ?? 5000;
  const deadline = Date.now() + timeoutMs;
  while (!readLog().includes('baresip is ready') && proc.exitStatus === undefined && Date.now() < deadline) await sleep(20);
  const listening = await waitForListener(sipPort, 'udp', Math.max(0, deadline - Date.now()), () => proc.exitStatus === undefined);
  if (!listening || !readLog().includes('baresip is ready') || proc.exitStatus !== undefined) {
    const exit = proc.exitStatus;
    await proc.stop({ graceMs: 1000 });
    const reason = exit ? `it exited (code ${exit.code}, signal ${exit.signal})` : `not ready on 127.0.0.1:${sipPort} within ${timeoutMs} ms`;
    throw new PeerStartError({ peer: 'baresip', reason, logFile, runDir });
  }

  let stopped: Promise<Exit> | undefined;
  const control = ctrlPort !== undefined ? new BaresipControl(ctrlPort) : undefined;
  // one connection from the start: ctrl_tcp pushes events only to the connection it has
  try {
    await control?.open();
  } catch (err) {
    await proc.stop({ graceMs: 1000 });
    throw new PeerStartError({ peer: 'baresip', reason: `ctrl_tcp on 127.0.0.1:${ctrlPort ?? 0}: ${(err as Error).message}`, logFile, runDir });
  }
  const needControl = (): BaresipControl => {
    if (!control) throw new Error('baresip was started without control: true');
    return control;
  };
  return {
    pid: proc.pid,
    sipPort,
    hostPort: `127.0.0.1:${sipPort}`,
    rtpPorts: [rtpMin, rtpMin + 19],
    runDir,
    logFile,
    readLog,
    uri: (user) => `sip:${user}@127.0.0.1:${sipPort}`,
    recordings: () => {
      // sndfile names its files dump-<YYYY-MM-DD-hh-mm-ss>-{enc,dec}.wav: sorting by name is by time.
      const files = readdirSync(runDir).filter((f) => /^dump-.*-(enc|dec)\.wav$/.test(f));
      const stamps = [...new Set(files.map((f) => f.replace(/-(enc|dec)\.wav$/, '')))].sort();
      return stamps.map((s) => ({
        received: files.includes(`${s}-dec.wav`) ? join(runDir, `${s}-dec.wav`) : undefined,
        sent: files.includes(`${s}-enc.wav`) ? join(runDir, `${s}-enc.wav`) : undefined,
      }));
    },
    command: (command, params = '', commandTimeoutMs = 3000) => {
      if (!control) return Promise.reject(new Error('baresip was started without control: true'));
      return control.command(command, params, commandTimeoutMs);
    },
    control: needControl,
    stop: (graceMs = 3000) => {
      stopped ??= (async () => {
        control?.close();
        const exit = await proc.stop({ signal: 'SIGTERM', graceMs });
        if (options.keepRunDir !== true) rmSync(runDir, { recursive: true, force: true });
        return exit;
      })();
      return stopped;
    },
  };
}

// ---------------------------------------------------------------------------------------------------
// A SIP caller just big enough to set up one call (RFC 3261 §13, §17.1.1 on UDP) until the phone's
// own call layer exists: INVITE with an SDP offer, ACK the 2xx (again for each retransmission),
// answer a BYE, send a BYE.

/** One m=audio line of an SDP (RFC 4566) with what the media needs. */
export interface SdpAudio {
  address: string;
  port: number;
  /** a=rtcp (RFC 3605), else port + 1. */
  rtcpPort: number;
  /** RTP/AVP or RTP/SAVP. */
  proto: string;
  payloadTypes: number[];
  /** rtpmap by payload type ("PCMU/8000"). */
  rtpmaps: Map<number, string>;
  /** RFC 4568 §9.1 a=crypto lines: the inline key's base64 without lifetime or MKI. */
  crypto: { tag: number; suite: string; key: string }[];
}

/** The first audio stream of an SDP body; throws when there is none. */
export function parseSdpAudio(sdp: string): SdpAudio {
  const lines = sdp.split(/\r?\n/);
  let address = '';
  let media: SdpAudio | undefined;
  for (const line of lines) {
    if (line.startsWith('c=IN IP4 ') || line.startsWith('c=IN IP6 ')) {
      const a = line.slice(9).trim();
      if (media) media.address = a;
      else address = a;
    } else if (line.startsWith('m=')) {
      if (media) break; // only the first m= line
      const [kind, port, proto, ...pts] = line.slice(2).trim().split(/\s+/);
      if (kind !== 'audio') continue;
      media = { address, port: Number(port), rtcpPort: Number(port) + 1, proto: proto ?? '', payloadTypes: pts.map(Number), rtpmaps: new Map(), crypto: [] };
    } else if (media && line.startsWith('a=rtpmap:')) {
      const [pt, name] = line.slice(9).trim().split(/\s+/);
      media.rtpmaps.set(Number(pt), name ?? '');
    } else if (media && line.startsWith('a=rtcp:')) {
      media.rtcpPort = Number(line.slice(7).trim().split(/\s+/)[0]);
    } else if (media && line.startsWith('a=crypto:')) {
      const [tag, suite, keyParams] = line.slice(9).trim().split(/\s+/);
      const key = (keyParams ?? '').replace(/^inline:/, '').split('|')[0] ?? '';
      media.crypto.push({ tag: Number(tag), suite: suite ?? '', key });
    }
  }
  if (!media) throw new Error(`no m=audio line in the SDP:\n${sdp}`);
  return media;
}

export interface OfferCodec {
  payloadType: number;
  /** rtpmap encoding/clock[/channels], e.g. "PCMU/8000", "opus/48000/2". */
  rtpmap: string;
  fmtp?: string;
}

export interface InviteOptions {
  /** baresip's SIP port on 127.0.0.1. */
  port: number;
  /** The account to call (Request-URI user). */
  user: string;
  /** Our RTP port (the engine stream's); RTCP is announced with a=rtcp. */
  rtpPort: number;
  rtcpPort: number;
  codecs: readonly OfferCodec[];
  ptimeMs?: number;
  /** SDES (RFC 4568): one a=crypto line each (tags 1, 2 ...); the profile becomes RTP/SAVP. */
  crypto?: readonly { suite: string; key: string }[];
  /** Give up waiting for the final answer after this long, ms. Default 5000. */
  timeoutMs?: number;
}

interface SipMessage {
  startLine: string;
  headers: Map<string, string[]>;
  body: string;
}

function parseSip(text: string): SipMessage {
  const split = text.indexOf('\r\n\r\n');
  const head = split >= 0 ? text.slice(0, split) : text;
  const [startLine = '', ...headerLines] = head.split('\r\n');
  const headers = new Map<string, string[]>();
  for (const line of headerLines) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    headers.set(name, [...(headers.get(name) ?? []), line.slice(colon + 1).trim()]);
  }
  return { startLine, headers, body: split >= 0 ? text.slice(split + 4) : '' };
}

function header(m: SipMessage, name: string): string {
  return m.headers.get(name)?.[0] ?? '';
}

function token(): string {
  return Math.random().toString(36).slice(2, 12);
}

/** A call we placed: the answer's SDP, and bye(). */
export class StubCall {
  private readonly callId = `${token()}@127.0.0.1`;
  private readonly fromTag = token();
  /** The INVITE's branch: the ACK of a non-2xx answer belongs to its transaction (RFC 3261 §17.1.1.3). */
  private readonly inviteBranch = `z9hG4bK${token()}`;
  private toTag = '';
  private remoteTarget = { host: '127.0.0.1', port: 0 };
  private cseq = 1;
  private finalResponse: ((m: SipMessage) => void) | undefined;
  private byeResponse: ((status: number) => void) | undefined;
  /** A provisional response came: the INVITE is no longer retransmitted (RFC 3261 §17.1.1.2). */
  private provisional = false;
  /** baresip hung up (sent a BYE, which was answered 200). */
  peerHungUp = false;
  /** The SDP answer of a 2xx. */
  answer: SdpAudio | undefined;
  /** The final status of the INVITE (0 until one came). */
  status = 0;

  private constructor(
    private readonly socket: Socket,
    private readonly options: InviteOptions,
  ) {
    socket.on('message', (data: Buffer, from: RemoteInfo) => this.onMessage(parseSip(data.toString('utf8')), from));
  }

  /** Sends the INVITE and resolves once the call is answered (2xx, ACKed) or refused (status ≥ 300). */
  static async invite(options: InviteOptions): Promise<StubCall> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, '127.0.0.1', () => {
        socket.off('error', reject);
        resolve();
      });
    });
    const call = new StubCall(socket, options);
    await call.start();
    return call;
  }

  private get localPort(): number {
    return this.socket.address().port;
  }

  private offer(): string {
    const o = this.options;
    const crypto = o.crypto ?? [];
    const proto = crypto.length > 0 ? 'RTP/SAVP' : 'RTP/AVP';
    const lines = [
      'v=0',
      `o=offhook-test ${Date.now()} 1 IN IP4 127.0.0.1`,
      's=-',
      'c=IN IP4 127.0.0.1',
      't=0 0',
      `m=audio ${o.rtpPort} ${proto} ${o.codecs.map((c) => c.payloadType).join(' ')}`,
      `a=rtcp:${o.rtcpPort}`,
      ...o.codecs.flatMap((c) => [`a=rtpmap:${c.payloadType} ${c.rtpmap}`, ...(c.fmtp !== undefined ? [`a=fmtp:${c.payloadType} ${c.fmtp}`] : [])]),
      `a=ptime:${o.ptimeMs ?? 20}`,
      ...crypto.map((c, i) => `a=crypto:${i + 1} ${c.suite} inline:${c.key}`),
      'a=sendrecv',
    ];
    return `${lines.join('\r\n')}\r\n`;
  }

  private request(
    method: string,
    cseqMethod: string,
    cseq: number,
    body = '',
    target = `sip:${this.options.user}@127.0.0.1:${this.options.port}`,
    branch = `z9hG4bK${token()}`,
  ): string {
    const to = `<sip:${this.options.user}@127.0.0.1:${this.options.port}>${this.toTag ? `;tag=${this.toTag}` : ''}`;
    const lines = [
      `${method} ${target} SIP/2.0`,
      `Via: SIP/2.0/UDP 127.0.0.1:${this.localPort};branch=${branch};rport`,
      'Max-Forwards: 70',
      `From: <sip:offhook-test@127.0.0.1:${this.localPort}>;tag=${this.fromTag}`,
      `To: ${to}`,
      `Call-ID: ${this.callId}`,
      `CSeq: ${cseq} ${cseqMethod}`,
      `Contact: <sip:offhook-test@127.0.0.1:${this.localPort}>`,
      ...(body ? ['Content-Type: application/sdp'] : []),
      `Content-Length: ${Buffer.byteLength(body)}`,
    ];
    return `${lines.join('\r\n')}\r\n\r\n${body}`;
  }

  private send(text: string, port: number): void {
    this.socket.send(text, port, '127.0.0.1');
  }

  private async start(): Promise<void> {
    const invite = this.request('INVITE', 'INVITE', this.cseq, this.offer(), undefined, this.inviteBranch);
    const final = new Promise<SipMessage>((resolve) => {
      this.finalResponse = resolve;
    });
    // RFC 3261 §17.1.1.2 Timer A: retransmit at 500 ms, 1 s, 2 s ... until a response comes.
    let interval = 500;
    const deadline = Date.now() + (this.options.timeoutMs ?? 5000);
    this.send(invite, this.options.port);
    let response: SipMessage | undefined;
    while (!response && Date.now() < deadline) {
      response = await Promise.race([final, sleep(interval).then(() => undefined)]);
      if (!response && !this.provisional) {
        this.send(invite, this.options.port);
        interval = Math.min(interval * 2, 4000);
      }
    }
    if (!response) throw new Error(`no final answer to the INVITE from baresip on 127.0.0.1:${this.options.port}`);
    this.status = Number(response.startLine.split(' ')[1]);
    if (this.status >= 200 && this.status < 300) this.answer = parseSdpAudio(response.body);
  }

  private onMessage(m: SipMessage, from: RemoteInfo): void {
    if (m.startLine.startsWith('SIP/2.0 ')) {
      const status = Number(m.startLine.split(' ')[1]);
      const method = header(m, 'cseq').split(/\s+/)[1];
      if (method === 'INVITE') {
        if (status < 200) {
          this.provisional = true;
          return;
        }
        if (status < 300) {
          // RFC 3261 §13.2.2.4: ACK every 2xx (retransmissions too), to the Contact of the answer.
          this.toTag = /;tag=([^;>\s]+)/.exec(header(m, 'to'))?.[1] ?? '';
          const contact = /<sip:[^@>]*@?([^:;>]+):(\d+)/.exec(header(m, 'contact'));
          this.remoteTarget = { host: contact?.[1] ?? '127.0.0.1', port: Number(contact?.[2] ?? from.port) };
          this.send(this.request('ACK', 'ACK', 1, '', this.target()), this.remoteTarget.port);
        } else {
          // §17.1.1.3: a non-2xx final response is ACKed in the INVITE transaction.
          this.toTag = /;tag=([^;>\s]+)/.exec(header(m, 'to'))?.[1] ?? '';
          this.send(this.request('ACK', 'ACK', 1, '', undefined, this.inviteBranch), this.options.port);
        }
        this.finalResponse?.(m);
        this.finalResponse = undefined;
      } else if (method === 'BYE') {
        this.byeResponse?.(status);
      }
      return;
    }
    if (m.startLine.startsWith('BYE ')) {
      this.peerHungUp = true;
      const response = [
        'SIP/2.0 200 OK',
        ...(m.headers.get('via') ?? []).map((v) => `Via: ${v}`),
        `From: ${header(m, 'from')}`,
        `To: ${header(m, 'to')}`,
        `Call-ID: ${header(m, 'call-id')}`,
        `CSeq: ${header(m, 'cseq')}`,
        'Content-Length: 0',
      ];
      this.send(`${response.join('\r\n')}\r\n\r\n`, from.port);
    }
  }

  private target(): string {
    return `sip:${this.options.user}@${this.remoteTarget.host}:${this.remoteTarget.port}`;
  }

  /** Ends the call (RFC 3261 §15.1.1) and resolves with the BYE's status (0 when none came). */
  async bye(timeoutMs = 2000): Promise<number> {
    if (this.peerHungUp || this.status < 200 || this.status >= 300) return 0;
    this.cseq += 1;
    const bye = this.request('BYE', 'BYE', this.cseq, '', this.target());
    const answered = new Promise<number>((resolve) => {
      this.byeResponse = resolve;
    });
    const deadline = Date.now() + timeoutMs;
    let interval = 500;
    for (;;) {
      this.send(bye, this.remoteTarget.port);
      const status = await Promise.race([answered, sleep(Math.min(interval, Math.max(1, deadline - Date.now()))).then(() => 0)]);
      if (status > 0 || Date.now() >= deadline) return status;
      interval *= 2;
    }
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}
