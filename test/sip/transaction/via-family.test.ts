// The Via sent-by of a request on a UA listening on IPv4 and IPv6: the address of the target's family (RFC 3261 §18.1.1).
import { describe, expect, it } from 'vitest';
import type { SipMessage } from '../../../firmware/sip/message/message.js';
import { TransactionLayer } from '../../../firmware/sip/transaction/transaction-layer.js';
import { seededRandom } from '../../../firmware/sip/transport/loopback-transport.js';
import type { HostPort, SendResult, SendTarget, SipTransport, TransportProtocol } from '../../../firmware/sip/transport/transport.js';
import { Emitter, type Unsubscribe } from '../../../firmware/util/emitter.js';
import { VirtualClock } from '../../../firmware/util/clock.js';
import { makeRequest } from '../support/sip-builders.js';

/** A transport with an IPv4 and an IPv6 UDP socket that records what it is asked to send. */
class DualStackTransport implements SipTransport {
  readonly sent: { message: SipMessage; target: SendTarget }[] = [];
  private readonly events = new Emitter<{ message: []; 'connection-closed': []; trace: [] }>();

  send(message: SipMessage, target: SendTarget): Promise<SendResult> {
    this.sent.push({ message, target });
    return Promise.resolve({ ok: true, protocol: target.protocol, local: this.localAddress(target.protocol) ?? { protocol: 'udp', address: '', port: 0 } });
  }

  on(event: 'message' | 'connection-closed' | 'trace', listener: () => void): Unsubscribe {
    return this.events.on(event, listener);
  }

  localAddress(protocol: TransportProtocol, family?: 4 | 6): HostPort | undefined {
    if (protocol !== 'udp') return undefined;
    return family === 6 ? { protocol, address: '2001:db8::10', port: 5062 } : { protocol, address: '192.0.2.10', port: 5060 };
  }

  isReliable(): boolean {
    return false;
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

describe('TransactionLayer Via sent-by on a dual-stack transport', () => {
  it('uses the IPv6 address for an IPv6 target and the IPv4 one for an IPv4 target (a REGISTER to [::1] went out with an IPv4 sent-by)', () => {
    const transport = new DualStackTransport();
    const layer = new TransactionLayer({ transport, clock: new VirtualClock(), random: seededRandom(5) });
    layer.sendRequest(makeRequest({ method: 'OPTIONS', uri: 'sip:[2001:db8::1]' }), { protocol: 'udp', address: '2001:db8::1', port: 5060 });
    layer.sendRequest(makeRequest({ method: 'OPTIONS', uri: 'sip:198.51.100.1', callId: 'call-2' }), { protocol: 'udp', address: '198.51.100.1', port: 5060 });
    // A target that is not an address literal (the loopback's names) keeps the transport's default.
    layer.sendRequest(makeRequest({ method: 'OPTIONS', uri: 'sip:peer', callId: 'call-3' }), { protocol: 'udp', address: 'peer', port: 5060 });
    const sentBy = transport.sent.map((s) => (s.message.kind === 'request' ? s.message.topVia.sentBy : ''));
    expect(sentBy).toEqual(['[2001:db8::10]:5062', '192.0.2.10:5060', '192.0.2.10:5060']);
    layer.close();
  });
});
