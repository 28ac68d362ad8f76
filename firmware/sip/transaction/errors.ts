// Typed errors of the transaction layer.
import type { TransportProtocol } from '../transport/transport.js';

/** The transport has no local address for the protocol, so no Via sent-by can be written (RFC 3261 §18.1.1). */
export class NoLocalAddressError extends Error {
  override readonly name = 'NoLocalAddressError';
  constructor(readonly protocol: TransportProtocol) {
    super(`the transport does not listen on ${protocol}: no Via sent-by for a request sent over it`);
  }
}

/** A client transaction with the same branch and method is already running (RFC 3261 §8.1.1.7: branches are unique). */
export class DuplicateTransactionError extends Error {
  override readonly name = 'DuplicateTransactionError';
  constructor(
    readonly branch: string,
    readonly method: string,
  ) {
    super(`a ${method} client transaction with branch ${branch} already exists`);
  }
}

/** A request the TU may not send through a client transaction (ACK: RFC 3261 §17.1.1.3, use sendAck). */
export class UnsupportedRequestError extends Error {
  override readonly name = 'UnsupportedRequestError';
  constructor(
    readonly method: string,
    reason: string,
  ) {
    super(`${method}: ${reason}`);
  }
}

/** The layer was closed; it sends nothing more. */
export class TransactionLayerClosedError extends Error {
  override readonly name = 'TransactionLayerClosedError';
  constructor() {
    super('the transaction layer is closed');
  }
}
