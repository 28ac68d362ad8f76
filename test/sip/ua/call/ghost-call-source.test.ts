// Ghost-call protection compares protocol, address AND port: an INVITE (or MESSAGE) from the registrar's host but another port, or over another transport, gets 403 and never rings.
import { describe, expect, it } from 'vitest';
import type { SipRequest } from '../../../../firmware/sip/message/index.js';
import { sameServer } from '../../../../firmware/sip/ua/call/call-manager.js';
import { RawPeer } from '../../support/raw-peer.js';
import { makeRequest } from '../../support/sip-builders.js';
import { net, phone, settle } from './call-fixture.js';

const PBX = '10.0.0.5';

function request(method: 'INVITE' | 'MESSAGE', from: RawPeer, transport: 'UDP' | 'TCP', n: number): SipRequest {
  return makeRequest({
    method,
    uri: 'sip:bob@10.0.0.2',
    fromUri: 'sip:alice@pbx.test',
    fromTag: `caller${n}`,
    callId: `ghost-${n}`,
    cseq: 1,
    via: { transport, host: from.address, port: from.port, branch: `z9hG4bKghost${n}`, rport: true },
    contact: `sip:alice@${from.address}:${from.port}`,
    ...(method === 'INVITE' ? { body: 'v=0 o', contentType: 'application/sdp' } : { body: 'hello', contentType: 'text/plain' }),
  });
}

/** The final status the peer got for a Call-ID. */
function finalStatus(peer: RawPeer, callId: string): number | undefined {
  return peer.responses().find((r) => r.message.callId === callId && r.message.status >= 200)?.message.status;
}

describe('ghost-call protection: the server is protocol, address and port', () => {
  it('sameServer: all three must match (IPv6 spellings compared as addresses)', () => {
    const t = { protocol: 'udp' as const, address: '10.0.0.5', port: 5060 };
    expect(sameServer(t, { protocol: 'udp', address: '10.0.0.5', port: 5060 })).toBe(true);
    expect(sameServer(t, { protocol: 'udp', address: '10.0.0.5', port: 5070 })).toBe(false);
    expect(sameServer(t, { protocol: 'tcp', address: '10.0.0.5', port: 5060 })).toBe(false);
    expect(sameServer(t, { protocol: 'udp', address: '10.0.0.6', port: 5060 })).toBe(false);
    expect(sameServer({ protocol: 'udp', address: '::1', port: 5060 }, { protocol: 'udp', address: '0:0:0:0:0:0:0:1', port: 5060 })).toBe(true);
  });

  it('UDP: an INVITE from the registrar host but another port gets 403 and never rings; from its port it rings', async () => {
    const n = net({ a: { 'pbx.test': [PBX] } });
    const bob = await phone(n, '10.0.0.2', 'bob', { account: { aor: 'sip:bob@pbx.test', registrar: 'sip:pbx.test:5080' }, calls: { acceptCallsFrom: 'proxy' } });
    // Everything on one host, as on 127.0.0.1 in the interop tests: a scanner on the PBX's own address.
    const neighbour = new RawPeer(n.network, PBX, 5060);
    const pbx = new RawPeer(n.network, PBX, 5080);
    await neighbour.send(request('INVITE', neighbour, 'UDP', 1), { protocol: 'udp', address: '10.0.0.2', port: 5060 });
    await settle(n);
    expect(finalStatus(neighbour, 'ghost-1')).toBe(403);
    expect(neighbour.responses(180)).toEqual([]);
    expect(bob.incoming).toEqual([]);
    expect(bob.fake.made).toEqual([]);

    await pbx.send(request('INVITE', pbx, 'UDP', 2), { protocol: 'udp', address: '10.0.0.2', port: 5060 });
    await settle(n);
    expect(bob.incoming).toHaveLength(1);
    expect(pbx.responses(180)).toHaveLength(1);
  });

  it('UDP: an unsolicited MESSAGE from another port of the registrar host is refused too (the same check)', async () => {
    const n = net({ a: { 'pbx.test': [PBX] } });
    await phone(n, '10.0.0.2', 'bob', { account: { aor: 'sip:bob@pbx.test', registrar: 'sip:pbx.test:5080' }, calls: { acceptCallsFrom: 'proxy' } });
    const neighbour = new RawPeer(n.network, PBX, 5060);
    const pbx = new RawPeer(n.network, PBX, 5080);
    await neighbour.send(request('MESSAGE', neighbour, 'UDP', 3), { protocol: 'udp', address: '10.0.0.2', port: 5060 });
    await pbx.send(request('MESSAGE', pbx, 'UDP', 4), { protocol: 'udp', address: '10.0.0.2', port: 5060 });
    await settle(n);
    expect(finalStatus(neighbour, 'ghost-3')).toBe(403);
    expect(finalStatus(pbx, 'ghost-4')).toBe(200);
  });

  it('TCP account: only a request on a connection with the server’s port is the server; UDP from that port, or a connection from another port, gets 403', async () => {
    const n = net({ a: { 'pbx.test': [PBX] } });
    const bob = await phone(n, '10.0.0.2', 'bob', { account: { aor: 'sip:bob@pbx.test', transport: 'tcp' }, calls: { acceptCallsFrom: 'proxy' } });
    const pbx = new RawPeer(n.network, PBX, 5060);
    const other = new RawPeer(n.network, PBX, 40000);
    const phoneTcp = { protocol: 'tcp' as const, address: '10.0.0.2', port: 5060 };
    await pbx.send(request('INVITE', pbx, 'UDP', 5), { protocol: 'udp', address: '10.0.0.2', port: 5060 });
    await other.send(request('INVITE', other, 'TCP', 6), phoneTcp);
    await settle(n);
    expect(finalStatus(pbx, 'ghost-5')).toBe(403);
    expect(finalStatus(other, 'ghost-6')).toBe(403);
    expect(bob.incoming).toEqual([]);

    await pbx.send(request('INVITE', pbx, 'TCP', 7), phoneTcp);
    await settle(n);
    expect(bob.incoming).toHaveLength(1);
    expect(pbx.responses(180)).toHaveLength(1);
  });
});
