// The Leds driver on GPIO outputs: steady and blinking patterns on the Clock, every LED of one pattern in phase.
import type { Clock, TimerHandle } from '../../firmware/util/clock.js';
import { Emitter, type Unsubscribe } from '../../firmware/util/emitter.js';
import { silentLogger, type Logger } from '../../firmware/util/log.js';
import type { LedPattern, Leds } from '../devices.js';
import { HalError } from '../errors.js';
import type { GpioChip, GpioLevel, GpioLine } from '../gpio/gpio.js';

export interface GpioLedWiring {
  /** Chip offset of the output. */
  pin: number;
  /** True when the LED lights with the line low (LED from 3V3 to the pin, the usual sink wiring). */
  activeLow?: boolean;
}

export interface GpioLedsOptions {
  chip: GpioChip;
  /** LED name (board profile: 'mwi', 'line', 'speaker' ...) → wiring. */
  leds: Readonly<Record<string, GpioLedWiring>>;
  clock: Clock;
  log?: Logger;
}

type BlinkPattern = 'slow-blink' | 'fast-blink';

/**
 * Blink timings, lit first. slow-blink is message waiting: a short flash every 2 s (500 ms on,
 * 1500 ms off), noticeable across a room yet calm, like the MWI lamp of common desk phones.
 * fast-blink is ringing / attention: 2 Hz, 250 ms on, 250 ms off.
 */
export const LED_BLINK_TIMINGS: Readonly<Record<BlinkPattern, { onMs: number; offMs: number }>> = {
  'slow-blink': { onMs: 500, offMs: 1500 },
  'fast-blink': { onMs: 250, offMs: 250 },
};

interface LedState {
  name: string;
  line: GpioLine;
  activeLow: boolean;
  pattern: LedPattern;
  /** Set while the last write failed, so a dead LED gives one 'error' per failure streak, not one per blink. */
  failing: boolean;
}

interface Blinker {
  lit: boolean;
  timer: TimerHandle | undefined;
  members: Set<LedState>;
}

/**
 * One shared blinker per blinking pattern: the first LED to take a pattern starts it lit, later LEDs
 * join its current phase, and it stops when its last LED leaves, so LEDs of one pattern are always in
 * phase. Writes never throw out of set() or a timer: a failed write becomes an 'error' event (and a
 * log line), so that a broken LED cannot break call handling.
 */
export class GpioLeds implements Leds {
  readonly names: readonly string[];
  private readonly clock: Clock;
  private readonly chipName: string;
  private readonly log: Logger;
  private readonly leds = new Map<string, LedState>();
  private readonly blinkers = new Map<BlinkPattern, Blinker>();
  private readonly events = new Emitter<{ error: [HalError] }>();
  private closed = false;

  /** Requests every line, each driven off; throws a HalError when a line cannot be had. */
  constructor(options: GpioLedsOptions) {
    this.clock = options.clock;
    this.chipName = options.chip.name;
    this.log = (options.log ?? silentLogger()).child({ mod: 'hal/output/gpio-leds' });
    try {
      for (const [name, wiring] of Object.entries(options.leds)) {
        const activeLow = wiring.activeLow ?? false;
        const line = options.chip.requestOutput(wiring.pin, { initial: activeLow ? 1 : 0, consumer: `offhook led ${name}` });
        this.leds.set(name, { name, line, activeLow, pattern: 'off', failing: false });
      }
    } catch (err) {
      this.releaseAll();
      throw HalError.from(`${options.chip.name} leds`, 'request', err);
    }
    this.names = [...this.leds.keys()];
  }

  /** Failed writes (the LED's state is kept; the next write tries again). */
  on(event: 'error', listener: (e: HalError) => void): Unsubscribe {
    return this.events.on(event, listener);
  }

  set(name: string, pattern: LedPattern): void {
    const led = this.led(name);
    if (this.closed || led.pattern === pattern) return;
    this.leave(led);
    led.pattern = pattern;
    if (pattern === 'off' || pattern === 'on') {
      this.drive(led, pattern === 'on');
      return;
    }
    let blinker = this.blinkers.get(pattern);
    if (!blinker) {
      blinker = { lit: true, timer: undefined, members: new Set() };
      this.blinkers.set(pattern, blinker);
      this.scheduleToggle(pattern, blinker);
    }
    blinker.members.add(led);
    this.drive(led, blinker.lit);
  }

  get(name: string): LedPattern {
    return this.led(name).pattern;
  }

  /** Stops blinking, turns every LED off and releases the lines. */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    for (const blinker of this.blinkers.values()) this.clock.clearTimeout(blinker.timer);
    this.blinkers.clear();
    for (const led of this.leds.values()) {
      led.pattern = 'off';
      this.drive(led, false);
    }
    this.releaseAll();
    this.closed = true;
    return Promise.resolve();
  }

  private led(name: string): LedState {
    const led = this.leds.get(name);
    if (!led) throw new HalError(`${this.chipName} leds`, `no LED named "${name}" (have: ${[...this.leds.keys()].join(', ')})`, { code: 'EINVAL' });
    return led;
  }

  private leave(led: LedState): void {
    if (led.pattern !== 'slow-blink' && led.pattern !== 'fast-blink') return;
    const blinker = this.blinkers.get(led.pattern);
    if (!blinker) return;
    blinker.members.delete(led);
    if (blinker.members.size === 0) {
      this.clock.clearTimeout(blinker.timer);
      this.blinkers.delete(led.pattern);
    }
  }

  private scheduleToggle(pattern: BlinkPattern, blinker: Blinker): void {
    const timing = LED_BLINK_TIMINGS[pattern];
    blinker.timer = this.clock.setTimeout(
      () => {
        blinker.lit = !blinker.lit;
        for (const led of blinker.members) this.drive(led, blinker.lit);
        this.scheduleToggle(pattern, blinker);
      },
      blinker.lit ? timing.onMs : timing.offMs,
    );
  }

  private drive(led: LedState, lit: boolean): void {
    const level: GpioLevel = lit !== led.activeLow ? 1 : 0;
    try {
      led.line.write(level);
      led.failing = false;
    } catch (err) {
      if (led.failing) return;
      led.failing = true;
      const error = HalError.from(`${this.chipName} line ${led.line.offset} (led ${led.name})`, 'write', err);
      this.log.warn({ err: error }, 'LED write failed');
      this.events.emit('error', error);
    }
  }

  private releaseAll(): void {
    for (const led of this.leds.values()) {
      try {
        led.line.release();
      } catch (err) {
        this.log.warn({ err, led: led.name }, 'release failed');
      }
    }
  }
}
