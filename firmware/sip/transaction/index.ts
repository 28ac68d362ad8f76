// The transaction layer's public API (RFC 3261 §17): the layer, the four transactions, the promise sender, builders and identifiers.
export { TransactionLayer, type AnyClientTransaction, type AnyServerTransaction, type TransactionLayerEvents, type TransactionLayerOptions, responseTarget } from './transaction-layer.js';
export { type RequestSender, type SendOptions, sendOnce, TransactionRequestSender, type TransactionRequestSenderOptions } from './request-sender.js';
export type { CancelOutcome, RequestOutcome } from './outcome.js';
export { ClientTransaction, type ClientTransactionUser } from './client-transaction.js';
export { InviteClientState, InviteClientTransaction } from './invite-client-transaction.js';
export { NonInviteClientState, NonInviteClientTransaction } from './non-invite-client-transaction.js';
export { type LegacyMatchFields, type ReplyOptions, ServerTransaction, type ServerTransactionEvents } from './server-transaction.js';
export { InviteServerState, InviteServerTransaction } from './invite-server-transaction.js';
export { NonInviteServerState, NonInviteServerTransaction } from './non-invite-server-transaction.js';
export { createNon2xxAck } from './non-2xx-ack.js';
export { type CreateCancelOptions, createCancel } from './cancel.js';
export { MAGIC_COOKIE, type RandomSource, createBranch, createCallId, createTag, cryptoRandom, initialCSeq, randomToken } from './identifiers.js';
export { DEFAULT_TIMERS, type TimerName, type TransactionTimerOptions, type TransactionTimerValues, transactionTimers } from './timers.js';
export { InvalidTransitionError, StateMachine, type TransitionTable } from './state-machine.js';
export { DuplicateTransactionError, NoLocalAddressError, TransactionLayerClosedError, UnsupportedRequestError } from './errors.js';
