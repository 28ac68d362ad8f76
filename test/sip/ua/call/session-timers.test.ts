// Session timers (RFC 4028) between two UserAgents and against a scripted peer: negotiation, refreshes by UPDATE or re-INVITE from either refresher, the timer restarting on each refresh, 422 and a retry, BYE on expiry.
import { describe, expect, it } from 'vitest';
import { SessionState } from '../../../../firmware/sip/ua/index.js';
import { RawPeer } from '../../support/raw-peer.js';
import { makeRequest } from '../../support/sip-builders.js';
import { lastOf, net, phone, settle } from './call-fixture.js';
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
  return { n, alice, bob, call, incoming, wa, wb };
}

async function advance(n: ReturnType<typeof net>, ms: number): Promise<void> {
  await n.clock.advance(ms);
  await settle(n);
}

describe('session timers between two phones', () => {
  it('negotiates 1800 s with the caller as refresher; the caller refreshes by UPDATE every 900 s with the same offer, and both timers restart', async () => {
    const { n, alice, call, incoming, wa, wb } = await connected();
    const invite = wa.requests('out', 'INVITE')[0]!.message;
    expect(invite.supported).toEqual(expect.arrayContaining(['timer', '100rel']));
    expect([invite.get('Session-Expires'), invite.get('Min-SE')]).toEqual(['1800', '90']);
    const ok = wb.responses('out', 'INVITE', 200)[0]!.message;
    expect([ok.get('Session-Expires'), ok.require]).toEqual(['1800;refresher=uac', ['timer']]);
    wa.clear();
    await advance(n, 899_000);
    expect(wa.requests('out', 'UPDATE')).toEqual([]);
    await advance(n, 1_000);
    const update = wa.requests('out', 'UPDATE');
    expect(update).toHaveLength(1);
    expect(update[0]!.message.get('Session-Expires')).toBe('1800;refresher=uac');
    expect(update[0]!.message.bodyText).toBe('v=0 fake offer a1.2');
    expect(alice.fake.last.log).toContain('createOffer hold=false -> v=0 fake offer a1.2');
    expect(wa.responses('in', 'UPDATE', 200)[0]!.message.get('Session-Expires')).toBe('1800;refresher=uac');
    // Past the first expiry (1768 s) and the second refresh: both still up, refreshed again at 1800 s.
    await advance(n, 1_000_000);
    expect(wa.requests('out', 'UPDATE')).toHaveLength(2);
    expect([call.state, incoming.state]).toEqual([SessionState.Confirmed, SessionState.Confirmed]);
    expect(wa.requests('out', 'BYE')).toEqual([]);
  });

  it("the callee refreshes when it takes the role (uasRefresher 'uas'); the caller only watches", async () => {
    const { n, call, incoming, wa, wb } = await connected({ bob: { calls: { sessionTimers: { uasRefresher: 'uas', expiresS: 600 } } } });
    expect(wb.responses('out', 'INVITE', 200)[0]!.message.get('Session-Expires')).toBe('600;refresher=uas');
    wb.clear();
    wa.clear();
    await advance(n, 300_000);
    // Bob refreshes (his refreshMethod is the default: UPDATE, which Alice allows).
    expect(wb.requests('out', 'UPDATE')).toHaveLength(1);
    // Bob sent this one: he is the UAC of the refresh, and the refresher: uac.
    expect(wb.requests('out', 'UPDATE')[0]!.message.get('Session-Expires')).toBe('600;refresher=uac');
    expect(wa.requests('out', 'UPDATE')).toEqual([]);
    await advance(n, 1_000_000);
    expect([call.state, incoming.state]).toEqual([SessionState.Confirmed, SessionState.Confirmed]);
  });

  it("refreshMethod 'invite': the refresher re-INVITEs (and ACKs)", async () => {
    const { n, call, incoming, wa } = await connected({ alice: { calls: { refreshMethod: 'invite', sessionTimers: { expiresS: 120 } } } });
    wa.clear();
    await advance(n, 60_000);
    expect(wa.requests('out', 'INVITE')).toHaveLength(1);
    expect(wa.requests('out', 'ACK')).toHaveLength(1);
    expect(wa.requests('out', 'UPDATE')).toEqual([]);
    await advance(n, 600_000);
    expect([call.state, incoming.state]).toEqual([SessionState.Confirmed, SessionState.Confirmed]);
  });

  it('a 422 makes the caller ask again with the Min-SE it names; the call then rings', async () => {
    const { call, incoming, wa } = await connected({ bob: { calls: { sessionTimers: { minSeS: 3600, expiresS: 7200 } } } });
    const invites = wa.requests('out', 'INVITE').map((e) => e.message);
    expect(invites.map((i) => [i.get('Session-Expires'), i.get('Min-SE')])).toEqual([
      ['1800', '90'],
      ['3600', '3600'],
    ]);
    expect(wa.responses('in', 'INVITE', 422)[0]!.message.get('Min-SE')).toBe('3600');
    expect(invites[1]!.cseq.seq).toBe(invites[0]!.cseq.seq + 1);
    expect(call.state).toBe(SessionState.Confirmed);
    expect(incoming.state).toBe(SessionState.Confirmed);
    expect(wa.responses('in', 'INVITE', 200)[0]!.message.get('Session-Expires')).toBe('3600;refresher=uac');
  });

  it('timers off: no Session-Expires, no "timer" in Supported, no refresh', async () => {
    const { n, call, wa, wb } = await connected({ alice: { calls: { sessionTimers: { enabled: false } } }, bob: { calls: { sessionTimers: { enabled: false } } } });
    const invite = wa.requests('out', 'INVITE')[0]!.message;
    expect(invite.has('Session-Expires')).toBe(false);
    expect(invite.supported).not.toContain('timer');
    expect(wb.responses('out', 'INVITE', 200)[0]!.message.has('Session-Expires')).toBe(false);
    await advance(n, 4_000_000);
    expect(wa.requests('out', 'UPDATE')).toEqual([]);
    expect(call.state).toBe(SessionState.Confirmed);
  });
});

describe('session timers against a scripted caller', () => {
  const PHONE = { protocol: 'udp' as const, address: '10.0.0.2', port: 5060 };

  async function called(headers: [string, string][]) {
    const n = net();
    const bob = await phone(n, '10.0.0.2', 'bob');
    const peer = new RawPeer(n.network, '10.0.0.9');
    const common = { uri: 'sip:bob@10.0.0.2', fromUri: 'sip:carol@example.com', fromTag: 'c1', callId: 'st-1', contact: 'sip:carol@10.0.0.9' };
    await peer.send(makeRequest({ ...common, method: 'INVITE', cseq: 1, via: { host: '10.0.0.9', branch: 'z9hG4bKst1', rport: true }, headers, body: 'v=0 o', contentType: 'application/sdp' }), PHONE);
    await settle(n);
    const session = bob.incoming[0];
    if (session) {
      await session.accept();
      await settle(n);
      await peer.send(makeRequest({ ...common, method: 'ACK', cseq: 1, toTag: session.localTag, uri: 'sip:bob@10.0.0.2:5060', via: { host: '10.0.0.9', branch: 'z9hG4bKst1a', rport: true } }), PHONE);
      await settle(n);
    }
    return { n, bob, peer, session };
  }

  it('the caller, refresher, never refreshes: BYE at interval - min(32 s, interval/3), ended as session-expired', async () => {
    const { n, peer, session } = await called([
      ['Supported', 'timer'],
      ['Session-Expires', '90;refresher=uac'],
    ]);
    const ok = peer.responses(200)[0]!.message;
    expect([ok.get('Session-Expires'), ok.require]).toEqual(['90;refresher=uac', ['timer']]);
    expect(session!.state).toBe(SessionState.Confirmed);
    await advance(n, 59_999);
    expect(peer.requests('BYE')).toEqual([]);
    await advance(n, 1);
    expect(peer.requests('BYE')).toHaveLength(1);
    await peer.reply(lastOf(peer, 'BYE'), { status: 200 });
    await settle(n);
    expect(await session!.ended).toMatchObject({ kind: 'session-expired' });
  });

  it("a refresh from the caller (an UPDATE without an offer) restarts the phone's timer", async () => {
    const { n, peer, session } = await called([
      ['Supported', 'timer'],
      ['Session-Expires', '90;refresher=uac'],
    ]);
    await advance(n, 45_000);
    await peer.send(
      makeRequest({
        method: 'UPDATE',
        uri: 'sip:bob@10.0.0.2:5060',
        fromUri: 'sip:carol@example.com',
        fromTag: 'c1',
        toTag: session!.localTag,
        callId: 'st-1',
        cseq: 2,
        contact: 'sip:carol@10.0.0.9',
        via: { host: '10.0.0.9', branch: 'z9hG4bKupd1', rport: true },
        headers: [
          ['Supported', 'timer'],
          ['Session-Expires', '90;refresher=uac'],
        ],
      }),
      PHONE,
    );
    await settle(n);
    const ok = peer.responses(200).find((r) => r.message.cseq.method === 'UPDATE')!.message;
    expect(ok.get('Session-Expires')).toBe('90;refresher=uac');
    expect(ok.bodyText).toBe('');
    // 60 s after the call began, it would have expired without the refresh.
    await advance(n, 50_000);
    expect(peer.requests('BYE')).toEqual([]);
    await advance(n, 10_000);
    expect(peer.requests('BYE')).toHaveLength(1);
  });

  it('too short an interval gets 422 with our Min-SE, and the call does not ring', async () => {
    const { peer, bob } = await called([
      ['Supported', 'timer'],
      ['Session-Expires', '30'],
    ]);
    const r = peer.responses(422)[0]!.message;
    expect(r.get('Min-SE')).toBe('90');
    expect(bob.incoming).toEqual([]);
  });

  it('a caller without timer support gets none: no Session-Expires in the 200, no BYE', async () => {
    const { n, peer, session } = await called([]);
    expect(peer.responses(200)[0]!.message.has('Session-Expires')).toBe(false);
    await advance(n, 4_000_000);
    expect(peer.requests('BYE')).toEqual([]);
    expect(session!.state).toBe(SessionState.Confirmed);
  });
});
