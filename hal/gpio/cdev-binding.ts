// What the GPIO character-device backend needs from the native addon, declared here because hal/ must
// not import firmware/media: the addon's GPIO part (`addon.gpio`, NativeGpio in
// firmware/media/native-addon.ts) satisfies it structurally, and the composition root passes it in.
// test/hal/gpio/cdev-gpio.test.ts checks the match with tsc.

export type CdevBit = 0 | 1;

/** The line request configuration the addon takes (uAPI v2 flags and attributes by name). */
export interface CdevInputConfig {
  direction: 'input';
  offsets: readonly number[];
  consumer?: string;
  bias?: 'as-is' | 'pull-up' | 'pull-down' | 'disabled';
  edge?: 'none' | 'rising' | 'falling' | 'both';
  debouncePeriodUs?: number;
  eventBufferSize?: number;
}

export interface CdevOutputConfig {
  direction: 'output';
  offsets: readonly number[];
  consumer?: string;
  bias?: 'as-is' | 'pull-up' | 'pull-down' | 'disabled';
  drive?: 'push-pull' | 'open-drain' | 'open-source';
  outputValues?: readonly CdevBit[];
  eventBufferSize?: number;
}

export type CdevRequestConfig = CdevInputConfig | CdevOutputConfig;

/** Delivered on the JS thread by the request's thread-safe function. */
export type CdevEvent =
  | { kind: 'edge'; offset: number; edge: 'rising' | 'falling'; timestampNs: bigint; seqno: number; lineSeqno: number }
  | { kind: 'error'; error: Error & { code: string } };

export interface CdevLineInfo {
  consumer: string;
  used: boolean;
}

export interface CdevLineRequestHandle {
  getValues(): CdevBit[];
  setValues(values: readonly CdevBit[]): void;
  ref(): void;
  unref(): void;
  release(): void;
}

export interface CdevChipHandle {
  readonly name: string;
  readonly label: string;
  readonly lines: number;
  lineInfo(offset: number): CdevLineInfo;
  requestLines(config: CdevRequestConfig, onEvent?: (event: CdevEvent) => void): CdevLineRequestHandle;
  close(): void;
}

export interface CdevBinding {
  /** Throws an Error with `code` = errno name (ENOENT, EACCES, ENOTTY ...). */
  openChip(path: string): CdevChipHandle;
}
