// Child process of the store crash test: loads a JsonStore, then writes ever newer self-checking values until it is killed.
//
// Usage: node store-writer.mjs FILE PAYLOAD_BYTES
// Prints `loaded {status, movedTo, seq}` once, then `committed N` after each write is on disk
// (stdout to a pipe is synchronous on Linux, so a printed line is never lost to the SIGKILL).
import { createHash } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { JsonStore, StoreFormatError } from '../../../firmware/phone/json-store.js';
import { RealClock } from '../../../firmware/util/clock.js';
import { silentLogger } from '../../../firmware/util/log.js';

export interface CrashPayload {
  seq: number;
  /** Different for every seq, so that a file mixing two writes cannot pass the digest. */
  filler: string;
  digest: string;
}

export const CRASH_KIND = 'offhook-crash-test';

export function digestOf(seq: number, filler: string): string {
  return createHash('sha256').update(`${seq}:${filler}`).digest('hex');
}

export function makePayload(seq: number, bytes: number): CrashPayload {
  const unit = `${seq.toString(36)}-`;
  const filler = unit.repeat(Math.ceil(bytes / unit.length)).slice(0, bytes);
  return { seq, filler, digest: digestOf(seq, filler) };
}

export function validatePayload(data: unknown): CrashPayload {
  const p = data as Partial<CrashPayload> | null;
  if (typeof p?.seq !== 'number' || typeof p.filler !== 'string' || typeof p.digest !== 'string') throw new StoreFormatError('not a crash-test payload');
  if (digestOf(p.seq, p.filler) !== p.digest) throw new StoreFormatError(`seq ${p.seq}: digest mismatch`);
  return { seq: p.seq, filler: p.filler, digest: p.digest };
}

async function main(file: string, bytes: number): Promise<void> {
  const store = new JsonStore<CrashPayload>({
    file,
    kind: CRASH_KIND,
    validate: validatePayload,
    defaults: () => makePayload(0, 0),
    clock: new RealClock(),
    log: silentLogger(),
    debounceMs: 0,
  });
  const loaded = await store.load();
  process.stdout.write(`loaded ${JSON.stringify({ ...loaded, seq: store.value.seq })}\n`);
  for (let seq = store.value.seq + 1; ; seq++) {
    store.set(makePayload(seq, bytes));
    await store.flush();
    process.stdout.write(`committed ${seq}\n`);
  }
}

// Runs only as the child's entry point (the bundle), not when the test imports the helpers above.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [file, bytes] = process.argv.slice(2);
  if (file === undefined) throw new Error('usage: store-writer FILE PAYLOAD_BYTES');
  await main(file, Number(bytes ?? 65_536));
}
