// Reliable provisional responses (RFC 3262): policy, RSeq, retransmission and give-up, the queue, PRACK matching, the final response rule; UAC classification and PRACK.
import { describe, expect, it } from 'vitest';
import { Dialog } from '../../../firmware/sip/dialog/dialog.js';
import { createResponse } from '../../../firmware/sip/message/build.js';
import type { SipRequest, SipResponse } from '../../../firmware/sip/message/message.js';
import { serializeMessage } from '../../../firmware/sip/message/serialize.js';
import {
  ReliableProvisionalError,
  ReliableProvisionalReceiver,
  ReliableProvisionalSender,
  createPrack,
  isReliableProvisional,
  useReliableProvisionals,
} from '../../../firmware/sip/ua/reliable-provisional.js';
import { VirtualClock } from '../../../firmware/util/clock.js';
import { makeRequest } from '../support/sip-builders.js';

function invite(headers: readonly (readonly [string, string])[] = []): SipRequest {
  return makeRequest({ method: 'INVITE', cseq: 7, headers, contact: 'sip:alice@10.0.0.1', fromTag: 'a-tag', callId: 'prack-1' });
}

function provisional(req: SipRequest, status: number, body?: string, toTag = 'b-tag'): SipResponse {
  return createResponse(req, { status, toTag, headers: [['Contact', '<sip:bob@10.0.0.2>']], ...(body !== undefined ? { body, contentType: 'application/sdp' } : {}) });
}

function prack(rseq: number, cseq = 7, method = 'INVITE', prackCSeq = 8): SipRequest {
  return makeRequest({ method: 'PRACK', cseq: prackCSeq, toTag: 'b-tag', fromTag: 'a-tag', callId: 'prack-1', headers: [['RAck', `${rseq} ${cseq} ${method}`]] });
}

function setup(o: { random?: () => number; t1Ms?: number } = {}) {
  const clock = new VirtualClock();
  const sent: { at: number; status: number; rseq: number | undefined }[] = [];
  const timedOut: SipResponse[] = [];
  const sender = new ReliableProvisionalSender({
    clock,
    random: o.random ?? (() => 0),
    ...(o.t1Ms !== undefined ? { t1Ms: o.t1Ms } : {}),
    send: (r) => sent.push({ at: clock.now(), status: r.status, rseq: r.rseq }),
    timedOut: (r) => timedOut.push(r),
  });
  return { clock, sent, timedOut, sender };
}

describe('policy (RFC 3262 §3)', () => {
  it('reliable when the INVITE requires 100rel; when it only supports it, by configuration (default no)', () => {
    expect(useReliableProvisionals(invite([['Require', '100rel']]))).toBe(true);
    expect(useReliableProvisionals(invite([['Supported', 'timer, 100rel']]))).toBe(false);
    expect(useReliableProvisionals(invite([['Supported', 'timer, 100REL']]), { reliableWhenSupported: true })).toBe(true);
    expect(useReliableProvisionals(invite(), { reliableWhenSupported: true })).toBe(false);
  });
});

describe('UAS: ReliableProvisionalSender', () => {
  it('adds Require: 100rel and RSeq; the first RSeq is random in [1, 2^31-1], then +1', () => {
    const low = setup({ random: () => 0 });
    const req = invite([['Require', '100rel']]);
    const r180 = provisional(req, 180);
    expect(low.sender.sendProvisional(r180)).toBe(1);
    expect(r180.require).toEqual(['100rel']);
    expect(r180.get('RSeq')).toBe('1');
    expect(serializeMessage(r180).toString()).toContain('\r\nRequire: 100rel\r\nRSeq: 1\r\n');
    const high = setup({ random: () => 0.999999999999 });
    expect(high.sender.nextRseq).toBe(2 ** 31 - 1);
    const mid = setup({ random: () => 0.5 });
    const first = mid.sender.nextRseq;
    mid.sender.sendProvisional(provisional(req, 180));
    mid.sender.receivePrack(prack(first));
    expect(mid.sender.sendProvisional(provisional(req, 183))).toBe(first + 1);
  });

  it('refuses 100 and final statuses', () => {
    const { sender } = setup();
    const req = invite();
    expect(() => sender.sendProvisional(createResponse(req, { status: 100 }))).toThrow(ReliableProvisionalError);
    expect(() => sender.sendProvisional(provisional(req, 200))).toThrow(ReliableProvisionalError);
  });

  it('retransmits at T1 doubling until the PRACK, which gets 200', async () => {
    const { clock, sent, sender } = setup();
    sender.sendProvisional(provisional(invite(), 180));
    await clock.advance(3_600);
    expect(sent.map((s) => s.at)).toEqual([0, 500, 1500, 3500]);
    const v = sender.receivePrack(prack(1));
    expect(v.ok).toBe(true);
    expect(v.ok && v.acknowledged.status).toBe(180);
    expect(sender.awaitingPrack).toBe(false);
    await clock.runAll();
    expect(sent).toHaveLength(4);
    expect(clock.pending).toBe(0);
  });

  it('gives up after 64*T1 without PRACK: timedOut (the session rejects the INVITE with 5xx)', async () => {
    const { clock, sent, timedOut, sender } = setup();
    sender.sendProvisional(provisional(invite(), 180));
    sender.sendProvisional(provisional(invite(), 183));
    await clock.runAll();
    expect(sent.map((s) => s.at)).toEqual([0, 500, 1500, 3500, 7500, 15500, 31500]);
    expect(timedOut.map((r) => r.status)).toEqual([180]);
    expect(clock.now()).toBe(32_000);
    // Stopped: the queued 183 was never sent, nothing else can be.
    expect(sent.every((s) => s.status === 180)).toBe(true);
    expect(() => sender.sendProvisional(provisional(invite(), 183))).toThrow(ReliableProvisionalError);
  });

  it('sends one reliable 1xx at a time: the next waits for the PRACK of the one in flight', async () => {
    const { clock, sent, sender } = setup();
    const req = invite();
    expect(sender.sendProvisional(provisional(req, 180))).toBe(1);
    expect(sender.sendProvisional(provisional(req, 183))).toBe(2);
    expect(sender.queued).toBe(1);
    expect(sent.map((s) => s.status)).toEqual([180]);
    await clock.advance(100);
    expect(sender.receivePrack(prack(1)).ok).toBe(true);
    expect(sent.map((s) => [s.status, s.rseq, s.at])).toEqual([
      [180, 1, 0],
      [183, 2, 100],
    ]);
    await clock.advance(500);
    expect(sent).toHaveLength(3);
  });

  it('answers 481 to a PRACK that matches nothing unacknowledged, 400 without RAck', () => {
    const { sender } = setup();
    sender.sendProvisional(provisional(invite(), 180));
    expect(sender.receivePrack(prack(2))).toMatchObject({ ok: false, status: 481 });
    expect(sender.receivePrack(prack(1, 6))).toMatchObject({ ok: false, status: 481 });
    expect(sender.receivePrack(prack(1, 7, 'UPDATE'))).toMatchObject({ ok: false, status: 481 });
    expect(sender.receivePrack(prack(1)).ok).toBe(true);
    // Already acknowledged: a new PRACK for it matches nothing.
    expect(sender.receivePrack(prack(1, 7, 'INVITE', 9))).toMatchObject({ ok: false, status: 481 });
    const bare = makeRequest({ method: 'PRACK', cseq: 10, toTag: 'b-tag' });
    expect(sender.receivePrack(bare)).toMatchObject({ ok: false, status: 400 });
  });

  it('a 2xx waits for the PRACK of a 1xx that carried a session description, then goes at once', async () => {
    const { clock, sent, sender } = setup();
    const req = invite([['Require', '100rel']]);
    sender.sendProvisional(provisional(req, 183, 'v=0\r\n'));
    await clock.advance(200);
    expect(sender.sendFinal(provisional(req, 200))).toBe('held');
    expect(sender.finalHeld).toBe(true);
    await clock.advance(400);
    expect(sent.map((s) => s.status)).toEqual([183, 183]);
    expect(sender.receivePrack(prack(1)).ok).toBe(true);
    expect(sent.map((s) => [s.status, s.at])).toEqual([
      [183, 0],
      [183, 500],
      [200, 600],
    ]);
    await clock.runAll();
    expect(sent).toHaveLength(3);
  });

  it('a held 2xx also waits for a queued 1xx with a body, sent after the one in flight', () => {
    const { sent, sender } = setup();
    const req = invite();
    sender.sendProvisional(provisional(req, 180));
    sender.sendProvisional(provisional(req, 183, 'v=0\r\n'));
    expect(sender.sendFinal(provisional(req, 200))).toBe('held');
    sender.receivePrack(prack(1));
    expect(sent.map((s) => s.status)).toEqual([180, 183]);
    sender.receivePrack(prack(2));
    expect(sent.map((s) => s.status)).toEqual([180, 183, 200]);
  });

  it('a 2xx after a 1xx without a body, and any non-2xx, go before the PRACK; retransmissions stop, late PRACK still 200', async () => {
    const { clock, sent, sender } = setup();
    const req = invite();
    sender.sendProvisional(provisional(req, 180));
    sender.sendProvisional(provisional(req, 181));
    expect(sender.sendFinal(provisional(req, 200))).toBe('sent');
    await clock.runAll();
    expect(sent.map((s) => s.status)).toEqual([180, 200]);
    expect(sender.receivePrack(prack(1)).ok).toBe(true);
    expect(() => sender.sendFinal(provisional(req, 200))).toThrow(ReliableProvisionalError);

    const other = setup();
    other.sender.sendProvisional(provisional(req, 183, 'v=0\r\n'));
    expect(other.sender.sendFinal(provisional(req, 486))).toBe('sent');
    expect(other.sent.map((s) => s.status)).toEqual([183, 486]);
  });

  it('stop() ends retransmissions and drops a held final response', async () => {
    const { clock, sent, sender } = setup();
    const req = invite();
    sender.sendProvisional(provisional(req, 183, 'v=0\r\n'));
    sender.sendFinal(provisional(req, 200));
    sender.stop();
    await clock.runAll();
    expect(sent.map((s) => s.status)).toEqual([183]);
    expect(clock.pending).toBe(0);
  });
});

describe('UAC: ReliableProvisionalReceiver and PRACK (RFC 3262 §4)', () => {
  function reliable(req: SipRequest, status: number, rseq: number | undefined, toTag = 'b-tag'): SipResponse {
    const r = provisional(req, status, undefined, toTag);
    r.append('Require', '100rel');
    if (rseq !== undefined) r.append('RSeq', `${rseq}`);
    return r;
  }

  it('tells reliable from unreliable 1xx', () => {
    const req = invite();
    expect(isReliableProvisional(reliable(req, 180, 5))).toBe(true);
    expect(isReliableProvisional(provisional(req, 180))).toBe(false);
    const hundred = createResponse(req, { status: 100, headers: [['Require', '100rel'], ['RSeq', '1']] });
    expect(isReliableProvisional(hundred)).toBe(false);
    const rx = new ReliableProvisionalReceiver();
    expect(rx.receive(provisional(req, 180))).toEqual({ kind: 'unreliable' });
    expect(rx.receive(reliable(req, 180, undefined))).toMatchObject({ kind: 'invalid' });
  });

  it('first RSeq any, then last+1; retransmissions and gaps are not acknowledged', () => {
    const req = invite();
    const rx = new ReliableProvisionalReceiver();
    expect(rx.receive(reliable(req, 180, 4711))).toEqual({ kind: 'reliable', rseq: 4711 });
    expect(rx.receive(reliable(req, 180, 4711))).toEqual({ kind: 'retransmission', rseq: 4711 });
    expect(rx.receive(reliable(req, 183, 4713))).toEqual({ kind: 'out-of-order', rseq: 4713, expected: 4712 });
    expect(rx.receive(reliable(req, 183, 4712))).toEqual({ kind: 'reliable', rseq: 4712 });
    expect(rx.receive(reliable(req, 180, 4711))).toEqual({ kind: 'retransmission', rseq: 4711 });
    expect(rx.receive(reliable(req, 183, 4713))).toEqual({ kind: 'reliable', rseq: 4713 });
    expect(rx.lastRseq('b-tag')).toBe(4713);
  });

  it('keeps one sequence per early dialog (forking)', () => {
    const req = invite();
    const rx = new ReliableProvisionalReceiver();
    expect(rx.receive(reliable(req, 180, 10, 'fork-1')).kind).toBe('reliable');
    expect(rx.receive(reliable(req, 180, 900, 'fork-2')).kind).toBe('reliable');
    expect(rx.receive(reliable(req, 183, 11, 'fork-1')).kind).toBe('reliable');
    expect(rx.receive(reliable(req, 183, 11, 'fork-2')).kind).toBe('retransmission');
  });

  it('builds the PRACK in the early dialog: RAck = RSeq, CSeq number and method of the 1xx', () => {
    const req = invite();
    const r183 = reliable(req, 183, 77);
    const dialog = Dialog.uac(req, r183, { random: () => 0.5 });
    const p = createPrack(dialog, r183, { headers: [['User-Agent', 'offhook']], body: 'v=0\r\n', contentType: 'application/sdp' });
    expect(p.method).toBe('PRACK');
    expect(p.get('RAck')).toBe('77 7 INVITE');
    expect(p.rack).toMatchObject({ rseq: 77, cseq: 7, method: 'INVITE' });
    expect(p.cseq.seq).toBe(8);
    expect(p.to.tag).toBe('b-tag');
    expect(p.uriText).toBe('sip:bob@10.0.0.2');
    expect(p.get('User-Agent')).toBe('offhook');
    expect(p.bodyText).toBe('v=0\r\n');
    expect(() => createPrack(dialog, provisional(req, 180))).toThrow(ReliableProvisionalError);
  });

  it('end to end: the UAS sender accepts the PRACK the UAC builds', () => {
    const { sender } = setup({ random: () => 0.25 });
    const req = invite([['Supported', '100rel']]);
    const r180 = provisional(req, 180);
    sender.sendProvisional(r180);
    const rx = new ReliableProvisionalReceiver();
    expect(rx.receive(r180).kind).toBe('reliable');
    const p = createPrack(Dialog.uac(req, r180, { random: () => 0.5 }), r180);
    expect(sender.receivePrack(p).ok).toBe(true);
  });
});
