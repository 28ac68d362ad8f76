// The Ringer driver for an active buzzer (or a ringer relay) on one GPIO output, switched on and off to a ring cadence.
import type { Clock, TimerHandle } from '../../firmware/util/clock.js';
import { Emitter, type Unsubscribe } from '../../firmware/util/emitter.js';
import { silentLogger, type Logger } from '../../firmware/util/log.js';
import type { RingCadence, Ringer } from '../devices.js';
import { HalError } from '../errors.js';
import type { GpioChip, GpioLevel, GpioLine } from '../gpio/gpio.js';

/** North American ring: 2 s on, 4 s off. */
export const NORTH_AMERICAN_RING_CADENCE: RingCadence = [2000, 4000];

export interface GpioRingerOptions {
  chip: GpioChip;
  /** Chip offset of the output. */
  pin: number;
  /** True when the buzzer sounds with the line low (e.g. a PNP driver stage). Default false. */
  activeLow?: boolean;
  clock: Clock;
  /** Cadence used by ring() without an argument. Default NORTH_AMERICAN_RING_CADENCE. */
  cadence?: RingCadence;
  log?: Logger;
}

/**
 * The cadence is on/off durations in ms, starting with on, repeated until stop(): [2000, 4000] is the
 * North American ring, [400, 200, 400, 2000] the UK double ring. An active buzzer makes its own tone,
 * so the line only switches it; a passive piezo would need PWM, which this driver does not do.
 * Writes never throw out of a timer: a failed write is one 'error' event per failure streak.
 */
export class GpioRinger implements Ringer {
  private readonly clock: Clock;
  private readonly line: GpioLine;
  private readonly activeLow: boolean;
  private readonly defaultCadence: RingCadence;
  private readonly device: string;
  private readonly log: Logger;
  private readonly events = new Emitter<{ error: [HalError] }>();
  private timer: TimerHandle | undefined;
  private active = false;
  private failing = false;
  private closed = false;

  /** Requests the line, driven silent; throws a HalError when it cannot be had or the cadence is invalid. */
  constructor(options: GpioRingerOptions) {
    this.clock = options.clock;
    this.activeLow = options.activeLow ?? false;
    this.device = `${options.chip.name} line ${options.pin} (ringer)`;
    this.log = (options.log ?? silentLogger()).child({ mod: 'hal/output/gpio-ringer' });
    this.defaultCadence = [...(options.cadence ?? NORTH_AMERICAN_RING_CADENCE)];
    this.validate(this.defaultCadence);
    try {
      this.line = options.chip.requestOutput(options.pin, { initial: this.level(false), consumer: 'offhook ringer' });
    } catch (err) {
      throw HalError.from(this.device, 'request', err);
    }
  }

  get ringing(): boolean {
    return this.active;
  }

  /** Failed writes. */
  on(event: 'error', listener: (e: HalError) => void): Unsubscribe {
    return this.events.on(event, listener);
  }

  /** Starts ringing from the beginning of the cadence (restarting it if already ringing). */
  ring(cadence: RingCadence = this.defaultCadence): void {
    if (this.closed) return;
    this.validate(cadence);
    const steps = [...cadence];
    this.clock.clearTimeout(this.timer);
    this.active = true;
    this.step(steps, 0);
  }

  stop(): void {
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    if (this.closed) return;
    this.active = false;
    this.drive(false);
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.stop();
    this.closed = true;
    try {
      this.line.release();
    } catch (err) {
      this.log.warn({ err }, 'release failed');
    }
    return Promise.resolve();
  }

  private step(cadence: readonly number[], index: number): void {
    // Zero-length segments are skipped; validate() guarantees some segment is not zero.
    let i = index;
    while ((cadence[i % cadence.length] ?? 0) === 0) i++;
    const k = i % cadence.length;
    this.drive(k % 2 === 0);
    this.timer = this.clock.setTimeout(() => this.step(cadence, k + 1), cadence[k] ?? 0);
  }

  private validate(cadence: RingCadence): void {
    const ok =
      cadence.length >= 2 &&
      cadence.length % 2 === 0 &&
      cadence.every((ms) => Number.isFinite(ms) && ms >= 0) &&
      cadence.some((ms, i) => i % 2 === 0 && ms > 0);
    if (!ok) {
      throw new HalError(this.device, `invalid ring cadence [${cadence.join(', ')}]: on/off pairs of ms >= 0 with some on time`, {
        code: 'EINVAL',
      });
    }
  }

  private level(on: boolean): GpioLevel {
    return on !== this.activeLow ? 1 : 0;
  }

  private drive(on: boolean): void {
    try {
      this.line.write(this.level(on));
      this.failing = false;
    } catch (err) {
      if (this.failing) return;
      this.failing = true;
      const error = HalError.from(this.device, 'write', err);
      this.log.warn({ err: error }, 'ringer write failed');
      this.events.emit('error', error);
    }
  }
}
