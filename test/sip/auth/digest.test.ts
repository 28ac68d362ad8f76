// Digest computations against the RFC test vectors (RFC 2617 §3.5, RFC 7616 §3.9.1) and node:crypto.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  algorithmStrength,
  computeDigestResponse,
  computeHa1,
  digestHash,
  formatNonceCount,
  hashUsername,
  parseAlgorithm,
} from '../../../firmware/sip/auth/index.js';

const md5 = (s: string | Uint8Array): string => createHash('md5').update(s).digest('hex');

describe('RFC 2617 §3.5 example ("Mufasa")', () => {
  it('gives the response of the RFC', () => {
    const response = computeDigestResponse({
      algorithm: 'MD5',
      username: 'Mufasa',
      realm: 'testrealm@host.com',
      password: 'Circle Of Life',
      method: 'GET',
      uri: '/dir/index.html',
      nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093',
      qop: 'auth',
      nc: 1,
      cnonce: '0a4f113b',
    });
    expect(response).toBe('6629fae49393a05397450978507c4ef1');
  });
});

describe('RFC 7616 §3.9.1 examples ("Mufasa", MD5 and SHA-256)', () => {
  const common = {
    username: 'Mufasa',
    realm: 'http-auth@example.org',
    password: 'Circle of Life',
    method: 'GET',
    uri: '/dir/index.html',
    nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v',
    qop: 'auth' as const,
    nc: 1,
    cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ',
  };

  it('MD5', () => {
    expect(computeDigestResponse({ ...common, algorithm: 'MD5' })).toBe('8ca523f5e9506fed4657c9700eebdbec');
  });

  it('SHA-256', () => {
    expect(computeDigestResponse({ ...common, algorithm: 'SHA-256' })).toBe('753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1');
  });
});

describe('algorithms', () => {
  it('SHA-512-256 is SHA-512/256 (FIPS 180-4), not a truncated SHA-512', () => {
    // The FIPS 180-4 example value for "abc".
    expect(digestHash('SHA-512-256', 'abc')).toBe('53048e2681941ef99b2e29b76b4c7dabe4c2d0c634fc6d46e0e2f13107e7af23');
    expect(digestHash('SHA-512-256', 'abc')).not.toBe(createHash('sha512').update('abc').digest('hex').slice(0, 64));
  });

  it('reads algorithm tokens case-insensitively; absent means MD5; unknown is undefined', () => {
    expect(parseAlgorithm(undefined)).toBe('MD5');
    expect(parseAlgorithm('sha-256')).toBe('SHA-256');
    expect(parseAlgorithm('SHA-512-256-SESS')).toBe('SHA-512-256-sess');
    expect(parseAlgorithm('md5-sess')).toBe('MD5-sess');
    expect(parseAlgorithm('SHA3-256')).toBeUndefined();
    expect(parseAlgorithm('AKAv1-MD5')).toBeUndefined();
  });

  it('orders strength SHA-512-256 > SHA-256 > MD5, -sess equal to its base', () => {
    expect(algorithmStrength('SHA-512-256')).toBeGreaterThan(algorithmStrength('SHA-256'));
    expect(algorithmStrength('SHA-256')).toBeGreaterThan(algorithmStrength('MD5'));
    expect(algorithmStrength('SHA-256-sess')).toBe(algorithmStrength('SHA-256'));
  });

  it('MD5-sess folds nonce and cnonce into HA1 (RFC 7616 §3.4.2)', () => {
    const base = md5('bob:r:pw');
    expect(computeHa1({ algorithm: 'MD5-sess', username: 'bob', realm: 'r', password: 'pw', nonce: 'N', cnonce: 'C' })).toBe(md5(`${base}:N:C`));
    expect(computeHa1({ algorithm: 'MD5', username: 'bob', realm: 'r', password: 'pw' })).toBe(base);
    expect(() => computeHa1({ algorithm: 'SHA-256-sess', username: 'bob', realm: 'r', password: 'pw' })).toThrow(TypeError);
  });

  it('qop=auth-int hashes the body into A2 (RFC 7616 §3.4.3)', () => {
    const body = Buffer.from('v=0\r\n');
    const ha1 = md5('bob:r:pw');
    const ha2 = md5(`INVITE:sip:alice@example.com:${md5(body)}`);
    const expected = md5(`${ha1}:N:0000000a:C:auth-int:${ha2}`);
    expect(computeDigestResponse({ algorithm: 'MD5', username: 'bob', realm: 'r', password: 'pw', method: 'INVITE', uri: 'sip:alice@example.com', nonce: 'N', qop: 'auth-int', nc: 10, cnonce: 'C', body })).toBe(expected);
  });

  it('without qop the response is H(HA1:nonce:HA2) (RFC 2617 §3.2.2.1, RFC 2069)', () => {
    const expected = md5(`${md5('bob:r:pw')}:N:${md5('REGISTER:sip:test.local')}`);
    expect(computeDigestResponse({ algorithm: 'MD5', username: 'bob', realm: 'r', password: 'pw', method: 'REGISTER', uri: 'sip:test.local', nonce: 'N' })).toBe(expected);
  });

  it('formats nc as 8 lower-case hex digits', () => {
    expect(formatNonceCount(1)).toBe('00000001');
    expect(formatNonceCount(255)).toBe('000000ff');
    expect(() => formatNonceCount(0)).toThrow(RangeError);
  });

  it('userhash is H(username:realm) (RFC 7616 §3.4.4)', () => {
    // §3.9.2's printed userhash is known to be wrong (RFC errata 4897), so node:crypto is the reference.
    const expected = createHash('sha512-256').update('J\u00e4s\u00f8n Doe:api@example.org', 'utf8').digest('hex');
    expect(hashUsername('SHA-512-256', 'J\u00e4s\u00f8n Doe', 'api@example.org')).toBe(expected);
  });
});
