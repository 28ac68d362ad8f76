// The phonebook from config: caller-ID names by number (URIs and '+'/spaces normalised), search by name prefix, speed dials by key.

export interface PhonebookEntry {
  name: string;
  /** As written in the config: "1002", "+49 30 1234-56", "sip:alice@pbx.example.com". */
  number: string;
  /** Speed-dial key 0–99 (a long press of the digit, or the digits then the speed-dial softkey). */
  speedDial?: number | undefined;
}

/** One problem with the phonebook's entries, by index, for the config loader to report with its path. */
export interface PhonebookIssue {
  index: number;
  field: 'name' | 'number' | 'speedDial';
  message: string;
}

export class PhonebookError extends Error {
  override readonly name = 'PhonebookError';
  constructor(readonly issues: readonly PhonebookIssue[]) {
    super(issues.map((i) => `phonebook[${i.index}].${i.field}: ${i.message}`).join('\n'));
  }
}

export interface NormalizeOptions {
  /**
   * The international call prefix of the phone's country: a number starting with it is the same
   * number as one starting with '+' ("0049…" = "+49…"). Default "00"; "011" in North America; null: none.
   */
  internationalPrefix?: string | null;
}

/** RFC 3966 §5.1.1 visual separators, plus the space and slash people type. */
const SEPARATORS = /[\s\-.()/]/g;

/**
 * The comparable form of a number or address:
 * - a name-addr's URI is taken from its angle brackets (`"Alice" <sip:1002@pbx>`),
 * - `sip:` / `sips:` URIs give their user part (the host is dropped: the phone talks to one PBX, where
 *   1002@pbx-a and 1002@pbx-b are the same extension as far as a caller-ID name goes), `tel:` URIs their
 *   number; URI parameters go, %-escapes are decoded,
 * - a number loses its visual separators and its international prefix becomes '+',
 * - anything else (`alice`) is lower-cased.
 * Returns '' when nothing is left.
 */
export function normalizeNumber(input: string, options: NormalizeOptions = {}): string {
  let s = input.trim();
  const bracket = /<([^>]*)>/.exec(s);
  if (bracket) s = bracket[1] ?? '';
  const scheme = /^(sips?|tel):/i.exec(s);
  if (scheme) {
    s = s.slice(scheme[0].length);
    if (scheme[1]?.toLowerCase() !== 'tel') {
      const at = s.lastIndexOf('@');
      if (at >= 0) s = s.slice(0, at);
    }
    s = s.split(';')[0] ?? '';
    try {
      s = decodeURIComponent(s);
    } catch {
      // A stray '%' is kept as it is.
    }
  }
  const compact = s.replace(SEPARATORS, '');
  if (/^\+?[0-9*#]+$/.test(compact)) {
    const prefix = options.internationalPrefix === undefined ? '00' : options.internationalPrefix;
    if (prefix && compact.startsWith(prefix) && compact.length > prefix.length) return `+${compact.slice(prefix.length)}`;
    return compact;
  }
  return s.trim().toLowerCase();
}

/** Case- and accent-insensitive form of a name for prefix search ("Zoë" is found by "zoe"). */
function fold(text: string): string {
  return text.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
}

const WORD_SPLIT = /[\s\-_.,'()/&]+/;

/** Checks entries as the config gives them: names and numbers present, speed-dial keys 0–99 and used once. */
export function checkPhonebook(entries: readonly PhonebookEntry[], options: NormalizeOptions = {}): PhonebookIssue[] {
  const issues: PhonebookIssue[] = [];
  const keys = new Map<number, number>();
  entries.forEach((e, index) => {
    if (e.name.trim() === '') issues.push({ index, field: 'name', message: 'a name is needed' });
    if (normalizeNumber(e.number, options) === '') issues.push({ index, field: 'number', message: `"${e.number}" holds no number or address` });
    if (e.speedDial === undefined) return;
    if (!Number.isInteger(e.speedDial) || e.speedDial < 0 || e.speedDial > 99) {
      issues.push({ index, field: 'speedDial', message: `expected an integer from 0 to 99, got ${e.speedDial}` });
      return;
    }
    const first = keys.get(e.speedDial);
    if (first !== undefined) issues.push({ index, field: 'speedDial', message: `speed dial ${e.speedDial} is already used by entry ${first} (${entries[first]?.name ?? ''})` });
    else keys.set(e.speedDial, index);
  });
  return issues;
}

/**
 * The phonebook, indexed once. Several entries with the same number: the first one names the caller.
 * Numbers compare in normalised form, and "+1002" also finds "1002" (and the other way round), since a
 * PBX may present either.
 */
export class Phonebook {
  private readonly all: readonly PhonebookEntry[];
  private readonly byNumber = new Map<string, PhonebookEntry>();
  private readonly byNumberNoPlus = new Map<string, PhonebookEntry>();
  private readonly bySpeedDial = new Map<number, PhonebookEntry>();
  private readonly sorted: readonly { entry: PhonebookEntry; folded: string; words: string[] }[];
  private readonly normalize: NormalizeOptions;

  /** Throws PhonebookError listing every problem (see checkPhonebook). */
  constructor(entries: readonly PhonebookEntry[] = [], options: NormalizeOptions = {}) {
    const issues = checkPhonebook(entries, options);
    if (issues.length > 0) throw new PhonebookError(issues);
    this.normalize = options;
    this.all = entries.map((e) => ({ ...e }));
    for (const e of this.all) {
      const n = normalizeNumber(e.number, options);
      if (!this.byNumber.has(n)) this.byNumber.set(n, e);
      const bare = n.replace(/^\+/, '');
      if (!this.byNumberNoPlus.has(bare)) this.byNumberNoPlus.set(bare, e);
      if (e.speedDial !== undefined) this.bySpeedDial.set(e.speedDial, e);
    }
    this.sorted = this.all
      .map((entry) => ({ entry, folded: fold(entry.name.trim()), words: fold(entry.name).split(WORD_SPLIT).filter(Boolean) }))
      .sort((a, b) => a.folded.localeCompare(b.folded));
  }

  /** The entries in config order. */
  get entries(): readonly PhonebookEntry[] {
    return this.all;
  }

  get size(): number {
    return this.all.length;
  }

  /** The entry for a caller's number or URI (From / P-Asserted-Identity), if any. */
  lookup(numberOrUri: string): PhonebookEntry | undefined {
    const n = normalizeNumber(numberOrUri, this.normalize);
    if (n === '') return undefined;
    return this.byNumber.get(n) ?? this.byNumberNoPlus.get(n.replace(/^\+/, ''));
  }

  /** The caller-ID name for a number, when the phonebook knows it. */
  nameFor(numberOrUri: string): string | undefined {
    return this.lookup(numberOrUri)?.name;
  }

  /**
   * Entries whose name, or a word of it, starts with `prefix` (case and accents ignored), sorted by
   * name: "jo" finds "John Smith" and "Mary Jones". An empty prefix lists everything.
   */
  search(prefix: string, limit = Infinity): PhonebookEntry[] {
    const q = fold(prefix.trim());
    const out: PhonebookEntry[] = [];
    for (const s of this.sorted) {
      if (out.length >= limit) break;
      if (q === '' || s.folded.startsWith(q) || s.words.some((w) => w.startsWith(q))) out.push(s.entry);
    }
    return out;
  }

  /** The entry on a speed-dial key: 7 or "7" ("07" too). */
  speedDial(key: number | string): PhonebookEntry | undefined {
    const n = typeof key === 'number' ? key : /^\d{1,2}$/.test(key) ? Number(key) : NaN;
    return Number.isInteger(n) ? this.bySpeedDial.get(n) : undefined;
  }

  /** The speed dials in key order (for the speed-dial menu). */
  speedDials(): { key: number; entry: PhonebookEntry }[] {
    return [...this.bySpeedDial.entries()].sort((a, b) => a[0] - b[0]).map(([key, entry]) => ({ key, entry }));
  }
}
