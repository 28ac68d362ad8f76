// Blind transfer between three UserAgents (RFC 3515, 5589 §6): REFER, the transferee's new call, NOTIFY sipfrag progress, the transferor's call ending as transferred; failures keep the call.
import { describe, expect, it } from 'vitest';
import { type IncomingRefer, SessionState } from '../../../../firmware/sip/ua/index.js';
import { settle } from './call-fixture.js';
import { connect, progressOf, trio } from './transfer-fixture.js';

describe('blind transfer', () => {
  it('bob transfers alice to carol: REFER, alice calls carol, NOTIFY 100 then 200, both original legs end as transferred', async () => {
    const { n, alice, bob, carol } = await trio();
    const { out: aliceCall, inc: bobCall } = await connect(n, alice, bob, 'sip:bob@10.0.0.2');
    const refers: IncomingRefer[] = [];
    aliceCall.on('refer', (r) => refers.push(r));
    const progress = progressOf(bobCall);
    const notifies: string[] = [];
    bob.ua.on('trace', (t) => {
      const text = t.bytes.toString('utf8');
      if (t.direction === 'in' && text.startsWith('NOTIFY ')) notifies.push(text);
    });
    const result = bobCall.transfer('sip:carol@10.0.0.3');
    await settle(n);
    // alice accepted the REFER and called carol, with Referred-By.
    expect(refers).toHaveLength(1);
    const refer = refers[0]!;
    expect(refer.target.toString()).toBe('sip:carol@10.0.0.3');
    expect(refer.referredBy.uri.toString()).toBe('sip:bob@10.0.0.2');
    expect(refer.call).toBeDefined();
    const carolCall = carol.incoming[0]!;
    expect(carolCall.request.get('Referred-By')).toBe('<sip:bob@10.0.0.2>');
    expect(carolCall.remote.number).toBe('alice');
    expect(carolCall.request.has('Replaces')).toBe(false);
    // While carol rings, the transfer is under way and both calls are up.
    // (The NOTIFY 100 may overtake the 202: RFC 6665 §4.1.2.4.)
    expect(progress.map((p) => [p.stage, p.status, p.final]).sort()).toEqual([
      ['notify', 100, false],
      ['refer', 202, false],
    ]);
    expect(bobCall.state).toBe(SessionState.Confirmed);
    await carolCall.accept();
    await settle(n);
    expect(await result).toEqual({ ok: true, status: 200, reason: 'OK' });
    expect(progress.at(-1)).toMatchObject({ stage: 'notify', status: 200, final: true, succeeded: true });
    // RFC 3515 §2.4.4-2.4.7: Event refer, sipfrag bodies, the last one terminating the subscription.
    expect(notifies).toHaveLength(2);
    expect(notifies[0]).toMatch(/\r\nEvent: refer\r\n[\s\S]*Subscription-State: active;expires=\d+\r\n[\s\S]*\r\n\r\nSIP\/2\.0 100 Trying\r\n$/);
    expect(notifies[1]).toMatch(/Subscription-State: terminated;reason=noresource\r\n/);
    expect(notifies[1]).toMatch(/Content-Type: message\/sipfrag;version=2\.0\r\n[\s\S]*\r\n\r\nSIP\/2\.0 200 OK\r\n$/);
    expect(await bobCall.ended).toMatchObject({ kind: 'transferred', status: 200 });
    expect(await aliceCall.ended).toMatchObject({ kind: 'transferred' });
    // alice and carol talk.
    expect(refer.call?.state).toBe(SessionState.Confirmed);
    expect(carolCall.state).toBe(SessionState.Confirmed);
    expect(bob.ua.sessions).toEqual([]);
  });

  it('carol is busy: NOTIFY 486, the transfer fails and bob keeps his call with alice', async () => {
    const { n, alice, bob, carol } = await trio();
    const { out: aliceCall, inc: bobCall } = await connect(n, alice, bob, 'sip:bob@10.0.0.2');
    const progress = progressOf(bobCall);
    const result = bobCall.transfer('sip:carol@10.0.0.3');
    await settle(n);
    carol.incoming[0]!.reject(486);
    await settle(n);
    expect(await result).toEqual({ ok: false, status: 486, reason: 'Busy Here', stage: 'notify' });
    expect(progress.at(-1)).toMatchObject({ status: 486, final: true, succeeded: false });
    expect([bobCall.state, aliceCall.state]).toEqual([SessionState.Confirmed, SessionState.Confirmed]);
    // The call still works: bob hangs up normally.
    bobCall.hangup();
    await settle(n);
    expect(await aliceCall.ended).toMatchObject({ kind: 'remote-hangup' });
  });

  it('a REFER refused with 403 (calls.transfer.refer: refuse) fails at the REFER stage; the call stays', async () => {
    const { n, alice, bob, carol } = await trio({ alice: { calls: { transfer: { refer: 'refuse' } } } });
    const { out: aliceCall, inc: bobCall } = await connect(n, alice, bob, 'sip:bob@10.0.0.2');
    const progress = progressOf(bobCall);
    const result = bobCall.transfer('1004');
    await settle(n);
    expect(await result).toMatchObject({ ok: false, status: 403, stage: 'refer' });
    expect(progress).toEqual([{ status: 403, reason: 'Forbidden - transfers are refused', final: true, succeeded: false, stage: 'refer' }]);
    expect(carol.incoming).toEqual([]);
    expect([bobCall.state, aliceCall.state]).toEqual([SessionState.Confirmed, SessionState.Confirmed]);
  });

  it("with calls.transfer.refer 'app' the phone decides: decline() sends NOTIFY 603, follow() makes the call", async () => {
    const { n, alice, bob, carol } = await trio({ alice: { calls: { transfer: { refer: 'app' } } } });
    const { out: aliceCall, inc: bobCall } = await connect(n, alice, bob, 'sip:bob@10.0.0.2');
    const refers: IncomingRefer[] = [];
    aliceCall.on('refer', (r) => refers.push(r));
    const first = bobCall.transfer('sip:carol@10.0.0.3');
    await settle(n);
    expect(refers[0]?.call).toBeUndefined();
    expect(carol.incoming).toEqual([]);
    refers[0]!.decline();
    await settle(n);
    expect(await first).toMatchObject({ ok: false, status: 603, stage: 'notify' });
    // A second REFER in the same dialog: its NOTIFYs carry Event: refer;id=<CSeq> (RFC 3515 §2.4.6).
    const second = bobCall.transfer('sip:carol@10.0.0.3');
    await settle(n);
    expect(refers[1]?.follow()).toBeDefined();
    await settle(n);
    await carol.incoming[0]!.accept();
    await settle(n);
    expect(await second).toMatchObject({ ok: true, status: 200 });
    expect(await bobCall.ended).toMatchObject({ kind: 'transferred' });
  });

  it('Refer-Sub: false (RFC 4488): no NOTIFY; the 202 is the result and bob hangs up at once', async () => {
    const { n, alice, bob, carol } = await trio();
    const { out: aliceCall, inc: bobCall } = await connect(n, alice, bob, 'sip:bob@10.0.0.2');
    const progress = progressOf(bobCall);
    const result = bobCall.transfer('sip:carol@10.0.0.3', { noSubscription: true });
    await settle(n);
    expect(await result).toEqual({ ok: true, status: 202, reason: 'Accepted' });
    expect(progress).toEqual([{ status: 202, reason: 'Accepted', final: true, succeeded: true, stage: 'refer' }]);
    expect(await bobCall.ended).toMatchObject({ kind: 'transferred', status: 202 });
    expect(await aliceCall.ended).toMatchObject({ kind: 'remote-hangup' });
    expect(carol.incoming).toHaveLength(1);
  });

  it('refuses to transfer a call that is not up, or a target that cannot be dialled, without sending anything', async () => {
    const { n, alice, bob } = await trio();
    const ringing = alice.ua.call('sip:bob@10.0.0.2');
    await settle(n);
    expect(await ringing.transfer('sip:carol@10.0.0.3')).toMatchObject({ ok: false, stage: 'state' });
    await bob.incoming[0]!.accept();
    await settle(n);
    expect(await ringing.transfer('  ')).toMatchObject({ ok: false, stage: 'target' });
    expect(ringing.state).toBe(SessionState.Confirmed);
  });

  it('the transferee hangs up while the transfer runs: the transfer ends as failed (stage ended)', async () => {
    const { n, alice, bob } = await trio();
    const { out: aliceCall, inc: bobCall } = await connect(n, alice, bob, 'sip:bob@10.0.0.2');
    const result = bobCall.transfer('sip:carol@10.0.0.3');
    await settle(n);
    aliceCall.hangup();
    await settle(n);
    expect(await result).toMatchObject({ ok: false, stage: 'ended' });
    expect(await bobCall.ended).toMatchObject({ kind: 'remote-hangup' });
  });
});
