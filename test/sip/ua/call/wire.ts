// Records the SIP messages a phone sends and receives (from its UA's trace events), with the virtual time, for the mid-call tests.
import { type SipMessage, type SipRequest, type SipResponse, parseMessage } from '../../../../firmware/sip/message/index.js';
import type { Net, Phone } from './call-fixture.js';

export interface WireEntry {
  dir: 'in' | 'out';
  atMs: number;
  message: SipMessage;
}

/** The messages of one phone, in order. */
export class Wire {
  readonly entries: WireEntry[] = [];

  constructor(phone: Phone, n: Net) {
    phone.ua.on('trace', (r) => {
      const p = parseMessage(r.bytes);
      if (p.ok) this.entries.push({ dir: r.direction, atMs: n.clock.now(), message: p.message });
    });
  }

  /** Requests of a method sent ('out') or received ('in'). */
  requests(dir: 'in' | 'out', method: string): (WireEntry & { message: SipRequest })[] {
    return this.entries.filter((e): e is WireEntry & { message: SipRequest } => e.dir === dir && e.message.kind === 'request' && e.message.method === method);
  }

  /** Responses sent or received to requests of a method (optionally of one status). */
  responses(dir: 'in' | 'out', method: string, status?: number): (WireEntry & { message: SipResponse })[] {
    return this.entries.filter(
      (e): e is WireEntry & { message: SipResponse } => e.dir === dir && e.message.kind === 'response' && e.message.cseq.method === method && (status === undefined || e.message.status === status),
    );
  }

  clear(): void {
    this.entries.length = 0;
  }
}
