// Call-progress tones by country (dial, ringback, busy, congestion, call waiting, confirmation) and DTMF tones, as data.
//
// Frequencies and cadences are facts from ITU-T E.180 (03/98) and its Supplement 2 ("Various tones used
// in national networks"), and the national specifications each entry names. Where a country defines no
// such tone (or we could not check its document), the entry says so in `source`.

/** The tones the phone plays locally. */
export type ToneName = 'dial' | 'ringback' | 'busy' | 'congestion' | 'callWaiting' | 'confirmation';
export const TONE_NAMES: readonly ToneName[] = ['dial', 'ringback', 'busy', 'congestion', 'callWaiting', 'confirmation'];

export type ToneCountry = 'US' | 'UK' | 'DE' | 'FR' | 'JP';
export const TONE_COUNTRIES: readonly ToneCountry[] = ['US', 'UK', 'DE', 'FR', 'JP'];

/** One step of a cadence. */
export interface ToneSegment {
  /** 0 = until stopped (only the last segment). */
  durationMs: number;
  /** Summed sines (at most 4); empty = silence. */
  frequenciesHz: readonly number[];
  /** Amplitude modulation of the tone by this frequency (90 % depth), e.g. Japan's 400 Hz × 16 Hz. */
  modulationHz?: number;
  /** > 0: the frequencies sound one after the other, each this long, instead of together (a ringer's trill). */
  alternateMs?: number;
  /** Level of each frequency, dBm0 (0 dBm0 is 3.17 dB below a full-scale sine, G.711 µ-law). */
  levelDbm0?: number;
}

/** What the engine plays: segments in order, then again from the first when `repeat`. */
export interface ToneSpec {
  segments: readonly ToneSegment[];
  repeat: boolean;
}

/** A table entry: the spec and where its numbers come from. */
export interface CountryTone extends ToneSpec {
  source: string;
}

interface CadenceOptions {
  levelDbm0: number;
  modulationHz?: number;
  repeat?: boolean;
}

/** Builds a spec from on/off durations in ms: [on, off, on, off, ...]; a single 0 = continuous. */
function cadence(frequenciesHz: readonly number[], onOffMs: readonly number[], options: CadenceOptions, source: string): CountryTone {
  const segments = onOffMs.map((durationMs, i) => ({
    durationMs,
    frequenciesHz: i % 2 === 0 ? frequenciesHz : [],
    levelDbm0: options.levelDbm0,
    ...(options.modulationHz !== undefined && i % 2 === 0 ? { modulationHz: options.modulationHz } : {}),
  }));
  return { segments, repeat: options.repeat ?? true, source };
}

const CONTINUOUS = [0];
/** Three short bursts, once: the confirmation tone of the US precise tone plan. */
const THREE_BURSTS = [100, 100, 100, 100, 100, 100];

const US_PLAN = 'ITU-T E.180 Suppl. 2 (United States); ANSI T1.401 / Telcordia GR-506 precise tone plan (levels per frequency)';
const UK_PLAN = 'ITU-T E.180 Suppl. 2 (United Kingdom); BT SIN 350';
const DE_PLAN = 'ITU-T E.180 Suppl. 2 (Germany); Deutsche Telekom 1 TR 110';
const FR_PLAN = 'ITU-T E.180 Suppl. 2 (France)';
const JP_PLAN = 'ITU-T E.180 Suppl. 2 (Japan); NTT "Interface for telephone services"';
const NO_NATIONAL_CONFIRMATION =
  'no national confirmation tone found: three 100 ms bursts of the dial-tone frequency, as the US confirmation tone (our choice)';

/** Country → tone → spec. Levels: E.180 §2 asks for tones in the −10 to −20 dBm0 range or so. */
export const TONE_TABLES: Readonly<Record<ToneCountry, Readonly<Record<ToneName, CountryTone>>>> = {
  US: {
    dial: cadence([350, 440], CONTINUOUS, { levelDbm0: -13 }, US_PLAN),
    ringback: cadence([440, 480], [2000, 4000], { levelDbm0: -19 }, US_PLAN),
    busy: cadence([480, 620], [500, 500], { levelDbm0: -24 }, US_PLAN),
    congestion: cadence([480, 620], [250, 250], { levelDbm0: -24 }, `${US_PLAN} (reorder tone)`),
    // One 300 ms burst, repeated every 10 s while the call waits.
    callWaiting: cadence([440], [300, 9700], { levelDbm0: -13 }, US_PLAN),
    confirmation: cadence([350, 440], THREE_BURSTS, { levelDbm0: -13, repeat: false }, US_PLAN),
  },
  UK: {
    dial: cadence([350, 440], CONTINUOUS, { levelDbm0: -16 }, UK_PLAN),
    ringback: cadence([400, 450], [400, 200, 400, 2000], { levelDbm0: -16 }, UK_PLAN),
    busy: cadence([400], [375, 375], { levelDbm0: -13 }, UK_PLAN),
    congestion: cadence([400], [400, 350, 225, 525], { levelDbm0: -13 }, UK_PLAN),
    callWaiting: cadence([400], [100, 4000], { levelDbm0: -13 }, `${UK_PLAN} (cadence as commonly configured; SIN 350 not checked)`),
    confirmation: cadence([350, 440], THREE_BURSTS, { levelDbm0: -16, repeat: false }, NO_NATIONAL_CONFIRMATION),
  },
  DE: {
    dial: cadence([425], CONTINUOUS, { levelDbm0: -13 }, DE_PLAN),
    ringback: cadence([425], [1000, 4000], { levelDbm0: -13 }, DE_PLAN),
    busy: cadence([425], [480, 480], { levelDbm0: -13 }, DE_PLAN),
    congestion: cadence([425], [240, 240], { levelDbm0: -13 }, DE_PLAN),
    callWaiting: cadence([425], [200, 200, 200, 5000], { levelDbm0: -13 }, DE_PLAN),
    confirmation: cadence([425], THREE_BURSTS, { levelDbm0: -13, repeat: false }, NO_NATIONAL_CONFIRMATION),
  },
  FR: {
    dial: cadence([440], CONTINUOUS, { levelDbm0: -13 }, FR_PLAN),
    ringback: cadence([440], [1500, 3500], { levelDbm0: -13 }, FR_PLAN),
    busy: cadence([440], [500, 500], { levelDbm0: -13 }, FR_PLAN),
    congestion: cadence([440], [250, 250], { levelDbm0: -13 }, FR_PLAN),
    callWaiting: cadence([440], [300, 10000], { levelDbm0: -13 }, FR_PLAN),
    confirmation: cadence([440], THREE_BURSTS, { levelDbm0: -13, repeat: false }, NO_NATIONAL_CONFIRMATION),
  },
  JP: {
    dial: cadence([400], CONTINUOUS, { levelDbm0: -13 }, JP_PLAN),
    // 400 Hz modulated by 16 Hz, 1 s on, 2 s off.
    ringback: cadence([400], [1000, 2000], { levelDbm0: -13, modulationHz: 16 }, JP_PLAN),
    busy: cadence([400], [500, 500], { levelDbm0: -13 }, JP_PLAN),
    congestion: cadence([400], [500, 500], { levelDbm0: -13 }, `${JP_PLAN} (same cadence as busy)`),
    callWaiting: cadence([400], [500, 8000], { levelDbm0: -13, modulationHz: 16 }, `${JP_PLAN} (cadence as commonly configured; not checked)`),
    confirmation: cadence([400], THREE_BURSTS, { levelDbm0: -13, repeat: false }, NO_NATIONAL_CONFIRMATION),
  },
};

/** The spec of a country's tone. */
export function countryTone(country: ToneCountry, tone: ToneName): CountryTone {
  return TONE_TABLES[country][tone];
}

/** A ringing cadence: on/off durations in ms, [on, off, on, off ...], and where it comes from. */
export interface RingCadence {
  onOffMs: readonly number[];
  source: string;
}

/**
 * The ringing signal's cadence by country: taken to be the cadence of the ringback tone of TONE_TABLES,
 * which follows the ringing current in these plans (US: 2 s on, 4 s off for both). Not checked
 * against each national ringing-signal specification; `source` says where the numbers come from.
 */
function ringbackCadence(country: ToneCountry): RingCadence {
  const ringback = TONE_TABLES[country].ringback;
  return { onOffMs: ringback.segments.map((s) => s.durationMs), source: `${ringback.source} (ringback cadence)` };
}

export const RING_CADENCES: Readonly<Record<ToneCountry, RingCadence>> = {
  US: ringbackCadence('US'),
  UK: ringbackCadence('UK'),
  DE: ringbackCadence('DE'),
  FR: ringbackCadence('FR'),
  JP: ringbackCadence('JP'),
};

/** The ringer's default sound: 1000 and 1250 Hz alternating every 25 ms (a 20 Hz trill, as electronic ringers do). */
export const DEFAULT_RING_FREQUENCIES_HZ: readonly number[] = [1000, 1250];
export const DEFAULT_RING_ALTERNATE_MS = 25;
export const DEFAULT_RING_LEVEL_DBM0 = -10;

/** The ringer's spec: `frequenciesHz` sounding in the on-parts of [on, off, ...] ms, repeated. */
export function ringSpec(
  onOffMs: readonly number[],
  frequenciesHz: readonly number[] = DEFAULT_RING_FREQUENCIES_HZ,
  alternateMs: number = DEFAULT_RING_ALTERNATE_MS,
  levelDbm0: number = DEFAULT_RING_LEVEL_DBM0,
): ToneSpec {
  const segments = onOffMs.map((durationMs, i) =>
    i % 2 === 0 ? { durationMs, frequenciesHz, levelDbm0, ...(frequenciesHz.length > 1 ? { alternateMs } : {}) } : { durationMs, frequenciesHz: [] },
  );
  return { segments, repeat: true };
}

/** DTMF digits (ITU-T Q.23) as keys on the keypad send them. */
export type DtmfDigit = '0' | '1' | '2' | '3' | '4' | '5' | '6' | '7' | '8' | '9' | '*' | '#' | 'A' | 'B' | 'C' | 'D';

const DTMF_ROWS = ['123A', '456B', '789C', '*0#D'] as const;
/** ITU-T Q.23 §2: the low group (rows) and high group (columns), Hz. */
const DTMF_LOW_HZ = [697, 770, 852, 941] as const;
const DTMF_HIGH_HZ = [1209, 1336, 1477, 1633] as const;

export function isDtmfDigit(value: string): value is DtmfDigit {
  return value.length === 1 && DTMF_ROWS.some((row) => row.includes(value));
}

/** The two Q.23 frequencies of a digit, low group first. */
export function dtmfFrequencies(digit: DtmfDigit): readonly [number, number] {
  const row = DTMF_ROWS.findIndex((r) => r.includes(digit));
  const col = DTMF_ROWS[row]?.indexOf(digit) ?? -1;
  const low = DTMF_LOW_HZ[row];
  const high = DTMF_HIGH_HZ[col];
  if (low === undefined || high === undefined) throw new RangeError(`'${digit}' is not a DTMF digit`);
  return [low, high];
}

/** The local key-press tone of a digit: both frequencies for durationMs, once. */
export function dtmfTone(digit: DtmfDigit, durationMs = 150, levelDbm0 = -13): ToneSpec {
  return { segments: [{ durationMs, frequenciesHz: dtmfFrequencies(digit), levelDbm0 }], repeat: false };
}
