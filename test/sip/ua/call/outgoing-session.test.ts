// An outgoing call against a scripted peer: forking and early media, ACK of every 2xx, ACK + BYE of late forks, 3xx, 401, Timer B, transport errors, 503 failover, CANCEL crossing a 200.
import { describe, expect, it } from 'vitest';
import { SessionState, outcomeKindOfStatus } from '../../../../firmware/sip/ua/index.js';
import { RawPeer } from '../../support/raw-peer.js';
import { answer, got, lastOf, net, phone, settle } from './call-fixture.js';

const BOB = 'sip:bob@10.0.0.2';

async function callerAndPeer(options: Parameters<typeof phone>[3] = {}, zone: Parameters<typeof net>[0] = {}) {
  const n = net(zone);
  const alice = await phone(n, '10.0.0.1', 'alice', options);
  const peer = new RawPeer(n.network, '10.0.0.2');
  return { n, alice, peer };
}

describe('OutgoingSession against a scripted peer', () => {
  it('keeps each fork as an early dialog, takes the first 2xx, and ACKs + BYEs a later 2xx from another fork', async () => {
    const { n, alice, peer } = await callerAndPeer();
    const call = alice.ua.call(BOB);
    const progress: { status: number; earlyMedia: boolean }[] = [];
    call.on('progress', (p) => progress.push({ status: p.status, earlyMedia: p.earlyMedia }));
    await settle(n);
    const invite = lastOf(peer, 'INVITE');
    await answer(peer, invite, 180, { toTag: 'forkA', contact: 'sip:bob@10.0.0.2' });
    await answer(peer, invite, 183, { toTag: 'forkB', contact: 'sip:bob2@10.0.0.2', body: 'v=0 early B' });
    await settle(n);
    expect(progress).toEqual([
      { status: 180, earlyMedia: false },
      { status: 183, earlyMedia: true },
    ]);
    expect(call.state).toBe(SessionState.Early);
    expect(alice.ua.calls.dialogs.forked(call.callId, call.localTag).map((d) => d.id.remoteTag).sort()).toEqual(['forkA', 'forkB']);
    await answer(peer, invite, 200, { toTag: 'forkA', contact: 'sip:bob@10.0.0.2', body: 'v=0 answer A' });
    await settle(n);
    expect(call.state).toBe(SessionState.Confirmed);
    const acks = got(peer, 'ACK');
    expect(acks).toHaveLength(1);
    expect([acks[0]!.to.tag, acks[0]!.cseq.seq, acks[0]!.uri.toString()]).toEqual(['forkA', invite.message.cseq.seq, 'sip:bob@10.0.0.2']);
    expect(alice.fake.last.log.slice(1)).toEqual(['receiveAnswer v=0 early B early=true fork=forkB', 'receiveAnswer v=0 answer A early=false fork=forkA', 'confirmed']);
    // A retransmission of the winning 2xx gets the same ACK again.
    await answer(peer, invite, 200, { toTag: 'forkA', contact: 'sip:bob@10.0.0.2', body: 'v=0 answer A' });
    await settle(n);
    expect(got(peer, 'ACK')).toHaveLength(2);
    expect(got(peer, 'ACK')[1]!.topVia.branch).toBe(acks[0]!.topVia.branch);
    // Fork B answers too, late: ACK and BYE in its own dialog (RFC 3261 §13.2.2.4).
    await answer(peer, invite, 200, { toTag: 'forkB', contact: 'sip:bob2@10.0.0.2', body: 'v=0 answer B' });
    await settle(n);
    expect(got(peer, 'ACK').map((a) => a.to.tag)).toEqual(['forkA', 'forkA', 'forkB']);
    const bye = lastOf(peer, 'BYE');
    expect([bye.message.to.tag, bye.message.uri.toString()]).toEqual(['forkB', 'sip:bob2@10.0.0.2']);
    await answer(peer, bye, 200);
    await settle(n);
    expect(call.state).toBe(SessionState.Confirmed);
    // After Timer M the transaction is gone: a 2xx from yet another fork comes as a stray response, and is ACKed and BYEd too.
    await n.clock.advance(40_000);
    await answer(peer, invite, 200, { toTag: 'forkC', contact: 'sip:bob3@10.0.0.2', body: 'v=0 answer C' });
    await settle(n);
    expect(got(peer, 'ACK').map((a) => a.to.tag)).toEqual(['forkA', 'forkA', 'forkB', 'forkC']);
    expect(lastOf(peer, 'BYE').message.to.tag).toBe('forkC');
    expect(call.state).toBe(SessionState.Confirmed);
  });

  it('a 2xx whose answer the handler refuses is ACKed and then BYEd', async () => {
    const { n, alice, peer } = await callerAndPeer();
    alice.fake.behaviour = { refuseAnswer: 'no common codec' };
    const call = alice.ua.call(BOB);
    await settle(n);
    const invite = lastOf(peer, 'INVITE');
    await answer(peer, invite, 200, { toTag: 't1', contact: 'sip:bob@10.0.0.2', body: 'v=0 bad answer' });
    await settle(n);
    expect(got(peer, 'ACK')).toHaveLength(1);
    const bye = lastOf(peer, 'BYE');
    expect(bye.message.get('Reason')).toBe('SIP;cause=488;text="no common codec"');
    await answer(peer, bye, 200);
    await settle(n);
    expect(await call.ended).toMatchObject({ kind: 'not-acceptable', status: 488, reason: 'no common codec' });
  });

  it('follows a 3xx by q value with a new CSeq, same Call-ID and From tag, and gives up after the redirect limit', async () => {
    const n = net();
    const alice = await phone(n, '10.0.0.1', 'alice', { calls: { maxRedirects: 2 } });
    const peer = new RawPeer(n.network, '10.0.0.2');
    const c1 = new RawPeer(n.network, '10.0.0.3');
    const c2 = new RawPeer(n.network, '10.0.0.4');
    const call = alice.ua.call(BOB);
    await settle(n);
    const first = lastOf(peer, 'INVITE');
    await answer(peer, first, 302, { toTag: 'r1', headers: [['Contact', '<sip:c1@10.0.0.3>;q=0.5, <sip:c2@10.0.0.4>;q=0.9']] });
    await settle(n);
    expect(got(peer, 'ACK')).toHaveLength(1); // the non-2xx ACK, from the transaction
    const second = lastOf(c2, 'INVITE').message;
    expect(second.uri.toString()).toBe('sip:c2@10.0.0.4');
    expect([second.callId, second.from.tag, second.cseq.seq]).toEqual([first.message.callId, first.message.from.tag, first.message.cseq.seq + 1]);
    expect(second.to.uri.toString()).toBe(BOB);
    // c2 redirects back to bob (already tried) and to c1: c1 is next, and its redirect exceeds the limit.
    await answer(c2, lastOf(c2, 'INVITE'), 302, { toTag: 'r2', headers: [['Contact', '<sip:bob@10.0.0.2>, <sip:c1@10.0.0.3>']] });
    await settle(n);
    expect(got(c1, 'INVITE')).toHaveLength(1);
    await answer(c1, lastOf(c1, 'INVITE'), 302, { toTag: 'r3', headers: [['Contact', '<sip:c9@10.0.0.9>']] });
    await settle(n);
    expect(await call.ended).toMatchObject({ kind: 'redirect-failed', status: 302 });
    expect(got(peer, 'INVITE')).toHaveLength(1);
  });

  it('answers a 401 once with credentials (new CSeq, same Call-ID and From tag); a second 401 fails the call', async () => {
    // The account's registrar is the peer: its challenges may be answered.
    const { n, alice, peer } = await callerAndPeer({ account: { aor: 'sip:alice@10.0.0.2' } });
    const call = alice.ua.call(BOB);
    await settle(n);
    const first = lastOf(peer, 'INVITE');
    const challenge: [string, string] = ['WWW-Authenticate', 'Digest realm="test", nonce="n1", qop="auth", algorithm=MD5'];
    await answer(peer, first, 401, { toTag: 'a1', headers: [challenge] });
    await settle(n);
    const second = lastOf(peer, 'INVITE');
    expect(second.message.authorization[0]?.get('username')).toBe('alice');
    expect([second.message.callId, second.message.from.tag, second.message.cseq.seq]).toEqual([first.message.callId, first.message.from.tag, first.message.cseq.seq + 1]);
    expect(second.message.topVia.branch).not.toBe(first.message.topVia.branch);
    await answer(peer, second, 401, { toTag: 'a2', headers: [['WWW-Authenticate', 'Digest realm="test", nonce="n2", qop="auth", algorithm=MD5']] });
    await settle(n);
    expect(got(peer, 'INVITE')).toHaveLength(2);
    expect(await call.ended).toMatchObject({ kind: 'auth-failed', status: 401 });
  });

  it('the ACK of a 2xx to an authenticated INVITE carries its credentials', async () => {
    const { n, alice, peer } = await callerAndPeer({ account: { aor: 'sip:alice@10.0.0.2' } });
    const call = alice.ua.call(BOB);
    await settle(n);
    await answer(peer, lastOf(peer, 'INVITE'), 407, { toTag: 'a1', headers: [['Proxy-Authenticate', 'Digest realm="test", nonce="n1", algorithm=MD5']] });
    await settle(n);
    await answer(peer, lastOf(peer, 'INVITE'), 200, { toTag: 'ok', contact: 'sip:bob@10.0.0.2', body: 'v=0 a' });
    await settle(n);
    expect(call.state).toBe(SessionState.Confirmed);
    expect(lastOf(peer, 'ACK').message.proxyAuthorization[0]?.get('realm')).toBe('test');
  });

  it('Timer B without any answer ends the call as timeout', async () => {
    const n = net();
    const alice = await phone(n, '10.0.0.1', 'alice');
    const call = alice.ua.call('sip:nobody@10.0.0.8');
    await settle(n);
    await n.clock.advance(31_999);
    expect(call.state).toBe(SessionState.Calling);
    await n.clock.advance(1);
    expect(await call.ended).toMatchObject({ kind: 'timeout', status: 408 });
  });

  it('a transport error (TCP connection refused) ends the call as network-error', async () => {
    const n = net();
    const alice = await phone(n, '10.0.0.1', 'alice');
    const call = alice.ua.call('sip:nobody@10.0.0.8;transport=tcp');
    await settle(n);
    expect(await call.ended).toMatchObject({ kind: 'network-error', status: 503 });
  });

  it('a 503 sends the same INVITE (new branch) to the next located server (RFC 3263 §4.3)', async () => {
    const { n, alice } = await callerAndPeer({ account: { aor: 'sip:alice@test.local' } }, { a: { 'test.local': ['10.0.0.5', '10.0.0.6'] } });
    const s1 = new RawPeer(n.network, '10.0.0.5');
    const s2 = new RawPeer(n.network, '10.0.0.6');
    const call = alice.ua.call('1004');
    await settle(n);
    const first = lastOf(s1, 'INVITE');
    expect(first.message.uri.toString()).toBe('sip:1004@test.local');
    await answer(s1, first, 503, { toTag: 'x' });
    await settle(n);
    const second = lastOf(s2, 'INVITE').message;
    expect(second.cseq.seq).toBe(first.message.cseq.seq);
    expect(second.topVia.branch).not.toBe(first.message.topVia.branch);
    await answer(s2, lastOf(s2, 'INVITE'), 500, { toTag: 'y' });
    await settle(n);
    expect(await call.ended).toMatchObject({ kind: 'server-error', status: 500 });
  });

  it('the last 503 ends the call as server-error', async () => {
    const { n, alice, peer } = await callerAndPeer();
    const call = alice.ua.call(BOB);
    await settle(n);
    await answer(peer, lastOf(peer, 'INVITE'), 503, { toTag: 'x' });
    await settle(n);
    expect(await call.ended).toMatchObject({ kind: 'server-error', status: 503 });
  });

  it('a 200 that crosses the CANCEL is ACKed and BYEd; the call ends as cancelled', async () => {
    const { n, alice, peer } = await callerAndPeer();
    const call = alice.ua.call(BOB);
    await settle(n);
    const invite = lastOf(peer, 'INVITE');
    await answer(peer, invite, 180, { toTag: 'c', contact: 'sip:bob@10.0.0.2' });
    await settle(n);
    call.hangup();
    await settle(n);
    const cancel = lastOf(peer, 'CANCEL');
    expect(cancel.message.topVia.branch).toBe(invite.message.topVia.branch);
    await answer(peer, invite, 200, { toTag: 'c', contact: 'sip:bob@10.0.0.2', body: 'v=0 answer' });
    await answer(peer, cancel, 200, { toTag: 'c' });
    await settle(n);
    expect(got(peer, 'ACK')).toHaveLength(1);
    const bye = lastOf(peer, 'BYE');
    await answer(peer, bye, 200);
    await settle(n);
    expect(await call.ended).toMatchObject({ kind: 'cancelled' });
  });

  it('gives up 64*T1 after a CANCEL that brings no final response', async () => {
    const { n, alice, peer } = await callerAndPeer();
    const call = alice.ua.call(BOB);
    await settle(n);
    await answer(peer, lastOf(peer, 'INVITE'), 180, { toTag: 'c' });
    await settle(n);
    call.hangup();
    await n.clock.advance(32_000);
    expect(await call.ended).toMatchObject({ kind: 'cancelled', status: 0 });
  });

  it.each([
    [403, 'forbidden'],
    [404, 'not-found'],
    [408, 'timeout'],
    [480, 'unavailable'],
    [486, 'busy'],
    [600, 'busy'],
    [487, 'cancelled'],
    [488, 'not-acceptable'],
    [606, 'not-acceptable'],
    [500, 'server-error'],
    [503, 'server-error'],
    [603, 'declined'],
    [415, 'rejected'],
  ])('maps %i to %s', (status, kind) => {
    expect(outcomeKindOfStatus(status)).toBe(kind);
  });

  it('routes the INVITE through the outbound proxy, and ACK and BYE along the Record-Route', async () => {
    const n = net();
    const alice = await phone(n, '10.0.0.1', 'alice', { account: { aor: 'sip:alice@pbx.test', outboundProxy: 'sip:10.0.0.5' } });
    const proxy = new RawPeer(n.network, '10.0.0.5');
    const call = alice.ua.call('1004');
    await settle(n);
    const invite = lastOf(proxy, 'INVITE');
    expect([invite.message.uri.toString(), invite.message.route.map((r) => r.uri.toString())]).toEqual(['sip:1004@pbx.test', ['sip:10.0.0.5;lr']]);
    expect(invite.message.from.uri.toString()).toBe('sip:alice@pbx.test');
    invite.message.append('Record-Route', '<sip:10.0.0.5;lr>');
    await answer(proxy, invite, 200, { toTag: 'p1', contact: 'sip:1004@10.0.0.7', body: 'v=0 a', recordRoute: true });
    await settle(n);
    const ack = lastOf(proxy, 'ACK').message;
    expect([ack.uri.toString(), ack.route.map((r) => r.uri.toString())]).toEqual(['sip:1004@10.0.0.7', ['sip:10.0.0.5;lr']]);
    call.hangup();
    await settle(n);
    const bye = lastOf(proxy, 'BYE');
    expect([bye.message.uri.toString(), bye.message.route.map((r) => r.uri.toString())]).toEqual(['sip:1004@10.0.0.7', ['sip:10.0.0.5;lr']]);
    await answer(proxy, bye, 200);
    expect(await call.ended).toMatchObject({ kind: 'local-hangup' });
  });

  it('a final failure reaches the UI with its status and reason', async () => {
    const { n, alice, peer } = await callerAndPeer();
    const call = alice.ua.call(BOB);
    await settle(n);
    await answer(peer, lastOf(peer, 'INVITE'), 404, { toTag: 'nf' });
    await settle(n);
    expect(await call.ended).toMatchObject({ kind: 'not-found', status: 404, reason: 'Not Found' });
  });
});
