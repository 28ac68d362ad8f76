// Builds a VirtualClock, a seeded LoopbackNetwork and transaction layers on it, for transaction and dialog tests.
import type { ValidateOptions } from '../../../firmware/sip/message/validate.js';
import { TransactionLayer } from '../../../firmware/sip/transaction/transaction-layer.js';
import type { TransactionTimerOptions } from '../../../firmware/sip/transaction/timers.js';
import { LoopbackNetwork, type LoopbackTransport, seededRandom } from '../../../firmware/sip/transport/loopback-transport.js';
import type { SendTarget, TransportProtocol } from '../../../firmware/sip/transport/transport.js';
import { VirtualClock } from '../../../firmware/util/clock.js';
import { RawPeer } from './raw-peer.js';

export interface FixtureOptions {
  seed?: number;
  timers?: TransactionTimerOptions;
  validation?: ValidateOptions | false;
  tryingDelayMs?: number;
  retransmit2xxOnReliable?: boolean;
}

export interface Endpoint {
  address: string;
  port: number;
  transport: LoopbackTransport;
  layer: TransactionLayer;
  target(protocol?: TransportProtocol): SendTarget;
}

export function createNetwork(seed = 1): { clock: VirtualClock; network: LoopbackNetwork } {
  const clock = new VirtualClock();
  return { clock, network: new LoopbackNetwork({ clock, seed }) };
}

export function addLayer(network: LoopbackNetwork, address: string, options: FixtureOptions = {}, port = 5060): Endpoint {
  const transport = network.attach({ address, port });
  const layer = new TransactionLayer({
    transport,
    clock: network.clock,
    random: seededRandom((options.seed ?? 1) * 7919 + address.length + port),
    timers: options.timers,
    validation: options.validation,
    tryingDelayMs: options.tryingDelayMs,
    retransmit2xxOnReliable: options.retransmit2xxOnReliable,
  });
  return { address, port, transport, layer, target: (protocol = 'udp') => ({ protocol, address, port }) };
}

/** One transaction layer (alice, 10.0.0.1) and a raw peer (bob, 10.0.0.2). */
export function layerAndPeer(options: FixtureOptions = {}): { clock: VirtualClock; network: LoopbackNetwork; alice: Endpoint; bob: RawPeer } {
  const { clock, network } = createNetwork(options.seed);
  return { clock, network, alice: addLayer(network, '10.0.0.1', options), bob: new RawPeer(network, '10.0.0.2') };
}

/** Two transaction layers: alice (10.0.0.1) and bob (10.0.0.2). */
export function twoLayers(options: FixtureOptions = {}): { clock: VirtualClock; network: LoopbackNetwork; alice: Endpoint; bob: Endpoint } {
  const { clock, network } = createNetwork(options.seed);
  return { clock, network, alice: addLayer(network, '10.0.0.1', options), bob: addLayer(network, '10.0.0.2', options) };
}
