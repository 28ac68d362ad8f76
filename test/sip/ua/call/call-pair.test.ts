// Two UserAgents calling each other on the loopback network (virtual clock): ring, answer, hang up either way, cancel, reject, busy, do-not-disturb, no answer.
import { describe, expect, it } from 'vitest';
import { type RefusedCall, SessionState, UA_METHODS } from '../../../../firmware/sip/ua/index.js';
import { net, phone, settle } from './call-fixture.js';

async function pair(options: Parameters<typeof phone>[3] = {}) {
  const n = net();
  const alice = await phone(n, '10.0.0.1', 'alice');
  const bob = await phone(n, '10.0.0.2', 'bob', options);
  return { n, alice, bob };
}

describe('calls between two UserAgents', () => {
  it('rings, answers with the handlers offer/answer, and ends with a BYE from the caller', async () => {
    const { n, alice, bob } = await pair();
    const call = alice.ua.call('sip:bob@10.0.0.2');
    const progress: number[] = [];
    call.on('progress', (p) => progress.push(p.status));
    expect(call.state).toBe(SessionState.Calling);
    await settle(n);
    expect(bob.incoming).toHaveLength(1);
    const incoming = bob.incoming[0]!;
    expect(incoming.remote).toMatchObject({ number: 'alice' });
    expect(incoming.state).toBe(SessionState.Early);
    expect(progress).toEqual([180]);
    expect(call.state).toBe(SessionState.Early);
    // The INVITE carried the offer, our Contact, Allow and Supported.
    expect(incoming.request.bodyText).toBe('v=0 fake offer a1.1');
    expect(incoming.request.contact[0]?.uri.toString()).toBe('sip:alice@10.0.0.1:5060');
    expect(incoming.request.allow).toEqual([...UA_METHODS]);
    expect(incoming.request.supported).toEqual(expect.arrayContaining(['100rel', 'timer']));
    const accepted: string[] = [];
    call.on('accepted', () => accepted.push('alice'));
    incoming.on('accepted', () => accepted.push('bob'));
    await incoming.accept();
    await settle(n);
    expect(accepted.sort()).toEqual(['alice', 'bob']);
    expect([call.state, incoming.state]).toEqual([SessionState.Confirmed, SessionState.Confirmed]);
    const tag = incoming.localTag;
    expect(alice.fake.last.log).toEqual(['createOffer hold=false -> v=0 fake offer a1.1', `receiveAnswer v=0 fake answer b1.1 early=false fork=${tag}`, 'confirmed']);
    expect(bob.fake.last.log).toEqual(['receiveOffer v=0 fake offer a1.1', 'createAnswer hold=false -> v=0 fake answer b1.1', 'confirmed']);
    call.hangup();
    expect(call.state).toBe(SessionState.Terminating);
    await settle(n);
    expect(await call.ended).toMatchObject({ kind: 'local-hangup' });
    expect(await incoming.ended).toMatchObject({ kind: 'remote-hangup' });
    expect(alice.fake.last.closed && bob.fake.last.closed).toBe(true);
    expect(alice.ua.sessions).toEqual([]);
    expect(alice.ua.calls.dialogs.size + bob.ua.calls.dialogs.size).toBe(0);
  });

  it('the callee hangs up: remote-hangup for the caller', async () => {
    const { n, alice, bob } = await pair();
    const call = alice.ua.call('sip:bob@10.0.0.2');
    await settle(n);
    await bob.incoming[0]!.accept();
    await settle(n);
    bob.incoming[0]!.hangup();
    await settle(n);
    expect(await call.ended).toMatchObject({ kind: 'remote-hangup', status: 0 });
    expect(await bob.incoming[0]!.ended).toMatchObject({ kind: 'local-hangup' });
  });

  it('a hangup while ringing sends CANCEL: 487, cancelled on both sides', async () => {
    const { n, alice, bob } = await pair();
    const call = alice.ua.call('sip:bob@10.0.0.2');
    await settle(n);
    call.hangup();
    await settle(n);
    expect(await call.ended).toMatchObject({ kind: 'cancelled', status: 487 });
    expect(await bob.incoming[0]!.ended).toMatchObject({ kind: 'cancelled', status: 487 });
  });

  it('reject() answers 603 by default (declined), 486 is busy', async () => {
    const { n, alice, bob } = await pair();
    const first = alice.ua.call('sip:bob@10.0.0.2');
    await settle(n);
    bob.incoming[0]!.reject();
    await settle(n);
    expect(await first.ended).toMatchObject({ kind: 'declined', status: 603, reason: 'Decline' });
    expect(await bob.incoming[0]!.ended).toMatchObject({ kind: 'declined', status: 603 });
    const second = alice.ua.call('sip:bob@10.0.0.2');
    await settle(n);
    bob.incoming[1]!.reject(486);
    await settle(n);
    expect(await second.ended).toMatchObject({ kind: 'busy', status: 486 });
  });

  it('answers 486 to a call while one is up (maxCalls 1), and never rings for it', async () => {
    const n = net();
    const alice = await phone(n, '10.0.0.1', 'alice');
    const carol = await phone(n, '10.0.0.3', 'carol');
    const bob = await phone(n, '10.0.0.2', 'bob');
    const refused: RefusedCall[] = [];
    bob.ua.on('refused', (r) => refused.push(r));
    const first = alice.ua.call('sip:bob@10.0.0.2');
    await settle(n);
    await bob.incoming[0]!.accept();
    await settle(n);
    const second = carol.ua.call('sip:bob@10.0.0.2');
    await settle(n);
    expect(await second.ended).toMatchObject({ kind: 'busy', status: 486 });
    expect(bob.incoming).toHaveLength(1);
    expect(refused.map((r) => [r.reason, r.caller.number])).toEqual([['busy', 'carol']]);
    expect(first.state).toBe(SessionState.Confirmed);
  });

  it('a busy callback decides instead of maxCalls', async () => {
    const seen: string[] = [];
    const { n, alice, bob } = await pair({
      calls: {
        busy: (info) => {
          seen.push(info.caller.number);
          return true;
        },
      },
    });
    const call = alice.ua.call('sip:bob@10.0.0.2');
    await settle(n);
    expect(await call.ended).toMatchObject({ kind: 'busy' });
    expect(seen).toEqual(['alice']);
    expect(bob.incoming).toEqual([]);
  });

  it('do-not-disturb answers 480 (or 486) without ringing', async () => {
    const { n, alice, bob } = await pair({ calls: { doNotDisturb: 480 } });
    const refused: RefusedCall[] = [];
    bob.ua.on('refused', (r) => refused.push(r));
    const call = alice.ua.call('sip:bob@10.0.0.2');
    await settle(n);
    expect(await call.ended).toMatchObject({ kind: 'unavailable', status: 480 });
    bob.ua.setDoNotDisturb(486);
    expect(await alice.ua.call('sip:bob@10.0.0.2').ended.then((o) => o.kind)).toBe('busy');
    bob.ua.setDoNotDisturb(false);
    alice.ua.call('sip:bob@10.0.0.2');
    await settle(n);
    expect(bob.incoming).toHaveLength(1);
    // The two refused calls were reported (the phone lists them as missed); the one that rang was not.
    expect(refused.map((r) => [r.reason, r.caller.number])).toEqual([['dnd', 'alice'], ['dnd', 'alice']]);
  });

  it('nobody answers: 480 after the no-answer timeout (missed call)', async () => {
    const { n, alice, bob } = await pair({ calls: { noAnswerTimeoutMs: 20_000 } });
    const call = alice.ua.call('sip:bob@10.0.0.2');
    await settle(n);
    await n.clock.advance(19_999);
    expect(call.state).toBe(SessionState.Early);
    await n.clock.advance(1);
    await settle(n);
    expect(await bob.incoming[0]!.ended).toMatchObject({ kind: 'no-answer', status: 480 });
    expect(await call.ended).toMatchObject({ kind: 'unavailable', status: 480 });
  });

  it('an offer the handler refuses gets 488 with a Warning and never rings', async () => {
    const { n, alice, bob } = await pair();
    bob.fake.behaviour = { refuseOffer: 'no common codec' };
    const call = alice.ua.call('sip:bob@10.0.0.2');
    await settle(n);
    const o = await call.ended;
    expect(o).toMatchObject({ kind: 'not-acceptable', status: 488 });
    expect(o.detail).toMatch(/no common codec/);
    expect(bob.incoming).toEqual([]);
    expect(alice.fake.last.log).toContain('rollback');
  });

  it('the media failing ends the call with a BYE and a Reason', async () => {
    const { n, alice, bob } = await pair();
    const call = alice.ua.call('sip:bob@10.0.0.2');
    await settle(n);
    await bob.incoming[0]!.accept();
    await settle(n);
    alice.fake.last.context.mediaFailed('no RTP for 30 s');
    await settle(n);
    expect(await call.ended).toMatchObject({ kind: 'media-failed', reason: 'no RTP for 30 s' });
    expect(await bob.incoming[0]!.ended).toMatchObject({ kind: 'remote-hangup', detail: 'SIP;cause=500;text="media failed: no RTP for 30 s"' });
  });

  it('dials a bare number at the account domain, and refuses a target it cannot dial', async () => {
    const { n, alice, bob } = await pair();
    const call = alice.ua.call('bob', { extraHeaders: [['X-Test', 'yes']] });
    expect(call.remote.uri.toString()).toBe('sip:bob@10.0.0.1');
    expect(() => alice.ua.call('   ')).toThrow(/empty call target/);
    expect(() => alice.ua.call('sip:bob@')).toThrow(/not a URI/);
    call.hangup();
    await settle(n);
    expect(bob.incoming).toEqual([]);
  });

  it('DTMF goes to the handler once the call is up', async () => {
    const { n, alice, bob } = await pair();
    const call = alice.ua.call('sip:bob@10.0.0.2');
    await settle(n);
    expect(call.sendDtmf('1')).toBe(false);
    await bob.incoming[0]!.accept();
    await settle(n);
    expect(call.sendDtmf('123#', 80)).toBe(true);
    expect(alice.fake.last.log).toContain('sendDtmf 123# 80');
  });

  it('stopping the UA hangs up its calls', async () => {
    const { n, alice, bob } = await pair();
    const call = alice.ua.call('sip:bob@10.0.0.2');
    await settle(n);
    await bob.incoming[0]!.accept();
    await settle(n);
    const stopped = alice.ua.stop({ unregister: false });
    await settle(n);
    await stopped;
    expect((await call.ended).kind).toBe('local-hangup');
    expect((await bob.incoming[0]!.ended).kind).toBe('remote-hangup');
  });
});
