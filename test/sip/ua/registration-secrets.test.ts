// No log line carries a secret: the password, HA1, a digest response or a full Authorization value, over full auth flows.
import { createHash } from 'node:crypto';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { Account } from '../../../firmware/sip/ua/account.js';
import { RegistrationClient, RegistrationState } from '../../../firmware/sip/ua/registration.js';
import { VirtualClock } from '../../../firmware/util/clock.js';
import { FakeRegistrar } from './registration-fake-registrar.js';

const PASSWORD = 'Pa55-w0rd-never-logged';
const WRONG = 'Wr0ng-pa55-never-logged';

function countingBytes(): (n: number) => Uint8Array {
  let next = 0;
  return (n) => Uint8Array.from({ length: n }, () => next++ & 0xff);
}

describe('secrets in the log', () => {
  it('never logs the password, HA1, the response hash or an Authorization value', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString('utf8'));
        done();
      },
    });
    // Deliberately without redaction: the code must not hand secrets to the logger at all.
    const logger = pino({ level: 'trace' }, sink);
    const clock = new VirtualClock();
    const registrar = new FakeRegistrar({ clock, algorithms: ['MD5', 'SHA-256'], users: { '1003': PASSWORD, '1004': PASSWORD }, maxExpiresS: 600 });
    const contactAddress = () => ({ host: '192.0.2.20', port: 5060, transport: 'udp' as const });
    const good = new RegistrationClient({ account: Account.from({ aor: 'sip:1003@test.local', password: PASSWORD }), sender: registrar, clock, random: () => 0.5, randomBytes: countingBytes(), contactAddress, logger });
    const bad = new RegistrationClient({ account: Account.from({ aor: 'sip:1004@test.local', password: WRONG }), sender: registrar, clock, random: () => 0.5, randomBytes: countingBytes(), contactAddress, logger });
    const foreign = new RegistrationClient({
      account: Account.from({ aor: 'sip:1003@test.local', password: PASSWORD, realms: ['elsewhere'] }),
      sender: registrar,
      clock,
      random: () => 0.5,
      randomBytes: countingBytes(),
      contactAddress,
      logger,
    });
    logger.info({ account: good.account }, 'account loaded');
    registrar.staleNext = 1;
    good.start();
    bad.start();
    foreign.start();
    await clock.advance(0);
    registrar.expireNonces();
    await clock.advance(700_000); // refreshes with a stale nonce, retries of the wrong password
    await good.stop();
    await bad.stop();
    await foreign.stop();
    expect(good.state).toBe(RegistrationState.Unregistered);

    const out = lines.join('');
    expect(out).toContain('registration state');
    expect(out).toContain('account loaded');
    expect(out).toContain('not answered');

    const secrets = new Set<string>([PASSWORD, WRONG]);
    for (const r of registrar.requests) {
      for (const a of [...r.authorization, ...r.proxyAuthorization]) {
        secrets.add(a.toString());
        secrets.add(a.get('response')!);
        const realm = a.get('realm')!;
        for (const [alg, pw] of [
          ['md5', PASSWORD],
          ['sha256', PASSWORD],
          ['md5', WRONG],
          ['sha256', WRONG],
        ] as const) {
          secrets.add(createHash(alg).update(`${a.get('username')}:${realm}:${pw}`).digest('hex'));
        }
      }
      for (const v of [...r.getAll('Authorization'), ...r.getAll('Proxy-Authorization')]) secrets.add(v);
    }
    expect(secrets.size).toBeGreaterThan(10);
    for (const s of secrets) expect(out.includes(s), `log contains a secret: ${s.slice(0, 12)}...`).toBe(false);
  });
});
