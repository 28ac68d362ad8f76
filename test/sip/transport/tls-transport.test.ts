// NetworkTransport over TLS with a throwaway CA made by openssl at test time: verification, host names, unknown CAs, the insecure switch.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createResponse } from '../../../firmware/sip/message/build.js';
import { asRequest, captureLogger, harness, nextEvent, requestFrom, sendError } from './helpers.js';

const h = harness();

/** Files of a CA and a server certificate for sip.test and 127.0.0.1, signed by it; and a second, unrelated CA. */
interface Pki {
  dir: string;
  caFile: string;
  otherCaFile: string;
  keyFile: string;
  certFile: string;
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
}

function makePki(): Pki {
  const dir = mkdtempSync(join(tmpdir(), 'offhook-tls-'));
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  for (const name of ['ca', 'other-ca']) {
    openssl(dir, ['req', '-x509', ...ec, '-keyout', `${name}.key`, '-out', `${name}.pem`, '-days', '2', '-subj', `/CN=offhook test ${name}`,
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  }
  openssl(dir, ['req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=sip.test']);
  writeFileSync(join(dir, 'ext.cnf'), 'subjectAltName=DNS:sip.test,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n');
  openssl(dir, ['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '2', '-extfile', 'ext.cnf']);
  return { dir, caFile: join(dir, 'ca.pem'), otherCaFile: join(dir, 'other-ca.pem'), keyFile: join(dir, 'server.key'), certFile: join(dir, 'server.pem') };
}

describe('NetworkTransport over TLS', () => {
  let pki: Pki;
  beforeAll(() => {
    pki = makePki();
  });
  afterAll(() => {
    rmSync(pki.dir, { recursive: true, force: true });
  });

  async function server(): Promise<{ port: number; t: Awaited<ReturnType<typeof h.transport>> }> {
    const t = await h.transport({ listen: [{ protocol: 'tls', address: '127.0.0.1', port: 0, tls: { keyFile: pki.keyFile, certFile: pki.certFile } }] });
    return { port: t.localAddress('tls')!.port, t };
  }

  it('connects when the certificate chains to the configured CA and names the server; the response comes back', async () => {
    const b = await server();
    const a = await h.transport({ listen: [{ protocol: 'tls', address: '127.0.0.1', port: 0, tls: { keyFile: pki.keyFile, certFile: pki.certFile } }], tls: { caFile: pki.caFile } });
    const arrived = nextEvent(b.t, 'message');
    const sent = await a.send(requestFrom(a, 'tls'), { protocol: 'tls', address: '127.0.0.1', port: b.port, serverName: 'sip.test' });
    expect(sent).toMatchObject({ ok: true, protocol: 'tls' });
    const inbound = await arrived;
    expect(inbound.connectionId).toMatch(/^tls-/);
    expect(inbound.message.topVia.transport).toBe('TLS');
    const back = nextEvent(a, 'message');
    expect(await b.t.send(createResponse(asRequest(inbound.message), { status: 200, toTag: 's' }), { ...inbound.source, connectionId: inbound.connectionId })).toMatchObject({ ok: true });
    expect((await back).message.kind).toBe('response');
    expect(b.t.isReliable('tls')).toBe(true);

    // Without a server name, the IP address is what the certificate must name (it does).
    const c = await h.transport({ listen: [], tls: { caFile: pki.caFile } });
    const byIp = await c.send(requestFrom(a, 'tls'), { protocol: 'tls', address: '127.0.0.1', port: b.port });
    expect(byIp.ok || byIp.error.message).toBe(true);
  });

  it('fails on a wrong host name', async () => {
    const b = await server();
    const a = await h.transport({ listen: [], tls: { caFile: pki.caFile } });
    const sent = await a.send(requestFrom(b.t, 'tls'), { protocol: 'tls', address: '127.0.0.1', port: b.port, serverName: 'other.test' });
    expect(sendError(sent)).toMatchObject({ code: 'tls-failed', systemCode: 'ERR_TLS_CERT_ALTNAME_INVALID' });
    expect(a.connections()).toHaveLength(0);
  });

  it('fails on a certificate from an unknown CA (default store, and another configured CA)', async () => {
    const b = await server();
    for (const tls of [{}, { caFile: pki.otherCaFile }]) {
      const a = await h.transport({ listen: [], tls });
      const sent = await a.send(requestFrom(b.t, 'tls'), { protocol: 'tls', address: '127.0.0.1', port: b.port, serverName: 'sip.test' });
      const error = sendError(sent);
      expect(error.code).toBe('tls-failed');
      expect(error.systemCode).toMatch(/UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT|SELF_SIGNED/);
    }
  });

  it('connects with insecure, and logs a warning for every connection', async () => {
    const b = await server();
    const { logger, lines } = captureLogger('info');
    const a = await h.transport({ listen: [], tls: { insecure: true }, logger });
    for (const serverName of ['wrong.test', 'other.test']) {
      const arrived = nextEvent(b.t, 'message');
      expect(await a.send(requestFrom(b.t, 'tls'), { protocol: 'tls', address: '127.0.0.1', port: b.port, serverName })).toMatchObject({ ok: true });
      await arrived;
    }
    const warnings = lines.filter((l) => l.level === 40 && String(l.msg).includes('WITHOUT certificate verification'));
    expect(warnings).toHaveLength(2);
    expect(warnings.map((w) => w.serverName)).toEqual(['wrong.test', 'other.test']);
  });

  it('refuses to start a TLS listener without a key and certificate', async () => {
    await expect(h.transport({ listen: [{ protocol: 'tls', address: '127.0.0.1', port: 0 }] })).rejects.toMatchObject({ code: 'bind-failed' });
    await expect(h.transport({ listen: [], tls: { caFile: join(pki.dir, 'missing.pem') } })).rejects.toMatchObject({ code: 'tls-failed' });
  });
});
