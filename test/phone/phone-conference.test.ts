// A 3-way conference through real user agents on the loopback network: the phone joins its two calls in the engine's mix-minus mixer and splits them again.
import { describe, expect, it } from 'vitest';
import { PhoneState } from '../../firmware/phone/phone-state.js';
import { net } from '../sip/ua/call/call-fixture.js';
import { desk, run } from './support/desk.js';

describe('3-way conference', () => {
  it('Alice talks to Bob, takes Carol on call waiting, joins both (Conf), splits them (Conf again), then Bob hangs up', async () => {
    const n = net();
    const alice = await desk(n, '1001', 'Alice', { callWaiting: true });
    const bob = await desk(n, '1002', 'Bob');
    const carol = await desk(n, '1003', 'Carol');
    await alice.board.lift();
    await alice.board.keys('1002#');
    await run(n, alice.board);
    await bob.board.lift();
    await run(n, alice.board);
    expect(alice.board.phone.currentState).toBe(PhoneState.Connected);

    // Carol calls Alice during the call: call waiting; Answer (A) puts Bob on hold.
    await carol.board.lift();
    await carol.board.keys('1001#');
    await run(n, alice.board, 500);
    await alice.board.keys('A');
    await run(n, alice.board, 500);
    expect(alice.media.conference).toEqual([]);

    // Page 3, Conf: both calls resumed and mixed in the engine.
    await alice.board.keys('DDB');
    await run(n, alice.board, 500);
    expect(alice.media.conference).toHaveLength(2);
    expect(alice.board.lcd()[0]).toMatch(/^Conference/);
    const directions = alice.media.streams.filter((s) => s.state !== 'closed').map((s) => s.options.direction ?? 'sendrecv');
    expect(directions).toEqual(['sendrecv', 'sendrecv']);

    // Conf again: the mix is split and the other call goes on hold.
    await alice.board.keys('B');
    await run(n, alice.board, 500);
    expect(alice.media.conference).toEqual([]);
    expect(alice.board.lcd()[0]).not.toMatch(/^Conference/);

    // Join again, then Bob hangs up: the conference ends, Alice stays with Carol.
    await alice.board.keys('B');
    await run(n, alice.board, 500);
    expect(alice.media.conference).toHaveLength(2);
    await bob.board.hangUp();
    await run(n, alice.board, 500);
    expect(alice.media.conference).toEqual([]);
    expect(alice.board.phone.currentState).toBe(PhoneState.Connected);
    expect(carol.board.phone.currentState).toBe(PhoneState.Connected);
  });
});
