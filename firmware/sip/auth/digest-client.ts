// The digest client of one account: answers 401/407 challenges, only for the account's own realm(s), and keeps nonce counts.
import type { Logger } from '../../util/log.js';
import { silentLogger } from '../../util/log.js';
import { AuthValue, type Param, Params, type SipRequest, type SipResponse } from '../message/index.js';
import { type ChallengeKind, type DigestChallenge, chooseChallenge, credentialsHeader, readChallenges } from './challenge.js';
import { type DigestAlgorithm, DIGEST_ALGORITHMS, computeDigestResponse, formatNonceCount, hashUsername, isSessionAlgorithm } from './digest.js';

/** Random bytes (node:crypto randomBytes in the phone, a seeded source in tests). */
export type RandomBytes = (size: number) => Uint8Array;

export interface DigestClientOptions {
  /** The user name the digest is computed with (RFC 3261 §22.4 "username"): the account's auth user. */
  authUsername: string;
  password: string;
  /**
   * Realms the credentials may be given to, compared exactly (realms are case-sensitive quoted
   * strings, RFC 7616 §3.3). Empty or absent: learned, see DigestClient.
   */
  realms?: readonly string[] | undefined;
  /**
   * Next-hop hosts (registrar, outbound proxy) whose challenges count as coming from the
   * configured server even when the caller's route says otherwise. Compared case-insensitively.
   */
  hosts?: readonly string[] | undefined;
  /** Algorithms we agree to answer with (all of DIGEST_ALGORITHMS by default; drop MD5 to refuse it). */
  algorithms?: readonly DigestAlgorithm[] | undefined;
  /**
   * Reuse the last nonce of a realm on later requests of the account, with the nonce count
   * incremented (RFC 7616 §3.4, §5.4), so that a refresh costs one REGISTER instead of two.
   * Default true. A server that refuses a reused nonce just challenges again.
   */
  preemptive?: boolean | undefined;
  randomBytes: RandomBytes;
  logger?: Logger | undefined;
}

/** Where a request goes, said by the caller that routes it. */
export interface ExchangeRoute {
  /**
   * True when the request is sent to (and so its responses come back through) the registrar or
   * outbound proxy the account is configured with: a REGISTER, or any request routed via the
   * outbound proxy. False for a request sent straight to a peer (a BYE to a UA reached directly).
   */
  fromConfiguredServer: boolean;
  /** The host the request was sent to; trusted when it is one of DigestClientOptions.hosts. */
  peerHost?: string | undefined;
}

/** A challenge we did not answer, with a line a person can act on. */
export interface ChallengeRefusal {
  readonly reason: 'untrusted-source' | 'foreign-realm' | 'unsupported';
  readonly kind: ChallengeKind;
  readonly realm: string | undefined;
  /** e.g. 'challenge from realm "evil" not answered: credentials are for "test.local"'. */
  readonly message: string;
}

/** What to do after a 401 / 407. */
export type ChallengeOutcome =
  /** Send the request again (new CSeq) and call authorize() on it: credentials for these realms are ready. */
  | { kind: 'retry'; realms: string[]; stale: boolean; refusals: ChallengeRefusal[] }
  /**
   * The server challenged again a realm we had answered with a nonce from this exchange: the
   * credentials are wrong (RFC 7616 §3.3: not stale means "the username and/or password are
   * invalid"), or the nonce went stale twice in a row. Do not retry by yourself.
   */
  | { kind: 'rejected'; realm: string; why: 'credentials-rejected' | 'stale-again'; message: string; refusals: ChallengeRefusal[] }
  /** Nothing in the response may or can be answered. */
  | { kind: 'refused'; refusals: ChallengeRefusal[]; message: string };

interface CachedChallenge {
  challenge: DigestChallenge;
  /** Requests sent with this nonce so far (RFC 7616 §3.4 nc). */
  nc: number;
  /** For "-sess": the cnonce HA1 was computed with, kept for the nonce's lifetime (RFC 7616 §3.4.2). */
  sessionCnonce: string | undefined;
}

function keyOf(kind: ChallengeKind, realm: string): string {
  return `${kind} ${realm}`;
}

function quoteList(realms: readonly string[]): string {
  return realms.length === 0 ? 'the realm of the configured registrar/proxy (not yet known)' : realms.map((r) => JSON.stringify(r)).join(', ');
}

/** Puts value in place of the request's credentials of the same realm, keeping the others in order. */
function replaceCredentials(request: SipRequest, header: string, realm: string, value: AuthValue): void {
  const key = header.toLowerCase();
  const keep: string[] = [];
  for (const f of request.fields) {
    if (f.key !== key) continue;
    let other: string | undefined;
    try {
      const v = f.parsed();
      if (v instanceof AuthValue) other = v.get('realm');
    } catch {
      other = undefined; // malformed: not ours, kept as it is
    }
    if (other !== realm) keep.push(f.value);
  }
  request.remove(header);
  for (const v of keep) request.append(header, v);
  request.append(header, value);
}

/**
 * Digest authentication for one account (RFC 3261 §22, RFC 7616, RFC 8760).
 *
 * Which challenges get an answer — credentials go only to the account's own server:
 * 1. The challenge must arrive on a route the caller marks fromConfiguredServer (or from a host
 *    listed in `hosts`). A challenge from anywhere else (a peer challenging our BYE on a direct
 *    call) is refused with reason 'untrusted-source', whatever its realm.
 * 2. Its realm must be allowed. With `realms` configured, exactly those. Without, the client
 *    learns them once: the realms of the first 401/407 that arrives from the configured server
 *    (all the Digest realms of that one response, so a 401 and a 407 forwarded together both
 *    count) become the account's realms for the client's lifetime. Any other realm is refused
 *    with reason 'foreign-realm', even from the configured server.
 * 3. Schemes other than Digest, unknown algorithms, algorithms not in `algorithms` and qop values
 *    other than auth / auth-int are refused as 'unsupported' (RFC 8760 §2.4: ignored).
 * Refusals are returned, and logged at warn, never answered with a digest.
 */
export class DigestClient {
  private readonly authUsername: string;
  private readonly password: string;
  private readonly configuredRealms: readonly string[];
  private readonly learnedRealms = new Set<string>();
  private readonly hosts: readonly string[];
  private readonly algorithms: ReadonlySet<DigestAlgorithm>;
  private readonly preemptive: boolean;
  private readonly randomBytes: RandomBytes;
  private readonly log: Logger;
  /** Last challenge per header kind and realm: what authorize() answers. */
  private readonly cache = new Map<string, CachedChallenge>();

  constructor(options: DigestClientOptions) {
    this.authUsername = options.authUsername;
    this.password = options.password;
    this.configuredRealms = [...(options.realms ?? [])];
    this.hosts = (options.hosts ?? []).map((h) => h.toLowerCase());
    this.algorithms = new Set(options.algorithms ?? DIGEST_ALGORITHMS);
    this.preemptive = options.preemptive ?? true;
    this.randomBytes = options.randomBytes;
    this.log = (options.logger ?? silentLogger()).child({ mod: 'sip/auth' });
  }

  /** The realms credentials may go to: configured, or learned (empty until the first challenge). */
  get realms(): readonly string[] {
    return this.configuredRealms.length > 0 ? this.configuredRealms : [...this.learnedRealms];
  }

  /** One request and the re-sends it takes to get through authentication. */
  begin(route: ExchangeRoute): DigestExchange {
    return new DigestExchange(this, route);
  }

  /** Drops every remembered nonce (the next request goes without credentials). */
  forget(): void {
    this.cache.clear();
  }

  // --- used by DigestExchange -------------------------------------------------------------

  /** @internal */
  trusts(route: ExchangeRoute): boolean {
    if (route.fromConfiguredServer) return true;
    return route.peerHost !== undefined && this.hosts.includes(route.peerHost.toLowerCase());
  }

  /** @internal Rule 2: the realms of the first trusted challenging response become ours. */
  learn(realms: readonly string[]): void {
    if (this.configuredRealms.length > 0 || this.learnedRealms.size > 0) return;
    for (const r of realms) this.learnedRealms.add(r);
    if (realms.length > 0) this.log.info({ realms }, 'digest credentials bound to realm(s) of the configured server');
  }

  /** @internal */
  allowsRealm(realm: string): boolean {
    return this.realms.includes(realm);
  }

  /** @internal */
  allowsAlgorithm(algorithm: DigestAlgorithm): boolean {
    return this.algorithms.has(algorithm);
  }

  /** @internal */
  store(challenge: DigestChallenge): void {
    const sessionCnonce = isSessionAlgorithm(challenge.algorithm) ? this.newCnonce() : undefined;
    this.cache.set(keyOf(challenge.kind, challenge.realm), { challenge, nc: 0, sessionCnonce });
  }

  /** @internal */
  drop(kind: ChallengeKind, realm: string): void {
    this.cache.delete(keyOf(kind, realm));
  }

  /**
   * @internal The challenges to answer on a request: those an exchange received itself (keys),
   * and when preemptive, every remembered one.
   */
  entries(keys: ReadonlySet<string>): [string, CachedChallenge][] {
    return [...this.cache].filter(([k]) => this.preemptive || keys.has(k));
  }

  /** @internal Fills in the credentials of one remembered challenge for a request. */
  credentials(entry: CachedChallenge, request: SipRequest): AuthValue {
    const c = entry.challenge;
    entry.nc += 1;
    const uri = request.uri.toString();
    const cnonce = c.qop === undefined ? undefined : (entry.sessionCnonce ?? this.newCnonce());
    const response = computeDigestResponse({
      algorithm: c.algorithm,
      username: this.authUsername,
      realm: c.realm,
      password: this.password,
      method: request.method,
      uri,
      nonce: c.nonce,
      qop: c.qop,
      nc: c.qop === undefined ? undefined : entry.nc,
      cnonce,
      body: request.body,
    });
    const q = (name: string, value: string): Param => ({ name, value, quoted: true });
    const t = (name: string, value: string): Param => ({ name, value, quoted: false });
    // RFC 8760 §2.6 / RFC 3261 §25.1 dig-resp: qop, nc and algorithm are tokens, the rest quoted.
    const list: Param[] = [
      q('username', c.userhash ? hashUsername(c.algorithm, this.authUsername, c.realm) : this.authUsername),
      q('realm', c.realm),
      q('nonce', c.nonce),
      q('uri', uri),
      q('response', response),
    ];
    // Echo the algorithm as the challenge named it; a challenge without one implies MD5 (RFC 2617 §3.2.1).
    if (c.algorithmToken !== undefined) list.push(t('algorithm', c.algorithmToken));
    if (c.qop !== undefined && cnonce !== undefined) list.push(q('cnonce', cnonce), t('qop', c.qop), t('nc', formatNonceCount(entry.nc)));
    // RFC 7616 §3.4: opaque is returned unchanged.
    if (c.opaque !== undefined) list.push(q('opaque', c.opaque));
    if (c.userhash) list.push(t('userhash', 'true'));
    return new AuthValue('Digest', Params.of(list));
  }

  /** @internal */
  logger(): Logger {
    return this.log;
  }

  private newCnonce(): string {
    // RFC 7616 §3.4: an opaque quoted string chosen by the client; 128 random bits.
    return Buffer.from(this.randomBytes(16)).toString('hex');
  }
}

/**
 * One request and its authenticated re-sends (RFC 3261 §22.2, §22.3): authorize() before each
 * send, onChallenge() on each 401 / 407. Remembers which realms it answered with a nonce it
 * received itself, so that a second non-stale challenge for them means wrong credentials.
 */
export class DigestExchange {
  /** Nonces received in this exchange, per header kind and realm. */
  private readonly fresh = new Map<string, string>();
  /** What the last authorized request carried, per header kind and realm. */
  private readonly sent = new Map<string, string>();
  private readonly staleRetried = new Set<string>();

  constructor(
    private readonly client: DigestClient,
    readonly route: ExchangeRoute,
  ) {}

  /**
   * Adds Authorization / Proxy-Authorization values to a request about to be sent: one per
   * remembered realm (RFC 3261 §22.3), replacing older ones of the same realm. Nothing is added
   * on a route the client does not trust.
   */
  authorize(request: SipRequest): void {
    this.sent.clear();
    if (!this.client.trusts(this.route)) return;
    // Challenges answered in this exchange, plus (preemptive) what earlier exchanges learned.
    const entries = this.client.entries(new Set(this.fresh.keys()));
    for (const [key, entry] of entries) {
      const header = credentialsHeader(entry.challenge.kind);
      const value = this.client.credentials(entry, request);
      replaceCredentials(request, header, entry.challenge.realm, value);
      this.sent.set(key, entry.challenge.nonce);
    }
    if (entries.length > 0) this.client.logger().debug({ realms: entries.map(([, e]) => e.challenge.realm), method: request.method }, 'digest credentials added');
  }

  /** Reads the challenges of a 401 / 407 to this exchange's last request. */
  onChallenge(response: SipResponse): ChallengeOutcome {
    const log = this.client.logger();
    const refusals: ChallengeRefusal[] = [];
    // One refusal per reason, header kind and realm, however many algorithms were offered.
    const refuse = (r: ChallengeRefusal): void => {
      if (!refusals.some((x) => x.reason === r.reason && x.kind === r.kind && x.realm === r.realm && x.message === r.message)) refusals.push(r);
    };
    // Unsupported alternatives next to one we answer are routine (debug); anything else is worth a warning.
    const logRefusals = (answered: boolean): void => {
      for (const r of refusals) {
        if (answered && r.reason === 'unsupported') log.debug({ reason: r.reason, realm: r.realm }, r.message);
        else log.warn({ reason: r.reason, realm: r.realm }, r.message);
      }
    };
    const supported: DigestChallenge[] = [];
    for (const p of readChallenges(response)) {
      if (p.ok) supported.push(p.challenge);
      else
        refuse({
          reason: 'unsupported',
          kind: p.unsupported.kind,
          realm: p.unsupported.realm,
          message: `challenge${p.unsupported.realm !== undefined ? ` from realm ${JSON.stringify(p.unsupported.realm)}` : ''} ignored: ${p.unsupported.why}`,
        });
    }
    const trusted = this.client.trusts(this.route);
    if (trusted) this.client.learn([...new Set(supported.map((c) => c.realm))]);
    const groups = new Map<string, DigestChallenge[]>();
    for (const c of supported) {
      const allowed = this.client.realms;
      if (!trusted) {
        refuse({
          reason: 'untrusted-source',
          kind: c.kind,
          realm: c.realm,
          message: `challenge from realm ${JSON.stringify(c.realm)} not answered: it did not come through the configured registrar/proxy (credentials are for ${quoteList(allowed)})`,
        });
      } else if (!this.client.allowsRealm(c.realm)) {
        refuse({ reason: 'foreign-realm', kind: c.kind, realm: c.realm, message: `challenge from realm ${JSON.stringify(c.realm)} not answered: credentials are for ${quoteList(allowed)}` });
      } else if (!this.client.allowsAlgorithm(c.algorithm)) {
        refuse({ reason: 'unsupported', kind: c.kind, realm: c.realm, message: `challenge from realm ${JSON.stringify(c.realm)} ignored: algorithm ${c.algorithm} is disabled` });
      } else {
        const key = keyOf(c.kind, c.realm);
        const g = groups.get(key);
        if (g) g.push(c);
        else groups.set(key, [c]);
      }
    }
    const answered: DigestChallenge[] = [];
    for (const [key, candidates] of groups) {
      const best = chooseChallenge(candidates);
      if (!best) continue;
      const sentNonce = this.sent.get(key);
      // A realm we answered with a nonce the server gave us in this exchange, challenged again.
      if (sentNonce !== undefined && this.fresh.get(key) === sentNonce) {
        if (best.stale && !this.staleRetried.has(key)) {
          // RFC 7616 §3.3 stale=true: the credentials were right, the nonce expired: retry
          // once with the new nonce, without asking the user.
          this.staleRetried.add(key);
        } else {
          this.client.drop(best.kind, best.realm);
          const why = best.stale ? 'stale-again' : 'credentials-rejected';
          const message = why === 'stale-again' ? `realm ${JSON.stringify(best.realm)}: nonce stale again right after a stale retry` : `realm ${JSON.stringify(best.realm)}: credentials rejected`;
          logRefusals(false);
          log.warn({ realm: best.realm, status: response.status }, message);
          return { kind: 'rejected', realm: best.realm, why, message, refusals };
        }
      }
      this.client.store(best);
      this.fresh.set(key, best.nonce);
      answered.push(best);
    }
    logRefusals(answered.length > 0);
    if (answered.length === 0) {
      const message = refusals.length > 0 ? refusals.map((r) => r.message).join('; ') : `${response.status} without a Digest challenge`;
      return { kind: 'refused', refusals, message };
    }
    log.debug({ challenges: answered.map((c) => ({ kind: c.kind, realm: c.realm, algorithm: c.algorithm, qop: c.qop ?? null, stale: c.stale })) }, 'answering digest challenge');
    return { kind: 'retry', realms: answered.map((c) => c.realm), stale: answered.every((c) => c.stale), refusals };
  }
}
