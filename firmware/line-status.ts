// The account line of the idle screen, from the user agent's registration state (part of the composition root).
import type { OffhookConfig } from './config/config-schema.js';
import type { AccountSettings, LineStatus, UserAgentOptions } from './sip/ua/index.js';

/** The user part of an AOR ("sip:1003@test.local" → "1003"), what a desk phone shows as its line. */
export function lineName(aor: string): string {
  const m = /^sips?:([^@;]+)@/i.exec(aor);
  return m?.[1] ?? aor.replace(/^sips?:/i, '');
}

/** One LCD row for an account: "Registered 1003", "Registering 1003", "1003: wrong password (401)". */
export function lineText(aor: string, line: LineStatus): string {
  const name = lineName(aor);
  switch (line.state) {
    case 'registered':
      return `Registered ${name}`;
    case 'registering':
      return `Registering ${name}`;
    case 'failed':
      return `${name}: ${line.reason}`;
    case 'off':
      return `${name} (no registration)`;
  }
}

/** The config file's accounts as the user agent takes them. */
export function accountSettings(config: OffhookConfig): AccountSettings[] {
  return config.accounts.map((a) => ({
    aor: a.aor,
    password: a.password,
    authUsername: a.authUsername,
    displayName: a.displayName,
    registrar: a.registrar,
    outboundProxy: a.outboundProxy,
    transport: a.transport,
    expiresS: a.expiresS,
    realms: a.realms,
    outbound: a.outbound,
    register: a.register,
  }));
}

/** The config file's sip section as user-agent options. */
export function userAgentOptions(config: OffhookConfig, version: string): UserAgentOptions {
  const sip = config.sip;
  const keepAliveMs = sip.keepAliveS * 1000;
  return {
    listen: sip.listen.map((l) => ({
      protocol: l.transport,
      address: l.address,
      port: l.port,
      tls: l.keyFile && l.certFile ? { keyFile: l.keyFile, certFile: l.certFile } : undefined,
    })),
    tls: { caFile: sip.caFile, insecure: sip.tlsInsecure },
    accounts: accountSettings(config),
    trace: { pcapFile: sip.tracePcap },
    // CRLF pings on TCP/TLS keep their RFC 5626 default (95 s); 0 turns every keep-alive off.
    keepAlive: keepAliveMs === 0 ? { udpOptionsIntervalMs: 0, streamIntervalMs: 0 } : { udpOptionsIntervalMs: keepAliveMs },
    userAgent: `${sip.userAgent}/${version}`,
  };
}
