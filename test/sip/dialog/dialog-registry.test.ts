// The dialog registry (481 / 500 for in-dialog requests, forks, removal on termination) and whole calls between two in-process UAs on the loopback network.
import { describe, expect, it } from 'vitest';
import { Dialog, DialogState } from '../../../firmware/sip/dialog/dialog.js';
import { DialogRegistry, DuplicateDialogError } from '../../../firmware/sip/dialog/dialog-registry.js';
import { createResponse } from '../../../firmware/sip/message/build.js';
import type { SipRequest } from '../../../firmware/sip/message/message.js';
import { flush } from '../support/flush.js';
import { twoLayers } from '../support/layer-fixture.js';
import { makeRequest } from '../support/sip-builders.js';
import { TestUserAgent } from '../support/test-user-agent.js';

const invite = (): SipRequest => makeRequest({ method: 'INVITE', callId: 'reg-1', fromTag: 'a', cseq: 5, contact: 'sip:alice@10.0.0.1' });
const uasDialog = (registry: DialogRegistry): Dialog => {
  const d = registry.add(Dialog.uas(invite(), { localTag: 'b' }));
  d.confirm();
  return d;
};
const inDialog = (method: string, cseq: number, toTag = 'b', fromTag = 'a') => makeRequest({ method, callId: 'reg-1', fromTag, toTag, cseq });

describe('DialogRegistry', () => {
  it('routes in-dialog requests by Call-ID and tags; 481 for an unknown dialog; 500 out of order; ACK dropped', () => {
    const registry = new DialogRegistry();
    const d = uasDialog(registry);
    expect(registry.receiveRequest(makeRequest({ method: 'INVITE' }))).toEqual({ kind: 'out-of-dialog' });
    expect(registry.receiveRequest(inDialog('INFO', 6))).toEqual({ kind: 'in-dialog', dialog: d });
    const unknown = registry.receiveRequest(inDialog('BYE', 7, 'other'));
    expect(unknown.kind === 'reject' && [unknown.status, unknown.response.status, unknown.response.reason]).toEqual([481, 481, 'Call/Transaction Does Not Exist']);
    const old = registry.receiveRequest(inDialog('INFO', 4));
    expect(old.kind === 'reject' && [old.status, old.response.status, old.dialog]).toEqual([500, 500, d]);
    expect(registry.receiveRequest(inDialog('ACK', 5, 'other'))).toEqual({ kind: 'drop' });
  });

  it('finds the dialog of a response, keeps forked early dialogs apart, and forgets a dialog when it terminates', () => {
    const registry = new DialogRegistry();
    const inv = invite();
    const fork1 = registry.add(Dialog.uac(inv, createResponse(inv, { status: 180, toTag: 'f1', headers: [['Contact', '<sip:b1@10.0.0.2>']] })));
    const fork2 = registry.add(Dialog.uac(inv, createResponse(inv, { status: 180, toTag: 'f2', headers: [['Contact', '<sip:b2@10.0.0.3>']] })));
    expect(registry.forked('reg-1', 'a')).toEqual([fork1, fork2]);
    expect(registry.forResponse(createResponse(inv, { status: 200, toTag: 'f2' }))).toBe(fork2);
    expect(() => registry.add(Dialog.uac(inv, createResponse(inv, { status: 183, toTag: 'f1' })))).toThrow(DuplicateDialogError);
    fork1.terminate();
    expect(registry.size).toBe(1);
    expect(registry.get(fork1.id)).toBeUndefined();
  });
});

describe('calls between two in-process user agents', () => {
  it('INVITE, 180, 200, ACK; BYE within the dialog; afterwards 481', async () => {
    const { alice, bob, clock } = twoLayers({ seed: 2 });
    const caller = new TestUserAgent(alice, 'alice');
    const callee = new TestUserAgent(bob, 'bob');
    const call = caller.call(callee);
    const final = await call.final;
    await flush();
    expect(final.status).toBe(200);
    expect(call.responses.map((r) => r.status)).toEqual([180, 200]);
    const mine = [...call.dialogs.values()][0]!;
    const theirs = callee.dialogs.values()[0]!;
    expect(mine.state).toBe(DialogState.Confirmed);
    expect(theirs.state).toBe(DialogState.Confirmed);
    expect(mine.id).toEqual({ callId: theirs.id.callId, localTag: theirs.id.remoteTag, remoteTag: theirs.id.localTag });
    expect(mine.remoteTarget.toString()).toBe('sip:bob@10.0.0.2:5060');
    expect(theirs.remoteTarget.toString()).toBe('sip:alice@10.0.0.1:5060');
    // The ACK reached bob's TU and stopped the 2xx retransmissions.
    expect(callee.acks).toHaveLength(1);
    expect(bob.layer.size.retransmitting2xx).toBe(0);

    // Bob hangs up: his dialog builds the BYE, alice's dialog accepts it.
    const bye = await callee.request(theirs, 'BYE');
    expect(bye.kind === 'response' && bye.response.status).toBe(200);
    expect(theirs.state).toBe(DialogState.Terminated);
    expect(mine.state).toBe(DialogState.Terminated);
    expect(caller.dialogs.size).toBe(0);
    expect(callee.dialogs.size).toBe(0);

    // A BYE in the dialog that no longer exists: 481.
    const again = await callee.sender.send(makeRequest({ method: 'BYE', uri: 'sip:alice@10.0.0.1:5060', callId: mine.id.callId, fromTag: mine.id.remoteTag, toTag: mine.id.localTag, cseq: 99 }));
    expect(again.kind === 'response' && again.response.status).toBe(481);
    await clock.advance(40_000);
    expect(alice.layer.size).toEqual({ clients: 0, servers: 0, retransmitting2xx: 0 });
  });

  it('a re-INVITE refreshes the target on both sides; an out-of-order request gets 500', async () => {
    const { alice, bob } = twoLayers({ seed: 4 });
    const caller = new TestUserAgent(alice, 'alice');
    const callee = new TestUserAgent(bob, 'bob');
    const call = caller.call(callee);
    await call.final;
    await flush();
    const mine = [...call.dialogs.values()][0]!;
    const theirs = callee.dialogs.values()[0]!;
    // Alice moves (say, a new address): the re-INVITE carries her new Contact.
    const moved = caller.contact.withUri(caller.contact.uri.kind === 'sip' ? caller.contact.uri.with({ user: 'alice-moved' }) : caller.contact.uri);
    const re = await caller.request(mine, 'INVITE', { contact: moved });
    expect(re.kind === 'response' && re.response.status).toBe(200);
    expect(theirs.remoteTarget.toString()).toBe('sip:alice-moved@10.0.0.1:5060');
    expect(theirs.remoteSeq).toBe(mine.localSeq);
    await flush();
    // The re-INVITE's 2xx was ACKed: bob stopped retransmitting it.
    expect(callee.acks).toHaveLength(2);
    expect(bob.layer.size.retransmitting2xx).toBe(0);
    // A request with an old CSeq number: 500 (RFC 3261 §12.2.2).
    const stale = mine.createRequest('INFO');
    stale.set('CSeq', '1 INFO');
    const r = await caller.sender.send(stale);
    expect(r.kind === 'response' && r.response.status).toBe(500);
  });

  it('a rejected call ends the early dialogs on both sides', async () => {
    const { alice, bob } = twoLayers({ seed: 5 });
    const caller = new TestUserAgent(alice, 'alice');
    const callee = new TestUserAgent(bob, 'bob');
    callee.answer = [180, 486];
    const call = caller.call(callee);
    expect((await call.final).status).toBe(486);
    await flush();
    expect([...call.dialogs.values()].map((d) => d.state)).toEqual([DialogState.Terminated]);
    expect(caller.dialogs.size).toBe(0);
    expect(callee.dialogs.size).toBe(0);
    // The ACK of the 486 was the transaction's: bob's TU saw none.
    expect(callee.acks).toHaveLength(0);
  });
});
