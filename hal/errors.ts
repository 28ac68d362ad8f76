// Typed hardware errors: which device, which errno, and what a person can do about it.

export class HalError extends Error {
  override readonly name = 'HalError';
  /** The device, e.g. "i2c-1@0x27 (hd44780)" or "gpiochip0 line 17". */
  readonly device: string;
  /** The errno name when the OS gave one (EREMOTEIO for an I2C NAK, ENOENT, EACCES, EBUSY ...). */
  readonly code: string | undefined;

  constructor(device: string, message: string, options: { code?: string | undefined; cause?: unknown } = {}) {
    super(`${device}: ${message}${options.code ? ` (${options.code})` : ''}`, { cause: options.cause });
    this.device = device;
    this.code = options.code;
  }

  /** Wraps any thrown value, keeping the errno name of Node system errors. */
  static from(device: string, action: string, err: unknown): HalError {
    if (err instanceof HalError) return err;
    const code = typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string' ? err.code : undefined;
    const detail = err instanceof Error ? err.message : String(err);
    return new HalError(device, `${action} failed: ${detail}`, { code, cause: err });
  }
}
