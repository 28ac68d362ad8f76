// Crash safety of JsonStore: a child process writing without pause is SIGKILLed at random moments; the file must always be a whole old or new value.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CRASH_KIND, validatePayload } from './support/store-writer.js';

const KILLS = 50;
/** Big enough that a write takes a while (write + fsync), so that many kills land inside one. */
const PAYLOAD_BYTES = 256 * 1024;
const SEED = Number(process.env.OFFHOOK_CRASH_SEED ?? 20260101);

const dir = mkdtempSync(join(tmpdir(), 'offhook-crash-'));
const bundle = join(dir, 'store-writer.mjs');
const file = join(dir, 'data', 'history.json');
let child: ChildProcess | undefined;

/** mulberry32: a seeded source, so that a failing sequence of kill delays can be replayed (OFFHOOK_CRASH_SEED). */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Loaded {
  status: 'loaded' | 'missing' | 'corrupt';
  movedTo?: string;
  problem?: string;
  seq: number;
}

interface Run {
  loaded: Loaded | undefined;
  committed: number[];
}

/**
 * Starts the writer, lets it commit `commitsBeforeKill` values (its load is done by then and writes
 * are going on), waits `delayMs` more and SIGKILLs it by its pid.
 */
function runAndKill(delayMs: number, commitsBeforeKill = 1): Promise<Run> {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, [bundle, file, String(PAYLOAD_BYTES)], { stdio: ['ignore', 'pipe', 'pipe'] });
    child = c;
    const run: Run = { loaded: undefined, committed: [] };
    let buffered = '';
    let stderr = '';
    let armed = false;
    const guard = setTimeout(() => c.kill('SIGKILL'), 10_000);
    c.stdout.on('data', (d: Buffer) => {
      buffered += d.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        if (line.startsWith('loaded ')) run.loaded = JSON.parse(line.slice(7)) as Loaded;
        else if (line.startsWith('committed ')) run.committed.push(Number(line.slice(10)));
      }
      if (!armed && run.committed.length >= commitsBeforeKill) {
        armed = true;
        setTimeout(() => c.kill('SIGKILL'), delayMs);
      }
    });
    c.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    c.on('error', reject);
    c.on('close', (_code, signal) => {
      clearTimeout(guard);
      child = undefined;
      if (signal !== 'SIGKILL' || !armed) reject(new Error(`writer ended by ${signal ?? 'exit'} before it was killed: ${stderr}`));
      else resolve(run);
    });
  });
}

/** The file as the parent reads it: a complete envelope whose payload passes its digest, or a thrown error. */
function readSeq(): number {
  const env = JSON.parse(readFileSync(file, 'utf8')) as { kind: string; version: number; data: unknown };
  expect(env.kind).toBe(CRASH_KIND);
  return validatePayload(env.data).seq;
}

const tempFiles = (): string[] => readdirSync(join(dir, 'data')).filter((n) => n.includes('.tmp-'));

beforeAll(async () => {
  // The child runs the real JsonStore and writeFileAtomic, bundled the way scripts/build.mjs bundles the firmware.
  await build({
    entryPoints: [join(import.meta.dirname, 'support', 'store-writer.ts')],
    outfile: bundle,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    logLevel: 'warning',
    banner: { js: "import { createRequire as __offhookCreateRequire } from 'node:module'; const require = __offhookCreateRequire(import.meta.url);" },
  });
  mkdirSync(join(dir, 'data'));
});

afterEach(() => {
  child?.kill('SIGKILL');
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('JsonStore under SIGKILL', () => {
  it(`holds the old or the new value, complete, after each of ${KILLS} kills`, async () => {
    const random = seeded(SEED);
    let lastCommitted = 0;
    let killsInsideAWrite = 0;
    for (let i = 0; i < KILLS; i++) {
      const delayMs = Math.floor(random() * 40);
      const run = await runAndKill(delayMs);
      const context = `kill ${i + 1} (seed ${SEED}, ${delayMs} ms after the first commit)`;
      // The writer found the last file whole (no temp file or partial write makes it "corrupt").
      expect(run.loaded?.status, context).toBe(i === 0 ? 'missing' : 'loaded');
      expect(run.loaded?.seq, context).toBe(lastCommitted);
      if (tempFiles().length > 0) killsInsideAWrite++;
      const committed = run.committed.at(-1) ?? lastCommitted;
      let seq = -1;
      expect(() => (seq = readSeq()), context).not.toThrow();
      // The last write reported on disk, or the one after it (killed after rename, before it could print).
      expect([committed, committed + 1], context).toContain(seq);
      lastCommitted = seq;
    }
    // The kills did land inside writes (a temp file was left behind), where a naive writer would leave a partial file.
    expect(killsInsideAWrite).toBeGreaterThan(0);
    console.info(`store crash test: ${KILLS} kills, ${killsInsideAWrite} inside a write, ${lastCommitted} values committed`);
  }, 60_000);

  it('moves a truncated file aside, reports it, and starts from the defaults', async () => {
    const whole = readFileSync(file);
    const truncated = whole.subarray(0, Math.floor(whole.length / 3));
    writeFileSync(file, truncated);
    const run = await runAndKill(0);
    expect(run.loaded).toMatchObject({ status: 'corrupt', seq: 0, problem: expect.stringContaining('truncated') });
    const movedTo = run.loaded?.movedTo ?? '';
    expect(movedTo).toMatch(/history\.json\.corrupt-\d{8}T\d{6}Z$/);
    expect(readFileSync(movedTo)).toEqual(truncated);
    expect(run.committed[0]).toBe(1);
    expect(readSeq()).toBeGreaterThanOrEqual(1);
  }, 20_000);
});
