// The phone's configuration file (/etc/offhook/offhook.yaml): schema with defaults and units.
import { LOG_LEVELS } from '../util/log.js';
import { emulatorSection } from './emulator-schema.js';
import { mediaSchema } from './media-config-schema.js';
import { dialPlanSchema, dialTarget, featuresSchema, phonebookSchema, tonesSchema } from './phone-config-schema.js';
import { array, boolean, number, object, oneOf, optional, required, secret, string, withDefault, section, type Infer, type Schema, type SchemaIssue } from './schema.js';

const sipUri = string({ pattern: /^sips?:[^\s]+$/i, patternName: 'a SIP URI like "sip:1003@pbx.example.com"' });

/** One SIP account (a line on the phone). */
const account = object({
  /** Address of record: the phone's number at the PBX. */
  aor: required(sipUri),
  /** Digest password; never logged, and an error about it never shows the value. */
  password: required(secret()),
  /** Digest user name when it differs from the AOR's user part. */
  authUsername: optional(string({ minLength: 1 })),
  /** The caller name sent in From (and shown on the idle screen's line). */
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
  /**
   * SRTP with SDES keys (RFC 4568): "off" offers RTP/AVP; "optional" offers RTP/AVP with crypto lines
   * (best effort, what most PBXs take); "mandatory" offers RTP/SAVP only and refuses calls without it.
   * Keys travel in SDP, so anything but "off" belongs with `transport: tls`.
   */
  srtp: withDefault(oneOf(['off', 'optional', 'mandatory'] as const), 'off'),
  /** How keys pressed in a call are sent: RFC 4733 telephone-events in RTP, or SIP INFO (application/dtmf-relay). */
  dtmf: withDefault(oneOf(['rfc4733', 'info'] as const), 'rfc4733'),
  /**
   * Message waiting (the envelope and the MWI LED): "subscribe" to message-summary for the AOR
   * (RFC 3842), "listen" only to unsolicited NOTIFYs (what Asterisk sends by default), or "off".
   */
  mwi: withDefault(oneOf(['subscribe', 'listen', 'off'] as const), 'subscribe'),
  /** The voicemail number the messages key dials; absent: the key asks the PBX's Message-Account, if any. */
  mailbox: optional(dialTarget),
});

/**
 * Provisioning: the phone fetches a config from an HTTP(S) server at boot and every intervalH
 * (firmware/config/provisioning.ts). `{mac}` in the URL becomes the MAC address (12 lower-case hex
 * digits); a URL ending in "/" gets "{mac}.yaml" appended.
 */
const provisioningSchema = object({
  /** The config's URL; absent: the one DHCP option 66 gave (dhcpOption66File), else no provisioning. */
  url: optional(string({ pattern: /^https?:\/\/[^\s/?#]+[^\s]*$/i, patternName: 'an http:// or https:// URL' })),
  /** Hours between fetches (±10 % jitter, so that a building of phones does not fetch at once); 0 = at boot only. */
  intervalH: withDefault(number({ min: 0, max: 8760, unit: 'h' }), 24),
  /** A file the system's DHCP client hook writes with option 66 (TFTP server name: a host or a URL). */
  dhcpOption66File: optional(string({ pattern: /^\//, patternName: 'an absolute file path' })),
  /** CA bundle (PEM) trusted for an https:// server; absent: the system CAs. The host name is always checked. */
  caFile: optional(string({ pattern: /^\//, patternName: 'an absolute file path' })),
  /** HTTP basic authentication; never logged. */
  username: optional(string({ minLength: 1 })),
  password: optional(secret()),
  /** A fetch that has not finished after this long is abandoned. */
  timeoutS: withDefault(number({ min: 1, max: 600, unit: 's' }), 30),
  /** Where the last good provisioned config is kept; absent: <stateDir>/provisioned.yaml. */
  cacheFile: optional(string({ pattern: /^\//, patternName: 'an absolute file path' })),
});

const listen = object({
  transport: required(oneOf(['udp', 'tcp', 'tls'] as const)),
  address: withDefault(string({ minLength: 1 }), '0.0.0.0'),
  port: withDefault(number({ integer: true, min: 0, max: 65_535 }), 5060),
  /** TLS server key and certificate (PEM files), for a TLS listener. */
  keyFile: optional(string({ minLength: 1 })),
  certFile: optional(string({ minLength: 1 })),
});

/**
 * The fields a phone of `phones` may set for itself; the rest (board, log, provisioning, emulator)
 * belongs to the process.
 */
export const PHONE_FIELDS = ['name', 'accounts', 'sip', 'media', 'tones', 'dialPlan', 'phonebook', 'features', 'display', 'stateDir'] as const;

/** A phone's name: its extension in the emulator's URLs (/api/phones/<name>/) and its state subdirectory. */
export const PHONE_NAME_PATTERN = /^[A-Za-z0-9._-]{1,32}$/;

/** One entry of `phones`: its name, and the config fields it sets over the file's (checked by firmware/config/phones.ts). */
export interface PhoneEntry {
  name: string | undefined;
  /** Every field but `name`, as written: a config fragment merged over the rest of the file. */
  fields: Record<string, unknown>;
}

/**
 * An entry of `phones`. Only its keys are checked here: its values are a fragment of this same
 * schema, checked once merged over the rest of the file (firmware/config/phones.ts), so that each
 * phone's errors name their own line.
 */
const phoneEntry: Schema<PhoneEntry> = {
  expected: `a mapping with ${PHONE_FIELDS.join(', ')}`,
  check(value, path, issues: SchemaIssue[]) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      issues.push({ path, message: `expected a mapping with ${PHONE_FIELDS.join(', ')}` });
      return undefined;
    }
    const before = issues.length;
    const { name, ...fields } = value as Record<string, unknown>;
    for (const key of Object.keys(fields)) {
      if (!(PHONE_FIELDS as readonly string[]).includes(key)) issues.push({ path: [...path, key], message: `unknown field "${key}" (a phone of its own may set: ${PHONE_FIELDS.join(', ')})` });
    }
    if (name !== undefined && name !== null && (typeof name !== 'string' || !PHONE_NAME_PATTERN.test(name))) {
      issues.push({ path: [...path, 'name'], message: 'expected 1-32 letters, digits, ".", "_" or "-"' });
    }
    return issues.length === before ? { name: typeof name === 'string' ? name : undefined, fields } : undefined;
  },
};

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
      /**
       * Ghost-call protection: "proxy" takes INVITEs only from an account's registrar or outbound
       * proxy (scanners on port 5060 get 403 and never ring); "any" takes direct IP calls too.
       */
      acceptCallsFrom: withDefault(oneOf(['proxy', 'any'] as const), 'proxy'),
      /** Session timers (RFC 4028): a call whose peer vanished ends after at most expiresS. */
      sessionTimer: section(
        object({
          enabled: withDefault(boolean(), true),
          /** Session-Expires asked for (UAC) or granted at most (UAS); RFC 4028 §4 recommends 1800. */
          expiresS: withDefault(number({ integer: true, min: 90, max: 86_400, unit: 's' }), 1800),
          /** Min-SE: the shortest interval accepted; never below 90 (RFC 4028 §5). */
          minSeS: withDefault(number({ integer: true, min: 90, max: 86_400, unit: 's' }), 90),
        }),
      ),
      /** An incoming call nobody answers gets 480 after this long. */
      noAnswerTimeoutS: withDefault(number({ integer: true, min: 5, max: 600, unit: 's' }), 60),
      /** A call that receives no RTP for this long (never on hold) is hung up; 0 = never. */
      rtpTimeoutS: withDefault(number({ integer: true, min: 0, max: 3600, unit: 's' }), 60),
    }),
  ),
  media: section(mediaSchema),
  tones: section(tonesSchema),
  dialPlan: section(dialPlanSchema),
  /** Names for caller ID, the directory on the LCD, speed dials. */
  phonebook: withDefault(phonebookSchema, []),
  features: section(featuresSchema),
  /**
   * Where the phone keeps what it writes: the settings changed in the menus (volume, DND, forwarding,
   * ring tone), the call history, and the last good provisioned config. Never this config file.
   */
  stateDir: withDefault(string({ pattern: /^\//, patternName: 'an absolute directory path' }), '/var/lib/offhook'),
  provisioning: section(provisioningSchema),
  /** The emulator's web page and control API (firmware/config/emulator-schema.ts). */
  emulator: emulatorSection,
  /**
   * Several phones in one process (the emulator's demo: phones 100 and 101 calling each other on
   * 127.0.0.1). Each entry is a config of its own, merged over the rest of this file as a local
   * file is merged over a provisioned one (mappings field by field, lists replaced whole):
   * `{name: "101", accounts: [...], sip: {listen: [...]}, media: {audio: ...}}`. A phone that sets
   * no stateDir keeps its state in <stateDir>/<name>. Absent: one phone, this file.
   */
  phones: optional(array(phoneEntry, { minItems: 1, maxItems: 8 })),
});

export type OffhookConfig = Infer<typeof configSchema>;
export type AccountConfig = OffhookConfig['accounts'][number];
export type ProvisioningConfig = OffhookConfig['provisioning'];
export const DEFAULT_CONFIG_FILE = '/etc/offhook/offhook.yaml';
