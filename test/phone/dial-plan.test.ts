// The dial plan: digit-map syntax and its errors, the match verdicts, and the digit collector on a virtual clock.
import { describe, expect, it } from 'vitest';
import { BACKSPACE, DialPlan, DialPlanError, DigitCollector, matchDigitMap, parseDigitMap, type DialMatch, type DialPlanOptions } from '../../firmware/phone/dial-plan.js';
import { VirtualClock } from '../../firmware/util/clock.js';

const EXAMPLE = '[2-9]xx|0|911|1[2-9]xx[2-9]xxxxxx|*xx';

const complete: DialMatch = { status: 'complete' };
const invalid: DialMatch = { status: 'invalid' };
const wait: DialMatch = { status: 'partial', sendOnTimeout: false };
const waitThenSend: DialMatch = { status: 'partial', sendOnTimeout: true };

describe('digit map matching', () => {
  const cases: [map: string, dialed: string, expected: DialMatch][] = [
    // The example map.
    [EXAMPLE, '', wait],
    [EXAMPLE, '2', wait],
    [EXAMPLE, '21', wait],
    [EXAMPLE, '211', complete],
    [EXAMPLE, '2111', invalid],
    [EXAMPLE, '0', complete],
    [EXAMPLE, '00', invalid],
    [EXAMPLE, '9', wait],
    [EXAMPLE, '911', complete],
    [EXAMPLE, '1', wait],
    [EXAMPLE, '11', invalid],
    [EXAMPLE, '1212', wait],
    [EXAMPLE, '1210', wait],
    [EXAMPLE, '12101', invalid],
    [EXAMPLE, '1212555123', wait],
    [EXAMPLE, '12125551234', complete],
    [EXAMPLE, '121255512345', invalid],
    [EXAMPLE, '*', wait],
    [EXAMPLE, '*7', wait],
    [EXAMPLE, '*72', complete],
    [EXAMPLE, '*7*', invalid],
    [EXAMPLE, '#', invalid],
    [EXAMPLE, '2#', invalid],
    // A full match that could go on waits for the timer, then sends (Cisco's short timer case).
    ['011x.|0', '0', waitThenSend],
    ['011x.|0', '01', wait],
    ['011x.|0', '011', waitThenSend],
    ['011x.|0', '0114930123', waitThenSend],
    ['011x.|0', '012', invalid],
    ['xx|xxxx', '12', waitThenSend],
    ['xx|xxxx', '123', wait],
    ['xx|xxxx', '1234', complete],
    // T: a full match sends only on the timer.
    ['xxxxT', '123', wait],
    ['xxxxT', '1234', waitThenSend],
    ['xxxxT', '12345', invalid],
    ['911|911T', '911', complete],
    ['0T|011x.', '0', waitThenSend],
    // '.' repeats zero or more times, the empty string is never sendable.
    ['x.', '', wait],
    ['x.', '5', waitThenSend],
    ['x.', '*', invalid],
    ['9x.1', '91', waitThenSend],
    ['9x.1', '9551', waitThenSend],
    ['9x.1', '955', wait],
    ['*x.#', '*12#', complete],
    ['*x.#', '*#', complete],
    // Sets and ranges.
    ['[135]', '1', complete],
    ['[135]', '2', invalid],
    ['[0-35*]', '*', complete],
    ['[0-35*]', '4', invalid],
    ['[0-35*]', '2', complete],
    ['[#*]x', '#', wait],
    ['[#*]x', '#1', complete],
    // Parentheses, white space, either case.
    ['(911|[2-9]xx)', '911', complete],
    [' 911 | 0 ', '0', complete],
    ['1XX', '123', complete],
    ['1xxt', '123', waitThenSend],
    // The empty map: everything waits; the timer sends anything but nothing.
    ['', '', wait],
    ['', '5', waitThenSend],
    ['()', '*123#', waitThenSend],
  ];
  it.each(cases)('%s with "%s"', (map, dialed, expected) => {
    expect(new DialPlan({ map }).match(dialed)).toEqual(expected);
  });

  it('parses elements, repeats and timers', () => {
    const [p1, p2] = parseDigitMap('[2-4]x.|*7T');
    expect(p1?.source).toBe('[2-4]x.');
    expect(p1?.elements.map((e) => [[...e.keys].join(''), e.repeat])).toEqual([
      ['234', false],
      ['0123456789', true],
    ]);
    expect(p1?.timer).toBe(false);
    expect(p2?.timer).toBe(true);
    expect(parseDigitMap('')).toEqual([]);
    expect(parseDigitMap(' ( ) ')).toEqual([]);
    expect(matchDigitMap(parseDigitMap('0'), '0')).toEqual(complete);
  });
});

describe('digit map syntax errors', () => {
  const errors: [map: string, column: number, message: RegExp][] = [
    ['[2-9xx', 1, /missing "]"/],
    ['91|', 4, /empty pattern/],
    ['|91', 1, /empty pattern/],
    ['91||0', 4, /empty pattern/],
    ['.1', 1, /"\." must follow/],
    ['1..', 3, /already repeated/],
    ['1T2', 3, /only at the end/],
    ['T', 1, /"T" alone/],
    ['x[]', 2, /empty set/],
    ['[9-2]', 2, /backwards/],
    ['[2-]', 3, /digit after "-"/],
    ['[*-5]', 3, /joins two digits/],
    ['[a]', 2, /cannot appear in a \[set\]/],
    ['12a', 3, /unexpected "a"/],
    ['(12', 4, /missing "\)"/],
    ['1(2)', 2, /parentheses/],
    ['1]', 2, /without a "\["/],
    ['91 | 2q', 7, /unexpected "q"/],
  ];
  it.each(errors)('%s fails at column %i', (map, column, message) => {
    let error: unknown;
    try {
      new DialPlan({ map });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(DialPlanError);
    expect((error as DialPlanError).position).toBe(column);
    expect((error as DialPlanError).message).toMatch(message);
    expect((error as DialPlanError).message).toContain(`column ${column}:`);
  });
});

type Event = ['send', string, string] | ['invalid', string] | ['timeout', string];

function collector(options: DialPlanOptions = { map: EXAMPLE }) {
  const clock = new VirtualClock();
  const plan = new DialPlan(options);
  const c = new DigitCollector(plan, clock);
  const events: Event[] = [];
  c.on('send', (number, reason) => events.push(['send', number, reason]));
  c.on('invalid', (dialed) => events.push(['invalid', dialed]));
  c.on('timeout', (dialed) => events.push(['timeout', dialed]));
  const type = (keys: string): void => {
    for (const k of keys) c.key(k);
  };
  return { clock, plan, c, events, type };
}

describe('DigitCollector', () => {
  it('has the documented defaults, and bounded timeouts', () => {
    const plan = new DialPlan();
    expect([plan.map, plan.interDigitMs, plan.firstDigitMs, plan.sendKey]).toEqual(['', 4000, 10_000, '#']);
    expect(() => new DialPlan({ interDigitMs: 0 })).toThrow(RangeError);
    expect(() => new DialPlan({ firstDigitMs: Infinity })).toThrow(/firstDigitMs/);
  });

  it('sends a complete number at once, with no timer left', () => {
    const { c, clock, events, type } = collector();
    c.start();
    type('211');
    expect(events).toEqual([['send', '211', 'match']]);
    expect(c.done).toBe(true);
    expect(clock.pending).toBe(0);
  });

  it('sends 911 and 0 at once', () => {
    for (const number of ['911', '0']) {
      const { events, type } = collector();
      type(number);
      expect(events).toEqual([['send', number, 'match']]);
    }
  });

  it('reports an impossible number on the key that makes it so, and ignores later keys', () => {
    const { c, events, type, clock } = collector();
    type('11');
    expect(events).toEqual([['invalid', '11']]);
    expect(c.key('2')).toBe(false);
    expect(clock.pending).toBe(0);
    expect(c.dialed).toBe('11');
  });

  it('gives up after the inter-digit timeout when nothing matches in full', async () => {
    const { events, type, clock } = collector();
    type('91');
    await clock.advance(3999);
    expect(events).toEqual([]);
    await clock.advance(1);
    expect(events).toEqual([['timeout', '91']]);
  });

  it('restarts the inter-digit timer on every key', async () => {
    const { events, c, clock } = collector();
    c.key('1');
    await clock.advance(3000);
    c.key('2');
    await clock.advance(3900);
    expect(events).toEqual([]);
    await clock.advance(100);
    expect(events).toEqual([['timeout', '12']]);
  });

  it('sends a full match that could go on when the inter-digit timer expires', async () => {
    const { events, type, clock } = collector({ map: '011x.|0', interDigitMs: 2000 });
    type('0');
    await clock.advance(1999);
    expect(events).toEqual([]);
    await clock.advance(1);
    expect(events).toEqual([['send', '0', 'timeout']]);

    const second = collector({ map: '011x.|0' });
    second.type('01149');
    await second.clock.advance(4000);
    expect(second.events).toEqual([['send', '01149', 'timeout']]);
  });

  it('sends a T pattern on the timer only', async () => {
    const { events, type, clock } = collector({ map: 'xxxxT' });
    type('1234');
    expect(events).toEqual([]);
    await clock.advance(4000);
    expect(events).toEqual([['send', '1234', 'timeout']]);
  });

  it('times out before the first digit', async () => {
    const { c, events, clock } = collector({ map: EXAMPLE, firstDigitMs: 5000 });
    c.start();
    await clock.advance(4999);
    expect(events).toEqual([]);
    await clock.advance(1);
    expect(events).toEqual([['timeout', '']]);
  });

  it('backspace erases the last digit and re-evaluates; to empty, the first-digit timer runs again', async () => {
    const { c, events } = collector();
    c.start();
    c.key('1');
    c.key('2');
    expect(c.key(BACKSPACE)).toBe(true);
    expect(c.dialed).toBe('1');
    expect(c.lastMatch).toEqual(wait);
    c.key('1'); // "11" is impossible
    expect(events).toEqual([['invalid', '11']]);

    const second = collector();
    second.c.start();
    second.c.key('2');
    expect(second.c.backspace()).toBe(true);
    expect(second.c.backspace()).toBe(false);
    await second.clock.advance(9_999);
    expect(second.events).toEqual([]);
    await second.clock.advance(1);
    expect(second.events).toEqual([['timeout', '']]);
  });

  it('"#" sends what was dialed when it cannot continue the number', () => {
    const { events, type } = collector();
    type('12#');
    expect(events).toEqual([['send', '12', 'send-key']]);
  });

  it('"#" is a digit when the map can use it, and when nothing was dialed', () => {
    const { events, type } = collector({ map: '*x.#|x.' });
    type('*12#');
    expect(events).toEqual([['send', '*12#', 'match']]);

    const first = collector({ map: '#xx|x.' });
    first.type('#12');
    expect(first.events).toEqual([['send', '#12', 'match']]);
  });

  it('without a send key "#" is just a key', () => {
    const { events, type } = collector({ map: EXAMPLE, sendKey: null });
    type('12#');
    expect(events).toEqual([['invalid', '12#']]);
  });

  it('with an empty map sends on "#" or on the timeout only', async () => {
    const { events, type, clock } = collector({ map: '' });
    type('5551234');
    await clock.advance(3999);
    expect(events).toEqual([]);
    type('#');
    expect(events).toEqual([['send', '5551234', 'send-key']]);

    const timed = collector({ map: '' });
    timed.type('5551234');
    await timed.clock.advance(4000);
    expect(timed.events).toEqual([['send', '5551234', 'timeout']]);

    const nothing = collector({ map: '', sendKey: null });
    nothing.c.start();
    await nothing.clock.advance(10_000);
    expect(nothing.events).toEqual([['timeout', '']]);
  });

  it('ignores keys that are not dial keys', () => {
    const { c } = collector();
    expect(c.key('A')).toBe(false);
    expect(c.dialed).toBe('');
  });

  it('stop() cancels the timers; reset() starts over', async () => {
    const { c, events, clock, type } = collector();
    type('91');
    c.stop();
    await clock.advance(60_000);
    expect(events).toEqual([]);
    c.reset();
    expect(c.done).toBe(false);
    type('911');
    expect(events).toEqual([['send', '911', 'match']]);
  });
});
