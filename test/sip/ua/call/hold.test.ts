// Hold and resume between two UserAgents on the loopback (virtual clock): by re-INVITE and by UPDATE, from either side, the hold state both sides report, a refused re-offer that keeps the call, and a re-INVITE the peer no longer knows.
import { describe, expect, it } from 'vitest';
import { type HoldState, type Session, SessionState } from '../../../../firmware/sip/ua/index.js';
import { RawPeer } from '../../support/raw-peer.js';
import { makeRequest } from '../../support/sip-builders.js';
import { type Net, type Phone, answer, lastOf, net, phone, settle } from './call-fixture.js';
import { Wire } from './wire.js';

async function connected(options: { alice?: Parameters<typeof phone>[3]; bob?: Parameters<typeof phone>[3] } = {}) {
  const n = net();
  const alice = await phone(n, '10.0.0.1', 'alice', options.alice);
  const bob = await phone(n, '10.0.0.2', 'bob', options.bob);
  const wa = new Wire(alice, n);
  const wb = new Wire(bob, n);
  const call = alice.ua.call('sip:bob@10.0.0.2');
  await settle(n);
  const incoming = bob.incoming[0]!;
  await incoming.accept();
  await settle(n);
  expect([call.state, incoming.state]).toEqual([SessionState.Confirmed, SessionState.Confirmed]);
  wa.clear();
  wb.clear();
  return { n, alice, bob, call, incoming, wa, wb };
}

function holdEvents(s: Session): HoldState[] {
  const seen: HoldState[] = [];
  s.on('hold', (h) => seen.push(h));
  return seen;
}

describe('hold and resume', () => {
  it('the caller holds by re-INVITE (a=sendonly), both sides report it, resume goes back to sendrecv; the re-INVITE 2xx is ACKed', async () => {
    const { n, alice, bob, call, incoming, wa, wb } = await connected();
    const aliceEvents = holdEvents(call);
    const bobEvents = holdEvents(incoming);
    const held = call.hold();
    await settle(n);
    expect(await held).toEqual({ ok: true, held: { local: true, remote: false } });
    expect(call.held).toEqual({ local: true, remote: false });
    expect(incoming.held).toEqual({ local: false, remote: true });
    expect(aliceEvents).toEqual([{ local: true, remote: false }]);
    expect(bobEvents).toEqual([{ local: false, remote: true }]);
    // What the handlers saw: our offer asked for hold, the peer took it and answered as not holding.
    expect(alice.fake.last.log.slice(-2)).toEqual(['createOffer hold=true -> v=0 fake offer a1.2 a=sendonly', 'receiveAnswer v=0 fake answer b1.2 early=false fork=' + incoming.localTag]);
    expect(bob.fake.last.log.slice(-2)).toEqual(['receiveOffer v=0 fake offer a1.2 a=sendonly', 'createAnswer hold=false -> v=0 fake answer b1.2']);
    const reinvite = wb.requests('in', 'INVITE')[0]!.message;
    expect(reinvite.to.tag).toBe(incoming.localTag);
    expect(reinvite.contact[0]?.uri.toString()).toBe('sip:alice@10.0.0.1:5060');
    expect(wa.requests('out', 'ACK').map((a) => a.message.cseq.seq)).toEqual([reinvite.cseq.seq]);
    // A second hold() is a no-op: already held.
    expect(await call.hold()).toEqual({ ok: true, held: { local: true, remote: false } });
    expect(wa.requests('out', 'INVITE')).toHaveLength(1);
    const resumed = call.resume();
    await settle(n);
    expect(await resumed).toEqual({ ok: true, held: { local: false, remote: false } });
    expect(alice.fake.last.log).toContain('createOffer hold=false -> v=0 fake offer a1.3');
    expect(incoming.held).toEqual({ local: false, remote: false });
    expect(bobEvents).toEqual([
      { local: false, remote: true },
      { local: false, remote: false },
    ]);
    // Nobody is left waiting for an ACK: after 64*T1 the call is still up.
    await n.clock.advance(40_000);
    await settle(n);
    expect([call.state, incoming.state]).toEqual([SessionState.Confirmed, SessionState.Confirmed]);
  });

  it('the callee holds the caller; while held, the caller answering a re-offer keeps the peer hold, and both can hold at once', async () => {
    const { n, call, incoming, wb } = await connected();
    const r = incoming.hold();
    await settle(n);
    expect(await r).toMatchObject({ ok: true, held: { local: true, remote: false } });
    expect(call.held).toEqual({ local: false, remote: true });
    expect(wb.requests('out', 'INVITE')[0]!.message.bodyText).toBe('v=0 fake offer b1.2 a=sendonly');
    const both = call.hold();
    await settle(n);
    expect(await both).toEqual({ ok: true, held: { local: true, remote: true } });
    expect(incoming.held).toEqual({ local: true, remote: true });
  });

  it("holds by UPDATE when holdMethod is 'update' and the peer's Allow lists UPDATE; no ACK", async () => {
    const { n, call, incoming, wa, wb } = await connected({ alice: { calls: { holdMethod: 'update' } } });
    const r = call.hold();
    await settle(n);
    expect(await r).toMatchObject({ ok: true, held: { local: true } });
    expect(incoming.held.remote).toBe(true);
    expect(wb.requests('in', 'UPDATE').map((u) => u.message.bodyText)).toEqual(['v=0 fake offer a1.2 a=sendonly']);
    expect(wb.responses('out', 'UPDATE', 200)[0]!.message.bodyText).toBe('v=0 fake answer b1.2');
    expect(wa.requests('out', 'INVITE')).toEqual([]);
    expect(wa.requests('out', 'ACK')).toEqual([]);
    const back = call.resume();
    await settle(n);
    expect(await back).toMatchObject({ ok: true, held: { local: false } });
    expect(wb.requests('in', 'UPDATE')).toHaveLength(2);
  });

  it('a 488 to our re-INVITE rolls the offer back and the call stays as it was (RFC 3261 §14.1)', async () => {
    const { n, alice, bob, call, incoming, wb } = await connected();
    bob.fake.behaviour.refuseOffer = 'no hold today';
    const events = holdEvents(call);
    const r = call.hold();
    await settle(n);
    expect(await r).toEqual({ ok: false, status: 488, reason: 'Not Acceptable Here' });
    expect(wb.responses('out', 'INVITE', 488)[0]!.message.get('Warning')).toBe('399 offhook-bob "no hold today"');
    expect(alice.fake.last.log.at(-1)).toBe('rollback');
    expect(call.held).toEqual({ local: false, remote: false });
    expect(events).toEqual([]);
    expect([call.state, incoming.state]).toEqual([SessionState.Confirmed, SessionState.Confirmed]);
    // The next try works once the peer takes it.
    bob.fake.behaviour.refuseOffer = undefined;
    const again = call.hold();
    await settle(n);
    expect(await again).toMatchObject({ ok: true });
  });

  it('hold() before the call is up does nothing', async () => {
    const n = net();
    const alice = await phone(n, '10.0.0.1', 'alice');
    await phone(n, '10.0.0.2', 'bob');
    const call = alice.ua.call('sip:bob@10.0.0.2');
    await settle(n);
    expect(await call.hold()).toEqual({ ok: false, status: 0, reason: 'the call is not up' });
  });
});

describe('re-INVITE failures that end the dialog (RFC 3261 §12.2.1.2)', () => {
  const PHONE = { protocol: 'udp' as const, address: '10.0.0.2', port: 5060 };

  async function fromRawPeer(): Promise<{ n: Net; bob: Phone; peer: RawPeer; session: Session }> {
    const n = net();
    const bob = await phone(n, '10.0.0.2', 'bob');
    const peer = new RawPeer(n.network, '10.0.0.9');
    const common = { uri: 'sip:bob@10.0.0.2', fromUri: 'sip:carol@example.com', fromTag: 'c1', callId: 'raw-1', contact: 'sip:carol@10.0.0.9' };
    await peer.send(makeRequest({ ...common, method: 'INVITE', cseq: 1, via: { host: '10.0.0.9', branch: 'z9hG4bKr1', rport: true }, body: 'v=0 o', contentType: 'application/sdp' }), PHONE);
    await settle(n);
    const session = bob.incoming[0]!;
    await session.accept();
    await settle(n);
    await peer.send(makeRequest({ ...common, method: 'ACK', cseq: 1, toTag: session.localTag, uri: 'sip:bob@10.0.0.2:5060', via: { host: '10.0.0.9', branch: 'z9hG4bKr1a', rport: true } }), PHONE);
    await settle(n);
    expect(session.state).toBe(SessionState.Confirmed);
    peer.clear();
    return { n, bob, peer, session };
  }

  it('481 to our re-INVITE: the call is over', async () => {
    const { n, peer, session } = await fromRawPeer();
    const r = session.hold();
    await settle(n);
    await answer(peer, lastOf(peer, 'INVITE'), 481);
    await settle(n);
    expect(await r).toMatchObject({ ok: false, status: 481 });
    expect(await session.ended).toMatchObject({ kind: 'remote-hangup', status: 481 });
  });

  it('no answer at all (Timer B, a 408): BYE and the call ends as timeout', async () => {
    const { n, peer, session } = await fromRawPeer();
    const r = session.hold();
    await settle(n);
    await n.clock.advance(32_000);
    await settle(n);
    expect(await r).toMatchObject({ ok: false, status: 408 });
    expect(peer.requests('BYE')).toHaveLength(1);
    await answer(peer, lastOf(peer, 'BYE'), 200);
    await settle(n);
    expect(await session.ended).toMatchObject({ kind: 'timeout', status: 408 });
  });

  it('an incoming re-INVITE while ours is out gets 491; an UPDATE without an offer is a plain 200', async () => {
    const { n, peer, session } = await fromRawPeer();
    void session.hold();
    await settle(n);
    const common = { uri: 'sip:bob@10.0.0.2:5060', fromUri: 'sip:carol@example.com', fromTag: 'c1', toTag: session.localTag, callId: 'raw-1', contact: 'sip:carol@10.0.0.9' };
    await peer.send(makeRequest({ ...common, method: 'INVITE', cseq: 2, via: { host: '10.0.0.9', branch: 'z9hG4bKg1', rport: true }, body: 'v=0 theirs', contentType: 'application/sdp' }), PHONE);
    await peer.send(makeRequest({ ...common, method: 'UPDATE', cseq: 3, via: { host: '10.0.0.9', branch: 'z9hG4bKu1', rport: true } }), PHONE);
    await settle(n);
    expect(peer.responses(491).map((r) => r.message.cseq.method)).toEqual(['INVITE']);
    expect(peer.responses(200).map((r) => r.message.cseq.method)).toEqual(['UPDATE']);
  });
});
