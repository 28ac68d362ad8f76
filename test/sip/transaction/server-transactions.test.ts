// Server transactions on the loopback network with a virtual clock: Timers G, H, I, J, L, the 100 Trying, retransmitted requests, 2xx until ACK.
import { describe, expect, it } from 'vitest';
import type { SipRequest } from '../../../firmware/sip/message/message.js';
import { InviteServerState, InviteServerTransaction } from '../../../firmware/sip/transaction/invite-server-transaction.js';
import { NonInviteServerState } from '../../../firmware/sip/transaction/non-invite-server-transaction.js';
import type { AnyServerTransaction } from '../../../firmware/sip/transaction/transaction-layer.js';
import { InvalidTransitionError } from '../../../firmware/sip/transaction/state-machine.js';
import type { TransportProtocol } from '../../../firmware/sip/transport/transport.js';
import { flush } from '../support/flush.js';
import { type FixtureOptions, layerAndPeer } from '../support/layer-fixture.js';
import { makeRequest } from '../support/sip-builders.js';
import { asIst, asNist } from '../support/narrow.js';

/** A raw peer (bob) sends requests to a transaction layer (alice), which hands server transactions to the test. */
function serverSide(options: FixtureOptions = {}) {
  const f = layerAndPeer(options);
  const txs: AnyServerTransaction[] = [];
  const acks: SipRequest[] = [];
  f.alice.layer.on('request', (tx) => txs.push(tx));
  f.alice.layer.on('ack', (ack) => acks.push(ack));
  const toAlice = (protocol: TransportProtocol = 'udp') => ({ protocol, address: '10.0.0.1', port: 5060 });
  const invite = (protocol: TransportProtocol = 'udp', branch = 'z9hG4bK-inv1') =>
    makeRequest({ method: 'INVITE', uri: 'sip:alice@10.0.0.1', via: { transport: protocol.toUpperCase(), host: '10.0.0.2', port: 5060, branch }, contact: 'sip:bob@10.0.0.2' });
  /** The ACK for a non-2xx (same branch, RFC 3261 §17.1.1.3). */
  const ackFor = (inv: SipRequest, toTag: string, branch = inv.topVia.branch) =>
    makeRequest({ method: 'ACK', uri: 'sip:alice@10.0.0.1', via: { transport: inv.topVia.transport, host: '10.0.0.2', port: 5060, branch }, toTag, cseq: inv.cseq.seq });
  return { ...f, txs, acks, toAlice, invite, ackFor };
}

describe('INVITE server transaction: 300-699, Timers G, H, I (RFC 3261 §17.2.1)', () => {
  it.each([
    ['udp', [0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500]],
    ['tcp', [0]],
  ] as const)('%s: the 486 is sent at %j (G doubling up to T2) and Timer H fires at 64*T1', async (protocol, sends) => {
    const s = serverSide();
    const inv = s.invite(protocol);
    await s.bob.send(inv, s.toAlice(protocol));
    await flush();
    const ist = asIst(s.txs[0]);
    ist.reply(486);
    const seen: string[] = [];
    ist.on('timeout', () => seen.push(`timeout ${s.clock.now()}`));
    ist.on('terminated', () => seen.push(`terminated ${s.clock.now()}`));
    await s.clock.advance(31_999);
    expect(ist.state).toBe(InviteServerState.Completed);
    await s.clock.advance(1);
    expect(s.bob.times(486)).toEqual(sends);
    expect(seen).toEqual(['timeout 32000', 'terminated 32000']);
    expect(ist.state).toBe(InviteServerState.Terminated);
    expect(s.alice.layer.size.servers).toBe(0);
  });

  it.each([
    ['udp', 5000],
    ['tcp', 0],
  ] as const)('%s: the ACK confirms it, stops G and H; Timer I = %i ms absorbs ACK retransmissions', async (protocol, timerI) => {
    const s = serverSide();
    const inv = s.invite(protocol);
    await s.bob.send(inv, s.toAlice(protocol));
    await flush();
    const ist = asIst(s.txs[0]);
    const response = ist.reply(486);
    await s.clock.advance(700);
    await s.bob.send(s.ackFor(inv, response.to.tag!), s.toAlice(protocol));
    await flush();
    if (timerI > 0) {
      expect(ist.state).toBe(InviteServerState.Confirmed);
      // An ACK retransmission and an INVITE retransmission are absorbed.
      await s.bob.send(s.ackFor(inv, response.to.tag!), s.toAlice(protocol));
      await s.bob.send(inv, s.toAlice(protocol));
      await flush();
      await s.clock.advance(timerI - 1);
      expect(ist.state).toBe(InviteServerState.Confirmed);
      await s.clock.advance(1);
    }
    expect(ist.state).toBe(InviteServerState.Terminated);
    expect(s.bob.times(486)).toEqual(protocol === 'udp' ? [0, 500] : [0]);
    // The ACK of a 300-699 is the transaction's: the TU never sees it.
    expect(s.acks).toHaveLength(0);
  });

  it('answers a retransmitted INVITE with the last provisional, then with the final response', async () => {
    const s = serverSide({ tryingDelayMs: 200 });
    const inv = s.invite();
    await s.bob.send(inv, s.toAlice());
    await flush();
    expect(s.txs).toHaveLength(1);
    const ist = asIst(s.txs[0]);
    ist.reply(180);
    await s.bob.send(inv, s.toAlice());
    await flush();
    expect(s.bob.responses().map((r) => r.message.status)).toEqual([180, 180]);
    ist.reply(603);
    await s.bob.send(inv, s.toAlice());
    await flush();
    expect(s.bob.responses().map((r) => r.message.status)).toEqual([180, 180, 603, 603]);
    // The TU saw one request.
    expect(s.txs).toHaveLength(1);
    // All responses carry one To tag.
    expect(new Set(s.bob.responses().map((r) => r.message.to.tag)).size).toBe(1);
  });

  it('sends 100 Trying when the TU has not answered in 200 ms, and none when it has', async () => {
    const s = serverSide();
    await s.bob.send(s.invite('udp', 'z9hG4bK-a'), s.toAlice());
    await s.clock.advance(199);
    expect(s.bob.responses()).toHaveLength(0);
    await s.clock.advance(1);
    const trying = s.bob.responses(100);
    expect(trying.map((r) => r.atMs)).toEqual([200]);
    // RFC 3261 §17.2.1: no To tag in the 100.
    expect(trying[0]!.message.to.tag).toBeUndefined();

    s.bob.clear();
    await s.bob.send(makeRequest({ method: 'INVITE', uri: 'sip:alice@10.0.0.1', callId: 'call-2', via: { host: '10.0.0.2', port: 5060, branch: 'z9hG4bK-b' } }), s.toAlice());
    await s.clock.advance(100);
    s.txs[1]!.reply(180);
    await s.clock.advance(1000);
    expect(s.bob.responses().map((r) => r.message.status)).toEqual([180]);
  });

  it('answers an INVITE retransmitted before the TU spoke with a 100 Trying', async () => {
    const s = serverSide();
    const inv = s.invite();
    await s.bob.send(inv, s.toAlice());
    await s.clock.advance(50);
    await s.bob.send(inv, s.toAlice());
    await flush();
    expect(s.bob.times(100)).toEqual([50]);
    // The 200 ms timer does not send a second one.
    await s.clock.advance(500);
    expect(s.bob.times(100)).toEqual([50]);
  });

  it('throws on an edge the diagram does not draw (a 1xx after the final response)', async () => {
    const s = serverSide();
    await s.bob.send(s.invite(), s.toAlice());
    await flush();
    const ist = s.txs[0]!;
    ist.reply(486);
    expect(() => ist.reply(180)).toThrow(InvalidTransitionError);
    expect(() => ist.reply(180)).toThrow(/INVITE server transaction.*Completed to Proceeding/);
  });

  it('reports a failed response send and terminates (RFC 3261 §17.2.4)', async () => {
    const s = serverSide();
    await s.bob.send(s.invite(), s.toAlice());
    await flush();
    const ist = s.txs[0]!;
    const errors: string[] = [];
    ist.on('transport-error', (e) => errors.push(e.name));
    s.alice.transport.impair({ fail: true });
    ist.reply(180);
    await flush();
    expect(errors).toEqual(['LoopbackSendError']);
    expect(ist.state).toBe(InviteServerState.Terminated);
  });
});

describe('INVITE server transaction: 2xx, Accepted and Timer L (RFC 6026 §7.1); 2xx until ACK (RFC 3261 §13.3.1.4)', () => {
  it('retransmits the 2xx at T1, 2*T1, ... up to T2 until the ACK, which goes to the TU', async () => {
    const s = serverSide();
    await s.bob.send(s.invite(), s.toAlice());
    await flush();
    const ist = asIst(s.txs[0]);
    const ok = ist.reply(200, { headers: [['Contact', '<sip:alice@10.0.0.1>']] });
    expect(ist.state).toBe(InviteServerState.Accepted);
    const events: string[] = [];
    ist.on('ack', () => events.push(`ack ${s.clock.now()}`));
    ist.on('no-ack', () => events.push('no-ack'));
    await s.clock.advance(2000);
    expect(s.bob.times(200)).toEqual([0, 500, 1500]);
    // The ACK for a 2xx is a new transaction: new branch, the dialog's tags, the INVITE's CSeq number.
    await s.bob.send(s.ackFor(s.invite(), ok.to.tag!, 'z9hG4bK-ack-of-2xx'), s.toAlice());
    await flush();
    expect(events).toEqual(['ack 2000']);
    expect(s.acks).toHaveLength(1);
    await s.clock.advance(40_000);
    expect(s.bob.times(200)).toEqual([0, 500, 1500]);
    expect(events).toEqual(['ack 2000']);
    expect(ist.state).toBe(InviteServerState.Terminated);
    expect(s.alice.layer.size).toEqual({ clients: 0, servers: 0, retransmitting2xx: 0 });
  });

  it('gives up after 64*T1 without an ACK and reports it so that the UA can send BYE', async () => {
    const s = serverSide();
    const noAck: number[] = [];
    s.alice.layer.on('no-ack', () => noAck.push(s.clock.now()));
    await s.bob.send(s.invite(), s.toAlice());
    await flush();
    const ist = asIst(s.txs[0]);
    let txNoAck = 0;
    ist.on('no-ack', () => txNoAck++);
    ist.reply(200);
    await s.clock.advance(31_999);
    expect(noAck).toEqual([]);
    await s.clock.advance(1);
    expect(s.bob.times(200)).toEqual([0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500]);
    expect(noAck).toEqual([32_000]);
    expect(txNoAck).toBe(1);
    await s.clock.advance(40_000);
    expect(s.bob.times(200)).toHaveLength(11);
    expect(s.clock.pending).toBe(0);
  });

  it('Timer L: Accepted absorbs INVITE retransmissions for 64*T1, then terminates', async () => {
    const s = serverSide({ retransmit2xxOnReliable: false });
    const inv = s.invite('tcp');
    await s.bob.send(inv, s.toAlice('tcp'));
    await flush();
    const ist = asIst(s.txs[0]);
    ist.reply(200);
    await s.clock.advance(1000);
    await s.bob.send(inv, s.toAlice('tcp'));
    await flush();
    // Over TCP with retransmit2xxOnReliable off: the one 2xx, the retransmitted INVITE absorbed.
    expect(s.bob.times(200)).toEqual([0]);
    expect(s.txs).toHaveLength(1);
    await s.clock.advance(30_999);
    expect(ist.state).toBe(InviteServerState.Accepted);
    await s.clock.advance(1);
    expect(ist.state).toBe(InviteServerState.Terminated);
  });

  it('passes an ACK that matches it while Accepted to the TU instead of absorbing it (RFC 6026 §7.1)', async () => {
    const s = serverSide();
    const inv = s.invite();
    await s.bob.send(inv, s.toAlice());
    await flush();
    const ist = asIst(s.txs[0]);
    const ok = ist.reply(200);
    // Same branch as the INVITE, as an old UAC might send it.
    await s.bob.send(s.ackFor(inv, ok.to.tag!), s.toAlice());
    await flush();
    expect(s.acks).toHaveLength(1);
    expect(ist.state).toBe(InviteServerState.Accepted);
    expect(s.alice.layer.size.retransmitting2xx).toBe(0);
  });

  it('retransmits 2xx over TCP too by default (the retransmission is end to end)', async () => {
    const s = serverSide();
    await s.bob.send(s.invite('tcp'), s.toAlice('tcp'));
    await flush();
    s.txs[0]!.reply(200);
    await s.clock.advance(2000);
    expect(s.bob.times(200)).toEqual([0, 500, 1500]);
  });
});

describe('non-INVITE server transaction: Timer J (RFC 3261 §17.2.2)', () => {
  it.each([
    ['udp', 32_000],
    ['tcp', 0],
  ] as const)('%s: the final response answers retransmissions; Timer J = %i ms', async (protocol, timerJ) => {
    const s = serverSide();
    const req = makeRequest({ method: 'OPTIONS', uri: 'sip:alice@10.0.0.1', via: { transport: protocol.toUpperCase(), host: '10.0.0.2', port: 5060, branch: 'z9hG4bK-opt' } });
    await s.bob.send(req, s.toAlice(protocol));
    await flush();
    const nist = asNist(s.txs[0]);
    expect(nist.state).toBe(NonInviteServerState.Trying);
    nist.reply(200);
    await flush();
    if (timerJ > 0) {
      expect(nist.state).toBe(NonInviteServerState.Completed);
      await s.clock.advance(1000);
      await s.bob.send(req, s.toAlice(protocol));
      await flush();
      expect(s.bob.times(200)).toEqual([0, 1000]);
      await s.clock.advance(timerJ - 1001);
      expect(nist.state).toBe(NonInviteServerState.Completed);
      await s.clock.advance(1);
    }
    expect(nist.state).toBe(NonInviteServerState.Terminated);
    expect(s.txs).toHaveLength(1);
  });

  it('absorbs a retransmission in Trying and resends the last provisional in Proceeding', async () => {
    const s = serverSide();
    const req = makeRequest({ method: 'REGISTER', uri: 'sip:10.0.0.1', via: { host: '10.0.0.2', port: 5060, branch: 'z9hG4bK-reg' } });
    await s.bob.send(req, s.toAlice());
    await flush();
    await s.bob.send(req, s.toAlice());
    await flush();
    expect(s.bob.responses()).toHaveLength(0);
    const nist = s.txs[0]!;
    nist.reply(100);
    await s.bob.send(req, s.toAlice());
    await flush();
    expect(s.bob.times(100)).toEqual([0, 0]);
    expect(nist.state).toBe(NonInviteServerState.Proceeding);
    expect(s.txs).toHaveLength(1);
  });

  it('is a NonInviteServerTransaction for every method but INVITE', async () => {
    const s = serverSide();
    await s.bob.send(s.invite(), s.toAlice());
    await s.bob.send(makeRequest({ method: 'BYE', toTag: 'x', via: { host: '10.0.0.2', port: 5060, branch: 'z9hG4bK-bye' } }), s.toAlice());
    await flush();
    expect(s.txs.map((t) => t instanceof InviteServerTransaction)).toEqual([true, false]);
  });
});
