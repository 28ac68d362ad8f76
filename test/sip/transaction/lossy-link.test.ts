// Transactions across a lossy, jittery, duplicating link (seeded): retransmissions still complete them.
import { describe, expect, it } from 'vitest';
import type { SipResponse } from '../../../firmware/sip/message/message.js';
import type { InviteServerTransaction } from '../../../firmware/sip/transaction/invite-server-transaction.js';
import { TransactionRequestSender } from '../../../firmware/sip/transaction/request-sender.js';
import { twoLayers } from '../support/layer-fixture.js';
import { makeRequest } from '../support/sip-builders.js';
import { TestUserAgent } from '../support/test-user-agent.js';
import { asIst } from '../support/narrow.js';

describe('a link that loses 30 % of datagrams', () => {
  it('completes 40 non-INVITE transactions through retransmission', async () => {
    const { alice, bob, clock, network } = twoLayers({ seed: 3 });
    network.impair({ dropProbability: 0.3, delayMs: 20, jitterMs: 30, duplicateProbability: 0.05 });
    let served = 0;
    bob.layer.on('request', (tx) => {
      served++;
      tx.reply(200);
    });
    const sender = new TransactionRequestSender({ layer: alice.layer, resolveTarget: () => bob.target() });
    const outcomes = Array.from({ length: 40 }, (_, i) => sender.send(makeRequest({ method: 'OPTIONS', callId: `lossy-${i}` })));
    await clock.advance(40_000);
    const results = await Promise.all(outcomes);
    expect(results.map((o) => (o.kind === 'response' ? o.response.status : o.kind))).toEqual(Array.from({ length: 40 }, () => 200));
    // Each request reached the TU once, whatever the retransmissions and duplicates.
    expect(served).toBe(40);
    expect(network.stats.dropped).toBeGreaterThan(10);
    expect(alice.layer.size.clients).toBe(0);
  });

  it('completes 15 INVITEs: 2xx retransmitted until the ACK gets through, no "no ACK"', async () => {
    const { alice, bob, clock, network } = twoLayers({ seed: 11 });
    network.impair({ dropProbability: 0.3, delayMs: 10, jitterMs: 40 });
    const caller = new TestUserAgent(alice, 'alice');
    const callee = new TestUserAgent(bob, 'bob');
    callee.answer = [180, 200];
    let noAck = 0;
    bob.layer.on('no-ack', () => noAck++);
    const acked: InviteServerTransaction[] = [];
    bob.layer.on('request', (tx) => tx.on('ack', () => acked.push(asIst(tx))));
    const calls = Array.from({ length: 15 }, () => caller.call(callee));
    await clock.advance(70_000);
    const finals: SipResponse[] = await Promise.all(calls.map((c) => c.final));
    expect(finals.map((r) => r.status)).toEqual(Array.from({ length: 15 }, () => 200));
    expect(noAck).toBe(0);
    expect(acked).toHaveLength(15);
    expect(callee.incoming.filter((r) => r.method === 'INVITE')).toHaveLength(15);
    expect(network.stats.dropped).toBeGreaterThan(5);
    expect(bob.layer.size).toEqual({ clients: 0, servers: 0, retransmitting2xx: 0 });
  });
});
