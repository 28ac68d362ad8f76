// The emulator's password: scrypt hashes, credentials from headers, loopback addresses, the address rule.
import { describe, expect, it } from 'vitest';
import { EMULATOR_DEFAULTS, PASSWORD_HASH_PATTERN, emulatorConfigOf, emulatorSection } from '../../firmware/config/emulator-schema.js';
import { addressProblem, hashPassword, isLoopbackAddress, parsePasswordHash, PasswordCheck, presentedPassword, verifyPassword } from '../../firmware/emulator/password.js';
import { object, validate } from '../../firmware/config/schema.js';

const cheap = { N: 1024, r: 8, p: 1 };

describe('password hashes', () => {
  it('hashes with a random salt in the config format and verifies', async () => {
    const a = await hashPassword('correct horse', cheap);
    const b = await hashPassword('correct horse', cheap);
    expect(a).toMatch(PASSWORD_HASH_PATTERN);
    expect(a).toMatch(/^scrypt\$1024\$8\$1\$/);
    expect(a).not.toBe(b);
    expect(await verifyPassword('correct horse', a)).toBe(true);
    expect(await verifyPassword('correct horsE', a)).toBe(false);
    expect(await verifyPassword('', a)).toBe(false);
  });

  it('the default cost is N = 16384', async () => {
    expect(await hashPassword('x')).toMatch(/^scrypt\$16384\$8\$1\$[A-Za-z0-9+/]{22}==\$[A-Za-z0-9+/]{43}=$/);
  });

  it('refuses malformed or too costly hashes without echoing them', () => {
    expect(() => parsePasswordHash('plain')).toThrow('the password hash is not of the form scrypt$N$r$p$salt$hash');
    expect(() => parsePasswordHash('scrypt$1000$8$1$c2FsdHNhbHQ=$a2V5a2V5a2V5a2V5a2V5a2V5')).toThrow(/power of two/);
    expect(() => parsePasswordHash('scrypt$1048576$8$1$c2FsdHNhbHQ=$a2V5a2V5a2V5a2V5a2V5a2V5')).toThrow(/256 MiB/);
  });

  it('PasswordCheck takes HTTP Basic with any user name and Bearer, and remembers a password that passed', async () => {
    const check = new PasswordCheck(await hashPassword('pw', cheap));
    const basic = (s: string) => ({ authorization: `Basic ${Buffer.from(s).toString('base64')}` });
    expect(await check.accepts({})).toBe(false);
    expect(await check.accepts(basic('admin:pw'))).toBe(true);
    expect(await check.accepts(basic('admin:pw'))).toBe(true);
    expect(await check.accepts(basic(':pw'))).toBe(true);
    expect(await check.accepts(basic('pw'))).toBe(false); // no colon: not Basic credentials
    expect(await check.accepts({ authorization: 'Bearer pw' })).toBe(true);
    expect(await check.accepts({ authorization: 'Bearer pw2' })).toBe(false);
    expect(await check.accepts({ authorization: 'Digest x' })).toBe(false);
  });

  it('reads the password from Basic (user name ignored) and Bearer', () => {
    expect(presentedPassword({ authorization: `Basic ${Buffer.from('u:p:q').toString('base64')}` })).toBe('p:q');
    expect(presentedPassword({ authorization: 'bearer tok' })).toBe('tok');
    expect(presentedPassword({})).toBeUndefined();
  });
});

describe('addresses', () => {
  it('knows loopback addresses', () => {
    for (const a of ['127.0.0.1', '127.0.0.2', '::1', '[::1]', 'localhost', '::ffff:127.0.0.1', '0:0:0:0:0:0:0:1']) expect(isLoopbackAddress(a), a).toBe(true);
    for (const a of ['0.0.0.0', '::', '192.168.1.2', 'fe80::1', 'example.com', '128.0.0.1', '']) expect(isLoopbackAddress(a), a).toBe(false);
  });

  it('a non-loopback address needs a password hash', () => {
    expect(addressProblem('127.0.0.1', undefined)).toBeUndefined();
    expect(addressProblem('0.0.0.0', 'scrypt$...')).toBeUndefined();
    expect(addressProblem('0.0.0.0', undefined)).toContain('set emulator.passwordHash');
  });
});

describe('the emulator config section', () => {
  it('has defaults, checks the hash format, and is absent-safe until config-schema.ts lists it', () => {
    const schema = object({ emulator: emulatorSection });
    expect(validate(schema, {}).value).toEqual({ emulator: EMULATOR_DEFAULTS });
    const bad = validate(schema, { emulator: { passwordHash: 'hunter2', httpPort: 70000 } });
    expect(bad.issues.map((i) => i.path.join('.'))).toEqual(['emulator.httpPort', 'emulator.passwordHash']);
    expect(emulatorConfigOf({})).toEqual(EMULATOR_DEFAULTS);
    expect(emulatorConfigOf({ emulator: { httpPort: 1, httpAddress: '::1', passwordHash: undefined } }).httpPort).toBe(1);
  });
});
