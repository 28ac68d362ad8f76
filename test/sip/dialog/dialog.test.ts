// Dialogs (RFC 3261 §12): creation on both sides, route set, remote target and target refresh, CSeq rules, in-dialog requests with loose and strict routers.
import { describe, expect, it } from 'vitest';
import { Dialog, DialogState, DialogStateError, DialogCreationError } from '../../../firmware/sip/dialog/dialog.js';
import { createResponse } from '../../../firmware/sip/message/build.js';
import type { SipRequest, SipResponse } from '../../../firmware/sip/message/message.js';
import { InvalidTransitionError } from '../../../firmware/sip/transaction/state-machine.js';
import { seededRandom } from '../../../firmware/sip/transport/loopback-transport.js';
import { makeRequest } from '../support/sip-builders.js';

const random = seededRandom(9);

function inviteFromAlice(recordRoute: readonly string[] = []): SipRequest {
  return makeRequest({
    method: 'INVITE',
    uri: 'sip:bob@example.com',
    fromUri: 'sip:alice@example.com',
    fromTag: 'a-tag',
    toUri: 'sip:bob@example.com',
    callId: 'dlg-1',
    cseq: 10,
    contact: 'sip:alice@10.0.0.1:5060',
    via: { host: '10.0.0.1', branch: 'z9hG4bK-d1' },
    recordRoute,
  });
}

function answer(req: SipRequest, status: number, options: { tag?: string; contact?: string; recordRoute?: readonly string[] } = {}): SipResponse {
  const res = createResponse(req, { status, toTag: options.tag ?? 'b-tag', copyRecordRoute: options.recordRoute === undefined });
  if (options.recordRoute) for (const rr of options.recordRoute) res.append('Record-Route', `<${rr}>`);
  if (options.contact !== undefined) res.append('Contact', `<${options.contact}>`);
  return res;
}

describe('dialog creation (RFC 3261 §12.1)', () => {
  it('UAC: from a 1xx with a To tag (early), route set = Record-Route reversed, remote target = Contact, local CSeq = the INVITE', () => {
    const invite = inviteFromAlice(['sip:p1.example.com;lr', 'sip:p2.example.com;lr']);
    const ringing = answer(invite, 180, { contact: 'sip:bob@10.0.0.2:5060' });
    const d = Dialog.uac(invite, ringing, { random });
    expect(d.state).toBe(DialogState.Early);
    expect(d.role).toBe('uac');
    expect(d.id).toEqual({ callId: 'dlg-1', localTag: 'a-tag', remoteTag: 'b-tag' });
    expect(d.routeSet.map((r) => r.uri.toString())).toEqual(['sip:p2.example.com;lr', 'sip:p1.example.com;lr']);
    expect(d.remoteTarget.toString()).toBe('sip:bob@10.0.0.2:5060');
    expect(d.localSeq).toBe(10);
    expect(d.remoteSeq).toBeUndefined();
    expect(d.local.toString()).toBe('<sip:alice@example.com>;tag=a-tag');
    expect(d.remote.toString()).toBe('<sip:bob@example.com>;tag=b-tag');
    expect(d.localContact?.uri.toString()).toBe('sip:alice@10.0.0.1:5060');
    expect(d.secure).toBe(false);
    // From a 2xx: confirmed at once.
    expect(Dialog.uac(invite, answer(invite, 200, { contact: 'sip:bob@10.0.0.2' })).state).toBe(DialogState.Confirmed);
  });

  it('UAC: refuses a response without a To tag, or one that makes no dialog', () => {
    const invite = inviteFromAlice();
    const trying = createResponse(invite, { status: 100 });
    expect(() => Dialog.uac(invite, trying)).toThrow(DialogCreationError);
    expect(() => Dialog.uac(invite, answer(invite, 486))).toThrow(DialogCreationError);
  });

  it('UAC: the 2xx confirms an early dialog and recomputes its route set and remote target (RFC 3261 §13.2.2.4)', () => {
    const invite = inviteFromAlice(['sip:p1.example.com;lr']);
    const d = Dialog.uac(invite, answer(invite, 183, { contact: 'sip:bob@early.example.com' }));
    d.receiveResponse(answer(invite, 180, { contact: 'sip:bob@ringing.example.com' }));
    expect(d.remoteTarget.toString()).toBe('sip:bob@ringing.example.com');
    d.receiveResponse(answer(invite, 200, { contact: 'sip:bob@10.0.0.2', recordRoute: ['sip:p1.example.com;lr', 'sip:p3.example.com;lr'] }));
    expect(d.state).toBe(DialogState.Confirmed);
    expect(d.routeSet.map((r) => r.uri.toString())).toEqual(['sip:p3.example.com;lr', 'sip:p1.example.com;lr']);
    expect(d.remoteTarget.toString()).toBe('sip:bob@10.0.0.2');
  });

  it('UAC: a 300-699 to the INVITE ends the early dialog (RFC 3261 §12.3)', () => {
    const invite = inviteFromAlice();
    const d = Dialog.uac(invite, answer(invite, 180, { contact: 'sip:bob@10.0.0.2' }));
    const states: DialogState[] = [];
    d.on('state', (s) => states.push(s));
    d.receiveResponse(answer(invite, 486));
    expect(d.state).toBe(DialogState.Terminated);
    expect(states).toEqual([DialogState.Terminated]);
  });

  it('UAS: from the request: route set = Record-Route in order, remote target = Contact, remote CSeq = the request; secure over TLS with sips', () => {
    const invite = inviteFromAlice(['sip:p1.example.com;lr', 'sip:p2.example.com;lr']);
    const d = Dialog.uas(invite, { localTag: 'b-tag', random });
    expect(d.role).toBe('uas');
    expect(d.state).toBe(DialogState.Early);
    expect(d.id).toEqual({ callId: 'dlg-1', localTag: 'b-tag', remoteTag: 'a-tag' });
    expect(d.routeSet.map((r) => r.uri.toString())).toEqual(['sip:p1.example.com;lr', 'sip:p2.example.com;lr']);
    expect(d.remoteTarget.toString()).toBe('sip:alice@10.0.0.1:5060');
    expect(d.remoteSeq).toBe(10);
    expect(d.localSeq).toBeUndefined();
    expect(d.local.toString()).toBe('<sip:bob@example.com>;tag=b-tag');
    expect(d.remote.toString()).toBe('<sip:alice@example.com>;tag=a-tag');
    d.confirm();
    expect(d.state).toBe(DialogState.Confirmed);
    const sips = makeRequest({ method: 'INVITE', uri: 'sips:bob@example.com', contact: 'sips:alice@10.0.0.1' });
    expect(Dialog.uas(sips, { localTag: 'x', tls: true }).secure).toBe(true);
    expect(Dialog.uas(sips, { localTag: 'x', tls: false }).secure).toBe(false);
  });
});

describe('requests within a dialog (RFC 3261 §12.2.1.1)', () => {
  const confirmed = (routes: readonly string[]): Dialog => {
    const invite = inviteFromAlice();
    return Dialog.uac(invite, answer(invite, 200, { contact: 'sip:bob@10.0.0.2:5070;transport=udp', recordRoute: [...routes].reverse() }), { random });
  };

  it('no route set: Request-URI = remote target, no Route; To, From, Call-ID of the dialog; CSeq = local + 1', () => {
    const d = confirmed([]);
    const bye = d.createRequest('BYE');
    expect(bye.method).toBe('BYE');
    expect(bye.uri.toString()).toBe('sip:bob@10.0.0.2:5070;transport=udp');
    expect(bye.count('Route')).toBe(0);
    expect(bye.get('To')).toBe('<sip:bob@example.com>;tag=b-tag');
    expect(bye.get('From')).toBe('<sip:alice@example.com>;tag=a-tag');
    expect(bye.callId).toBe('dlg-1');
    expect(bye.cseq.toString()).toBe('11 BYE');
    expect(bye.maxForwards).toBe(70);
    expect(d.createRequest('INFO').cseq.seq).toBe(12);
    expect(d.localSeq).toBe(12);
    expect(d.nextHopUri.toString()).toBe('sip:bob@10.0.0.2:5070;transport=udp');
  });

  it('loose router first: Request-URI = remote target, Route = the route set', () => {
    const d = confirmed(['sip:p1.example.com;lr', 'sip:p2.example.com;lr']);
    const bye = d.createRequest('BYE');
    expect(bye.uri.toString()).toBe('sip:bob@10.0.0.2:5070;transport=udp');
    expect(bye.route.map((r) => r.uri.toString())).toEqual(['sip:p1.example.com;lr', 'sip:p2.example.com;lr']);
    expect(d.nextHopUri.toString()).toBe('sip:p1.example.com;lr');
  });

  it('strict router first: Request-URI = its URI (method parameter stripped), Route = the rest, then the remote target', () => {
    const d = confirmed(['sip:strict.example.com;method=INVITE;maddr=10.9.9.9', 'sip:p2.example.com;lr']);
    const bye = d.createRequest('BYE');
    expect(bye.uri.toString()).toBe('sip:strict.example.com;maddr=10.9.9.9');
    expect(bye.route.map((r) => r.uri.toString())).toEqual(['sip:p2.example.com;lr', 'sip:bob@10.0.0.2:5070;transport=udp']);
  });

  it('sends its Contact in target refresh requests only, unless told otherwise', () => {
    const d = confirmed([]);
    expect(d.createRequest('INVITE').contact.map((c) => c.uri.toString())).toEqual(['sip:alice@10.0.0.1:5060']);
    expect(d.createRequest('UPDATE').count('Contact')).toBe(1);
    expect(d.createRequest('BYE').count('Contact')).toBe(0);
    expect(d.createRequest('INVITE', { contact: null }).count('Contact')).toBe(0);
    const info = d.createRequest('INFO', { body: 'Signal=5\r\nDuration=160\r\n', contentType: 'application/dtmf-relay', headers: [['X-Test', '1']] });
    expect(info.bodyText).toBe('Signal=5\r\nDuration=160\r\n');
    expect(info.get('X-Test')).toBe('1');
  });

  it('the ACK of a 2xx takes the INVITE CSeq number and leaves the local CSeq alone (RFC 3261 §13.2.2.4)', () => {
    const d = confirmed(['sip:p1.example.com;lr']);
    const ack = d.createAck(10, { headers: [['Authorization', 'Digest username="alice"']] });
    expect(ack.cseq.toString()).toBe('10 ACK');
    expect(ack.route).toHaveLength(1);
    expect(ack.count('Contact')).toBe(0);
    expect(ack.get('Authorization')).toBe('Digest username="alice"');
    expect(d.localSeq).toBe(10);
    expect(() => d.createRequest('ACK')).toThrow(TypeError);
  });

  it('UAS: the first request picks a random local CSeq below 2**31', () => {
    const d = Dialog.uas(inviteFromAlice(), { localTag: 'b', random: seededRandom(1) });
    const bye = d.createRequest('BYE');
    expect(bye.cseq.seq).toBeGreaterThan(0);
    expect(bye.cseq.seq).toBeLessThan(2 ** 31);
    expect(d.createRequest('BYE').cseq.seq).toBe(bye.cseq.seq + 1);
  });
});

describe('requests received within a dialog (RFC 3261 §12.2.2)', () => {
  const uasDialog = (): Dialog => {
    const d = Dialog.uas(inviteFromAlice(), { localTag: 'b-tag', random });
    d.confirm();
    return d;
  };
  const inDialog = (method: string, cseq: number, contact?: string) =>
    makeRequest({ method, fromTag: 'a-tag', toTag: 'b-tag', callId: 'dlg-1', cseq, contact, via: { host: '10.0.0.1', branch: `z9hG4bK-${method}-${cseq}` } });

  it('rejects a lower CSeq with 500, accepts equal or higher and remembers it; ACK and CANCEL are exempt', () => {
    const d = uasDialog();
    expect(d.receiveRequest(inDialog('INFO', 9))).toEqual({ ok: false, status: 500, reason: 'Server Internal Error - CSeq out of order' });
    expect(d.remoteSeq).toBe(10);
    expect(d.receiveRequest(inDialog('ACK', 10))).toEqual({ ok: true });
    expect(d.receiveRequest(inDialog('INFO', 11))).toEqual({ ok: true });
    expect(d.remoteSeq).toBe(11);
    expect(d.receiveRequest(inDialog('ACK', 10))).toEqual({ ok: true });
    expect(d.receiveRequest(inDialog('INFO', 11)).ok).toBe(true);
    // A UAC dialog has no remote CSeq until the first request: any number is accepted.
    const invite = inviteFromAlice();
    const uac = Dialog.uac(invite, answer(invite, 200, { contact: 'sip:bob@10.0.0.2' }));
    expect(uac.receiveRequest(makeRequest({ method: 'BYE', cseq: 1 })).ok).toBe(true);
    expect(uac.remoteSeq).toBe(1);
  });

  it('a target refresh request (re-INVITE, UPDATE) replaces the remote target; other requests do not', () => {
    const d = uasDialog();
    d.receiveRequest(inDialog('INFO', 11, 'sip:alice@198.51.100.1'));
    expect(d.remoteTarget.toString()).toBe('sip:alice@10.0.0.1:5060');
    d.receiveRequest(inDialog('INVITE', 12, 'sip:alice@198.51.100.1'));
    expect(d.remoteTarget.toString()).toBe('sip:alice@198.51.100.1');
    d.receiveRequest(inDialog('UPDATE', 13, 'sip:alice@198.51.100.2:5070'));
    expect(d.remoteTarget.toString()).toBe('sip:alice@198.51.100.2:5070');
    expect(d.createRequest('BYE').uri.toString()).toBe('sip:alice@198.51.100.2:5070');
  });

  it('a 2xx to our target refresh replaces the remote target; a 481 or 408 ends the dialog (RFC 3261 §12.2.1.2)', () => {
    const invite = inviteFromAlice();
    const d = Dialog.uac(invite, answer(invite, 200, { contact: 'sip:bob@10.0.0.2' }));
    const reinvite = d.createRequest('INVITE');
    d.receiveResponse(answer(reinvite, 200, { contact: 'sip:bob@203.0.113.5' }));
    expect(d.remoteTarget.toString()).toBe('sip:bob@203.0.113.5');
    const info = d.createRequest('INFO');
    d.receiveResponse(answer(info, 200, { contact: 'sip:bob@203.0.113.6' }));
    expect(d.remoteTarget.toString()).toBe('sip:bob@203.0.113.5');
    d.receiveResponse(answer(d.createRequest('INFO'), 481));
    expect(d.state).toBe(DialogState.Terminated);
  });

  it('guards its states: nothing leaves Terminated; a terminated dialog builds no request and answers 481', () => {
    const d = uasDialog();
    d.terminate('BYE');
    d.terminate();
    expect(() => d.confirm()).toThrow(InvalidTransitionError);
    expect(() => d.createRequest('BYE')).toThrow(DialogStateError);
    expect(d.receiveRequest(inDialog('INFO', 20))).toMatchObject({ ok: false, status: 481 });
  });
});
