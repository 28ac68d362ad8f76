// Reliable provisional responses (RFC 3262) in calls: the phone's reliable 180 (RSeq, retransmissions, PRACK → 200, 504 without one), and its PRACKs for a peer's reliable 1xx (retransmissions and out-of-order ones dropped, early media from a reliable 183).
import { describe, expect, it } from 'vitest';
import { SessionState } from '../../../../firmware/sip/ua/index.js';
import { RawPeer } from '../../support/raw-peer.js';
import { makeRequest } from '../../support/sip-builders.js';
import { answer, lastOf, net, phone, settle } from './call-fixture.js';
import { Wire } from './wire.js';

const PHONE = { protocol: 'udp' as const, address: '10.0.0.2', port: 5060 };

describe('100rel between two phones', () => {
  it("with reliableProvisionals 'supported' the callee's 180 is reliable: RSeq, PRACK, 200; then the call is answered", async () => {
    const n = net();
    const alice = await phone(n, '10.0.0.1', 'alice');
    const bob = await phone(n, '10.0.0.2', 'bob', { calls: { reliableProvisionals: 'supported' } });
    const wa = new Wire(alice, n);
    const call = alice.ua.call('sip:bob@10.0.0.2');
    await settle(n);
    const ringing = wa.responses('in', 'INVITE', 180);
    expect(ringing).toHaveLength(1);
    expect(ringing[0]!.message.require).toEqual(['100rel']);
    const rseq = ringing[0]!.message.rseq!;
    const prack = wa.requests('out', 'PRACK');
    expect(prack).toHaveLength(1);
    expect(prack[0]!.message.get('RAck')).toBe(`${rseq} ${ringing[0]!.message.cseq.seq} INVITE`);
    expect(wa.responses('in', 'PRACK', 200)).toHaveLength(1);
    // No retransmission of the 180 after its PRACK.
    await n.clock.advance(10_000);
    await settle(n);
    expect(wa.responses('in', 'INVITE', 180)).toHaveLength(1);
    await bob.incoming[0]!.accept();
    await settle(n);
    expect(call.state).toBe(SessionState.Confirmed);
  });

  it('by default a 180 to an INVITE that only supports 100rel is unreliable', async () => {
    const n = net();
    const alice = await phone(n, '10.0.0.1', 'alice');
    await phone(n, '10.0.0.2', 'bob');
    const wa = new Wire(alice, n);
    alice.ua.call('sip:bob@10.0.0.2');
    await settle(n);
    expect(wa.responses('in', 'INVITE', 180)[0]!.message.has('RSeq')).toBe(false);
    expect(wa.requests('out', 'PRACK')).toEqual([]);
  });
});

describe('100rel required by a scripted caller', () => {
  async function called() {
    const n = net();
    const bob = await phone(n, '10.0.0.2', 'bob');
    const peer = new RawPeer(n.network, '10.0.0.9');
    await peer.send(
      makeRequest({
        method: 'INVITE',
        uri: 'sip:bob@10.0.0.2',
        fromUri: 'sip:carol@example.com',
        fromTag: 'c1',
        callId: 'rel-1',
        cseq: 5,
        contact: 'sip:carol@10.0.0.9',
        via: { host: '10.0.0.9', branch: 'z9hG4bKrel1', rport: true },
        headers: [['Require', '100rel']],
        body: 'v=0 o',
        contentType: 'application/sdp',
      }),
      PHONE,
    );
    await settle(n);
    return { n, bob, peer };
  }

  function prackFor(peer: RawPeer, toTag: string, rack: string, branch: string) {
    return makeRequest({
      method: 'PRACK',
      uri: 'sip:bob@10.0.0.2:5060',
      fromUri: 'sip:carol@example.com',
      fromTag: 'c1',
      toTag,
      callId: 'rel-1',
      cseq: 6,
      via: { host: peer.address, branch, rport: true },
      headers: [['RAck', rack]],
    });
  }

  it('the 180 is retransmitted at T1, 2T1... until the PRACK, which gets 200; a wrong RAck gets 481', async () => {
    const { n, bob, peer } = await called();
    const session = bob.incoming[0]!;
    expect(peer.responses(180)).toHaveLength(1);
    const ringing = peer.responses(180)[0]!.message;
    expect(ringing.require).toEqual(['100rel']);
    const rseq = ringing.rseq!;
    await n.clock.advance(500);
    await settle(n);
    await n.clock.advance(1000);
    await settle(n);
    expect(peer.responses(180)).toHaveLength(3);
    await peer.send(prackFor(peer, session.localTag, `${rseq + 7} 5 INVITE`, 'z9hG4bKpr0'), PHONE);
    await settle(n);
    expect(peer.responses(481).map((r) => r.message.cseq.method)).toEqual(['PRACK']);
    await peer.send(prackFor(peer, session.localTag, `${rseq} 5 INVITE`, 'z9hG4bKpr1'), PHONE);
    await settle(n);
    expect(peer.responses(200).map((r) => r.message.cseq.method)).toEqual(['PRACK']);
    await n.clock.advance(10_000);
    await settle(n);
    expect(peer.responses(180)).toHaveLength(3);
    await session.accept();
    await settle(n);
    expect(peer.responses(200).map((r) => r.message.cseq.method)).toEqual(['PRACK', 'INVITE']);
  });

  it('no PRACK in 64*T1: 504 to the INVITE, the call ends as timeout', async () => {
    const { n, bob, peer } = await called();
    const session = bob.incoming[0]!;
    await n.clock.advance(31_999);
    await settle(n);
    expect(peer.responses(504)).toEqual([]);
    await n.clock.advance(1);
    await settle(n);
    expect(peer.responses(504)).toHaveLength(1);
    expect(await session.ended).toMatchObject({ kind: 'timeout', status: 504 });
  });
});

describe('PRACK for a scripted callee', () => {
  it('PRACKs each reliable 1xx once, in its fork; drops retransmissions and out-of-order ones; a reliable 183 gives early media', async () => {
    const n = net();
    const alice = await phone(n, '10.0.0.1', 'alice');
    const peer = new RawPeer(n.network, '10.0.0.9');
    const call = alice.ua.call('sip:bob@10.0.0.9');
    await settle(n);
    const invite = lastOf(peer, 'INVITE');
    expect(invite.message.supported).toContain('100rel');
    const reliable = (status: number, rseq: number, body?: string) =>
      answer(peer, invite, status, { toTag: 'b1', contact: 'sip:bob@10.0.0.9', body, headers: [['Require', '100rel'], ['RSeq', String(rseq)]] });
    await reliable(183, 40, 'v=0 early answer');
    await settle(n);
    expect(peer.requests('PRACK').map((p) => p.message.get('RAck'))).toEqual([`40 ${invite.message.cseq.seq} INVITE`]);
    expect(call.state).toBe(SessionState.Early);
    expect(alice.fake.last.log).toContain('receiveAnswer v=0 early answer early=true fork=b1');
    await answer(peer, lastOf(peer, 'PRACK'), 200);
    // The same 183 again (a retransmission) and a 180 that skips RSeq 41: no PRACK, not processed.
    await reliable(183, 40, 'v=0 early answer');
    await reliable(180, 42);
    await settle(n);
    expect(peer.requests('PRACK')).toHaveLength(1);
    // RSeq 41 in order: PRACKed.
    await reliable(180, 41);
    await settle(n);
    expect(peer.requests('PRACK').map((p) => p.message.get('RAck'))).toEqual([`40 ${invite.message.cseq.seq} INVITE`, `41 ${invite.message.cseq.seq} INVITE`]);
    const pr = lastOf(peer, 'PRACK').message;
    expect([pr.to.tag, pr.cseq.seq]).toEqual(['b1', invite.message.cseq.seq + 2]);
    // Another fork's reliable 1xx has its own RSeq space.
    await answer(peer, invite, 180, { toTag: 'b2', contact: 'sip:bob2@10.0.0.9', headers: [['Require', '100rel'], ['RSeq', '7']] });
    await settle(n);
    expect(lastOf(peer, 'PRACK').message.to.tag).toBe('b2');
    expect(alice.fake.last.log.filter((l) => l.startsWith('receiveAnswer'))).toHaveLength(1);
  });
});
