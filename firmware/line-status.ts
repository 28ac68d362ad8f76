// The config file's accounts and sip section as user-agent options (part of the composition root); the idle screen's line text is the phone's (phone/line-text.ts).
import type { OffhookConfig } from './config/config-schema.js';
import type { AccountSettings, UserAgentOptions } from './sip/ua/index.js';

// The line text moved into the phone (it draws it); re-exported for the emulator's status.
export { lineName, lineText } from './phone/line-text.js';


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
    mwi: a.mwi,
    dtmf: a.dtmf,
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
