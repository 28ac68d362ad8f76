// A fake SessionDescriptionHandler for call tests (a mock of the SDP/media component): plain-text bodies like "v=0 fake offer 1" (" a=sendonly" on hold), every call recorded, refusals on demand, the peer's hold read from its offers.
import type {
  OfferOptions,
  SessionBody,
  SessionBodyVerdict,
  SessionDescriptionContext,
  SessionDescriptionHandler,
  SessionDescriptionHandlerFactory,
} from '../../../firmware/sip/ua/session-description.js';

export interface FakeBehaviour {
  /** Refuse every offer with this reason (488). */
  refuseOffer?: string | undefined;
  /** Refuse every answer with this reason. */
  refuseAnswer?: string | undefined;
  /** Refuse answers from 1xx only. */
  refuseEarlyAnswer?: string | undefined;
}

/** How an offer puts us on hold: sendonly or inactive (RFC 3264 §8.4), or the RFC 2543 c=0.0.0.0. */
const HOLD_OFFER = /a=sendonly|a=inactive|c=IN IP4 0\.0\.0\.0/;

export class FakeSessionHandler implements SessionDescriptionHandler {
  readonly log: string[] = [];
  closed = false;
  /** The peer holds us: its last offer taken said so. */
  remoteHold = false;
  private n = 0;

  constructor(
    readonly context: SessionDescriptionContext,
    readonly name: string,
    readonly behaviour: FakeBehaviour,
  ) {}

  createOffer(options: OfferOptions): Promise<SessionBody> {
    const body = `v=0 fake offer ${this.name}.${++this.n}${options.hold ? ' a=sendonly' : ''}`;
    this.log.push(`createOffer hold=${options.hold} -> ${body}`);
    return Promise.resolve({ contentType: 'application/sdp', body });
  }

  receiveOffer(offer: SessionBody): SessionBodyVerdict {
    this.log.push(`receiveOffer ${offer.body}`);
    const r = this.behaviour.refuseOffer;
    if (r !== undefined) return { ok: false, status: 488, reason: r };
    this.remoteHold = HOLD_OFFER.test(offer.body);
    return { ok: true };
  }

  createAnswer(options: OfferOptions): Promise<SessionBody> {
    const body = `v=0 fake answer ${this.name}.${++this.n}${options.hold ? ' a=sendonly' : ''}`;
    this.log.push(`createAnswer hold=${options.hold} -> ${body}`);
    return Promise.resolve({ contentType: 'application/sdp', body });
  }

  receiveAnswer(answer: SessionBody, context: { early: boolean; fork: string }): SessionBodyVerdict {
    this.log.push(`receiveAnswer ${answer.body} early=${context.early} fork=${context.fork}`);
    const r = this.behaviour.refuseAnswer ?? (context.early ? this.behaviour.refuseEarlyAnswer : undefined);
    return r === undefined ? { ok: true } : { ok: false, status: 488, reason: r };
  }

  rollback(): void {
    this.log.push('rollback');
  }

  confirmed(): void {
    this.log.push('confirmed');
  }

  sendDtmf(digits: string, durationMs: number): boolean {
    this.log.push(`sendDtmf ${digits} ${durationMs}`);
    return true;
  }

  close(): void {
    if (!this.closed) this.log.push('close');
    this.closed = true;
  }
}

/** A factory of fake handlers that keeps every handler it made (h1, h2... by creation order). */
export class FakeHandlers {
  readonly made: FakeSessionHandler[] = [];
  behaviour: FakeBehaviour = {};

  constructor(readonly prefix: string) {}

  readonly factory: SessionDescriptionHandlerFactory = (context) => {
    const h = new FakeSessionHandler(context, `${this.prefix}${this.made.length + 1}`, this.behaviour);
    this.made.push(h);
    return h;
  };

  get last(): FakeSessionHandler {
    const h = this.made[this.made.length - 1];
    if (!h) throw new Error('no handler made yet');
    return h;
  }
}
