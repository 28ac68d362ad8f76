import type { Clock } from '../../util/clock.js';
import type { Logger } from '../../util/log.js';
import type { DigestClient, RandomBytes } from '../auth/index.js';
import type { Account } from './account.js';
import type { ContactAddress } from './contact.js';
import type { RandomFraction } from './registration-timing.js';
import type { RequestSender } from './request-sender.js';

/**
 * What every client that sends refreshing requests for an account (REGISTER, SUBSCRIBE) is built
 * with: the account, the way out, time and randomness, the Contact, credentials, and its timing.
 */
export interface AccountClientOptions<Timing> {
  /** The account whose identity (From), credentials and outbound proxy the requests use. */
  account: Account;
  sender: RequestSender;
  clock: Clock;
  /** Jitter of refreshes and retries. */
  random: RandomFraction;
  /** Call-IDs, tags, cnonces. */
  randomBytes: RandomBytes;
  /** The local address to put in Contact; undefined while the transport is not ready. */
  contactAddress: () => ContactAddress | undefined;
  /**
   * Default: a new DigestClient for the account (its realms, its registrar and proxy hosts). A
   * subscription shares the registration's (RegistrationClient.digest), so that realms and nonces are.
   */
  digest?: DigestClient | undefined;
  logger?: Logger | undefined;
  /** User-Agent header value, when set. */
  userAgent?: string | undefined;
  timing?: Partial<Timing> | undefined;
}
