// The HookSwitch driver: one pulled-up GPIO input, a switch to GND under the cradle, debounced in software.
import type { Clock, TimerHandle } from '../../firmware/util/clock.js';
import { Emitter, type Unsubscribe } from '../../firmware/util/emitter.js';
import { silentLogger, type Logger } from '../../firmware/util/log.js';
import type { HookSwitch } from '../devices.js';
import { HalError } from '../errors.js';
import type { GpioChip, GpioLevel, GpioLine } from '../gpio/gpio.js';

export type HookContact = 'normally-open' | 'normally-closed';

export interface GpioHookSwitchOptions {
  chip: GpioChip;
  /** Chip offset of the input; the switch connects it to GND, the line's pull-up holds it high otherwise. */
  pin: number;
  /**
   * The switch's contact in its *normal* state, which here means the plunger released, i.e. the
   * handset lifted (off-hook); the handset resting on the cradle presses the plunger.
   * With the pull-up:
   *  - 'normally-open': lifted → contact open → the line reads 1 → off-hook = level 1, on-hook = 0.
   *  - 'normally-closed': lifted → contact closed to GND → reads 0 → off-hook = level 0, on-hook = 1.
   */
  contact: HookContact;
  clock: Clock;
  /** The line must stay quiet this long after its last edge before a change counts. Default 30 ms. */
  debounceMs?: number;
  log?: Logger;
}

/**
 * The state is read once at start (no change event for it). Every edge restarts a debounceMs timer;
 * when the line has been quiet that long it is read, and a 'change' is emitted only if the debounced
 * state differs. A failed read becomes an 'error' event; the next edge tries again.
 */
export class GpioHookSwitch implements HookSwitch {
  private readonly chip: GpioChip;
  private readonly pin: number;
  private readonly contact: HookContact;
  private readonly clock: Clock;
  private readonly debounceMs: number;
  private readonly log: Logger;
  private readonly events = new Emitter<{ change: [boolean]; error: [HalError] }>();
  private line: GpioLine | undefined;
  private unsubscribeEdge: Unsubscribe | undefined;
  private timer: TimerHandle | undefined;
  private state = false;

  constructor(options: GpioHookSwitchOptions) {
    this.chip = options.chip;
    this.pin = options.pin;
    this.contact = options.contact;
    this.clock = options.clock;
    this.debounceMs = options.debounceMs ?? 30;
    this.log = (options.log ?? silentLogger()).child({ mod: 'hal/input/hook-switch' });
    if (!(this.debounceMs >= 0)) throw new HalError(this.device, `debounceMs must be >= 0, got ${this.debounceMs}`, { code: 'EINVAL' });
  }

  /** Debounced state; false until start(). */
  get offHook(): boolean {
    return this.state;
  }

  on(event: 'change', listener: (offHook: boolean) => void): Unsubscribe;
  on(event: 'error', listener: (e: HalError) => void): Unsubscribe;
  on(event: 'change' | 'error', listener: ((offHook: boolean) => void) | ((e: HalError) => void)): Unsubscribe {
    if (event === 'change') return this.events.on('change', listener as (offHook: boolean) => void);
    return this.events.on('error', listener as (e: HalError) => void);
  }

  start(): Promise<void> {
    if (this.line) return Promise.resolve();
    try {
      const line = this.chip.requestInput(this.pin, { bias: 'pull-up', edge: 'both', consumer: 'offhook hook switch' });
      this.line = line;
      this.unsubscribeEdge = line.onEdge(() => this.onEdge());
      this.state = this.offHookAt(line.read());
    } catch (err) {
      this.releaseLine();
      return Promise.reject(HalError.from(this.device, 'start', err));
    }
    this.log.debug({ pin: this.pin, contact: this.contact, offHook: this.state }, 'hook switch armed');
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.releaseLine();
    return Promise.resolve();
  }

  private get device(): string {
    return `${this.chip.name} line ${this.pin} (hook switch)`;
  }

  private offHookAt(level: GpioLevel): boolean {
    return this.contact === 'normally-open' ? level === 1 : level === 0;
  }

  private onEdge(): void {
    this.clock.clearTimeout(this.timer);
    this.timer = this.clock.setTimeout(() => this.settle(), this.debounceMs);
  }

  private settle(): void {
    this.timer = undefined;
    const line = this.line;
    if (!line) return;
    let offHook: boolean;
    try {
      offHook = this.offHookAt(line.read());
    } catch (err) {
      const error = HalError.from(this.device, 'read', err);
      this.log.warn({ err: error }, 'hook switch read failed');
      this.events.emit('error', error);
      return;
    }
    if (offHook === this.state) return;
    this.state = offHook;
    this.log.debug({ offHook }, 'hook switch changed');
    this.events.emit('change', offHook);
  }

  private releaseLine(): void {
    this.unsubscribeEdge?.();
    this.unsubscribeEdge = undefined;
    try {
      this.line?.release();
    } catch (err) {
      this.log.warn({ err }, 'release failed');
    }
    this.line = undefined;
  }
}
