// Instant messages through the UserAgent: MESSAGE from the registrar taken (403 from strangers), sendMessage() between two phones, MESSAGE within a call.
import { describe, expect, it } from 'vitest';
import type { SipResponse } from '../../../firmware/sip/message/index.js';
import type { UaMessage } from '../../../firmware/sip/ua/index.js';
import { RawPeer } from '../support/raw-peer.js';
import { makeRequest } from '../support/sip-builders.js';
import { type Net, net, phone, settle } from './call/call-fixture.js';

let n0 = 0;

async function message(n: Net, from: RawPeer, o: { body?: string; contentType?: string; user?: string } = {}): Promise<SipResponse> {
  from.clear();
  n0++;
  const req = makeRequest({
    method: 'MESSAGE',
    uri: `sip:${o.user ?? '1003'}@10.0.0.1:5060`,
    fromUri: 'sip:1004@10.0.0.3',
    toUri: `sip:${o.user ?? '1003'}@10.0.0.3`,
    callId: `msg-${n0}`,
    via: { host: from.address, branch: `z9hG4bKmsg${n0}` },
    body: o.body ?? 'Lunch at 12?',
    contentType: o.contentType ?? 'text/plain;charset=UTF-8',
  });
  await from.send(req, { protocol: 'udp', address: '10.0.0.1', port: 5060 });
  await settle(n);
  const res = from.responses().find((r) => r.message.status >= 200)?.message;
  if (!res) throw new Error('no final response to the MESSAGE');
  return res;
}

describe('UserAgent MESSAGE (RFC 3428)', () => {
  it('takes a text MESSAGE relayed by the registrar: 200 and a message event for the account', async () => {
    const n = net();
    const registrar = new RawPeer(n.network, '10.0.0.3');
    const p = await phone(n, '10.0.0.1', '1003', { account: { aor: 'sip:1003@10.0.0.3' }, calls: { acceptCallsFrom: 'proxy' } });
    const got: UaMessage[] = [];
    p.ua.on('message', (m) => got.push(m));
    expect((await message(n, registrar)).status).toBe(200);
    expect(got).toHaveLength(1);
    expect(got[0]).toMatchObject({ accountId: '1003', body: 'Lunch at 12?', inDialog: false, from: { uri: 'sip:1004@10.0.0.3' } });
    // Another body type: 415 with Accept (the UA's list, from the stateless checks).
    const html = await message(n, registrar, { body: '<b>x</b>', contentType: 'text/html' });
    expect(html.status).toBe(415);
    expect(html.get('Accept')).toContain('text/plain');
  });

  it('refuses a MESSAGE from an address that is no registrar or proxy of ours with 403 (the INVITE policy), unless acceptCallsFrom is any', async () => {
    const n = net();
    const stranger = new RawPeer(n.network, '10.0.0.66');
    const guarded = await phone(n, '10.0.0.1', '1003', { account: { aor: 'sip:1003@10.0.0.3' }, calls: { acceptCallsFrom: 'proxy' } });
    const got: UaMessage[] = [];
    guarded.ua.on('message', (m) => got.push(m));
    expect((await message(n, stranger)).status).toBe(403);
    expect(got).toEqual([]);
    await guarded.ua.stop({ unregister: false });
    const open = await phone(n, '10.0.0.1', '1003', { account: { aor: 'sip:1003@10.0.0.3' } });
    open.ua.on('message', (m) => got.push(m));
    expect((await message(n, stranger)).status).toBe(200);
    expect(got).toHaveLength(1);
  });

  it('sendMessage() delivers text to another phone, and reports a refusal', async () => {
    const n = net();
    const alice = await phone(n, '10.0.0.1', 'alice');
    const bob = await phone(n, '10.0.0.2', 'bob');
    const got: UaMessage[] = [];
    bob.ua.on('message', (m) => got.push(m));
    const sent = alice.ua.sendMessage('sip:bob@10.0.0.2', 'héllo bob');
    await settle(n);
    expect(await sent).toEqual({ ok: true, status: 200 });
    expect(got[0]).toMatchObject({ accountId: 'bob', body: 'héllo bob', from: { uri: 'sip:alice@10.0.0.1' }, contentType: 'text/plain;charset=UTF-8' });
    const unknown = alice.ua.sendMessage('sip:bob@10.0.0.2', 'x', { accountId: 'nobody' });
    expect(await unknown).toMatchObject({ ok: false, cause: 'not-configured' });
    const bad = await alice.ua.sendMessage('not a uri', 'x');
    expect(bad).toMatchObject({ ok: false, cause: 'bad-target' });
  });

  it('takes a MESSAGE within a call from its peer (inDialog), whatever the source policy', async () => {
    const n = net();
    const alice = await phone(n, '10.0.0.1', 'alice');
    const bob = await phone(n, '10.0.0.2', 'bob');
    const call = alice.ua.call('sip:bob@10.0.0.2');
    await settle(n);
    await bob.incoming[0]!.accept();
    await settle(n);
    const got: UaMessage[] = [];
    bob.ua.on('message', (m) => got.push(m));
    const r = call.sendRequest('MESSAGE', { body: 'in the call', contentType: 'text/plain' });
    await settle(n);
    const outcome = await r;
    expect(outcome.kind === 'response' ? outcome.response.status : outcome.kind).toBe(200);
    expect(got[0]).toMatchObject({ accountId: 'bob', body: 'in the call', inDialog: true, callId: call.callId });
  });
});
