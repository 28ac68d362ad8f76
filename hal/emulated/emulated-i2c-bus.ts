// An I2C bus in memory: chip models attached by address, per-byte wire timing, NAKs on demand.
import type { Clock } from '../../firmware/util/clock.js';
import { HalError } from '../errors.js';
import type { I2cBus } from '../i2c/i2c-bus.js';

/** When the bytes of one transfer were on the wire, so a model can check timing inside one write. */
export interface I2cTransferTiming {
  /** Clock time of the START condition, in ms. */
  readonly startMs: number;
  /** Duration of one byte on the wire (8 bits + the ACK bit), in ms. */
  readonly byteMs: number;
  /**
   * Clock time at which data byte `index` has been clocked in and acknowledged (the address byte
   * comes first). A PCF8574 changes its outputs at that moment (PCF8574 datasheet, "Writing to the
   * port": output valid after the acknowledge).
   */
  byteDoneMs(index: number): number;
}

/** A chip on the emulated bus. Throwing from write/read fails the transfer (as EIO). */
export interface I2cDeviceModel {
  /** Bytes of one write transfer, after the address byte was acknowledged. */
  write(data: Uint8Array, timing: I2cTransferTiming): void;
  /** Answers a read transfer of `length` bytes. */
  read(length: number, timing: I2cTransferTiming): Uint8Array;
}

export interface EmulatedI2cBusOptions {
  clock: Clock;
  /** Bus name for errors and logs, e.g. "i2c-1". Default "emulated-i2c". */
  name?: string;
  /** SCL frequency; each byte takes 9 clock periods. Default 100 kHz (the PCF8574's maximum). */
  busSpeedHz?: number;
  /**
   * Default false: a transfer resolves once its bytes would have crossed the wire, measured on the
   * clock (so with a VirtualClock the test advances the clock, as a real write blocks for its
   * duration). True: transfers resolve at once; their bytes are still timestamped back to back
   * after the previous transfer, but a sleep that follows a long transfer then overlaps it, which
   * real hardware never does. For callers that cannot step their clock.
   */
  instantTransfers?: boolean;
}

interface NakSwitch {
  /** Transfers still to refuse; undefined = until cleared. */
  remaining: number | undefined;
}

/** Matches what the Linux i2c-dev driver gives for a missing acknowledge. */
const NAK_CODE = 'EREMOTEIO';

function hex(address: number): string {
  return `0x${address.toString(16).padStart(2, '0')}`;
}

/**
 * The emulated bus of DESIGN.md: drivers write bytes to it exactly as to /dev/i2c-N, chip models
 * decode them. An address without a model, or one switched to NAK, fails like a real NAK.
 */
export class EmulatedI2cBus implements I2cBus {
  readonly name: string;
  readonly busSpeedHz: number;
  private readonly clock: Clock;
  private readonly instant: boolean;
  private readonly devices = new Map<number, I2cDeviceModel>();
  private readonly naks = new Map<number, NakSwitch>();
  /** Clock time at which the last transfer left the wire: transfers never overlap. */
  private busFreeAtMs = Number.NEGATIVE_INFINITY;
  private closed = false;
  private transferTotal = 0;

  constructor(options: EmulatedI2cBusOptions) {
    this.clock = options.clock;
    this.name = options.name ?? 'emulated-i2c';
    this.busSpeedHz = options.busSpeedHz ?? 100_000;
    if (!(this.busSpeedHz > 0)) throw new RangeError(`busSpeedHz: expected a positive frequency, got ${this.busSpeedHz}`);
    this.instant = options.instantTransfers ?? false;
  }

  /** Duration of one byte on the wire (9 SCL periods), in ms. */
  get byteMs(): number {
    return 9_000 / this.busSpeedHz;
  }

  /** Number of transfers attempted (acknowledged or not), scans excluded. */
  get transfers(): number {
    return this.transferTotal;
  }

  attach(address: number, model: I2cDeviceModel): void {
    this.checkAddress(address);
    if (this.devices.has(address)) throw new RangeError(`${this.name}: address ${hex(address)} already has a device`);
    this.devices.set(address, model);
  }

  detach(address: number): void {
    this.devices.delete(address);
  }

  /**
   * Makes the device at `address` refuse its address byte (EREMOTEIO): for the next `transfers`
   * transfers, or until clearNak() when `transfers` is not given.
   */
  nak(address: number, options: { transfers?: number } = {}): void {
    this.checkAddress(address);
    const { transfers } = options;
    if (transfers !== undefined && (!Number.isInteger(transfers) || transfers < 1)) {
      throw new RangeError(`transfers: expected a positive integer, got ${transfers}`);
    }
    this.naks.set(address, { remaining: transfers });
  }

  clearNak(address: number): void {
    this.naks.delete(address);
  }

  /** True while the device at `address` is switched to NAK. */
  naking(address: number): boolean {
    return this.naks.has(address);
  }

  async write(address: number, data: Uint8Array): Promise<void> {
    const { model, timing } = await this.begin(address, data.length);
    if (!this.instant) await this.waitUntil(timing.byteDoneMs(data.length - 1));
    try {
      model.write(Uint8Array.from(data), timing);
    } catch (err) {
      throw this.modelError(address, 'write', err);
    }
  }

  async read(address: number, length: number): Promise<Uint8Array> {
    if (!Number.isInteger(length) || length < 0) throw new RangeError(`length: expected a byte count, got ${length}`);
    const { model, timing } = await this.begin(address, length);
    if (!this.instant) await this.waitUntil(timing.byteDoneMs(length - 1));
    let answer: Uint8Array;
    try {
      answer = model.read(length, timing);
    } catch (err) {
      throw this.modelError(address, 'read', err);
    }
    if (answer.length !== length) throw new HalError(this.deviceName(address), `model answered ${answer.length} bytes to a read of ${length}`, { code: 'EIO' });
    return answer;
  }

  /** Attached addresses 0x03..0x77 that would acknowledge a probe (a device switched to NAK does not). */
  scan(): Promise<number[]> {
    if (this.closed) return Promise.reject(this.closedError());
    const found = [...this.devices.keys()].filter((a) => a >= 0x03 && a <= 0x77 && !this.naks.has(a));
    return Promise.resolve(found.sort((a, b) => a - b));
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }

  /** Puts the address byte on the wire; rejects (after that byte's time) when nobody acknowledges. */
  private async begin(address: number, length: number): Promise<{ model: I2cDeviceModel; timing: I2cTransferTiming }> {
    if (this.closed) throw this.closedError();
    this.checkAddress(address);
    this.transferTotal++;
    const startMs = Math.max(this.clock.now(), this.busFreeAtMs);
    const byteMs = this.byteMs;
    const timing: I2cTransferTiming = { startMs, byteMs, byteDoneMs: (index) => startMs + (index + 2) * byteMs };
    const model = this.devices.get(address);
    const refused = model === undefined || this.takeNak(address);
    if (refused) {
      // The master stops after the unacknowledged address byte.
      this.busFreeAtMs = startMs + byteMs;
      if (!this.instant) await this.waitUntil(this.busFreeAtMs);
      const why = model === undefined ? 'no device acknowledged' : 'device did not acknowledge (NAK switched on)';
      throw new HalError(this.deviceName(address), why, { code: NAK_CODE });
    }
    this.busFreeAtMs = timing.byteDoneMs(length - 1);
    return { model, timing };
  }

  private takeNak(address: number): boolean {
    const nak = this.naks.get(address);
    if (!nak) return false;
    if (nak.remaining !== undefined) {
      nak.remaining--;
      if (nak.remaining <= 0) this.naks.delete(address);
    }
    return true;
  }

  private async waitUntil(ms: number): Promise<void> {
    const delayMs = ms - this.clock.now();
    if (delayMs > 0) await this.clock.sleep(delayMs);
  }

  private checkAddress(address: number): void {
    if (!Number.isInteger(address) || address < 0 || address > 0x7f) {
      throw new HalError(this.name, `invalid 7-bit I2C address ${String(address)}`, { code: 'EINVAL' });
    }
  }

  private deviceName(address: number): string {
    return `${this.name}@${hex(address)}`;
  }

  private modelError(address: number, action: string, err: unknown): HalError {
    const detail = err instanceof Error ? err.message : String(err);
    return new HalError(this.deviceName(address), `${action} failed in the chip model: ${detail}`, { code: 'EIO', cause: err });
  }

  private closedError(): HalError {
    return new HalError(this.name, 'bus is closed', { code: 'EBADF' });
  }
}
