// MwiClient: message-summary subscription through the scripted notifier, unsolicited NOTIFYs as Asterisk sends them, trust, 489 / 403 / 415.
import { describe, expect, it } from 'vitest';
import { TransactionRequestSender } from '../../../firmware/sip/transaction/index.js';
import { Account } from '../../../firmware/sip/ua/account.js';
import { MwiClient, type MwiClientOptions, type MwiInvalid, type MwiSummary, type UnsolicitedAnswer } from '../../../firmware/sip/ua/mwi.js';
import { SubscriptionState } from '../../../firmware/sip/ua/subscription.js';
import { addLayer, createNetwork } from '../support/layer-fixture.js';
import { RawPeer } from '../support/raw-peer.js';
import { makeRequest } from '../support/sip-builders.js';
import { nextHopTarget } from '../support/test-user-agent.js';
import { ScriptedNotifier } from './subscription-notifier.js';

const AOR = 'sip:1003@10.0.0.2';
const ASTERISK_BODY = 'Messages-Waiting: yes\r\nMessage-Account: sip:asterisk@10.0.0.2\r\nVoice-Message: 3/5 (1/0)\r\n';

function countingBytes(): (n: number) => Uint8Array {
  let next = 0;
  return (n) => Uint8Array.from({ length: n }, () => next++ & 0xff);
}

function setup(o: Partial<MwiClientOptions> = {}) {
  const { clock, network } = createNetwork();
  const phone = addLayer(network, '10.0.0.1');
  const notifier = new ScriptedNotifier(network);
  const registrar = new RawPeer(network, '10.0.0.3');
  const stranger = new RawPeer(network, '10.0.0.66');
  const account = Account.from({ aor: AOR, password: 'secret-1003' });
  const mwi = new MwiClient({
    account,
    sender: new TransactionRequestSender({ layer: phone.layer, resolveTarget: nextHopTarget }),
    clock,
    random: () => 0.5,
    randomBytes: countingBytes(),
    contactAddress: () => ({ host: '10.0.0.1', port: 5060, transport: 'udp' }),
    ...o,
  });
  const summaries: MwiSummary[] = [];
  const invalid: MwiInvalid[] = [];
  const unsolicited: UnsolicitedAnswer[] = [];
  mwi.on('summary', (s) => summaries.push(s));
  mwi.on('invalid', (i) => invalid.push(i));
  // What the UA does: the subscription first, then an unsolicited NOTIFY for this account
  // (trusted when it comes from the registrar's address), else 481.
  phone.layer.on('request', (tx, inbound) => {
    if (mwi.receiveRequest(tx)) return;
    if (tx.request.method === 'NOTIFY' && tx.request.to.tag === undefined && mwi.isForAccount(tx.request)) {
      unsolicited.push(mwi.receiveUnsolicited(tx, { trusted: inbound.source.address === registrar.address }));
      return;
    }
    tx.reply(481);
  });
  /** An unsolicited NOTIFY from a raw peer (as Asterisk sends after REGISTER: no To tag, no dialog). */
  const sendUnsolicited = async (from: RawPeer, o2: { event?: string; body?: string; contentType?: string; toUri?: string } = {}) => {
    const req = makeRequest({
      method: 'NOTIFY',
      uri: 'sip:1003@10.0.0.1:5060',
      fromUri: 'sip:asterisk@10.0.0.2',
      toUri: o2.toUri ?? AOR,
      callId: `unsolicited-${from.received.length}-${clock.now()}`,
      via: { host: from.address, branch: `z9hG4bKu${from.received.length}${clock.now()}` },
      headers: [
        ['Event', o2.event ?? 'message-summary'],
        ['Subscription-State', 'active'],
      ],
      body: o2.body ?? ASTERISK_BODY,
      contentType: o2.contentType ?? 'application/simple-message-summary',
    });
    from.clear();
    await from.send(req, phone.target());
    await clock.advance(0);
    const res = from.responses()[0]?.message;
    if (!res) throw new Error('no response');
    return res;
  };
  return { clock, notifier, registrar, stranger, mwi, summaries, invalid, unsolicited, sendUnsolicited };
}

describe('MwiClient (subscribe)', () => {
  it('subscribes to message-summary for the AOR and emits the summary of each NOTIFY', async () => {
    const { clock, notifier, mwi, summaries } = setup();
    mwi.start();
    await clock.advance(0);
    const req = notifier.last();
    expect(req.event?.value).toBe('message-summary');
    expect(req.get('Accept')).toBe('application/simple-message-summary');
    expect(req.uri.toString()).toBe(AOR);
    expect(req.expires).toBe(3600);
    expect(mwi.subscription?.state).toBe(SubscriptionState.Active);
    expect(summaries).toHaveLength(1);
    expect(summaries[0]).toMatchObject({ accountId: AOR, waiting: true, newVoice: 2, oldVoice: 8, urgentNewVoice: 1, urgentOldVoice: 0, account: 'sip:*97@10.0.0.2', source: 'subscription' });
    await clock.advance(60_000);
    await notifier.notify({ body: 'Messages-Waiting: no\r\nVoice-Message: 0/10 (0/0)\r\n' });
    await clock.advance(0);
    expect(mwi.summary).toMatchObject({ waiting: false, newVoice: 0, oldVoice: 10, atMs: 60_000 });
  });

  it('answers a NOTIFY with an unusable body 200 all the same, and reports it', async () => {
    const { clock, notifier, mwi, summaries, invalid } = setup();
    notifier.body = 'Messages-Waiting: perhaps\r\n';
    mwi.start();
    await clock.advance(0);
    expect(notifier.notifyStatuses()).toEqual([200]);
    expect(summaries).toEqual([]);
    expect(invalid[0]?.error.code).toBe('bad-status');
    await notifier.notify({ body: 'hello', contentType: 'text/plain' });
    await clock.advance(0);
    expect(invalid[1]?.error.code).toBe('unsupported-type');
  });

  it('emits nothing for a NOTIFY without a body (pending)', async () => {
    const { clock, notifier, mwi, summaries } = setup();
    notifier.body = undefined;
    notifier.substate = 'pending';
    mwi.start();
    await clock.advance(0);
    expect(mwi.subscription?.state).toBe(SubscriptionState.Pending);
    expect(summaries).toEqual([]);
  });

  it('subscribes to another mailbox URI when configured, and unsubscribes on stop()', async () => {
    const { clock, notifier, mwi } = setup({ mailbox: Account.from({ aor: 'sip:*97@10.0.0.2', password: 'x' }).aor, expiresS: 600 });
    mwi.start();
    await clock.advance(0);
    expect(notifier.last().uri.toString()).toBe('sip:*97@10.0.0.2');
    expect(notifier.last().expires).toBe(600);
    const stopped = mwi.stop();
    await clock.advance(0);
    await stopped;
    expect(notifier.last().expires).toBe(0);
    expect(mwi.subscription?.state).toBe(SubscriptionState.Idle);
  });

  it('resubscribes on the virtual clock like any subscription (refresh at 0.9 of the grant)', async () => {
    const { clock, notifier, mwi } = setup();
    mwi.start();
    await clock.advance(540_000);
    expect(notifier.times()).toEqual([0, 540_000]);
    expect(mwi.subscription?.state).toBe(SubscriptionState.Active);
  });
});

describe('MwiClient (unsolicited NOTIFY)', () => {
  it('in listen mode sends no SUBSCRIBE and takes NOTIFYs from the registrar: 200 and the summary', async () => {
    const { clock, notifier, registrar, mwi, summaries, sendUnsolicited } = setup({ mode: 'listen' });
    mwi.start();
    await clock.advance(0);
    expect(notifier.subscribes).toEqual([]);
    expect(mwi.subscription).toBeUndefined();
    const res = await sendUnsolicited(registrar);
    expect(res.status).toBe(200);
    expect(summaries).toMatchObject([{ waiting: true, newVoice: 3, oldVoice: 5, urgentNewVoice: 1, account: 'sip:asterisk@10.0.0.2', source: 'unsolicited' }]);
  });

  it('takes them in subscribe mode too', async () => {
    const { clock, registrar, mwi, summaries, sendUnsolicited } = setup();
    mwi.start();
    await clock.advance(0);
    expect((await sendUnsolicited(registrar)).status).toBe(200);
    expect(summaries.map((s) => s.source)).toEqual(['subscription', 'unsolicited']);
  });

  it('refuses them from an untrusted source (403): a stranger cannot light the lamp', async () => {
    const { stranger, summaries, sendUnsolicited } = setup({ mode: 'listen' });
    expect((await sendUnsolicited(stranger)).status).toBe(403);
    expect(summaries).toEqual([]);
  });

  it('answers 489 with Allow-Events to another event package', async () => {
    const { registrar, sendUnsolicited } = setup({ mode: 'listen' });
    const res = await sendUnsolicited(registrar, { event: 'check-sync' });
    expect(res.status).toBe(489);
    expect(res.get('Allow-Events')).toBe('message-summary');
  });

  it('answers 415 with Accept to another body type, and 200 to an unusable summary', async () => {
    const { registrar, invalid, sendUnsolicited } = setup({ mode: 'listen' });
    const res = await sendUnsolicited(registrar, { contentType: 'text/plain' });
    expect(res.status).toBe(415);
    expect(res.get('Accept')).toBe('application/simple-message-summary');
    expect((await sendUnsolicited(registrar, { body: 'Voice-Message: lots\r\n' })).status).toBe(200);
    expect(invalid.map((i) => i.error.code)).toEqual(['unsupported-type', 'bad-counts']);
  });

  it('tells whether a request is for its account, by To or Request-URI user', () => {
    const { mwi } = setup({ mode: 'listen' });
    const mk = (toUri: string, uri: string) => makeRequest({ method: 'NOTIFY', uri, toUri });
    expect(mwi.isForAccount(mk(AOR, 'sip:x@10.0.0.1'))).toBe(true);
    expect(mwi.isForAccount(mk('sip:9999@10.0.0.2', 'sip:1003@10.0.0.1:5060'))).toBe(true);
    expect(mwi.isForAccount(mk('sip:9999@10.0.0.2', 'sip:9999@10.0.0.1'))).toBe(false);
    // Leaves requests that are not unsolicited NOTIFYs unanswered.
    expect(mwi.receiveUnsolicited({ request: makeRequest({ method: 'MESSAGE' }) } as never, { trusted: true })).toEqual({ handled: false });
  });
});
