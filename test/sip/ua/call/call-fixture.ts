// Phones (UserAgents) and scripted peers on one loopback network with a virtual clock, for the call tests.
import { afterEach } from 'vitest';
import { StaticDnsResolver } from '../../../../firmware/sip/locate/index.js';
import { type SipRequest, type SipResponse, createResponse } from '../../../../firmware/sip/message/index.js';
import { LoopbackNetwork, type LoopbackTransport, seededRandom } from '../../../../firmware/sip/transport/loopback-transport.js';
import { type AccountSettings, type CallOptions, type IncomingSession, UserAgent, type UserAgentOptions } from '../../../../firmware/sip/ua/index.js';
import { VirtualClock } from '../../../../firmware/util/clock.js';
import { FakeHandlers } from '../../support/fake-session-handler.js';
import type { RawPeer, Received } from '../../support/raw-peer.js';

export interface Phone {
  ua: UserAgent;
  address: string;
  transport: LoopbackTransport;
  fake: FakeHandlers;
  incoming: IncomingSession[];
}

export interface Net {
  clock: VirtualClock;
  network: LoopbackNetwork;
  dns: StaticDnsResolver;
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

export function net(zone: { a?: Record<string, string[]> } = {}): Net {
  const clock = new VirtualClock();
  return { clock, network: new LoopbackNetwork({ clock, seed: 5 }), dns: new StaticDnsResolver({ a: zone.a ?? {} }) };
}

let seed = 100;

/**
 * A started UserAgent at address with one account (register: false unless the settings say
 * otherwise; by default "sip:<user>@<address>") and fake handlers. Calls from anywhere are
 * accepted unless calls.acceptCallsFrom says otherwise.
 */
export async function phone(n: Net, address: string, user: string, options: { account?: Partial<AccountSettings> | null; calls?: CallOptions; ua?: Partial<UserAgentOptions> } = {}): Promise<Phone> {
  const transport = n.network.attach({ address, port: 5060, protocols: ['udp', 'tcp'] });
  const fake = new FakeHandlers(user[0] ?? 'x');
  const accounts: AccountSettings[] = options.account === null ? [] : [{ id: user, aor: `sip:${user}@${address}`, password: `pw-${user}`, register: false, ...options.account }];
  const ua = new UserAgent({
    transport,
    clock: n.clock,
    random: seededRandom(seed++),
    randomBytes: (k) => Uint8Array.from({ length: k }, (_, i) => (i * 7 + seed) & 0xff),
    dns: n.dns,
    userAgent: `offhook-${user}`,
    accounts,
    calls: { acceptCallsFrom: 'any', sessionDescriptionHandlerFactory: fake.factory, ...options.calls },
    ...options.ua,
  });
  const incoming: IncomingSession[] = [];
  ua.on('incoming', (s) => incoming.push(s));
  await ua.start();
  cleanups.push(() => ua.stop({ unregister: false }));
  return { ua, address, transport, fake, incoming };
}

/** Lets the loopback deliver and the promise chains run, without moving the clock. */
export async function settle(n: Net): Promise<void> {
  for (let i = 0; i < 5; i++) await n.clock.advance(0);
}

/** The requests of a method a raw peer received, as requests. */
export function got(peer: RawPeer, method: string): SipRequest[] {
  return peer.requests(method).map((r) => r.message);
}

/** The last received request of a method, or a failed test. */
export function lastOf(peer: RawPeer, method: string): Received & { message: SipRequest } {
  const all = peer.requests(method);
  const r = all[all.length - 1];
  if (!r) throw new Error(`the peer got no ${method}`);
  return r;
}

export interface PeerAnswer {
  toTag?: string | undefined;
  body?: string | undefined;
  contact?: string | undefined;
  headers?: [string, string][];
  recordRoute?: boolean;
}

/** A response from a raw peer to a request it received (Contact and body as given). */
export function answer(peer: RawPeer, received: Received & { message: SipRequest }, status: number, a: PeerAnswer = {}): Promise<unknown> {
  const headers: [string, string][] = [...(a.contact !== undefined ? [['Contact', `<${a.contact}>`] as [string, string]] : []), ...(a.headers ?? [])];
  const res: SipResponse = createResponse(received.message, {
    status,
    toTag: a.toTag,
    headers,
    copyRecordRoute: a.recordRoute ?? false,
    ...(a.body !== undefined ? { body: a.body, contentType: 'application/sdp' } : {}),
  });
  return peer.respond(received, res);
}
