// A typed JSON file that survives crashes: validated on load (a broken file is moved aside, never fatal), written atomically, coalesced and serialized.
import { readFile, rename, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { removeStaleTempFiles, syncDirectory, writeFileAtomic } from '../util/atomic-file.js';
import type { Clock, TimerHandle } from '../util/clock.js';
import { Emitter, type Unsubscribe } from '../util/emitter.js';
import type { Logger } from '../util/log.js';

/** Thrown by a validator: what is wrong with the data, and where (e.g. "missed[3].number"). */
export class StoreFormatError extends Error {
  override readonly name = 'StoreFormatError';
}

export interface JsonStoreOptions<T> {
  file: string;
  /** Written into the file and checked on load, so that a file of another kind is never taken for this one. */
  kind: string;
  /** Format version written and accepted (default 1); any other version is moved aside like a broken file. */
  version?: number;
  /** Returns the typed value or throws (StoreFormatError) naming what is wrong. */
  validate: (data: unknown) => T;
  /** The value when the file is absent or broken. */
  defaults: () => T;
  clock: Clock;
  log: Logger;
  /** Changes within this window are written together; default 1 s (at most this much is lost on a crash). */
  debounceMs?: number;
  /** After a failed write, the next attempt; default 10 s. */
  retryMs?: number;
  /** Replaces the file with the text; default writeFileAtomic (tests wrap it to count, slow down or fail writes). */
  writer?: (file: string, text: string) => Promise<void>;
}

export type StoreLoadResult =
  | { status: 'loaded' }
  /** No file yet: the defaults apply. */
  | { status: 'missing' }
  /** The file could not be used; it was renamed to `movedTo` (undefined if even that failed) and the defaults apply. */
  | { status: 'corrupt'; problem: string; movedTo: string | undefined };

export interface CorruptFileReport {
  file: string;
  problem: string;
  movedTo: string | undefined;
}

export type JsonStoreEvents = {
  /** A broken file was found by load() and moved aside. */
  corrupt: [CorruptFileReport];
  /** A write failed; it is retried (the value stays in memory). */
  error: [Error];
};

/** What the file holds around the data. */
interface Envelope {
  kind: string;
  version: number;
  data: unknown;
}

function errnoCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string' ? err.code : undefined;
}

/** 2026-01-01T09:00:00.123Z → 20260101T090000Z: sortable, no characters a shell or a FAT file system dislikes. */
function compactTimestamp(wallMs: number): string {
  return new Date(wallMs).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * One JSON file holding a value of type T. Lifecycle: load() once at start, then set()/update() as
 * things change, flush() or close() at shutdown.
 *
 * - Writes go through writeFileAtomic (util/atomic-file.ts): after a crash the file is the old or the
 *   new value, complete.
 * - Writes are coalesced: the first change arms a timer of `debounceMs` on the clock; everything
 *   changed until it fires is written once, as the latest value.
 * - Writes are serialized: a write starts only after the previous one finished, so two writes of
 *   the file never race.
 * - A file that cannot be read, parsed or validated is renamed to `<file>.corrupt-<UTC timestamp>`,
 *   reported (load()'s result, a 'corrupt' event and a warning in the log) and the store starts from
 *   the defaults; the phone keeps working.
 * Values are treated as immutable: set() a new object rather than changing the one held.
 */
export class JsonStore<T> {
  private readonly events = new Emitter<JsonStoreEvents>();
  private readonly log: Logger;
  private current: T;
  private dirty = false;
  private closed = false;
  private timer: TimerHandle | undefined;
  /** The tail of the write queue; never rejects. */
  private queue: Promise<void> = Promise.resolve();
  private readonly version: number;

  constructor(private readonly o: JsonStoreOptions<T>) {
    this.log = o.log.child({ mod: 'phone/store', file: o.file });
    this.current = o.defaults();
    this.version = o.version ?? 1;
  }

  on<K extends keyof JsonStoreEvents>(event: K, listener: (...args: JsonStoreEvents[K]) => void): Unsubscribe {
    return this.events.on(event, listener);
  }

  get file(): string {
    return this.o.file;
  }

  get value(): T {
    return this.current;
  }

  /** Changes not yet on disk. */
  get pending(): boolean {
    return this.dirty;
  }

  /**
   * Reads the file (call once, before the first set()). Never throws for a bad file: a broken one is
   * moved aside and reported. Temp files left by a writer killed mid-write are removed.
   */
  async load(): Promise<StoreLoadResult> {
    try {
      const stale = await removeStaleTempFiles(this.o.file);
      if (stale.length > 0) this.log.info({ removed: stale }, 'removed temp files of an interrupted write');
    } catch (err) {
      this.log.warn({ err }, 'cannot clean temp files');
    }
    let text: string;
    try {
      text = await readFile(this.o.file, 'utf8');
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') {
        this.current = this.o.defaults();
        return { status: 'missing' };
      }
      return this.corrupt(`cannot read the file (${errnoCode(err) ?? String(err)})`);
    }
    const problem = this.parse(text);
    if (problem !== undefined) return this.corrupt(problem);
    return { status: 'loaded' };
  }

  /** Replaces the value; it reaches the disk within debounceMs (or at flush()). */
  set(value: T): void {
    this.current = value;
    this.dirty = true;
    if (!this.closed) this.schedule(this.o.debounceMs ?? 1000);
  }

  update(change: (current: T) => T): void {
    this.set(change(this.current));
  }

  /** Writes what is pending now and waits until it is on disk; rejects when that write fails. */
  flush(): Promise<void> {
    this.o.clock.clearTimeout(this.timer);
    this.timer = undefined;
    return this.enqueueWrite();
  }

  /** Flushes and stops the timers (shutdown). Later set() calls stay in memory until flush(). */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
  }

  /** Returns the problem, or undefined after taking the file's value. */
  private parse(text: string): string | undefined {
    if (text.length === 0) return 'the file is empty';
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      return `not JSON, or truncated (${err instanceof Error ? err.message : String(err)})`;
    }
    if (typeof json !== 'object' || json === null || Array.isArray(json)) return 'not a store file (expected a JSON object)';
    const env = json as Partial<Envelope>;
    if (env.kind !== this.o.kind) return `not a ${this.o.kind} file (kind ${JSON.stringify(env.kind)})`;
    if (env.version !== this.version) return `format version ${JSON.stringify(env.version)}, this firmware reads ${this.version}`;
    try {
      this.current = this.o.validate(env.data);
    } catch (err) {
      return `invalid data: ${err instanceof Error ? err.message : String(err)}`;
    }
    return undefined;
  }

  private async corrupt(problem: string): Promise<StoreLoadResult> {
    this.current = this.o.defaults();
    let movedTo: string | undefined = `${this.o.file}.corrupt-${compactTimestamp(this.o.clock.wallNow())}`;
    try {
      for (let n = 1; await exists(movedTo); n++) movedTo = `${this.o.file}.corrupt-${compactTimestamp(this.o.clock.wallNow())}-${n}`;
      await rename(this.o.file, movedTo);
      await syncDirectory(dirname(this.o.file));
    } catch (err) {
      // The next write replaces the file: the evidence is lost, but the phone goes on.
      this.log.error({ err }, 'cannot move the broken file aside');
      movedTo = undefined;
    }
    this.log.warn({ problem, movedTo }, 'broken store file moved aside; starting from defaults');
    this.events.emit('corrupt', { file: this.o.file, problem, movedTo });
    return { status: 'corrupt', problem, movedTo };
  }

  private schedule(delayMs: number): void {
    if (this.timer) return;
    this.timer = this.o.clock.setTimeout(() => {
      this.timer = undefined;
      // Failures are reported inside enqueueWrite and retried from there.
      this.enqueueWrite().catch(() => undefined);
    }, delayMs);
  }

  /** Queues one write of the latest value behind the running one; a write with nothing pending does nothing. */
  private enqueueWrite(): Promise<void> {
    const run = this.queue.then(async () => {
      if (!this.dirty) return;
      this.dirty = false;
      const text = `${JSON.stringify({ kind: this.o.kind, version: this.version, data: this.current } satisfies Envelope)}\n`;
      try {
        await (this.o.writer ?? writeFileAtomic)(this.o.file, text);
      } catch (err) {
        this.dirty = true;
        const error = err instanceof Error ? err : new Error(String(err));
        this.log.error({ err: error }, 'cannot write the store file; will retry');
        this.events.emit('error', error);
        if (!this.closed) this.schedule(this.o.retryMs ?? 10_000);
        throw error;
      }
    });
    this.queue = run.catch(() => undefined);
    return run;
  }
}
