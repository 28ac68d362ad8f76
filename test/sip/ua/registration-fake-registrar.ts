// A scripted registrar peer for registration tests: a RequestSender that checks digests with node:crypto on its own.
import { createHash } from 'node:crypto';
import {
  AuthValue,
  NameAddr,
  Params,
  type SipRequest,
  SipResponse,
  Via,
  createResponse,
  parseMessage,
  serializeMessage,
  uriEquals,
} from '../../../firmware/sip/message/index.js';
import type { RequestOutcome, RequestSender } from '../../../firmware/sip/ua/request-sender.js';
import type { VirtualClock } from '../../../firmware/util/clock.js';

/** Hash names by digest algorithm, written here again on purpose: the registrar must not share code with the client. */
const HASHES: Record<string, string> = { 'md5': 'md5', 'sha-256': 'sha256', 'sha-512-256': 'sha512-256' };

function h(alg: string, data: string | Uint8Array): string {
  const base = alg.toLowerCase().replace(/-sess$/, '');
  const name = HASHES[base];
  if (!name) throw new Error(`test registrar: no hash for ${alg}`);
  return createHash(name).update(data).digest('hex');
}

/** The request-digest of RFC 7616 §3.4.1, computed from the password, independently of firmware/sip/auth. */
export function expectedDigest(auth: AuthValue, o: { method: string; password: string; username: string; body?: Uint8Array }): string {
  const p = (n: string): string => auth.get(n) ?? '';
  const alg = auth.get('algorithm') ?? 'MD5';
  let ha1 = h(alg, `${o.username}:${p('realm')}:${o.password}`);
  if (/-sess$/i.test(alg)) ha1 = h(alg, `${ha1}:${p('nonce')}:${p('cnonce')}`);
  const qop = auth.get('qop');
  const a2 = qop === 'auth-int' ? `${o.method}:${p('uri')}:${h(alg, o.body ?? new Uint8Array(0))}` : `${o.method}:${p('uri')}`;
  const ha2 = h(alg, a2);
  return qop === undefined ? h(alg, `${ha1}:${p('nonce')}:${ha2}`) : h(alg, `${ha1}:${p('nonce')}:${p('nc')}:${p('cnonce')}:${qop}:${ha2}`);
}

export interface Received {
  atMs: number;
  request: SipRequest;
}

/** What the registrar does with a request instead of its normal behaviour. */
export type Override = { respond: number; headers?: [string, string][]; reason?: string } | { timeout: true } | { transportError: string };

export interface FakeRegistrarOptions {
  clock: VirtualClock;
  realm?: string;
  /** Auth user → password. */
  users?: Record<string, string>;
  /** The challenges of a 401/407, top first (each a Digest challenge with this algorithm; undefined: no algorithm param). */
  algorithms?: (string | undefined)[];
  /** 'www' answers 401 / WWW-Authenticate, 'proxy' answers 407 / Proxy-Authenticate. */
  kind?: 'www' | 'proxy';
  qop?: string | undefined;
  /** Longest interval granted (like Kamailio's max_expires). */
  maxExpiresS?: number;
  /** Shorter intervals get 423 (RFC 3261 §10.3 step 7). */
  minExpiresS?: number;
  /** How the granted interval is told: Contact params (default), Expires header only, or not at all. */
  grantIn?: 'contact' | 'expires-header' | 'nothing';
  /** Timer F of the client transaction, for timeouts (RFC 3261 §17.1.2.2: 64 * T1). */
  timeoutMs?: number;
}

interface Binding {
  contact: NameAddr;
  expiresAtMs: number;
}

/**
 * Behaves like a registrar with digest auth (RFC 3261 §10.3, §22): challenges requests without
 * valid credentials, checks the response from the password, nonce counts, nonce expiry (stale),
 * Min-Expires, and keeps bindings. Every request goes through serialize + parse, as on the wire.
 */
export class FakeRegistrar implements RequestSender {
  readonly received: Received[] = [];
  /** One-shot behaviours, used in order before the normal ones. */
  readonly overrides: Override[] = [];
  /** When set, every request gets this (a registrar that is down). */
  always: Override | undefined;
  readonly bindings = new Map<string, Binding[]>();
  realm: string;
  users: Record<string, string>;
  /** Issued nonces: false once expired (answered with stale=true). */
  private readonly nonces = new Map<string, { valid: boolean; lastNc: number }>();
  private nonceSeq = 0;
  /** Answer the next valid credentials with stale=true this many times (nonce expired meanwhile). */
  staleNext = 0;
  private readonly o: Required<Omit<FakeRegistrarOptions, 'qop' | 'realm' | 'users'>> & { qop: string | undefined };

  constructor(options: FakeRegistrarOptions) {
    this.realm = options.realm ?? 'test.local';
    this.users = options.users ?? { '1003': 'secret-1003' };
    this.o = {
      clock: options.clock,
      algorithms: options.algorithms ?? ['MD5'],
      kind: options.kind ?? 'www',
      qop: 'qop' in options ? options.qop : 'auth',
      maxExpiresS: options.maxExpiresS ?? 3600,
      minExpiresS: options.minExpiresS ?? 60,
      grantIn: options.grantIn ?? 'contact',
      timeoutMs: options.timeoutMs ?? 32_000,
    };
  }

  /** The REGISTERs received, parsed. */
  get requests(): SipRequest[] {
    return this.received.map((r) => r.request);
  }

  /** Marks every nonce issued so far as expired. */
  expireNonces(): void {
    for (const n of this.nonces.values()) n.valid = false;
  }

  async send(request: SipRequest): Promise<RequestOutcome> {
    // What the transaction layer does: a Via with a branch on top, then the wire.
    const out = request.clone().prepend('Via', new Via({ transport: 'UDP', host: '192.0.2.10', port: 5060, params: Params.from({ branch: `z9hG4bK${this.received.length}`, rport: null }) }));
    const parsed = parseMessage(serializeMessage(out));
    if (!parsed.ok || parsed.message.kind !== 'request') throw new Error(`test registrar: unparsable request: ${parsed.ok ? 'a response' : parsed.error.message}`);
    const req = parsed.message;
    this.received.push({ atMs: this.o.clock.now(), request: req });
    const o = this.overrides.shift() ?? this.always;
    if (o) {
      if ('timeout' in o) {
        await this.o.clock.sleep(this.o.timeoutMs);
        return { kind: 'timeout' };
      }
      if ('transportError' in o) return { kind: 'transport-error', error: new Error(o.transportError) };
      return this.reply(req, o.respond, o.headers ?? [], o.reason);
    }
    return this.handle(req);
  }

  private reply(req: SipRequest, status: number, headers: [string, string][], reason?: string): RequestOutcome {
    const res = createResponse(req, { status, toTag: 'reg1', headers, ...(reason !== undefined ? { reason } : {}) });
    const parsed = parseMessage(serializeMessage(res));
    if (!parsed.ok || !(parsed.message instanceof SipResponse)) throw new Error('test registrar: unparsable response');
    return { kind: 'response', response: parsed.message };
  }

  private challenge(req: SipRequest, stale: boolean): RequestOutcome {
    const headerName = this.o.kind === 'www' ? 'WWW-Authenticate' : 'Proxy-Authenticate';
    const headers: [string, string][] = [];
    for (const alg of this.o.algorithms) {
      const nonce = `n${++this.nonceSeq}x${this.o.clock.now()}`;
      this.nonces.set(nonce, { valid: true, lastNc: 0 });
      const list = [{ name: 'realm', value: this.realm, quoted: true }, { name: 'nonce', value: nonce, quoted: true }, { name: 'opaque', value: 'op-aque', quoted: true }];
      if (alg !== undefined) list.push({ name: 'algorithm', value: alg, quoted: false });
      if (this.o.qop !== undefined) list.push({ name: 'qop', value: this.o.qop, quoted: true });
      if (stale) list.push({ name: 'stale', value: 'true', quoted: false });
      headers.push([headerName, new AuthValue('Digest', Params.of(list)).toString()]);
    }
    return this.reply(req, this.o.kind === 'www' ? 401 : 407, headers);
  }

  /** Checks the credentials; returns the challenge to send, or undefined when they are good. */
  private authenticate(req: SipRequest): RequestOutcome | undefined {
    const creds = (this.o.kind === 'www' ? req.authorization : req.proxyAuthorization).find((a) => a.isDigest && a.get('realm') === this.realm);
    if (!creds) return this.challenge(req, false);
    const username = creds.get('username') ?? '';
    const password = this.users[username];
    const nonce = this.nonces.get(creds.get('nonce') ?? '');
    if (password === undefined || !nonce) return this.challenge(req, false);
    if (creds.get('uri') !== req.uri.toString()) return this.reply(req, 400, [], 'Bad digest-uri');
    if (creds.get('opaque') !== 'op-aque') return this.challenge(req, false);
    if (creds.get('response') !== expectedDigest(creds, { method: req.method, password, username, body: req.body })) return this.challenge(req, false);
    // Correct credentials on an expired nonce: RFC 7616 §3.3 stale=true.
    if (!nonce.valid) return this.challenge(req, true);
    if (this.staleNext > 0) {
      this.staleNext--;
      nonce.valid = false;
      return this.challenge(req, true);
    }
    if (this.o.qop !== undefined) {
      const nc = parseInt(creds.get('nc') ?? '0', 16);
      if (!(nc > nonce.lastNc)) return this.challenge(req, false); // a replayed nonce count
      nonce.lastNc = nc;
    }
    return undefined;
  }

  private handle(req: SipRequest): RequestOutcome {
    const challenge = this.authenticate(req);
    if (challenge) return challenge;
    const aor = req.to.uri.toString();
    const now = this.o.clock.now();
    const current = (this.bindings.get(aor) ?? []).filter((b) => b.expiresAtMs > now);
    const headerExpires = req.expires;
    for (const c of req.contact) {
      const asked = Number(c.params.get('expires') ?? headerExpires ?? 3600);
      if (asked > 0 && asked < this.o.minExpiresS) return this.reply(req, 423, [['Min-Expires', String(this.o.minExpiresS)]]);
    }
    for (const c of req.contact) {
      const asked = Number(c.params.get('expires') ?? headerExpires ?? 3600);
      const granted = Math.min(asked, this.o.maxExpiresS);
      const i = current.findIndex((b) => uriEquals(b.contact.uri, c.uri));
      if (i >= 0) current.splice(i, 1);
      if (granted > 0) current.push({ contact: new NameAddr({ displayName: c.displayName, uri: c.uri, params: c.params.without('expires') }), expiresAtMs: now + granted * 1000 });
    }
    this.bindings.set(aor, current);
    const headers: [string, string][] = [];
    for (const b of current) {
      const left = Math.round((b.expiresAtMs - now) / 1000);
      const contact = this.o.grantIn === 'contact' ? b.contact.withParam('expires', String(left)) : b.contact;
      headers.push(['Contact', contact.toString()]);
    }
    if (this.o.grantIn === 'expires-header' && current[0]) headers.push(['Expires', String(Math.round((current[0].expiresAtMs - now) / 1000))]);
    return this.reply(req, 200, headers);
  }

  /** The live bindings of an AOR as Contact URIs. */
  contactsOf(aor: string): string[] {
    const now = this.o.clock.now();
    return (this.bindings.get(aor) ?? []).filter((b) => b.expiresAtMs > now).map((b) => b.contact.uri.toString());
  }
}

