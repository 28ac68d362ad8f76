// The call history: which list a call goes in, order and limits, the unseen missed count, persistence and broken files.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CallHistory, callListOf, validateCallHistory, type CallRecord } from '../../firmware/phone/call-history.js';
import { StoreFormatError } from '../../firmware/phone/json-store.js';
import { VirtualClock } from '../../firmware/util/clock.js';
import { silentLogger } from '../../firmware/util/log.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'offhook-history-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function history(maxPerList?: number) {
  const clock = new VirtualClock();
  const file = join(dir, 'history.json');
  const h = new CallHistory({ file, clock, log: silentLogger(), ...(maxPerList !== undefined ? { maxPerList } : {}) });
  let changes = 0;
  h.on('change', () => changes++);
  return { h, clock, file, changes: () => changes };
}

const T0 = Date.UTC(2026, 0, 1, 9, 0, 0);
const missed = (number: string, at = T0): CallRecord => ({ direction: 'incoming', number, startedAt: at, outcome: 'missed' });
const received = (number: string, at = T0): CallRecord => ({ direction: 'incoming', number, name: 'Alice', startedAt: at, durationS: 62, outcome: 'answered' });
const dialed = (number: string, at = T0): CallRecord => ({ direction: 'outgoing', number, startedAt: at, outcome: 'busy' });

describe('call lists', () => {
  it.each([
    ['outgoing', 'answered', 'dialed'],
    ['outgoing', 'busy', 'dialed'],
    ['outgoing', 'cancelled', 'dialed'],
    ['incoming', 'answered', 'received'],
    ['incoming', 'rejected', 'received'],
    ['incoming', 'missed', 'missed'],
    ['incoming', 'failed', 'missed'],
  ] as const)('%s %s goes in %s', (direction, outcome, list) => {
    expect(callListOf({ direction, outcome })).toBe(list);
  });
});

describe('CallHistory', () => {
  it('files calls in their lists, newest first', async () => {
    const { h, changes } = history();
    expect(await h.load()).toEqual({ status: 'missing' });
    expect(h.add(missed('1002'))).toBe('missed');
    expect(h.add(received('1003'))).toBe('received');
    expect(h.add(dialed('1004'))).toBe('dialed');
    h.add(missed('1005', T0 + 1000));
    expect(h.list('missed').map((c) => c.number)).toEqual(['1005', '1002']);
    expect(h.list('received')).toEqual([received('1003')]);
    expect(h.list('dialed')).toEqual([dialed('1004')]);
    expect(changes()).toBe(5);
  });

  it('cuts a caller\'s long display name to 256 characters instead of refusing the record', async () => {
    const { h } = history();
    await h.load();
    h.add({ ...missed('1002'), name: 'x'.repeat(300) });
    expect(h.list('missed')[0]?.name).toBe('x'.repeat(256));
  });

  it('keeps 100 entries per list, dropping the oldest', async () => {
    const { h } = history();
    await h.load();
    for (let i = 0; i < 130; i++) h.add(dialed(String(1000 + i), T0 + i));
    expect(h.list('dialed')).toHaveLength(100);
    expect(h.list('dialed')[0]?.number).toBe('1129');
    expect(h.list('dialed')[99]?.number).toBe('1030');
  });

  it('keeps entries in the order they were added, even when the wall clock went back (no RTC before NTP)', async () => {
    const { h } = history();
    await h.load();
    h.add(dialed('1', T0));
    h.add(dialed('2', 0));
    expect(h.list('dialed').map((c) => c.number)).toEqual(['2', '1']);
  });

  it('counts missed calls since the list was last viewed', async () => {
    const { h, changes } = history();
    await h.load();
    h.add(missed('1'));
    h.add(missed('2'));
    h.add(received('3'));
    expect(h.missedUnseen).toBe(2);
    h.markMissedViewed();
    expect(h.missedUnseen).toBe(0);
    const before = changes();
    h.markMissedViewed();
    expect(changes()).toBe(before);
    h.add(missed('4'));
    expect(h.missedUnseen).toBe(1);
    expect(h.list('missed')).toHaveLength(3);
  });

  it('persists the lists and the unseen count', async () => {
    const a = history();
    await a.h.load();
    a.h.add(missed('1002'));
    a.h.add(received('1003'));
    a.h.add({ direction: 'outgoing', number: 'sip:alice@example.com', startedAt: T0, outcome: 'failed' });
    await a.clock.advance(1000);
    await a.h.flush();
    const b = history();
    expect(await b.h.load()).toEqual({ status: 'loaded' });
    expect(b.h.list('missed')).toEqual([missed('1002')]);
    expect(b.h.list('received')).toEqual([received('1003')]);
    expect(b.h.list('dialed')[0]?.number).toBe('sip:alice@example.com');
    expect(b.h.missedUnseen).toBe(1);
  });

  it('clears one list or all', async () => {
    const { h } = history();
    await h.load();
    h.add(missed('1'));
    h.add(dialed('2'));
    h.clear('missed');
    expect(h.list('missed')).toEqual([]);
    expect(h.missedUnseen).toBe(0);
    expect(h.list('dialed')).toHaveLength(1);
    h.clear();
    expect(h.list('dialed')).toEqual([]);
  });

  it('refuses a malformed record', async () => {
    const { h } = history();
    await h.load();
    expect(() => h.add({ ...dialed('1'), startedAt: Number.NaN })).toThrow(StoreFormatError);
    expect(() => h.add({ ...dialed('1'), outcome: 'exploded' as never })).toThrow(/call.outcome/);
    expect(h.add({ direction: 'incoming', number: '', startedAt: T0, outcome: 'missed' })).toBe('missed');
  });

  it('moves a truncated file aside and starts empty', async () => {
    const a = history();
    await a.h.load();
    a.h.add(missed('1002'));
    await a.h.close();
    const text = readFileSync(a.file, 'utf8');
    writeFileSync(a.file, text.slice(0, text.length >> 1));
    const b = history();
    const reports: unknown[] = [];
    b.h.on('corrupt', (r) => reports.push(r));
    const result = await b.h.load();
    expect(result).toMatchObject({ status: 'corrupt', movedTo: `${a.file}.corrupt-20260101T090000Z` });
    expect(reports).toHaveLength(1);
    expect(existsSync(`${a.file}.corrupt-20260101T090000Z`)).toBe(true);
    expect(b.h.list('missed')).toEqual([]);
    expect(b.h.missedUnseen).toBe(0);
  });
});

describe('validateCallHistory', () => {
  const good = { missed: [missed('1')], received: [], dialed: [], missedUnseen: 1 };

  it('accepts a good history and cuts lists to the limit', () => {
    expect(validateCallHistory(good)).toEqual(good);
    expect(validateCallHistory({ ...good, dialed: [dialed('1'), dialed('2'), dialed('3')] }, 2).dialed).toHaveLength(2);
  });

  it.each([
    ['a missing list', { ...good, dialed: undefined }, /dialed: expected a list/],
    ['a call in the wrong list', { ...good, received: [missed('1')] }, /received\[0\]: a incoming missed call does not belong/],
    ['a bad direction', { ...good, missed: [{ ...missed('1'), direction: 'sideways' }] }, /missed\[0\]\.direction/],
    ['a negative duration', { ...good, received: [{ ...received('1'), durationS: -1 }] }, /received\[0\]\.durationS/],
    ['a fractional count', { ...good, missedUnseen: 1.5 }, /missedUnseen/],
  ])('rejects %s', (_what, data, message) => {
    expect(() => validateCallHistory(data)).toThrow(message);
  });
});
