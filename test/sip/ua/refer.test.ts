// Call transfer (RFC 3515, 3891, 3892, 4488): REFER with and without Replaces, reading Refer-To, matching Replaces, Refer-Sub, and the sipfrag NOTIFYs.
import { describe, expect, it } from 'vitest';
import { Dialog, DialogState } from '../../../firmware/sip/dialog/dialog.js';
import { createResponse } from '../../../firmware/sip/message/build.js';
import { NameAddr } from '../../../firmware/sip/message/headers.js';
import type { SipRequest, SipResponse } from '../../../firmware/sip/message/message.js';
import { parseMessage } from '../../../firmware/sip/message/parse.js';
import { serializeMessage } from '../../../firmware/sip/message/serialize.js';
import { sipUri, uri } from '../../../firmware/sip/message/uri.js';
import {
  type ReplacesValue,
  SIPFRAG_CONTENT_TYPE,
  createRefer,
  createReferNotify,
  escapeUriHeaderValue,
  formatReplaces,
  isNotifyForRefer,
  matchReplaces,
  parseReplaces,
  readRefer,
  readReferNotify,
  readReplaces,
  referAcceptance,
  referCreatedSubscription,
  referEventValue,
  referHeaders,
  replacesForDialog,
  sipfragBody,
  subscriptionStateValue,
} from '../../../firmware/sip/ua/refer.js';
import { makeRequest, rawRequest } from '../support/sip-builders.js';

/** Our confirmed call with bob: we called (UAC), Call-ID 12345@192.168.118.3. */
function callWithBob(): { dialog: Dialog; invite: SipRequest; ok: SipResponse } {
  const invite = makeRequest({ method: 'INVITE', cseq: 1, callId: '12345@192.168.118.3', fromUri: 'sip:alice@a.example', fromTag: '5FFE-3994', toUri: 'sip:bob@b.example', contact: 'sip:alice@10.0.0.1' });
  const ok = createResponse(invite, { status: 200, toTag: '12345', headers: [['Contact', '<sip:bob@10.0.0.2>']] });
  return { dialog: Dialog.uac(invite, ok, { random: () => 0.5 }), invite, ok };
}

/** Receives a request as the peer would: serialized and parsed back. */
function wire(req: SipRequest): SipRequest {
  const r = parseMessage(serializeMessage(req));
  if (!r.ok || r.message.kind !== 'request') throw new Error('did not parse');
  return r.message;
}

describe('Replaces (RFC 3891)', () => {
  it('names our dialog from the view of its peer: to-tag = our remote tag, from-tag = our local tag', () => {
    const { dialog } = callWithBob();
    const r = replacesForDialog(dialog.id);
    expect(r).toEqual({ callId: '12345@192.168.118.3', toTag: '12345', fromTag: '5FFE-3994', earlyOnly: false });
    expect(formatReplaces(r)).toBe('12345@192.168.118.3;to-tag=12345;from-tag=5FFE-3994');
    expect(formatReplaces({ ...r, earlyOnly: true })).toBe('12345@192.168.118.3;to-tag=12345;from-tag=5FFE-3994;early-only');
  });

  it('parses text and headers; missing tags or a malformed value are errors', () => {
    expect(parseReplaces('abc@host ; to-tag=1;from-tag=2;early-only')).toEqual({ ok: true, replaces: { callId: 'abc@host', toTag: '1', fromTag: '2', earlyOnly: true } });
    expect(parseReplaces('abc;from-tag=2')).toEqual({ ok: false, reason: 'Replaces without to-tag' });
    expect(parseReplaces('abc;to-tag=1')).toEqual({ ok: false, reason: 'Replaces without from-tag' });
    expect(parseReplaces('a b;to-tag=1;from-tag=2').ok).toBe(false);
    const inv = makeRequest({ method: 'INVITE', headers: [['Replaces', '98732@sip.example.com;from-tag=r33th4x0r;to-tag=ff87ff']] });
    expect(readReplaces(inv)).toEqual({ ok: true, replaces: { callId: '98732@sip.example.com', toTag: 'ff87ff', fromTag: 'r33th4x0r', earlyOnly: false } });
    expect(readReplaces(makeRequest({ method: 'INVITE' }))).toBeUndefined();
    const two = makeRequest({ method: 'INVITE', headers: [['Replaces', 'a;to-tag=1;from-tag=2'], ['Replaces', 'b;to-tag=1;from-tag=2']] });
    expect(readReplaces(two)?.ok).toBe(false);
  });

  it('matches the dialog the INVITE replaces, with the RFC 3891 §3 errors', () => {
    // Seen from bob, who receives the INVITE with Replaces: local tag 12345, remote 5FFE-3994.
    const bobSide = { id: { callId: '12345@192.168.118.3', localTag: '12345', remoteTag: '5FFE-3994' }, state: DialogState.Confirmed, role: 'uas' as const };
    const other = { id: { callId: 'other', localTag: 'x', remoteTag: 'y' }, state: DialogState.Confirmed, role: 'uac' as const };
    const fromAlice: ReplacesValue = { callId: '12345@192.168.118.3', toTag: '12345', fromTag: '5FFE-3994', earlyOnly: false };
    expect(matchReplaces(fromAlice, [other, bobSide])).toEqual({ ok: true, dialog: bobSide });
    // Tags the wrong way round (our own view) do not match.
    expect(matchReplaces({ ...fromAlice, toTag: '5FFE-3994', fromTag: '12345' }, [bobSide])).toMatchObject({ ok: false, status: 481 });
    expect(matchReplaces(fromAlice, [])).toMatchObject({ ok: false, status: 481 });
    expect(matchReplaces(fromAlice, [bobSide, { ...bobSide }])).toMatchObject({ ok: false, status: 481 });
    expect(matchReplaces({ ...fromAlice, earlyOnly: true }, [bobSide])).toMatchObject({ ok: false, status: 486 });
    expect(matchReplaces(fromAlice, [{ ...bobSide, state: DialogState.Terminated }])).toMatchObject({ ok: false, status: 603 });
    // An early dialog: only one we initiated may be replaced (call pickup of our outgoing call).
    expect(matchReplaces(fromAlice, [{ ...bobSide, state: DialogState.Early }])).toMatchObject({ ok: false, status: 481 });
    expect(matchReplaces({ ...fromAlice, earlyOnly: true }, [{ ...bobSide, state: DialogState.Early, role: 'uac' as const }]).ok).toBe(true);
  });

  it('works on Dialog objects', () => {
    const { dialog } = callWithBob();
    const seenByUs: ReplacesValue = { callId: dialog.id.callId, toTag: dialog.id.localTag, fromTag: dialog.id.remoteTag, earlyOnly: false };
    expect(matchReplaces(seenByUs, [dialog])).toEqual({ ok: true, dialog });
  });
});

describe('REFER (RFC 3515, RFC 3892, RFC 4488)', () => {
  it('escapes embedded header values: ; = @ % & and spaces, not unreserved or hnv-unreserved', () => {
    expect(escapeUriHeaderValue('12345@192.168.118.3;to-tag=12345;from-tag=5FFE-3994')).toBe('12345%40192.168.118.3%3Bto-tag%3D12345%3Bfrom-tag%3D5FFE-3994');
    expect(escapeUriHeaderValue("a&b %c,d")).toBe('a%26b%20%25c%2Cd');
    expect(escapeUriHeaderValue("-_.!~*'()[]/?:+$")).toBe("-_.!~*'()[]/?:+$");
    expect(escapeUriHeaderValue('é')).toBe('%C3%A9');
  });

  it('blind transfer: Refer-To with the target, Referred-By, Contact', () => {
    const { dialog } = callWithBob();
    const refer = createRefer(dialog, { target: uri('sip:carol@c.example'), referredBy: new NameAddr({ uri: sipUri('sip:alice@a.example') }) });
    expect(refer.method).toBe('REFER');
    expect(refer.get('Refer-To')).toBe('<sip:carol@c.example>');
    expect(refer.get('Referred-By')).toBe('<sip:alice@a.example>');
    expect(refer.get('Contact')).toBe('<sip:alice@10.0.0.1>');
    expect(refer.has('Refer-Sub')).toBe(false);
    expect(refer.cseq.seq).toBe(2);
  });

  it('attended transfer: Replaces embedded in Refer-To, escaped as in RFC 3891 §7.1', () => {
    const { dialog } = callWithBob();
    const headers = referHeaders({ target: new NameAddr({ displayName: 'Bob', uri: sipUri('sips:bob@biloxi.example.com') }), replaces: replacesForDialog(dialog.id), noSubscription: true });
    expect(headers).toEqual([
      ['Refer-To', '"Bob" <sips:bob@biloxi.example.com?Replaces=12345%40192.168.118.3%3Bto-tag%3D12345%3Bfrom-tag%3D5FFE-3994>'],
      ['Refer-Sub', 'false'],
    ]);
    expect(() => referHeaders({ target: uri('tel:+15551234'), replaces: replacesForDialog(dialog.id) })).toThrow(TypeError);
  });

  it('reads a received REFER: target without headers, Replaces unescaped and parsed, Referred-By, Refer-Sub', () => {
    const { dialog } = callWithBob();
    const sent = createRefer(dialog, {
      target: uri('sip:carol@c.example;transport=tcp'),
      replaces: { callId: 'x@y', toTag: 't.1', fromTag: 'f%1', earlyOnly: true },
      referredBy: new NameAddr({ uri: sipUri('sip:alice@a.example') }),
      noSubscription: true,
    });
    const r = readRefer(wire(sent));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.refer.target.toString()).toBe('sip:carol@c.example;transport=tcp');
    expect(r.refer.method).toBe('INVITE');
    expect(r.refer.replaces).toEqual({ callId: 'x@y', toTag: 't.1', fromTag: 'f%1', earlyOnly: true });
    expect(sent.get('Refer-To')).toBe('<sip:carol@c.example;transport=tcp?Replaces=x%40y%3Bto-tag%3Dt.1%3Bfrom-tag%3Df%251%3Bearly-only>');
    expect(r.refer.referredBy?.uri.toString()).toBe('sip:alice@a.example');
    expect(r.refer.subscriptionWanted).toBe(false);
  });

  it('reads an RFC 3891 §7.1 Refer-To written by another stack, with other embedded headers', () => {
    const refer = rawRequest([
      'REFER sip:bob@10.0.0.2 SIP/2.0',
      'Via: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK-r1',
      'From: <sip:alice@a.example>;tag=a',
      'To: <sip:bob@b.example>;tag=b',
      'Call-ID: c1',
      'CSeq: 3 REFER',
      'Max-Forwards: 70',
      'Contact: <sip:alice@10.0.0.1>',
      'Refer-To: <sips:bob@biloxi.example.com;method=INVITE?Replaces=12345%40192.168.118.3%3Bto-tag%3D12345%3Bfrom-tag%3D5FFE-3994&Require=replaces%2C%20timer>',
    ]);
    const r = readRefer(refer);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.refer.replaces).toEqual({ callId: '12345@192.168.118.3', toTag: '12345', fromTag: '5FFE-3994', earlyOnly: false });
    expect(r.refer.headers).toEqual([['Require', 'replaces, timer']]);
    expect(r.refer.method).toBe('INVITE');
    expect(r.refer.target.toString()).toBe('sips:bob@biloxi.example.com');
    expect(r.refer.subscriptionWanted).toBe(true);
  });

  it('a Replaces round trip through build, wire and read', () => {
    const { dialog } = callWithBob();
    const r = readRefer(wire(createRefer(dialog, { target: uri('sip:carol@c.example'), replaces: replacesForDialog(dialog.id, { earlyOnly: true }) })));
    expect(r.ok && r.refer.replaces).toEqual({ callId: '12345@192.168.118.3', toTag: '12345', fromTag: '5FFE-3994', earlyOnly: true });
  });

  it('400 for no Refer-To, two, a malformed one, or a malformed embedded Replaces; the method parameter is read', () => {
    expect(readRefer(makeRequest({ method: 'REFER' }))).toMatchObject({ ok: false, status: 400 });
    expect(readRefer(makeRequest({ method: 'REFER', headers: [['Refer-To', '<sip:a@x>'], ['Refer-To', '<sip:b@x>']] }))).toMatchObject({ ok: false, status: 400 });
    expect(readRefer(makeRequest({ method: 'REFER', headers: [['Refer-To', '<sip:a@x']] }))).toMatchObject({ ok: false, status: 400 });
    expect(readRefer(makeRequest({ method: 'REFER', headers: [['Refer-To', '<sip:a@x?Replaces=abc%3Bto-tag%3D1>']] }))).toMatchObject({ ok: false, status: 400 });
    const bye = readRefer(makeRequest({ method: 'REFER', headers: [['r', '<sip:a@x;method=bye>']] }));
    expect(bye.ok && [bye.refer.method, bye.refer.target.toString()]).toEqual(['BYE', 'sip:a@x']);
    const tel = readRefer(makeRequest({ method: 'REFER', headers: [['Refer-To', '<tel:+15551234>']] }));
    expect(tel.ok && tel.refer.target.toString()).toBe('tel:+15551234');
  });

  it('Refer-Sub (RFC 4488 §4): the 202 headers, and whether our REFER made a subscription', () => {
    const plain = makeRequest({ method: 'REFER', headers: [['Refer-To', '<sip:a@x>']] });
    const noSub = makeRequest({ method: 'REFER', headers: [['Refer-To', '<sip:a@x>'], ['Refer-Sub', 'FALSE']] });
    expect(referAcceptance(plain)).toEqual({ subscription: true, headers: [] });
    expect(referAcceptance(noSub)).toEqual({ subscription: false, headers: [['Refer-Sub', 'false']] });
    expect(referAcceptance(noSub, { allowNoSubscription: false })).toEqual({ subscription: true, headers: [['Refer-Sub', 'true']] });
    expect(referCreatedSubscription(createResponse(plain, { status: 202, toTag: 'b' }))).toBe(true);
    expect(referCreatedSubscription(createResponse(noSub, { status: 202, toTag: 'b', headers: [['Refer-Sub', 'false']] }))).toBe(false);
  });
});

describe('NOTIFY with sipfrag (RFC 3515 §2.4.4-2.4.7)', () => {
  it('header values and bodies', () => {
    expect(referEventValue()).toBe('refer');
    expect(referEventValue(93809824)).toBe('refer;id=93809824');
    expect(subscriptionStateValue(false)).toBe('active');
    expect(subscriptionStateValue(false, 60)).toBe('active;expires=60');
    expect(subscriptionStateValue(true)).toBe('terminated;reason=noresource');
    expect(sipfragBody(100, 'Trying')).toBe('SIP/2.0 100 Trying\r\n');
  });

  it('builds 100 Trying (active) and 200 OK (terminated) NOTIFYs in the dialog', () => {
    const { dialog } = callWithBob();
    const trying = createReferNotify(dialog, { status: 100, reason: 'Trying', expiresS: 60 });
    expect(trying.method).toBe('NOTIFY');
    expect(trying.get('Event')).toBe('refer');
    expect(trying.get('Subscription-State')).toBe('active;expires=60');
    expect(trying.get('Content-Type')).toBe(SIPFRAG_CONTENT_TYPE);
    expect(trying.bodyText).toBe('SIP/2.0 100 Trying\r\n');
    const done = createReferNotify(dialog, { status: 200, reason: 'OK', referCSeq: 5 });
    expect(done.get('Event')).toBe('refer;id=5');
    expect(done.get('Subscription-State')).toBe('terminated;reason=noresource');
    expect(done.cseq.seq).toBe(trying.cseq.seq + 1);
  });

  it('reads progress and the final result from received NOTIFYs', () => {
    const { dialog } = callWithBob();
    const trying = readReferNotify(wire(createReferNotify(dialog, { status: 100, reason: 'Trying' })));
    expect(trying).toEqual({ ok: true, progress: { status: 100, reason: 'Trying', final: false, succeeded: false, subscriptionTerminated: false } });
    const ok = readReferNotify(wire(createReferNotify(dialog, { status: 200, reason: 'OK' })));
    expect(ok).toEqual({ ok: true, progress: { status: 200, reason: 'OK', final: true, succeeded: true, subscriptionTerminated: true } });
    const busy = readReferNotify(wire(createReferNotify(dialog, { status: 486, reason: 'Busy Here' })));
    expect(busy.ok && busy.progress).toMatchObject({ status: 486, final: true, succeeded: false });
  });

  it('reads a sipfrag with headers after the status line, and one without a body', () => {
    const base = { method: 'NOTIFY', toTag: 'b' } as const;
    const withHeaders = makeRequest({ ...base, headers: [['Event', 'refer'], ['Subscription-State', 'active']], body: 'SIP/2.0 180 Ringing\r\nContent-Length: 0\r\n', contentType: 'message/sipfrag' });
    expect(readReferNotify(withHeaders)).toMatchObject({ ok: true, progress: { status: 180, reason: 'Ringing', final: false } });
    const empty = makeRequest({ ...base, headers: [['Event', 'refer'], ['Subscription-State', 'terminated;reason=timeout']] });
    expect(readReferNotify(empty)).toEqual({ ok: true, progress: { status: undefined, reason: undefined, final: false, succeeded: false, subscriptionTerminated: true } });
  });

  it('rejects a NOTIFY of another event (489) or with a body that is not a status line (400)', () => {
    const base = { method: 'NOTIFY', toTag: 'b' } as const;
    expect(readReferNotify(makeRequest({ ...base, headers: [['Event', 'dialog']] }))).toMatchObject({ ok: false, status: 489 });
    expect(readReferNotify(makeRequest({ ...base, headers: [['Event', 'refer']], body: 'hello', contentType: 'message/sipfrag' }))).toMatchObject({ ok: false, status: 400 });
    expect(readReferNotify(makeRequest({ ...base, headers: [['Event', 'refer']], body: 'SIP/2.0 200 OK', contentType: 'text/plain' }))).toMatchObject({ ok: false, status: 400 });
  });

  it('matches NOTIFYs to the REFER they report on by Event id', () => {
    const notify = (event: string): SipRequest => makeRequest({ method: 'NOTIFY', toTag: 'b', headers: [['Event', event]] });
    expect(isNotifyForRefer(notify('refer'), 2, true)).toBe(true);
    expect(isNotifyForRefer(notify('refer'), 5, false)).toBe(false);
    expect(isNotifyForRefer(notify('refer;id=5'), 5, false)).toBe(true);
    expect(isNotifyForRefer(notify('refer;id=5'), 2, true)).toBe(false);
    expect(isNotifyForRefer(notify('dialog'), 2, true)).toBe(false);
  });
});
