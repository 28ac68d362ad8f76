// Self-tests of the SIPp scenarios for the SIP core: each malformed request gets its exact status from a stand-in UAS, and a wrong status fails the run.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MALFORMED_REQUESTS } from './support/malformed.js';
import { probeSip } from './support/sip-probe.js';
import { runSipp } from './support/sipp.js';
import { type StubUas, startStubUas } from './support/stub-uas.js';

describe('malformed-request scenarios against a stand-in UAS', () => {
  let strict: StubUas | undefined;
  let lenient: StubUas | undefined;

  beforeAll(async () => {
    strict = await startStubUas();
    lenient = await startStubUas({ alwaysStatus: 200 });
  });

  afterAll(async () => {
    await strict?.close();
    await lenient?.close();
  });

  const uas = (which: StubUas | undefined): StubUas => {
    if (!which) throw new Error('stub UAS did not start');
    return which;
  };

  const withScenario = MALFORMED_REQUESTS.filter((c) => c.scenario !== undefined);

  it.each(withScenario)('SIPp $scenario: $name → $status', async (c) => {
    const result = await runSipp({ scenario: c.scenario ?? '', target: uas(strict).hostPort, service: '1001', timeoutMs: 8000 });
    expect(result.ok, result.summary).toBe(true);
    expect(result.messageLog).toContain(`SIP/2.0 ${c.status} `);
  });

  it.each(withScenario)('SIPp $scenario fails when the UAS answers 200 instead', async (c) => {
    const result = await runSipp({ scenario: c.scenario ?? '', target: uas(lenient).hostPort, service: '1001', timeoutMs: 8000 });
    expect(result.ok).toBe(false);
    expect(result.code).toBe(1);
  });

  it.each(MALFORMED_REQUESTS)('raw probe: $name → $status', async (c) => {
    const u = uas(strict);
    const answer = await probeSip({ host: '127.0.0.1', port: u.port, request: c.request({ host: '127.0.0.1', port: u.port, user: '1001' }) });
    expect(answer?.status).toBe(c.status);
  });

  it('SIPp uac-options gets its 200 and logs the Allow header', async () => {
    const result = await runSipp({ scenario: 'uac-options', target: uas(strict).hostPort, timeoutMs: 8000 });
    expect(result.ok, result.summary).toBe(true);
    expect(result.actionLog).toMatch(/Allow: INVITE, ACK/);
  });

  it('the 415 of an INVITE is ACKed', async () => {
    const u = uas(strict);
    const before = u.received.length;
    const result = await runSipp({ scenario: 'uac-bad-content-type', target: u.hostPort, timeoutMs: 8000 });
    expect(result.ok, result.summary).toBe(true);
    expect(u.received.slice(before).map((l) => l.split(' ')[0])).toEqual(['INVITE', 'ACK']);
  });
});
