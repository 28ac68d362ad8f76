// Glare between two UserAgents (RFC 3261 §14.1): both re-INVITE at once, both get 491, each retries after its own random delay (the Call-ID's owner 2.1-4 s, the other 0-2 s), and they converge.
import { describe, expect, it } from 'vitest';
import { SessionState } from '../../../../firmware/sip/ua/index.js';
import { net, phone, settle } from './call-fixture.js';
import { Wire } from './wire.js';

async function connected(calls: Parameters<typeof phone>[3] = {}) {
  const n = net();
  const alice = await phone(n, '10.0.0.1', 'alice', calls);
  const bob = await phone(n, '10.0.0.2', 'bob', calls);
  const wa = new Wire(alice, n);
  const wb = new Wire(bob, n);
  const call = alice.ua.call('sip:bob@10.0.0.2');
  await settle(n);
  const incoming = bob.incoming[0]!;
  await incoming.accept();
  await settle(n);
  wa.clear();
  wb.clear();
  return { n, alice, bob, call, incoming, wa, wb };
}

/** Runs the virtual clock in steps until `done` resolves (or the limit). */
async function runUntil<T>(n: ReturnType<typeof net>, done: Promise<T>, limitMs = 10_000): Promise<T> {
  const state = { finished: false };
  void done.then(() => (state.finished = true));
  for (let t = 0; t < limitMs && !state.finished; t += 10) {
    await n.clock.advance(10);
    await settle(n);
  }
  return done;
}

describe('glare', () => {
  for (const method of ['invite', 'update'] as const) {
    it(`both sides hold at once by ${method === 'invite' ? 're-INVITE' : 'UPDATE'}: 491 both ways, retries at the RFC's delays, both end up held`, async () => {
      const { n, alice, bob, call, incoming, wa, wb } = await connected({ calls: { holdMethod: method } });
      const start = n.clock.now();
      const a = call.hold();
      const b = incoming.hold();
      const [ra, rb] = await runUntil(n, Promise.all([a, b]));
      expect(ra).toEqual({ ok: true, held: { local: true, remote: true } });
      // Bob's retry went first: when it was answered, Alice did not hold him yet.
      expect(rb).toEqual({ ok: true, held: { local: true, remote: false } });
      const m = method === 'invite' ? 'INVITE' : 'UPDATE';
      // Each side's first offer met the other's and got 491.
      expect(wa.responses('in', m, 491)).toHaveLength(1);
      expect(wb.responses('in', m, 491)).toHaveLength(1);
      expect(wa.responses('out', m, 491)).toHaveLength(1);
      // Alice made the call (owns the Call-ID): her retry waits 2.1-4 s; Bob's 0-2 s, so his goes first.
      const aliceSent = wa.requests('out', m).map((e) => e.atMs - start);
      const bobSent = wb.requests('out', m).map((e) => e.atMs - start);
      expect(aliceSent).toHaveLength(2);
      expect(bobSent).toHaveLength(2);
      expect(aliceSent[1]!).toBeGreaterThanOrEqual(2100);
      expect(aliceSent[1]!).toBeLessThanOrEqual(4000 + 50);
      expect(bobSent[1]!).toBeLessThanOrEqual(2000 + 50);
      expect(bobSent[1]!).toBeLessThan(aliceSent[1]!);
      // The handlers rolled the refused offers back, and the state stays consistent.
      expect(alice.fake.last.log.filter((l) => l === 'rollback')).toHaveLength(1);
      expect(bob.fake.last.log.filter((l) => l === 'rollback')).toHaveLength(1);
      expect([call.state, incoming.state]).toEqual([SessionState.Confirmed, SessionState.Confirmed]);
      // Bob's retry (hold) was answered by Alice while she was not holding yet; her own retry then held him too.
      expect(call.held).toEqual({ local: true, remote: true });
      expect(incoming.held).toEqual({ local: true, remote: true });
    });
  }

  it('a retry is dropped when its reason went away: the peer already did the same', async () => {
    const { n, call, incoming, wa } = await connected();
    // Both resume while nobody holds: nothing to send at all.
    expect(await call.resume()).toEqual({ ok: true, held: { local: false, remote: false } });
    const a = call.hold();
    const b = incoming.hold();
    await runUntil(n, Promise.all([a, b]));
    // Alice's hold went out twice (the 491, the retry); a further hold() sends nothing.
    const before = wa.requests('out', 'INVITE').length;
    expect(await call.hold()).toMatchObject({ ok: true, held: { local: true } });
    expect(wa.requests('out', 'INVITE')).toHaveLength(before);
  });

  it('hold then resume queued at once go out one after the other, the second after the first is answered', async () => {
    const { n, call, incoming, wa } = await connected();
    const a = call.hold();
    const b = call.resume();
    await settle(n);
    expect(await a).toMatchObject({ ok: true, held: { local: true } });
    expect(await b).toMatchObject({ ok: true, held: { local: false } });
    expect(wa.requests('out', 'INVITE').map((e) => e.message.bodyText)).toEqual(['v=0 fake offer a1.2 a=sendonly', 'v=0 fake offer a1.3']);
    expect(wa.responses('in', 'INVITE', 491)).toEqual([]);
    expect(incoming.held.remote).toBe(false);
  });
});
