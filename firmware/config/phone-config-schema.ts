// The phone's own sections of the configuration file: tones, dial plan, phonebook and call features.
import { array, boolean, either, number, object, oneOf, optional, record, required, section, string, withDefault, type Infer } from './schema.js';

/**
 * Tone countries the media engine has tables for (firmware/media/tones.ts TONE_COUNTRIES; the config
 * layer may not import it, so the names are repeated here and the composition root maps them).
 */
export const TONE_COUNTRIES = ['US', 'UK', 'DE', 'FR', 'JP'] as const;

/** What a feature can dial or forward to: digits as typed on the keypad (with an optional '+'), or a SIP URI. */
export const dialTarget = string({
  pattern: /^(?:\+?[0-9*#]{1,64}|sips?:[^\s]{1,250})$/i,
  patternName: 'a number (digits, * and #, an optional leading +) or a SIP URI',
});

/**
 * `ringTone`: "default" (the ringing cadence of `tones.country`), a country's cadence by its code
 * ("UK": the double ring), or an absolute path to a WAV file played in a loop.
 */
const ringTone = either(
  oneOf(['default', ...TONE_COUNTRIES] as const),
  string({ pattern: /^\/\S.*\.wav$/i, patternName: 'an absolute path to a .wav file' }),
);

export const tonesSchema = object({
  /** Call-progress tones (dial, ringback, busy, congestion) of this country. */
  country: withDefault(oneOf(TONE_COUNTRIES), 'US'),
  ringTone: withDefault(ringTone, 'default'),
});

/**
 * A digit map's characters (RFC 3435 §2.1.5 as desk phones use it: `[2-9]xx|0|911|*xx`). This is
 * only a first check, so that a stray letter is reported with its line and column; the full syntax
 * is the phone's (firmware/phone/dial-plan.ts), which the composition root passes to loadConfig as
 * an extra check.
 */
const digitMap = string({ pattern: /^[0-9*#xXtT[\]\-.|()\s]*$/, patternName: 'a digit map of 0-9 * # x T [ ] - . | ( )' });

export const dialPlanSchema = object({
  /** When a dialed number is complete; "" (default): only the send key or the inter-digit timeout send it. */
  digitMap: withDefault(digitMap, ''),
  /** Seconds after each key until what was dialed is sent (or refused when it matches no pattern). */
  interDigitTimeoutS: withDefault(number({ min: 1, max: 60, unit: 's' }), 4),
  /** Seconds of dial tone without a key before the phone gives up (Cisco SPA's "long" timer). */
  firstDigitTimeoutS: withDefault(number({ min: 1, max: 300, unit: 's' }), 10),
  /** The key that sends what was dialed at once ("#" as on most desk phones), or "none". */
  sendKey: withDefault(oneOf(['#', '*', 'none'] as const), '#'),
  /**
   * Numbers called at a SIP URI of their own instead of at the account's domain: phones reached
   * directly by address, without a PBX (`"101": sip:101@192.168.1.21:5060`). Dialing, calling back
   * from the history, transfers and forwarding all look here first.
   */
  directory: withDefault(
    record(string({ pattern: /^sips?:[^\s]+$/i, patternName: 'a SIP URI like "sip:101@192.168.1.21"' }), { keyPattern: /^\+?[0-9*#]{1,64}$/, keyName: 'number (digits, * and #)' }),
    {},
  ),
});

const phonebookEntry = object({
  name: required(string({ minLength: 1 })),
  /** As people write it: "1002", "+49 30 1234-56", "sip:alice@pbx.example.com". */
  number: required(string({ minLength: 1 })),
  /** Speed-dial key 0–99; each key at most once (checked across entries). */
  speedDial: optional(number({ integer: true, min: 0, max: 99 })),
});

export const phonebookSchema = array(phonebookEntry, { maxItems: 1000 });

export const featuresSchema = object({
  /** Do not disturb (switched on and off in the menu, kept in the state file): what callers get. */
  dnd: section(
    object({
      /** 480 Temporarily Unavailable (default, as Yealink phones answer) lets the PBX try voicemail; 486 Busy Here says busy. */
      mode: withDefault(oneOf(['unavailable-480', 'busy-486'] as const), 'unavailable-480'),
    }),
  ),
  /** Call forwarding as provisioned; the menu's settings (state file) win over these. */
  forward: section(
    object({
      always: optional(dialTarget),
      busy: optional(dialTarget),
      noAnswer: optional(dialTarget),
      noAnswerAfterS: withDefault(number({ integer: true, min: 1, max: 300, unit: 's' }), 20),
    }),
  ),
  /** Intercom-style answering on the speaker. */
  autoAnswer: section(
    object({
      enabled: withDefault(boolean(), false),
      delayS: withDefault(number({ min: 0, max: 60, unit: 's' }), 0),
      /** Only calls from these numbers or URIs are answered automatically; absent: every call. */
      onlyFrom: optional(array(dialTarget, { minItems: 1 })),
    }),
  ),
  /** Hotline (PLAR): lifting the handset calls this number after delayS without a key; absent: off. */
  hotline: optional(
    object({
      number: required(dialTarget),
      delayS: withDefault(number({ min: 0, max: 30, unit: 's' }), 0),
    }),
  ),
  /** A second incoming call during a call is announced (true) or gets 486 Busy Here (false). */
  callWaiting: withDefault(boolean(), true),
});

export type TonesConfig = Infer<typeof tonesSchema>;
export type DialPlanConfig = Infer<typeof dialPlanSchema>;
export type PhonebookConfig = Infer<typeof phonebookSchema>;
export type FeaturesConfig = Infer<typeof featuresSchema>;
