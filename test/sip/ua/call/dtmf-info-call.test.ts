// DTMF by SIP INFO in calls: one INFO per key (application/dtmf-relay), each after the previous one's 2xx, by the UA's, the call's setting; keys received by INFO as 'dtmf' events; RFC 4733 stays the default.
import { describe, expect, it } from 'vitest';
import type { SessionDtmfEvent } from '../../../../firmware/sip/ua/index.js';
import { RawPeer } from '../../support/raw-peer.js';
import { makeRequest } from '../../support/sip-builders.js';
import { answer, net, phone, settle } from './call-fixture.js';
import { Wire } from './wire.js';

describe('DTMF by INFO between two phones', () => {
  it("with dtmf: 'info' the keys go as INFOs, and the other phone reports them (both ways)", async () => {
    const n = net();
    const alice = await phone(n, '10.0.0.1', 'alice', { calls: { dtmf: 'info' } });
    const bob = await phone(n, '10.0.0.2', 'bob');
    const wa = new Wire(alice, n);
    const call = alice.ua.call('sip:bob@10.0.0.2');
    await settle(n);
    const incoming = bob.incoming[0]!;
    await incoming.accept();
    await settle(n);
    const atBob: SessionDtmfEvent[] = [];
    incoming.on('dtmf', (e) => atBob.push(e));
    expect(call.sendDtmf('12#', 120)).toBe(true);
    await settle(n);
    await settle(n);
    expect(atBob).toEqual([
      { digit: '1', durationMs: 120, via: 'info' },
      { digit: '2', durationMs: 120, via: 'info' },
      { digit: '#', durationMs: 120, via: 'info' },
    ]);
    const infos = wa.requests('out', 'INFO').map((e) => e.message);
    expect(infos.map((i) => [i.contentType?.essence, i.bodyText])).toEqual([
      ['application/dtmf-relay', 'Signal=1\r\nDuration=120\r\n'],
      ['application/dtmf-relay', 'Signal=2\r\nDuration=120\r\n'],
      ['application/dtmf-relay', 'Signal=#\r\nDuration=120\r\n'],
    ]);
    expect(alice.fake.last.log.some((l) => l.startsWith('sendDtmf'))).toBe(false);
    // Bob's own default is RFC 4733, through his handler; a call can ask for INFO by itself.
    expect(incoming.sendDtmf('5')).toBe(true);
    expect(bob.fake.last.log).toContain('sendDtmf 5 100');
    expect(incoming.dtmfMode).toBe('rfc4733');
    expect(call.sendDtmf('x')).toBe(false);
  });

  it("call({ dtmf: 'info' }) for one call, the account's dtmf for its calls; a DTMF INFO it cannot read gets 400", async () => {
    const n = net();
    const alice = await phone(n, '10.0.0.1', 'alice');
    const bob = await phone(n, '10.0.0.2', 'bob', { account: { dtmf: 'info' } });
    const wb = new Wire(bob, n);
    const call = alice.ua.call('sip:bob@10.0.0.2', { dtmf: 'info' });
    await settle(n);
    await bob.incoming[0]!.accept();
    await settle(n);
    const atAlice: SessionDtmfEvent[] = [];
    call.on('dtmf', (e) => atAlice.push(e));
    expect(call.dtmfMode).toBe('info');
    expect(bob.incoming[0]!.dtmfMode).toBe('info');
    call.sendDtmf('9');
    await settle(n);
    expect(wb.requests('in', 'INFO')).toHaveLength(1);
    // An INFO Bob's phone sends with a body that is no DTMF is refused, and reports nothing.
    const other = await bob.incoming[0]!.sendRequest('INFO', { body: '<x/>', contentType: 'application/dtmf' });
    expect(other.kind === 'response' && other.response.status).toBe(400);
    expect(atAlice).toEqual([]);
  });
});

describe('DTMF by INFO to a scripted peer', () => {
  it('sends the next key only after the previous INFO was answered 2xx; a failure drops the rest', async () => {
    const n = net();
    const bob = await phone(n, '10.0.0.2', 'bob', { calls: { dtmf: 'info' } });
    const peer = new RawPeer(n.network, '10.0.0.9');
    const PHONE = { protocol: 'udp' as const, address: '10.0.0.2', port: 5060 };
    const common = { fromUri: 'sip:carol@example.com', fromTag: 'c1', callId: 'dtmf-1', contact: 'sip:carol@10.0.0.9' };
    await peer.send(makeRequest({ ...common, method: 'INVITE', uri: 'sip:bob@10.0.0.2', cseq: 1, via: { host: '10.0.0.9', branch: 'z9hG4bKd1', rport: true }, body: 'v=0 o', contentType: 'application/sdp' }), PHONE);
    await settle(n);
    const session = bob.incoming[0]!;
    await session.accept();
    await settle(n);
    await peer.send(makeRequest({ ...common, method: 'ACK', uri: 'sip:bob@10.0.0.2:5060', toTag: session.localTag, cseq: 1, via: { host: '10.0.0.9', branch: 'z9hG4bKd1a', rport: true } }), PHONE);
    await settle(n);
    expect(session.sendDtmf('123')).toBe(true);
    await settle(n);
    expect(peer.requests('INFO').map((r) => r.message.bodyText)).toEqual(['Signal=1\r\nDuration=100\r\n']);
    await answer(peer, peer.requests('INFO')[0]!, 200);
    await settle(n);
    expect(peer.requests('INFO').map((r) => r.message.bodyText)).toEqual(['Signal=1\r\nDuration=100\r\n', 'Signal=2\r\nDuration=100\r\n']);
    await answer(peer, peer.requests('INFO')[1]!, 415);
    await settle(n);
    await n.clock.advance(1000);
    await settle(n);
    expect(peer.requests('INFO')).toHaveLength(2);
    // A key received from the peer in application/dtmf (no duration).
    const keys: SessionDtmfEvent[] = [];
    session.on('dtmf', (e) => keys.push(e));
    await peer.send(
      makeRequest({ ...common, method: 'INFO', uri: 'sip:bob@10.0.0.2:5060', toTag: session.localTag, cseq: 2, via: { host: '10.0.0.9', branch: 'z9hG4bKi1', rport: true }, body: '*', contentType: 'application/dtmf' }),
      PHONE,
    );
    await settle(n);
    expect(keys).toEqual([{ digit: '*', durationMs: undefined, via: 'info' }]);
    expect(peer.responses(200).map((r) => r.message.cseq.method)).toContain('INFO');
  });
});
