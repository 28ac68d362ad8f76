// What the phone shows on an account's line: the registration status turned into registered / registering / failed, with a readable reason.
import { type RegistrationFailure, RegistrationState, type RegistrationStatus } from './registration.js';

/** The line status the phone shows for an account. */
export type LineStatus =
  | { state: 'off' }
  | { state: 'registering'; lastFailure: string | undefined }
  | { state: 'registered'; expiresAtMs: number }
  /** The registrar said no, or could not be reached; the UA retries at retryAtMs (clock time). */
  | { state: 'failed'; reason: string; statusCode: number; cause: RegistrationFailure['cause']; retryAtMs: number };

const FAILURE_TEXT: Readonly<Record<RegistrationFailure['cause'], string>> = {
  'wrong-credentials': 'wrong user name or password',
  'challenge-refused': 'authentication refused',
  rejected: 'rejected by the server',
  'interval-too-brief': 'registration interval refused',
  'server-unavailable': 'server unavailable',
  timeout: 'no answer from the server',
  'transport-error': 'network error',
  'no-local-address': 'no network address',
};

/** A line a person can read: "wrong user name or password (401 Unauthorized)". */
export function describeFailure(f: RegistrationFailure): string {
  const text = FAILURE_TEXT[f.cause];
  return f.statusCode > 0 ? `${text} (${f.statusCode} ${f.reason})` : `${text} (${f.reason})`;
}

/** The line status of a registration status: a binding being refreshed still counts as registered. */
export function lineStatus(s: RegistrationStatus): LineStatus {
  switch (s.state) {
    case RegistrationState.Unregistered:
    case RegistrationState.Unregistering:
      return { state: 'off' };
    case RegistrationState.Registering:
      return { state: 'registering', lastFailure: s.lastFailure && describeFailure(s.lastFailure) };
    case RegistrationState.Registered:
    case RegistrationState.Refreshing:
      return { state: 'registered', expiresAtMs: s.expiresAtMs };
    case RegistrationState.Failed:
    case RegistrationState.Backoff:
      return { state: 'failed', reason: describeFailure(s.failure), statusCode: s.failure.statusCode, cause: s.failure.cause, retryAtMs: s.retryAtMs };
  }
}

