// Test helper: runs a promise to completion on a VirtualClock, stepping virtual time while it waits.
import type { VirtualClock } from '../../../firmware/util/clock.js';

/**
 * Emulated buses take clock time per byte and drivers sleep between writes, so a call on a virtual
 * clock only settles while time moves. Steps the clock in small increments (timers still fire at
 * their exact due time) until the promise settles, then returns its outcome.
 */
export async function settle<T>(clock: VirtualClock, promise: Promise<T>, options: { stepMs?: number; maxMs?: number } = {}): Promise<T> {
  const stepMs = options.stepMs ?? 0.5;
  const maxMs = options.maxMs ?? 120_000;
  let done = false;
  promise.then(
    () => (done = true),
    () => (done = true),
  );
  // A promise that needs no time settles without the clock moving.
  await clock.advance(0);
  for (let spentMs = 0; !done; spentMs += stepMs) {
    if (spentMs > maxMs) throw new Error(`the promise did not settle within ${maxMs} ms of virtual time`);
    await clock.advance(stepMs);
  }
  return promise;
}
