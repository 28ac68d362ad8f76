// RegistrationManager: two accounts on one registrar stay independent (Call-ID, credentials, backoff, unregister).
import { describe, expect, it } from 'vitest';
import { Account } from '../../../firmware/sip/ua/account.js';
import { RegistrationState, type RegistrationStatus } from '../../../firmware/sip/ua/registration.js';
import { DuplicateAccountError, RegistrationManager } from '../../../firmware/sip/ua/registration-manager.js';
import { VirtualClock } from '../../../firmware/util/clock.js';
import { FakeRegistrar, expectedDigest } from './registration-fake-registrar.js';

const S = RegistrationState;

function countingBytes(): (n: number) => Uint8Array {
  let next = 0;
  return (n) => Uint8Array.from({ length: n }, () => next++ & 0xff);
}

function setup() {
  const clock = new VirtualClock();
  const registrar = new FakeRegistrar({ clock, users: { '1003': 'secret-1003', '1004': 'secret-1004' } });
  const manager = new RegistrationManager({
    sender: registrar,
    clock,
    random: () => 0,
    randomBytes: countingBytes(),
    contactAddress: (account) => ({ host: '192.0.2.20', port: account.id === 'line1' ? 5060 : 5070, transport: 'udp' }),
  });
  const events: [string, RegistrationStatus][] = [];
  manager.on('state', (id, status) => events.push([id, status]));
  const line1 = manager.add(Account.from({ id: 'line1', aor: 'sip:1003@test.local', password: 'secret-1003' }));
  const line2 = manager.add(Account.from({ id: 'line2', aor: 'sip:1004@test.local', password: 'not-the-password' }));
  return { clock, registrar, manager, events, line1, line2 };
}

describe('RegistrationManager', () => {
  it('keeps two accounts independent: one registered, one failed and backing off alone', async () => {
    const { clock, registrar, manager, events, line1, line2 } = setup();
    manager.startAll();
    await clock.advance(0);
    expect(line1.state).toBe(S.Registered);
    expect(line2.state).toBe(S.Failed);
    expect(line1.callId).not.toBe(line2.callId);
    expect(events.filter(([id]) => id === 'line1').map(([, s]) => s.state)).toEqual([S.Registering, S.Registered]);
    expect(events.filter(([id]) => id === 'line2').map(([, s]) => s.state)).toEqual([S.Registering, S.Failed]);
    // Each account's credentials only ever carry its own user, and its own CSeq space.
    for (const r of registrar.requests) {
      const user = r.to.uri.kind === 'sip' ? r.to.uri.user : undefined;
      for (const a of r.authorization) expect(a.get('username')).toBe(user);
    }
    const good = registrar.requests.find((r) => r.authorization[0]?.get('username') === '1003')!;
    expect(good.authorization[0]!.get('response')).toBe(expectedDigest(good.authorization[0]!, { method: 'REGISTER', password: 'secret-1003', username: '1003' }));
    const before = registrar.requests.length;
    await clock.advance(30_000);
    const retried = registrar.requests.slice(before);
    expect(retried.map((r) => r.to.uri.toString())).toEqual(['sip:1004@test.local', 'sip:1004@test.local']);
    expect(line1.state).toBe(S.Registered);
  });

  it('stops every account; only bindings that may exist are removed', async () => {
    const { clock, registrar, manager, line1, line2 } = setup();
    manager.startAll();
    await clock.advance(0);
    const before = registrar.requests.length;
    await manager.stopAll();
    const sent = registrar.requests.slice(before);
    expect(sent.map((r) => [r.to.uri.toString(), r.expires])).toEqual([['sip:1003@test.local', 0]]);
    expect(line1.state).toBe(S.Unregistered);
    expect(line2.state).toBe(S.Unregistered);
    expect(registrar.contactsOf('sip:1003@test.local')).toEqual([]);
    expect(clock.pending).toBe(0);
  });

  it('refuses a second account with the same id, and removes one by id', async () => {
    const { clock, manager, line1 } = setup();
    expect(() => manager.add(Account.from({ id: 'line1', aor: 'sip:1005@test.local', password: 'x' }))).toThrow(DuplicateAccountError);
    manager.startAll();
    await clock.advance(0);
    await manager.remove('line1');
    expect(line1.state).toBe(S.Unregistered);
    expect(manager.get('line1')).toBeUndefined();
    expect(manager.clients.map((c) => c.account.id)).toEqual(['line2']);
  });

  it('does not start accounts that do not register', async () => {
    const clock = new VirtualClock();
    const registrar = new FakeRegistrar({ clock });
    const manager = new RegistrationManager({ sender: registrar, clock, random: () => 0, randomBytes: countingBytes(), contactAddress: () => ({ host: '192.0.2.20', port: 5060, transport: 'udp' }) });
    const c = manager.add(Account.from({ aor: 'sip:1003@test.local', password: 'secret-1003', register: false }));
    manager.startAll();
    manager.networkChanged();
    await clock.advance(0);
    expect(c.state).toBe(S.Unregistered);
    expect(registrar.requests).toHaveLength(0);
  });
});
