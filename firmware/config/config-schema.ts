// The phone's configuration file (/etc/offhook/offhook.yaml): schema with defaults and units.
import { LOG_LEVELS } from '../util/log.js';
import { array, boolean, number, object, oneOf, optional, required, string, withDefault, section, type Infer } from './schema.js';

const sipUri = string({ pattern: /^sips?:[^\s]+$/i, patternName: 'a SIP URI like "sip:1003@pbx.example.com"' });

/** One SIP account (a line on the phone). */
const account = object({
  /** Address of record: the phone's number at the PBX. */
  aor: required(sipUri),
  password: required(string()),
  /** Digest user name when it differs from the AOR's user part. */
  authUsername: optional(string({ minLength: 1 })),
  displayName: optional(string()),
  /** REGISTER goes here; default: the AOR's domain (located per RFC 3263). */
  registrar: optional(sipUri),
  /** Every request goes through this proxy (loose routing). */
  outboundProxy: optional(sipUri),
  transport: withDefault(oneOf(['udp', 'tcp', 'tls'] as const), 'udp'),
  expiresS: withDefault(number({ integer: true, min: 30, max: 86_400, unit: 's' }), 3600),
  /** Realms the password may be given to; default: learned from the registrar's first challenge. */
  realms: optional(array(string({ minLength: 1 }), { minItems: 1 })),
  /** SIP Outbound (RFC 5626): +sip.instance / reg-id, keep-alives. */
  outbound: withDefault(boolean(), false),
  register: withDefault(boolean(), true),
});

const listen = object({
  transport: required(oneOf(['udp', 'tcp', 'tls'] as const)),
  address: withDefault(string({ minLength: 1 }), '0.0.0.0'),
  port: withDefault(number({ integer: true, min: 0, max: 65_535 }), 5060),
  /** TLS server key and certificate (PEM files), for a TLS listener. */
  keyFile: optional(string({ minLength: 1 })),
  certFile: optional(string({ minLength: 1 })),
});

export const configSchema = object({
  /** Board profile name (board/<name>.yaml) or file; detected from the device tree when absent. */
  board: optional(string({ minLength: 1 })),
  log: section(
    object({
      level: withDefault(oneOf(LOG_LEVELS), 'info'),
      /** Append JSON lines here instead of stderr. */
      file: optional(string({ minLength: 1 })),
    }),
  ),
  display: section(
    object({
      timeFormat: withDefault(oneOf(['24h', '12h'] as const), '24h'),
      dateFormat: withDefault(oneOf(['dmy', 'mdy', 'ymd'] as const), 'dmy'),
    }),
  ),
  accounts: withDefault(array(account, { maxItems: 8 }), []),
  sip: section(
    object({
      listen: withDefault(array(listen, { minItems: 1 }), () => [{ transport: 'udp' as const, address: '0.0.0.0', port: 5060, keyFile: undefined, certFile: undefined }]),
      /** CA bundle for TLS server certificates (default: the system CAs). */
      caFile: optional(string({ minLength: 1 })),
      /** Accept any TLS certificate. Logs a warning on every connection. */
      tlsInsecure: withDefault(boolean(), false),
      /** Keep NAT bindings open: CRLF on TCP/TLS, OPTIONS over UDP, every this many seconds (0 = off). */
      keepAliveS: withDefault(number({ integer: true, min: 0, max: 3600, unit: 's' }), 30),
      /** Write every SIP message sent and received to this pcap file (Wireshark, tshark, sngrep). */
      tracePcap: optional(string({ minLength: 1 })),
      userAgent: withDefault(string({ minLength: 1 }), 'offhook'),
    }),
  ),
});

export type OffhookConfig = Infer<typeof configSchema>;
export const DEFAULT_CONFIG_FILE = '/etc/offhook/offhook.yaml';
