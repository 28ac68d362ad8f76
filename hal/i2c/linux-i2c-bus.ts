// The real I2C backend: /dev/i2c-N through the i2c-bus package, failures as HalErrors with the errno name.
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { HalError } from '../errors.js';
import type { I2cBus } from './i2c-bus.js';

export interface LinuxI2cBusOptions {
  /** N of /dev/i2c-N: 1 on the header of every Pi since the model B rev 2. */
  busNumber: number;
  /** Talk to an address even when a kernel driver has claimed it (I2C_SLAVE_FORCE). Default false. */
  forceAccess?: boolean;
}

/** The part of i2c-bus's promisified API used here (the package ships no type declarations). */
interface PromisifiedBus {
  i2cWrite(address: number, length: number, buffer: Buffer): Promise<{ bytesWritten: number }>;
  i2cRead(address: number, length: number, buffer: Buffer): Promise<{ bytesRead: number; buffer: Buffer }>;
  scan(): Promise<number[]>;
  close(): Promise<void>;
}

interface I2cBusModule {
  openPromisified(busNumber: number, options?: { forceAccess?: boolean }): Promise<PromisifiedBus>;
}

function isI2cBusModule(value: unknown): value is I2cBusModule {
  return typeof value === 'object' && value !== null && 'openPromisified' in value && typeof value.openPromisified === 'function';
}

function hex(address: number): string {
  return `0x${address.toString(16).padStart(2, '0')}`;
}

/**
 * One Linux I2C adapter. Wrap it in a QueuedI2cBus: i2c-bus keeps one file descriptor per address
 * and does not serialize transfers across them.
 */
export class LinuxI2cBus implements I2cBus {
  readonly name: string;
  /** The device file, as HalErrors name it. */
  readonly device: string;

  private constructor(
    private readonly bus: PromisifiedBus,
    busNumber: number,
  ) {
    this.name = `i2c-${busNumber}`;
    this.device = `/dev/i2c-${busNumber}`;
  }

  /** Opens /dev/i2c-N; rejects with a HalError (ENOENT: I2C not enabled in config.txt; EACCES: not in group i2c). */
  static async open(options: LinuxI2cBusOptions): Promise<LinuxI2cBus> {
    const { busNumber } = options;
    if (!Number.isInteger(busNumber) || busNumber < 0) throw new RangeError(`busNumber: expected a bus number, got ${busNumber}`);
    const device = `/dev/i2c-${busNumber}`;
    // i2c-bus opens the file lazily, at the first transfer; check now so a wrong bus fails at start.
    try {
      await access(device, constants.R_OK | constants.W_OK);
    } catch (err) {
      throw HalError.from(device, 'open', err);
    }
    let bus: PromisifiedBus;
    try {
      // Loaded here, not at import: the native addon is only needed on a board with I2C.
      const required: unknown = createRequire(import.meta.url)('i2c-bus');
      if (!isI2cBusModule(required)) throw new Error('the i2c-bus package has no openPromisified()');
      bus = await required.openPromisified(busNumber, { forceAccess: options.forceAccess ?? false });
    } catch (err) {
      throw HalError.from(device, 'open', err);
    }
    return new LinuxI2cBus(bus, busNumber);
  }

  async write(address: number, data: Uint8Array): Promise<void> {
    const buffer = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    let written: number;
    try {
      ({ bytesWritten: written } = await this.bus.i2cWrite(address, buffer.length, buffer));
    } catch (err) {
      throw HalError.from(this.device, `write to ${hex(address)}`, err);
    }
    if (written !== data.length) throw new HalError(this.device, `write to ${hex(address)}: ${written} of ${data.length} bytes written`, { code: 'EIO' });
  }

  async read(address: number, length: number): Promise<Uint8Array> {
    const buffer = Buffer.alloc(length);
    let read: number;
    try {
      ({ bytesRead: read } = await this.bus.i2cRead(address, length, buffer));
    } catch (err) {
      throw HalError.from(this.device, `read from ${hex(address)}`, err);
    }
    if (read !== length) throw new HalError(this.device, `read from ${hex(address)}: ${read} of ${length} bytes read`, { code: 'EIO' });
    return new Uint8Array(buffer.buffer, buffer.byteOffset, length);
  }

  async scan(): Promise<number[]> {
    try {
      return await this.bus.scan();
    } catch (err) {
      throw HalError.from(this.device, 'scan', err);
    }
  }

  async close(): Promise<void> {
    try {
      await this.bus.close();
    } catch (err) {
      throw HalError.from(this.device, 'close', err);
    }
  }
}
