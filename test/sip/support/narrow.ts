// Narrowing helpers for tests: a transaction of the expected kind, or a failed test.
import { InviteServerTransaction } from '../../../firmware/sip/transaction/invite-server-transaction.js';
import { NonInviteClientTransaction } from '../../../firmware/sip/transaction/non-invite-client-transaction.js';
import { NonInviteServerTransaction } from '../../../firmware/sip/transaction/non-invite-server-transaction.js';

export function asIst(tx: unknown): InviteServerTransaction {
  if (!(tx instanceof InviteServerTransaction)) throw new Error('expected an INVITE server transaction');
  return tx;
}

export function asNist(tx: unknown): NonInviteServerTransaction {
  if (!(tx instanceof NonInviteServerTransaction)) throw new Error('expected a non-INVITE server transaction');
  return tx;
}

export function asNict(tx: unknown): NonInviteClientTransaction {
  if (!(tx instanceof NonInviteClientTransaction)) throw new Error('expected a non-INVITE client transaction');
  return tx;
}
