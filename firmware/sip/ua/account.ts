// One SIP account's settings (identity, credentials, registrar, outbound proxy, transport, timers), validated into typed values.
import { type SipUri, parseUri, unescapeUri } from '../message/index.js';

export type AccountTransport = 'udp' | 'tcp' | 'tls';

/**
 * Message waiting (RFC 3842) of an account: 'subscribe' sends SUBSCRIBE message-summary for the
 * mailbox (and takes unsolicited NOTIFYs too); 'listen' only takes the unsolicited NOTIFYs a
 * registrar sends after REGISTER (Asterisk, FreeSWITCH); 'off' refuses them.
 */
export type AccountMwiMode = 'subscribe' | 'listen' | 'off';

/** An account as written in the config (strings and numbers); Account.from() checks and types it. */
export interface AccountSettings {
  /** Names the account in logs and in the RegistrationManager. Default: the AOR. */
  id?: string | undefined;
  /** Address of record, e.g. "sip:1003@test.local" (RFC 3261 §10.2: To and From of REGISTER). */
  aor: string;
  displayName?: string | undefined;
  /** The digest user name (RFC 3261 §22.4). Default: the user part of the AOR. */
  authUsername?: string | undefined;
  password: string;
  /** Realms the credentials may be given to. Default: learned from the registrar (see DigestClient). */
  realms?: readonly string[] | undefined;
  /** The registrar's URI, the REGISTER Request-URI (RFC 3261 §10.2). Default: "sip:" + the AOR's host. */
  registrar?: string | undefined;
  /** Every request of the account goes through it, as a loose-routing Route (RFC 3261 §8.1.2). */
  outboundProxy?: string | undefined;
  /** Default "udp". Put on the first hop's URI as a transport parameter unless it already has one. */
  transport?: AccountTransport | undefined;
  /** Registration interval asked for, in seconds. Default 3600 (what desk phones commonly ask; Kamailio's default max is 3600). */
  expiresS?: number | undefined;
  /** Register this account at all (false: calls only, e.g. a peer-to-peer line). Default true. */
  register?: boolean | undefined;
  /** SIP Outbound (RFC 5626): +sip.instance and reg-id on the Contact, "Supported: outbound, path". Default false. */
  outbound?: boolean | undefined;
  /**
   * The device's instance id, "urn:uuid:..." (RFC 5626 §4.1; RFC 4122). Required with outbound: it
   * must stay the same across reboots, so it is derived by the caller from the device, never made up here.
   */
  instanceId?: string | undefined;
  /** RFC 5626 §4.2: the flow's reg-id, a positive integer. Default 1. */
  regId?: number | undefined;
  /**
   * Message waiting. Default: 'subscribe' when a mailbox is configured, else 'listen' — what desk
   * phones do: most PBXes send unsolicited NOTIFYs after REGISTER, and a SUBSCRIBE to a server
   * that does not take one only earns 489s and retries.
   */
  mwi?: AccountMwiMode | undefined;
  /** The voicemail resource to subscribe to (RFC 3842 §4.1), e.g. "sip:*97@pbx.example.com". Default: the AOR. */
  mailbox?: string | undefined;
  /** How this account's calls send DTMF: 'rfc4733' (in the media) or 'info' (SIP INFO, application/dtmf-relay). Default: the UA's calls.dtmf. */
  dtmf?: 'rfc4733' | 'info' | undefined;
}

/** A setting that cannot be used, with the field's name and what was expected. */
export class AccountError extends Error {
  constructor(
    readonly field: string,
    readonly reason: string,
  ) {
    super(`account setting ${field}: ${reason}`);
    this.name = 'AccountError';
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const MAX_EXPIRES_S = 4294967295; // delta-seconds is a 32-bit value (RFC 3261 §20.19)

function sipUriSetting(field: string, text: string): SipUri {
  const r = parseUri(text.trim());
  if (!r.ok) throw new AccountError(field, `not a URI (${r.error.reason}): ${JSON.stringify(text)}`);
  if (r.uri.kind !== 'sip') throw new AccountError(field, `a sip: or sips: URI is expected, got ${JSON.stringify(text)}`);
  return r.uri;
}

/**
 * The typed settings of one account. The password is held in a private field: it is not an
 * enumerable property, and toJSON() leaves it out, so logging an Account never prints it.
 */
export class Account {
  static readonly DEFAULT_EXPIRES_S = 3600;

  readonly id: string;
  /** user@host[:port], without parameters. */
  readonly aor: SipUri;
  readonly displayName: string | undefined;
  readonly authUsername: string;
  readonly realms: readonly string[];
  /** The REGISTER Request-URI (no user part, RFC 3261 §10.2). */
  readonly registrar: SipUri;
  /** With ";lr" (we always loose-route through it) and the transport parameter when not UDP. */
  readonly outboundProxy: SipUri | undefined;
  readonly transport: AccountTransport;
  readonly expiresS: number;
  readonly register: boolean;
  readonly outbound: boolean;
  /** "urn:uuid:..." in lower case, when set. */
  readonly instanceId: string | undefined;
  readonly regId: number;
  readonly mwi: AccountMwiMode;
  /** The resource a message-summary subscription goes to, when it is not the AOR. */
  readonly mailbox: SipUri | undefined;
  /** DTMF for this account's calls, when it has its own (else the UA's calls.dtmf). */
  readonly dtmf: 'rfc4733' | 'info' | undefined;
  readonly #password: string;

  private constructor(init: Omit<Account, 'password' | 'toJSON' | 'nextHop' | 'serverHosts'> & { password: string }) {
    this.id = init.id;
    this.aor = init.aor;
    this.displayName = init.displayName;
    this.authUsername = init.authUsername;
    this.realms = init.realms;
    this.registrar = init.registrar;
    this.outboundProxy = init.outboundProxy;
    this.transport = init.transport;
    this.expiresS = init.expiresS;
    this.register = init.register;
    this.outbound = init.outbound;
    this.instanceId = init.instanceId;
    this.regId = init.regId;
    this.mwi = init.mwi;
    this.mailbox = init.mailbox;
    this.dtmf = init.dtmf;
    this.#password = init.password;
  }

  /** Checks the settings; throws AccountError naming the first bad field. */
  static from(s: AccountSettings): Account {
    const aorUri = sipUriSetting('aor', s.aor);
    if (aorUri.user === undefined || aorUri.user === '') throw new AccountError('aor', `needs a user part, e.g. "sip:1003@test.local", got ${JSON.stringify(s.aor)}`);
    const aor = aorUri.with({ password: undefined, params: undefined, headers: undefined });
    if (typeof s.password !== 'string') throw new AccountError('password', 'a string is expected');
    const transport = s.transport ?? 'udp';
    if (!['udp', 'tcp', 'tls'].includes(transport)) throw new AccountError('transport', `udp, tcp or tls expected, got ${JSON.stringify(transport)}`);

    let registrar = s.registrar !== undefined ? sipUriSetting('registrar', s.registrar) : aor.with({ user: undefined });
    if (registrar.user !== undefined) throw new AccountError('registrar', 'the registrar URI has no user part (RFC 3261 §10.2)');
    let outboundProxy = s.outboundProxy !== undefined ? sipUriSetting('outboundProxy', s.outboundProxy) : undefined;
    if (outboundProxy && !outboundProxy.lr) outboundProxy = outboundProxy.with({ params: outboundProxy.params.with('lr', null) });
    // The first hop carries the transport choice (RFC 3263 §4.1 honours an explicit transport parameter).
    const withTransport = (u: SipUri): SipUri => (transport === 'udp' || u.transport !== undefined ? u : u.with({ params: u.params.with('transport', transport) }));
    if (outboundProxy) outboundProxy = withTransport(outboundProxy);
    else registrar = withTransport(registrar);

    const expiresS = s.expiresS ?? Account.DEFAULT_EXPIRES_S;
    if (!Number.isInteger(expiresS) || expiresS < 1 || expiresS > MAX_EXPIRES_S) throw new AccountError('expiresS', `a whole number of seconds from 1 to ${MAX_EXPIRES_S} is expected, got ${expiresS}`);
    const regId = s.regId ?? 1;
    if (!Number.isInteger(regId) || regId < 1 || regId > MAX_EXPIRES_S) throw new AccountError('regId', `a positive integer is expected (RFC 5626 §4.2), got ${regId}`);

    let instanceId: string | undefined;
    if (s.instanceId !== undefined) {
      const text = s.instanceId.trim().toLowerCase();
      const uuid = text.startsWith('urn:uuid:') ? text.slice(9) : text;
      if (!UUID.test(uuid)) throw new AccountError('instanceId', `"urn:uuid:" and a UUID expected (RFC 5626 §4.1), got ${JSON.stringify(s.instanceId)}`);
      instanceId = `urn:uuid:${uuid}`;
    }
    const outbound = s.outbound ?? false;
    if (outbound && instanceId === undefined) throw new AccountError('instanceId', 'required when outbound is on: RFC 5626 §4.1 needs an instance id that stays the same across reboots');

    const realms = [...(s.realms ?? [])];
    for (const r of realms) if (typeof r !== 'string' || r === '') throw new AccountError('realms', 'non-empty strings expected');

    const mailbox = s.mailbox !== undefined ? sipUriSetting('mailbox', s.mailbox) : undefined;
    const mwi = s.mwi ?? (mailbox ? 'subscribe' : 'listen');
    if (!['subscribe', 'listen', 'off'].includes(mwi)) throw new AccountError('mwi', `subscribe, listen or off expected, got ${JSON.stringify(mwi)}`);
    // Settings come from a config file: the type does not stop a wrong string.
    if (s.dtmf !== undefined && !['rfc4733', 'info'].includes(s.dtmf)) throw new AccountError('dtmf', `rfc4733 or info expected, got ${JSON.stringify(s.dtmf)}`);

    return new Account({
      id: s.id ?? aor.toString(),
      aor,
      displayName: s.displayName,
      authUsername: s.authUsername ?? unescapeUri(aor.user ?? ''),
      realms,
      registrar,
      outboundProxy,
      transport,
      expiresS,
      register: s.register ?? true,
      outbound,
      instanceId,
      regId,
      mwi,
      mailbox,
      dtmf: s.dtmf,
      password: s.password,
    });
  }

  /** The secret, for the DigestClient only. */
  get password(): string {
    return this.#password;
  }

  /** The URI requests are sent towards first: the outbound proxy, else the registrar. */
  get nextHop(): SipUri {
    return this.outboundProxy ?? this.registrar;
  }

  /** Hosts of the configured servers (registrar, outbound proxy), lower case. */
  get serverHosts(): string[] {
    const hosts = [this.registrar.host.toLowerCase()];
    if (this.outboundProxy) hosts.push(this.outboundProxy.host.toLowerCase());
    return [...new Set(hosts)];
  }

  /** Everything but the password, for logs and status pages. */
  toJSON(): Record<string, unknown> {
    return {
      id: this.id,
      aor: this.aor.toString(),
      displayName: this.displayName,
      authUsername: this.authUsername,
      realms: this.realms,
      registrar: this.registrar.toString(),
      outboundProxy: this.outboundProxy?.toString(),
      transport: this.transport,
      expiresS: this.expiresS,
      register: this.register,
      outbound: this.outbound,
      instanceId: this.instanceId,
      regId: this.regId,
      mwi: this.mwi,
      mailbox: this.mailbox?.toString(),
      dtmf: this.dtmf,
    };
  }
}
