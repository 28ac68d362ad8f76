// The dial plan: a digit map (MGCP / SIP-phone style) that decides when a dialed number is complete, and the digit collector that applies it to keys on a clock.
import type { Clock, TimerHandle } from '../util/clock.js';
import { Emitter, type Unsubscribe } from '../util/emitter.js';

/**
 * A digit map is a list of alternative patterns, e.g. `[2-9]xx|0|911|1[2-9]xx[2-9]xxxxxx|*xx`
 * (RFC 3435 §2.1.5 digit maps, as Cisco, Polycom and Linksys phones use them):
 *
 * | element | matches |
 * |---|---|
 * | `0`–`9`, `*`, `#` | that key |
 * | `x` | any digit 0–9 (not `*` or `#`) |
 * | `[2-9]`, `[135]`, `[0-35*]` | one key of the set; ranges of digits, `*` and `#` may be listed |
 * | `.` | the previous element zero or more times (`x.` = any number of digits, none included) |
 * | `T` | at the end of a pattern only: the pattern matches only once the inter-digit timer expires |
 *
 * Alternatives are separated by `|`; parentheses around the whole map are optional; white space is
 * ignored; `x` and `T` may be written in either case. An empty map (`""` or `()`) has no patterns:
 * numbers are sent by the send key or the inter-digit timeout only.
 */
export type DigitMapText = string;

/** One element of a pattern: the keys it accepts, and whether `.` follows it. */
export interface DigitMapElement {
  readonly keys: ReadonlySet<string>;
  readonly repeat: boolean;
}

export interface DigitMapPattern {
  /** The pattern as written (white space removed), for logs. */
  readonly source: string;
  readonly elements: readonly DigitMapElement[];
  /** A trailing `T`: a full match sends only when the inter-digit timer expires. */
  readonly timer: boolean;
}

/** A syntax error in a digit map: `position` is the 1-based column of the offending character. */
export class DialPlanError extends Error {
  override readonly name = 'DialPlanError';
  constructor(
    readonly position: number,
    readonly problem: string,
  ) {
    super(`dial plan, column ${position}: ${problem}`);
  }
}

const DIGITS = '0123456789';
const KEYS = new Set([...DIGITS, '*', '#']);

/** Parses a digit map once; throws DialPlanError naming the column of the first syntax error. */
export function parseDigitMap(text: DigitMapText): DigitMapPattern[] {
  // Positions are kept for every significant character so that errors point into the text as written.
  const chars: { c: string; col: number }[] = [];
  [...text].forEach((c, i) => {
    if (!/\s/.test(c)) chars.push({ c, col: i + 1 });
  });
  const end = text.length + 1;
  let from = 0;
  let to = chars.length;
  if (chars[0]?.c === '(') {
    const last = chars[chars.length - 1];
    if (last?.c !== ')') throw new DialPlanError(last ? last.col + 1 : end, `missing ")" closing the "(" at column ${chars[0].col}`);
    from = 1;
    to = chars.length - 1;
  }
  const patterns: DigitMapPattern[] = [];
  if (from >= to) return patterns;

  let elements: DigitMapElement[] = [];
  let timer = false;
  let source = '';
  let patternCol = chars[from]?.col ?? end;
  const finish = (col: number): void => {
    if (elements.length === 0 && !timer) throw new DialPlanError(col, 'empty pattern (two "|" in a row, or a "|" at an end)');
    if (elements.length === 0) throw new DialPlanError(patternCol, 'a pattern of "T" alone matches nothing dialed');
    patterns.push({ source, elements, timer });
    elements = [];
    timer = false;
    source = '';
  };

  for (let i = from; i < to; i++) {
    const { c, col } = chars[i] ?? { c: '', col: end };
    if (c === '|') {
      finish(col);
      patternCol = chars[i + 1]?.col ?? end;
      continue;
    }
    if (timer) throw new DialPlanError(col, '"T" is allowed only at the end of a pattern');
    if (c === '.') {
      const prev = elements[elements.length - 1];
      if (!prev) throw new DialPlanError(col, '"." must follow an element it repeats');
      if (prev.repeat) throw new DialPlanError(col, '"." repeats an element already repeated');
      elements[elements.length - 1] = { keys: prev.keys, repeat: true };
      source += c;
      continue;
    }
    if (c === 'T' || c === 't') {
      timer = true;
      source += 'T';
      continue;
    }
    if (c === 'x' || c === 'X') {
      elements.push({ keys: new Set(DIGITS), repeat: false });
      source += 'x';
      continue;
    }
    if (KEYS.has(c)) {
      elements.push({ keys: new Set([c]), repeat: false });
      source += c;
      continue;
    }
    if (c === '[') {
      // "[2-9xx" is a missing "]" rather than an x inside a set: say so, at the "[".
      const close = chars.slice(i + 1, to).findIndex((n) => n.c === ']' || n.c === '|');
      if (close < 0 || chars[i + 1 + close]?.c !== ']') throw new DialPlanError(col, 'missing "]" closing this "["');
      const keys = new Set<string>();
      let j = i + 1;
      let text = '[';
      for (; j < to; j++) {
        const cur = chars[j] ?? { c: '', col: end };
        if (cur.c === ']') break;
        text += cur.c;
        if (!KEYS.has(cur.c)) throw new DialPlanError(cur.col, `"${cur.c}" cannot appear in a [set]: digits, ranges like 2-9, "*" and "#" can`);
        const dash = chars[j + 1];
        if (dash?.c === '-') {
          const hi = chars[j + 2];
          if (!hi || hi.c === ']' || j + 2 >= to) throw new DialPlanError(dash.col, 'a range needs a digit after "-"');
          if (!DIGITS.includes(cur.c) || !DIGITS.includes(hi.c)) throw new DialPlanError(dash.col, 'a range joins two digits');
          if (hi.c < cur.c) throw new DialPlanError(cur.col, `the range ${cur.c}-${hi.c} runs backwards`);
          for (let d = Number(cur.c); d <= Number(hi.c); d++) keys.add(String(d));
          text += `-${hi.c}`;
          j += 2;
        } else {
          keys.add(cur.c);
        }
      }
      if (keys.size === 0) throw new DialPlanError(col, 'an empty set "[]" matches nothing');
      elements.push({ keys, repeat: false });
      source += `${text}]`;
      i = j;
      continue;
    }
    if (c === '(' || c === ')') throw new DialPlanError(col, 'parentheses are allowed only around the whole map');
    if (c === ']') throw new DialPlanError(col, '"]" without a "["');
    throw new DialPlanError(col, `unexpected "${c}" (expected a digit, x, [set], ".", "*", "#", "T" or "|")`);
  }
  finish(chars[to]?.col ?? end);
  return patterns;
}

/** What one pattern makes of a dialed string. */
interface PatternState {
  /** The whole string matches the pattern. */
  full: boolean;
  /** Some longer string starting with it matches too. */
  longer: boolean;
}

/**
 * Runs the pattern as a small NFA: positions are indices into its elements, a repeated element
 * may be skipped (zero times) or consume and stay. Every element accepts at least one key, so any
 * live position short of the end can still be completed: that is "a longer match is possible".
 */
function matchPattern(p: DigitMapPattern, dialed: string): PatternState {
  const n = p.elements.length;
  const close = (set: Set<number>): Set<number> => {
    for (const i of [...set].sort((a, b) => a - b)) {
      for (let k = i; k < n && p.elements[k]?.repeat === true; k++) set.add(k + 1);
    }
    return set;
  };
  let live = close(new Set([0]));
  for (const key of dialed) {
    const next = new Set<number>();
    for (const i of live) {
      const e = p.elements[i];
      if (!e?.keys.has(key)) continue;
      next.add(e.repeat ? i : i + 1);
    }
    live = close(next);
    if (live.size === 0) return { full: false, longer: false };
  }
  return { full: live.has(n), longer: [...live].some((i) => i < n) };
}

/**
 * The verdict on a dialed string, with the rules of Cisco / Polycom / Linksys phones:
 * - `complete`: a pattern without `T` matches in full and no pattern can match anything longer:
 *   send at once (`911` in the example map).
 * - `partial`: more keys could still make a match. `sendOnTimeout` tells what the inter-digit timer
 *   does when it expires: true when a pattern already matches in full (one with `T`, or one that could
 *   also go on, like `x.` or `0` beside `011x.`): send what was dialed; false: give up (timeout).
 * - `invalid`: no pattern can match, whatever comes next: the phone plays reorder.
 * The empty string is never sendable. With an empty map every non-empty string is partial and
 * sendable on timeout.
 */
export type DialMatch = { status: 'complete' } | { status: 'partial'; sendOnTimeout: boolean } | { status: 'invalid' };

export function matchDigitMap(patterns: readonly DigitMapPattern[], dialed: string): DialMatch {
  if (patterns.length === 0) return { status: 'partial', sendOnTimeout: dialed.length > 0 };
  let fullNow = false;
  let fullOnTimer = false;
  let longer = false;
  for (const p of patterns) {
    const m = matchPattern(p, dialed);
    if (m.full && p.timer) fullOnTimer = true;
    else if (m.full) fullNow = true;
    if (m.longer) longer = true;
  }
  if (dialed.length === 0) return longer || fullNow || fullOnTimer ? { status: 'partial', sendOnTimeout: false } : { status: 'invalid' };
  if (fullNow && !longer) return { status: 'complete' };
  if (fullNow || fullOnTimer || longer) return { status: 'partial', sendOnTimeout: fullNow || fullOnTimer };
  return { status: 'invalid' };
}

export interface DialPlanOptions {
  /** The digit map; default: empty (send on the send key or the inter-digit timeout). */
  map?: DigitMapText;
  /** After each key; default 4 s. */
  interDigitMs?: number;
  /** From the start of collection (dial tone) until the first key; default 10 s, Cisco SPA's long timer. */
  firstDigitMs?: number;
  /**
   * The key that sends what was dialed (a desk phone's "#" = dial); `null` turns it off. Default "#".
   * It is taken as a digit instead when the dialed string followed by it can still match the map
   * (so `*xx#`-style feature codes keep working), or when nothing was dialed yet.
   */
  sendKey?: '#' | '*' | null;
}

/** Timers are bounded: Node's setTimeout turns a delay beyond 2^31 ms (or Infinity) into 1 ms. */
function checkTimeout(name: string, ms: number): number {
  if (!Number.isFinite(ms) || ms < 1 || ms > 3_600_000) throw new RangeError(`${name} must be from 1 to 3600000 ms, got ${ms}`);
  return ms;
}

/** A parsed digit map with its timers: build it once from config, then one DigitCollector per call attempt. */
export class DialPlan {
  readonly map: DigitMapText;
  readonly patterns: readonly DigitMapPattern[];
  readonly interDigitMs: number;
  readonly firstDigitMs: number;
  readonly sendKey: '#' | '*' | null;

  /** Throws DialPlanError for a syntax error in the map, RangeError for a timeout outside 1 ms – 1 h. */
  constructor(options: DialPlanOptions = {}) {
    this.map = options.map ?? '';
    this.patterns = parseDigitMap(this.map);
    this.interDigitMs = checkTimeout('interDigitMs', options.interDigitMs ?? 4000);
    this.firstDigitMs = checkTimeout('firstDigitMs', options.firstDigitMs ?? 10_000);
    this.sendKey = options.sendKey === undefined ? '#' : options.sendKey;
  }

  match(dialed: string): DialMatch {
    return matchDigitMap(this.patterns, dialed);
  }

  /** Whether `key` pressed after `dialed` is the send key rather than a digit of the number. */
  isSendKey(dialed: string, key: string): boolean {
    if (this.sendKey === null || key !== this.sendKey || dialed.length === 0) return false;
    return this.patterns.length === 0 || this.match(dialed + key).status === 'invalid';
  }
}

/** Why a number was sent. */
export type SendReason = 'match' | 'timeout' | 'send-key';

export type DigitCollectorEvents = {
  /** Dial this number now. */
  send: [number: string, reason: SendReason];
  /** The keys so far can never match: reorder tone. */
  invalid: [dialed: string];
  /** A timer ran out before a sendable number was dialed (`dialed` is '' for the first-digit timer). */
  timeout: [dialed: string];
};

/** The erase key for key(): softkey D on the 4x4 keypad, as phone.ts uses it. */
export const BACKSPACE = 'backspace';

/**
 * Collects keys for one call attempt. start() arms the first-digit timer; each key re-evaluates the
 * map and re-arms the inter-digit timer. The first of send / invalid / timeout ends the collection:
 * later keys are ignored until reset().
 */
export class DigitCollector {
  private readonly events = new Emitter<DigitCollectorEvents>();
  private keys = '';
  private timer: TimerHandle | undefined;
  private finished = false;
  private started = false;
  private last: DialMatch;

  constructor(
    private readonly plan: DialPlan,
    private readonly clock: Clock,
  ) {
    this.last = plan.match('');
  }

  on<K extends keyof DigitCollectorEvents>(event: K, listener: (...args: DigitCollectorEvents[K]) => void): Unsubscribe {
    return this.events.on(event, listener);
  }

  /** The keys collected (without a send key). */
  get dialed(): string {
    return this.keys;
  }

  /** The verdict on the keys collected so far. */
  get lastMatch(): DialMatch {
    return this.last;
  }

  /** True once send, invalid or timeout was emitted (or stop() was called). */
  get done(): boolean {
    return this.finished;
  }

  /** Arms the first-digit timer (at off hook: dial tone starts). Keys may also come without it (on-hook dialing). */
  start(): void {
    if (this.started || this.finished) return;
    this.started = true;
    if (this.keys === '') this.arm(this.plan.firstDigitMs);
  }

  /** Handles one key: '0'-'9', '*', '#' or BACKSPACE. Returns false when the key was ignored. */
  key(key: string): boolean {
    if (this.finished) return false;
    if (key === BACKSPACE) return this.backspace();
    if (!KEYS.has(key)) return false;
    this.started = true;
    if (this.plan.isSendKey(this.keys, key)) {
      this.finish();
      this.events.emit('send', this.keys, 'send-key');
      return true;
    }
    this.keys += key;
    this.evaluate();
    return true;
  }

  /** Erases the last key; with none left the first-digit timer runs again. */
  backspace(): boolean {
    if (this.finished || this.keys === '') return false;
    this.keys = this.keys.slice(0, -1);
    this.evaluate();
    return true;
  }

  /** Cancels the timers; no event follows. */
  stop(): void {
    this.finish();
  }

  /** Starts over with nothing dialed (the timers stay off until start() or a key). */
  reset(): void {
    this.finish();
    this.finished = false;
    this.started = false;
    this.keys = '';
    this.last = this.plan.match('');
  }

  private evaluate(): void {
    this.last = this.plan.match(this.keys);
    switch (this.last.status) {
      case 'complete':
        this.finish();
        this.events.emit('send', this.keys, 'match');
        return;
      case 'invalid':
        this.finish();
        this.events.emit('invalid', this.keys);
        return;
      case 'partial':
        this.arm(this.keys === '' ? this.plan.firstDigitMs : this.plan.interDigitMs);
        return;
    }
  }

  private arm(delayMs: number): void {
    this.clock.clearTimeout(this.timer);
    this.timer = this.clock.setTimeout(() => this.onTimer(), delayMs);
  }

  private onTimer(): void {
    this.timer = undefined;
    if (this.finished) return;
    const sendable = this.last.status === 'partial' && this.last.sendOnTimeout;
    this.finish();
    if (sendable) this.events.emit('send', this.keys, 'timeout');
    else this.events.emit('timeout', this.keys);
  }

  private finish(): void {
    this.finished = true;
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }
}
