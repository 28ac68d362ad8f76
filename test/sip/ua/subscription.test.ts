// SubscriptionClient against a scripted notifier on the loopback network with a virtual clock: dialog from 2xx or NOTIFY, refresh, termination reasons, failures, unsubscribe.
import { describe, expect, it } from 'vitest';
import { type SipRequest, SipResponse, createResponse } from '../../../firmware/sip/message/index.js';
import { TransactionRequestSender } from '../../../firmware/sip/transaction/index.js';
import { Account, type AccountSettings } from '../../../firmware/sip/ua/account.js';
import type { RequestOutcome, RequestSender } from '../../../firmware/sip/ua/request-sender.js';
import {
  SubscriptionClient,
  type SubscriptionClientOptions,
  type SubscriptionNotify,
  SubscriptionState,
  type SubscriptionStatus,
  subscriptionRefreshDelayMs,
} from '../../../firmware/sip/ua/subscription.js';
import { VirtualClock } from '../../../firmware/util/clock.js';
import { addLayer, createNetwork } from '../support/layer-fixture.js';
import { makeRequest } from '../support/sip-builders.js';
import { nextHopTarget } from '../support/test-user-agent.js';
import { expectedDigest } from './registration-fake-registrar.js';
import { ScriptedNotifier } from './subscription-notifier.js';

const S = SubscriptionState;
const AOR = 'sip:1003@10.0.0.2';

function countingBytes(): (n: number) => Uint8Array {
  let next = 0;
  return (n) => Uint8Array.from({ length: n }, () => next++ & 0xff);
}

interface SetupOptions {
  account?: Partial<AccountSettings>;
  options?: Partial<SubscriptionClientOptions>;
}

/** The phone (10.0.0.1, a transaction layer) subscribing to the notifier (10.0.0.2). */
function setup(o: SetupOptions = {}) {
  const { clock, network } = createNetwork();
  const phone = addLayer(network, '10.0.0.1');
  const notifier = new ScriptedNotifier(network);
  const account = Account.from({ aor: AOR, password: 'secret-1003', ...o.account });
  const sender = new TransactionRequestSender({ layer: phone.layer, resolveTarget: nextHopTarget });
  const sub = new SubscriptionClient({
    account,
    target: account.aor,
    event: 'message-summary',
    accept: ['application/simple-message-summary'],
    expiresS: 3600,
    sender,
    clock,
    random: () => 0.5,
    randomBytes: countingBytes(),
    contactAddress: () => ({ host: '10.0.0.1', port: 5060, transport: 'udp' }),
    ...o.options,
  });
  const statuses: SubscriptionStatus[] = [];
  const notifies: SubscriptionNotify[] = [];
  const unclaimed: SipRequest[] = [];
  sub.on('state', (s) => statuses.push(s));
  sub.on('notify', (n) => notifies.push(n));
  // What the UA does: offer the request to the subscription first, else 481.
  phone.layer.on('request', (tx) => {
    if (!sub.receiveRequest(tx)) {
      unclaimed.push(tx.request);
      tx.reply(481);
    }
  });
  return { clock, network, phone, notifier, account, sub, statuses, notifies, unclaimed, states: () => statuses.map((s) => s.state) };
}

describe('subscriptionRefreshDelayMs', () => {
  it.each([
    [3600, 3_240_000],
    [600, 540_000],
    [60, 54_000],
    [30, 25_000],
    [8, 4_000],
    [1, 500],
  ])('refreshes a %i s subscription after %i ms', (expiresS, ms) => {
    expect(subscriptionRefreshDelayMs(expiresS)).toBe(ms);
  });
});

describe('SubscriptionClient', () => {
  it('subscribes, gets the 2xx and the NOTIFY, and becomes active', async () => {
    const { clock, notifier, sub, notifies, states } = setup();
    sub.start();
    await clock.advance(0);
    expect(sub.state).toBe(S.Active);
    // The 2xx and the NOTIFY race; either way the states are these (repeated with new expiry data).
    expect([...new Set(states())]).toEqual([S.NotifyWait, S.Active]);
    const req = notifier.last();
    // RFC 6665 §4.1.2.1
    expect(req.method).toBe('SUBSCRIBE');
    expect(req.uri.toString()).toBe(AOR);
    expect(req.to.uri.toString()).toBe(AOR);
    expect(req.to.tag).toBeUndefined();
    expect(req.from.uri.toString()).toBe(AOR);
    expect(req.from.tag).toBeDefined();
    expect(req.event?.value).toBe('message-summary');
    expect(req.get('Accept')).toBe('application/simple-message-summary');
    expect(req.expires).toBe(3600);
    expect(req.contact[0]?.uri.toString()).toBe('sip:1003@10.0.0.1:5060');
    expect(req.route).toEqual([]);
    expect(notifier.notifyStatuses()).toEqual([200]);
    expect(notifies).toHaveLength(1);
    expect(notifies[0]).toMatchObject({ substate: 'active', expiresS: 600 });
    expect(Buffer.from(notifies[0]!.body).toString()).toContain('Messages-Waiting: yes');
    expect(sub.status).toMatchObject({ state: S.Active, expiresAtMs: 600_000, refreshAtMs: 540_000 });
    expect(sub.dialog?.id.remoteTag).toBe(notifier.dialog().id.localTag);
  });

  it('answers a 401 with credentials the notifier verifies from the password, in the same Call-ID', async () => {
    const { clock, notifier, sub } = setup();
    notifier.users = { '1003': 'secret-1003' };
    sub.start();
    await clock.advance(0);
    expect(sub.state).toBe(S.Active);
    const [first, second] = notifier.subscribes.map((s) => s.request);
    expect(notifier.subscribes).toHaveLength(2);
    expect(first!.authorization).toEqual([]);
    const auth = second!.authorization[0]!;
    expect(auth.get('response')).toBe(expectedDigest(auth, { method: 'SUBSCRIBE', password: 'secret-1003', username: '1003' }));
    expect(second!.callId).toBe(first!.callId);
    expect(second!.from.tag).toBe(first!.from.tag);
    expect([first!.cseq.seq, second!.cseq.seq]).toEqual([1, 2]);
  });

  it('retries after the backoff when the credentials are refused again', async () => {
    const { clock, notifier, sub } = setup();
    notifier.users = { '1003': 'another-password' };
    sub.start();
    await clock.advance(0);
    expect(notifier.subscribes).toHaveLength(2);
    expect(sub.status).toMatchObject({ state: S.Retrying, failure: { cause: 'wrong-credentials', statusCode: 401 }, retryAtMs: 45_000 });
    await clock.advance(44_999);
    expect(notifier.subscribes).toHaveLength(2);
    await clock.advance(1);
    expect(notifier.subscribes.length).toBeGreaterThan(2);
    expect(notifier.last().callId).not.toBe(notifier.subscribes[0]!.request.callId);
  });

  it('makes the dialog from a NOTIFY that beats the 2xx (RFC 6665 §4.1.2.4), and refreshes in it', async () => {
    const { clock, notifier, sub, notifies, unclaimed } = setup();
    notifier.notifyFirst = true;
    sub.start();
    await clock.advance(0);
    // The NOTIFY came, the 2xx not yet.
    expect(notifies).toHaveLength(1);
    expect(sub.state).toBe(S.Active);
    expect(sub.dialog?.id.remoteTag).toBe(notifier.dialog().id.localTag);
    expect(notifier.notifyStatuses()).toEqual([200]);
    await clock.advance(50);
    expect(sub.state).toBe(S.Active);
    expect(unclaimed).toEqual([]);
    // The refresh goes in the dialog: To tag, same Call-ID, the next CSeq, and the notifier accepts it.
    await clock.advance(540_000);
    expect(notifier.subscribes).toHaveLength(2);
    const refresh = notifier.last();
    expect(refresh.to.tag).toBe(notifier.dialog().id.localTag);
    expect(refresh.callId).toBe(notifier.subscribes[0]!.request.callId);
    expect(refresh.cseq.seq).toBe(notifier.subscribes[0]!.request.cseq.seq + 1);
    expect(refresh.uri.toString()).toBe('sip:notifier@10.0.0.2:5060');
    expect(notifier.notifyStatuses()).toEqual([200, 200]);
    expect(sub.state).toBe(S.Active);
  });

  it('refreshes at min(expires - 5 s, 0.9 expires) of what the 2xx granted, and of what a NOTIFY says after', async () => {
    const { clock, notifier, sub } = setup();
    sub.start();
    await clock.advance(0);
    await clock.advance(539_999);
    expect(notifier.subscribes).toHaveLength(1);
    await clock.advance(1);
    expect(notifier.subscribes).toHaveLength(2);
    expect(notifier.last().expires).toBe(3600);
    expect(sub.status).toMatchObject({ state: S.Active, expiresAtMs: 1_140_000, refreshAtMs: 1_080_000 });
    // A NOTIFY with a shorter interval is authoritative (RFC 6665 §4.1.3).
    await notifier.notify({ substate: 'active;expires=120' });
    await clock.advance(0);
    expect(sub.status).toMatchObject({ state: S.Active, expiresAtMs: 540_000 + 120_000, refreshAtMs: 540_000 + 108_000 });
    await clock.advance(107_999);
    expect(notifier.subscribes).toHaveLength(2);
    await clock.advance(1);
    expect(notifier.subscribes).toHaveLength(3);
    // Over a day the subscription never lapses.
    await clock.advance(86_400_000);
    const times = notifier.times();
    for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeLessThanOrEqual(540_000);
    expect(sub.state).toBe(S.Active);
  });

  it('goes pending then active as the NOTIFYs say', async () => {
    const { clock, notifier, sub, states } = setup();
    notifier.substate = 'pending';
    sub.start();
    await clock.advance(0);
    expect(sub.state).toBe(S.Pending);
    await notifier.notify({ substate: 'active;expires=500' });
    await clock.advance(0);
    expect(states()).toEqual([S.NotifyWait, S.Pending, S.Pending, S.Active]);
  });

  it('subscribes again at once, with a new Call-ID, after terminated;reason=deactivated', async () => {
    const { clock, notifier, sub } = setup();
    sub.start();
    await clock.advance(0);
    await clock.advance(10_000);
    await notifier.notify({ substate: 'terminated;reason=deactivated' });
    await clock.advance(0);
    // The deactivating NOTIFY, then the new subscription's first one.
    expect(notifier.notifyStatuses()).toEqual([200, 200, 200]);
    expect(notifier.times()).toEqual([0, 10_000]);
    expect(notifier.last().callId).not.toBe(notifier.subscribes[0]!.request.callId);
    expect(notifier.last().to.tag).toBeUndefined();
    expect(sub.state).toBe(S.Active);
  });

  it('subscribes again at once only once per retryBaseMs, and backs off beyond that', async () => {
    const { clock, notifier, sub } = setup();
    notifier.substate = 'pending';
    sub.start();
    await clock.advance(0);
    await notifier.notify({ substate: 'terminated;reason=timeout' });
    await clock.advance(0);
    expect(notifier.times()).toEqual([0, 0]);
    await notifier.notify({ substate: 'terminated;reason=timeout' });
    await clock.advance(0);
    expect(sub.status).toMatchObject({ state: S.Retrying, retryAtMs: 45_000 });
    await clock.advance(45_000);
    expect(notifier.times()).toEqual([0, 0, 45_000]);
    // Later than retryBaseMs after the last one: at once again.
    await notifier.notify({ substate: 'terminated;reason=deactivated' });
    await clock.advance(0);
    expect(notifier.times()).toEqual([0, 0, 45_000, 45_000]);
  });

  it.each([
    ['probation;retry-after=90', 90_000],
    ['giveup;retry-after=300', 300_000],
    ['probation', 45_000],
    ['giveup', 45_000],
    ['some-new-reason', 45_000],
  ])('after terminated;reason=%s subscribes again after %i ms', async (reason, delay) => {
    const { clock, notifier, sub } = setup();
    sub.start();
    await clock.advance(0);
    await notifier.notify({ substate: `terminated;reason=${reason}` });
    await clock.advance(0);
    expect(sub.state).toBe(S.Retrying);
    await clock.advance(delay - 1);
    expect(notifier.subscribes).toHaveLength(1);
    await clock.advance(1);
    expect(notifier.subscribes).toHaveLength(2);
    expect(sub.state).toBe(S.Active);
  });

  it.each(['rejected', 'noresource', 'invariant'])('never subscribes again after terminated;reason=%s', async (reason) => {
    const { clock, notifier, sub } = setup();
    sub.start();
    await clock.advance(0);
    await notifier.notify({ substate: `terminated;reason=${reason};retry-after=10` });
    await clock.advance(0);
    expect(sub.status).toMatchObject({ state: S.Terminated, failure: { cause: 'terminated-by-notifier', terminationReason: reason } });
    await clock.advance(86_400_000);
    expect(notifier.subscribes).toHaveLength(1);
    expect(clock.pending).toBe(0);
    // start() again is the user's call.
    sub.start();
    await clock.advance(0);
    expect(notifier.subscribes).toHaveLength(2);
    expect(sub.state).toBe(S.Active);
  });

  it('stops for good on 489 Bad Event to the SUBSCRIBE', async () => {
    const { clock, notifier, sub } = setup();
    notifier.overrides.push({ respond: 489 });
    sub.start();
    await clock.advance(0);
    expect(sub.status).toMatchObject({ state: S.Terminated, failure: { cause: 'bad-event', statusCode: 489 } });
    await clock.advance(86_400_000);
    expect(notifier.subscribes).toHaveLength(1);
  });

  it('stops for good on 489 to a refresh', async () => {
    const { clock, notifier, sub } = setup();
    sub.start();
    await clock.advance(0);
    notifier.overrides.push({ respond: 489 });
    await clock.advance(540_000);
    expect(sub.status).toMatchObject({ state: S.Terminated, failure: { cause: 'bad-event' } });
    await clock.advance(86_400_000);
    expect(notifier.subscribes).toHaveLength(2);
  });

  it('starts a new subscription after the backoff when a refresh gets 481', async () => {
    const { clock, notifier, sub } = setup();
    sub.start();
    await clock.advance(0);
    notifier.overrides.push({ respond: 481 });
    await clock.advance(540_000);
    expect(sub.status).toMatchObject({ state: S.Retrying, failure: { cause: 'dialog-lost', statusCode: 481 }, retryAtMs: 540_000 + 45_000 });
    expect(sub.dialog).toBeUndefined();
    await clock.advance(45_000);
    expect(notifier.times()).toEqual([0, 540_000, 585_000]);
    expect(notifier.last().to.tag).toBeUndefined();
    expect(notifier.last().callId).not.toBe(notifier.subscribes[0]!.request.callId);
    expect(sub.state).toBe(S.Active);
  });

  it('starts a new subscription after the backoff when a refresh gets 408 or no answer (Timer F)', async () => {
    const a = setup();
    a.sub.start();
    await a.clock.advance(0);
    a.notifier.overrides.push({ respond: 408 });
    await a.clock.advance(540_000);
    expect(a.sub.status).toMatchObject({ state: S.Retrying, failure: { cause: 'dialog-lost', statusCode: 408 } });

    const b = setup();
    b.sub.start();
    await b.clock.advance(0);
    b.notifier.overrides.push({ silent: true });
    await b.clock.advance(540_000);
    expect(b.sub.state).toBe(S.Active);
    await b.clock.advance(32_000);
    expect(b.sub.status).toMatchObject({ state: S.Retrying, failure: { cause: 'dialog-lost', statusCode: 408 }, retryAtMs: 572_000 + 45_000 });
    await b.clock.advance(45_000);
    expect(b.notifier.times()).toEqual([0, 540_000, 617_000]);
    expect(b.sub.state).toBe(S.Active);
  });

  it('keeps the subscription through a refresh that gets 500 and refreshes again before it expires', async () => {
    const { clock, notifier, sub } = setup();
    sub.start();
    await clock.advance(0);
    notifier.overrides.push({ respond: 500 });
    await clock.advance(540_000);
    // 60 s left: the retry goes at min(backoff 45 s, 30 s).
    expect(sub.status).toMatchObject({ state: S.Active, expiresAtMs: 600_000, refreshAtMs: 570_000 });
    await clock.advance(30_000);
    expect(notifier.times()).toEqual([0, 540_000, 570_000]);
    expect(notifier.last().to.tag).toBeDefined();
    expect(sub.status).toMatchObject({ state: S.Active, expiresAtMs: 1_170_000 });
  });

  it('lets a subscription lapse when its refresh fails too late to try again, then starts a new one', async () => {
    const { clock, notifier, sub, statuses } = setup({ options: { expiresS: 60 } });
    notifier.grantS = 60;
    sub.start();
    await clock.advance(0);
    notifier.overrides.push({ respond: 503 });
    await clock.advance(54_000);
    // 6 s left, the backoff is longer: wait for it to lapse.
    expect(sub.status).toMatchObject({ state: S.Active, refreshAtMs: 60_000 });
    await clock.advance(5_999);
    expect(notifier.subscribes).toHaveLength(2);
    await clock.advance(1);
    expect(statuses.some((st) => st.state === S.Retrying && st.failure.cause === 'expired')).toBe(true);
    expect(notifier.times()).toEqual([0, 54_000, 60_000]);
    expect(notifier.last().to.tag).toBeUndefined();
    expect(sub.state).toBe(S.Active);
  });

  it('waits for Retry-After (and at least the backoff) after a 503 to the initial SUBSCRIBE', async () => {
    const { clock, notifier, sub } = setup();
    notifier.overrides.push({ respond: 503, headers: [['Retry-After', '120']] });
    sub.start();
    await clock.advance(0);
    expect(sub.status).toMatchObject({ state: S.Retrying, failure: { cause: 'server-unavailable', retryAfterS: 120 }, retryAtMs: 120_000 });
    await clock.advance(120_000);
    expect(notifier.times()).toEqual([0, 120_000]);
    expect(sub.state).toBe(S.Active);
  });

  it('backs off doubling after timeouts of the initial SUBSCRIBE, and starts over once it works', async () => {
    const { clock, notifier, sub } = setup();
    notifier.overrides.push({ silent: true }, { silent: true });
    sub.start();
    await clock.advance(32_000);
    expect(sub.status).toMatchObject({ state: S.Retrying, failure: { cause: 'timeout', statusCode: 408 }, retryAtMs: 32_000 + 45_000, consecutiveFailures: 1 });
    await clock.advance(45_000 + 32_000);
    expect(sub.status).toMatchObject({ state: S.Retrying, retryAtMs: 109_000 + 90_000, consecutiveFailures: 2 });
    await clock.advance(90_000);
    expect(notifier.times()).toEqual([0, 77_000, 199_000]);
    expect(sub.state).toBe(S.Active);
  });

  it('asks again with Min-Expires after 423', async () => {
    const { clock, notifier, sub } = setup({ options: { expiresS: 60 } });
    notifier.overrides.push({ respond: 423, headers: [['Min-Expires', '300']] });
    sub.start();
    await clock.advance(0);
    expect(notifier.subscribes.map((s) => s.request.expires)).toEqual([60, 300]);
    expect(sub.status).toMatchObject({ state: S.Active, expiresAtMs: 300_000 });
  });

  it('counts the subscription as failed when no NOTIFY follows the 2xx in 64*T1', async () => {
    const { clock, notifier, sub } = setup();
    notifier.autoNotify = false;
    sub.start();
    await clock.advance(0);
    expect(sub.state).toBe(S.NotifyWait);
    expect(sub.dialog).toBeDefined();
    await clock.advance(32_000);
    expect(sub.status).toMatchObject({ state: S.Retrying, failure: { cause: 'no-notify' } });
  });

  it('answers NOTIFYs that are not quite its own: 489 for another event, 481 for another fork, and leaves strangers to the UA', async () => {
    const { clock, notifier, network, sub, unclaimed, notifies } = setup();
    sub.start();
    await clock.advance(0);
    await notifier.notify({ event: 'presence' });
    // Another fork: same Call-ID and our tag, another From tag.
    const dialog = notifier.dialog();
    const other = new ScriptedNotifier(network, '10.0.0.9');
    const forked = makeRequest({
      method: 'NOTIFY',
      uri: 'sip:1003@10.0.0.1:5060',
      fromUri: AOR,
      fromTag: 'other-fork',
      toUri: AOR,
      toTag: dialog.id.remoteTag,
      callId: dialog.id.callId,
      cseq: 7,
      contact: 'sip:fork@10.0.0.9',
      headers: [
        ['Event', 'message-summary'],
        ['Subscription-State', 'active;expires=600'],
      ],
    });
    const forkOutcome = await other.sender.send(forked);
    const stranger = makeRequest({ method: 'NOTIFY', uri: 'sip:1003@10.0.0.1:5060', toTag: 'x', callId: 'unknown', headers: [['Event', 'message-summary']] });
    const strangerOutcome = await other.sender.send(stranger);
    await clock.advance(0);
    expect(notifier.notifyStatuses()).toEqual([200, 489]);
    expect(forkOutcome.kind === 'response' && forkOutcome.response.status).toBe(481);
    expect(strangerOutcome.kind === 'response' && strangerOutcome.response.status).toBe(481);
    expect(unclaimed.map((r) => r.callId)).toEqual(['unknown']);
    expect(notifies).toHaveLength(1);
    expect(sub.state).toBe(S.Active);
  });

  it('answers 500 to a NOTIFY whose CSeq goes backwards', async () => {
    const { clock, notifier, sub } = setup();
    sub.start();
    await clock.advance(0);
    const dialog = notifier.dialog();
    const req = dialog.createRequest('NOTIFY', { headers: [['Event', 'message-summary'], ['Subscription-State', 'active']] });
    req.set('CSeq', `${req.cseq.seq - 5} NOTIFY`);
    const outcome = await notifier.sender.send(req);
    expect(outcome.kind === 'response' && outcome.response.status).toBe(500);
    expect(sub.state).toBe(S.Active);
  });

  it('unsubscribes with Expires: 0 in the dialog and resolves on the final NOTIFY', async () => {
    const { clock, notifier, sub, states } = setup();
    sub.start();
    await clock.advance(0);
    await clock.advance(1_000);
    const notifierTag = notifier.dialog().id.localTag;
    const stopped = sub.stop();
    await clock.advance(0);
    await stopped;
    const unsub = notifier.last();
    expect(unsub.expires).toBe(0);
    expect(unsub.to.tag).toBe(notifierTag);
    expect(notifier.dialogs.size).toBe(0);
    expect(unsub.callId).toBe(notifier.subscribes[0]!.request.callId);
    expect(notifier.notifyStatuses()).toEqual([200, 200]);
    expect(notifier.notifies[1]!.request.get('Subscription-State')).toBe('terminated');
    expect(sub.state).toBe(S.Idle);
    expect(states().slice(-2)).toEqual([S.Unsubscribing, S.Idle]);
    expect(clock.now()).toBe(1_000);
    await clock.advance(86_400_000);
    expect(notifier.subscribes).toHaveLength(2);
  });

  it('gives up unsubscribing after the time limit when the notifier does not answer', async () => {
    const { clock, notifier, sub } = setup();
    sub.start();
    await clock.advance(0);
    notifier.overrides.push({ silent: true });
    let done = false;
    const stopped = sub.stop().then(() => (done = true));
    await clock.advance(1_999);
    expect(done).toBe(false);
    expect(sub.state).toBe(S.Unsubscribing);
    await clock.advance(1);
    await stopped;
    expect(sub.state).toBe(S.Idle);
  });

  it('sends nothing on stop() before any dialog exists, and a late NOTIFY is left to the UA (481)', async () => {
    const { clock, network, notifier, sub, unclaimed } = setup();
    notifier.overrides.push({ silent: true });
    sub.start();
    await clock.advance(0);
    const first = notifier.last();
    await sub.stop();
    expect(sub.state).toBe(S.Idle);
    await clock.advance(100_000);
    expect(notifier.subscribes).toHaveLength(1);
    const late = makeRequest({
      method: 'NOTIFY',
      uri: 'sip:1003@10.0.0.1:5060',
      fromUri: AOR,
      fromTag: 'late',
      toUri: AOR,
      toTag: first.from.tag,
      callId: first.callId,
      headers: [
        ['Event', 'message-summary'],
        ['Subscription-State', 'active'],
      ],
    });
    const outcome = await new ScriptedNotifier(network, '10.0.0.9').sender.send(late);
    expect(outcome.kind === 'response' && outcome.response.status).toBe(481);
    expect(unclaimed).toHaveLength(1);
  });

  it.each([
    ['another host', 'sip:rr1@10.0.0.6;lr', ['sip:10.0.0.5;lr', 'sip:rr1@10.0.0.6;lr']],
    ['the proxy itself', 'sip:10.0.0.5;lr', ['sip:10.0.0.5;lr']],
  ])('routes the SUBSCRIBE and its refreshes through the outbound proxy (Record-Route: %s)', async (_what, recordRoute, refreshRoute) => {
    const clock = new VirtualClock();
    const sent: SipRequest[] = [];
    const sender: RequestSender = {
      send(request): Promise<RequestOutcome> {
        sent.push(request.clone());
        const res = createResponse(request, { status: 200, toTag: 'srv', headers: [['Expires', '600'], ['Contact', '<sip:mwi@10.0.0.2>'], ['Record-Route', `<${recordRoute}>`]] });
        return Promise.resolve({ kind: 'response', response: new SipResponse({ status: res.status, reason: res.reason, fields: [...res.fields] }) });
      },
    };
    const account = Account.from({ aor: AOR, password: 'x', outboundProxy: 'sip:10.0.0.5' });
    const sub = new SubscriptionClient({
      account,
      target: account.aor,
      event: 'message-summary',
      accept: [],
      expiresS: 600,
      sender,
      clock,
      random: () => 0.5,
      randomBytes: countingBytes(),
      contactAddress: () => ({ host: '10.0.0.1', port: 5060, transport: 'udp' }),
      timing: { notifyWaitMs: 1_000_000 },
    });
    sub.start();
    await clock.advance(540_000);
    expect(sent).toHaveLength(2);
    expect(sent[0]!.route.map((r) => r.uri.toString())).toEqual(['sip:10.0.0.5;lr']);
    // In the dialog: the outbound proxy first, then the route set (the 2xx's Record-Route).
    expect(sent[1]!.route.map((r) => r.uri.toString())).toEqual(refreshRoute);
    expect(sent[1]!.uri.toString()).toBe('sip:mwi@10.0.0.2');
    await sub.stop({ unsubscribe: false });
  });
});
