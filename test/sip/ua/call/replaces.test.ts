// INVITE with Replaces from a scripted peer (RFC 3891 §3): 481 without a match, 486 for early-only on a call that is up, 400 when malformed, 403 from a stranger, and an early call of ours replaced (answered at once, the old one cancelled).
import { describe, expect, it } from 'vitest';
import type { SipRequest } from '../../../../firmware/sip/message/index.js';
import { type Session, SessionState } from '../../../../firmware/sip/ua/index.js';
import { RawPeer } from '../../support/raw-peer.js';
import { makeRequest } from '../../support/sip-builders.js';
import { net, phone, settle } from './call-fixture.js';
import { connect } from './transfer-fixture.js';

const ALICE = { protocol: 'udp' as const, address: '10.0.0.1', port: 5060 };

function inviteWithReplaces(from: RawPeer, replaces: string, n: number): SipRequest {
  return makeRequest({
    method: 'INVITE',
    uri: 'sip:alice@10.0.0.1',
    fromUri: `sip:carol@${from.address}`,
    fromTag: `carol${n}`,
    callId: `replacing-${n}`,
    cseq: 1,
    via: { host: from.address, branch: `z9hG4bKrep${n}`, rport: true },
    contact: `sip:carol@${from.address}`,
    headers: [
      ['Replaces', replaces],
      ['Require', 'replaces'],
    ],
    body: 'v=0 carol offer',
    contentType: 'application/sdp',
  });
}

function finals(peer: RawPeer): number[] {
  return peer.responses().filter((r) => r.message.cseq.method === 'INVITE' && r.message.status >= 200).map((r) => r.message.status);
}

async function aliceAndBobUp() {
  const n = net();
  const alice = await phone(n, '10.0.0.1', 'alice');
  const bob = await phone(n, '10.0.0.2', 'bob');
  const carol = new RawPeer(n.network, '10.0.0.3');
  const { out, inc } = await connect(n, alice, bob, 'sip:bob@10.0.0.2');
  return { n, alice, bob, carol, out, inc };
}

describe('INVITE with Replaces (RFC 3891 §3)', () => {
  it('answers 481 when no dialog of ours matches (wrong Call-ID or tags), and never rings', async () => {
    const { n, alice, carol, out, inc } = await aliceAndBobUp();
    await carol.send(inviteWithReplaces(carol, `nosuchcall;to-tag=${out.localTag};from-tag=${inc.localTag}`, 1), ALICE);
    // Tags swapped: from alice's view the to-tag must be her own tag.
    await carol.send(inviteWithReplaces(carol, `${out.callId};to-tag=${inc.localTag};from-tag=${out.localTag}`, 2), ALICE);
    await settle(n);
    expect(finals(carol)).toEqual([481, 481]);
    expect(alice.incoming).toEqual([]);
    expect(out.state).toBe(SessionState.Confirmed);
  });

  it('answers 486 for early-only when the call is up, 400 for a malformed Replaces', async () => {
    const { n, carol, out, inc } = await aliceAndBobUp();
    await carol.send(inviteWithReplaces(carol, `${out.callId};to-tag=${out.localTag};from-tag=${inc.localTag};early-only`, 1), ALICE);
    await carol.send(inviteWithReplaces(carol, `${out.callId};from-tag=${inc.localTag}`, 2), ALICE);
    await settle(n);
    expect(finals(carol).sort()).toEqual([400, 486]);
    expect(out.state).toBe(SessionState.Confirmed);
  });

  it('applies the ghost-call protection to it like to any INVITE (403 from a stranger)', async () => {
    const n = net();
    const alice = await phone(n, '10.0.0.1', 'alice', { calls: { acceptCallsFrom: 'proxy' }, account: { aor: 'sip:alice@10.0.0.5' } });
    const bob = await phone(n, '10.0.0.2', 'bob');
    const carol = new RawPeer(n.network, '10.0.0.3');
    const out = alice.ua.call('sip:bob@10.0.0.2');
    await settle(n);
    await bob.incoming[0]!.accept();
    await settle(n);
    await carol.send(inviteWithReplaces(carol, `${out.callId};to-tag=${out.localTag};from-tag=${bob.incoming[0]!.localTag}`, 1), ALICE);
    await settle(n);
    expect(finals(carol)).toEqual([403]);
    expect(out.state).toBe(SessionState.Confirmed);
  });

  it('replaces an early call we made: answered at once without ringing, and once ACKed the old call is cancelled', async () => {
    const n = net();
    const alice = await phone(n, '10.0.0.1', 'alice');
    const bob = await phone(n, '10.0.0.2', 'bob');
    const carol = new RawPeer(n.network, '10.0.0.3');
    const out = alice.ua.call('sip:bob@10.0.0.2');
    await settle(n);
    expect(out.state).toBe(SessionState.Early);
    const bobRinging = bob.incoming[0]!;
    const replaced: Session[] = [];
    out.on('replaced', (s) => replaced.push(s));
    await carol.send(inviteWithReplaces(carol, `${out.callId};to-tag=${out.localTag};from-tag=${bobRinging.localTag}`, 1), ALICE);
    await settle(n);
    const ok = carol.responses(200).find((r) => r.message.cseq.method === 'INVITE')?.message;
    expect(ok?.bodyText).toMatch(/fake answer/);
    expect(carol.responses(180)).toEqual([]);
    expect(alice.incoming).toEqual([]);
    // Until the ACK, the old call still rings.
    expect(out.state).toBe(SessionState.Early);
    const ack = makeRequest({ method: 'ACK', uri: 'sip:alice@10.0.0.1:5060', fromUri: 'sip:carol@10.0.0.3', fromTag: 'carol1', toTag: ok?.to.tag, callId: 'replacing-1', cseq: 1, via: { host: '10.0.0.3', branch: 'z9hG4bKrepack1' } });
    await carol.send(ack, ALICE);
    await settle(n);
    expect(replaced).toHaveLength(1);
    expect(replaced[0]?.state).toBe(SessionState.Confirmed);
    expect(replaced[0]?.remote.number).toBe('carol');
    expect(await out.ended).toMatchObject({ kind: 'cancelled' });
    expect(await bobRinging.ended).toMatchObject({ kind: 'cancelled', status: 487 });
  });

  it("answers 481 for an early call we did not make (someone else's ringing call is not ours to replace)", async () => {
    const n = net();
    const alice = await phone(n, '10.0.0.1', 'alice');
    const bob = await phone(n, '10.0.0.2', 'bob');
    const carol = new RawPeer(n.network, '10.0.0.3');
    const call = bob.ua.call('sip:alice@10.0.0.1');
    await settle(n);
    const ringing = alice.incoming[0]!;
    await carol.send(inviteWithReplaces(carol, `${call.callId};to-tag=${ringing.localTag};from-tag=${call.localTag}`, 1), ALICE);
    await settle(n);
    expect(finals(carol)).toEqual([481]);
    expect(ringing.state).toBe(SessionState.Early);
  });
});
