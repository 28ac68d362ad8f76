// UserAgent on the loopback network with a virtual clock: OPTIONS answers, registration through a scripted registrar, RFC 3263 failover, keep-alives, trace.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { StaticDnsResolver } from '../../../firmware/sip/locate/index.js';
import { type SipRequest, type SipResponse, parseMessage } from '../../../firmware/sip/message/index.js';
import type { TraceRecord } from '../../../firmware/sip/trace/trace-record.js';
import type { AnyServerTransaction } from '../../../firmware/sip/transaction/index.js';
import { LoopbackNetwork, type LoopbackTransport, seededRandom } from '../../../firmware/sip/transport/loopback-transport.js';
import type { TransportProtocol } from '../../../firmware/sip/transport/transport.js';
import { type AccountSettings, type AccountStatus, type FlowLostEvent, UA_ACCEPT, UA_METHODS, UA_SUPPORTED, UserAgent, type UserAgentOptions } from '../../../firmware/sip/ua/index.js';
import { VirtualClock } from '../../../firmware/util/clock.js';
import { addLayer, type Endpoint } from '../support/layer-fixture.js';
import { RawPeer } from '../support/raw-peer.js';
import { makeRequest } from '../support/sip-builders.js';
import { expectedDigest } from './registration-fake-registrar.js';

const PHONE = '10.0.0.1';
const AOR = 'sip:1003@test.local';
const PASSWORD = 'secret-1003';

/**
 * A registrar peer on the loopback, on a transaction layer of its own: 401 with a Digest
 * challenge until the credentials check out against the password (computed independently of
 * firmware/sip/auth), then 200 with the Contact and the granted expires. Its mode scripts
 * failures: silent (no answer at all) or 503.
 */
class ScriptedRegistrar {
  readonly endpoint: Endpoint;
  readonly requests: { atMs: number; request: SipRequest; protocol: TransportProtocol; connectionId: string | undefined }[] = [];
  mode: 'answer' | 'silent' | '503' = 'answer';
  grantS = 600;
  private nonce = 0;

  constructor(
    network: LoopbackNetwork,
    readonly address: string,
  ) {
    this.endpoint = addLayer(network, address, { validation: false, seed: address.length });
    this.endpoint.layer.on('request', (tx, inbound) => {
      this.requests.push({ atMs: network.clock.now(), request: tx.request, protocol: inbound.local.protocol, connectionId: inbound.connectionId });
      this.handle(tx);
    });
  }

  registers(): SipRequest[] {
    return this.requests.filter((r) => r.request.method === 'REGISTER').map((r) => r.request);
  }

  options(): SipRequest[] {
    return this.requests.filter((r) => r.request.method === 'OPTIONS').map((r) => r.request);
  }

  private handle(tx: AnyServerTransaction): void {
    const req = tx.request;
    if (this.mode === 'silent') return;
    if (this.mode === '503') {
      tx.reply(503, { headers: [['Retry-After', '120']] });
      return;
    }
    if (req.method === 'OPTIONS') {
      tx.reply(200);
      return;
    }
    const auth = req.authorization[0];
    const valid = auth !== undefined && auth.get('response') === expectedDigest(auth, { method: req.method, password: PASSWORD, username: '1003' });
    if (!valid) {
      tx.reply(401, { headers: [['WWW-Authenticate', `Digest realm="test.local", nonce="n${++this.nonce}", qop="auth", algorithm=MD5`]] });
      return;
    }
    const contact = req.contact[0];
    const asked = Number(contact?.params.get('expires') ?? req.expires ?? 3600);
    const granted = Math.min(asked, this.grantS);
    tx.reply(200, { headers: contact ? [['Contact', contact.withParam('expires', String(granted)).toString()]] : [] });
  }
}

function countingBytes(): (n: number) => Uint8Array {
  let next = 0;
  return (n) => Uint8Array.from({ length: n }, () => next++ & 0xff);
}

interface Setup {
  clock: VirtualClock;
  network: LoopbackNetwork;
  phone: LoopbackTransport;
  ua: UserAgent;
  events: AccountStatus[];
  lost: FlowLostEvent[];
  traces: TraceRecord[];
  dns: StaticDnsResolver;
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function setup(options: { account?: Partial<AccountSettings>; ua?: Partial<UserAgentOptions>; servers?: readonly string[] } = {}): Setup {
  const clock = new VirtualClock();
  const network = new LoopbackNetwork({ clock, seed: 3 });
  const phone = network.attach({ address: PHONE, port: 5060, protocols: ['udp', 'tcp'] });
  const dns = new StaticDnsResolver({ a: { 'test.local': [...(options.servers ?? ['10.0.0.2'])] } });
  const ua = new UserAgent({
    transport: phone,
    clock,
    random: seededRandom(11),
    randomBytes: countingBytes(),
    dns,
    userAgent: 'offhook-test',
    accounts: options.account === undefined ? [] : [{ id: 'line1', aor: AOR, password: PASSWORD, ...options.account }],
    ...options.ua,
  });
  const events: AccountStatus[] = [];
  const lost: FlowLostEvent[] = [];
  const traces: TraceRecord[] = [];
  ua.on('registration', (s) => events.push(s));
  ua.on('flow-lost', (e) => lost.push(e));
  ua.on('trace', (r) => traces.push(r));
  cleanups.push(() => ua.stop({ unregister: false }));
  return { clock, network, phone, ua, events, lost, traces, dns };
}

/** Sends a request from a raw peer to the phone and gives the first final response. */
async function ask(s: Setup, peer: RawPeer, request: SipRequest): Promise<SipResponse> {
  peer.clear();
  await peer.send(request, { protocol: 'udp', address: PHONE, port: 5060 });
  await s.clock.advance(0);
  const final = peer.responses().find((r) => r.message.status >= 200);
  if (!final) throw new Error(`no final response to ${request.method}`);
  return final.message;
}

const via = { host: '10.0.0.9', port: 5060, rport: true };

describe('UserAgent: requests outside a dialog', () => {
  it('answers OPTIONS with 200, Allow, Accept, Accept-Encoding, Accept-Language, Supported and Server', async () => {
    const s = setup();
    await s.ua.start();
    const peer = new RawPeer(s.network, '10.0.0.9');
    const res = await ask(s, peer, makeRequest({ method: 'OPTIONS', uri: `sip:${PHONE}`, via: { ...via, branch: 'z9hG4bKopt1' } }));
    expect(res.status).toBe(200);
    expect(res.allow).toEqual([...UA_METHODS]);
    expect(res.accept.map((a) => a.essence)).toEqual([...UA_ACCEPT]);
    expect(res.get('Allow-Events')).toBe('message-summary, refer');
    expect(res.get('Accept-Encoding')).toBe('identity');
    expect(res.get('Accept-Language')).toBe('en');
    expect(res.has('Supported')).toBe(true);
    expect(res.supported).toEqual([...UA_SUPPORTED]);
    expect(res.get('Server')).toBe('offhook-test');
    expect(res.to.tag).toBeDefined();
  });

  it('lists the configured option-tags in Supported and accepts them in Require', async () => {
    const s = setup({ ua: { supported: ['timer'] } });
    await s.ua.start();
    const peer = new RawPeer(s.network, '10.0.0.9');
    const ok = await ask(s, peer, makeRequest({ method: 'OPTIONS', uri: `sip:${PHONE}`, via: { ...via, branch: 'z9hG4bKopt2' }, headers: [['Require', 'timer']] }));
    expect(ok.status).toBe(200);
    expect(ok.supported).toContain('timer');
  });

  it('refuses with the RFC 3261 §8.2 statuses and its own capabilities: 501 + Allow, 420 + Unsupported, 415 + Accept, 416, 483', async () => {
    const s = setup();
    await s.ua.start();
    const peer = new RawPeer(s.network, '10.0.0.9');
    const unknown = await ask(s, peer, makeRequest({ method: 'FOOBAR', uri: `sip:1003@${PHONE}`, via: { ...via, branch: 'z9hG4bKbad1' } }));
    expect([unknown.status, unknown.get('Allow')]).toEqual([501, UA_METHODS.join(', ')]);
    // A method a proxy knows but this phone does not handle is "not implemented" here too.
    expect((await ask(s, peer, makeRequest({ method: 'PUBLISH', uri: `sip:1003@${PHONE}`, via: { ...via, branch: 'z9hG4bKbad2' } }))).status).toBe(501);
    const require = await ask(s, peer, makeRequest({ method: 'OPTIONS', uri: `sip:1003@${PHONE}`, via: { ...via, branch: 'z9hG4bKbad3' }, headers: [['Require', 'x-bar, x-foo']] }));
    expect([require.status, require.unsupported]).toEqual([420, ['x-bar', 'x-foo']]);
    const body = await ask(s, peer, makeRequest({ method: 'OPTIONS', uri: `sip:1003@${PHONE}`, via: { ...via, branch: 'z9hG4bKbad4' }, body: 'x', contentType: 'application/x-foo' }));
    expect([body.status, body.get('Accept')]).toEqual([415, UA_ACCEPT.join(', ')]);
    expect((await ask(s, peer, makeRequest({ method: 'OPTIONS', uri: 'tel:+15551234', via: { ...via, branch: 'z9hG4bKbad5' } }))).status).toBe(416);
    expect((await ask(s, peer, makeRequest({ method: 'OPTIONS', uri: `sip:1003@${PHONE}`, via: { ...via, branch: 'z9hG4bKbad6' }, maxForwards: 0 }))).status).toBe(483);
  });

  it('refuses an INVITE from an address that is no registrar or proxy of ours with 403 (ghost calls), and requests for unknown dialogs 481', async () => {
    const s = setup({ account: { register: false } });
    const incoming: unknown[] = [];
    s.ua.on('incoming', (c) => incoming.push(c));
    await s.ua.start();
    const peer = new RawPeer(s.network, '10.0.0.9');
    const invite = await ask(s, peer, makeRequest({ method: 'INVITE', uri: `sip:1003@${PHONE}`, via: { ...via, branch: 'z9hG4bKinv1' }, contact: 'sip:alice@10.0.0.9' }));
    expect(invite.status).toBe(403);
    expect(invite.get('Server')).toBe('offhook-test');
    expect(incoming).toEqual([]);
    const bye = await ask(s, peer, makeRequest({ method: 'BYE', uri: `sip:1003@${PHONE}`, via: { ...via, branch: 'z9hG4bKbye1' }, toTag: 'nosuchdialog' }));
    expect(bye.status).toBe(481);
    const optionsInDialog = await ask(s, peer, makeRequest({ method: 'OPTIONS', uri: `sip:1003@${PHONE}`, via: { ...via, branch: 'z9hG4bKopt9' }, toTag: 'nosuchdialog' }));
    expect(optionsInDialog.status).toBe(481);
  });
});

describe('UserAgent: registration', () => {
  it('refuses an account whose transport it does not listen on, naming the field', () => {
    expect(() => setup({ account: { transport: 'tls' } })).toThrow(/account setting transport: tls is not among the protocols the phone listens on \(udp, tcp\)/);
  });


  it('registers through a scripted registrar on the loopback: 401, then 200; events and snapshot follow', async () => {
    const s = setup({ account: {} });
    const registrar = new ScriptedRegistrar(s.network, '10.0.0.2');
    await s.ua.start();
    await s.clock.advance(0);
    const regs = registrar.registers();
    expect(regs).toHaveLength(2);
    expect(regs[0]!.authorization).toEqual([]);
    expect(regs[1]!.authorization[0]!.get('username')).toBe('1003');
    expect(regs[1]!.contact[0]!.uri.toString()).toBe('sip:1003@10.0.0.1:5060');
    expect(regs[1]!.get('User-Agent')).toBe('offhook-test');
    // One Via, ours, with a new branch per transaction (RFC 3261 §8.1.1.7).
    expect(regs.map((r) => r.via.length)).toEqual([1, 1]);
    expect(regs[0]!.topVia.branch).not.toBe(regs[1]!.topVia.branch);
    expect(s.events.map((e) => e.line.state)).toEqual(['registering', 'registered']);
    const snap = s.ua.snapshot();
    expect(snap.state).toBe('running');
    expect(snap.listening).toEqual([
      { protocol: 'udp', address: PHONE, port: 5060 },
      { protocol: 'tcp', address: PHONE, port: 5060 },
    ]);
    expect(snap.accounts).toMatchObject([{ accountId: 'line1', aor: AOR, line: { state: 'registered', expiresAtMs: 600_000 }, flow: { protocol: 'udp', address: '10.0.0.2', port: 5060 } }]);
    // The refresh at 45-50 % of the granted 600 s, one REGISTER with the nonce reused.
    await s.clock.advance(300_000);
    expect(registrar.registers().length).toBeGreaterThanOrEqual(3);
    expect(s.ua.accountStatus('line1')?.line.state).toBe('registered');
  });

  it('reports a wrong password as failed with the reason, and retries only after the backoff', async () => {
    const s = setup({ account: { password: 'wrong' }, ua: { registration: { retryBaseMs: 30_000 } } });
    const registrar = new ScriptedRegistrar(s.network, '10.0.0.2');
    await s.ua.start();
    await s.clock.advance(0);
    const line = s.ua.accountStatus('line1')?.line;
    expect(line).toMatchObject({ state: 'failed', cause: 'wrong-credentials', statusCode: 401, reason: 'wrong user name or password (401 Unauthorized)' });
    expect(registrar.registers()).toHaveLength(2);
    await s.clock.advance(29_999);
    expect(registrar.registers()).toHaveLength(2);
  });

  it('unregisters on stop (REGISTER with expires 0) and closes everything', async () => {
    const s = setup({ account: {} });
    const registrar = new ScriptedRegistrar(s.network, '10.0.0.2');
    await s.ua.start();
    await s.clock.advance(0);
    const before = registrar.registers().length;
    const stopped = s.ua.stop();
    await s.clock.advance(0);
    await stopped;
    const unregister = registrar.registers().slice(before);
    expect(unregister.map((r) => [r.expires, r.contact[0]?.params.get('expires')])).toEqual([[0, '0']]);
    expect(s.ua.state).toBe('stopped');
    expect(s.ua.snapshot().accounts[0]?.line.state).toBe('off');
    expect(s.phone.closed).toBe(true);
  });

  it('stop() is bounded when the registrar does not answer the unregister', async () => {
    const s = setup({ account: {}, ua: { registration: { unregisterTimeoutMs: 2000 } } });
    const registrar = new ScriptedRegistrar(s.network, '10.0.0.2');
    await s.ua.start();
    await s.clock.advance(0);
    registrar.mode = 'silent';
    let done = false;
    const stopped = s.ua.stop().then(() => (done = true));
    await s.clock.advance(1999);
    expect(done).toBe(false);
    await s.clock.advance(1);
    await stopped;
    expect(done).toBe(true);
  });
});

describe('UserAgent: RFC 3263 failover', () => {
  it('fails over to the second target on timeout (Timer F): a new transaction, the same request', async () => {
    // 10.0.0.2 is located first but nothing listens there: UDP is lost without a word.
    const s = setup({ account: {}, servers: ['10.0.0.2', '10.0.0.3'] });
    const second = new ScriptedRegistrar(s.network, '10.0.0.3');
    await s.ua.start();
    await s.clock.advance(0);
    expect(second.registers()).toHaveLength(0);
    await s.clock.advance(31_999);
    expect(second.registers()).toHaveLength(0);
    await s.clock.advance(1);
    expect(s.ua.accountStatus('line1')?.line.state).toBe('registered');
    // To the dead target: the first REGISTER and its retransmissions (Timer E), one branch.
    const sent = s.traces.filter((t) => t.direction === 'out').map((t) => ({ to: t.remote.address, msg: parsedRequest(t) }));
    const toDead = sent.filter((x) => x.to === '10.0.0.2');
    expect(toDead.length).toBeGreaterThan(5);
    expect(new Set(toDead.map((x) => x.msg.topVia.branch)).size).toBe(1);
    // RFC 3263 §4.3: the same request (same CSeq) to the next target, with a new branch.
    const first = second.registers()[0]!;
    expect(first.cseq.seq).toBe(toDead[0]!.msg.cseq.seq);
    expect(first.topVia.branch).not.toBe(toDead[0]!.msg.topVia.branch);
    // The dead target is blacklisted: the authenticated REGISTER goes straight to the live one.
    expect(second.registers()).toHaveLength(2);
    expect(s.ua.accountStatus('line1')?.flow).toEqual({ protocol: 'udp', address: '10.0.0.3', port: 5060 });
  });

  it('fails over to the second target on 503 at once, and keeps using it', async () => {
    const s = setup({ account: {}, servers: ['10.0.0.2', '10.0.0.3'] });
    const busy = new ScriptedRegistrar(s.network, '10.0.0.2');
    busy.mode = '503';
    const second = new ScriptedRegistrar(s.network, '10.0.0.3');
    await s.ua.start();
    await s.clock.advance(0);
    expect(busy.registers()).toHaveLength(1);
    expect(second.registers()).toHaveLength(2);
    expect(s.ua.accountStatus('line1')?.line.state).toBe('registered');
    // Refreshes stay on the server that holds the binding, even once the other is back.
    busy.mode = 'answer';
    await s.clock.advance(300_000);
    expect(busy.registers()).toHaveLength(1);
    expect(second.registers().length).toBeGreaterThanOrEqual(3);
  });

  it('after the last target fails, the registration backs off with the last outcome', async () => {
    const s = setup({ account: {}, servers: ['10.0.0.2', '10.0.0.3'] });
    for (const a of ['10.0.0.2', '10.0.0.3']) new ScriptedRegistrar(s.network, a).mode = '503';
    await s.ua.start();
    await s.clock.advance(0);
    expect(s.ua.accountStatus('line1')?.line).toMatchObject({ state: 'failed', cause: 'server-unavailable', statusCode: 503 });
  });
});

describe('UserAgent: keep-alives and lost flows (RFC 5626 §4.4)', () => {
  it('pings a UDP flow with OPTIONS, and registers again when the pings go unanswered', async () => {
    const s = setup({ account: {}, ua: { keepAlive: { udpOptionsIntervalMs: 20_000 } } });
    const registrar = new ScriptedRegistrar(s.network, '10.0.0.2');
    await s.ua.start();
    await s.clock.advance(0);
    await s.clock.advance(20_000);
    const pings = registrar.options();
    expect(pings).toHaveLength(1);
    expect(pings[0]!.uri.toString()).toBe('sip:test.local');
    expect(s.lost).toEqual([]);
    registrar.mode = 'silent';
    const registersBefore = registrar.registers().length;
    const lostAt: number[] = [];
    s.ua.on('flow-lost', () => lostAt.push(s.clock.now()));
    // The next ping within 16-20 s (80-100 % of the interval, RFC 5626 §4.4.1), then Timer F.
    await s.clock.advance(20_000 + 32_000);
    expect(s.lost).toMatchObject([{ accountId: 'line1', reason: 'ping-timeout', target: { address: '10.0.0.2' } }]);
    // The REGISTER goes out at once, when Timer F of the ping fires (not at the next refresh).
    const again = registrar.requests.filter((r) => r.request.method === 'REGISTER').slice(registersBefore);
    expect(again.map((r) => r.atMs)).toEqual(lostAt);
    expect(s.ua.accountStatus('line1')?.line.state).toBe('registering');
    // The server is back: the retry after the backoff (at most 60 s after a timeout of 32 s) registers.
    registrar.mode = 'answer';
    await s.clock.advance(32_000 + 60_000);
    expect(s.ua.accountStatus('line1')?.line.state).toBe('registered');
  });

  it('registers again over a new connection when the TCP flow to the registrar breaks', async () => {
    const s = setup({ account: { transport: 'tcp' } });
    const registrar = new ScriptedRegistrar(s.network, '10.0.0.2');
    await s.ua.start();
    await s.clock.advance(0);
    expect(s.ua.accountStatus('line1')?.line.state).toBe('registered');
    const regs = registrar.requests.filter((r) => r.request.method === 'REGISTER');
    expect(regs.map((r) => r.protocol)).toEqual(['tcp', 'tcp']);
    expect(regs[1]!.request.contact[0]!.uri.toString()).toBe('sip:1003@10.0.0.1:5060;transport=tcp');
    const connection = regs[1]!.connectionId!;
    s.network.breakConnection(connection);
    await s.clock.advance(0);
    expect(s.lost).toMatchObject([{ accountId: 'line1', reason: 'connection-closed' }]);
    expect(s.ua.accountStatus('line1')?.line.state).toBe('registered');
    const after = registrar.requests.filter((r) => r.request.method === 'REGISTER').slice(2);
    expect(after.length).toBeGreaterThanOrEqual(1);
    expect(after[0]!.connectionId).not.toBe(connection);
  });
});

describe('UserAgent: SIP trace', () => {
  it('records both directions: trace events, the pcap file, and the debug log with credentials redacted', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'offhook-ua-trace-'));
    cleanups.push(() => Promise.resolve(rmSync(dir, { recursive: true, force: true })));
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString('utf8'));
        done();
      },
    });
    const logger = pino({ level: 'debug' }, sink);
    const pcapFile = join(dir, 'sip.pcap');
    const s = setup({ account: {}, ua: { logger, trace: { pcapFile } } });
    new ScriptedRegistrar(s.network, '10.0.0.2');
    await s.ua.start();
    await s.clock.advance(0);
    const ladder = s.traces.map((t) => `${t.direction} ${summary(parsed(t))}`);
    expect(ladder).toEqual(['out REGISTER', 'in 401 REGISTER', 'out REGISTER', 'in 200 REGISTER']);
    expect(s.traces.every((t) => t.local.address === PHONE && t.remote.address === '10.0.0.2')).toBe(true);
    await s.ua.stop({ unregister: false });
    // pcap: the 24-byte file header, then one record (16-byte header + IPv4 + UDP + message) per message.
    const pcap = readFileSync(pcapFile);
    const sizes = s.traces.map((t) => 16 + 20 + 8 + t.bytes.length);
    expect(pcap.length).toBe(24 + sizes.reduce((a, b) => a + b, 0));
    const sipLines = lines.map((l) => JSON.parse(l) as { mod?: string; dir?: string; sip?: string }).filter((l) => l.mod === 'sip/trace');
    expect(sipLines.map((l) => l.dir)).toEqual(['out', 'in', 'out', 'in']);
    const authorized = sipLines[2]!.sip!;
    expect(authorized).toMatch(/^Authorization: Digest \[redacted\]$/m);
    expect(authorized).not.toMatch(/response=/);
  });
});

function parsed(t: TraceRecord): SipRequest | SipResponse {
  const r = parseMessage(t.bytes);
  if (!r.ok) throw r.error;
  return r.message;
}

function parsedRequest(t: TraceRecord): SipRequest {
  const m = parsed(t);
  if (m.kind !== 'request') throw new Error('expected a request');
  return m;
}

function summary(m: SipRequest | SipResponse): string {
  return m.kind === 'request' ? m.method : `${m.status} ${m.cseq.method}`;
}
