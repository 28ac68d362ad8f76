// DTMF in SIP INFO: dtmf-relay and dtmf bodies built and parsed (table-driven), and INFO answered 200 / 400 / 415 on the loopback.
import { describe, expect, it } from 'vitest';
import { MediaType, Params } from '../../../firmware/sip/message/index.js';
import {
  DTMF_EVENT_CODES,
  type DtmfDigit,
  answerDtmfInfo,
  buildDtmfRelayBody,
  dtmfDigitOf,
  dtmfInfoRequestOptions,
  parseDtmfInfo,
} from '../../../firmware/sip/ua/dtmf-info.js';
import { layerAndPeer } from '../support/layer-fixture.js';
import { makeRequest } from '../support/sip-builders.js';

const RELAY = 'application/dtmf-relay';

const GOOD: [string, string, string, DtmfDigit, number | undefined][] = [
  ['the usual body', RELAY, 'Signal=5\r\nDuration=160\r\n', '5', 160],
  ['star', RELAY, 'Signal=*\r\nDuration=100\r\n', '*', 100],
  ['hash', RELAY, 'Signal=#\r\nDuration=250\r\n', '#', 250],
  ['A-D in lower case', RELAY, 'Signal=d\r\nDuration=160\r\n', 'D', 160],
  ['flash as "!"', RELAY, 'Signal=!\r\nDuration=160\r\n', 'flash', 160],
  ['flash as its RFC 4733 code', RELAY, 'Signal=16\r\nDuration=160\r\n', 'flash', 160],
  ['flash as "hf"', RELAY, 'Signal=hf\r\n', 'flash', undefined],
  ['* as its code 10', RELAY, 'Signal=10\r\n', '*', undefined],
  ['# as its code 11', RELAY, 'Signal=11\r\n', '#', undefined],
  ['C as its code 14', RELAY, 'Signal=14\r\n', 'C', undefined],
  ['spaces, case, bare LF, other lines', RELAY, 'signal = 7 \nX-Foo=1\nDURATION= 80\n', '7', 80],
  ['no Duration', RELAY, 'Signal=0', '0', undefined],
  ['a Duration that is no number is ignored', RELAY, 'Signal=9\r\nDuration=long\r\n', '9', undefined],
  ['a Duration over a minute is ignored', RELAY, 'Signal=9\r\nDuration=600000\r\n', '9', undefined],
  ['Content-Type with parameters and in capitals', 'Application/DTMF-Relay; charset=us-ascii', 'Signal=3\r\n', '3', undefined],
  ['application/dtmf: one key', 'application/dtmf', '8', '8', undefined],
  ['application/dtmf: whitespace around it', 'application/dtmf', ' #\r\n', '#', undefined],
  ['application/dtmf: flash', 'application/dtmf', '!', 'flash', undefined],
  ['application/dtmf: a code', 'application/dtmf', '16', 'flash', undefined],
];

const BAD: [string, string | undefined, string, string, number][] = [
  ['another body type', 'application/media_control+xml', '<media_control/>', 'unsupported-type', 415],
  ['no Content-Type', undefined, 'Signal=5', 'missing-type', 400],
  ['no Signal line', RELAY, 'Duration=160\r\n', 'malformed', 400],
  ['a Signal that is no key', RELAY, 'Signal=E\r\n', 'malformed', 400],
  ['a code out of range', RELAY, 'Signal=17\r\n', 'malformed', 400],
  ['an empty Signal', RELAY, 'Signal=\r\n', 'malformed', 400],
  ['application/dtmf with two keys', 'application/dtmf', '12 3', 'malformed', 400],
  ['a body too large for one key', RELAY, `Signal=5\r\n${'X: y\r\n'.repeat(200)}`, 'too-large', 400],
  ['no body at all', RELAY, '', 'empty', 200],
];

describe('parseDtmfInfo', () => {
  it.each(GOOD)('%s', (_name, type, body, digit, durationMs) => {
    const r = parseDtmfInfo(type, body);
    if (!r.ok) throw r.error;
    expect(r.event).toEqual({ digit, code: DTMF_EVENT_CODES[digit], durationMs });
    // Bytes and a parsed media type read the same.
    const [t, s] = type.split(';')[0]!.split('/');
    expect(parseDtmfInfo(new MediaType(t!, s!, Params.EMPTY), Buffer.from(body))).toEqual(r);
  });

  it.each(BAD)('refuses %s', (_name, type, body, code, status) => {
    const r = parseDtmfInfo(type, body);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.code).toBe(code);
    expect(r.error.status).toBe(status);
  });
});

describe('building DTMF INFO bodies', () => {
  it.each(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '#', 'A', 'B', 'C', 'D', 'flash'] as DtmfDigit[])('writes %s so that it reads back', (digit) => {
    const body = buildDtmfRelayBody(digit);
    const r = parseDtmfInfo(RELAY, body);
    expect(r.ok && r.event).toEqual({ digit, code: DTMF_EVENT_CODES[digit], durationMs: 160 });
  });

  it('writes the usual form, with the duration and the flash as asked', () => {
    expect(buildDtmfRelayBody('5')).toBe('Signal=5\r\nDuration=160\r\n');
    expect(buildDtmfRelayBody('#', { durationMs: 250 })).toBe('Signal=#\r\nDuration=250\r\n');
    expect(buildDtmfRelayBody('flash')).toBe('Signal=!\r\nDuration=160\r\n');
    expect(buildDtmfRelayBody('flash', { flashAs: '16' })).toBe('Signal=16\r\nDuration=160\r\n');
    expect(dtmfInfoRequestOptions('7')).toEqual({ body: 'Signal=7\r\nDuration=160\r\n', contentType: RELAY });
    expect(() => buildDtmfRelayBody('5', { durationMs: 0 })).toThrow(RangeError);
    expect(() => buildDtmfRelayBody('E' as DtmfDigit)).toThrow(RangeError);
  });

  it('maps signals to keys', () => {
    expect(['5', 'a', '!', '12', '05', 'flash', 'HF', 'x', '', '123'].map(dtmfDigitOf)).toEqual(['5', 'A', 'flash', 'A', '5', 'flash', 'flash', undefined, undefined, undefined]);
  });
});

describe('answerDtmfInfo', () => {
  async function send(contentType: string | undefined, body: string) {
    const { clock, alice, bob } = layerAndPeer({ validation: false });
    const results: ReturnType<typeof answerDtmfInfo>[] = [];
    alice.layer.on('request', (tx) => results.push(answerDtmfInfo(tx)));
    const info = makeRequest({ method: 'INFO', uri: 'sip:alice@10.0.0.1', toTag: 'a', via: { host: '10.0.0.2', branch: 'z9hG4bKinfo1' }, body, ...(contentType !== undefined ? { contentType } : {}) });
    await bob.send(info, alice.target());
    await clock.advance(0);
    const res = bob.responses()[0]?.message;
    if (!res) throw new Error('no response');
    return { res, result: results[0] };
  }

  it('answers 200 and returns the key', async () => {
    const { res, result } = await send(RELAY, 'Signal=5\r\nDuration=160\r\n');
    expect(res.status).toBe(200);
    expect(result).toEqual({ ok: true, event: { digit: '5', code: 5, durationMs: 160 } });
  });

  it('answers 415 with Accept for another body type', async () => {
    const { res } = await send('application/media_control+xml', '<x/>');
    expect(res.status).toBe(415);
    expect(res.get('Accept')).toBe('application/dtmf-relay, application/dtmf');
  });

  it('answers 400 naming the problem for an unreadable DTMF body', async () => {
    const { res } = await send(RELAY, 'Signal=Z\r\n');
    expect(res.status).toBe(400);
    expect(res.reason).toContain('not a DTMF key');
  });

  it('answers 200 to an INFO without a body', async () => {
    const { res, result } = await send(undefined, '');
    expect(res.status).toBe(200);
    expect(result?.ok).toBe(false);
  });
});
