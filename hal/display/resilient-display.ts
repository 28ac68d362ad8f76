// A TextDisplay for the phone that survives its device: it keeps the wanted screen and retries in the background.
import type { Clock, TimerHandle } from '../../firmware/util/clock.js';
import { Emitter, type Unsubscribe } from '../../firmware/util/emitter.js';
import { silentLogger, type Logger } from '../../firmware/util/log.js';
import type { DisplayCapabilities, TextDisplay } from '../devices.js';
import { HalError } from '../errors.js';

export interface ResilientDisplayOptions {
  /** The real driver (HD44780, SSD1306 ...). */
  display: TextDisplay;
  clock: Clock;
  log?: Logger;
  /** First retry after a failure; doubles after each failed retry. Default 1000. */
  retryInitialMs?: number;
  /** Longest wait between retries. Default 30 000. */
  retryMaxMs?: number;
}

// A type alias, not an interface: the Emitter needs an index-compatible record.
export type ResilientDisplayEvents = {
  /** The display stopped working; emitted once per outage, not per frame. */
  error: [HalError];
  /** The display works again and shows the wanted content. */
  recovered: [];
};

/** Retry passes that find the content changed under them before giving up on catching up. */
const MAX_CATCH_UP_PASSES = 3;

/**
 * Wraps a driver so that a loose cable or a NAK never reaches the phone: writeLine and the other
 * calls resolve whether or not the device answered (they reject only on programming errors such as
 * a row out of range). The first failure is reported once ('error' event and a warn log line);
 * while failing, calls only update the wanted content, and a timer on the Clock retries init plus a
 * full redraw with a doubling backoff, emitting 'recovered' when it works again.
 */
export class ResilientDisplay implements TextDisplay {
  readonly name: string;
  readonly capabilities: DisplayCapabilities;
  private readonly inner: TextDisplay;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly retryInitialMs: number;
  private readonly retryMaxMs: number;
  private readonly events = new Emitter<ResilientDisplayEvents>();
  private readonly wantedRows: string[];
  private readonly wantedGlyphs = new Map<number, readonly number[]>();
  private wantedBacklight: boolean | undefined;
  /** Bumped on every change of the wanted content, so a retry knows when it has caught up. */
  private version = 0;
  private failing = false;
  private retrying = false;
  private retryTimer: TimerHandle | undefined;
  private retryDelayMs: number;
  private closed = false;

  constructor(options: ResilientDisplayOptions) {
    this.inner = options.display;
    this.clock = options.clock;
    this.name = this.inner.name;
    this.capabilities = this.inner.capabilities;
    this.log = (options.log ?? silentLogger()).child({ mod: 'hal/display/resilient', device: this.name });
    this.retryInitialMs = options.retryInitialMs ?? 1_000;
    this.retryMaxMs = options.retryMaxMs ?? 30_000;
    if (!(this.retryInitialMs > 0) || this.retryMaxMs < this.retryInitialMs) {
      throw new RangeError(`retryInitialMs/retryMaxMs: expected 0 < ${this.retryInitialMs} <= ${this.retryMaxMs}`);
    }
    this.retryDelayMs = this.retryInitialMs;
    this.wantedRows = Array<string>(this.capabilities.rows).fill('');
  }

  on<K extends keyof ResilientDisplayEvents>(event: K, listener: (...args: ResilientDisplayEvents[K]) => void): Unsubscribe {
    return this.events.on(event, listener);
  }

  /** False from a failure until the retry that brings the display back. */
  get healthy(): boolean {
    return !this.failing;
  }

  /** Rows as the phone last wrote them (what the display shows once it works). */
  lines(): readonly string[] {
    return this.wantedRows;
  }

  init(): Promise<void> {
    return this.forward('init', () => this.inner.init());
  }

  writeLine(row: number, text: string): Promise<void> {
    if (!Number.isInteger(row) || row < 0 || row >= this.capabilities.rows) {
      return Promise.reject(new RangeError(`row: expected 0..${this.capabilities.rows - 1}, got ${row}`));
    }
    this.wantedRows[row] = text;
    this.version++;
    return this.forward('write line', () => this.inner.writeLine(row, text));
  }

  clear(): Promise<void> {
    this.wantedRows.fill('');
    this.version++;
    return this.forward('clear', () => this.inner.clear());
  }

  defineGlyph(slot: number, rows: readonly number[]): Promise<void> {
    if (!Number.isInteger(slot) || slot < 0 || slot >= this.capabilities.customCharacters) {
      return Promise.reject(new RangeError(`slot: expected 0..${this.capabilities.customCharacters - 1}, got ${slot}`));
    }
    this.wantedGlyphs.set(slot, [...rows]);
    this.version++;
    return this.forward('define glyph', () => this.inner.defineGlyph(slot, rows));
  }

  setBacklight(on: boolean): Promise<void> {
    this.wantedBacklight = on;
    this.version++;
    return this.forward('set backlight', () => this.inner.setBacklight(on));
  }

  async close(): Promise<void> {
    this.closed = true;
    this.clock.clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    try {
      await this.inner.close();
    } catch (err) {
      this.log.debug({ err }, 'close failed');
    }
  }

  /** Runs a call on the device unless it is failing (the retry will carry the change). */
  private async forward(action: string, op: () => Promise<void>): Promise<void> {
    if (this.closed || this.failing) return;
    try {
      await op();
    } catch (err) {
      if (err instanceof RangeError) throw err; // a caller's bug, not a device failure
      this.fail(action, err);
    }
  }

  private fail(action: string, err: unknown): void {
    const error = err instanceof HalError ? err : HalError.from(this.name, action, err);
    if (!this.failing) {
      this.failing = true;
      this.retryDelayMs = this.retryInitialMs;
      this.log.warn({ err: error, retryInMs: this.retryDelayMs }, `display ${action} failed; retrying in the background`);
      this.events.emit('error', error);
    } else {
      this.log.debug({ err: error }, `display ${action} failed again`);
    }
    this.scheduleRetry();
  }

  private scheduleRetry(): void {
    if (this.closed || this.retrying || this.retryTimer) return;
    this.retryTimer = this.clock.setTimeout(() => {
      this.retryTimer = undefined;
      void this.retry();
    }, this.retryDelayMs);
  }

  /** Initialises the device again and redraws everything wanted, catching up with changes made meanwhile. */
  private async retry(): Promise<void> {
    this.retrying = true;
    let caughtUp = false;
    try {
      await this.inner.init();
      for (let pass = 0; pass < MAX_CATCH_UP_PASSES && !caughtUp; pass++) {
        const version = this.version;
        await this.redrawAll();
        caughtUp = version === this.version;
      }
    } catch (err) {
      this.retrying = false;
      this.retryDelayMs = Math.min(this.retryDelayMs * 2, this.retryMaxMs);
      this.log.debug({ err, nextRetryMs: this.retryDelayMs }, 'display retry failed');
      this.scheduleRetry();
      return;
    }
    this.retrying = false;
    if (this.closed) return;
    this.failing = false;
    this.retryDelayMs = this.retryInitialMs;
    this.log.info('display recovered');
    this.events.emit('recovered');
    // Content that kept changing during the passes: one more redraw, now as an ordinary call.
    if (!caughtUp) void this.forward('redraw', () => this.redrawAll());
  }

  private async redrawAll(): Promise<void> {
    for (const [slot, rows] of this.wantedGlyphs) await this.inner.defineGlyph(slot, rows);
    if (this.wantedBacklight !== undefined) await this.inner.setBacklight(this.wantedBacklight);
    for (const [row, text] of this.wantedRows.entries()) await this.inner.writeLine(row, text);
  }
}
