// The one declaration of the native addon's exports (offhook_native.node) and the loader that finds it.
// CONVENTIONS.md #10: this file is the single source of truth for the TS↔native boundary; the C++ side
// is firmware/media/native/addon.cc. Change both together and bump NATIVE_ADDON_API_VERSION.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Must equal kApiVersion in native/addon.h; a build from other sources is refused, not half-used. */
export const NATIVE_ADDON_API_VERSION = 1;
/** File name of the addon, beside a bundle (dist/) or in build/Release/ of a source tree. */
export const NATIVE_ADDON_FILE = 'offhook_native.node';
/** What a person runs to get the addon back. */
export const NATIVE_ADDON_REBUILD_HINT =
  'rebuild it at the repository root with `make build` or `npx node-gyp rebuild --nodedir=/usr` ' +
  '(needs g++, make, python3 and the Node headers); a bundle carries it as dist/offhook_native.node';

// ---------------------------------------------------------------------------------------------------
// G.711

/** RTP encoding names of G.711 (RFC 3551 §4.5.14): PCMU is µ-law, PCMA is A-law. */
export type G711Law = 'PCMU' | 'PCMA';

// ---------------------------------------------------------------------------------------------------
// GPIO character device (Linux uAPI v2)

export type NativeGpioBit = 0 | 1;
export type NativeGpioBias = 'as-is' | 'pull-up' | 'pull-down' | 'disabled';
export type NativeGpioEdge = 'none' | 'rising' | 'falling' | 'both';
export type NativeGpioDrive = 'push-pull' | 'open-drain' | 'open-source';

/** A system call that failed, shaped like Node's own system errors. */
export interface NativeSystemError extends Error {
  /** errno name: ENOENT, ENOTTY, EBUSY, EACCES, EINVAL, ENODEV ... */
  code: string;
  /** Negative errno, as in Node. */
  errno: number;
  /** 'open', 'ioctl(GPIO_V2_GET_LINE_IOCTL)', 'read' ... */
  syscall: string;
  /** The chip's path ('loopback' for a loopback request). */
  path: string;
}

interface NativeGpioRequestBase {
  /** 1 to 64 distinct offsets on the chip; values and events refer to lines by their position here. */
  offsets: readonly number[];
  /** Shown by gpioinfo; at most 31 bytes are kept. Default 'offhook'. */
  consumer?: string;
  /** 'as-is' (the default) leaves the bias untouched. */
  bias?: NativeGpioBias;
  /** Hint for the kernel's event buffer, in events; 0 or absent = 16 per line. */
  eventBufferSize?: number;
}

export interface NativeGpioInputConfig extends NativeGpioRequestBase {
  direction: 'input';
  /** Anything but 'none' starts an event thread, and then onEvent is required. */
  edge?: NativeGpioEdge;
  /** Kernel debounce (a v2 line attribute), in microseconds; 0 or absent = none. */
  debouncePeriodUs?: number;
}

export interface NativeGpioOutputConfig extends NativeGpioRequestBase {
  direction: 'output';
  drive?: NativeGpioDrive;
  /** Levels set atomically with the request, one per offset; default all 0. */
  outputValues?: readonly NativeGpioBit[];
}

export type NativeGpioRequestConfig = NativeGpioInputConfig | NativeGpioOutputConfig;

/** One struct gpio_v2_line_event. */
export interface NativeGpioEdgeEvent {
  kind: 'edge';
  offset: number;
  edge: 'rising' | 'falling';
  /** Kernel CLOCK_MONOTONIC timestamp of the edge (same clock as process.hrtime.bigint()). */
  timestampNs: bigint;
  /** Sequence number among all lines of the request; a gap means events were dropped. */
  seqno: number;
  /** Sequence number on this line. */
  lineSeqno: number;
}

/** The event thread stopped (ENODEV when the chip went away); nothing more will be delivered. */
export interface NativeGpioErrorEvent {
  kind: 'error';
  error: NativeSystemError;
}

export type NativeGpioEvent = NativeGpioEdgeEvent | NativeGpioErrorEvent;

/** What GPIO_V2_GET_LINEINFO_IOCTL says about a line. */
export interface NativeGpioLineInfo {
  offset: number;
  name: string;
  /** Who holds the line ('' when free or unnamed). */
  consumer: string;
  used: boolean;
  direction: 'input' | 'output';
  activeLow: boolean;
  bias: NativeGpioBias;
  edge: NativeGpioEdge;
  drive: NativeGpioDrive;
  debouncePeriodUs: number;
}

/** Requested lines (one fd). With edge detection it owns a thread and a thread-safe function. */
export interface NativeGpioLineRequest {
  readonly offsets: number[];
  readonly released: boolean;
  /** One level per offset, in request order. */
  getValues(): NativeGpioBit[];
  /** One level per offset, in request order (an input request fails with EPERM). */
  setValues(values: readonly NativeGpioBit[]): void;
  /** Pending edge events keep the event loop alive (the default for a new request with edges). */
  ref(): void;
  /** Edge events no longer keep the event loop alive; they are still delivered while it runs. */
  unref(): void;
  /** Stops the thread, drops queued events (none arrives after this returns), frees the lines. Idempotent. */
  release(): void;
}

/** Test support: a request whose "kernel" is a pipe, running the same event thread and function. */
export interface NativeGpioLoopbackRequest extends NativeGpioLineRequest {
  /** Writes one gpio_v2_line_event record for the thread to read (seqno, lineSeqno default 0). */
  inject(event: { offset: number; edge: 'rising' | 'falling'; timestampNs: bigint; seqno?: number; lineSeqno?: number }): void;
  /** Closes the writer: the thread reports ENODEV, as when a chip goes away. */
  injectHangUp(): void;
}

/** An open /dev/gpiochipN. */
export interface NativeGpioChip {
  readonly path: string;
  /** Kernel name, e.g. 'gpiochip0'. */
  readonly name: string;
  /** Driver label, e.g. 'pinctrl-bcm2711' or 'pinctrl-rp1'. */
  readonly label: string;
  /** Number of lines. */
  readonly lines: number;
  lineInfo(offset: number): NativeGpioLineInfo;
  /** onEvent is required exactly when config.edge is 'rising', 'falling' or 'both' (TypeError otherwise). */
  requestLines(config: NativeGpioRequestConfig, onEvent?: (event: NativeGpioEvent) => void): NativeGpioLineRequest;
  /** Closes the chip fd; line requests stay valid until released. Idempotent. */
  close(): void;
}

// ---------------------------------------------------------------------------------------------------
// The addon

/** G.711 (firmware/media/g711.ts wraps it). */
export interface NativeG711 {
  /** ITU-T G.711 encode: one code per sample. `out`, when given, must have pcm.length bytes and is returned. */
  encode(law: G711Law, pcm: Int16Array, out?: Uint8Array): Uint8Array;
  /** ITU-T G.711 decode: one sample per code. `out`, when given, must have codes.length samples and is returned. */
  decode(law: G711Law, codes: Uint8Array, out?: Int16Array): Int16Array;
}

/** The GPIO character-device part; hal/gpio/cdev-binding.ts declares the subset the hal uses. */
export interface NativeGpio {
  /** Opens a chip (open + GPIO_GET_CHIPINFO_IOCTL); throws a NativeSystemError (ENOENT, EACCES, ENOTTY ...). */
  openChip(path: string): NativeGpioChip;
  /** Test support: see NativeGpioLoopbackRequest. Offsets must be below 64. */
  loopbackRequest(options: { offsets: readonly number[] }, onEvent: (event: NativeGpioEvent) => void): NativeGpioLoopbackRequest;
}

/** The exports of offhook_native.node: one frozen object per part. */
export interface NativeAddon {
  /** NATIVE_ADDON_API_VERSION of the sources it was built from. */
  readonly apiVersion: number;
  readonly g711: NativeG711;
  readonly gpio: NativeGpio;
}

/** Every function of every part, checked at load time. */
const FUNCTION_EXPORTS: { [Part in Exclude<keyof NativeAddon, 'apiVersion'>]: readonly (keyof NativeAddon[Part])[] } = {
  g711: ['encode', 'decode'],
  gpio: ['openChip', 'loopbackRequest'],
};

// ---------------------------------------------------------------------------------------------------
// Loading

export type NativeAddonFailure = 'missing' | 'unloadable' | 'incompatible';

/** The addon could not be used: which files were tried, on what platform, and how to rebuild. */
export class NativeAddonError extends Error {
  override readonly name = 'NativeAddonError';
  readonly reason: NativeAddonFailure;
  /** Absolute paths looked at, in order. */
  readonly tried: readonly string[];

  constructor(reason: NativeAddonFailure, detail: string, tried: readonly string[], options: { cause?: unknown } = {}) {
    const platform = `${process.platform}-${process.arch}, Node ${process.version} (Node-API ${process.versions.napi ?? '?'})`;
    super(`native addon ${reason}: ${detail}; tried ${tried.join(', ')}; on ${platform}; ${NATIVE_ADDON_REBUILD_HINT}`, options);
    this.reason = reason;
    this.tried = tried;
  }
}

export interface LoadNativeAddonOptions {
  /** Load exactly this file and try nothing else. */
  path?: string;
  /** The module URL or file path the search starts from, instead of this module's (tests). */
  from?: string | URL;
}

/**
 * Where the addon may be, in order: beside the running module (the bundle dist/offhook.mjs has
 * dist/offhook_native.node next to it), then build/Release/ of each folder upwards until the one
 * holding package.json (running from sources: firmware/media/ → the repository root).
 */
export function nativeAddonCandidates(from: string | URL = import.meta.url): string[] {
  const start = dirname(from instanceof URL || from.startsWith('file:') ? fileURLToPath(from) : from);
  const candidates = [join(start, NATIVE_ADDON_FILE)];
  for (let dir = start; ; ) {
    candidates.push(join(dir, 'build', 'Release', NATIVE_ADDON_FILE));
    const parent = dirname(dir);
    if (existsSync(join(dir, 'package.json')) || parent === dir) break;
    dir = parent;
  }
  return candidates;
}

function firstLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split('\n', 1)[0] ?? text;
}

function checkExports(value: unknown, file: string, tried: readonly string[]): NativeAddon {
  if (typeof value !== 'object' || value === null) {
    throw new NativeAddonError('incompatible', `${file} exports no object`, tried);
  }
  const exports = value as Record<string, unknown>;
  if (exports.apiVersion !== NATIVE_ADDON_API_VERSION) {
    throw new NativeAddonError(
      'incompatible',
      `${file} was built from other sources (apiVersion ${String(exports.apiVersion)}, expected ${NATIVE_ADDON_API_VERSION})`,
      tried,
    );
  }
  const missing = Object.entries(FUNCTION_EXPORTS).flatMap(([part, names]) => {
    const object = exports[part];
    return names
      .filter((name) => typeof object !== 'object' || object === null || typeof (object as Record<string, unknown>)[name] !== 'function')
      .map((name) => `${part}.${name}`);
  });
  if (missing.length > 0) {
    throw new NativeAddonError('incompatible', `${file} lacks ${missing.join(', ')}`, tried);
  }
  return value as NativeAddon;
}

/**
 * Loads offhook_native.node (Node caches it per file: loading twice gives the same exports).
 * Throws NativeAddonError when it is missing, cannot be loaded (wrong architecture, missing
 * library) or was built from other sources.
 */
export function loadNativeAddon(options: LoadNativeAddonOptions = {}): NativeAddon {
  const candidates = options.path !== undefined ? [options.path] : nativeAddonCandidates(options.from);
  const index = candidates.findIndex((candidate) => existsSync(candidate));
  const file = candidates[index];
  if (file === undefined) {
    throw new NativeAddonError('missing', `no ${NATIVE_ADDON_FILE} found`, candidates);
  }
  // The first file found is the one meant; a broken one is reported, not skipped for an older one.
  const tried = candidates.slice(0, index + 1);
  let exports: unknown;
  try {
    exports = createRequire(import.meta.url)(file);
  } catch (err) {
    throw new NativeAddonError('unloadable', `${file} could not be loaded (${firstLine(err)})`, tried, { cause: err });
  }
  return checkExports(exports, file, tried);
}
