// The UserAgent against SIPp: OPTIONS answered with Allow, each malformed request refused with its RFC 3261 §8.2 status, and transactions that complete under 10 % loss both ways.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UA_ACCEPT, UA_METHODS, UA_SUPPORTED } from '../../firmware/sip/ua/index.js';
import { MALFORMED_REQUESTS } from './support/malformed.js';
import { probeSip } from './support/sip-probe.js';
import { runSipp, startSipp } from './support/sipp.js';
import { type TestUa, startTestUa } from './support/user-agent.js';

/** One UA for a describe block: started before its tests, stopped after them. */
function uaForThisBlock(): () => TestUa {
  let phone: TestUa | undefined;
  beforeAll(async () => {
    phone = await startTestUa();
  });
  afterAll(async () => {
    await phone?.stop();
  });
  return () => {
    if (!phone) throw new Error('the UA did not start (see beforeAll)');
    return phone;
  };
}

describe('UserAgent as a UAS for SIPp', () => {
  const ua = uaForThisBlock();

  it('answers SIPp uac-options with 200 and Allow', async () => {
    const result = await runSipp({ scenario: 'uac-options', target: ua().hostPort, timeoutMs: 8000 });
    expect(result.ok, result.summary).toBe(true);
    expect(result.actionLog).toContain(`200 to OPTIONS, Allow: ${UA_METHODS.join(', ')}`);
    expect(result.messageLog).toContain(`Accept: ${UA_ACCEPT.join(', ')}`);
    expect(result.messageLog).toContain(`Supported: ${UA_SUPPORTED.join(', ')}`);
  });

  const withScenario = MALFORMED_REQUESTS.filter((c) => c.scenario !== undefined);

  it.each(withScenario)('SIPp $scenario: $name → $status', async (c) => {
    const result = await runSipp({ scenario: c.scenario ?? '', target: ua().hostPort, service: '1001', timeoutMs: 8000 });
    expect(result.ok, result.summary).toBe(true);
    expect(result.messageLog).toContain(`SIP/2.0 ${c.status} `);
  });

  it.each(MALFORMED_REQUESTS)('raw probe: $name → $status', async (c) => {
    const port = ua().port('udp');
    const answer = await probeSip({ host: '127.0.0.1', port, request: c.request({ host: '127.0.0.1', port, user: '1001' }) });
    expect(answer?.status, answer?.raw).toBe(c.status);
    if (c.status === 415) expect(answer?.headers.get('accept')?.join(',').split(/\s*,\s*/)).toEqual([...UA_ACCEPT]);
    if (c.status === 420) expect(answer?.headers.get('unsupported')).toEqual(['x-offhook-unknown']);
  });

  it('still answers OPTIONS after all of them', async () => {
    const result = await runSipp({ scenario: 'uac-options', target: ua().hostPort, timeoutMs: 8000 });
    expect(result.ok, result.summary).toBe(true);
    expect(ua().ua.state).toBe('running');
  });
});

describe('UserAgent transactions under 10 % loss (SIPp -lost 10, both directions)', () => {
  const N = 50;
  const ua = uaForThisBlock();

  it(`${N} OPTIONS from a lossy SIPp UAC all get their 200: our server transactions answer the retransmissions`, async () => {
    const before = ua().messages().length;
    const result = await runSipp({ scenario: 'uac-options-lossy', target: ua().hostPort, calls: N, extraArgs: ['-lost', '10', '-r', '25'], timeoutMs: 40_000 });
    expect(result.ok, result.summary).toBe(true);
    expect(result.stats?.successful).toBe(N);
    expect(result.stats?.failed).toBe(0);
    const seen = ua().messages().slice(before);
    const received = seen.filter((m) => m.direction === 'in' && m.message.kind === 'request').length;
    const answered = seen.filter((m) => m.direction === 'out' && m.message.kind === 'response').length;
    // SIPp retransmitted what it "lost"; each copy that reached us was answered (RFC 3261 §17.2.2).
    expect(result.stats?.retransmissions, `SIPp retransmissions ${result.stats?.retransmissions}, we received ${received}, answered ${answered}`).toBeGreaterThan(0);
    expect(received).toBeGreaterThanOrEqual(N);
    expect(answered).toBe(received);
  }, 60_000);

  it(`${N} OPTIONS we send to a lossy SIPp UAS all end in 200: our client transactions retransmit (Timer E)`, async () => {
    const uas = await startSipp({ scenario: 'uas-options', calls: 10_000, extraArgs: ['-lost', '10'] });
    try {
      const before = ua().messages().length;
      const outcomes = await Promise.all(Array.from({ length: N }, () => ua().ua.sendOptions(`sip:${uas.hostPort}`)));
      const statuses = outcomes.map((o) => (o.kind === 'response' ? o.response.status : o.kind));
      expect(statuses).toEqual(new Array<number>(N).fill(200));
      const sent = ua()
        .messages()
        .slice(before)
        .filter((m) => m.direction === 'out' && m.message.kind === 'request').length;
      // With 10 % loss each way, no retransmission at all among 50 transactions has odds of 0.81^50 ≈ 3e-5.
      expect(sent, `${sent} OPTIONS sent for ${N} transactions`).toBeGreaterThan(N);
    } finally {
      await uas.stop();
    }
  }, 60_000);
});
