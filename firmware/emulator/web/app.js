// The emulated phones' page: one view per phone, each drawing the state its WebSocket pushes and sending its key taps and hook back; the page's microphone and speaker for a phone with browser audio (audio.js).
import { audioUnsupported, PageAudio } from './audio.js';

/** Enter sends the number: on this keypad that is '#'; Backspace erases with softkey D. */
const SEND_KEY = '#';
const ERASE_KEY = 'D';

/** HD44780 drawing: each dot is DOT px in a PITCH px grid; one blank pitch between cells and rows. */
const DOT = 3;
const PITCH = 4;
const MARGIN = 10;
/** SSD1306 drawing: one panel pixel as SCALE x SCALE screen pixels. */
const SCALE = 4;

const LCD_COLORS = {
  on: { back: '#a4c639', dot: '#1d2a0c', ghost: 'rgba(30, 50, 0, 0.09)' },
  off: { back: '#55622c', dot: '#1a2309', ghost: 'rgba(0, 0, 0, 0.08)' },
};

const el = (id) => document.getElementById(id);

let errorTimer;
function showError(text) {
  el('error').textContent = text;
  clearTimeout(errorTimer);
  errorTimer = setTimeout(() => (el('error').textContent = ''), 5000);
}

/** The views shown, and the one the keyboard drives (the last one clicked; the first at start). */
const views = [];
let selected;

/** The page's microphone and speaker, given to one phone at a time; why there are none, if so. */
const pageAudio = new PageAudio();
const noAudio = audioUnsupported();
pageAudio.onChange = () => {
  for (const v of views) v.audioChanged();
};
/** For tests and debugging: what the speaker's worklet played (window.offhookAudio.probe()). */
window.offhookAudio = { probe: () => pageAudio.probe() };

function select(view) {
  selected = view;
  for (const v of views) v.root.classList.toggle('selected', v === view);
  document.body.dataset.selected = view.ext;
  document.body.dataset.offHook = String(Boolean(view.state && view.state.offHook));
}

/** The page is connected when every phone's socket is. */
function updateConnected() {
  document.body.dataset.connected = String(views.length > 0 && views.every((v) => v.connected));
}

/** One phone on the page: its own elements (from the template), WebSocket and state. */
class PhoneView {
  constructor(ext) {
    this.ext = ext;
    this.root = el('phone-template').content.firstElementChild.cloneNode(true);
    this.root.dataset.ext = ext;
    this.root.setAttribute('aria-label', `phone ${ext}`);
    this.part('.ext').textContent = ext;
    this.canvas = this.part('.lcd');
    this.ctx = this.canvas.getContext('2d');
    this.info = undefined;
    this.font = {};
    this.state = undefined;
    this.connected = false;
    this.retryMs = 500;
    /** Whether the phone's microphone and speaker can be the page's (hello.audio), and their state here. */
    this.audioAvailable = false;
    this.audioState = 'off';
    this.audioReason = '';
    /** The person switched audio off here: lifting the handset no longer switches it on. */
    this.audioDeclined = false;
    this.root.addEventListener('pointerdown', () => select(this));
    this.part('.audio-button').addEventListener('click', () => this.toggleAudio());
    this.part('.handset').addEventListener('pointerdown', (e) => {
      if (e.button !== 0) return;
      e.preventDefault();
      this.toggleHook();
    });
    el('phones').append(this.root);
  }

  part(selector) {
    return this.root.querySelector(selector);
  }

  connect() {
    const socket = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/phones/${encodeURIComponent(this.ext)}/ws`);
    this.socket = socket;
    socket.binaryType = 'arraybuffer';
    socket.addEventListener('open', () => {
      this.retryMs = 500;
      this.setConnection(true);
    });
    socket.addEventListener('message', (event) => {
      if (event.data instanceof ArrayBuffer) {
        pageAudio.fromSocket(this, event.data);
        return;
      }
      const msg = JSON.parse(event.data);
      if (msg.ext !== undefined && msg.ext !== this.ext) return;
      if (msg.type === 'hello') {
        this.info = msg.info;
        this.font = msg.font;
        this.state = msg.state;
        this.audioAvailable = Boolean(msg.audio);
        this.setUp();
        this.render();
        // Reconnected while the page had this phone's audio: ask for it again.
        if (pageAudio.owner === this) pageAudio.attach(this).catch((err) => this.audioFailed(err));
        this.audioChanged();
      } else if (msg.type === 'audio') {
        pageAudio.fromServer(this, msg);
      } else if (msg.type === 'change' && this.state) {
        Object.assign(this.state, msg.changes);
        this.render();
      } else if (msg.type === 'error') {
        showError(`${this.ext}: ${msg.message}`);
      }
    });
    socket.addEventListener('close', () => {
      this.setConnection(false);
      pageAudio.disconnected(this);
      // The phone restarted or the network blinked: try again, backing off to 5 s.
      setTimeout(() => this.connect(), this.retryMs);
      this.retryMs = Math.min(this.retryMs * 2, 5000);
    });
  }

  send(message) {
    if (this.socket && this.socket.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(message));
  }

  sendBinary(buffer) {
    // A socket that cannot keep up drops microphone frames rather than queueing them (latency).
    if (this.socket && this.socket.readyState === WebSocket.OPEN && this.socket.bufferedAmount < 32768) this.socket.send(buffer);
  }

  // ---- audio: the page's microphone and speaker for this phone ----

  /** The audio button: on here (from another phone if need be), or off. A click is the user gesture browsers need. */
  toggleAudio() {
    if (!this.audioAvailable || noAudio) return;
    if (pageAudio.owner === this) {
      this.audioDeclined = true;
      pageAudio.detach(this);
      this.audioChanged();
      return;
    }
    this.audioDeclined = false;
    pageAudio.attach(this).catch((err) => this.audioFailed(err));
  }

  audioFailed(err) {
    this.audioState = 'failed';
    this.audioReason = `audio cannot start: ${err && err.message ? err.message : err}`;
    this.audioChanged();
  }

  /** Shows the audio state: the button, and a line under the phone that says what works. */
  audioChanged() {
    const button = this.part('.audio-button');
    const text = this.part('.audio-text');
    button.hidden = !this.audioAvailable;
    text.hidden = !this.audioAvailable;
    if (!this.audioAvailable) return;
    const mine = pageAudio.owner === this;
    const on = mine && this.audioState === 'on';
    button.setAttribute('aria-pressed', String(mine));
    button.disabled = Boolean(noAudio);
    this.root.dataset.audio = mine ? this.audioState : this.audioState === 'on' ? 'off' : this.audioState;
    this.root.dataset.mic = mine ? pageAudio.mic : 'off';
    let line;
    if (noAudio) line = `No audio: ${noAudio}.`;
    else if (on && pageAudio.mic === 'on') line = 'Audio: this computer\'s microphone and speaker.';
    else if (on && pageAudio.mic === 'asking') line = 'Audio: speaker on; waiting for the microphone (allow it in the browser).';
    else if (on && (pageAudio.mic === 'blocked' || pageAudio.mic === 'unavailable')) line = `Audio: speaker only — ${pageAudio.micText}; the far end hears silence.`;
    else if (mine) line = 'Audio: connecting…';
    else if (this.audioReason) line = `Audio off: ${this.audioReason}.`;
    else line = 'Audio off: click audio (or lift the handset) to talk through this computer.';
    text.textContent = line;
    text.classList.toggle('problem', Boolean(noAudio) || (on && (pageAudio.mic === 'blocked' || pageAudio.mic === 'unavailable')) || this.audioState === 'failed' || this.audioState === 'unavailable');
  }

  setConnection(ok) {
    this.connected = ok;
    this.part('.conn-dot').classList.toggle('ok', ok);
    this.part('.conn').textContent = ok ? 'connected' : 'disconnected, retrying…';
    this.root.dataset.connected = String(ok);
    updateConnected();
  }

  // ---- set-up from the hello message ----

  setUp() {
    const d = this.info.display;
    let width = 480;
    let height = 120;
    if (d.type === 'hd44780') {
      width = d.columns * 6 * PITCH - PITCH + 2 * MARGIN;
      height = d.rows * 9 * PITCH - PITCH + 2 * MARGIN;
    } else if (d.type === 'ssd1306') {
      width = d.width * SCALE;
      height = d.height * SCALE;
    }
    const ratio = window.devicePixelRatio || 1;
    this.canvas.width = Math.round(width * ratio);
    this.canvas.height = Math.round(height * ratio);
    this.canvas.style.width = `${width}px`;
    this.canvas.style.height = `${height}px`;
    this.ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    this.canvas.dataset.display = d.type;

    const keypad = this.part('.keypad');
    keypad.replaceChildren();
    keypad.style.setProperty('--columns', String(this.info.keypadColumns));
    for (const key of this.info.keys) {
      const b = document.createElement('button');
      b.type = 'button';
      b.className = /^[A-D]$/.test(key) ? 'key softkey' : 'key';
      b.dataset.key = key;
      b.textContent = key;
      b.addEventListener('pointerdown', (e) => {
        if (e.button !== 0) return;
        e.preventDefault();
        this.tap(key);
      });
      keypad.append(b);
    }

    const indicators = this.part('.indicators');
    for (const old of indicators.querySelectorAll('.led')) old.remove();
    for (const name of Object.keys(this.state.leds)) {
      const led = document.createElement('div');
      led.className = 'led';
      led.dataset.led = name;
      led.title = `LED ${name}`;
      led.innerHTML = '<span class="lamp"></span><span class="label"></span>';
      led.querySelector('.label').textContent = name;
      indicators.prepend(led);
    }
    this.setConnection(true);
  }

  // ---- inputs ----

  tap(key) {
    const b = this.root.querySelector(`.key[data-key="${CSS.escape(key)}"]`);
    if (b) {
      b.classList.add('pressed');
      setTimeout(() => b.classList.remove('pressed'), 120);
    }
    this.send({ type: 'tap', key });
  }

  toggleHook() {
    if (!this.state) return;
    const lifting = !this.state.offHook;
    this.send({ type: 'hook', offHook: lifting });
    // Lifting the handset of a phone with browser audio gives it the page's microphone and speaker
    // (this click or key press is the gesture browsers need), unless the person switched them off.
    if (lifting && this.audioAvailable && !noAudio && !this.audioDeclined && pageAudio.owner !== this) {
      pageAudio.attach(this).catch((err) => this.audioFailed(err));
    }
  }

  // ---- drawing ----

  render() {
    const state = this.state;
    const offHook = state.offHook;
    this.part('.phone').classList.toggle('off-hook', offHook);
    this.part('.handset').setAttribute('aria-pressed', String(offHook));
    this.part('.hook-text').textContent = offHook ? 'off hook' : 'on hook';
    this.root.dataset.offHook = String(offHook);
    if (this === selected) document.body.dataset.offHook = String(offHook);
    for (const led of this.root.querySelectorAll('.led')) led.classList.toggle('on', Boolean(state.leds[led.dataset.led]));
    this.part('.ringer').classList.toggle('on', state.ringer);
    this.root.dataset.ringing = String(state.ringer);
    const line = state.phone.lines[0];
    this.part('.line-text').textContent = state.phone.problem ?? (line ? line.text : 'no account');
    // The LCD's text for screen readers and tests; glyph slots as a box.
    this.part('.lcd-text').textContent = state.lcd.map((l) => [...l].map((c) => (c.charCodeAt(0) < 8 ? '\u25a1' : c)).join('')).join('\n');
    const d = this.info.display;
    if (d.type === 'hd44780') this.drawCharacterLcd(d);
    else if (d.type === 'ssd1306') this.drawOled(d);
    else this.drawText();
  }

  /** The 8 rows of 5 bits a character shows as: CGRAM for slots 0..7, the ROM font otherwise. */
  bitmapOf(ch) {
    const code = ch.charCodeAt(0);
    if (code < 8) return this.state.glyphs[code];
    return this.font[ch];
  }

  drawCharacterLcd(d) {
    const ctx = this.ctx;
    const colors = this.state.backlight ? LCD_COLORS.on : LCD_COLORS.off;
    const w = this.canvas.width / (window.devicePixelRatio || 1);
    const h = this.canvas.height / (window.devicePixelRatio || 1);
    ctx.fillStyle = colors.back;
    ctx.fillRect(0, 0, w, h);
    for (let row = 0; row < d.rows; row++) {
      const text = [...(this.state.lcd[row] ?? '')];
      for (let col = 0; col < d.columns; col++) {
        const x0 = MARGIN + col * 6 * PITCH;
        const y0 = MARGIN + row * 9 * PITCH;
        const ch = text[col] ?? ' ';
        const bits = this.bitmapOf(ch);
        if (!bits && ch !== ' ') {
          // Outside the ASCII font (katakana, arrows, °): the character itself, in the dot colour.
          this.drawCells(x0, y0, undefined, colors);
          ctx.fillStyle = colors.dot;
          ctx.font = `${7 * PITCH}px monospace`;
          ctx.textAlign = 'center';
          ctx.textBaseline = 'middle';
          ctx.fillText(ch, x0 + 2.5 * PITCH, y0 + 4 * PITCH);
          continue;
        }
        this.drawCells(x0, y0, bits, colors);
      }
    }
  }

  drawCells(x0, y0, bits, colors) {
    for (let y = 0; y < 8; y++) {
      const rowBits = bits ? bits[y] : 0;
      for (let x = 0; x < 5; x++) {
        this.ctx.fillStyle = (rowBits >> (4 - x)) & 1 ? colors.dot : colors.ghost;
        this.ctx.fillRect(x0 + x * PITCH, y0 + y * PITCH, DOT, DOT);
      }
    }
  }

  drawOled(d) {
    const ctx = this.ctx;
    ctx.fillStyle = '#050608';
    ctx.fillRect(0, 0, d.width * SCALE, d.height * SCALE);
    const bytes = Uint8Array.from(atob(this.state.pixels), (c) => c.charCodeAt(0));
    ctx.fillStyle = '#8fd8ff';
    for (let y = 0; y < d.height; y++) {
      for (let x = 0; x < d.width; x++) {
        const bit = y * d.width + x;
        if ((bytes[bit >> 3] >> (7 - (bit & 7))) & 1) ctx.fillRect(x * SCALE, y * SCALE, SCALE - 1, SCALE - 1);
      }
    }
  }

  drawText() {
    const ctx = this.ctx;
    const w = this.canvas.width / (window.devicePixelRatio || 1);
    const h = this.canvas.height / (window.devicePixelRatio || 1);
    ctx.fillStyle = '#222';
    ctx.fillRect(0, 0, w, h);
    ctx.fillStyle = '#eee';
    ctx.font = '18px monospace';
    ctx.textAlign = 'left';
    ctx.textBaseline = 'top';
    this.state.lcd.forEach((line, i) => ctx.fillText(line, 10, 10 + i * 24));
  }
}

// ---- the keyboard drives the selected phone ----

/** The key a keyboard event stands for, or 'hook', or undefined. */
function keyOf(e) {
  if (e.ctrlKey || e.metaKey || e.altKey) return undefined;
  if (e.key === ' ' || e.code === 'Space') return 'hook';
  if (e.key === 'Enter') return SEND_KEY;
  if (e.key === 'Backspace') return ERASE_KEY;
  const k = e.key.length === 1 ? e.key.toUpperCase() : '';
  return selected && selected.info && selected.info.keys.includes(k) ? k : undefined;
}

document.addEventListener('keydown', (e) => {
  const k = keyOf(e);
  if (!k || !selected) return;
  // Handled here only: no button click, no page scroll.
  e.preventDefault();
  if (e.repeat) return;
  if (k === 'hook') selected.toggleHook();
  else selected.tap(k);
});
document.addEventListener('keyup', (e) => {
  if (keyOf(e)) e.preventDefault();
});

/** The phones this server runs (GET /api/phones); ?phone=<ext> shows that one alone. */
async function start() {
  let exts = [];
  try {
    const res = await fetch('/api/phones', { headers: { accept: 'application/json' } });
    exts = (await res.json()).phones.map((p) => p.ext);
  } catch (err) {
    showError(`the phones cannot be listed: ${err}`);
    setTimeout(start, 2000);
    return;
  }
  const only = new URLSearchParams(location.search).get('phone');
  if (only) exts = exts.filter((ext) => ext === only);
  document.body.dataset.phones = String(exts.length);
  for (const ext of exts) views.push(new PhoneView(ext));
  if (views[0]) select(views[0]);
  for (const v of views) v.connect();
}

start();
