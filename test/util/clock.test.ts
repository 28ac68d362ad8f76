import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../firmware/util/clock.js';

describe('VirtualClock', () => {
  it('fires timers in due order, same-instant timers in the order they were set', async () => {
    const clock = new VirtualClock();
    const fired: string[] = [];
    clock.setTimeout(() => fired.push('b@20'), 20);
    clock.setTimeout(() => fired.push('a@10'), 10);
    clock.setTimeout(() => fired.push('c@20'), 20);
    await clock.advance(15);
    expect(fired).toEqual(['a@10']);
    await clock.advance(5);
    expect(fired).toEqual(['a@10', 'b@20', 'c@20']);
    expect(clock.now()).toBe(20);
  });

  it('runs async continuations woken by a timer before the next timer fires', async () => {
    const clock = new VirtualClock();
    const order: string[] = [];
    const task = (async () => {
      await clock.sleep(10);
      order.push('slept 10');
      await clock.sleep(10);
      order.push('slept 20');
    })();
    clock.setTimeout(() => order.push('timer 15'), 15);
    await clock.advance(25);
    await task;
    expect(order).toEqual(['slept 10', 'timer 15', 'slept 20']);
  });

  it('cancelled timers never fire', async () => {
    const clock = new VirtualClock();
    let fired = false;
    const h = clock.setTimeout(() => (fired = true), 5);
    clock.clearTimeout(h);
    await clock.advance(10);
    expect(fired).toBe(false);
    expect(clock.pending).toBe(0);
  });
});
