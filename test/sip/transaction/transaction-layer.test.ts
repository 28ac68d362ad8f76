// The transaction layer's matching (RFC 3261 §17.1.3, §17.2.3, RFC 2543), CANCEL (§9), merged requests (§8.2.2.2), stateless validation (§8.2), Via and branches.
import { describe, expect, it } from 'vitest';
import type { SipRequest } from '../../../firmware/sip/message/message.js';
import { createCancel } from '../../../firmware/sip/transaction/cancel.js';
import { DuplicateTransactionError, NoLocalAddressError, TransactionLayerClosedError, UnsupportedRequestError } from '../../../firmware/sip/transaction/errors.js';
import { InviteClientState } from '../../../firmware/sip/transaction/invite-client-transaction.js';
import { InviteServerState, type InviteServerTransaction } from '../../../firmware/sip/transaction/invite-server-transaction.js';
import type { AnyServerTransaction } from '../../../firmware/sip/transaction/transaction-layer.js';
import { TransactionLayer } from '../../../firmware/sip/transaction/transaction-layer.js';
import { seededRandom } from '../../../firmware/sip/transport/loopback-transport.js';
import { flush } from '../support/flush.js';
import { type FixtureOptions, layerAndPeer, twoLayers } from '../support/layer-fixture.js';
import { makeRequest, rawRequest } from '../support/sip-builders.js';
import { asIst } from '../support/narrow.js';

function serverSide(options: FixtureOptions = {}) {
  const f = layerAndPeer(options);
  const txs: AnyServerTransaction[] = [];
  const acks: SipRequest[] = [];
  const rejected: number[] = [];
  f.alice.layer.on('request', (tx) => txs.push(tx));
  f.alice.layer.on('ack', (ack) => acks.push(ack));
  f.alice.layer.on('rejected', (_req, res) => rejected.push(res.status));
  const toAlice = { protocol: 'udp', address: '10.0.0.1', port: 5060 } as const;
  return { ...f, txs, acks, rejected, toAlice };
}

const via = (branch: string | undefined, host = '10.0.0.2', port = 5060) => ({ host, port, branch });

describe('outgoing requests: Via and branch (RFC 3261 §8.1.1.7, §18.1.1)', () => {
  it('gives each request one Via of the transport with a new magic-cookie branch and rport', async () => {
    const f = layerAndPeer();
    const req = makeRequest({ method: 'OPTIONS', via: via('z9hG4bK-stale', '192.0.2.99') });
    req.append('Via', 'SIP/2.0/UDP 192.0.2.98;branch=z9hG4bKother');
    f.alice.layer.sendRequest(req, f.bob.target());
    await flush();
    const got = f.bob.requests('OPTIONS')[0]!.message;
    expect(got.count('Via')).toBe(1);
    const v = got.topVia;
    expect(v.transport).toBe('UDP');
    expect(v.sentBy).toBe('10.0.0.1:5060');
    expect(v.branch).toMatch(/^z9hG4bK[0-9a-z]{16}$/);
    expect(v.rport).toBe(true);
    // Sent again (after a 401, say): a new branch.
    const first = v.branch;
    f.alice.layer.sendRequest(req, f.bob.target('tcp'));
    await flush();
    const again = f.bob.requests('OPTIONS')[1]!.message.topVia;
    expect(again.transport).toBe('TCP');
    expect(again.branch).not.toBe(first);
  });

  it('makes the same branches from the same seed', () => {
    const a = new TransactionLayer({ transport: layerAndPeer().alice.transport, clock: layerAndPeer().clock, random: seededRandom(5) });
    const b = new TransactionLayer({ transport: layerAndPeer().alice.transport, clock: layerAndPeer().clock, random: seededRandom(5) });
    expect([a.createBranch(), a.createTag()]).toEqual([b.createBranch(), b.createTag()]);
  });

  it('refuses ACK, a protocol the transport lacks, a duplicate branch, and anything after close()', () => {
    const f = layerAndPeer();
    expect(() => f.alice.layer.sendRequest(makeRequest({ method: 'ACK' }), f.bob.target())).toThrow(UnsupportedRequestError);
    expect(() => f.alice.layer.sendRequest(makeRequest({ method: 'OPTIONS' }), f.bob.target('tls'))).toThrow(NoLocalAddressError);
    const inv = f.alice.layer.sendRequest(makeRequest({ method: 'INVITE' }), f.bob.target());
    // A CANCEL keeps the INVITE's branch; two CANCELs of one INVITE would be one transaction twice.
    f.alice.layer.sendRequest(createCancel(inv.request), f.bob.target());
    expect(() => f.alice.layer.sendRequest(createCancel(inv.request), f.bob.target())).toThrow(DuplicateTransactionError);
    f.alice.layer.close();
    expect(inv.state).toBe(InviteClientState.Terminated);
    expect(() => f.alice.layer.sendRequest(makeRequest({ method: 'OPTIONS' }), f.bob.target())).toThrow(TransactionLayerClosedError);
    expect(f.clock.pending).toBe(0);
  });

  it('sends the ACK of a 2xx without a transaction, adding a Via only when it has none', async () => {
    const f = layerAndPeer();
    const ack = makeRequest({ method: 'ACK', toTag: 'b' });
    expect((await f.alice.layer.sendAck(ack, f.bob.target())).ok).toBe(true);
    const branch = ack.topVia.branch;
    expect(branch).toMatch(/^z9hG4bK/);
    // Sent again for a retransmitted 2xx: the same ACK.
    await f.alice.layer.sendAck(ack, f.bob.target());
    await flush();
    expect(f.bob.requests('ACK').map((r) => r.message.topVia.branch)).toEqual([branch, branch]);
    expect(f.alice.layer.size.clients).toBe(0);
  });
});

describe('response matching (RFC 3261 §17.1.3)', () => {
  it('matches by branch and CSeq method: the INVITE and its CANCEL are two transactions', async () => {
    const f = layerAndPeer();
    const finals: string[] = [];
    const inv = f.alice.layer.sendRequest(makeRequest({ method: 'INVITE' }), f.bob.target(), { onFinal: (r) => finals.push(`INVITE ${r.status}`) });
    await flush();
    await f.bob.reply(f.bob.requests('INVITE')[0]!, { status: 180, toTag: 'b' });
    await flush();
    f.alice.layer.sendRequest(createCancel(inv.request), f.bob.target(), { onFinal: (r) => finals.push(`CANCEL ${r.status}`) });
    await flush();
    await f.bob.reply(f.bob.requests('CANCEL')[0]!, { status: 200, toTag: 'b' });
    await f.bob.reply(f.bob.requests('INVITE')[0]!, { status: 487, toTag: 'b' });
    await flush();
    expect(finals).toEqual(['CANCEL 200', 'INVITE 487']);
  });

  it('passes a response with an unknown branch to the TU as stray, and drops one with a foreign sent-by', async () => {
    const f = layerAndPeer();
    const strays: string[] = [];
    f.alice.layer.on('stray-response', (r) => strays.push(r.topVia.branch ?? ''));
    const finals: number[] = [];
    f.alice.layer.sendRequest(makeRequest({ method: 'OPTIONS' }), f.bob.target(), { onFinal: (r) => finals.push(r.status) });
    await flush();
    const req = f.bob.requests('OPTIONS')[0]!;
    const unknown = makeRequest({ method: 'OPTIONS', via: via('z9hG4bK-unknown', '10.0.0.1') });
    await f.bob.reply({ ...req, message: unknown }, { status: 200, toTag: 'x' });
    // Right branch, wrong sent-by (RFC 3261 §18.1.2).
    const foreign = req.message.clone();
    foreign.set('Via', `SIP/2.0/UDP 10.0.0.77:5060;branch=${req.message.topVia.branch}`);
    await f.bob.reply({ ...req, message: foreign }, { status: 200, toTag: 'x' });
    await flush();
    expect(strays).toEqual(['z9hG4bK-unknown']);
    expect(finals).toEqual([]);
  });
});

describe('robustness', () => {
  it('passes a 2xx that comes after a 300-699 from another fork to the TU as stray', async () => {
    const f = layerAndPeer();
    const strays: string[] = [];
    f.alice.layer.on('stray-response', (r) => strays.push(`${r.status} ${r.to.tag}`));
    f.alice.layer.sendInvite(makeRequest({ method: 'INVITE' }), f.bob.target());
    await flush();
    const inv = f.bob.requests('INVITE')[0]!;
    await f.bob.reply(inv, { status: 486, toTag: 'fork1' });
    await f.bob.reply(inv, { status: 200, toTag: 'fork2' });
    await flush();
    expect(strays).toEqual(['200 fork2']);
  });

  it('survives a TU listener that throws', async () => {
    const s = serverSide();
    s.alice.layer.on('request', () => {
      throw new Error('TU bug');
    });
    await s.bob.send(makeRequest({ method: 'OPTIONS', via: via('z9hG4bK-t1') }), s.toAlice);
    await flush();
    await s.bob.send(makeRequest({ method: 'OPTIONS', callId: 'next', via: via('z9hG4bK-t2') }), s.toAlice);
    await flush();
    expect(s.txs).toHaveLength(2);
  });
});

describe('request matching (RFC 3261 §17.2.3)', () => {
  it('a retransmission reaches the transaction, not the TU; another sent-by with the same branch is another request (merged: 482)', async () => {
    const s = serverSide();
    const req = makeRequest({ method: 'OPTIONS', via: via('z9hG4bK-1') });
    await s.bob.send(req, s.toAlice);
    await s.bob.send(req, s.toAlice);
    await flush();
    expect(s.txs).toHaveLength(1);
    const other = makeRequest({ method: 'OPTIONS', via: via('z9hG4bK-1', '10.0.0.3') });
    await s.bob.send(other, s.toAlice);
    await flush();
    expect(s.txs).toHaveLength(1);
    expect(s.rejected).toEqual([482]);
  });

  it('matches RFC 2543 requests (no magic cookie) by Request-URI, tags, Call-ID, CSeq and top Via', async () => {
    const s = serverSide();
    const inv = makeRequest({ method: 'INVITE', uri: 'sip:alice@10.0.0.1', via: via(undefined), callId: 'old-1' });
    await s.bob.send(inv, s.toAlice);
    await s.bob.send(inv, s.toAlice);
    await flush();
    expect(s.txs).toHaveLength(1);
    const ist = asIst(s.txs[0]);
    const busy = ist.reply(486);
    // A different CSeq is a different request.
    await s.bob.send(makeRequest({ method: 'INVITE', uri: 'sip:alice@10.0.0.1', via: via(undefined), callId: 'old-1', cseq: 2 }), s.toAlice);
    await flush();
    expect(s.txs).toHaveLength(2);
    // The ACK: CSeq number, To tag of the response sent.
    await s.bob.send(makeRequest({ method: 'ACK', uri: 'sip:alice@10.0.0.1', via: via(undefined), callId: 'old-1', toTag: busy.to.tag }), s.toAlice);
    await flush();
    expect(ist.state).toBe(InviteServerState.Confirmed);
    expect(s.acks).toHaveLength(0);
  });

  it('matches an RFC 2543 branch without the cookie the same way', async () => {
    const s = serverSide();
    const inv = rawRequest([
      'INVITE sip:alice@10.0.0.1 SIP/2.0',
      'Via: SIP/2.0/UDP 10.0.0.2:5060;branch=1234abcd',
      'From: <sip:bob@example.com>;tag=rfc2543',
      'To: <sip:alice@example.com>',
      'Call-ID: 2543-call',
      'CSeq: 7 INVITE',
      'Contact: <sip:bob@10.0.0.2>',
    ]);
    await s.bob.send(inv, s.toAlice);
    await s.bob.send(inv, s.toAlice);
    await flush();
    expect(s.txs).toHaveLength(1);
    // A CANCEL for it: same Request-URI, Call-ID, From, To, CSeq number, top Via.
    const cancel = createCancel(inv);
    await s.bob.send(cancel, s.toAlice);
    await flush();
    // The retransmission came before the TU spoke: a 100 quenched it (RFC 3261 §17.2.1).
    expect(s.bob.responses().map((r) => `${r.message.status} ${r.message.cseq.method}`)).toEqual(['100 INVITE', '200 CANCEL', '487 INVITE']);
  });

  it('an ACK for a 2xx is not absorbed: it goes to the TU', async () => {
    const s = serverSide();
    await s.bob.send(makeRequest({ method: 'ACK', toTag: 'a', via: via('z9hG4bK-ack') }), s.toAlice);
    await flush();
    expect(s.acks).toHaveLength(1);
    // An ACK is never answered.
    expect(s.bob.responses()).toHaveLength(0);
  });
});

describe('CANCEL (RFC 3261 §9)', () => {
  it('client: waits for a provisional response, then sends a CANCEL built per §9.1 to the same target', async () => {
    const f = layerAndPeer();
    const inv = f.alice.layer.sendInvite(makeRequest({ method: 'INVITE', route: ['sip:proxy.example.com;lr'] }), f.bob.target());
    const outcome = f.alice.layer.cancel(inv, { reason: 'SIP;cause=600;text="Busy Everywhere"' });
    expect(f.alice.layer.cancel(inv)).toBe(outcome);
    await f.clock.advance(1000);
    // Still Calling: no CANCEL yet (the INVITE is retransmitted).
    expect(f.bob.requests('CANCEL')).toHaveLength(0);
    const invite = f.bob.requests('INVITE')[0]!;
    await f.bob.reply(invite, { status: 180, toTag: 'b' });
    await flush();
    const cancel = f.bob.requests('CANCEL')[0]!;
    expect(cancel.message.uri.toString()).toBe(invite.message.uri.toString());
    expect(cancel.message.topVia.branch).toBe(invite.message.topVia.branch);
    expect(cancel.message.count('Via')).toBe(1);
    expect(cancel.message.callId).toBe(invite.message.callId);
    expect(cancel.message.get('To')).toBe(invite.message.get('To'));
    expect(cancel.message.get('From')).toBe(invite.message.get('From'));
    expect(cancel.message.cseq.toString()).toBe(`${invite.message.cseq.seq} CANCEL`);
    expect(cancel.message.getAll('Route')).toEqual(invite.message.getAll('Route'));
    expect(cancel.message.get('Reason')).toBe('SIP;cause=600;text="Busy Everywhere"');
    await f.bob.reply(cancel, { status: 200, toTag: 'b' });
    await flush();
    const o = await outcome;
    expect(o.kind === 'response' && o.response.status).toBe(200);
  });

  it('client: nothing is sent once the INVITE has its final response', async () => {
    const f = layerAndPeer();
    const inv = f.alice.layer.sendInvite(makeRequest({ method: 'INVITE' }), f.bob.target());
    const outcome = f.alice.layer.cancel(inv);
    await flush();
    await f.bob.reply(f.bob.requests('INVITE')[0]!, { status: 200, toTag: 'b' });
    expect(await outcome).toEqual({ kind: 'not-sent', reason: 'final-response' });
    expect(f.bob.requests('CANCEL')).toHaveLength(0);
  });

  it('server: a matching CANCEL is answered 200 with the INVITE transaction To tag and reported; the TU answers 487', async () => {
    const s = serverSide();
    const inv = makeRequest({ method: 'INVITE', uri: 'sip:alice@10.0.0.1', via: via('z9hG4bK-c1') });
    await s.bob.send(inv, s.toAlice);
    await flush();
    const ist = asIst(s.txs[0]);
    const cancels: SipRequest[] = [];
    ist.on('cancel', (c) => {
      cancels.push(c);
      ist.reply(487);
    });
    ist.reply(180);
    await s.bob.send(createCancel(inv), s.toAlice);
    await flush();
    expect(cancels).toHaveLength(1);
    const statuses = s.bob.responses().map((r) => `${r.message.status} ${r.message.cseq.method} ${r.message.to.tag}`);
    expect(statuses).toEqual([`180 INVITE ${ist.toTag}`, `200 CANCEL ${ist.toTag}`, `487 INVITE ${ist.toTag}`]);
    // The CANCEL never reaches the TU as a request.
    expect(s.txs).toHaveLength(1);
    expect(ist.state).toBe(InviteServerState.Completed);
  });

  it('server: answers 487 itself when nobody listens for cancel; a CANCEL after the final response changes nothing', async () => {
    const s = serverSide();
    const inv = makeRequest({ method: 'INVITE', uri: 'sip:alice@10.0.0.1', via: via('z9hG4bK-c2') });
    await s.bob.send(inv, s.toAlice);
    await s.bob.send(createCancel(inv), s.toAlice);
    await flush();
    expect(s.bob.responses().map((r) => r.message.status)).toEqual([200, 487]);
    const inv2 = makeRequest({ method: 'INVITE', uri: 'sip:alice@10.0.0.1', callId: 'c3', via: via('z9hG4bK-c3') });
    await s.bob.send(inv2, s.toAlice);
    await flush();
    s.txs[1]!.reply(200);
    await flush();
    s.bob.clear();
    await s.bob.send(createCancel(inv2), s.toAlice);
    await flush();
    expect(s.bob.responses().map((r) => `${r.message.status} ${r.message.cseq.method}`)).toEqual(['200 CANCEL']);
  });

  it('server: a CANCEL that matches nothing gets 481', async () => {
    const s = serverSide();
    await s.bob.send(createCancel(makeRequest({ method: 'INVITE', via: via('z9hG4bK-nothing') })), s.toAlice);
    await flush();
    expect(s.bob.responses().map((r) => r.message.status)).toEqual([481]);
    expect(s.rejected).toEqual([481]);
  });

  it('end to end: CANCEL, 487, the ACK absorbed by the server transaction', async () => {
    const { alice, bob, clock } = twoLayers();
    let ist: InviteServerTransaction | undefined;
    bob.layer.on('request', (tx) => {
      ist = asIst(tx);
      tx.reply(180);
      ist.on('cancel', () => ist?.reply(487));
    });
    const finals: number[] = [];
    const inv = alice.layer.sendInvite(makeRequest({ method: 'INVITE', uri: 'sip:bob@10.0.0.2' }), bob.target(), { onFinal: (r) => finals.push(r.status) });
    await flush();
    const outcome = await alice.layer.cancel(inv);
    await flush();
    expect(outcome.kind === 'response' && outcome.response.status).toBe(200);
    expect(finals).toEqual([487]);
    expect(ist?.state).toBe(InviteServerState.Confirmed);
    await clock.advance(40_000);
    expect(alice.layer.size).toEqual({ clients: 0, servers: 0, retransmitting2xx: 0 });
    expect(bob.layer.size).toEqual({ clients: 0, servers: 0, retransmitting2xx: 0 });
  });
});

describe('merged requests (RFC 3261 §8.2.2.2)', () => {
  it('answers 482 to a request with the From tag, Call-ID and CSeq of a running transaction but another branch', async () => {
    const s = serverSide();
    await s.bob.send(makeRequest({ method: 'INVITE', via: via('z9hG4bK-path1') }), s.toAlice);
    await s.bob.send(makeRequest({ method: 'INVITE', via: via('z9hG4bK-path2') }), s.toAlice);
    await flush();
    expect(s.txs).toHaveLength(1);
    expect(s.rejected).toEqual([482]);
    const r = s.bob.responses(482)[0]!.message;
    expect(r.topVia.branch).toBe('z9hG4bK-path2');
    expect(r.reason).toBe('Loop Detected');
  });

  it('does not merge in-dialog requests (To tag) nor requests after the first transaction ended', async () => {
    const s = serverSide({ validation: {} });
    await s.bob.send(makeRequest({ method: 'BYE', toTag: 't', via: via('z9hG4bK-b1') }), s.toAlice);
    await s.bob.send(makeRequest({ method: 'BYE', toTag: 't', via: via('z9hG4bK-b2') }), s.toAlice);
    await flush();
    expect(s.txs).toHaveLength(2);
    await s.bob.send(makeRequest({ method: 'OPTIONS', via: via('z9hG4bK-o1') }), s.toAlice);
    await flush();
    s.txs[2]!.reply(200);
    await s.clock.advance(32_000);
    await s.bob.send(makeRequest({ method: 'OPTIONS', via: via('z9hG4bK-o2') }), s.toAlice);
    await flush();
    expect(s.txs).toHaveLength(4);
    expect(s.rejected).toEqual([]);
  });
});

describe('stateless validation before a server transaction (RFC 3261 §8.2)', () => {
  const base = (first = 'OPTIONS sip:alice@10.0.0.1 SIP/2.0', method = 'OPTIONS') => [
    first,
    'Via: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bK-v',
    'Max-Forwards: 70',
    'From: <sip:bob@example.com>;tag=f',
    'To: <sip:alice@example.com>',
    'Call-ID: v-1',
    `CSeq: 1 ${method}`,
  ];
  it.each([
    ['505 for another SIP version', [...base('OPTIONS sip:alice@10.0.0.1 SIP/3.0')], '', 505],
    ['400 for a malformed Max-Forwards', base().map((l) => (l.startsWith('Max-Forwards') ? 'Max-Forwards: many' : l)), '', 400],
    ['400 for a CSeq method that is not the request method', base().map((l) => (l.startsWith('CSeq') ? 'CSeq: 1 INVITE' : l)), '', 400],
    ['416 for an unsupported URI scheme', base('OPTIONS http://example.com/ SIP/2.0'), '', 416],
    ['501 for an unknown method', base('FOO sip:alice@10.0.0.1 SIP/2.0', 'FOO'), '', 501],
    ['483 for Max-Forwards 0', base().map((l) => (l.startsWith('Max-Forwards') ? 'Max-Forwards: 0' : l)), '', 483],
    ['420 for an unsupported Require', [...base(), 'Require: foo'], '', 420],
    ['415 for an unsupported body type', [...base(), 'Content-Type: text/html'], '<p>hi</p>', 415],
  ] as const)('%s', async (_name, lines, body, status) => {
    const s = serverSide();
    const req = rawRequest(lines, body);
    await s.bob.send(req, s.toAlice);
    await flush();
    expect(s.txs).toHaveLength(0);
    expect(s.bob.responses().map((r) => r.message.status)).toEqual([status]);
    expect(s.rejected).toEqual([status]);
    const res = s.bob.responses()[0]!.message;
    if (status === 420) expect(res.get('Unsupported')).toBe('foo');
    if (status === 501) expect(res.get('Allow')).toContain('INVITE');
    if (status === 415) expect(res.get('Accept')).toContain('application/sdp');
    // A retransmission gets the same answer from the transaction (when one could be made).
    await s.bob.send(req, s.toAlice);
    await flush();
    expect(s.bob.responses().map((r) => r.message.status)).toEqual([status, status]);
    expect(s.rejected).toHaveLength(1);
  });

  it('accepts a Require the UA supports (validation options), and leaves everything to the TU with validation: false', async () => {
    const s = serverSide({ validation: { supportedOptions: ['100rel'] } });
    await s.bob.send(makeRequest({ method: 'INVITE', headers: [['Require', '100rel']], via: via('z9hG4bK-r') }), s.toAlice);
    await flush();
    expect(s.txs).toHaveLength(1);
    const t = serverSide({ validation: false });
    await t.bob.send(makeRequest({ method: 'OPTIONS', maxForwards: 0, via: via('z9hG4bK-m') }), t.toAlice);
    await flush();
    expect(t.txs).toHaveLength(1);
  });

  it('never answers an ACK, even a broken one', async () => {
    const s = serverSide();
    await s.bob.send(rawRequest(['ACK sip:alice@10.0.0.1 SIP/2.0', 'Via: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bK-x', 'From: <sip:b@x>;tag=1', 'To: <sip:a@x>;tag=2', 'CSeq: 1 ACK']), s.toAlice);
    await flush();
    expect(s.bob.responses()).toHaveLength(0);
    expect(s.acks).toHaveLength(0);
  });

  it('sends responses to the source port when the Via asks for rport, else to the sent-by port (RFC 3261 §18.2.2, RFC 3581)', async () => {
    const s = serverSide();
    const other = s.network.attach({ address: '10.0.0.2', port: 6000, protocols: ['udp'] });
    const got: number[] = [];
    other.on('message', (m) => got.push(m.message.kind === 'response' ? m.message.status : 0));
    // Sent from port 6000 with sent-by port 5060: without rport the answer goes to 5060.
    await other.send(makeRequest({ method: 'OPTIONS', via: via('z9hG4bK-p1') }), s.toAlice);
    await flush();
    s.txs[0]!.reply(200);
    // With rport: to 6000.
    await other.send(makeRequest({ method: 'OPTIONS', callId: 'rp', via: { host: '10.0.0.2', port: 5060, branch: 'z9hG4bK-p2', rport: true } }), s.toAlice);
    await flush();
    s.txs[1]!.reply(200);
    await flush();
    expect(s.bob.responses().map((r) => r.message.callId)).toEqual(['call-1@example.com']);
    expect(got).toEqual([200]);
  });
});
