// JsonStore on a temp directory and a virtual clock: load, coalesced and serialized writes, retries, broken files moved aside.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { JsonStore, StoreFormatError, type CorruptFileReport, type JsonStoreOptions } from '../../firmware/phone/json-store.js';
import { writeFileAtomic } from '../../firmware/util/atomic-file.js';
import { VirtualClock } from '../../firmware/util/clock.js';

interface Counter {
  count: number;
}

function validateCounter(data: unknown): Counter {
  if (typeof data !== 'object' || data === null || typeof (data as { count?: unknown }).count !== 'number') throw new StoreFormatError('count: expected a number');
  return { count: (data as Counter).count };
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'offhook-store-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function setup(options: Partial<JsonStoreOptions<Counter>> = {}) {
  const clock = new VirtualClock();
  const logLines: { msg: string; level: number; problem?: string; movedTo?: string }[] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => logLines.push(JSON.parse(line) as (typeof logLines)[number]) });
  const file = join(dir, 'counter.json');
  const writes: string[] = [];
  const store = new JsonStore<Counter>({
    file,
    kind: 'test-counter',
    validate: validateCounter,
    defaults: () => ({ count: 0 }),
    clock,
    log,
    writer: async (f, text) => {
      writes.push(text);
      await writeFileAtomic(f, text);
    },
    ...options,
  });
  const corrupt: CorruptFileReport[] = [];
  store.on('corrupt', (r) => corrupt.push(r));
  return { clock, store, file, writes, logLines, corrupt };
}

const onDisk = (file: string): unknown => JSON.parse(readFileSync(file, 'utf8'));

describe('JsonStore', () => {
  it('starts from the defaults without a file, and writes after the debounce', async () => {
    const { store, clock, file, writes } = setup();
    expect(await store.load()).toEqual({ status: 'missing' });
    expect(store.value).toEqual({ count: 0 });
    store.set({ count: 1 });
    expect(store.pending).toBe(true);
    await clock.advance(999);
    expect(writes).toHaveLength(0);
    await clock.advance(1);
    await store.flush();
    expect(writes).toHaveLength(1);
    expect(onDisk(file)).toEqual({ kind: 'test-counter', version: 1, data: { count: 1 } });
    expect(store.pending).toBe(false);
  });

  it('loads what an earlier instance wrote', async () => {
    const first = setup();
    await first.store.load();
    first.store.update((c) => ({ count: c.count + 41 }));
    first.store.update((c) => ({ count: c.count + 1 }));
    await first.store.close();
    const second = setup();
    expect(await second.store.load()).toEqual({ status: 'loaded' });
    expect(second.store.value).toEqual({ count: 42 });
  });

  it('coalesces changes within the debounce window into one write of the latest value', async () => {
    const { store, clock, file, writes } = setup({ debounceMs: 500 });
    await store.load();
    for (let i = 1; i <= 10; i++) {
      store.set({ count: i });
      await clock.advance(40);
    }
    await clock.advance(500);
    await store.flush();
    expect(writes).toHaveLength(1);
    expect(onDisk(file)).toMatchObject({ data: { count: 10 } });
    expect(clock.pending).toBe(0);
  });

  it('never runs two writes at once, and the last value wins', async () => {
    let running = 0;
    let maxRunning = 0;
    const releases: (() => void)[] = [];
    const { store, file, writes } = setup({
      writer: async (f, text) => {
        running++;
        maxRunning = Math.max(maxRunning, running);
        writes.push(text);
        await new Promise<void>((resolve) => releases.push(resolve));
        await writeFileAtomic(f, text);
        running--;
      },
    });
    const until = async (cond: () => boolean): Promise<void> => {
      for (let i = 0; i < 1000 && !cond(); i++) await new Promise((r) => setTimeout(r, 1));
      expect(cond()).toBe(true);
    };
    await store.load();
    store.set({ count: 1 });
    const f1 = store.flush();
    await until(() => releases.length === 1);
    // Changes while the first write runs: queued behind it, and written as one (the latest).
    store.set({ count: 2 });
    const f2 = store.flush();
    store.set({ count: 3 });
    const f3 = store.flush();
    await new Promise((r) => setTimeout(r, 20));
    expect(writes).toHaveLength(1);
    releases.shift()?.();
    await f1;
    await until(() => releases.length === 1);
    releases.shift()?.();
    await Promise.all([f2, f3]);
    expect(maxRunning).toBe(1);
    expect(writes.map((w) => (JSON.parse(w) as { data: Counter }).data.count)).toEqual([1, 3]);
    expect(onDisk(file)).toMatchObject({ data: { count: 3 } });
  });

  it('reports a failed write, keeps the value, and retries', async () => {
    let fail = true;
    const { store, clock, file } = setup({
      retryMs: 5000,
      writer: async (f, text) => {
        if (fail) throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
        await writeFileAtomic(f, text);
      },
    });
    const errors: Error[] = [];
    store.on('error', (e) => errors.push(e));
    await store.load();
    store.set({ count: 7 });
    await expect(store.flush()).rejects.toThrow('no space');
    expect(errors).toHaveLength(1);
    expect(store.pending).toBe(true);
    expect(store.value).toEqual({ count: 7 });
    fail = false;
    await clock.advance(5000);
    await store.flush();
    expect(onDisk(file)).toMatchObject({ data: { count: 7 } });
  });

  it('flush with nothing pending writes nothing; close stops the timer', async () => {
    const { store, clock, writes } = setup();
    await store.load();
    await store.flush();
    expect(writes).toHaveLength(0);
    store.set({ count: 1 });
    await store.close();
    expect(writes).toHaveLength(1);
    expect(clock.pending).toBe(0);
  });

  const broken: [what: string, content: string, problem: RegExp][] = [
    ['a truncated file', '{"kind":"test-counter","version":1,"data":{"cou', /not JSON, or truncated/],
    ['an empty file', '', /empty/],
    ['binary garbage', '\u0000\u0000\u0000\u0000', /not JSON/],
    ['a JSON array', '[1,2]', /expected a JSON object/],
    ['a file of another kind', '{"kind":"other","version":1,"data":{"count":1}}', /not a test-counter file/],
    ['a newer format version', '{"kind":"test-counter","version":2,"data":{"count":1}}', /format version 2/],
    ['data the validator rejects', '{"kind":"test-counter","version":1,"data":{"count":"many"}}', /invalid data: count: expected a number/],
  ];
  it.each(broken)('moves %s aside, reports it and starts from the defaults', async (_what, content, problem) => {
    const { store, file, corrupt, logLines, clock } = setup();
    writeFileSync(file, content);
    const result = await store.load();
    const movedTo = `${file}.corrupt-20260101T090000Z`;
    expect(result).toEqual({ status: 'corrupt', problem: expect.stringMatching(problem), movedTo });
    expect(corrupt).toEqual([{ file, problem: expect.stringMatching(problem), movedTo }]);
    expect(existsSync(file)).toBe(false);
    expect(readFileSync(movedTo, 'utf8')).toBe(content);
    expect(store.value).toEqual({ count: 0 });
    expect(logLines.some((l) => l.level === 40 && l.msg.includes('moved aside') && l.movedTo === movedTo)).toBe(true);
    // The store works on: the next write creates a good file.
    store.set({ count: 5 });
    await clock.advance(1000);
    await store.flush();
    expect(onDisk(file)).toMatchObject({ data: { count: 5 } });
  });

  it('never overwrites an earlier file moved aside at the same second', async () => {
    const { store, file } = setup();
    writeFileSync(file, 'first broken');
    await store.load();
    writeFileSync(file, 'second broken');
    const result = await store.load();
    expect(result).toMatchObject({ status: 'corrupt', movedTo: `${file}.corrupt-20260101T090000Z-1` });
    expect(readFileSync(`${file}.corrupt-20260101T090000Z`, 'utf8')).toBe('first broken');
    expect(readFileSync(`${file}.corrupt-20260101T090000Z-1`, 'utf8')).toBe('second broken');
  });

  it('removes temp files left by an interrupted write', async () => {
    const { store, file } = setup();
    writeFileSync(file, JSON.stringify({ kind: 'test-counter', version: 1, data: { count: 3 } }));
    writeFileSync(join(dir, '.counter.json.tmp-999-deadbeef'), '{"kind":"test-cou');
    expect(await store.load()).toEqual({ status: 'loaded' });
    expect(store.value).toEqual({ count: 3 });
    expect(readdirSync(dir)).toEqual(['counter.json']);
  });
});
