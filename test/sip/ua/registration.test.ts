// RegistrationClient against a scripted registrar on a virtual clock: auth, refresh, 423, backoff, stale, 407, realms, unregister.
import { describe, expect, it } from 'vitest';
import type { SipRequest } from '../../../firmware/sip/message/index.js';
import { Account, type AccountSettings } from '../../../firmware/sip/ua/account.js';
import { type ContactAddress, RegistrationClient, RegistrationState, type RegistrationStatus } from '../../../firmware/sip/ua/registration.js';
import { RegistrationStateError, assertTransition, canTransition } from '../../../firmware/sip/ua/registration-state.js';
import { DEFAULT_REGISTRATION_TIMING, backoffDelayMs, refreshDelayMs } from '../../../firmware/sip/ua/registration-timing.js';
import { VirtualClock } from '../../../firmware/util/clock.js';
import { FakeRegistrar, type FakeRegistrarOptions, expectedDigest } from './registration-fake-registrar.js';

const S = RegistrationState;
const AOR = 'sip:1003@test.local';

function countingBytes(): (n: number) => Uint8Array {
  let next = 0;
  return (n) => Uint8Array.from({ length: n }, () => next++ & 0xff);
}

interface SetupOptions {
  registrar?: Omit<FakeRegistrarOptions, 'clock'>;
  account?: Partial<AccountSettings>;
  random?: () => number;
}

function setup(o: SetupOptions = {}) {
  const clock = new VirtualClock();
  const registrar = new FakeRegistrar({ clock, ...o.registrar });
  const account = Account.from({ aor: AOR, password: 'secret-1003', ...o.account });
  let address: ContactAddress | undefined = { host: '192.0.2.20', port: 5060, transport: 'udp' };
  const statuses: RegistrationStatus[] = [];
  const reg = new RegistrationClient({ account, sender: registrar, clock, random: o.random ?? (() => 0.5), randomBytes: countingBytes(), contactAddress: () => address });
  reg.on('state', (s) => statuses.push(s));
  return {
    clock,
    registrar,
    account,
    reg,
    statuses,
    states: () => statuses.map((s) => s.state),
    setAddress: (a: ContactAddress | undefined) => {
      address = a;
    },
  };
}

/** Times (ms) at which an attempt started: REGISTERs without credentials. */
function attemptStarts(registrar: FakeRegistrar): number[] {
  return registrar.received.filter((r) => r.request.authorization.length === 0 && r.request.proxyAuthorization.length === 0).map((r) => r.atMs);
}

function last(registrar: FakeRegistrar): SipRequest {
  const r = registrar.requests.at(-1);
  if (!r) throw new Error('no request');
  return r;
}

describe('RegistrationClient', () => {
  it('registers through a 401 with credentials the registrar verifies from the password', async () => {
    const { clock, registrar, reg, statuses, states } = setup();
    reg.start();
    await clock.advance(0);
    expect(reg.state).toBe(S.Registered);
    const [r1, r2] = registrar.requests;
    expect(registrar.requests).toHaveLength(2);
    expect(r1!.authorization).toEqual([]);
    // The test's own digest computation (node:crypto, from the password) agrees.
    const auth = r2!.authorization[0]!;
    expect(auth.get('response')).toBe(expectedDigest(auth, { method: 'REGISTER', password: 'secret-1003', username: '1003' }));
    expect(auth.get('uri')).toBe('sip:test.local');
    // RFC 3261 §10.2: Request-URI the registrar, To and From the AOR, one Call-ID, CSeq counting.
    for (const r of [r1!, r2!]) {
      expect(r.method).toBe('REGISTER');
      expect(r.uri.toString()).toBe('sip:test.local');
      expect(r.to.uri.toString()).toBe(AOR);
      expect(r.to.tag).toBeUndefined();
      expect(r.from.uri.toString()).toBe(AOR);
      expect(r.from.tag).toBeDefined();
    }
    expect(r2!.callId).toBe(r1!.callId);
    expect(r2!.from.tag).toBe(r1!.from.tag);
    expect([r1!.cseq.seq, r2!.cseq.seq]).toEqual([1, 2]);
    expect(r2!.cseq.method).toBe('REGISTER');
    // Contact with expires, and the same value in Expires.
    expect(r2!.contact).toHaveLength(1);
    expect(r2!.contact[0]!.uri.toString()).toBe('sip:1003@192.0.2.20:5060');
    expect(r2!.contact[0]!.params.get('expires')).toBe('3600');
    expect(r2!.expires).toBe(3600);
    expect(registrar.contactsOf(AOR)).toEqual(['sip:1003@192.0.2.20:5060']);
    expect(states()).toEqual([S.Registering, S.Registered]);
    expect(statuses[1]).toMatchObject({ state: S.Registered, expiresS: 3600, expiresAtMs: 3_600_000, contact: 'sip:1003@192.0.2.20:5060' });
  });

  it('refreshes between 45 % and 50 % of the granted interval, with one REGISTER reusing the nonce', async () => {
    const { clock, registrar, reg, states } = setup({ registrar: { maxExpiresS: 600 }, random: () => 0.5 });
    reg.start();
    await clock.advance(0);
    expect(reg.status).toMatchObject({ state: S.Registered, expiresS: 600, refreshAtMs: 285_000 });
    await clock.advance(284_999);
    expect(registrar.requests).toHaveLength(2);
    await clock.advance(1);
    expect(registrar.requests).toHaveLength(3);
    const refresh = last(registrar);
    expect(refresh.cseq.seq).toBe(3);
    expect(refresh.callId).toBe(registrar.requests[0]!.callId);
    expect(refresh.authorization[0]!.get('nc')).toBe('00000002');
    expect(reg.state).toBe(S.Registered);
    expect(states()).toEqual([S.Registering, S.Registered, S.Refreshing, S.Registered]);
    // Over an hour the binding never lapses: every refresh comes before half the interval.
    await clock.advance(3_600_000);
    const times = registrar.received.map((r) => r.atMs);
    for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeLessThanOrEqual(300_000);
    expect(registrar.contactsOf(AOR)).toHaveLength(1);
  });

  it('spreads refreshes over [0.45, 0.5] of the interval with the random source', async () => {
    for (const [random, at] of [
      [0, 1_620_000],
      [0.999999, 1_800_000],
    ] as const) {
      const { clock, reg } = setup({ random: () => random });
      reg.start();
      await clock.advance(0);
      expect(reg.status).toMatchObject({ state: S.Registered, refreshAtMs: at });
    }
  });

  it('takes the granted interval from the Expires header, else from what it asked', async () => {
    const a = setup({ registrar: { maxExpiresS: 900, grantIn: 'expires-header' } });
    a.reg.start();
    await a.clock.advance(0);
    expect(a.reg.status).toMatchObject({ state: S.Registered, expiresS: 900 });
    const b = setup({ registrar: { grantIn: 'nothing' }, account: { expiresS: 1200 } });
    b.reg.start();
    await b.clock.advance(0);
    expect(b.reg.status).toMatchObject({ state: S.Registered, expiresS: 1200 });
  });

  it('answers 423 Interval Too Brief with Min-Expires, and keeps asking for it', async () => {
    const { clock, registrar, reg } = setup({ registrar: { minExpiresS: 7200, maxExpiresS: 86_400 } });
    reg.start();
    await clock.advance(0);
    expect(reg.status).toMatchObject({ state: S.Registered, expiresS: 7200 });
    expect(registrar.requests.map((r) => r.contact[0]!.params.get('expires'))).toEqual(['3600', '3600', '7200']);
    expect(registrar.requests.map((r) => r.cseq.seq)).toEqual([1, 2, 3]);
    await clock.advance(3_600_000);
    expect(last(registrar).contact[0]!.params.get('expires')).toBe('7200');
    expect(last(registrar).expires).toBe(7200);
  });

  it('wrong password: Failed, then attempts only after 30 s, 60 s, 120 s ... (no storm over an hour)', async () => {
    const { clock, registrar, reg, statuses } = setup({ account: { password: 'wrong' }, random: () => 0 });
    reg.start();
    await clock.advance(0);
    expect(reg.state).toBe(S.Failed);
    expect(reg.status).toMatchObject({ state: S.Failed, failure: { cause: 'wrong-credentials', statusCode: 401 }, retryAtMs: 30_000 });
    expect(registrar.requests).toHaveLength(2);
    await clock.advance(29_999);
    expect(registrar.requests).toHaveLength(2);
    expect(reg.state).toBe(S.Failed);
    await clock.advance(1);
    expect(registrar.requests).toHaveLength(4);
    expect(reg.state).toBe(S.Failed);
    await clock.advance(3_600_000 - 30_000);
    // RFC 5626 §4.5 with the smallest jitter: waits of 30, 60, 120, 240, 480, 900, 900 s.
    expect(attemptStarts(registrar)).toEqual([0, 30_000, 90_000, 210_000, 450_000, 930_000, 1_830_000, 2_730_000]);
    expect(registrar.requests.length).toBeLessThanOrEqual(16);
    // While retrying, the failure stays visible.
    const retrying = statuses.filter((s) => s.state === S.Registering).slice(1);
    expect(retrying.length).toBeGreaterThan(0);
    for (const s of retrying) expect(s).toMatchObject({ lastFailure: { cause: 'wrong-credentials' } });
    expect(reg.lastFailure).toMatchObject({ cause: 'wrong-credentials', statusCode: 401 });
  });

  it('waits up to twice as long with the largest jitter, and never over 1800 s', async () => {
    const { clock, registrar, reg } = setup({ account: { password: 'wrong' }, random: () => 0.999999 });
    reg.start();
    await clock.advance(10_800_000);
    const starts = attemptStarts(registrar);
    const gaps = starts.slice(1).map((t, i) => t - starts[i]!);
    expect(gaps.slice(0, 5).map((g) => Math.round(g / 1000))).toEqual([60, 120, 240, 480, 960]);
    for (const g of gaps) expect(g).toBeLessThanOrEqual(1_800_000);
  });

  it('403 Forbidden is wrong credentials too, with the same backoff', async () => {
    const { clock, registrar, reg } = setup({ random: () => 0 });
    registrar.overrides.push({ respond: 403 });
    reg.start();
    await clock.advance(0);
    expect(reg.status).toMatchObject({ state: S.Failed, failure: { cause: 'wrong-credentials', statusCode: 403, reason: 'Forbidden' } });
    await clock.advance(29_000);
    expect(registrar.requests).toHaveLength(1);
    await clock.advance(1_000);
    expect(reg.state).toBe(S.Registered);
  });

  it('an expired nonce (stale=true) costs one silent retry, never a failure', async () => {
    const { clock, registrar, reg, states } = setup({ registrar: { maxExpiresS: 600 } });
    reg.start();
    await clock.advance(0);
    registrar.expireNonces();
    await clock.advance(300_000);
    // refresh with the old nonce → 401 stale → same refresh with the new nonce → 200
    expect(registrar.requests).toHaveLength(4);
    const [, , stale, fresh] = registrar.requests;
    expect(stale!.authorization[0]!.get('nonce')).not.toBe(fresh!.authorization[0]!.get('nonce'));
    expect(fresh!.authorization[0]!.get('nc')).toBe('00000001');
    expect(states()).toEqual([S.Registering, S.Registered, S.Refreshing, S.Registered]);
  });

  it('stale right after a fresh answer is retried once; stale twice is a failure', async () => {
    const a = setup();
    a.registrar.staleNext = 1;
    a.reg.start();
    await a.clock.advance(0);
    expect(a.registrar.requests).toHaveLength(3);
    expect(a.reg.state).toBe(S.Registered);

    const b = setup();
    b.registrar.staleNext = 2;
    b.reg.start();
    await b.clock.advance(0);
    expect(b.registrar.requests).toHaveLength(3);
    expect(b.reg.status).toMatchObject({ state: S.Failed, failure: { cause: 'rejected', statusCode: 401 } });
  });

  it('answers 407 with Proxy-Authorization', async () => {
    const { clock, registrar, reg } = setup({ registrar: { kind: 'proxy' } });
    reg.start();
    await clock.advance(0);
    expect(reg.state).toBe(S.Registered);
    const r = last(registrar);
    expect(r.authorization).toEqual([]);
    const auth = r.proxyAuthorization[0]!;
    expect(auth.get('response')).toBe(expectedDigest(auth, { method: 'REGISTER', password: 'secret-1003', username: '1003' }));
  });

  it('does not answer a challenge from a foreign realm', async () => {
    const { clock, registrar, reg } = setup({ registrar: { realm: 'evil.example' }, account: { realms: ['test.local'] }, random: () => 0 });
    reg.start();
    await clock.advance(0);
    expect(registrar.requests).toHaveLength(1);
    expect(reg.status).toMatchObject({
      state: S.Failed,
      failure: { cause: 'challenge-refused', statusCode: 401, detail: 'challenge from realm "evil.example" not answered: credentials are for "test.local"' },
    });
    await clock.advance(100_000);
    expect(registrar.requests).toHaveLength(3);
    for (const r of registrar.requests) expect(r.authorization).toEqual([]);
  });

  it('chooses SHA-256 over MD5, and SHA-512-256 over SHA-256, among challenges of one realm', async () => {
    for (const [algorithms, chosen] of [
      [['MD5', 'SHA-256'], 'SHA-256'],
      [['SHA-256', 'SHA-512-256', 'MD5'], 'SHA-512-256'],
    ] as const) {
      const { clock, registrar, reg } = setup({ registrar: { algorithms: [...algorithms] } });
      reg.start();
      await clock.advance(0);
      expect(reg.state).toBe(S.Registered);
      expect(last(registrar).authorization.map((a) => a.get('algorithm'))).toEqual([chosen]);
    }
  });

  it('a timeout backs off (reported as 408), then registers', async () => {
    const { clock, registrar, reg } = setup({ random: () => 0 });
    registrar.always = { timeout: true };
    reg.start();
    await clock.advance(0);
    expect(reg.state).toBe(S.Registering);
    await clock.advance(32_000);
    expect(reg.status).toMatchObject({ state: S.Backoff, failure: { cause: 'timeout', statusCode: 408 }, retryAtMs: 62_000 });
    registrar.always = undefined;
    await clock.advance(29_999);
    expect(registrar.requests).toHaveLength(1);
    await clock.advance(1);
    expect(reg.state).toBe(S.Registered);
    expect(registrar.requests).toHaveLength(3);
  });

  it('a transport error backs off (reported as 503)', async () => {
    const { clock, registrar, reg } = setup({ random: () => 0 });
    registrar.overrides.push({ transportError: 'ECONNREFUSED' });
    reg.start();
    await clock.advance(0);
    expect(reg.status).toMatchObject({ state: S.Backoff, failure: { cause: 'transport-error', statusCode: 503 } });
    await clock.advance(30_000);
    expect(reg.state).toBe(S.Registered);
  });

  it('5xx backs off, and a Retry-After is honoured', async () => {
    const { clock, registrar, reg } = setup({ random: () => 0 });
    registrar.overrides.push({ respond: 503, headers: [['Retry-After', '300']] });
    reg.start();
    await clock.advance(0);
    expect(reg.status).toMatchObject({ state: S.Backoff, failure: { cause: 'server-unavailable', statusCode: 503, retryAfterS: 300 }, retryAtMs: 300_000 });
    await clock.advance(299_999);
    expect(registrar.requests).toHaveLength(1);
    await clock.advance(1);
    expect(reg.state).toBe(S.Registered);
  });

  it('backoff grows across different transient failures and resets after a success', async () => {
    const { clock, registrar, reg } = setup({ random: () => 0 });
    registrar.overrides.push({ respond: 500 }, { transportError: 'EHOSTUNREACH' }, { respond: 504 });
    reg.start();
    await clock.advance(0);
    await clock.advance(30_000);
    await clock.advance(60_000);
    expect(reg.status).toMatchObject({ state: S.Backoff, consecutiveFailures: 3, retryAtMs: 90_000 + 120_000 });
    await clock.advance(120_000);
    expect(reg.state).toBe(S.Registered);
    registrar.overrides.push({ respond: 500 });
    reg.networkChanged();
    await clock.advance(0);
    expect(reg.status).toMatchObject({ state: S.Backoff, consecutiveFailures: 1 });
  });

  it('unregisters with expires 0 on our Contact (never "*"), same Call-ID, next CSeq', async () => {
    const { clock, registrar, reg, states } = setup();
    reg.start();
    await clock.advance(0);
    await reg.stop();
    const r = last(registrar);
    expect(registrar.requests).toHaveLength(3);
    expect(r.isContactWildcard).toBe(false);
    expect(r.contact.map((c) => [c.uri.toString(), c.params.get('expires')])).toEqual([['sip:1003@192.0.2.20:5060', '0']]);
    expect(r.expires).toBe(0);
    expect(r.callId).toBe(registrar.requests[0]!.callId);
    expect(r.cseq.seq).toBe(3);
    expect(registrar.contactsOf(AOR)).toEqual([]);
    expect(reg.state).toBe(S.Unregistered);
    expect(states().slice(-2)).toEqual([S.Unregistering, S.Unregistered]);
    expect(clock.pending).toBe(0);
  });

  it('unregister gives up after the short timeout when the registrar does not answer', async () => {
    const { clock, registrar, reg } = setup();
    reg.start();
    await clock.advance(0);
    registrar.always = { timeout: true };
    let done = false;
    const stopping = reg.stop().then(() => (done = true));
    await clock.advance(1_999);
    expect(done).toBe(false);
    await clock.advance(1);
    await stopping;
    expect(done).toBe(true);
    expect(reg.state).toBe(S.Unregistered);
  });

  it('stops without a REGISTER when no binding can exist', async () => {
    const { clock, registrar, reg, setAddress } = setup();
    setAddress(undefined);
    reg.start();
    await clock.advance(0);
    expect(reg.status).toMatchObject({ state: S.Backoff, failure: { cause: 'no-local-address' } });
    await reg.stop();
    expect(registrar.requests).toHaveLength(0);
    expect(reg.state).toBe(S.Unregistered);
    expect(clock.pending).toBe(0);
  });

  it('after a network change registers the new Contact at once and removes the old one', async () => {
    const { clock, registrar, reg, setAddress } = setup();
    reg.start();
    await clock.advance(0);
    setAddress({ host: '198.51.100.9', port: 5062, transport: 'udp' });
    reg.networkChanged();
    await clock.advance(0);
    expect(reg.state).toBe(S.Registered);
    const r = last(registrar);
    expect(r.contact.map((c) => [c.uri.toString(), c.params.get('expires')])).toEqual([
      ['sip:1003@198.51.100.9:5062', '3600'],
      ['sip:1003@192.0.2.20:5060', '0'],
    ]);
    expect(r.callId).toBe(registrar.requests[0]!.callId);
    expect(registrar.contactsOf(AOR)).toEqual(['sip:1003@198.51.100.9:5062']);
  });

  it('re-registers at once when the transport is lost, then backs off while it stays down', async () => {
    const { clock, registrar, reg } = setup({ random: () => 0 });
    reg.start();
    await clock.advance(0);
    registrar.always = { transportError: 'ECONNRESET' };
    reg.transportLost();
    await clock.advance(0);
    expect(registrar.requests).toHaveLength(3);
    expect(reg.state).toBe(S.Backoff);
    // Repeated reports do not add attempts: the retry timer decides.
    for (let i = 0; i < 10; i++) reg.transportLost();
    await clock.advance(29_000);
    expect(registrar.requests).toHaveLength(3);
    await clock.advance(1_000);
    expect(registrar.requests).toHaveLength(4);
  });

  it('with outbound: +sip.instance and reg-id on the Contact, Supported: outbound, path, Route to the proxy', async () => {
    const { clock, registrar, reg, setAddress } = setup({
      account: { outbound: true, instanceId: 'urn:uuid:00000000-0000-4000-8000-00000000000A', outboundProxy: 'sip:proxy.test.local', transport: 'tcp' },
    });
    setAddress({ host: '192.0.2.20', port: 40_000, transport: 'tcp' });
    reg.start();
    await clock.advance(0);
    expect(reg.state).toBe(S.Registered);
    const r = last(registrar);
    const c = r.contact[0]!;
    expect(c.uri.toString()).toBe('sip:1003@192.0.2.20:40000;transport=tcp');
    expect(c.params.get('+sip.instance')).toBe('<urn:uuid:00000000-0000-4000-8000-00000000000a>');
    expect(c.params.get('reg-id')).toBe('1');
    expect(r.get('Contact')).toContain('+sip.instance="<urn:uuid:00000000-0000-4000-8000-00000000000a>"');
    expect(r.supported).toEqual(['outbound', 'path']);
    expect(r.route.map((x) => x.uri.toString())).toEqual(['sip:proxy.test.local;lr;transport=tcp']);
    expect(r.uri.toString()).toBe('sip:test.local');
  });
});

describe('registration states', () => {
  it('refuses edges that are not drawn', () => {
    expect(() => assertTransition(S.Unregistered, S.Registered)).toThrow(RegistrationStateError);
    expect(() => assertTransition(S.Unregistering, S.Registering)).toThrow(RegistrationStateError);
    expect(canTransition(S.Registering, S.Registered)).toBe(true);
    expect(canTransition(S.Failed, S.Registered)).toBe(false);
  });
});

describe('registration timing', () => {
  it('backs off as RFC 5626 §4.5: uniform in [W/2, W], W = min(1800 s, 30 s * 2^failures)', () => {
    const t = DEFAULT_REGISTRATION_TIMING;
    expect(backoffDelayMs(1, t, () => 0)).toBe(30_000);
    expect(backoffDelayMs(1, t, () => 1)).toBe(60_000);
    expect(backoffDelayMs(2, t, () => 0)).toBe(60_000);
    expect(backoffDelayMs(5, t, () => 0)).toBe(480_000);
    expect(backoffDelayMs(6, t, () => 0)).toBe(900_000);
    expect(backoffDelayMs(6, t, () => 1)).toBe(1_800_000);
    expect(backoffDelayMs(1000, t, () => 1)).toBe(1_800_000);
  });

  it('refreshes at 45-50 % of the granted interval', () => {
    const t = DEFAULT_REGISTRATION_TIMING;
    expect(refreshDelayMs(3600, t, () => 0)).toBe(1_620_000);
    expect(refreshDelayMs(3600, t, () => 1)).toBe(1_800_000);
  });
});
