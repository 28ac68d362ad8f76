// A SIP peer without a transaction layer: records what arrives (with the virtual time) and sends what a test tells it to, retransmissions included.
import { type CreateResponseOptions, createResponse } from '../../../firmware/sip/message/build.js';
import type { SipMessage, SipRequest, SipResponse } from '../../../firmware/sip/message/message.js';
import type { LoopbackNetwork, LoopbackTransport } from '../../../firmware/sip/transport/loopback-transport.js';
import type { InboundMessage, SendResult, SendTarget, TransportProtocol } from '../../../firmware/sip/transport/transport.js';

export interface Received {
  message: SipMessage;
  inbound: InboundMessage;
  atMs: number;
}

export class RawPeer {
  readonly transport: LoopbackTransport;
  readonly received: Received[] = [];

  constructor(
    private readonly network: LoopbackNetwork,
    readonly address: string,
    readonly port = 5060,
  ) {
    this.transport = network.attach({ address, port });
    this.transport.on('message', (inbound) => this.received.push({ message: inbound.message, inbound, atMs: network.clock.now() }));
  }

  target(protocol: TransportProtocol = 'udp'): SendTarget {
    return { protocol, address: this.address, port: this.port };
  }

  requests(method?: string): (Received & { message: SipRequest })[] {
    return this.received.filter((r): r is Received & { message: SipRequest } => r.message.kind === 'request' && (method === undefined || r.message.method === method));
  }

  responses(status?: number): (Received & { message: SipResponse })[] {
    return this.received.filter((r): r is Received & { message: SipResponse } => r.message.kind === 'response' && (status === undefined || r.message.status === status));
  }

  /** Arrival times of the requests of a method (or responses of a status). */
  times(what: string | number): number[] {
    return (typeof what === 'string' ? this.requests(what) : this.responses(what)).map((r) => r.atMs);
  }

  send(message: SipMessage, target: SendTarget): Promise<SendResult> {
    return this.transport.send(message, target);
  }

  /** Answers a received request to where it came from (its source, on its connection). */
  reply(received: Received & { message: SipRequest }, options: CreateResponseOptions): Promise<SendResult> {
    const res = createResponse(received.message, options);
    return this.respond(received, res);
  }

  respond(received: Received, response: SipResponse): Promise<SendResult> {
    const i = received.inbound;
    return this.transport.send(response, { protocol: i.local.protocol, address: i.source.address, port: i.source.port, connectionId: i.connectionId });
  }

  clear(): void {
    this.received.length = 0;
  }
}
