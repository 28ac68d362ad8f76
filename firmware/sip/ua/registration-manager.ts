// One registration client per account: adds, starts, re-registers on network events and stops them together.
import type { Clock } from '../../util/clock.js';
import { Emitter, type Unsubscribe } from '../../util/emitter.js';
import type { Logger } from '../../util/log.js';
import type { RandomBytes } from '../auth/index.js';
import type { Account } from './account.js';
import { type ContactAddress, RegistrationClient, type RegistrationStatus, type StopOptions } from './registration.js';
import type { RandomFraction, RegistrationTiming } from './registration-timing.js';
import type { RequestSender } from './request-sender.js';

export interface RegistrationManagerOptions {
  sender: RequestSender;
  clock: Clock;
  random: RandomFraction;
  randomBytes: RandomBytes;
  /** The local address for an account's Contact (by its transport); undefined while not ready. */
  contactAddress: (account: Account) => ContactAddress | undefined;
  logger?: Logger | undefined;
  userAgent?: string | undefined;
  timing?: Partial<RegistrationTiming> | undefined;
}

export type RegistrationManagerEvents = {
  /** A client's state changed: the account's id and its status. */
  state: [string, RegistrationStatus];
};

/** A second account with an id already in use. */
export class DuplicateAccountError extends Error {
  constructor(readonly accountId: string) {
    super(`an account with id ${JSON.stringify(accountId)} is already registered with the manager`);
    this.name = 'DuplicateAccountError';
  }
}

/**
 * Owns one RegistrationClient per account. Clients are independent: their own Call-ID, CSeq,
 * DigestClient (credentials never cross accounts), timers and backoff.
 */
export class RegistrationManager {
  private readonly clientsById = new Map<string, { client: RegistrationClient; unsubscribe: Unsubscribe }>();
  private readonly events = new Emitter<RegistrationManagerEvents>();

  constructor(private readonly options: RegistrationManagerOptions) {}

  /** Creates the account's client (not started). Throws DuplicateAccountError for a known id. */
  add(account: Account): RegistrationClient {
    if (this.clientsById.has(account.id)) throw new DuplicateAccountError(account.id);
    const o = this.options;
    const client = new RegistrationClient({
      account,
      sender: o.sender,
      clock: o.clock,
      random: o.random,
      randomBytes: o.randomBytes,
      contactAddress: () => o.contactAddress(account),
      logger: o.logger,
      userAgent: o.userAgent,
      timing: o.timing,
    });
    const unsubscribe = client.on('state', (status) => this.events.emit('state', account.id, status));
    this.clientsById.set(account.id, { client, unsubscribe });
    return client;
  }

  get(accountId: string): RegistrationClient | undefined {
    return this.clientsById.get(accountId)?.client;
  }

  get clients(): RegistrationClient[] {
    return [...this.clientsById.values()].map((e) => e.client);
  }

  on<K extends keyof RegistrationManagerEvents>(event: K, listener: (...args: RegistrationManagerEvents[K]) => void): Unsubscribe {
    return this.events.on(event, listener);
  }

  /** Starts every client whose account registers (AccountSettings.register). */
  startAll(): void {
    for (const c of this.clients) if (c.account.register) c.start();
  }

  /** The network changed: every active client registers again (see RegistrationClient.networkChanged). */
  networkChanged(): void {
    for (const c of this.clients) c.networkChanged();
  }

  /** Every client's flow is gone (one shared connection closed); see RegistrationClient.transportLost. */
  transportLost(): void {
    for (const c of this.clients) c.transportLost();
  }

  /** Stops (unregisters) one account's client and forgets it. */
  async remove(accountId: string, options?: StopOptions): Promise<void> {
    const e = this.clientsById.get(accountId);
    if (!e) return;
    this.clientsById.delete(accountId);
    try {
      await e.client.stop(options);
    } finally {
      e.unsubscribe();
    }
  }

  /** Unregisters every account in parallel; bounded by the unregister timeout, never rejects. */
  async stopAll(options?: StopOptions): Promise<void> {
    await Promise.all(this.clients.map((c) => c.stop(options)));
  }
}
