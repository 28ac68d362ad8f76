// The I2C bus interface every I2C driver is written against, and the queue that serializes a bus.

/** One I2C bus (e.g. /dev/i2c-1). Addresses are 7-bit. Failures reject with a HalError (EREMOTEIO on a NAK). */
export interface I2cBus {
  /** A human name for errors and logs, e.g. "i2c-1" or "emulated-i2c". */
  readonly name: string;
  /** Writes bytes to the device at address in one transfer. */
  write(address: number, data: Uint8Array): Promise<void>;
  /** Reads length bytes from the device at address. */
  read(address: number, length: number): Promise<Uint8Array>;
  /** Addresses 0x03..0x77 that acknowledge a probe. */
  scan(): Promise<number[]>;
  close(): Promise<void>;
}

/**
 * Serializes every transfer on one bus through one promise chain (DESIGN.md: all traffic to one bus
 * goes through one queue), so the LCD driver and any other device on the bus never interleave bytes.
 * A failed transfer rejects its own caller and does not stall the queue.
 */
export class QueuedI2cBus implements I2cBus {
  private tail: Promise<unknown> = Promise.resolve();

  constructor(private readonly inner: I2cBus) {}

  get name(): string {
    return this.inner.name;
  }

  private enqueue<T>(op: () => Promise<T>): Promise<T> {
    const run = this.tail.then(op, op);
    this.tail = run.catch(() => undefined);
    return run;
  }

  write(address: number, data: Uint8Array): Promise<void> {
    return this.enqueue(() => this.inner.write(address, data));
  }

  read(address: number, length: number): Promise<Uint8Array> {
    return this.enqueue(() => this.inner.read(address, length));
  }

  scan(): Promise<number[]> {
    return this.enqueue(() => this.inner.scan());
  }

  close(): Promise<void> {
    return this.enqueue(() => this.inner.close());
  }
}
