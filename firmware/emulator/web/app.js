// The emulated phone's page: draws the state the server pushes over the WebSocket and sends key taps and the hook back.

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
const phoneEl = el('phone');
const canvas = el('lcd');
const ctx = canvas.getContext('2d');

/** What the server said: static info, the ROM font, and the current state (patched by each change). */
let info;
let font = {};
let state;
let socket;
let retryMs = 500;

function wsUrl() {
  const ext = new URLSearchParams(location.search).get('phone');
  const path = ext ? `/api/phones/${encodeURIComponent(ext)}/ws` : '/api/ws';
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${path}`;
}

function connect() {
  socket = new WebSocket(wsUrl());
  socket.addEventListener('open', () => {
    retryMs = 500;
    setConnection(true);
  });
  socket.addEventListener('message', (event) => {
    const msg = JSON.parse(event.data);
    if (msg.type === 'hello') {
      info = msg.info;
      font = msg.font;
      state = msg.state;
      setUp();
      render();
    } else if (msg.type === 'change' && state) {
      Object.assign(state, msg.changes);
      render();
    } else if (msg.type === 'error') {
      showError(msg.message);
    }
  });
  socket.addEventListener('close', () => {
    setConnection(false);
    // The phone restarted or the network blinked: try again, backing off to 5 s.
    setTimeout(connect, retryMs);
    retryMs = Math.min(retryMs * 2, 5000);
  });
}

function send(message) {
  if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
}

function setConnection(ok) {
  el('conn-dot').classList.toggle('ok', ok);
  el('conn').textContent = ok ? `connected${info ? ` to ${info.ext}` : ''}` : 'disconnected, retrying…';
  document.body.dataset.connected = String(ok);
}

let errorTimer;
function showError(text) {
  el('error').textContent = text;
  clearTimeout(errorTimer);
  errorTimer = setTimeout(() => (el('error').textContent = ''), 5000);
}

// ---- set-up from the hello message ----

function setUp() {
  const d = info.display;
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
  canvas.width = Math.round(width * ratio);
  canvas.height = Math.round(height * ratio);
  canvas.style.width = `${width}px`;
  canvas.style.height = `${height}px`;
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  canvas.dataset.display = d.type;

  const keypad = el('keypad');
  keypad.replaceChildren();
  keypad.style.setProperty('--columns', String(info.keypadColumns));
  for (const key of info.keys) {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = /^[A-D]$/.test(key) ? 'key softkey' : 'key';
    b.dataset.key = key;
    b.textContent = key;
    b.addEventListener('pointerdown', (e) => {
      if (e.button !== 0) return;
      e.preventDefault();
      tap(key);
    });
    keypad.append(b);
  }

  const indicators = el('indicators');
  for (const old of indicators.querySelectorAll('.led')) old.remove();
  for (const name of Object.keys(state.leds)) {
    const led = document.createElement('div');
    led.className = 'led';
    led.dataset.led = name;
    led.title = `LED ${name}`;
    led.innerHTML = '<span class="lamp"></span><span class="label"></span>';
    led.querySelector('.label').textContent = name;
    indicators.prepend(led);
  }
  setConnection(true);
}

// ---- inputs ----

function tap(key) {
  const b = document.querySelector(`.key[data-key="${CSS.escape(key)}"]`);
  if (b) {
    b.classList.add('pressed');
    setTimeout(() => b.classList.remove('pressed'), 120);
  }
  send({ type: 'tap', key });
}

function toggleHook() {
  if (state) send({ type: 'hook', offHook: !state.offHook });
}

el('handset').addEventListener('pointerdown', (e) => {
  if (e.button !== 0) return;
  e.preventDefault();
  toggleHook();
});

/** The key a keyboard event stands for, or 'hook', or undefined. */
function keyOf(e) {
  if (e.ctrlKey || e.metaKey || e.altKey) return undefined;
  if (e.key === ' ' || e.code === 'Space') return 'hook';
  if (e.key === 'Enter') return SEND_KEY;
  if (e.key === 'Backspace') return ERASE_KEY;
  const k = e.key.length === 1 ? e.key.toUpperCase() : '';
  return info && info.keys.includes(k) ? k : undefined;
}

document.addEventListener('keydown', (e) => {
  const k = keyOf(e);
  if (!k) return;
  // Handled here only: no button click, no page scroll.
  e.preventDefault();
  if (e.repeat) return;
  if (k === 'hook') toggleHook();
  else tap(k);
});
document.addEventListener('keyup', (e) => {
  if (keyOf(e)) e.preventDefault();
});

// ---- drawing ----

function render() {
  const offHook = state.offHook;
  phoneEl.classList.toggle('off-hook', offHook);
  el('handset').setAttribute('aria-pressed', String(offHook));
  el('hook-text').textContent = offHook ? 'off hook' : 'on hook';
  document.body.dataset.offHook = String(offHook);
  for (const led of document.querySelectorAll('.led')) led.classList.toggle('on', Boolean(state.leds[led.dataset.led]));
  el('ringer').classList.toggle('on', state.ringer);
  const line = state.phone.lines[0];
  el('line-text').textContent = state.phone.problem ?? (line ? line.text : 'no account');
  // The LCD's text for screen readers and tests; glyph slots as a box.
  el('lcd-text').textContent = state.lcd.map((l) => [...l].map((c) => (c.charCodeAt(0) < 8 ? '\u25a1' : c)).join('')).join('\n');
  const d = info.display;
  if (d.type === 'hd44780') drawCharacterLcd(d);
  else if (d.type === 'ssd1306') drawOled(d);
  else drawText();
}

/** The 8 rows of 5 bits a character shows as: CGRAM for slots 0..7, the ROM font otherwise. */
function bitmapOf(ch) {
  const code = ch.charCodeAt(0);
  if (code < 8) return state.glyphs[code];
  return font[ch];
}

function drawCharacterLcd(d) {
  const colors = state.backlight ? LCD_COLORS.on : LCD_COLORS.off;
  const w = canvas.width / (window.devicePixelRatio || 1);
  const h = canvas.height / (window.devicePixelRatio || 1);
  ctx.fillStyle = colors.back;
  ctx.fillRect(0, 0, w, h);
  for (let row = 0; row < d.rows; row++) {
    const text = [...(state.lcd[row] ?? '')];
    for (let col = 0; col < d.columns; col++) {
      const x0 = MARGIN + col * 6 * PITCH;
      const y0 = MARGIN + row * 9 * PITCH;
      const ch = text[col] ?? ' ';
      const bits = bitmapOf(ch);
      if (!bits && ch !== ' ') {
        // Outside the ASCII font (katakana, arrows, °): the character itself, in the dot colour.
        drawCells(x0, y0, undefined, colors);
        ctx.fillStyle = colors.dot;
        ctx.font = `${7 * PITCH}px monospace`;
        ctx.textAlign = 'center';
        ctx.textBaseline = 'middle';
        ctx.fillText(ch, x0 + 2.5 * PITCH, y0 + 4 * PITCH);
        continue;
      }
      drawCells(x0, y0, bits, colors);
    }
  }
}

function drawCells(x0, y0, bits, colors) {
  for (let y = 0; y < 8; y++) {
    const rowBits = bits ? bits[y] : 0;
    for (let x = 0; x < 5; x++) {
      ctx.fillStyle = (rowBits >> (4 - x)) & 1 ? colors.dot : colors.ghost;
      ctx.fillRect(x0 + x * PITCH, y0 + y * PITCH, DOT, DOT);
    }
  }
}

function drawOled(d) {
  ctx.fillStyle = '#050608';
  ctx.fillRect(0, 0, d.width * SCALE, d.height * SCALE);
  const bytes = Uint8Array.from(atob(state.pixels), (c) => c.charCodeAt(0));
  ctx.fillStyle = '#8fd8ff';
  for (let y = 0; y < d.height; y++) {
    for (let x = 0; x < d.width; x++) {
      const bit = y * d.width + x;
      if ((bytes[bit >> 3] >> (7 - (bit & 7))) & 1) ctx.fillRect(x * SCALE, y * SCALE, SCALE - 1, SCALE - 1);
    }
  }
}

function drawText() {
  const w = canvas.width / (window.devicePixelRatio || 1);
  const h = canvas.height / (window.devicePixelRatio || 1);
  ctx.fillStyle = '#222';
  ctx.fillRect(0, 0, w, h);
  ctx.fillStyle = '#eee';
  ctx.font = '18px monospace';
  ctx.textAlign = 'left';
  ctx.textBaseline = 'top';
  state.lcd.forEach((line, i) => ctx.fillText(line, 10, 10 + i * 24));
}

connect();
