// The GPIO interfaces every GPIO driver is written against (backends: sysfs, cdev, emulated).
import type { Unsubscribe } from '../../firmware/util/emitter.js';

export type GpioLevel = 0 | 1;
export type GpioEdge = 'none' | 'rising' | 'falling' | 'both';
export type GpioBias = 'pull-up' | 'pull-down' | 'disabled' | 'as-is';

export interface GpioInputOptions {
  /** Which edges raise events; 'none' for a line that is only read. */
  edge?: GpioEdge;
  bias?: GpioBias;
  /** Kernel debounce where the backend has it (cdev); drivers debounce in software as well. */
  debounceMs?: number;
  /** Consumer label shown by gpioinfo. */
  consumer?: string;
}

export interface GpioOutputOptions {
  initial: GpioLevel;
  /** Open drain: writing 1 releases the line (needed when several keypad columns may be shorted by two keys). */
  drive?: 'push-pull' | 'open-drain';
  consumer?: string;
}

export interface GpioEdgeEvent {
  /** The level after the edge. */
  level: GpioLevel;
  /** Kernel timestamp when the backend has one, else the time the event was read, in nanoseconds. */
  timestampNs: bigint;
}

/** One requested line. Levels are physical (no active-low inversion here: drivers own polarity). */
export interface GpioLine {
  /** Offset on the chip (the BCM number on a Pi's header chip). */
  readonly offset: number;
  read(): GpioLevel;
  write(level: GpioLevel): void;
  onEdge(listener: (event: GpioEdgeEvent) => void): Unsubscribe;
  release(): void;
}

/** A GPIO controller (gpiochip0 on a Pi 4, the RP1's chip on a Pi 5, or an emulated chip). */
export interface GpioChip {
  readonly name: string;
  readonly label: string;
  requestInput(offset: number, options?: GpioInputOptions): GpioLine;
  requestOutput(offset: number, options: GpioOutputOptions): GpioLine;
  close(): void;
}
