// The promise API over client transactions: send(request) resolves with the final response, a timeout or a transport error.
import type { SipRequest, SipResponse } from '../message/message.js';
import type { SendTarget } from '../transport/transport.js';
import type { RequestOutcome } from './outcome.js';
import type { TransactionLayer } from './transaction-layer.js';

export type { RequestOutcome } from './outcome.js';

export interface SendOptions {
  /** Called with every 1xx before the outcome resolves. */
  onProvisional?: (response: SipResponse) => void;
}

/** What registration, OPTIONS pings and other request/response users need from the transaction layer. */
export interface RequestSender {
  send(request: SipRequest, options?: SendOptions): Promise<RequestOutcome>;
}

export interface TransactionRequestSenderOptions {
  layer: TransactionLayer;
  /**
   * Where a request goes (RFC 3263 resolution, an outbound proxy, the first Route...). May be
   * async; a throw or rejection resolves the send as a transport error.
   */
  resolveTarget: (request: SipRequest) => SendTarget | Promise<SendTarget>;
}

/**
 * RequestSender on a TransactionLayer: one client transaction per send. The promise resolves
 * once, on the first final response (RFC 3261 §8.1.3), on Timer B / F (timeout) or on a
 * transport error, and never rejects. For an INVITE it resolves on the first final response
 * too, but the 2xx ACK and later 2xx from other forks are not its business: an INVITE session
 * uses TransactionLayer.sendRequest() directly. The request gets a new Via and branch on every
 * send (see TransactionLayer.sendRequest), so a request may be changed and sent again.
 */
export class TransactionRequestSender implements RequestSender {
  private readonly layer: TransactionLayer;
  private readonly resolveTarget: (request: SipRequest) => SendTarget | Promise<SendTarget>;

  constructor(options: TransactionRequestSenderOptions) {
    this.layer = options.layer;
    this.resolveTarget = options.resolveTarget;
  }

  async send(request: SipRequest, options: SendOptions = {}): Promise<RequestOutcome> {
    let target: SendTarget;
    try {
      target = await this.resolveTarget(request);
    } catch (e) {
      return { kind: 'transport-error', error: e instanceof Error ? e : new Error(String(e)) };
    }
    return sendOnce(this.layer, request, target, options);
  }
}

/**
 * One client transaction to one target, as a promise: resolves on the final response, Timer B / F,
 * or a transport error (including a layer that cannot send there at all), and never rejects.
 */
export function sendOnce(layer: TransactionLayer, request: SipRequest, target: SendTarget, options: SendOptions = {}): Promise<RequestOutcome> {
  return new Promise<RequestOutcome>((resolve) => {
    try {
      layer.sendRequest(request, target, {
        onProvisional: options.onProvisional,
        onFinal: (response) => resolve({ kind: 'response', response }),
        onTimeout: () => resolve({ kind: 'timeout' }),
        onTransportError: (error) => resolve({ kind: 'transport-error', error }),
      });
    } catch (e) {
      // No listener for the target's protocol (NoLocalAddressError), or the layer is closed.
      resolve({ kind: 'transport-error', error: e instanceof Error ? e : new Error(String(e)) });
    }
  });
}
