// Account settings: defaults, derived URIs, validation errors naming the field, and a password that never serializes.
import { describe, expect, it } from 'vitest';
import { Account, AccountError } from '../../../firmware/sip/ua/account.js';

describe('Account', () => {
  it('fills in the defaults', () => {
    const a = Account.from({ aor: 'sip:1003@test.local', password: 'pw', displayName: 'Desk 3' });
    expect(a.id).toBe('sip:1003@test.local');
    expect(a.aor.toString()).toBe('sip:1003@test.local');
    expect(a.authUsername).toBe('1003');
    expect(a.registrar.toString()).toBe('sip:test.local');
    expect(a.outboundProxy).toBeUndefined();
    expect(a.nextHop.toString()).toBe('sip:test.local');
    expect(a.transport).toBe('udp');
    expect(a.expiresS).toBe(3600);
    expect(a.register).toBe(true);
    expect(a.outbound).toBe(false);
    expect(a.regId).toBe(1);
    expect(a.realms).toEqual([]);
    expect(a.serverHosts).toEqual(['test.local']);
  });

  it('puts the transport on the first hop and makes the outbound proxy loose-routing', () => {
    const direct = Account.from({ aor: 'sip:1003@test.local', password: 'pw', transport: 'tcp' });
    expect(direct.registrar.toString()).toBe('sip:test.local;transport=tcp');
    const viaProxy = Account.from({ aor: 'sip:1003@test.local', password: 'pw', transport: 'tls', outboundProxy: 'sip:Proxy.test.local:5061', registrar: 'sip:registrar.test.local' });
    expect(viaProxy.outboundProxy?.toString()).toBe('sip:Proxy.test.local:5061;lr;transport=tls');
    expect(viaProxy.registrar.toString()).toBe('sip:registrar.test.local');
    expect(viaProxy.serverHosts).toEqual(['registrar.test.local', 'proxy.test.local']);
  });

  it('normalizes the instance id', () => {
    const a = Account.from({ aor: 'sip:1003@test.local', password: 'pw', outbound: true, instanceId: 'F81D4FAE-7DEC-11D0-A765-00A0C91E6BF6' });
    expect(a.instanceId).toBe('urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6');
  });

  it.each([
    [{ aor: 'sip:test.local' }, 'aor'],
    [{ aor: 'tel:+4930123' }, 'aor'],
    [{ aor: 'not a uri' }, 'aor'],
    [{ registrar: 'sip:1003@test.local' }, 'registrar'],
    [{ outboundProxy: 'http://proxy' }, 'outboundProxy'],
    [{ expiresS: 0 }, 'expiresS'],
    [{ expiresS: 3.5 }, 'expiresS'],
    [{ regId: 0 }, 'regId'],
    [{ outbound: true }, 'instanceId'],
    [{ instanceId: 'urn:uuid:nope' }, 'instanceId'],
    [{ transport: 'sctp' as 'udp' }, 'transport'],
    [{ realms: [''] }, 'realms'],
  ])('rejects %j naming the field', (bad, field) => {
    try {
      Account.from({ aor: 'sip:1003@test.local', password: 'pw', ...bad });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(AccountError);
      expect((e as AccountError).field).toBe(field);
      expect((e as AccountError).message).toContain(field);
    }
  });

  it('never serializes the password', () => {
    const a = Account.from({ aor: 'sip:1003@test.local', password: 'hunter2-secret' });
    expect(a.password).toBe('hunter2-secret');
    expect(JSON.stringify(a)).not.toContain('hunter2-secret');
    expect(Object.keys(a)).not.toContain('password');
    expect(JSON.stringify({ ...a })).not.toContain('hunter2-secret');
  });
});
