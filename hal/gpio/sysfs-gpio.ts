// The sysfs GPIO backend (/sys/class/gpio) over onoff, with the header chip's global numbering resolved at open.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RealClock, type Clock } from '../../firmware/util/clock.js';
import type { Unsubscribe } from '../../firmware/util/emitter.js';
import { silentLogger, type Logger } from '../../firmware/util/log.js';
import { HalError } from '../errors.js';
import type { Gpio as OnoffGpio } from 'onoff';
import type { GpioChip, GpioEdge, GpioEdgeEvent, GpioInputOptions, GpioLevel, GpioLine, GpioOutputOptions } from './gpio.js';

/**
 * Labels of the chip that carries the 40-pin header's GPIO0-27, in order of preference. The Pi 5's
 * header is on the RP1 (pinctrl-rp1); its SoC also has pinctrl-bcm2712 chips, which are not the
 * header and must not match. Pi 4 / 400 / CM4: pinctrl-bcm2711; Pi 3 / Zero 2 W: pinctrl-bcm2835.
 */
export const HEADER_CHIP_LABELS: readonly string[] = ['pinctrl-rp1', 'pinctrl-bcm2711', 'pinctrl-bcm2835'];

export interface ResolveGpioBaseOptions {
  /** Where sysfs is mounted; tests point this at a fake tree. Default '/sys'. */
  sysfsRoot?: string;
  /** Chip labels to look for, first match wins. Default HEADER_CHIP_LABELS. */
  labels?: readonly string[];
}

export interface GpioBaseResolution {
  /** The sysfs chip directory, e.g. 'gpiochip512'. */
  chipName: string;
  label: string;
  /** Global GPIO number of the chip's offset 0 (0 on old kernels, 512 on a Pi 4 and 571 on a Pi 5 since 6.6). */
  base: number;
  /** Number of lines on the chip. */
  ngpio: number;
}

/**
 * Finds the header chip in `<sysfsRoot>/class/gpio/gpiochip*` by its label and returns its base.
 * Kernels >= 6.6 stopped numbering the first chip from 0, so the base is never assumed.
 * Rejects with a HalError (ENOENT without sysfs GPIO, ENODEV without a matching chip, listing the labels found).
 */
export async function resolveGpioBase(options: ResolveGpioBaseOptions = {}): Promise<GpioBaseResolution> {
  const root = options.sysfsRoot ?? '/sys';
  const labels = options.labels ?? HEADER_CHIP_LABELS;
  const dir = join(root, 'class', 'gpio');
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch (err) {
    throw new HalError(dir, 'cannot list sysfs GPIO chips; this kernel may lack CONFIG_GPIO_SYSFS (use the cdev backend)', {
      code: codeOf(err) ?? 'ENOENT',
      cause: err,
    });
  }
  const chips: GpioBaseResolution[] = [];
  for (const chipName of entries.filter((e) => /^gpiochip\d+$/.test(e))) {
    try {
      const [label, base, ngpio] = await Promise.all(
        ['label', 'base', 'ngpio'].map(async (f) => (await readFile(join(dir, chipName, f), 'utf8')).trim()),
      );
      if (label === undefined || base === undefined || !/^\d+$/.test(base)) continue;
      chips.push({ chipName, label, base: Number(base), ngpio: ngpio !== undefined && /^\d+$/.test(ngpio) ? Number(ngpio) : 0 });
    } catch {
      // A chip whose attributes cannot be read cannot be the one we want; it still shows in the error below.
      chips.push({ chipName, label: '?', base: -1, ngpio: 0 });
    }
  }
  for (const wanted of labels) {
    const match = chips.find((c) => c.label === wanted && c.base >= 0);
    if (match) return match;
  }
  const found = chips.length > 0 ? chips.map((c) => `${c.chipName} "${c.label}"`).join(', ') : 'no gpiochip at all';
  throw new HalError(dir, `no GPIO chip labelled ${labels.join(' or ')}; found: ${found}`, { code: 'ENODEV' });
}

/** The part of onoff's Gpio this backend uses; tests pass a fake through portFactory. */
export interface SysfsGpioPort {
  readSync(): GpioLevel;
  writeSync(value: GpioLevel): void;
  setDirection(direction: 'in' | 'out' | 'high' | 'low'): void;
  watch(callback: (err: Error | null | undefined, value: GpioLevel) => void): void;
  unwatchAll(): void;
  unexport(): void;
}

/** Exports global GPIO `gpio` with a direction ('high'/'low' = output with that initial level) and edge. */
export type SysfsGpioPortFactory = (gpio: number, direction: 'in' | 'high' | 'low', edge: GpioEdge) => SysfsGpioPort;

export interface SysfsGpioChipOptions extends ResolveGpioBaseOptions {
  /**
   * Opens one line. Default: onoff's Gpio (activeLow false: polarity belongs to the drivers). Note that
   * onoff itself always works under /sys/class/gpio; sysfsRoot only moves the base resolution.
   */
  portFactory?: SysfsGpioPortFactory;
  /** Source of edge timestamps (sysfs has no kernel timestamp). Default RealClock. */
  clock?: Clock;
  log?: Logger;
}

interface Requested {
  port: SysfsGpioPort;
  generation: number;
}

/**
 * A GpioChip over sysfs. Offsets are chip offsets (BCM numbers on the header); the global number is
 * base + offset. sysfs cannot set bias (pull-ups must come from config.txt, e.g. `gpio=17=ip,pu`, or
 * from resistors on the board) and has no open drain: an open-drain line is emulated as the kernel
 * does it, by switching to input to release the line (1) and to output-low to pull it down (0).
 */
export class SysfsGpioChip implements GpioChip {
  readonly name: string;
  readonly label: string;
  readonly base: number;
  readonly ngpio: number;
  private readonly factory: SysfsGpioPortFactory;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly requested = new Map<number, Requested>();
  private generation = 0;
  private biasWarned = false;
  private closed = false;

  private constructor(resolution: GpioBaseResolution, factory: SysfsGpioPortFactory, clock: Clock, log: Logger) {
    this.name = resolution.chipName;
    this.label = resolution.label;
    this.base = resolution.base;
    this.ngpio = resolution.ngpio;
    this.factory = factory;
    this.clock = clock;
    this.log = log;
  }

  /** Resolves the header chip and loads onoff; rejects with a HalError saying what is missing. */
  static async open(options: SysfsGpioChipOptions = {}): Promise<SysfsGpioChip> {
    const log = (options.log ?? silentLogger()).child({ mod: 'hal/gpio/sysfs-gpio' });
    const resolution = await resolveGpioBase(options);
    const factory = options.portFactory ?? (await onoffFactory());
    log.info({ chip: resolution.chipName, label: resolution.label, base: resolution.base, ngpio: resolution.ngpio }, 'sysfs GPIO chip');
    return new SysfsGpioChip(resolution, factory, options.clock ?? new RealClock(), log);
  }

  requestInput(offset: number, options: GpioInputOptions = {}): GpioLine {
    const gpio = this.claim(offset);
    const bias = options.bias ?? 'as-is';
    if ((bias === 'pull-up' || bias === 'pull-down') && !this.biasWarned) {
      this.biasWarned = true;
      this.log.warn(
        { offset, bias },
        'sysfs GPIO cannot set bias: pull-ups/downs must come from config.txt (e.g. gpio=17=ip,pu) or resistors on the board',
      );
    }
    const edge = options.edge ?? 'none';
    const port = this.open(offset, gpio, 'in', edge);
    return this.line(offset, gpio, port, {
      write: () => {
        throw new HalError(this.device(offset, gpio), 'write to an input line', { code: 'EPERM' });
      },
      watchEdges: edge !== 'none',
    });
  }

  requestOutput(offset: number, options: GpioOutputOptions): GpioLine {
    const gpio = this.claim(offset);
    if (options.drive === 'open-drain') {
      const port = this.open(offset, gpio, options.initial === 1 ? 'in' : 'low', 'none');
      return this.line(offset, gpio, port, {
        write: (level) => port.setDirection(level === 1 ? 'in' : 'low'),
        watchEdges: false,
      });
    }
    const port = this.open(offset, gpio, options.initial === 1 ? 'high' : 'low', 'none');
    return this.line(offset, gpio, port, { write: (level) => port.writeSync(level), watchEdges: false });
  }

  close(): void {
    for (const [offset, r] of [...this.requested]) this.unexport(offset, r);
    this.requested.clear();
    this.closed = true;
  }

  private device(offset: number, gpio?: number): string {
    return `${this.name} (${this.label}) line ${offset}${gpio !== undefined ? ` (GPIO ${gpio})` : ''}`;
  }

  private claim(offset: number): number {
    if (this.closed) throw new HalError(this.device(offset), 'chip is closed', { code: 'ENODEV' });
    if (!Number.isInteger(offset) || offset < 0 || offset >= this.ngpio) {
      throw new HalError(this.device(offset), `offset out of range 0..${this.ngpio - 1}`, { code: 'EINVAL' });
    }
    if (this.requested.has(offset)) throw new HalError(this.device(offset), 'line already requested', { code: 'EBUSY' });
    return this.base + offset;
  }

  private open(offset: number, gpio: number, direction: 'in' | 'high' | 'low', edge: GpioEdge): SysfsGpioPort {
    try {
      const port = this.factory(gpio, direction, edge);
      this.requested.set(offset, { port, generation: ++this.generation });
      return port;
    } catch (err) {
      const code = codeOf(err);
      const hint = code === 'EACCES' ? ' (is the user in the gpio group?)' : '';
      const detail = err instanceof Error ? err.message : String(err);
      throw new HalError(this.device(offset, gpio), `export failed: ${detail}${hint}`, { code, cause: err });
    }
  }

  private line(
    offset: number,
    gpio: number,
    port: SysfsGpioPort,
    how: { write: (level: GpioLevel) => void; watchEdges: boolean },
  ): GpioLine {
    const generation = this.requested.get(offset)?.generation;
    const device = this.device(offset, gpio);
    const listeners = new Set<(event: GpioEdgeEvent) => void>();
    const live = (action: string): void => {
      if (this.requested.get(offset)?.generation !== generation) {
        throw new HalError(device, `${action} on a released line`, { code: 'EBADF' });
      }
    };
    if (how.watchEdges) {
      port.watch((err, value) => {
        if (err) {
          this.log.warn({ err, offset }, 'edge watch error');
          return;
        }
        const event: GpioEdgeEvent = { level: value, timestampNs: BigInt(Math.round(this.clock.now() * 1e6)) };
        for (const l of [...listeners]) l(event);
      });
    }
    return {
      offset,
      read: () => {
        live('read');
        try {
          return port.readSync();
        } catch (err) {
          throw HalError.from(device, 'read', err);
        }
      },
      write: (level) => {
        live('write');
        try {
          how.write(level);
        } catch (err) {
          throw HalError.from(device, 'write', err);
        }
      },
      onEdge: (listener) => {
        listeners.add(listener);
        const unsubscribe: Unsubscribe = () => listeners.delete(listener);
        return unsubscribe;
      },
      release: () => {
        const r = this.requested.get(offset);
        if (!r || r.generation !== generation) return;
        listeners.clear();
        this.requested.delete(offset);
        this.unexport(offset, r);
      },
    };
  }

  private unexport(offset: number, r: Requested): void {
    try {
      r.port.unexport();
    } catch (err) {
      this.log.warn({ err, offset }, 'unexport failed');
    }
  }
}

async function onoffFactory(): Promise<SysfsGpioPortFactory> {
  let Gpio: typeof OnoffGpio;
  try {
    ({ Gpio } = await import('onoff'));
  } catch (err) {
    throw new HalError('sysfs-gpio', 'cannot load onoff (its epoll addon must be built for this platform)', { code: codeOf(err), cause: err });
  }
  if (!Gpio.accessible) {
    throw new HalError('/sys/class/gpio/export', 'not writable: no sysfs GPIO on this kernel, or the user is not in the gpio group', {
      code: 'EACCES',
    });
  }
  return (gpio, direction, edge) => new Gpio(gpio, direction, edge, { activeLow: false });
}

function codeOf(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string' ? err.code : undefined;
}
