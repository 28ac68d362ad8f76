// Attended transfer between three UserAgents (RFC 5589 §7, RFC 3891): bob consults carol, then transfers alice to carol with Replaces; carol's call with bob is replaced by alice's INVITE, and every leg ends the right way.
import { describe, expect, it } from 'vitest';
import { type IncomingRefer, type Session, SessionState } from '../../../../firmware/sip/ua/index.js';
import { settle } from './call-fixture.js';
import { connect, progressOf, trio } from './transfer-fixture.js';

describe('attended transfer', () => {
  it('bob transfers alice to carol, replacing his consultation call: carol answers alice without ringing, all of bob’s calls end as transferred', async () => {
    const { n, alice, bob, carol } = await trio();
    const { out: aliceToBob, inc: bobFromAlice } = await connect(n, alice, bob, 'sip:bob@10.0.0.2');
    // bob's consultation call (bob takes a second call: outgoing calls are not limited by maxCalls).
    const { out: bobToCarol, inc: carolFromBob } = await connect(n, bob, carol, 'sip:carol@10.0.0.3');
    const refers: IncomingRefer[] = [];
    aliceToBob.on('refer', (r) => refers.push(r));
    const replaced: Session[] = [];
    carolFromBob.on('replaced', (s) => replaced.push(s));
    const progress = progressOf(bobFromAlice);
    const result = bobFromAlice.transferTo(bobToCarol);
    await settle(n);
    await settle(n);
    // alice's REFER named carol's Contact with the Replaces of bob's dialog with carol (from carol's view).
    const refer = refers[0]!;
    expect(refer.target.toString()).toBe('sip:carol@10.0.0.3:5060');
    expect(refer.replaces).toEqual({ callId: bobToCarol.callId, toTag: carolFromBob.localTag, fromTag: bobToCarol.localTag, earlyOnly: false });
    // carol took alice's INVITE in place of bob's call: no 'incoming' event, no ringing, answered.
    expect(carol.incoming).toHaveLength(1);
    expect(replaced).toHaveLength(1);
    const carolFromAlice = replaced[0]!;
    expect(carolFromAlice.remote.number).toBe('alice');
    expect(carolFromAlice.state).toBe(SessionState.Confirmed);
    expect(refer.call?.state).toBe(SessionState.Confirmed);
    expect(await result).toEqual({ ok: true, status: 200, reason: 'OK' });
    expect(progress.at(-1)).toMatchObject({ final: true, succeeded: true });
    // Every old leg ended: carol's with bob as replaced, bob's two as transferred, alice's with bob as transferred.
    expect(await carolFromBob.ended).toMatchObject({ kind: 'replaced' });
    expect(await bobToCarol.ended).toMatchObject({ kind: 'transferred' });
    expect(await bobFromAlice.ended).toMatchObject({ kind: 'transferred' });
    expect(await aliceToBob.ended).toMatchObject({ kind: 'transferred' });
    expect(bob.ua.sessions).toEqual([]);
    expect(alice.ua.sessions).toEqual([refer.call]);
    expect(carol.ua.sessions).toEqual([carolFromAlice]);
  });

  it('the INVITE with Replaces carries Require: replaces and Referred-By, and is taken even when carol is on do-not-disturb', async () => {
    const { n, alice, bob, carol } = await trio();
    const { out: aliceToBob, inc: bobFromAlice } = await connect(n, alice, bob, 'sip:bob@10.0.0.2');
    const { out: bobToCarol, inc: carolFromBob } = await connect(n, bob, carol, 'sip:carol@10.0.0.3');
    carol.ua.setDoNotDisturb(486);
    const replaced: Session[] = [];
    carolFromBob.on('replaced', (s) => replaced.push(s));
    const traces: string[] = [];
    carol.ua.on('trace', (t) => {
      if (t.direction === 'in') traces.push(new TextDecoder().decode(t.bytes));
    });
    const result = bobFromAlice.transferTo(bobToCarol);
    await settle(n);
    await settle(n);
    expect(await result).toMatchObject({ ok: true });
    const invite = traces.find((t) => t.startsWith('INVITE ') && t.includes('Replaces:'));
    expect(invite).toMatch(/\r\nRequire: replaces\r\n/);
    expect(invite).toMatch(/\r\nReferred-By: <sip:bob@10\.0\.0\.2>\r\n/);
    expect(replaced).toHaveLength(1);
    expect(await aliceToBob.ended).toMatchObject({ kind: 'transferred' });
  });

  it('the consultation call must be up', async () => {
    const { n, alice, bob } = await trio();
    const { inc: bobFromAlice } = await connect(n, alice, bob, 'sip:bob@10.0.0.2');
    const ringing = bob.ua.call('sip:carol@10.0.0.3');
    await settle(n);
    expect(await bobFromAlice.transferTo(ringing)).toMatchObject({ ok: false, stage: 'state' });
    expect(await bobFromAlice.transferTo(bobFromAlice)).toMatchObject({ ok: false, stage: 'state' });
  });
});
