// Message waiting through the UserAgent: unsolicited NOTIFYs trusted from the registrar only (403 from strangers), 489 / 481, the message-summary subscription against the scripted notifier, unsubscribed on stop().
import { describe, expect, it } from 'vitest';
import type { SipResponse } from '../../../firmware/sip/message/index.js';
import type { MwiSummary } from '../../../firmware/sip/ua/index.js';
import { makeRequest } from '../support/sip-builders.js';
import { RawPeer } from '../support/raw-peer.js';
import { type Net, type Phone, answer, lastOf, net, phone, settle } from './call/call-fixture.js';
import { ScriptedNotifier } from './subscription-notifier.js';

const BODY = 'Messages-Waiting: yes\r\nMessage-Account: sip:*97@10.0.0.3\r\nVoice-Message: 3/5 (1/0)\r\n';

let branch = 0;

/** An unsolicited NOTIFY as Asterisk sends it after REGISTER (no To tag), from a raw peer to the phone; the final response. */
async function unsolicited(n: Net, from: RawPeer, o: { event?: string; toUser?: string; body?: string; contentType?: string } = {}): Promise<SipResponse> {
  const user = o.toUser ?? '1003';
  from.clear();
  const req = makeRequest({
    method: 'NOTIFY',
    uri: `sip:${user}@10.0.0.1:5060`,
    fromUri: 'sip:asterisk@10.0.0.3',
    toUri: `sip:${user}@10.0.0.3`,
    callId: `mwi-${++branch}`,
    via: { host: from.address, branch: `z9hG4bKmwi${branch}` },
    headers: [
      ['Event', o.event ?? 'message-summary'],
      ['Subscription-State', 'active'],
    ],
    body: o.body ?? BODY,
    contentType: o.contentType ?? 'application/simple-message-summary',
  });
  await from.send(req, { protocol: 'udp', address: '10.0.0.1', port: 5060 });
  await settle(n);
  const res = from.responses().find((r) => r.message.status >= 200)?.message;
  if (!res) throw new Error('no final response to the NOTIFY');
  return res;
}

/** The phone 1003 whose registrar is 10.0.0.3, with ghost-call protection on (the default policy). */
async function setup(o: { mwi?: 'subscribe' | 'listen' | 'off'; acceptCallsFrom?: 'proxy' | 'any' } = {}): Promise<{ n: Net; p: Phone; registrar: RawPeer; stranger: RawPeer; events: MwiSummary[] }> {
  const n = net();
  const registrar = new RawPeer(n.network, '10.0.0.3');
  const stranger = new RawPeer(n.network, '10.0.0.66');
  const p = await phone(n, '10.0.0.1', '1003', { account: { aor: 'sip:1003@10.0.0.3', mwi: o.mwi }, calls: { acceptCallsFrom: o.acceptCallsFrom ?? 'proxy' } });
  const events: MwiSummary[] = [];
  p.ua.on('mwi', (s) => events.push(s));
  return { n, p, registrar, stranger, events };
}

describe('UserAgent MWI: unsolicited NOTIFY (listen, the default without a mailbox)', () => {
  it('takes a message-summary NOTIFY from the registrar: 200 and an mwi event with the counts', async () => {
    const { n, p, registrar, events } = await setup();
    const res = await unsolicited(n, registrar);
    expect(res.status).toBe(200);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ accountId: '1003', waiting: true, newVoice: 3, oldVoice: 5, urgentNewVoice: 1, source: 'unsolicited' });
    expect(p.ua.mwiSummary('1003')).toMatchObject({ waiting: true, newVoice: 3 });
  });

  it('refuses the same NOTIFY from an address that is no registrar or proxy of ours with 403, and lights nothing', async () => {
    const { n, p, stranger, events } = await setup();
    expect((await unsolicited(n, stranger)).status).toBe(403);
    expect(events).toEqual([]);
    expect(p.ua.mwiSummary('1003')).toBeUndefined();
  });

  it('takes it from anyone when calls.acceptCallsFrom is any (the same policy as INVITEs)', async () => {
    const { n, stranger, events } = await setup({ acceptCallsFrom: 'any' });
    expect((await unsolicited(n, stranger)).status).toBe(200);
    expect(events).toHaveLength(1);
  });

  it('answers another event package 489 with Allow-Events, another user 481, a wrong body type 415', async () => {
    const { n, registrar, events } = await setup();
    const other = await unsolicited(n, registrar, { event: 'presence' });
    expect([other.status, other.get('Allow-Events')]).toEqual([489, 'message-summary']);
    expect((await unsolicited(n, registrar, { toUser: '2000' })).status).toBe(481);
    expect((await unsolicited(n, registrar, { body: 'hello', contentType: 'text/plain' })).status).toBe(415);
    expect(events).toEqual([]);
  });

  it('with mwi off, answers 481 (no subscription)', async () => {
    const { n, registrar, events } = await setup({ mwi: 'off' });
    expect((await unsolicited(n, registrar)).status).toBe(481);
    expect(events).toEqual([]);
  });
});

describe('UserAgent MWI: subscription', () => {
  it('subscribes to the mailbox when one is configured, emits each NOTIFY, and unsubscribes on stop()', async () => {
    const n = net();
    const notifier = new ScriptedNotifier(n.network, '10.0.0.2');
    const p = await phone(n, '10.0.0.1', '1003', { account: { aor: 'sip:1003@10.0.0.2', mailbox: 'sip:*97@10.0.0.2' } });
    const events: MwiSummary[] = [];
    p.ua.on('mwi', (s) => events.push(s));
    await settle(n);
    const sub = notifier.last();
    expect(sub.uri.toString()).toBe('sip:*97@10.0.0.2');
    expect(sub.event?.value).toBe('message-summary');
    expect(sub.from.uri.toString()).toBe('sip:1003@10.0.0.2');
    expect(sub.contact[0]?.uri.toString()).toBe('sip:1003@10.0.0.1:5060');
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ accountId: '1003', waiting: true, newVoice: 2, oldVoice: 8, source: 'subscription' });
    // A NOTIFY in the subscription's dialog is not a call's: the UA routes it to the MWI client, not 481.
    await notifier.notify({ body: 'Messages-Waiting: no\r\nVoice-Message: 0/10 (0/0)\r\n' });
    await settle(n);
    expect(notifier.notifyStatuses()).toEqual([200, 200]);
    expect(p.ua.mwiSummary('1003')).toMatchObject({ waiting: false, oldVoice: 10 });
    const stopped = p.ua.stop();
    await n.clock.advance(100);
    await stopped;
    expect(notifier.last().expires).toBe(0);
  });

  it('subscribes once the account registered (not before)', async () => {
    const n = net();
    const notifier = new ScriptedNotifier(n.network, '10.0.0.2');
    const registrar = new RawPeer(n.network, '10.0.0.5');
    await phone(n, '10.0.0.1', '1003', { account: { aor: 'sip:1003@10.0.0.5', register: true, mailbox: 'sip:*97@10.0.0.2' } });
    await settle(n);
    const register = lastOf(registrar, 'REGISTER');
    expect(notifier.subscribes).toEqual([]);
    const contact = register.message.get('Contact') ?? '';
    await answer(registrar, register, 200, { toTag: 'reg1', headers: [['Contact', `${contact};expires=3600`], ['Expires', '3600']] });
    await settle(n);
    expect(notifier.subscribes).toHaveLength(1);
    expect(notifier.last().uri.toString()).toBe('sip:*97@10.0.0.2');
  });

  it('subscribes to the AOR with mwi: subscribe and no mailbox', async () => {
    const n = net();
    const notifier = new ScriptedNotifier(n.network, '10.0.0.2');
    await phone(n, '10.0.0.1', '1003', { account: { aor: 'sip:1003@10.0.0.2', mwi: 'subscribe' } });
    await settle(n);
    expect(notifier.last().uri.toString()).toBe('sip:1003@10.0.0.2');
  });

  it('does not subscribe in listen mode', async () => {
    const n = net();
    const notifier = new ScriptedNotifier(n.network, '10.0.0.2');
    await phone(n, '10.0.0.1', '1003', { account: { aor: 'sip:1003@10.0.0.2' } });
    await settle(n);
    expect(notifier.subscribes).toEqual([]);
  });
});
