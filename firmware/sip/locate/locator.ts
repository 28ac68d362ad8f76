// RFC 3263 server location: from a sip:/sips: URI (or a Via sent-by) to an ordered list of transport targets.
import { isIP } from 'node:net';
import type { Clock } from '../../util/clock.js';
import { type Logger, silentLogger } from '../../util/log.js';
import { type Uri, parseUri } from '../message/uri.js';
import type { TransportProtocol } from '../transport/transport.js';
import { type DnsResolver, type NaptrRecord, normalizeName } from './dns.js';
import { DnsLookupError, LocateError } from './errors.js';
import { type RandomSource, orderSrv } from './srv-order.js';
import { type ServerTarget, TargetBlacklist, TargetList } from './target-list.js';

export type AddressFamily = 4 | 6;

export interface ServerLocatorOptions {
  dns: DnsResolver;
  /** For the blacklist of failed targets. */
  clock: Clock;
  /** The transports the transport layer offers, in order of preference. Default udp, tcp, tls. */
  transports?: readonly TransportProtocol[] | undefined;
  /** Address families to look up (A for 4, AAAA for 6), in order of preference. Default [4, 6]. */
  families?: readonly AddressFamily[] | undefined;
  /** Uniform random in [0, 1) for the SRV weighted choice (RFC 2782). Default Math.random. */
  random?: RandomSource | undefined;
  /** How long a failed target stays blacklisted when the failure gives no time, ms. Default 60000. */
  blacklistMs?: number | undefined;
  log?: Logger | undefined;
}

/** A Via sent-by to send a response to (RFC 3263 §5, RFC 3261 §18.2.2). */
export interface SentBy {
  protocol: TransportProtocol;
  /** Host name or IP address (IPv6 with or without brackets). */
  host: string;
  port?: number | undefined;
}

const DEFAULT_PORT: Record<TransportProtocol, number> = { udp: 5060, tcp: 5060, tls: 5061 };

/** NAPTR services (RFC 3263 §4.1) to the transport they lead to. */
const NAPTR_SERVICES: Readonly<Record<string, { protocol: TransportProtocol; secure: boolean }>> = {
  'sip+d2u': { protocol: 'udp', secure: false },
  'sip+d2t': { protocol: 'tcp', secure: false },
  'sips+d2t': { protocol: 'tls', secure: true },
};

/** The SRV owner-name prefix for a transport (RFC 3263 §4.2: "_sips" for TLS). */
function srvPrefix(protocol: TransportProtocol): string {
  return protocol === 'udp' ? '_sip._udp' : protocol === 'tcp' ? '_sip._tcp' : '_sips._tcp';
}

/** A host as written in a URI or Via ("[2001:db8::1]", "Example.COM.") to the bare, comparable form. */
function bareHost(host: string): string {
  const h = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  return isIP(h) ? h.toLowerCase() : normalizeName(h);
}

/** What one resolution step found: targets, plus the DNS failures met on the way (to explain an empty result). */
interface Found {
  targets: ServerTarget[];
  errors: DnsLookupError[];
}

/**
 * Locates SIP servers per RFC 3263. One instance per UA: it holds the blacklist of targets that
 * failed, so that later requests try them last. Every call resolves afresh (wrap the DnsResolver
 * in a CachingDnsResolver to honour TTLs without re-querying).
 */
export class ServerLocator {
  readonly blacklist: TargetBlacklist;
  private readonly dns: DnsResolver;
  private readonly transports: readonly TransportProtocol[];
  private readonly families: readonly AddressFamily[];
  private readonly random: RandomSource;
  private readonly log: Logger;

  constructor(options: ServerLocatorOptions) {
    this.dns = options.dns;
    this.transports = options.transports ?? ['udp', 'tcp', 'tls'];
    this.families = options.families ?? [4, 6];
    this.random = options.random ?? Math.random;
    this.blacklist = new TargetBlacklist({ clock: options.clock, defaultDurationMs: options.blacklistMs });
    this.log = (options.log ?? silentLogger()).child({ mod: 'sip/locate' });
  }

  /**
   * The targets to send a request to (RFC 3263 §4), most preferred first. Accepts a parsed URI or
   * its text. Rejects with a LocateError when there is none: a tel: URI, a transport we lack, a
   * domain that does not exist, or DNS that does not answer.
   */
  async locate(target: Uri | string): Promise<TargetList> {
    const text = String(target);
    let uri: Uri;
    if (typeof target === 'string') {
      const parsed = parseUri(target);
      if (!parsed.ok) throw new LocateError({ code: 'UNSUPPORTED_URI', uri: text, reason: `malformed URI: ${parsed.error.message}` });
      uri = parsed.uri;
    } else uri = target;
    if (uri.kind !== 'sip') {
      throw new LocateError({ code: 'UNSUPPORTED_URI', uri: text, reason: `a ${uri.scheme}: URI has no server to locate (only sip: and sips:, RFC 3263 §4)` });
    }
    const secure = uri.scheme === 'sips';
    // RFC 3263 §4: "If the URI contains an maddr parameter, the maddr is the TARGET".
    const host = bareHost(uri.maddr ?? uri.host);
    const numeric = isIP(host) !== 0;
    const explicit = this.explicitProtocol(uri.transport, secure, text);
    if (secure && !explicit) this.defaultProtocol(true, text); // throws at once when TLS is not enabled
    const serverName = numeric ? undefined : host;

    let found: Found;
    if (numeric) {
      // §4.1: numeric IP and no transport: UDP for sip, TLS over TCP for sips. §4.2: the port of the URI or the default.
      const protocol = explicit ?? this.defaultProtocol(secure, text);
      found = { targets: [{ protocol, address: host, port: uri.port ?? DEFAULT_PORT[protocol], serverName }], errors: [] };
    } else if (uri.port !== undefined) {
      // §4.2: a port in the URI: A/AAAA lookups only, no NAPTR and no SRV.
      const protocol = explicit ?? this.defaultProtocol(secure, text);
      found = await this.addresses(host, protocol, uri.port, serverName);
    } else if (explicit) {
      // §4.2: transport given, no port: SRV for that transport, else A/AAAA on its default port.
      found = await this.srvThenAddresses(host, [explicit], explicit, serverName);
    } else {
      found = await this.naptrSrvAddresses(host, secure, text, serverName);
    }
    return this.finish(text, host, found);
  }

  /**
   * The targets to send a response to when the Via's sent-by names a host (RFC 3263 §5, used by
   * RFC 3261 §18.2.2 after received/rport): SRV for the Via's transport when no port is given
   * (no NAPTR), then A/AAAA; the port of the Via otherwise.
   */
  async locateSentBy(sentBy: SentBy): Promise<TargetList> {
    const host = bareHost(sentBy.host);
    const text = `${sentBy.protocol.toUpperCase()} ${sentBy.host}${sentBy.port !== undefined ? `:${sentBy.port}` : ''}`;
    const serverName = isIP(host) ? undefined : host;
    let found: Found;
    if (isIP(host)) found = { targets: [{ protocol: sentBy.protocol, address: host, port: sentBy.port ?? DEFAULT_PORT[sentBy.protocol], serverName }], errors: [] };
    else if (sentBy.port !== undefined) found = await this.addresses(host, sentBy.protocol, sentBy.port, serverName);
    else found = await this.srvThenAddresses(host, [sentBy.protocol], sentBy.protocol, serverName);
    return this.finish(text, host, found);
  }

  /** The transport= parameter to a protocol (RFC 3263 §4.1), refusing what we cannot do. */
  private explicitProtocol(param: string | undefined, secure: boolean, text: string): TransportProtocol | undefined {
    if (param === undefined) return undefined;
    const p = param.toLowerCase();
    let protocol: TransportProtocol;
    if (p === 'udp') {
      if (secure) throw new LocateError({ code: 'UNSUPPORTED_TRANSPORT', uri: text, reason: 'a sips: URI cannot be reached over UDP (RFC 3261 §26.2.2: TLS over TCP only)' });
      protocol = 'udp';
    } else if (p === 'tcp') {
      // §4.1: for a sips: URI, transport=tcp means TLS over TCP.
      protocol = secure ? 'tls' : 'tcp';
    } else if (p === 'tls') {
      // Not in RFC 3261's grammar any more, but still written by many (RFC 3261 §26.2.2 deprecates it).
      protocol = 'tls';
    } else {
      throw new LocateError({ code: 'UNSUPPORTED_TRANSPORT', uri: text, reason: `transport=${param} is not supported (we have ${this.transports.join(', ')})` });
    }
    if (!this.transports.includes(protocol)) {
      throw new LocateError({ code: 'UNSUPPORTED_TRANSPORT', uri: text, reason: `transport ${protocol.toUpperCase()} is not enabled (we have ${this.transports.join(', ')})` });
    }
    return protocol;
  }

  /**
   * §4.1 when nothing else decides: UDP for sip, TLS for sips. A phone configured without UDP uses
   * TCP instead, which every RFC 3261 server supports (§18).
   */
  private defaultProtocol(secure: boolean, text: string): TransportProtocol {
    const choices: TransportProtocol[] = secure ? ['tls'] : ['udp', 'tcp'];
    const p = choices.find((c) => this.transports.includes(c));
    if (!p) throw new LocateError({ code: 'UNSUPPORTED_TRANSPORT', uri: text, reason: secure ? 'a sips: URI needs TLS, which is not enabled' : 'neither UDP nor TCP is enabled' });
    return p;
  }

  /** §4.1 with no transport and no port: NAPTR, else SRV per supported transport, else A/AAAA on the default port. */
  private async naptrSrvAddresses(host: string, secure: boolean, text: string, serverName: string | undefined): Promise<Found> {
    const errors: DnsLookupError[] = [];
    let naptr: NaptrRecord[] = [];
    let domainMissing = false;
    try {
      naptr = (await this.dns.naptr(host)).records;
    } catch (err) {
      if (!(err instanceof DnsLookupError)) throw err;
      errors.push(err);
      // RFC 8020: below a name that does not exist nothing exists, so no SRV query can succeed.
      domainMissing = err.code === 'NXDOMAIN';
    }

    // §4.1: a sips: URI discards services without "SIPS"; a sip: URI keeps SIPS+D2T when TLS is
    // supported. Transports we lack are discarded, and so are records that are not terminal S or A
    // lookups (RFC 3403 §4.1 flags). Then by order, then preference, both ascending (RFC 3403 §4.1).
    const usable = naptr
      .flatMap((r) => {
        const svc = NAPTR_SERVICES[r.service.toLowerCase()];
        const flag = r.flags.toLowerCase();
        if (!svc || (secure && !svc.secure) || !this.transports.includes(svc.protocol)) return [];
        if ((flag !== 's' && flag !== 'a') || r.replacement === '' || r.replacement === '.') return [];
        return [{ r, protocol: svc.protocol, flag }];
      })
      .sort((a, b) => a.r.order - b.r.order || a.r.preference - b.r.preference);
    this.log.debug({ host, naptr: naptr.length, usable: usable.length }, 'NAPTR');

    if (usable.length > 0) {
      const steps = await Promise.all(
        usable.map(async ({ r, protocol, flag }) => {
          const name = normalizeName(r.replacement);
          if (flag === 'a') return this.addresses(name, protocol, DEFAULT_PORT[protocol], serverName);
          return this.srvTargets(name, protocol, serverName);
        }),
      );
      const merged = mergeFound(steps);
      if (merged.targets.length > 0) return merged;
      errors.push(...merged.errors);
      // NAPTR pointed at nothing usable: go on as if there had been none rather than fail the call.
    } else if (naptr.length > 0) {
      this.log.debug({ host, services: naptr.map((r) => r.service) }, 'no usable NAPTR record; trying SRV');
    }

    // §4.1: "If no NAPTR records are found, the client constructs SRV queries for those transport
    // protocols it supports": _sip for sip: (UDP, TCP), _sips for sips: (TLS).
    const protocols = this.transports.filter((p) => (secure ? p === 'tls' : p !== 'tls'));
    const fallback = secure ? 'tls' : this.defaultProtocol(false, text);
    if (domainMissing) {
      const last = await this.addresses(host, fallback, DEFAULT_PORT[fallback], serverName);
      return { targets: last.targets, errors: [...errors, ...last.errors] };
    }
    const rest = await this.srvThenAddresses(host, protocols, fallback, serverName);
    return { targets: rest.targets, errors: [...errors, ...rest.errors] };
  }

  /** SRV for each protocol (in the given order); when none has a record, A/AAAA on the fallback protocol's default port. */
  private async srvThenAddresses(host: string, protocols: readonly TransportProtocol[], fallback: TransportProtocol, serverName: string | undefined): Promise<Found> {
    const steps = await Promise.all(protocols.map((p) => this.srvTargets(`${srvPrefix(p)}.${host}`, p, serverName)));
    const merged = mergeFound(steps);
    if (merged.targets.length > 0 || steps.some((s) => s.srvFound)) return merged;
    // §4.2: "If no SRV records were found, the client performs an A or AAAA record lookup of the
    // domain name", port 5060 (5061 for TLS).
    const last = await this.addresses(host, fallback, DEFAULT_PORT[fallback], serverName);
    return { targets: last.targets, errors: [...merged.errors, ...last.errors] };
  }

  /** One SRV name: records in RFC 2782 order, each target's addresses in turn. */
  private async srvTargets(name: string, protocol: TransportProtocol, serverName: string | undefined): Promise<Found & { srvFound: boolean }> {
    let records;
    try {
      records = (await this.dns.srv(name)).records;
    } catch (err) {
      if (!(err instanceof DnsLookupError)) throw err;
      // NXDOMAIN for an SRV name is the usual "no SRV": not worth reporting.
      return { targets: [], errors: err.code === 'NXDOMAIN' ? [] : [err], srvFound: false };
    }
    const ordered = orderSrv(records, this.random);
    this.log.debug({ name, srv: ordered.map((r) => `${r.priority}/${r.weight} ${r.name}:${r.port}`) }, 'SRV');
    const steps = await Promise.all(ordered.map((r) => this.addresses(normalizeName(r.name), protocol, r.port, serverName)));
    return { ...mergeFound(steps), srvFound: records.length > 0 };
  }

  /** A and AAAA of a name (per the families option), each address with the given protocol and port. */
  private async addresses(name: string, protocol: TransportProtocol, port: number, serverName: string | undefined): Promise<Found> {
    if (isIP(name)) return { targets: [{ protocol, address: name, port, serverName }], errors: [] };
    const steps = await Promise.all(
      this.families.map(async (family): Promise<Found> => {
        try {
          const answer = family === 4 ? await this.dns.a(name) : await this.dns.aaaa(name);
          return { targets: answer.records.map((address) => ({ protocol, address: address.toLowerCase(), port, serverName })), errors: [] };
        } catch (err) {
          if (!(err instanceof DnsLookupError)) throw err;
          return { targets: [], errors: [err] };
        }
      }),
    );
    return mergeFound(steps);
  }

  private finish(text: string, host: string, found: Found): TargetList {
    const seen = new Set<string>();
    const targets = found.targets.filter((t) => {
      const k = `${t.protocol} ${t.address} ${t.port}`;
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    });
    if (targets.length === 0) throw noTargetError(text, host, found.errors);
    this.log.debug({ uri: text, targets: targets.map((t) => `${t.protocol}:${t.address}:${t.port}`) }, 'located');
    return new TargetList({ uri: text, targets, blacklist: this.blacklist });
  }
}

function mergeFound(steps: readonly Found[]): Found {
  return { targets: steps.flatMap((s) => s.targets), errors: steps.flatMap((s) => s.errors) };
}

/** Explains an empty result: the domain is missing, DNS failed, or it simply has no address. */
function noTargetError(text: string, host: string, errors: readonly DnsLookupError[]): LocateError {
  const nx = errors.find((e) => e.code === 'NXDOMAIN' && e.hostname === host);
  const failure = errors.find((e) => e.code !== 'NXDOMAIN');
  if (failure) {
    return new LocateError({ code: 'DNS_FAILURE', uri: text, reason: `DNS failed: ${failure.message}; check the DNS servers and the network`, dnsError: failure });
  }
  if (nx) return new LocateError({ code: 'NOT_FOUND', uri: text, reason: `the domain ${host} does not exist (NXDOMAIN)`, dnsError: nx });
  const other = errors[0];
  return new LocateError({ code: 'NO_TARGETS', uri: text, reason: `${host} has no usable NAPTR, SRV, A or AAAA record`, dnsError: other });
}
