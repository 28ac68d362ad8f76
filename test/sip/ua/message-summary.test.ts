// parseMessageSummary(): RFC 3842 bodies as Asterisk, FreeSWITCH and others send them, the tolerances, and the typed errors.
import { describe, expect, it } from 'vitest';
import { type MessageSummary, type MessageSummaryErrorCode, formatMessageSummary, parseMessageSummary } from '../../../firmware/sip/ua/message-summary.js';

type Expected = Partial<Pick<MessageSummary, 'waiting' | 'statusInferred' | 'account' | 'messages'>> & { extraHeaders?: [string, string][] };

const GOOD: [string, string, Expected][] = [
  [
    'RFC 3842 §7 example',
    'Messages-Waiting: yes\r\nMessage-Account: sip:alice@vmail.example.com\r\nVoice-Message: 2/8 (0/2)\r\n',
    { waiting: true, statusInferred: false, account: 'sip:alice@vmail.example.com', messages: { voice: { newCount: 2, oldCount: 8, urgentNew: 0, urgentOld: 2 } } },
  ],
  [
    'Asterisk (res_pjsip_mwi), nothing waiting',
    'Messages-Waiting: no\r\nMessage-Account: sip:asterisk@10.0.0.2\r\nVoice-Message: 0/0 (0/0)\r\n',
    { waiting: false, account: 'sip:asterisk@10.0.0.2', messages: { voice: { newCount: 0, oldCount: 0, urgentNew: 0, urgentOld: 0 } } },
  ],
  [
    'Asterisk chan_sip with the voicemail extension as account',
    'Messages-Waiting: yes\r\nMessage-Account: sip:*97@pbx.example.com\r\nVoice-Message: 1/3 (1/0)\r\n',
    { waiting: true, account: 'sip:*97@pbx.example.com', messages: { voice: { newCount: 1, oldCount: 3, urgentNew: 1, urgentOld: 0 } } },
  ],
  [
    'FreeSWITCH mod_voicemail (trailing blank line)',
    'Messages-Waiting: yes\r\nMessage-Account: sip:1000@192.168.1.10\r\nVoice-Message: 1/0 (0/0)\r\n\r\n',
    { waiting: true, account: 'sip:1000@192.168.1.10', messages: { voice: { newCount: 1, oldCount: 0, urgentNew: 0, urgentOld: 0 } } },
  ],
  ['no urgent part', 'Messages-Waiting: yes\r\nVoice-Message: 3/1\r\n', { waiting: true, messages: { voice: { newCount: 3, oldCount: 1, urgentNew: 0, urgentOld: 0 } } }],
  ['status only', 'Messages-Waiting: no\r\n', { waiting: false, account: undefined, messages: {} }],
  [
    'names in any case, odd spacing, bare LF, no final newline',
    'messages-waiting:YES\nMESSAGE-ACCOUNT :   sip:2000@pbx  \nvoice-message:  4 / 2 ( 1 / 0 )',
    { waiting: true, account: 'sip:2000@pbx', messages: { voice: { newCount: 4, oldCount: 2, urgentNew: 1, urgentOld: 0 } } },
  ],
  ['tabs and a Yes', 'Messages-Waiting:\tYes\r\nVoice-Message:\t0/0\r\n', { waiting: true, messages: { voice: { newCount: 0, oldCount: 0, urgentNew: 0, urgentOld: 0 } } }],
  [
    'every message-context class (RFC 3458)',
    'Messages-Waiting: yes\r\nVoice-Message: 1/2\r\nFax-Message: 3/4 (1/1)\r\nPager-Message: 0/1\r\nMultimedia-Message: 5/6\r\nText-Message: 7/8\r\nNone-Message: 0/0\r\n',
    {
      messages: {
        voice: { newCount: 1, oldCount: 2, urgentNew: 0, urgentOld: 0 },
        fax: { newCount: 3, oldCount: 4, urgentNew: 1, urgentOld: 1 },
        pager: { newCount: 0, oldCount: 1, urgentNew: 0, urgentOld: 0 },
        multimedia: { newCount: 5, oldCount: 6, urgentNew: 0, urgentOld: 0 },
        text: { newCount: 7, oldCount: 8, urgentNew: 0, urgentOld: 0 },
        none: { newCount: 0, oldCount: 0, urgentNew: 0, urgentOld: 0 },
      },
    },
  ],
  [
    'extra headers and the optional message headers (RFC 3842 §5.2)',
    'Messages-Waiting: yes\r\nX-Vendor: 1\r\nVoice-Message: 1/0\r\n\r\nTo: <sip:alice@example.com>\r\nFrom: <sip:bob@example.com>\r\nSubject: call me\r\n  back please\r\n',
    {
      waiting: true,
      extraHeaders: [
        ['X-Vendor', '1'],
        ['To', '<sip:alice@example.com>'],
        ['From', '<sip:bob@example.com>'],
        ['Subject', 'call me back please'],
      ],
    },
  ],
  ['no Messages-Waiting: inferred from new messages', 'Voice-Message: 2/0\r\n', { waiting: true, statusInferred: true }],
  ['no Messages-Waiting and only old messages', 'Voice-Message: 0/5\r\n', { waiting: false, statusInferred: true }],
  ['a repeated class line: the first counts', 'Messages-Waiting: yes\r\nVoice-Message: 1/0\r\nVoice-Message: 9/9\r\n', { messages: { voice: { newCount: 1, oldCount: 0, urgentNew: 0, urgentOld: 0 } } }],
  ['Message-Account in angle brackets', 'Messages-Waiting: no\r\nMessage-Account: <sip:vm@pbx>\r\n', { account: 'sip:vm@pbx' }],
  ['leading blank lines', '\r\n\r\nMessages-Waiting: yes\r\n', { waiting: true }],
];

const BAD: [string, string | Uint8Array, MessageSummaryErrorCode, number][] = [
  ['empty', '', 'missing-status', 0],
  ['unknown lines only', 'X-Foo: bar\r\n', 'missing-status', 0],
  ['status neither yes nor no', 'Messages-Waiting: maybe\r\n', 'bad-status', 1],
  ['counts not numbers', 'Messages-Waiting: yes\r\nVoice-Message: two/eight\r\n', 'bad-counts', 2],
  ['negative count', 'Messages-Waiting: yes\r\nVoice-Message: -1/0\r\n', 'bad-counts', 2],
  ['one number', 'Messages-Waiting: yes\r\nVoice-Message: 3\r\n', 'bad-counts', 2],
  ['count out of range', 'Messages-Waiting: yes\r\nVoice-Message: 99999999999/0\r\n', 'bad-counts', 2],
  ['a line without a colon', 'Messages-Waiting yes\r\n', 'bad-line', 1],
  ['not UTF-8', Uint8Array.from([0x4d, 0xff, 0xfe, 0x0a]), 'not-text', 0],
  ['too large', `Messages-Waiting: yes\r\nX-Pad: ${'x'.repeat(5000)}\r\n`, 'too-large', 0],
];

describe('parseMessageSummary', () => {
  it.each(GOOD)('%s', (_name, body, expected) => {
    const r = parseMessageSummary(body);
    if (!r.ok) throw r.error;
    expect(r.summary).toMatchObject(expected);
    // Bytes parse the same as text.
    const fromBytes = parseMessageSummary(Buffer.from(body, 'utf8'));
    expect(fromBytes.ok && fromBytes.summary).toEqual(r.summary);
  });

  it.each(BAD)('refuses %s', (_name, body, code, line) => {
    const r = parseMessageSummary(body);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.code).toBe(code);
    expect(r.error.line).toBe(line);
    expect(r.error.name).toBe('MessageSummaryError');
  });

  it('parses the Message-Account as a URI when it is one', () => {
    const r = parseMessageSummary('Messages-Waiting: yes\r\nMessage-Account: sip:*97@pbx.example.com\r\n');
    expect(r.ok && r.summary.accountUri?.toString()).toBe('sip:*97@pbx.example.com');
    const odd = parseMessageSummary('Messages-Waiting: yes\r\nMessage-Account: not a uri\r\n');
    expect(odd.ok && odd.summary).toMatchObject({ account: 'not a uri', accountUri: undefined });
  });

  it('honours a smaller size limit', () => {
    const r = parseMessageSummary('Messages-Waiting: yes\r\n', { maxBytes: 10 });
    expect(!r.ok && r.error.code).toBe('too-large');
  });

  it('reads back what formatMessageSummary() writes', () => {
    const body = formatMessageSummary({ waiting: true, account: 'sip:vm@pbx', messages: { voice: { newCount: 2, oldCount: 1, urgentNew: 1, urgentOld: 0 }, fax: { newCount: 0, oldCount: 3, urgentNew: 0, urgentOld: 0 } } });
    expect(body).toBe('Messages-Waiting: yes\r\nMessage-Account: sip:vm@pbx\r\nVoice-Message: 2/1 (1/0)\r\nFax-Message: 0/3 (0/0)\r\n');
    const r = parseMessageSummary(body);
    expect(r.ok && r.summary.messages.fax).toEqual({ newCount: 0, oldCount: 3, urgentNew: 0, urgentOld: 0 });
  });
});
