// Client transactions on the loopback network with a virtual clock: Timers A, B, D, E, F, K, M, table-driven, UDP and TCP.
import { describe, expect, it } from 'vitest';
import type { SipResponse } from '../../../firmware/sip/message/message.js';
import { InviteClientState } from '../../../firmware/sip/transaction/invite-client-transaction.js';
import { NonInviteClientState } from '../../../firmware/sip/transaction/non-invite-client-transaction.js';
import type { ClientTransactionUser } from '../../../firmware/sip/transaction/client-transaction.js';
import type { TransportProtocol } from '../../../firmware/sip/transport/transport.js';
import { flush } from '../support/flush.js';
import { layerAndPeer } from '../support/layer-fixture.js';
import { makeRequest } from '../support/sip-builders.js';
import { asNict } from '../support/narrow.js';

type Event = [string, number, number?];

/** Records the TU callbacks with the clock time (and status). */
function recorder(clock: { now(): number }): { events: Event[]; user: ClientTransactionUser; finals: SipResponse[] } {
  const events: Event[] = [];
  const finals: SipResponse[] = [];
  return {
    events,
    finals,
    user: {
      onProvisional: (r) => events.push(['provisional', clock.now(), r.status]),
      onFinal: (r) => {
        finals.push(r);
        events.push(['final', clock.now(), r.status]);
      },
      onTimeout: () => events.push(['timeout', clock.now()]),
      onTransportError: () => events.push(['transport-error', clock.now()]),
      onTerminated: () => events.push(['terminated', clock.now()]),
    },
  };
}

function startInvite(protocol: TransportProtocol, timers?: { t1Ms?: number; t2Ms?: number }) {
  const f = layerAndPeer({ timers });
  const rec = recorder(f.clock);
  const invite = makeRequest({ method: 'INVITE', contact: 'sip:alice@10.0.0.1' });
  const tx = f.alice.layer.sendInvite(invite, f.bob.target(protocol), rec.user);
  return { ...f, ...rec, tx, invite };
}

function startNonInvite(protocol: TransportProtocol, method = 'OPTIONS') {
  const f = layerAndPeer();
  const rec = recorder(f.clock);
  const tx = asNict(f.alice.layer.sendRequest(makeRequest({ method }), f.bob.target(protocol), rec.user));
  return { ...f, ...rec, tx };
}

describe('INVITE client transaction: Timers A and B (RFC 3261 §17.1.1.2)', () => {
  it.each([
    // protocol, T1, transmissions (ms), Timer B (ms)
    ['udp', 500, [0, 500, 1500, 3500, 7500, 15500, 31500], 32_000],
    ['tcp', 500, [0], 32_000],
    ['udp', 100, [0, 100, 300, 700, 1500, 3100, 6300], 6400],
  ] as const)('%s, T1 = %i ms: INVITE sent at %j, timeout at %i ms', async (protocol, t1Ms, sends, timerB) => {
    const { clock, bob, events, tx, alice } = startInvite(protocol, { t1Ms });
    await clock.advance(timerB - 1);
    expect(tx.state).toBe(InviteClientState.Calling);
    expect(events).toEqual([]);
    await clock.advance(1);
    expect(bob.times('INVITE')).toEqual(sends);
    expect(events).toEqual([
      ['timeout', timerB],
      ['terminated', timerB],
    ]);
    expect(tx.state).toBe(InviteClientState.Terminated);
    expect(alice.layer.size.clients).toBe(0);
    // Nothing more is sent, and no timer is left behind.
    await clock.advance(100_000);
    expect(bob.times('INVITE')).toEqual(sends);
    expect(clock.pending).toBe(0);
  });

  it('A 1xx stops the retransmissions and Timer B (Proceeding has no timeout of its own)', async () => {
    const { clock, bob, events, tx } = startInvite('udp');
    await clock.advance(600);
    await bob.reply(bob.requests('INVITE')[0]!, { status: 180, toTag: 'b1' });
    await flush();
    expect(tx.state).toBe(InviteClientState.Proceeding);
    await clock.advance(60_000);
    expect(bob.times('INVITE')).toEqual([0, 500]);
    expect(events).toEqual([['provisional', 600, 180]]);
  });
});

describe('INVITE client transaction: non-2xx and Timer D (RFC 3261 §17.1.1.2, §17.1.1.3)', () => {
  it.each([
    ['udp', 32_000],
    ['tcp', 0],
  ] as const)('%s: a 486 is ACKed, retransmissions are ACKed again, Timer D = %i ms', async (protocol, timerD) => {
    const { clock, bob, events, tx, invite } = startInvite(protocol);
    await flush();
    const inv = bob.requests('INVITE')[0]!;
    await bob.reply(inv, { status: 486, toTag: 'busy-tag' });
    await flush();
    expect(events.slice(0, 1)).toEqual([['final', 0, 486]]);
    if (timerD === 0) {
      expect(tx.state).toBe(InviteClientState.Terminated);
      expect(events).toEqual([
        ['final', 0, 486],
        ['terminated', 0],
      ]);
    } else {
      expect(tx.state).toBe(InviteClientState.Completed);
      // The 486 again: a second ACK, and the TU does not see it.
      await clock.advance(1000);
      await bob.reply(inv, { status: 486, toTag: 'busy-tag' });
      await flush();
      expect(bob.times('ACK')).toEqual([0, 1000]);
      expect(events).toEqual([['final', 0, 486]]);
      await clock.advance(timerD - 1001);
      expect(tx.state).toBe(InviteClientState.Completed);
      await clock.advance(1);
      expect(tx.state).toBe(InviteClientState.Terminated);
      expect(events.at(-1)).toEqual(['terminated', timerD]);
    }
    // RFC 3261 §17.1.1.3: the ACK is built by the transaction from the INVITE and the response.
    const ack = bob.requests('ACK')[0]!.message;
    expect(ack.uri.toString()).toBe(invite.uri.toString());
    expect(ack.count('Via')).toBe(1);
    expect(ack.topVia.toString()).toBe(invite.topVia.toString());
    expect(ack.topVia.branch).toBe(inv.message.topVia.branch);
    expect(ack.to.tag).toBe('busy-tag');
    expect(ack.get('From')).toBe(invite.get('From'));
    expect(ack.callId).toBe(invite.callId);
    expect(ack.cseq.toString()).toBe(`${invite.cseq.seq} ACK`);
  });

  it('keeps the Route header fields of the INVITE in the ACK', async () => {
    const f = layerAndPeer();
    const invite = makeRequest({ method: 'INVITE', route: ['sip:proxy1.example.com;lr', 'sip:proxy2.example.com;lr'] });
    f.alice.layer.sendRequest(invite, f.bob.target());
    await flush();
    await f.bob.reply(f.bob.requests('INVITE')[0]!, { status: 404, toTag: 'x' });
    await flush();
    const ack = f.bob.requests('ACK')[0]!.message;
    expect(ack.getAll('Route')).toEqual(invite.getAll('Route'));
  });
});

describe('INVITE client transaction: Accepted and Timer M (RFC 6026 §7.2)', () => {
  it('passes every 2xx to the TU (retransmissions and other forks), sends no ACK itself, ends at 64*T1', async () => {
    const { clock, bob, finals, events, tx, alice } = startInvite('udp');
    const strays: number[] = [];
    alice.layer.on('stray-response', (r) => strays.push(r.status));
    await flush();
    const inv = bob.requests('INVITE')[0]!;
    await bob.reply(inv, { status: 200, toTag: 'fork1' });
    await flush();
    expect(tx.state).toBe(InviteClientState.Accepted);
    await clock.advance(1000);
    await bob.reply(inv, { status: 200, toTag: 'fork1' });
    await bob.reply(inv, { status: 200, toTag: 'fork2' });
    await flush();
    expect(finals.map((r) => r.to.tag)).toEqual(['fork1', 'fork1', 'fork2']);
    // The ACK for a 2xx is the TU's (RFC 3261 §17.1.1.3): the transaction sends none.
    expect(bob.requests('ACK')).toHaveLength(0);
    // No retransmission of the INVITE after the 2xx.
    expect(bob.times('INVITE')).toEqual([0]);
    await clock.advance(30_999);
    expect(tx.state).toBe(InviteClientState.Accepted);
    await clock.advance(1);
    expect(tx.state).toBe(InviteClientState.Terminated);
    expect(events.at(-1)).toEqual(['terminated', 32_000]);
    // After Timer M, a late 2xx matches nothing and goes to the TU as a stray response.
    await bob.reply(inv, { status: 200, toTag: 'fork3' });
    await flush();
    expect(strays).toEqual([200]);
  });
});

describe('non-INVITE client transaction: Timers E, F, K (RFC 3261 §17.1.2.2)', () => {
  it.each([
    ['udp', [0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500]],
    ['tcp', [0]],
  ] as const)('%s: request sent at %j (E doubling up to T2), Timer F at 32 s', async (protocol, sends) => {
    const { clock, bob, events, tx } = startNonInvite(protocol);
    await clock.advance(31_999);
    expect(tx.state).toBe(NonInviteClientState.Trying);
    await clock.advance(1);
    expect(bob.times('OPTIONS')).toEqual(sends);
    expect(events).toEqual([
      ['timeout', 32_000],
      ['terminated', 32_000],
    ]);
    expect(clock.pending).toBe(0);
  });

  it('in Proceeding, Timer E retransmits every T2', async () => {
    const { clock, bob, events, tx } = startNonInvite('udp');
    await flush();
    await bob.reply(bob.requests('OPTIONS')[0]!, { status: 100 });
    await flush();
    expect(tx.state).toBe(NonInviteClientState.Proceeding);
    await clock.advance(32_000);
    expect(bob.times('OPTIONS')).toEqual([0, 500, 4500, 8500, 12500, 16500, 20500, 24500, 28500]);
    expect(events).toEqual([
      ['provisional', 0, 100],
      ['timeout', 32_000],
      ['terminated', 32_000],
    ]);
  });

  it.each([
    ['udp', 5000],
    ['tcp', 0],
  ] as const)('%s: a final response completes it; retransmissions are absorbed; Timer K = %i ms', async (protocol, timerK) => {
    const { clock, bob, events, tx } = startNonInvite(protocol);
    await clock.advance(600);
    const req = bob.requests('OPTIONS')[0]!;
    await bob.reply(req, { status: 200, toTag: 't' });
    await flush();
    expect(events[0]).toEqual(['final', 600, 200]);
    if (timerK > 0) {
      expect(tx.state).toBe(NonInviteClientState.Completed);
      await bob.reply(req, { status: 200, toTag: 't' });
      await flush();
      expect(events).toEqual([['final', 600, 200]]);
      await clock.advance(timerK - 1);
      expect(tx.state).toBe(NonInviteClientState.Completed);
      await clock.advance(1);
    }
    expect(tx.state).toBe(NonInviteClientState.Terminated);
    expect(events.at(-1)).toEqual(['terminated', 600 + timerK]);
    // No retransmission after the final response.
    await clock.advance(40_000);
    expect(bob.times('OPTIONS')).toEqual(protocol === 'udp' ? [0, 500] : [0]);
  });
});

describe('client transactions and transport errors (RFC 3261 §17.1.4)', () => {
  it('an INVITE over TCP to nobody fails at once', async () => {
    const f = layerAndPeer();
    const rec = recorder(f.clock);
    const tx = f.alice.layer.sendRequest(makeRequest({ method: 'INVITE' }), { protocol: 'tcp', address: '10.9.9.9', port: 5060 }, rec.user);
    await flush();
    expect(rec.events).toEqual([
      ['transport-error', 0],
      ['terminated', 0],
    ]);
    expect(tx.state).toBe(InviteClientState.Terminated);
    expect(f.clock.pending).toBe(0);
  });

  it('a retransmission that fails ends a non-INVITE transaction', async () => {
    const { clock, network, events, tx } = startNonInvite('udp');
    await flush();
    network.impair({ fail: true });
    await clock.advance(500);
    expect(events).toEqual([
      ['transport-error', 500],
      ['terminated', 500],
    ]);
    expect(tx.state).toBe(NonInviteClientState.Terminated);
  });

  it('a TU callback that throws does not break the transaction', async () => {
    const f = layerAndPeer();
    const tx = f.alice.layer.sendRequest(makeRequest({ method: 'OPTIONS' }), f.bob.target(), {
      onFinal: () => {
        throw new Error('TU bug');
      },
    });
    await flush();
    await f.bob.reply(f.bob.requests('OPTIONS')[0]!, { status: 200, toTag: 'x' });
    await flush();
    expect(tx.state).toBe(NonInviteClientState.Completed);
  });
});
