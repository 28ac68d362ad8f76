// An incoming call from a scripted peer: ghost-call protection, caller identity, late offer, Timer H (no ACK), CANCEL reasons, BYE, re-INVITE and 481 for unknown or ended dialogs.
import { describe, expect, it } from 'vitest';
import type { SipRequest } from '../../../../firmware/sip/message/index.js';
import { SessionState } from '../../../../firmware/sip/ua/index.js';
import { RawPeer } from '../../support/raw-peer.js';
import { makeRequest } from '../../support/sip-builders.js';
import { answer, lastOf, net, phone, settle } from './call-fixture.js';

const PHONE = { protocol: 'udp' as const, address: '10.0.0.2', port: 5060 };

function invite(from: RawPeer, options: { body?: string; branch?: string; callId?: string; headers?: [string, string][] } = {}): SipRequest {
  return makeRequest({
    method: 'INVITE',
    uri: 'sip:bob@10.0.0.2',
    fromUri: 'sip:alice@example.com',
    fromTag: 'caller1',
    callId: options.callId ?? 'call-in-1',
    cseq: 10,
    via: { host: from.address, branch: options.branch ?? 'z9hG4bKin1', rport: true },
    contact: `sip:alice@${from.address}`,
    headers: options.headers,
    ...(options.body !== undefined ? { body: options.body, contentType: 'application/sdp' } : {}),
  });
}

/** An in-dialog request from the caller, with the To tag of the phone's answer. */
function inDialog(from: RawPeer, method: string, toTag: string, cseq: number, options: { branch: string; body?: string; callId?: string }): SipRequest {
  return makeRequest({
    method,
    uri: 'sip:bob@10.0.0.2:5060',
    fromUri: 'sip:alice@example.com',
    fromTag: 'caller1',
    toTag,
    callId: options.callId ?? 'call-in-1',
    cseq,
    via: { host: from.address, branch: options.branch, rport: true },
    contact: method === 'INVITE' ? `sip:alice@${from.address}` : undefined,
    ...(options.body !== undefined ? { body: options.body, contentType: 'application/sdp' } : {}),
  });
}

function finalOf(peer: RawPeer, method = 'INVITE') {
  return peer.responses().filter((r) => r.message.cseq.method === method && r.message.status >= 200);
}

describe('IncomingSession: ghost-call protection (acceptCallsFrom)', () => {
  it("by default refuses an INVITE that does not come from the account's registrar or proxy with 403, and never rings", async () => {
    const n = net({ a: { 'pbx.test': ['10.0.0.5'] } });
    const bob = await phone(n, '10.0.0.2', 'bob', { account: { aor: 'sip:bob@pbx.test' }, calls: { acceptCallsFrom: 'proxy' } });
    const stranger = new RawPeer(n.network, '10.0.0.9');
    await stranger.send(invite(stranger, { body: 'v=0 o' }), PHONE);
    await settle(n);
    expect(finalOf(stranger).map((r) => r.message.status)).toEqual([403]);
    expect(bob.incoming).toEqual([]);
    expect(bob.fake.made).toEqual([]);
    // The same INVITE from the registrar's address rings, with the caller from P-Asserted-Identity.
    const pbx = new RawPeer(n.network, '10.0.0.5');
    await pbx.send(invite(pbx, { body: 'v=0 o', branch: 'z9hG4bKpbx', callId: 'call-pbx', headers: [['P-Asserted-Identity', '"Alice Smith" <sip:+15551234@pbx.test>']] }), PHONE);
    await settle(n);
    expect(bob.incoming).toHaveLength(1);
    expect(bob.incoming[0]!.remote).toMatchObject({ displayName: 'Alice Smith', number: '+15551234' });
    expect(bob.incoming[0]!.accountId).toBe('bob');
    expect(pbx.responses(180)).toHaveLength(1);
  });

  it("with acceptCallsFrom 'any' a direct call rings; P-Asserted-Identity from a stranger is ignored", async () => {
    const n = net();
    const bob = await phone(n, '10.0.0.2', 'bob', { account: { aor: 'sip:bob@pbx.test', displayName: 'Bob' } });
    const stranger = new RawPeer(n.network, '10.0.0.9');
    await stranger.send(invite(stranger, { body: 'v=0 o', headers: [['P-Asserted-Identity', '<sip:boss@pbx.test>']] }), PHONE);
    await settle(n);
    expect(bob.incoming).toHaveLength(1);
    expect(bob.incoming[0]!.remote.number).toBe('alice');
    const ringing = stranger.responses(180)[0]!.message;
    expect(ringing.contact[0]?.uri.toString()).toBe('sip:bob@10.0.0.2:5060');
    expect(ringing.to.tag).toBe(bob.incoming[0]!.localTag);
  });
});

describe('IncomingSession: answering', () => {
  it('late offer: the 200 carries our offer and the ACK the answer', async () => {
    const n = net();
    const bob = await phone(n, '10.0.0.2', 'bob');
    const peer = new RawPeer(n.network, '10.0.0.9');
    await peer.send(invite(peer), PHONE);
    await settle(n);
    const session = bob.incoming[0]!;
    expect(session.lateOffer).toBe(true);
    await session.accept();
    await settle(n);
    const ok = finalOf(peer)[0]!.message;
    expect([ok.status, ok.bodyText, ok.contentType?.essence]).toEqual([200, 'v=0 fake offer b1.1', 'application/sdp']);
    expect(ok.allow).toContain('INVITE');
    expect(session.state).toBe(SessionState.Early);
    await peer.send(inDialog(peer, 'ACK', session.localTag, 10, { branch: 'z9hG4bKack1', body: 'v=0 answer in ack' }), PHONE);
    await settle(n);
    expect(session.state).toBe(SessionState.Confirmed);
    expect(bob.fake.last.log).toEqual(['createOffer hold=false -> v=0 fake offer b1.1', 'receiveAnswer v=0 answer in ack early=false fork=caller1', 'confirmed']);
  });

  it('late offer with an ACK that carries no answer: BYE', async () => {
    const n = net();
    const bob = await phone(n, '10.0.0.2', 'bob');
    const peer = new RawPeer(n.network, '10.0.0.9');
    await peer.send(invite(peer), PHONE);
    await settle(n);
    const session = bob.incoming[0]!;
    await session.accept();
    await settle(n);
    await peer.send(inDialog(peer, 'ACK', session.localTag, 10, { branch: 'z9hG4bKack2' }), PHONE);
    await settle(n);
    const bye = lastOf(peer, 'BYE');
    expect(bye.message.uri.toString()).toBe('sip:alice@10.0.0.9');
    await answer(peer, bye, 200);
    await settle(n);
    expect(await session.ended).toMatchObject({ kind: 'not-acceptable', status: 488 });
  });

  it('retransmits the 2xx until the ACK, and sends BYE when none comes in 64*T1 (no-ack)', async () => {
    const n = net();
    const bob = await phone(n, '10.0.0.2', 'bob');
    const peer = new RawPeer(n.network, '10.0.0.9');
    await peer.send(invite(peer, { body: 'v=0 o' }), PHONE);
    await settle(n);
    const session = bob.incoming[0]!;
    await session.accept();
    await settle(n);
    await n.clock.advance(10_000);
    expect(peer.responses(200).length).toBeGreaterThan(3);
    await n.clock.advance(22_000);
    await settle(n);
    const bye = lastOf(peer, 'BYE');
    await answer(peer, bye, 200);
    await settle(n);
    expect(await session.ended).toMatchObject({ kind: 'no-ack' });
  });

  it('a hangup between our 2xx and the ACK waits for the ACK before the BYE (RFC 3261 §15)', async () => {
    const n = net();
    const bob = await phone(n, '10.0.0.2', 'bob');
    const peer = new RawPeer(n.network, '10.0.0.9');
    await peer.send(invite(peer, { body: 'v=0 o' }), PHONE);
    await settle(n);
    const session = bob.incoming[0]!;
    await session.accept();
    session.hangup();
    await settle(n);
    expect(peer.requests('BYE')).toEqual([]);
    await peer.send(inDialog(peer, 'ACK', session.localTag, 10, { branch: 'z9hG4bKack3' }), PHONE);
    await settle(n);
    await answer(peer, lastOf(peer, 'BYE'), 200);
    await settle(n);
    expect(await session.ended).toMatchObject({ kind: 'local-hangup' });
  });

  it('a CANCEL gets 200 and the INVITE 487; "Reason: SIP;cause=200" means answered elsewhere', async () => {
    const n = net();
    const bob = await phone(n, '10.0.0.2', 'bob');
    const peer = new RawPeer(n.network, '10.0.0.9');
    const inv = invite(peer, { body: 'v=0 o' });
    await peer.send(inv, PHONE);
    await settle(n);
    const cancel = makeRequest({ method: 'CANCEL', uri: 'sip:bob@10.0.0.2', fromTag: 'caller1', callId: 'call-in-1', cseq: 10, via: { host: '10.0.0.9', branch: 'z9hG4bKin1', rport: true }, headers: [['Reason', 'SIP;cause=200;text="Call completed elsewhere"']] });
    await peer.send(cancel, PHONE);
    await settle(n);
    expect(peer.responses(200).map((r) => r.message.cseq.method)).toEqual(['CANCEL']);
    expect(peer.responses(487)).toHaveLength(1);
    expect(await bob.incoming[0]!.ended).toMatchObject({ kind: 'answered-elsewhere', status: 487 });
  });

  it('a BYE in the early dialog: 200 to it, 487 to the INVITE', async () => {
    const n = net();
    const bob = await phone(n, '10.0.0.2', 'bob');
    const peer = new RawPeer(n.network, '10.0.0.9');
    await peer.send(invite(peer, { body: 'v=0 o' }), PHONE);
    await settle(n);
    const session = bob.incoming[0]!;
    await peer.send(inDialog(peer, 'BYE', session.localTag, 11, { branch: 'z9hG4bKbye0' }), PHONE);
    await settle(n);
    expect(peer.responses(200).map((r) => r.message.cseq.method)).toEqual(['BYE']);
    expect(peer.responses(487)).toHaveLength(1);
    expect((await session.ended).kind).toBe('cancelled');
  });
});

describe('IncomingSession: within the dialog', () => {
  async function established() {
    const n = net();
    const bob = await phone(n, '10.0.0.2', 'bob');
    const peer = new RawPeer(n.network, '10.0.0.9');
    await peer.send(invite(peer, { body: 'v=0 o' }), PHONE);
    await settle(n);
    const session = bob.incoming[0]!;
    await session.accept();
    await settle(n);
    await peer.send(inDialog(peer, 'ACK', session.localTag, 10, { branch: 'z9hG4bKack9' }), PHONE);
    await settle(n);
    expect(session.state).toBe(SessionState.Confirmed);
    peer.clear();
    return { n, bob, peer, session };
  }

  it('answers a re-INVITE with the handler (200 with the answer), and 488 with a Warning when it refuses', async () => {
    const { n, bob, peer, session } = await established();
    await peer.send(inDialog(peer, 'INVITE', session.localTag, 11, { branch: 'z9hG4bKre1', body: 'v=0 hold offer' }), PHONE);
    await settle(n);
    const ok = finalOf(peer)[0]!.message;
    expect([ok.status, ok.bodyText]).toEqual([200, 'v=0 fake answer b1.2']);
    expect(ok.contact[0]?.uri.toString()).toBe('sip:bob@10.0.0.2:5060');
    expect(bob.fake.last.log.slice(-2)).toEqual(['receiveOffer v=0 hold offer', 'createAnswer hold=false -> v=0 fake answer b1.2']);
    await peer.send(inDialog(peer, 'ACK', session.localTag, 11, { branch: 'z9hG4bKre1ack' }), PHONE);
    await settle(n);
    bob.fake.behaviour.refuseOffer = 'video only';
    await peer.send(inDialog(peer, 'INVITE', session.localTag, 12, { branch: 'z9hG4bKre2', body: 'v=0 video' }), PHONE);
    await settle(n);
    const refused = finalOf(peer)[1]!.message;
    expect(refused.status).toBe(488);
    expect(refused.get('Warning')).toBe('399 offhook-bob "video only"');
    expect(session.state).toBe(SessionState.Confirmed);
  });

  it('answers OPTIONS in the dialog, 501 to a method nobody handles yet, and lets a module take a method over', async () => {
    const { n, peer, session } = await established();
    await peer.send(inDialog(peer, 'OPTIONS', session.localTag, 11, { branch: 'z9hG4bKo1' }), PHONE);
    await settle(n);
    expect(finalOf(peer, 'OPTIONS')[0]!.message.status).toBe(200);
    const seen: string[] = [];
    session.handleRequests('OPTIONS', (tx) => {
      seen.push(tx.request.method);
      tx.reply(202);
    });
    await peer.send(inDialog(peer, 'OPTIONS', session.localTag, 12, { branch: 'z9hG4bKo2' }), PHONE);
    await settle(n);
    expect(seen).toEqual(['OPTIONS']);
    expect(finalOf(peer, 'OPTIONS')[1]!.message.status).toBe(202);
  });

  it('a BYE ends the call as remote-hangup; later requests in that dialog and unknown dialogs get 481', async () => {
    const { n, peer, session } = await established();
    await peer.send(inDialog(peer, 'BYE', session.localTag, 11, { branch: 'z9hG4bKbye1' }), PHONE);
    await settle(n);
    expect(finalOf(peer, 'BYE')[0]!.message.status).toBe(200);
    expect(await session.ended).toMatchObject({ kind: 'remote-hangup' });
    await peer.send(inDialog(peer, 'INVITE', session.localTag, 12, { branch: 'z9hG4bKre9', body: 'v=0 x' }), PHONE);
    await peer.send(inDialog(peer, 'BYE', 'nosuchtag', 13, { branch: 'z9hG4bKbye2' }), PHONE);
    await settle(n);
    expect(finalOf(peer, 'INVITE').map((r) => r.message.status)).toEqual([481]);
    expect(finalOf(peer, 'BYE').map((r) => r.message.status)).toEqual([200, 481]);
  });

  it('our BYE goes to the remote target and ends the call as local-hangup once answered', async () => {
    const { n, peer, session } = await established();
    session.hangup();
    expect(session.state).toBe(SessionState.Terminating);
    await settle(n);
    const bye = lastOf(peer, 'BYE');
    expect([bye.message.uri.toString(), bye.message.to.tag, bye.message.from.tag]).toEqual(['sip:alice@10.0.0.9', 'caller1', session.localTag]);
    await answer(peer, bye, 200);
    await settle(n);
    expect(await session.ended).toMatchObject({ kind: 'local-hangup' });
  });
});
