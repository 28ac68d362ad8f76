// The emulator page's microphone and speaker for a phone with `media.audio.backend: browser`: the binary PCM frames on the phone's WebSocket, their checks, and the link between one page and the phone's media engine.
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/log.js';

/** A sample-rate converter (the engine's speexdsp one): state carries over between pieces. */
export interface AudioResampler {
  process(pcm: Int16Array): Int16Array;
  reset(): void;
}

/**
 * What the server needs of a phone whose audio is the page's; the composition root makes it from the
 * phone's media engine (its `external` backend).
 */
export interface BrowserAudioPort {
  /** The engine rate: what pushCapture() takes and the playback listener gets. */
  readonly sampleRateHz: number;
  /** Microphone samples at the engine rate. */
  pushCapture(pcm: Int16Array): void;
  /** What the speaker plays, in batches at the engine rate; returns the unsubscribe. */
  onPlayback(listener: (pcm: Int16Array) => void): () => void;
  createResampler(inRateHz: number, outRateHz: number): AudioResampler;
}

/**
 * A binary WebSocket message is one audio frame: an 8-byte header, then 16-bit little-endian mono
 * samples. The socket is the phone's own (/api/phones/<ext>/ws), so the header needs no phone id.
 *
 *   byte 0    AUDIO_FRAME_VERSION (1)
 *   byte 1    kind: 1 = microphone (page → phone), 2 = speaker (phone → page)
 *   bytes 2–3 sequence number, uint16 LE, +1 per frame of that direction (a gap = frames lost)
 *   bytes 4–7 sample rate in Hz, uint32 LE: the page's AudioContext rate, both ways
 */
export const AUDIO_FRAME_VERSION = 1;
export const AUDIO_FRAME_HEADER_BYTES = 8;
export const AUDIO_FRAME_CAPTURE = 1;
export const AUDIO_FRAME_PLAYBACK = 2;
/** Rates a page may use (AudioContext allows 3000–768000; real ones are 44100 and 48000). */
export const AUDIO_MIN_RATE_HZ = 8000;
export const AUDIO_MAX_RATE_HZ = 192_000;
/** The longest frame taken from a page (it sends 10 or 20 ms). */
export const AUDIO_MAX_FRAME_MS = 60;
/** Speaker frames are dropped while the socket has this much unsent (a page that stopped reading). */
const MAX_BUFFERED_BYTES = 64 * 1024;
/** A page may send up to this much more audio than time passes (bursts after a stall), plus the slack. */
const CAPTURE_BUDGET_FACTOR = 1.5;
const CAPTURE_BUDGET_SLACK_MS = 1000;

export interface AudioFrame {
  kind: number;
  seq: number;
  sampleRateHz: number;
  samples: Int16Array;
}

/** A frame read from the wire, or what is wrong with it (the frame is then dropped). */
export function parseAudioFrame(data: Uint8Array): AudioFrame | { problem: string } {
  if (data.length < AUDIO_FRAME_HEADER_BYTES + 2) return { problem: `an audio frame has an ${AUDIO_FRAME_HEADER_BYTES}-byte header and at least one sample` };
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  if (view.getUint8(0) !== AUDIO_FRAME_VERSION) return { problem: `audio frame version ${view.getUint8(0)}; this server speaks version ${AUDIO_FRAME_VERSION}` };
  const kind = view.getUint8(1);
  const seq = view.getUint16(2, true);
  const sampleRateHz = view.getUint32(4, true);
  if (sampleRateHz < AUDIO_MIN_RATE_HZ || sampleRateHz > AUDIO_MAX_RATE_HZ) return { problem: `sample rate ${sampleRateHz} Hz: expected ${AUDIO_MIN_RATE_HZ} to ${AUDIO_MAX_RATE_HZ}` };
  const bytes = data.length - AUDIO_FRAME_HEADER_BYTES;
  if (bytes % 2 !== 0) return { problem: 'an audio frame holds whole 16-bit samples' };
  const count = bytes / 2;
  if (count * 1000 > AUDIO_MAX_FRAME_MS * sampleRateHz) return { problem: `an audio frame lasts at most ${AUDIO_MAX_FRAME_MS} ms` };
  const samples = new Int16Array(count);
  for (let i = 0; i < count; i++) samples[i] = view.getInt16(AUDIO_FRAME_HEADER_BYTES + 2 * i, true);
  return { kind, seq, sampleRateHz, samples };
}

/** A frame for the wire. */
export function audioFrame(kind: number, seq: number, sampleRateHz: number, samples: Int16Array): Buffer {
  const buf = Buffer.alloc(AUDIO_FRAME_HEADER_BYTES + 2 * samples.length);
  buf.writeUInt8(AUDIO_FRAME_VERSION, 0);
  buf.writeUInt8(kind, 1);
  buf.writeUInt16LE(seq & 0xffff, 2);
  buf.writeUInt32LE(sampleRateHz, 4);
  for (let i = 0; i < samples.length; i++) buf.writeInt16LE(samples[i] ?? 0, AUDIO_FRAME_HEADER_BYTES + 2 * i);
  return buf;
}

/** A page's end of the link: the phone's WebSocket, as the server holds it. */
export interface AudioClient {
  /** Sends a speaker frame; false when it was dropped (the socket is not open). */
  sendBinary(frame: Buffer): boolean;
  /** Bytes queued on the socket, not yet sent. */
  bufferedBytes(): number;
  /** Tells the page the link's state: on (with the rates), off (with why). */
  notify(state: 'on' | 'off', detail: { reason?: string; sampleRateHz?: number; engineRateHz?: number }): void;
}

/** What a link counted (logged when it ends; the tests read it). */
export interface AudioLinkCounters {
  captureFrames: number;
  captureSamples: number;
  /** Frames dropped: not attached, malformed, from the wrong direction, or beyond the budget. */
  captureDropped: number;
  /** Gaps in the page's sequence numbers (frames lost before they reached us). */
  captureGaps: number;
  playbackFrames: number;
  /** Speaker frames dropped because the page did not read them. */
  playbackDropped: number;
}

interface Attached {
  client: AudioClient;
  /** The page's AudioContext rate. */
  sampleRateHz: number;
  since: number;
  /** Audio accepted so far, ms of the page's. */
  capturedMs: number;
  capture: { rate: number; resampler: AudioResampler } | undefined;
  playback: AudioResampler;
  playbackSeq: number;
  lastSeq: number | undefined;
  unsubscribe: () => void;
  counters: AudioLinkCounters;
}

/**
 * One phone's microphone and speaker as the page's: at most one page at a time (the one that asked
 * last: the previous one is told it lost them). The page's frames are converted to the engine rate
 * and pushed; the engine's speaker batches are converted to the page's rate and sent. Only the
 * phone's own WebSocket — past the server's password or loopback checks — reaches this.
 */
export class BrowserAudioLink {
  private attached: Attached | undefined;
  private readonly log: Logger;

  constructor(
    private readonly port: BrowserAudioPort,
    private readonly clock: Clock,
    log: Logger,
  ) {
    this.log = log.child({ mod: 'emulator/audio' });
  }

  get engineRateHz(): number {
    return this.port.sampleRateHz;
  }

  /** Whether this client has the phone's audio now. */
  owns(client: AudioClient): boolean {
    return this.attached?.client === client;
  }

  /** The page's counters, while it has the audio. */
  counters(client: AudioClient): AudioLinkCounters | undefined {
    const link = this.attached;
    return link?.client === client ? { ...link.counters } : undefined;
  }

  /** Gives the phone's microphone and speaker to this page (taking them from another one). */
  attach(client: AudioClient, sampleRateHz: number): void {
    if (!Number.isInteger(sampleRateHz) || sampleRateHz < AUDIO_MIN_RATE_HZ || sampleRateHz > AUDIO_MAX_RATE_HZ) {
      client.notify('off', { reason: `sampleRateHz must be an integer from ${AUDIO_MIN_RATE_HZ} to ${AUDIO_MAX_RATE_HZ}` });
      return;
    }
    const previous = this.attached;
    // The same page again (a new AudioContext rate): no "off" in between.
    if (previous) this.end(previous, 'another page took this phone\'s audio', previous.client !== client);
    const link: Attached = {
      client,
      sampleRateHz,
      since: this.clock.now(),
      capturedMs: 0,
      capture: undefined,
      playback: this.port.createResampler(this.port.sampleRateHz, sampleRateHz),
      playbackSeq: 0,
      lastSeq: undefined,
      unsubscribe: () => undefined,
      counters: { captureFrames: 0, captureSamples: 0, captureDropped: 0, captureGaps: 0, playbackFrames: 0, playbackDropped: 0 },
    };
    link.unsubscribe = this.port.onPlayback((pcm) => this.play(link, pcm));
    this.attached = link;
    this.log.info({ sampleRateHz, engineRateHz: this.port.sampleRateHz }, 'the page has the phone\'s microphone and speaker');
    client.notify('on', { sampleRateHz, engineRateHz: this.port.sampleRateHz });
  }

  /** The page let go (or its socket closed). */
  detach(client: AudioClient, reason?: string): void {
    if (this.attached?.client === client) this.end(this.attached, reason);
  }

  /**
   * A binary message from a page's socket. Anything but a well-formed microphone frame from the
   * page that has the audio is dropped; the answer is what was wrong (undefined when it was taken).
   */
  capture(client: AudioClient, data: Uint8Array): string | undefined {
    const link = this.attached;
    if (link?.client !== client) return 'audio frames need {"type":"audio","on":true,"sampleRateHz":N} first (or another page has this phone\'s audio)';
    const frame = parseAudioFrame(data);
    if ('problem' in frame) return this.drop(link, frame.problem);
    if (frame.kind !== AUDIO_FRAME_CAPTURE) return this.drop(link, `a page sends microphone frames (kind ${AUDIO_FRAME_CAPTURE}), not kind ${frame.kind}`);
    const ms = (frame.samples.length * 1000) / frame.sampleRateHz;
    const allowedMs = (this.clock.now() - link.since) * CAPTURE_BUDGET_FACTOR + CAPTURE_BUDGET_SLACK_MS;
    if (link.capturedMs + ms > allowedMs) return this.drop(link, 'more audio than time passes: dropped');
    if (link.lastSeq !== undefined && frame.seq !== ((link.lastSeq + 1) & 0xffff)) link.counters.captureGaps++;
    link.lastSeq = frame.seq;
    link.capturedMs += ms;
    if (link.capture?.rate !== frame.sampleRateHz) link.capture = { rate: frame.sampleRateHz, resampler: this.port.createResampler(frame.sampleRateHz, this.port.sampleRateHz) };
    const pcm = link.capture.resampler.process(frame.samples);
    link.counters.captureFrames++;
    link.counters.captureSamples += frame.samples.length;
    if (pcm.length > 0) this.port.pushCapture(pcm);
    return undefined;
  }

  /** Lets go of any page (the server is closing). */
  close(): void {
    if (this.attached) this.end(this.attached, 'the phone is stopping');
  }

  private drop(link: Attached, problem: string): string {
    link.counters.captureDropped++;
    return problem;
  }

  private play(link: Attached, pcm: Int16Array): void {
    if (this.attached !== link) return;
    const samples = link.playback.process(pcm);
    if (samples.length === 0) return;
    const seq = link.playbackSeq;
    link.playbackSeq = (seq + 1) & 0xffff;
    // A page that stopped reading must not make us queue its speaker without end.
    if (link.client.bufferedBytes() > MAX_BUFFERED_BYTES || !link.client.sendBinary(audioFrame(AUDIO_FRAME_PLAYBACK, seq, link.sampleRateHz, samples))) {
      link.counters.playbackDropped++;
      return;
    }
    link.counters.playbackFrames++;
  }

  private end(link: Attached, reason: string | undefined, notify = true): void {
    link.unsubscribe();
    if (this.attached === link) this.attached = undefined;
    this.log.info({ ...link.counters, reason }, 'the page let go of the phone\'s microphone and speaker');
    if (notify) link.client.notify('off', reason !== undefined ? { reason } : {});
  }
}
