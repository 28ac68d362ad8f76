// InstantMessaging: MESSAGE received on the loopback (200, 415, 413, 400, charsets, in a dialog) and sent through a digest-checking peer.
import { describe, expect, it } from 'vitest';
import { Account } from '../../../firmware/sip/ua/account.js';
import { DEFAULT_MAX_MESSAGE_BYTES, type InstantMessage, InstantMessaging } from '../../../firmware/sip/ua/instant-message.js';
import { VirtualClock } from '../../../firmware/util/clock.js';
import { layerAndPeer } from '../support/layer-fixture.js';
import { makeRequest } from '../support/sip-builders.js';
import { FakeRegistrar, expectedDigest } from './registration-fake-registrar.js';

function countingBytes(): (n: number) => Uint8Array {
  let next = 0;
  return (n) => Uint8Array.from({ length: n }, () => next++ & 0xff);
}

interface Incoming {
  contentType?: string;
  body: string | Buffer;
  toTag?: string;
  headers?: [string, string][];
  method?: string;
}

/** The phone's layer (no stateless body checks: InstantMessaging answers them) and a raw peer sending one request. */
async function receive(incoming: Incoming, options: { maxBodyBytes?: number } = {}) {
  const { clock, alice, bob } = layerAndPeer({ validation: false });
  const im = new InstantMessaging({ clock, ...options });
  const messages: InstantMessage[] = [];
  const answers: unknown[] = [];
  im.on('message', (m) => messages.push(m));
  alice.layer.on('request', (tx) => {
    const a = im.receive(tx, tx.request.to.tag !== undefined ? { inDialog: true } : {});
    answers.push(a);
    if (!a.handled) tx.reply(405);
  });
  const req = makeRequest({
    method: incoming.method ?? 'MESSAGE',
    uri: 'sip:1003@10.0.0.1',
    fromUri: 'sip:bob@example.com',
    toUri: 'sip:1003@example.com',
    via: { host: '10.0.0.2', branch: 'z9hG4bKmsg1' },
    ...(incoming.toTag !== undefined ? { toTag: incoming.toTag } : {}),
    headers: incoming.headers ?? [],
  });
  req.set('From', '"Bob Smith" <sip:bob@example.com>;tag=b1');
  req.setBody(typeof incoming.body === 'string' ? Buffer.from(incoming.body, 'utf8') : incoming.body, incoming.contentType);
  await bob.send(req, alice.target());
  await clock.advance(0);
  const res = bob.responses()[0]?.message;
  if (!res) throw new Error('no response');
  return { res, messages, answers, clock };
}

describe('InstantMessaging.receive', () => {
  it('answers a text/plain MESSAGE 200 and hands it up with sender, text, type and arrival time', async () => {
    const { res, messages, clock } = await receive({ contentType: 'text/plain;charset=UTF-8', body: 'Grüße aus dem Büro 👋' });
    expect(res.status).toBe(200);
    expect(messages).toEqual([
      {
        from: { displayName: 'Bob Smith', uri: 'sip:bob@example.com' },
        to: 'sip:1003@example.com',
        body: 'Grüße aus dem Büro 👋',
        contentType: 'text/plain;charset=UTF-8',
        date: new Date(clock.wallNow()),
        inDialog: false,
        callId: 'call-1@example.com',
      },
    ]);
  });

  it('takes the Date header when there is one', async () => {
    const { messages } = await receive({ contentType: 'text/plain', body: 'hi', headers: [['Date', 'Sat, 13 Nov 2010 23:29:00 GMT']] });
    expect(messages[0]?.date.toISOString()).toBe('2010-11-13T23:29:00.000Z');
  });

  it('marks a MESSAGE within a dialog', async () => {
    const { res, messages } = await receive({ contentType: 'text/plain', body: 'in the call', toTag: 't1' });
    expect(res.status).toBe(200);
    expect(messages[0]?.inDialog).toBe(true);
  });

  it.each([
    ['us-ascii', Buffer.from('plain'), 'plain'],
    ['ISO-8859-1', Buffer.from([0x63, 0x61, 0x66, 0xe9]), 'café'],
    [undefined, Buffer.from('no charset: UTF-8', 'utf8'), 'no charset: UTF-8'],
  ])('decodes charset %s', async (charset, body, text) => {
    const { res, messages } = await receive({ contentType: charset === undefined ? 'text/plain' : `text/plain; charset=${charset}`, body });
    expect(res.status).toBe(200);
    expect(messages[0]?.body).toBe(text);
  });

  it.each([
    ['another type: 415 with Accept', { contentType: 'text/html', body: '<b>hi</b>' }, 415],
    ['CPIM: 415', { contentType: 'message/cpim', body: 'x' }, 415],
    ['an unknown charset: 415', { contentType: 'text/plain;charset=koi8-r', body: 'x' }, 415],
    ['invalid UTF-8: 400', { contentType: 'text/plain;charset=utf-8', body: Buffer.from([0xc3, 0x28]) }, 400],
    ['no body: 400', { contentType: 'text/plain', body: '' }, 400],
    ['too large: 413', { contentType: 'text/plain', body: 'x'.repeat(DEFAULT_MAX_MESSAGE_BYTES + 1) }, 413],
  ] as [string, Incoming, number][])('%s', async (_name, incoming, status) => {
    const { res, messages } = await receive(incoming);
    expect(res.status).toBe(status);
    expect(messages).toEqual([]);
    if (status === 415 && !incoming.contentType?.includes('charset')) expect(res.get('Accept')).toBe('text/plain');
  });

  it('accepts up to the configured size', async () => {
    const big = 'y'.repeat(3000);
    expect((await receive({ contentType: 'text/plain', body: big }, { maxBodyBytes: 4000 })).res.status).toBe(200);
    expect((await receive({ contentType: 'text/plain', body: big }, { maxBodyBytes: 2000 })).res.status).toBe(413);
  });

  it('leaves other methods to the caller, unanswered', async () => {
    const { res, answers } = await receive({ method: 'INFO', contentType: 'text/plain', body: 'x' });
    expect(answers).toEqual([{ handled: false }]);
    expect(res.status).toBe(405);
  });
});

describe('InstantMessaging.sendMessage', () => {
  function setup(accountExtra: Record<string, string> = {}) {
    const clock = new VirtualClock();
    const peer = new FakeRegistrar({ clock });
    const account = Account.from({ aor: 'sip:1003@test.local', password: 'secret-1003', ...accountExtra });
    const im = new InstantMessaging({ clock, account, sender: peer, randomBytes: countingBytes(), userAgent: 'offhook-test' });
    return { clock, peer, im };
  }

  it('sends text/plain From the account and answers one digest challenge', async () => {
    const { peer, im } = setup();
    const result = await im.sendMessage('sip:2000@test.local', 'Hello, 2000 ☎');
    expect(result).toEqual({ ok: true, status: 200 });
    expect(peer.requests).toHaveLength(2);
    const [first, second] = peer.requests;
    expect(first!.method).toBe('MESSAGE');
    expect(first!.uri.toString()).toBe('sip:2000@test.local');
    expect(first!.to.uri.toString()).toBe('sip:2000@test.local');
    expect(first!.from.uri.toString()).toBe('sip:1003@test.local');
    expect(first!.get('Content-Type')).toBe('text/plain;charset=UTF-8');
    expect(second!.bodyText).toBe('Hello, 2000 ☎');
    expect(second!.callId).toBe(first!.callId);
    expect(second!.cseq.seq).toBe(2);
    const auth = second!.authorization[0]!;
    expect(auth.get('response')).toBe(expectedDigest(auth, { method: 'MESSAGE', password: 'secret-1003', username: '1003' }));
  });

  it('goes through the outbound proxy', async () => {
    const { peer, im } = setup({ outboundProxy: 'sip:proxy.test.local' });
    await im.sendMessage('sip:2000@test.local', 'x');
    expect(peer.requests[0]!.route.map((r) => r.uri.toString())).toEqual(['sip:proxy.test.local;lr']);
  });

  it('reports wrong credentials, refusals, timeouts and what it will not send', async () => {
    const a = setup();
    a.peer.users = { '1003': 'other' };
    expect(await a.im.sendMessage('sip:2000@test.local', 'x')).toMatchObject({ ok: false, cause: 'auth-failed', status: 401 });
    const b = setup();
    b.peer.overrides.push({ respond: 404 });
    expect(await b.im.sendMessage('sip:nobody@test.local', 'x')).toEqual({ ok: false, cause: 'rejected', status: 404, reason: 'Not Found' });
    const c = setup();
    c.peer.overrides.push({ transportError: 'unreachable' });
    expect(await c.im.sendMessage('sip:2000@test.local', 'x')).toMatchObject({ ok: false, cause: 'transport-error', status: 503 });
    const d = setup();
    d.peer.overrides.push({ timeout: true });
    const pending = d.im.sendMessage('sip:2000@test.local', 'x');
    await d.clock.advance(32_000);
    expect(await pending).toMatchObject({ ok: false, cause: 'timeout', status: 408 });
    expect(await a.im.sendMessage('sip:2000@test.local', 'x'.repeat(1301))).toMatchObject({ ok: false, cause: 'too-large' });
    expect(await a.im.sendMessage('tel:+4930123', 'x')).toMatchObject({ ok: false, cause: 'bad-target' });
    expect(await new InstantMessaging({ clock: a.clock }).sendMessage('sip:2000@test.local', 'x')).toMatchObject({ ok: false, cause: 'not-configured' });
  });
});
