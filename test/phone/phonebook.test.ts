// The phonebook: number normalisation, caller-ID lookup, name-prefix search, speed dials and the checks of config entries.
import { describe, expect, it } from 'vitest';
import { checkPhonebook, normalizeNumber, Phonebook, PhonebookError, type PhonebookEntry } from '../../firmware/phone/phonebook.js';

const entries: PhonebookEntry[] = [
  { name: 'Alice Martin', number: '1002', speedDial: 2 },
  { name: 'bob', number: 'sip:bob@pbx.example.com' },
  { name: 'Zoë Dupont', number: '+33 1 23 45 67 89', speedDial: 12 },
  { name: 'Reception', number: '(030) 1234-567' },
  { name: 'Mary-Jane Jones', number: '0049 89 555 0100', speedDial: 0 },
  { name: 'Alice (mobile)', number: 'tel:+1-212-555-0199' },
];

describe('normalizeNumber', () => {
  it.each([
    ['1002', '1002'],
    [' 10 02 ', '1002'],
    ['sip:1002@pbx.example.com', '1002'],
    ['sips:1002@pbx.example.com:5061;transport=tls', '1002'],
    ['SIP:1002@pbx.example.com;user=phone', '1002'],
    ['"Alice" <sip:1002@pbx.example.com>;tag=abc', '1002'],
    ['<sip:%2B4930123@pbx>', '+4930123'],
    ['sip:+1-212-555-0199;phone-context=+1@pbx.example.com;user=phone', '+12125550199'],
    ['tel:+1-212-555-0199', '+12125550199'],
    ['tel:7042;phone-context=example.com', '7042'],
    ['+33 1 23 45 67 89', '+33123456789'],
    ['0033 1 23 45 67 89', '+33123456789'],
    ['(030) 1234-567', '0301234567'],
    ['*97', '*97'],
    ['sip:bob@pbx.example.com', 'bob'],
    ['Bob', 'bob'],
    ['sip:pbx.example.com', 'pbx.example.com'],
    ['', ''],
    ['   ', ''],
  ])('%s → %s', (input, expected) => {
    expect(normalizeNumber(input)).toBe(expected);
  });

  it('knows other international prefixes, or none', () => {
    expect(normalizeNumber('011 44 20 7946 0000', { internationalPrefix: '011' })).toBe('+442079460000');
    expect(normalizeNumber('0044', { internationalPrefix: null })).toBe('0044');
    expect(normalizeNumber('00')).toBe('00');
  });
});

describe('Phonebook', () => {
  const book = new Phonebook(entries);

  it.each([
    ['1002', 'Alice Martin'],
    ['sip:1002@pbx.example.com', 'Alice Martin'],
    ['"Someone else" <sip:1002@10.0.0.1;transport=udp>', 'Alice Martin'],
    ['+1002', 'Alice Martin'],
    ['sip:bob@other.example.org', 'bob'],
    ['sip:+33123456789@pbx.example.com;user=phone', 'Zoë Dupont'],
    ['0033123456789', 'Zoë Dupont'],
    ['33123456789', 'Zoë Dupont'],
    ['0301234567', 'Reception'],
    ['+4989 5550100', 'Mary-Jane Jones'],
    ['sip:+12125550199@pbx', 'Alice (mobile)'],
  ])('finds the caller %s', (caller, name) => {
    expect(book.nameFor(caller)).toBe(name);
  });

  it('does not guess', () => {
    expect(book.lookup('1003')).toBeUndefined();
    expect(book.lookup('100')).toBeUndefined();
    expect(book.lookup('')).toBeUndefined();
    expect(book.lookup('sip:anonymous@anonymous.invalid')).toBeUndefined();
  });

  it('the first of several entries with one number names the caller', () => {
    const dup = new Phonebook([
      { name: 'First', number: '1002' },
      { name: 'Second', number: 'sip:1002@pbx' },
    ]);
    expect(dup.nameFor('1002')).toBe('First');
  });

  it.each([
    ['', ['Alice (mobile)', 'Alice Martin', 'bob', 'Mary-Jane Jones', 'Reception', 'Zoë Dupont']],
    ['al', ['Alice (mobile)', 'Alice Martin']],
    ['ALICE M', ['Alice Martin']],
    ['mar', ['Alice Martin', 'Mary-Jane Jones']],
    ['jane', ['Mary-Jane Jones']],
    ['jo', ['Mary-Jane Jones']],
    ['zoe', ['Zoë Dupont']],
    ['mob', ['Alice (mobile)']],
    ['B', ['bob']],
    ['x', []],
  ])('search "%s"', (prefix, names) => {
    expect(book.search(prefix).map((e) => e.name)).toEqual(names);
  });

  it('limits search results', () => {
    expect(book.search('', 2).map((e) => e.name)).toEqual(['Alice (mobile)', 'Alice Martin']);
  });

  it('finds speed dials by key', () => {
    expect(book.speedDial(2)?.name).toBe('Alice Martin');
    expect(book.speedDial('12')?.name).toBe('Zoë Dupont');
    expect(book.speedDial('0')?.name).toBe('Mary-Jane Jones');
    expect(book.speedDial('02')?.name).toBe('Alice Martin');
    expect(book.speedDial(3)).toBeUndefined();
    expect(book.speedDial('A')).toBeUndefined();
    expect(book.speedDial('123')).toBeUndefined();
    expect(book.speedDials().map((s) => [s.key, s.entry.name])).toEqual([
      [0, 'Mary-Jane Jones'],
      [2, 'Alice Martin'],
      [12, 'Zoë Dupont'],
    ]);
  });

  it('keeps the entries in config order and is empty by default', () => {
    expect(book.entries.map((e) => e.name)[0]).toBe('Alice Martin');
    expect(book.size).toBe(6);
    expect(new Phonebook().search('a')).toEqual([]);
  });
});

describe('checkPhonebook', () => {
  it('names every problem by entry and field', () => {
    const issues = checkPhonebook([
      { name: 'A', number: '1', speedDial: 1 },
      { name: ' ', number: '2' },
      { name: 'C', number: '  ', speedDial: 1 },
      { name: 'D', number: '4', speedDial: 100 },
      { name: 'E', number: '5', speedDial: 1.5 },
    ]);
    expect(issues).toEqual([
      { index: 1, field: 'name', message: 'a name is needed' },
      { index: 2, field: 'number', message: '"  " holds no number or address' },
      { index: 2, field: 'speedDial', message: 'speed dial 1 is already used by entry 0 (A)' },
      { index: 3, field: 'speedDial', message: 'expected an integer from 0 to 99, got 100' },
      { index: 4, field: 'speedDial', message: 'expected an integer from 0 to 99, got 1.5' },
    ]);
    expect(() => new Phonebook([{ name: 'A', number: '1', speedDial: 1 }, { name: 'B', number: '2', speedDial: 1 }])).toThrow(PhonebookError);
    expect(() => new Phonebook([{ name: '', number: '1' }])).toThrow('phonebook[0].name: a name is needed');
  });
});
