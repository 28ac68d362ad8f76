// The page's audio thread (an AudioWorklet): the microphone cut into frames for the phone, and the phone's speaker played from a small queue (silence on underrun, oldest dropped on overrun).

/** Per message from the page: { type: 'play', samples } | { type: 'capture', on } | { type: 'flush' } | { type: 'probe', id }. */
class OffhookAudio extends AudioWorkletProcessor {
  constructor(options) {
    super();
    const o = (options && options.processorOptions) || {};
    const ms = (v) => Math.round((sampleRate * v) / 1000);
    // Microphone: frames of frameMs, sent to the page while capturing.
    this.frame = new Float32Array(ms(o.frameMs || 20));
    this.frameFill = 0;
    this.capturing = false;
    // Speaker: a ring of at most maxQueueMs; play-out starts (and starts again after an underrun)
    // once prerollMs is queued: the cushion for the WebSocket's jitter.
    this.ring = new Float32Array(ms(o.maxQueueMs || 300));
    this.head = 0;
    this.size = 0;
    this.preroll = ms(o.prerollMs || 40);
    this.priming = true;
    // A surplus that never drains (the phone's clock is faster than this sound card's) is dropped:
    // the lowest fill of every 3 s is watched, as the engine does for the microphone.
    this.windowFrames = ms(3000);
    this.windowSeen = 0;
    this.windowMin = Infinity;
    this.slack = ms(20);
    // The last two seconds played, for the page's probe (tests and debugging).
    this.recent = new Float32Array(2 * sampleRate);
    this.recentAt = 0;
    this.stats = { receivedSamples: 0, playedSamples: 0, silentSamples: 0, underruns: 0, lastUnderrunS: -1, overflowSamples: 0, trimmedSamples: 0, capturedFrames: 0 };
    this.port.onmessage = (event) => this.onMessage(event.data);
  }

  onMessage(m) {
    if (m.type === 'play') this.enqueue(m.samples);
    else if (m.type === 'capture') {
      this.capturing = Boolean(m.on);
      this.frameFill = 0;
    } else if (m.type === 'flush') {
      this.size = 0;
      this.priming = true;
    } else if (m.type === 'probe') {
      const recent = new Float32Array(this.recent.length);
      recent.set(this.recent.subarray(this.recentAt));
      recent.set(this.recent.subarray(0, this.recentAt), this.recent.length - this.recentAt);
      this.port.postMessage({ type: 'probe', id: m.id, sampleRate, currentTime, queued: this.size, stats: { ...this.stats }, recent }, [recent.buffer]);
    }
  }

  enqueue(samples) {
    const capacity = this.ring.length;
    this.stats.receivedSamples += samples.length;
    let from = 0;
    if (samples.length > capacity) {
      from = samples.length - capacity;
      this.stats.overflowSamples += from;
    }
    const n = samples.length - from;
    if (this.size + n > capacity) this.drop(this.size + n - capacity, 'overflowSamples');
    let tail = (this.head + this.size) % capacity;
    for (let i = from; i < samples.length; i++) {
      this.ring[tail] = samples[i];
      tail = tail + 1 === capacity ? 0 : tail + 1;
    }
    this.size += n;
  }

  drop(n, counter) {
    const k = Math.min(n, this.size);
    this.head = (this.head + k) % this.ring.length;
    this.size -= k;
    this.stats[counter] += k;
  }

  process(inputs, outputs) {
    const input = inputs[0];
    if (this.capturing && input && input.length > 0) this.capture(input);
    const output = outputs[0];
    if (!output || output.length === 0) return true;
    const out = output[0];
    const n = out.length;
    let played = 0;
    if (this.priming && this.size >= Math.max(this.preroll, n)) {
      this.priming = false;
      this.windowSeen = 0;
      this.windowMin = Infinity;
    }
    if (!this.priming) {
      const capacity = this.ring.length;
      played = Math.min(n, this.size);
      for (let i = 0; i < played; i++) {
        out[i] = this.ring[this.head];
        this.head = this.head + 1 === capacity ? 0 : this.head + 1;
      }
      this.size -= played;
      if (played < n) {
        this.stats.underruns++;
        this.stats.lastUnderrunS = currentTime;
        this.priming = true;
      } else {
        this.windowMin = Math.min(this.windowMin, this.size);
        this.windowSeen += n;
        if (this.windowSeen >= this.windowFrames) {
          if (this.windowMin > this.preroll + this.slack) this.drop(this.windowMin - this.preroll, 'trimmedSamples');
          this.windowSeen = 0;
          this.windowMin = Infinity;
        }
      }
    }
    out.fill(0, played);
    for (let c = 1; c < output.length; c++) output[c].set(out);
    this.stats.playedSamples += played;
    this.stats.silentSamples += n - played;
    for (let i = 0; i < n; i++) {
      this.recent[this.recentAt] = out[i];
      this.recentAt = this.recentAt + 1 === this.recent.length ? 0 : this.recentAt + 1;
    }
    return true;
  }

  /** The microphone's channels averaged, cut into frames; each full frame goes to the page. */
  capture(input) {
    const channels = input.length;
    const length = input[0].length;
    for (let i = 0; i < length; i++) {
      let v = 0;
      for (let c = 0; c < channels; c++) v += input[c][i];
      this.frame[this.frameFill++] = v / channels;
      if (this.frameFill === this.frame.length) {
        const samples = this.frame;
        this.frame = new Float32Array(samples.length);
        this.frameFill = 0;
        this.stats.capturedFrames++;
        this.port.postMessage({ type: 'capture', samples }, [samples.buffer]);
      }
    }
  }
}

registerProcessor('offhook-audio', OffhookAudio);
