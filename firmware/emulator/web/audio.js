// The page's microphone and speaker for one phone at a time: an AudioContext with the audio worklet (audio-worklet.js), getUserMedia, and the binary PCM frames on the phone's WebSocket.

/** The frame header (firmware/emulator/browser-audio.ts): version, kind, sequence, sample rate; then int16 LE samples. */
const HEADER_BYTES = 8;
const VERSION = 1;
const KIND_CAPTURE = 1;
const KIND_PLAYBACK = 2;

/** What the browser's own processing does to the microphone before the phone gets it. */
const MIC_CONSTRAINTS = { echoCancellation: true, noiseSuppression: true, autoGainControl: true, channelCount: 1 };
/** The speaker's queue in the worklet: play-out starts with this much (the WebSocket's jitter), at most this much. */
const PLAYBACK_PREROLL_MS = 40;
const PLAYBACK_MAX_QUEUE_MS = 300;

/** Why this page cannot have audio at all, or undefined when it can. */
export function audioUnsupported() {
  if (!window.isSecureContext) {
    return 'audio needs a secure page: browsers give the microphone and audio worklets only to https:// pages and to http://127.0.0.1 or http://localhost (open the page that way, e.g. through an SSH tunnel: ssh -L 8080:127.0.0.1:8080 <host>)';
  }
  if (typeof window.AudioContext !== 'function' || typeof window.AudioWorkletNode !== 'function') return 'this browser has no AudioWorklet: audio needs a current Chrome, Firefox or Safari';
  return undefined;
}

/** A person's sentence for a getUserMedia failure. */
function micProblem(err) {
  const name = err && err.name;
  if (name === 'NotAllowedError' || name === 'SecurityError') return 'the microphone is blocked: allow it for this page in the browser (the icon in the address bar), then switch audio off and on';
  if (name === 'NotFoundError' || name === 'OverconstrainedError') return 'no microphone was found';
  if (name === 'NotReadableError' || name === 'AbortError') return 'the microphone is in use by another program, or failed';
  if (!navigator.mediaDevices || typeof navigator.mediaDevices.getUserMedia !== 'function') return 'this browser offers no microphone to this page';
  return `the microphone cannot be opened (${name || err})`;
}

/**
 * The page's audio. One AudioContext and one worklet node for the page; the phone that has them
 * (`owner`) gets the microphone frames and sends its speaker's. The owner is a PhoneView (app.js)
 * with send(message), sendBinary(buffer) and audioChanged().
 */
export class PageAudio {
  constructor() {
    this.ctx = undefined;
    this.node = undefined;
    this.ready = undefined;
    this.micStream = undefined;
    this.micSource = undefined;
    /** 'off' | 'asking' | 'on' | 'blocked' | 'unavailable' */
    this.mic = 'off';
    this.micText = '';
    this.owner = undefined;
    this.captureSeq = 0;
    this.badFrames = 0;
    this.probes = new Map();
    this.nextProbe = 1;
    this.onChange = () => undefined;
  }

  get sampleRate() {
    return this.ctx ? this.ctx.sampleRate : 0;
  }

  /**
   * Starts the AudioContext and the worklet; call it from a click or a key press (browsers start
   * audio only on a user gesture). The microphone is asked for once the worklet runs.
   */
  start() {
    if (!this.ready) {
      this.ctx = new AudioContext({ latencyHint: 'interactive' });
      this.ready = (async () => {
        await this.ctx.audioWorklet.addModule('audio-worklet.js');
        const frameMs = this.ctx.sampleRate > 96000 ? 10 : 20;
        this.node = new AudioWorkletNode(this.ctx, 'offhook-audio', {
          numberOfInputs: 1,
          numberOfOutputs: 1,
          outputChannelCount: [1],
          processorOptions: { frameMs, prerollMs: PLAYBACK_PREROLL_MS, maxQueueMs: PLAYBACK_MAX_QUEUE_MS },
        });
        this.node.port.onmessage = (event) => this.fromWorklet(event.data);
        this.node.connect(this.ctx.destination);
      })();
    }
    if (this.ctx.state === 'suspended') this.ctx.resume().catch(() => undefined);
    return this.ready.then(() => {
      // Asked again after a refusal too: the person may have allowed it meanwhile.
      if (this.mic !== 'asking' && this.mic !== 'on') this.openMic();
    });
  }

  async openMic() {
    this.mic = 'asking';
    this.onChange();
    try {
      if (!navigator.mediaDevices || typeof navigator.mediaDevices.getUserMedia !== 'function') throw new Error('no mediaDevices');
      const stream = await navigator.mediaDevices.getUserMedia({ audio: MIC_CONSTRAINTS });
      this.micStream = stream;
      this.micSource = this.ctx.createMediaStreamSource(stream);
      this.micSource.connect(this.node);
      this.mic = 'on';
      this.micText = '';
      for (const track of stream.getAudioTracks()) {
        track.addEventListener('ended', () => {
          this.mic = 'unavailable';
          this.micText = 'the microphone went away (unplugged?)';
          this.onChange();
        });
      }
    } catch (err) {
      this.mic = err && (err.name === 'NotAllowedError' || err.name === 'SecurityError') ? 'blocked' : 'unavailable';
      this.micText = micProblem(err);
    }
    this.onChange();
  }

  closeMic() {
    if (this.micSource) this.micSource.disconnect();
    if (this.micStream) for (const track of this.micStream.getTracks()) track.stop();
    this.micSource = undefined;
    this.micStream = undefined;
    this.mic = 'off';
    this.micText = '';
  }

  /** Gives the microphone and speaker to this phone (taking them from another one of the page). */
  async attach(view) {
    await this.start();
    if (this.owner && this.owner !== view) {
      const previous = this.owner;
      previous.send({ type: 'audio', on: false });
      this.owner = undefined;
      previous.audioState = 'off';
      previous.audioChanged();
    }
    this.owner = view;
    this.node.port.postMessage({ type: 'flush' });
    this.node.port.postMessage({ type: 'capture', on: false });
    view.audioState = 'asking';
    view.audioChanged();
    view.send({ type: 'audio', on: true, sampleRateHz: this.ctx.sampleRate });
  }

  /** This phone gives them back; the microphone is closed (the browser's indicator goes off). */
  detach(view) {
    if (this.owner !== view) return;
    view.send({ type: 'audio', on: false });
    this.release(view);
    this.closeMic();
    this.onChange();
  }

  /** The server's `audio` message for a phone. */
  fromServer(view, msg) {
    if (msg.state === 'on') {
      if (this.owner !== view) {
        // A late answer for a phone the page has let go of meanwhile.
        view.send({ type: 'audio', on: false });
        return;
      }
      view.audioState = 'on';
      this.node.port.postMessage({ type: 'capture', on: true });
    } else {
      if (this.owner === view) this.release(view);
      view.audioState = msg.state;
      view.audioReason = msg.reason || '';
    }
    view.audioChanged();
  }

  /** The phone's socket closed: its link is gone (the view asks again when it reconnects). */
  disconnected(view) {
    if (this.owner === view && this.node) {
      this.node.port.postMessage({ type: 'capture', on: false });
      this.node.port.postMessage({ type: 'flush' });
    }
  }

  release(view) {
    this.owner = undefined;
    if (this.node) {
      this.node.port.postMessage({ type: 'capture', on: false });
      this.node.port.postMessage({ type: 'flush' });
    }
    view.audioState = 'off';
  }

  /** A binary message on a phone's socket: a speaker frame for the worklet. */
  fromSocket(view, buffer) {
    if (this.owner !== view || !this.node || buffer.byteLength < HEADER_BYTES) return;
    const header = new DataView(buffer, 0, HEADER_BYTES);
    const count = (buffer.byteLength - HEADER_BYTES) >> 1;
    if (header.getUint8(0) !== VERSION || header.getUint8(1) !== KIND_PLAYBACK || header.getUint32(4, true) !== this.ctx.sampleRate) {
      this.badFrames++;
      return;
    }
    const pcm = new DataView(buffer, HEADER_BYTES, count * 2);
    const samples = new Float32Array(count);
    for (let i = 0; i < count; i++) samples[i] = pcm.getInt16(2 * i, true) / 32768;
    this.node.port.postMessage({ type: 'play', samples }, [samples.buffer]);
  }

  fromWorklet(msg) {
    if (msg.type === 'capture') {
      const view = this.owner;
      if (!view || view.audioState !== 'on') return;
      const samples = msg.samples;
      const buffer = new ArrayBuffer(HEADER_BYTES + 2 * samples.length);
      const data = new DataView(buffer);
      data.setUint8(0, VERSION);
      data.setUint8(1, KIND_CAPTURE);
      data.setUint16(2, this.captureSeq, true);
      data.setUint32(4, this.ctx.sampleRate, true);
      this.captureSeq = (this.captureSeq + 1) & 0xffff;
      for (let i = 0; i < samples.length; i++) {
        const v = Math.max(-1, Math.min(1, samples[i]));
        data.setInt16(HEADER_BYTES + 2 * i, Math.round(v * 32767), true);
      }
      view.sendBinary(buffer);
    } else if (msg.type === 'probe') {
      const resolve = this.probes.get(msg.id);
      this.probes.delete(msg.id);
      if (resolve) resolve(msg);
    }
  }

  /**
   * What the worklet has played: its counters and the last two seconds of its output (as the sound card
   * got it), with the context's state. For tests and debugging (window.offhookAudio.probe()).
   */
  probe() {
    if (!this.node) return Promise.resolve(undefined);
    const id = this.nextProbe++;
    return new Promise((resolve) => {
      this.probes.set(id, (msg) =>
        resolve({
          sampleRate: msg.sampleRate,
          currentTime: msg.currentTime,
          contextState: this.ctx.state,
          owner: this.owner ? this.owner.ext : null,
          mic: this.mic,
          queued: msg.queued,
          badFrames: this.badFrames,
          stats: msg.stats,
          recent: Array.from(msg.recent),
        }),
      );
      this.node.port.postMessage({ type: 'probe', id });
    });
  }
}
