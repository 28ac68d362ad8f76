// The call history: missed, received and dialed calls (newest first, bounded), and the count of missed calls not yet viewed, kept in a JsonStore.
import type { Clock } from '../util/clock.js';
import { Emitter, type Unsubscribe } from '../util/emitter.js';
import type { Logger } from '../util/log.js';
import { JsonStore, StoreFormatError, type CorruptFileReport, type StoreLoadResult } from './json-store.js';
import { checkArray, checkNumber, checkObject, checkOneOf, checkOptional, checkString } from './store-checks.js';

export const CALL_DIRECTIONS = ['incoming', 'outgoing'] as const;
export type CallDirection = (typeof CALL_DIRECTIONS)[number];

/**
 * How a call ended. `answered`: it was connected (either way). `missed`: an incoming call nobody
 * answered (the caller gave up, or DND turned it away). `rejected`: the user declined it. `forwarded`:
 * call forwarding sent it elsewhere (302, `forwardedTo`) without it being answered here. `busy`,
 * `failed` (no route, error response, timeout), `cancelled` (we hung up before an answer): outgoing.
 */
export const CALL_OUTCOMES = ['answered', 'missed', 'rejected', 'forwarded', 'busy', 'failed', 'cancelled'] as const;
export type CallOutcome = (typeof CALL_OUTCOMES)[number];

export const CALL_LISTS = ['missed', 'received', 'dialed'] as const;
export type CallListName = (typeof CALL_LISTS)[number];

export interface CallRecord {
  direction: CallDirection;
  /** The number or URI user part as the phone would dial it back; '' when the caller withheld it. */
  number: string;
  /** The caller-ID or phonebook name, when known. */
  name?: string | undefined;
  /** Wall-clock start, milliseconds since the epoch. */
  startedAt: number;
  /** Talk time of a connected call. */
  durationS?: number | undefined;
  outcome: CallOutcome;
  /** Where call forwarding sent it (outcome `forwarded`). */
  forwardedTo?: string | undefined;
}

/**
 * The list a call belongs in: every outgoing call is dialed; an incoming call is received when it
 * was answered, declined by the user or forwarded by the user's settings (it was dealt with, so it
 * is not "missed"), missed otherwise.
 */
export function callListOf(call: Pick<CallRecord, 'direction' | 'outcome'>): CallListName {
  if (call.direction === 'outgoing') return 'dialed';
  return call.outcome === 'answered' || call.outcome === 'rejected' || call.outcome === 'forwarded' ? 'received' : 'missed';
}

/** What the file holds. */
export interface CallHistoryData {
  missed: readonly CallRecord[];
  received: readonly CallRecord[];
  dialed: readonly CallRecord[];
  /** Missed calls added since the missed list was last viewed (may exceed the entries kept). */
  missedUnseen: number;
}

export interface CallHistoryOptions {
  file: string;
  clock: Clock;
  log: Logger;
  /** Entries kept in each list; the oldest go first. Default 100. */
  maxPerList?: number;
  /** See JsonStoreOptions.debounceMs. */
  debounceMs?: number;
}

export type CallHistoryEvents = {
  /** A list or the missed count changed (update the screen, the missed-call LED). */
  change: [];
  corrupt: [CorruptFileReport];
  /** Writing the file failed (it is retried). */
  error: [Error];
};

function emptyHistory(): CallHistoryData {
  return { missed: [], received: [], dialed: [], missedUnseen: 0 };
}

/** The longest number, name or forwarding target a record keeps (a longer name is cut by add()). */
const MAX_TEXT = 256;

function checkRecord(value: unknown, path: string): CallRecord {
  const o = checkObject(value, path);
  const record: CallRecord = {
    direction: checkOneOf(o.direction, `${path}.direction`, CALL_DIRECTIONS),
    number: checkString(o.number, `${path}.number`, { maxLength: MAX_TEXT }),
    name: checkOptional(o.name, (v) => checkString(v, `${path}.name`, { maxLength: MAX_TEXT })),
    startedAt: checkNumber(o.startedAt, `${path}.startedAt`, { min: 0 }),
    durationS: checkOptional(o.durationS, (v) => checkNumber(v, `${path}.durationS`, { min: 0 })),
    outcome: checkOneOf(o.outcome, `${path}.outcome`, CALL_OUTCOMES),
    forwardedTo: checkOptional(o.forwardedTo, (v) => checkString(v, `${path}.forwardedTo`, { maxLength: MAX_TEXT })),
  };
  if (record.name === undefined) delete record.name;
  if (record.forwardedTo === undefined) delete record.forwardedTo;
  if (record.durationS === undefined) delete record.durationS;
  return record;
}

/** A stored history, checked entry by entry; lists longer than maxPerList are cut (the limit may have been lowered). */
export function validateCallHistory(data: unknown, maxPerList = 100): CallHistoryData {
  const o = checkObject(data, 'history');
  const lists = {} as Record<CallListName, CallRecord[]>;
  for (const name of CALL_LISTS) {
    lists[name] = checkArray(o[name], name)
      .map((v, i) => {
        const r = checkRecord(v, `${name}[${i}]`);
        if (callListOf(r) !== name) throw new StoreFormatError(`${name}[${i}]: a ${r.direction} ${r.outcome} call does not belong in ${name}`);
        return r;
      })
      .slice(0, maxPerList);
  }
  return { ...lists, missedUnseen: checkNumber(o.missedUnseen, 'missedUnseen', { min: 0, integer: true }) };
}

/**
 * The phone's call lists. Entries are kept in the order they were added, newest first, not sorted
 * by startedAt: a Pi has no real-time clock, and calls logged before NTP set the time would
 * otherwise sink below older ones.
 */
export class CallHistory {
  private readonly events = new Emitter<CallHistoryEvents>();
  private readonly store: JsonStore<CallHistoryData>;
  private readonly maxPerList: number;

  constructor(o: CallHistoryOptions) {
    this.maxPerList = o.maxPerList ?? 100;
    this.store = new JsonStore({
      file: o.file,
      kind: 'offhook-call-history',
      validate: (data) => validateCallHistory(data, this.maxPerList),
      defaults: emptyHistory,
      clock: o.clock,
      log: o.log,
      ...(o.debounceMs !== undefined ? { debounceMs: o.debounceMs } : {}),
    });
    this.store.on('corrupt', (report) => this.events.emit('corrupt', report));
    this.store.on('error', (err) => this.events.emit('error', err));
  }

  on<K extends keyof CallHistoryEvents>(event: K, listener: (...args: CallHistoryEvents[K]) => void): Unsubscribe {
    return this.events.on(event, listener);
  }

  /** Reads the file at start; a broken one is moved aside and the history starts empty. */
  async load(): Promise<StoreLoadResult> {
    const result = await this.store.load();
    this.events.emit('change');
    return result;
  }

  /** Logs a finished call in its list (callListOf) and returns that list's name; throws StoreFormatError for a malformed record. */
  add(call: CallRecord): CallListName {
    // A caller's display name is theirs to make long: it is cut, not refused.
    const record = checkRecord(call.name !== undefined && call.name.length > MAX_TEXT ? { ...call, name: call.name.slice(0, MAX_TEXT) } : call, 'call');
    const list = callListOf(record);
    this.store.update((h) => ({
      ...h,
      [list]: [record, ...h[list]].slice(0, this.maxPerList),
      missedUnseen: list === 'missed' ? h.missedUnseen + 1 : h.missedUnseen,
    }));
    this.events.emit('change');
    return list;
  }

  /** Newest first. */
  list(name: CallListName): readonly CallRecord[] {
    return this.store.value[name];
  }

  /** Missed calls since the missed list was last viewed. */
  get missedUnseen(): number {
    return this.store.value.missedUnseen;
  }

  /** The user opened the missed-calls list. */
  markMissedViewed(): void {
    if (this.store.value.missedUnseen === 0) return;
    this.store.update((h) => ({ ...h, missedUnseen: 0 }));
    this.events.emit('change');
  }

  /** Deletes one entry (index in the list, newest first); false when there is none there. */
  remove(name: CallListName, index: number): boolean {
    if (this.store.value[name][index] === undefined) return false;
    this.store.update((h) => ({ ...h, [name]: h[name].filter((_, i) => i !== index) }));
    this.events.emit('change');
    return true;
  }

  /** Empties one list, or all of them. Clearing the missed list also clears its unseen count. */
  clear(name?: CallListName): void {
    this.store.update((h) => {
      if (name === undefined) return emptyHistory();
      return { ...h, [name]: [], missedUnseen: name === 'missed' ? 0 : h.missedUnseen };
    });
    this.events.emit('change');
  }

  /** Writes pending changes now (shutdown). */
  flush(): Promise<void> {
    return this.store.flush();
  }

  close(): Promise<void> {
    return this.store.close();
  }
}
