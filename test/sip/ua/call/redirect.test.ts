// IncomingSession.redirect(): call forwarding answered by the phone with a 3xx (RFC 3261 §21.3) — the Contacts on the wire, and a caller UA on the loopback following them.
import { describe, expect, it } from 'vitest';
import { makeRequest } from '../../support/sip-builders.js';
import { RawPeer } from '../../support/raw-peer.js';
import { SessionState } from '../../../../firmware/sip/ua/index.js';
import { sipUri, uri } from '../../../../firmware/sip/message/index.js';
import { net, phone, settle } from './call-fixture.js';

const PHONE = { protocol: 'udp' as const, address: '10.0.0.2', port: 5060 };

function invite(from: RawPeer, fromTag = 'caller1', callId = 'call-redirect-1') {
  return makeRequest({
    method: 'INVITE',
    uri: 'sip:bob@10.0.0.2',
    fromUri: 'sip:alice@example.com',
    fromTag,
    callId,
    cseq: 10,
    via: { host: from.address, branch: `z9hG4bK${callId}`, rport: true },
    contact: `sip:alice@${from.address}`,
    body: 'v=0 o',
    contentType: 'application/sdp',
  });
}

describe('IncomingSession.redirect (3xx, RFC 3261 §21.3)', () => {
  it('answers 302 with one Contact per target (q in order; a number at the account domain) and ends as redirected', async () => {
    const n = net();
    const bob = await phone(n, '10.0.0.2', 'bob');
    const peer = new RawPeer(n.network, '10.0.0.9');
    await peer.send(invite(peer), PHONE);
    await settle(n);
    const session = bob.incoming[0]!;
    expect(session.redirect(['1009', sipUri('sip:vm@10.0.0.7'), 'tel:+15551234'])).toBe(true);
    await settle(n);
    const finals = peer.responses().filter((r) => r.message.status >= 200);
    expect(finals.map((r) => [r.message.status, r.message.reason])).toEqual([[302, 'Moved Temporarily']]);
    const res = finals[0]!.message;
    expect(res.contact.map((c) => [c.uri.toString(), c.params.get('q')])).toEqual([
      ['sip:1009@10.0.0.2', '1.00'],
      ['sip:vm@10.0.0.7', '0.67'],
      ['sip:+15551234@10.0.0.2;user=phone', '0.33'],
    ]);
    expect(res.to.tag).toBe(session.localTag);
    expect(await session.ended).toMatchObject({ kind: 'redirected', status: 302 });
    expect(session.state).toBe(SessionState.Terminated);
    // Too late now: nothing more is sent.
    expect(session.redirect(['1010'])).toBe(false);
    expect(() => session.redirect(['1010'], 486)).toThrow(RangeError);
  });

  it('301 with a single target carries no q; a call already answered cannot be redirected', async () => {
    const n = net();
    const bob = await phone(n, '10.0.0.2', 'bob');
    const peer = new RawPeer(n.network, '10.0.0.9');
    await peer.send(invite(peer, 'caller2', 'call-redirect-2'), PHONE);
    await settle(n);
    const first = bob.incoming[0]!;
    expect(first.redirect(['sip:carol@10.0.0.3'], 301)).toBe(true);
    await settle(n);
    expect(peer.responses(301)[0]!.message.get('Contact')).toBe('<sip:carol@10.0.0.3>');

    await peer.send(invite(peer, 'caller3', 'call-redirect-3'), PHONE);
    await settle(n);
    const second = bob.incoming[1]!;
    await second.accept();
    expect(second.redirect(['1009'])).toBe(false);
    await settle(n);
    expect(peer.responses(302)).toEqual([]);
    expect(peer.responses(200)).toHaveLength(1);
  });

  it('no target that makes a SIP URI: nothing is sent, the call still rings', async () => {
    const n = net();
    const bob = await phone(n, '10.0.0.2', 'bob');
    const peer = new RawPeer(n.network, '10.0.0.9');
    await peer.send(invite(peer), PHONE);
    await settle(n);
    const session = bob.incoming[0]!;
    expect(session.redirect([uri('mailto:bob@example.com'), ''])).toBe(false);
    expect(session.state).toBe(SessionState.Early);
  });

  it('the caller UA follows the 302 to the target, which rings and answers', async () => {
    const n = net();
    const alice = await phone(n, '10.0.0.1', 'alice');
    const bob = await phone(n, '10.0.0.2', 'bob');
    const carol = await phone(n, '10.0.0.3', 'carol');
    const call = alice.ua.call('sip:bob@10.0.0.2');
    await settle(n);
    expect(bob.incoming).toHaveLength(1);
    bob.incoming[0]!.redirect(['sip:carol@10.0.0.3']);
    await settle(n);
    expect(await bob.incoming[0]!.ended).toMatchObject({ kind: 'redirected', status: 302, detail: 'sip:carol@10.0.0.3' });
    expect(carol.incoming).toHaveLength(1);
    expect(carol.incoming[0]!.remote.number).toBe('alice');
    await carol.incoming[0]!.accept();
    await settle(n);
    expect(call.state).toBe(SessionState.Confirmed);
    call.hangup();
    await settle(n);
    expect(await carol.incoming[0]!.ended).toMatchObject({ kind: 'remote-hangup' });
  });
});
