// The UA layer's public API: the UserAgent the phone uses, accounts, registration, and the request sender contract.
export {
  type AccountStatus,
  type FlowLostEvent,
  type LineStatus,
  type StopOptions,
  UserAgent,
  type UserAgentEvents,
  type UserAgentOptions,
  type UserAgentSnapshot,
  type UserAgentState,
  UserAgentStateError,
  type UserAgentTraceOptions,
  describeFailure,
  lineStatus,
} from './user-agent.js';
export { FailoverRequestSender, type FailoverRequestSenderOptions, nextHopUri } from './user-agent-sender.js';
export { DEFAULT_KEEP_ALIVE, type FlowLossReason, type KeepAliveOptions, type StreamKeepAliveTransport } from './user-agent-flows.js';
export { UA_ACCEPT, UA_ACCEPT_ENCODING, UA_ACCEPT_LANGUAGE, UA_EVENTS, UA_METHODS, UA_SCHEMES, UA_SUPPORTED, capabilityHeaders } from './user-agent-uas.js';
export { Account, AccountError, type AccountMwiMode, type AccountSettings, type AccountTransport } from './account.js';
export type { UaMessage } from './user-agent-services.js';
export type { MwiSummary } from './mwi.js';
export type { InstantMessage, SendMessageResult } from './instant-message.js';
export type { TransferOptions, TransferProgress, TransferResult, TransferSettings } from './call/transfer.js';
export { IncomingRefer, type FollowReferOptions, type ReferPolicy, SAFE_EMBEDDED_HEADERS } from './call/transfer-receiver.js';
export {
  type ContactAddress,
  RegistrationClient,
  type RegistrationClientOptions,
  type RegistrationFailure,
  type RegistrationFailureCause,
  RegistrationState,
  type RegistrationStatus,
  type StopOptions as RegistrationStopOptions,
} from './registration.js';
export { DuplicateAccountError, RegistrationManager, type RegistrationManagerOptions } from './registration-manager.js';
export { RegistrationStateError } from './registration-state.js';
export { DEFAULT_REGISTRATION_TIMING, type RegistrationTiming } from './registration-timing.js';
export type { RequestOutcome, RequestSender } from './request-sender.js';
export type { SessionBody, SessionBodyRefusal, SessionBodyVerdict, OfferOptions, SessionDescriptionHandler, SessionDescriptionContext, SessionDescriptionHandlerFactory } from './session-description.js';
export { CallManager, type CallManagerHost, type CallOptions, type CallRequestOptions, CallTargetError, type DoNotDisturb, type IncomingCallInfo, type RefusedCall, targetUri } from './call/call-manager.js';
export { type RemoteIdentity, callerOf, numberOf } from './call/call-environment.js';
export { type InDialogRequestHandler, Session, type SessionEvents, type SessionProgress } from './call/session.js';
export type { DtmfMode, HoldState, MidCallOptions, ReofferMethod, SessionDtmfEvent, SessionModifyResult } from './call/session-features.js';
export { OutgoingSession, type OutgoingSessionInit } from './call/outgoing-session.js';
export { IncomingSession, type IncomingSessionInit, type RejectStatus } from './call/incoming-session.js';
export { type SessionOutcome, type SessionOutcomeKind, outcomeKindOfStatus, outcomeOfStatus } from './call/session-outcome.js';
export { SessionState, isLive } from './call/session-state.js';
