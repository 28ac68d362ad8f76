// GpioChip over the Linux GPIO character device (uAPI v2: kernel debounce, bias, timestamped edges),
// through the native addon's binding; the backend for kernels without sysfs GPIO.
import type { Unsubscribe } from '../../firmware/util/emitter.js';
import { silentLogger, type Logger } from '../../firmware/util/log.js';
import { HalError } from '../errors.js';
import type { CdevBinding, CdevChipHandle, CdevEvent, CdevLineRequestHandle, CdevRequestConfig } from './cdev-binding.js';
import type { GpioChip, GpioEdgeEvent, GpioInputOptions, GpioLevel, GpioLine, GpioOutputOptions } from './gpio.js';

export interface CdevGpioChipOptions {
  /** /dev/gpiochip0 (Pi 1-4 header), /dev/gpiochip4 or the 'pinctrl-rp1' chip on a Pi 5. */
  path: string;
  /** The GPIO part of the loaded native addon (`addon.gpio`), or any implementation of the binding. */
  binding: CdevBinding;
  log?: Logger;
  /** Consumer label for lines whose options name none. Default 'offhook'. */
  consumer?: string;
}

function errnoOf(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string' ? err.code : undefined;
}

function detailOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** What a person can do about the usual errnos of the character device. */
function hintFor(code: string | undefined, path: string): string {
  switch (code) {
    case 'ENOENT':
      return `no such GPIO chip; list the chips with \`ls ${path.replace(/[^/]*$/, '')}gpiochip*\` or gpiodetect`;
    case 'EACCES':
    case 'EPERM':
      return `no permission on ${path}; add the user to the 'gpio' group (udev gives it the chips)`;
    case 'ENOTTY':
      return `${path} is not a GPIO character device`;
    case 'EINVAL':
      return 'the chip refused this configuration (bias, debounce or drive may be unsupported on this line)';
    case 'ENODEV':
      return 'the GPIO chip went away';
    default:
      return '';
  }
}

function halError(device: string, action: string, err: unknown, path: string, extra = ''): HalError {
  if (err instanceof HalError) return err;
  const code = errnoOf(err);
  const hint = extra || hintFor(code, path);
  return new HalError(device, `${action} failed: ${detailOf(err)}${hint ? ` — ${hint}` : ''}`, { code, cause: err });
}

interface LineSetup {
  offset: number;
  device: string;
  chipPath: string;
  edges: boolean;
  log: Logger;
  request: (onEvent: ((event: CdevEvent) => void) | undefined) => CdevLineRequestHandle;
  onRelease: (line: CdevGpioLine) => void;
}

/** One line of a CdevGpioChip: one native line request, with an event thread when edges were asked for. */
class CdevGpioLine implements GpioLine {
  readonly offset: number;
  private readonly device: string;
  private readonly chipPath: string;
  private readonly edges: boolean;
  private readonly log: Logger;
  private readonly listeners = new Set<(event: GpioEdgeEvent) => void>();
  private readonly onRelease: (line: CdevGpioLine) => void;
  private readonly request: CdevLineRequestHandle;
  private released = false;

  constructor(setup: LineSetup) {
    this.offset = setup.offset;
    this.device = setup.device;
    this.chipPath = setup.chipPath;
    this.edges = setup.edges;
    this.log = setup.log;
    this.onRelease = setup.onRelease;
    this.request = setup.request(setup.edges ? (event) => this.deliver(event) : undefined);
    // Until someone listens, edges must not keep the process alive (an idle input is not work to wait for).
    if (this.edges) this.request.unref();
  }

  read(): GpioLevel {
    this.checkOpen();
    try {
      return this.request.getValues()[0] === 1 ? 1 : 0;
    } catch (err) {
      throw halError(this.device, 'read', err, this.chipPath);
    }
  }

  write(level: GpioLevel): void {
    this.checkOpen();
    try {
      this.request.setValues([level]);
    } catch (err) {
      throw halError(this.device, 'write', err, this.chipPath);
    }
  }

  onEdge(listener: (event: GpioEdgeEvent) => void): Unsubscribe {
    this.checkOpen();
    if (!this.edges) {
      throw new HalError(this.device, "requested with edge 'none': request it with edge 'rising', 'falling' or 'both' to get events");
    }
    this.listeners.add(listener);
    // Like a listening socket: a line someone waits on keeps the event loop alive, until unsubscribed.
    if (this.listeners.size === 1) this.request.ref();
    return () => {
      if (!this.listeners.delete(listener) || this.released) return;
      if (this.listeners.size === 0) this.request.unref();
    };
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    this.listeners.clear();
    try {
      this.request.release();
    } finally {
      this.onRelease(this);
      this.log.debug({ offset: this.offset }, 'line released');
    }
  }

  private checkOpen(): void {
    if (this.released) throw new HalError(this.device, 'line was released');
  }

  private deliver(event: CdevEvent): void {
    if (this.released) return;
    if (event.kind === 'error') {
      // The event thread has ended (and no longer holds the loop): the line reads on, but edges are over.
      this.log.error({ err: halError(this.device, 'edge events', event.error, this.chipPath) }, 'GPIO edge events stopped');
      return;
    }
    const edge: GpioEdgeEvent = { level: event.edge === 'rising' ? 1 : 0, timestampNs: event.timestampNs };
    for (const listener of [...this.listeners]) listener(edge);
  }
}

/** A GPIO chip through /dev/gpiochipN. Each requested line is its own kernel line request. */
export class CdevGpioChip implements GpioChip {
  readonly path: string;
  readonly name: string;
  readonly label: string;
  /** Number of lines on the chip. */
  readonly lines: number;
  private readonly handle: CdevChipHandle;
  private readonly consumer: string;
  private readonly log: Logger;
  private readonly open = new Set<CdevGpioLine>();
  private closed = false;

  /** Opens the chip; a HalError names the path and the errno (ENOENT, EACCES, ENOTTY ...). */
  static open(options: CdevGpioChipOptions): CdevGpioChip {
    let handle: CdevChipHandle;
    try {
      handle = options.binding.openChip(options.path);
    } catch (err) {
      throw halError(options.path, 'open', err, options.path);
    }
    return new CdevGpioChip(options, handle);
  }

  private constructor(options: CdevGpioChipOptions, handle: CdevChipHandle) {
    this.path = options.path;
    this.handle = handle;
    this.name = handle.name;
    this.label = handle.label;
    this.lines = handle.lines;
    this.consumer = options.consumer ?? 'offhook';
    this.log = (options.log ?? silentLogger()).child({ mod: 'hal/gpio/cdev', chip: options.path });
    this.log.debug({ name: this.name, label: this.label, lines: this.lines }, 'chip opened');
  }

  requestInput(offset: number, options: GpioInputOptions = {}): GpioLine {
    const debounceMs = options.debounceMs ?? 0;
    if (!Number.isFinite(debounceMs) || debounceMs < 0) {
      throw new HalError(this.lineDevice(offset), `debounceMs must be a non-negative number, got ${debounceMs}`, { code: 'EINVAL' });
    }
    const edge = options.edge ?? 'none';
    return this.requestLine(offset, edge !== 'none', {
      direction: 'input',
      offsets: [offset],
      consumer: options.consumer ?? this.consumer,
      bias: options.bias ?? 'as-is',
      edge,
      // uAPI v2 debounces in microseconds (GPIO_V2_LINE_ATTR_ID_DEBOUNCE).
      debouncePeriodUs: Math.round(debounceMs * 1000),
    });
  }

  requestOutput(offset: number, options: GpioOutputOptions): GpioLine {
    return this.requestLine(offset, false, {
      direction: 'output',
      offsets: [offset],
      consumer: options.consumer ?? this.consumer,
      drive: options.drive ?? 'push-pull',
      outputValues: [options.initial],
    });
  }

  /** Releases every line still requested, then closes the chip. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const line of [...this.open]) line.release();
    this.handle.close();
    this.log.debug('chip closed');
  }

  private lineDevice(offset: number): string {
    return `${this.path} line ${offset}`;
  }

  private requestLine(offset: number, edges: boolean, config: CdevRequestConfig): GpioLine {
    const device = this.lineDevice(offset);
    if (this.closed) throw new HalError(device, 'chip was closed');
    if (!Number.isInteger(offset) || offset < 0 || offset >= this.lines) {
      throw new HalError(device, `no such line: ${this.name} (${this.label}) has lines 0 to ${this.lines - 1}`, { code: 'EINVAL' });
    }
    const line = new CdevGpioLine({
      offset,
      device,
      chipPath: this.path,
      edges,
      log: this.log,
      onRelease: (l) => this.open.delete(l),
      request: (onEvent) => {
        try {
          return this.handle.requestLines(config, onEvent);
        } catch (err) {
          throw halError(device, 'request', err, this.path, errnoOf(err) === 'EBUSY' ? this.busyHint(offset) : '');
        }
      },
    });
    this.open.add(line);
    this.log.debug({ offset, direction: config.direction, edges }, 'line requested');
    return line;
  }

  /** Names the holder of a busy line, which is what a person needs to free it. */
  private busyHint(offset: number): string {
    try {
      const info = this.handle.lineInfo(offset);
      return info.consumer ? `line is held by '${info.consumer}'` : 'line is held by another consumer (see gpioinfo)';
    } catch {
      return 'line is held by another consumer (see gpioinfo)';
    }
  }
}
