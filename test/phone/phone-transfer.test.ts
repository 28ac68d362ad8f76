// Transfers from the phone's keys through real user agents on the loopback network: blind (Xfer, number, Send) and attended (Xfer, number, Consult, then Xfer again: REFER with Replaces).
import { describe, expect, it } from 'vitest';
import { PhoneState } from '../../firmware/phone/phone-state.js';
import { net } from '../sip/ua/call/call-fixture.js';
import { desk, run } from './support/desk.js';

describe('transfer from the keypad', () => {
  it('attended: Alice talks to Bob, Xfer 1003 Consult calls Carol (Bob on hold), Xfer again hands Bob to Carol', async () => {
    const n = net();
    const alice = await desk(n, '1001', 'Alice');
    const bob = await desk(n, '1002', 'Bob');
    const carol = await desk(n, '1003', 'Carol');
    await alice.board.lift();
    await alice.board.keys('1002#');
    await run(n, alice.board);
    await bob.board.lift();
    await run(n, alice.board);
    expect(alice.board.phone.currentState).toBe(PhoneState.Connected);

    // Xfer (C), the number, Consult (B): Bob is held, Carol rings.
    await alice.board.keys('C');
    expect(alice.board.phone.currentState).toBe(PhoneState.Transfer);
    expect(alice.board.lcd()[3]).toContain('Cnsl');
    await alice.board.keys('1003');
    await alice.board.keys('B');
    await run(n, alice.board, 500);
    expect(carol.board.phone.currentState).toBe(PhoneState.Ringing);
    expect(alice.ua.ua.sessions).toHaveLength(2);
    await carol.board.lift();
    await run(n, alice.board, 500);
    expect(alice.board.phone.currentState).toBe(PhoneState.Connected);

    // Xfer again: REFER with Replaces to Bob; Bob calls Carol in place of Alice's call.
    await alice.board.keys('C');
    await run(n, alice.board, 2000);
    await run(n, bob.board, 500);
    expect(alice.ua.ua.sessions).toHaveLength(0);
    expect(bob.board.phone.currentState).toBe(PhoneState.Connected);
    expect(carol.board.phone.currentState).toBe(PhoneState.Connected);
    const bobsCall = bob.ua.ua.sessions[0];
    const carolsCall = carol.ua.ua.sessions[0];
    expect(bobsCall?.callId).toBe(carolsCall?.callId);
  });

  it('blind: Xfer 1003 Send hands Bob to Carol and Alice is done', async () => {
    const n = net();
    const alice = await desk(n, '1001', 'Alice');
    const bob = await desk(n, '1002', 'Bob');
    const carol = await desk(n, '1003', 'Carol');
    await alice.board.lift();
    await alice.board.keys('1002#');
    await run(n, alice.board);
    await bob.board.lift();
    await run(n, alice.board);
    await alice.board.keys('C');
    await alice.board.keys('1003');
    await alice.board.keys('A');
    await run(n, alice.board, 500);
    expect(carol.board.phone.currentState).toBe(PhoneState.Ringing);
    await carol.board.lift();
    await run(n, alice.board, 1000);
    expect(alice.ua.ua.sessions).toHaveLength(0);
    expect(bob.board.phone.currentState).toBe(PhoneState.Connected);
    expect(carol.board.phone.currentState).toBe(PhoneState.Connected);
  });
});
