// Self-test of the baresip phones for the call tests: three baresips registered to Kamailio call each other, send DTMF, hold / resume and blind-transfer through the proxy (what baresip 1.0 can do as the phone's far end).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BaresipPhone, startBaresipPhones } from './support/baresip-phones.js';
import { type KamailioInstance, startKamailio } from './support/kamailio.js';

describe('baresip phones registered to Kamailio (1001, 1002, 1004)', () => {
  let kamailio: KamailioInstance | undefined;
  let phones: BaresipPhone[] = [];

  beforeAll(async () => {
    kamailio = await startKamailio({ siptrace: true });
    phones = await startBaresipPhones(kamailio);
  });

  afterAll(async () => {
    // end calls first: on SIGTERM during a call baresip sends BYE and waits (README pitfall)
    await Promise.all(phones.map((p) => p.hangup().catch(() => undefined)));
    await Promise.all(phones.map((p) => p.stop()));
    await kamailio?.stop();
  });

  const byUser = (user: string): BaresipPhone => {
    const p = phones.find((x) => x.user === user);
    if (!p) throw new Error(`baresip ${user} did not start`);
    return p;
  };

  it('all three are in the location table', () => {
    const log = kamailio?.readLog() ?? '';
    for (const u of ['1001', '1002', '1004']) expect(log).toMatch(new RegExp(`REGISTER sip:${u}@test\\.local contact=`));
  });

  it('1001 calls 1002 through the proxy, DTMF, hold and resume, blind transfer of 1002 to 1004', async () => {
    const [a, b, c] = [byUser('1001'), byUser('1002'), byUser('1004')];
    const from = { a: a.control.events.length, b: b.control.events.length, c: c.control.events.length };
    await a.dial('1002');
    await b.waitFor('CALL_ESTABLISHED', 8000, { from: from.b });
    await a.waitFor('CALL_ESTABLISHED', 8000, { from: from.a });

    // DTMF: RTP telephone-event (RFC 4733); the receiver reports each key as CALL_DTMF_START
    await a.sendDtmf('15#');
    const keys = await Promise.all(['1', '5', '#'].map((k) => b.waitFor('CALL_DTMF_START', 5000, { from: from.b, match: (e) => e.param === k })));
    expect(keys.map((e) => e.param)).toEqual(['1', '5', '#']);

    // hold / resume: re-INVITEs through the proxy (record-routed)
    await a.hold();
    await a.resume();
    await expectLog(/a=sendonly/, 'a re-INVITE with a=sendonly through the proxy');

    // blind transfer: 1001 sends REFER (Refer-To: sip:1004@test.local) to 1002, which calls 1004
    await a.transfer('1004');
    const incoming = await c.waitFor('CALL_ESTABLISHED', 10_000, { from: from.c });
    expect(incoming.peeruri).toMatch(/^sip:1002@/);
    await b.waitFor('TRANSFER', 5000, { from: from.b });
    await expectLog(/RX REFER sip:1002[-@]/, 'the REFER relayed in the dialog');
    await expectLog(/RX NOTIFY sip:1001[-@]/, 'the NOTIFY (message/sipfrag) of the REFER subscription relayed back');
    await c.hangup();
    await b.waitFor('CALL_CLOSED', 5000, { from: from.b, match: (e) => /1004/.test(e.peeruri ?? '') });
  }, 40_000);

  async function expectLog(pattern: RegExp, what: string): Promise<void> {
    const deadline = Date.now() + 5000;
    while (!pattern.test(kamailio?.readLog() ?? '')) {
      if (Date.now() > deadline) throw new Error(`Kamailio's log never showed ${what}:\n${(kamailio?.readLog() ?? '').split('\n').filter((l) => l.includes(' RX ')).join('\n')}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
});
