// Two phones end to end: each is the Phone on its emulated board, over a real UserAgent (UaCallService) on the loopback network, with sdpMediaHandlerFactory on a MockMediaEngine.
import { describe, expect, it } from 'vitest';
import { SdpMediaHandler, sdpMediaHandlerFactory } from '../../firmware/call/sdp-media-handler.js';
import { MockMediaEngine } from '../../firmware/media/mock-media-engine.js';
import { PhoneState } from '../../firmware/phone/phone-state.js';
import { UaCallService } from '../../firmware/phone/ua-call-service.js';
import { net, phone, settle, type Net } from '../sip/ua/call/call-fixture.js';
import { phoneBoard, type PhoneBoard } from './support/phone-board.js';
import { VirtualClock } from '../../firmware/util/clock.js';

const BELL = '\u0002';
const HOSTS: Readonly<Record<string, string>> = { '1001': '10.0.0.1', '1002': '10.0.0.2' };

async function desk(n: Net, ext: string, displayName: string): Promise<{ board: PhoneBoard; media: MockMediaEngine }> {
  const address = HOSTS[ext] ?? '10.0.0.9';
  const media = new MockMediaEngine();
  const p = await phone(n, address, ext, {
    account: { displayName },
    calls: { sessionDescriptionHandlerFactory: sdpMediaHandlerFactory({ engine: media, bindAddress: address }) },
  });
  // No PBX on the loopback network: extensions are dialled straight at their phone's address (dialPlan.directory).
  const directory = Object.fromEntries(Object.entries(HOSTS).map(([e, host]) => [e, `sip:${e}@${host}`]));
  const service = new UaCallService({ ua: p.ua, statsOf: (s) => (s.handler instanceof SdpMediaHandler ? s.handler.stream?.getStats() : undefined), directory });
  const board = await phoneBoard({ calls: service, clock: n.clock, media });
  return { board, media };
}

/** Lets the network and the boards run for a while. */
async function run(n: Net, a: PhoneBoard, ms = 200): Promise<void> {
  await settle(n);
  await a.wait(ms);
  await settle(n);
}

describe('two phones on the loopback network', () => {
  it('dial the other extension; it rings with the caller id; lift; both Connected with the timer; hang up; history has the call', async () => {
    const n = net();
    // The boards' clock is the network's: one virtual time for both phones and the SIP timers.
    expect(n.clock).toBeInstanceOf(VirtualClock);
    const alice = await desk(n, '1001', 'Alice');
    const bob = await desk(n, '1002', 'Bob');
    const a = alice.board;
    const b = bob.board;
    expect(a.lcd()[0]).toBe('Line 1001');

    await a.lift();
    await a.keys('1002#');
    await run(n, a);
    expect(b.phone.currentState).toBe(PhoneState.Ringing);
    expect(b.lcd().slice(0, 3)).toEqual([`${BELL} Incoming call`, 'Alice', '1001']);
    expect(b.hw.ringer?.ringing).toBe(true);
    expect(a.phone.currentState).toBe(PhoneState.Ringback);
    expect(a.lcd()[0]).toBe('Ringing');
    expect(alice.media.tone?.segments[0]?.frequenciesHz).toEqual([440, 480]);

    await b.lift();
    await run(n, a);
    expect(a.phone.currentState).toBe(PhoneState.Connected);
    expect(b.phone.currentState).toBe(PhoneState.Connected);
    expect(a.lcd()[1]).toBe('1002');
    expect(b.lcd()[1]).toBe('Alice');
    expect(alice.media.tone).toBeNull();
    expect(b.hw.ringer?.ringing).toBe(false);
    await run(n, a, 5000);
    expect(a.lcd()[0]).toMatch(/^Connected\s+00:0[56]$/);
    expect(b.lcd()[0]).toMatch(/^Connected\s+00:0[56]$/);

    // DTMF goes into the media through the handler (the stream was rebound once for rtcp-mux: take the live one).
    await a.keys('5');
    expect(alice.media.streams.find((st) => st.state === 'started')?.dtmfSent.map((d) => d.digits)).toEqual(['5']);

    await a.hangUp();
    await run(n, a);
    expect(a.phone.currentState).toBe(PhoneState.Idle);
    expect(b.phone.currentState).toBe(PhoneState.Ended);
    expect(b.lcd()[0]).toMatch(/^Call ended\s+00:0\d$/);
    expect(b.lcd()[2]).toMatch(/^MOS /);
    await b.hangUp();
    expect(b.phone.currentState).toBe(PhoneState.Idle);
    expect(a.history.list('dialed')[0]).toMatchObject({ number: '1002', outcome: 'answered' });
    expect(b.history.list('received')[0]).toMatchObject({ number: '1001', name: 'Alice', outcome: 'answered' });
  });

  it('calling a phone that is off hook dialing: 486 from it, "Busy" with busy tone here', async () => {
    const n = net();
    const alice = await desk(n, '1001', 'Alice');
    const bob = await desk(n, '1002', 'Bob');
    await bob.board.lift();
    await alice.board.lift();
    await alice.board.keys('1002#');
    await run(n, alice.board);
    expect(alice.board.phone.currentState).toBe(PhoneState.Ended);
    expect(alice.board.lcd().slice(0, 3)).toEqual(['Busy', '1002', '486 Busy Here']);
    expect(alice.media.tone?.segments[0]).toMatchObject({ frequenciesHz: [480, 620], durationMs: 500 });
    expect(bob.board.history.list('missed')[0]).toMatchObject({ number: '1001' });
  });

  it('the caller gives up: the callee shows a missed call', async () => {
    const n = net();
    const alice = await desk(n, '1001', 'Alice');
    const bob = await desk(n, '1002', 'Bob');
    await alice.board.lift();
    await alice.board.keys('1002#');
    await run(n, alice.board);
    expect(bob.board.phone.currentState).toBe(PhoneState.Ringing);
    await alice.board.hangUp();
    await run(n, alice.board);
    expect(bob.board.phone.currentState).toBe(PhoneState.Idle);
    expect(bob.board.lcd()[1]).toBe('1 missed');
    expect(alice.board.history.list('dialed')[0]?.outcome).toBe('cancelled');
  });

  it('do-not-disturb: the user agent refuses the call without ringing, and the history lists it as missed', async () => {
    const n = net();
    const alice = await desk(n, '1001', 'Alice');
    const bob = await desk(n, '1002', 'Bob');
    await bob.board.keys('B'); // the idle screen's DND softkey
    await run(n, bob.board);
    expect(bob.board.settings.settings.dnd).toBe(true);
    await alice.board.lift();
    await alice.board.keys('1002#');
    await run(n, alice.board);
    expect(bob.board.phone.currentState).toBe(PhoneState.Idle);
    expect(bob.board.hw.ringer?.ringing).toBe(false);
    expect(alice.board.lcd()[0]).toBe('Unavailable'); // DND answers 480 by default
    expect(bob.board.history.list('missed')[0]).toMatchObject({ direction: 'incoming', number: '1001', name: 'Alice', outcome: 'missed' });
    await run(n, bob.board, 5000); // the "DND on" notice gives way to the indicators
    expect(bob.board.lcd()[1]).toMatch(/1 missed/);
  });

  it('hold and resume go through the user agent (re-INVITE); the media direction of the peer follows', async () => {
    const n = net();
    const alice = await desk(n, '1001', 'Alice');
    const bob = await desk(n, '1002', 'Bob');
    await alice.board.lift();
    await alice.board.keys('1002#');
    await run(n, alice.board);
    await bob.board.lift();
    await run(n, alice.board);
    expect(alice.board.phone.currentState).toBe(PhoneState.Connected);
    await alice.board.keys('A');
    await run(n, alice.board);
    expect(alice.board.lcd()[0]?.startsWith('\u0004 On hold')).toBe(true);
    const bobStream = () => bob.media.streams.find((st) => st.state === 'started');
    expect(bobStream()?.options.direction).toBe('recvonly');
    await alice.board.keys('A');
    await run(n, alice.board);
    expect(alice.board.lcd()[0]).toMatch(/^Connected/);
    expect(bobStream()?.options.direction).toBe('sendrecv');
  });
});
