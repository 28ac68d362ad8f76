// The promise API: send(request) → response | timeout | transport-error, with onProvisional and a target resolver.
import { describe, expect, it } from 'vitest';
import type { SipRequest } from '../../../firmware/sip/message/message.js';
import type { RequestSender as UaRequestSender } from '../../../firmware/sip/ua/request-sender.js';
import { type RequestSender, TransactionRequestSender } from '../../../firmware/sip/transaction/request-sender.js';
import { flush } from '../support/flush.js';
import { layerAndPeer, twoLayers } from '../support/layer-fixture.js';
import { makeRequest } from '../support/sip-builders.js';

describe('TransactionRequestSender', () => {
  it('resolves with the final response and reports provisional ones', async () => {
    const { alice, bob } = twoLayers();
    bob.layer.on('request', (tx) => {
      tx.reply(100);
      tx.reply(200, { headers: [['Expires', '3600']] });
    });
    const sender: RequestSender = new TransactionRequestSender({ layer: alice.layer, resolveTarget: () => bob.target() });
    // The contract registration is written against (firmware/sip/ua/request-sender.ts) is met.
    const forRegistration: UaRequestSender = sender;
    expect(forRegistration).toBe(sender);
    const provisional: number[] = [];
    const outcome = await sender.send(makeRequest({ method: 'REGISTER', uri: 'sip:10.0.0.2' }), { onProvisional: (r) => provisional.push(r.status) });
    expect(outcome.kind).toBe('response');
    if (outcome.kind === 'response') {
      expect(outcome.response.status).toBe(200);
      expect(outcome.response.expires).toBe(3600);
    }
    expect(provisional).toEqual([100]);
  });

  it('resolves with timeout after Timer F (64*T1) when nobody answers', async () => {
    const { alice, bob, clock } = layerAndPeer();
    const sender = new TransactionRequestSender({ layer: alice.layer, resolveTarget: () => bob.target() });
    let settled = false;
    const p = sender.send(makeRequest({ method: 'OPTIONS' })).then((o) => {
      settled = true;
      return o;
    });
    await clock.advance(31_999);
    expect(settled).toBe(false);
    await clock.advance(1);
    expect(await p).toEqual({ kind: 'timeout' });
  });

  it('resolves with timeout after Timer B for an INVITE', async () => {
    const { alice, bob, clock } = layerAndPeer();
    const sender = new TransactionRequestSender({ layer: alice.layer, resolveTarget: () => bob.target('tcp') });
    const p = sender.send(makeRequest({ method: 'INVITE' }));
    await clock.advance(32_000);
    expect(await p).toEqual({ kind: 'timeout' });
    expect(bob.times('INVITE')).toEqual([0]);
  });

  it('resolves with transport-error when the send fails, the resolver throws, or the layer refuses', async () => {
    const { alice, bob, network } = layerAndPeer();
    network.impair({ failNext: 1 });
    const sender = new TransactionRequestSender({ layer: alice.layer, resolveTarget: () => bob.target() });
    const o1 = await sender.send(makeRequest({ method: 'OPTIONS' }));
    expect(o1.kind === 'transport-error' && o1.error.name).toBe('LoopbackSendError');
    const failing = new TransactionRequestSender({
      layer: alice.layer,
      resolveTarget: () => Promise.reject(new Error('DNS: no such host')),
    });
    const o2 = await failing.send(makeRequest({ method: 'OPTIONS' }));
    expect(o2.kind === 'transport-error' && o2.error.message).toBe('DNS: no such host');
    const o3 = await sender.send(makeRequest({ method: 'ACK' }));
    expect(o3.kind === 'transport-error' && o3.error.name).toBe('UnsupportedRequestError');
  });

  it('sends a request again with a new branch (an authentication retry)', async () => {
    const { alice, bob } = twoLayers();
    const branches: string[] = [];
    let n = 0;
    bob.layer.on('request', (tx) => {
      branches.push(tx.request.topVia.branch ?? '');
      tx.reply(n++ === 0 ? 401 : 200);
    });
    const seen: SipRequest[] = [];
    const sender = new TransactionRequestSender({
      layer: alice.layer,
      resolveTarget: (r) => {
        seen.push(r);
        return bob.target();
      },
    });
    const req = makeRequest({ method: 'REGISTER', uri: 'sip:10.0.0.2' });
    const first = await sender.send(req);
    expect(first.kind === 'response' && first.response.status).toBe(401);
    req.set('CSeq', '2 REGISTER');
    req.set('Authorization', 'Digest username="alice"');
    const second = await sender.send(req);
    expect(second.kind === 'response' && second.response.status).toBe(200);
    expect(branches).toHaveLength(2);
    expect(branches[0]).not.toBe(branches[1]);
    expect(seen).toHaveLength(2);
    await flush();
  });
});
