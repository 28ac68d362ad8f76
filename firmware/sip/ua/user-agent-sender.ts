// The UA's RequestSender: finds the next hop with RFC 3263, sends in a new client transaction per target, and fails over on transport error, timeout and 503 (RFC 3263 §4.3).
import { type Logger, silentLogger } from '../../util/log.js';
import { LocateError, type ServerLocator, type ServerTarget, type TargetFailure, TargetList } from '../locate/index.js';
import { H, type SipRequest, type SipResponse, type Uri } from '../message/index.js';
import { sendOnce, type TransactionLayer } from '../transaction/index.js';
import type { RequestOutcome, RequestSender } from './request-sender.js';

export interface FailoverRequestSenderOptions {
  layer: TransactionLayer;
  locator: ServerLocator;
  logger?: Logger | undefined;
  /**
   * Called when a target gave an answer that ends the walk (any final response but 503): the UA
   * learns from it which server holds a REGISTER's binding (the flow to keep alive, RFC 5626 §4.4).
   */
  onAnswer?: ((request: SipRequest, target: ServerTarget, response: SipResponse) => void) | undefined;
}

/** The URI a request is sent towards (RFC 3261 §8.1.2): its first Route when it loose-routes, else the Request-URI. */
export function nextHopUri(request: SipRequest): Uri {
  const first = request.route[0];
  if (first && first.uri.kind === 'sip' && first.uri.lr) return first.uri;
  // A strict-routing first Route (no ;lr) still names the next hop (RFC 3261 §16.12.1.1 / §12.2.1.1).
  return first ? first.uri : request.uri;
}

/** The 503's Retry-After in ms, which is how long the failed target stays blacklisted (RFC 3261 §21.5.4). */
function retryAfterMs(response: SipResponse): number | undefined {
  const s = response.one(H.retryAfter)?.seconds;
  return s === undefined ? undefined : s * 1000;
}

/**
 * RequestSender for out-of-dialog requests (REGISTER, OPTIONS): RFC 3263 locates the next hop
 * (an outbound proxy in a Route, else the registrar or the Request-URI's domain), then the
 * targets are tried in order. RFC 3263 §4.3: after a transport error, a timeout (Timer F or B,
 * no response at all) or a 503, the same request is sent to the next target with a new Via branch,
 * which TransactionLayer.sendRequest gives it, so each attempt is a new client transaction.
 * Any other final response ends the walk. Failed targets go on the locator's blacklist (for a
 * 503 with Retry-After, that long), so later requests try them last.
 *
 * A target that answered is sticky: later requests to the same URI try it first while it works,
 * so that a registration's refreshes and keep-alives stay on the server holding the binding
 * (SRV weights would otherwise pick anew each time, RFC 2782).
 */
export class FailoverRequestSender implements RequestSender {
  private readonly layer: TransactionLayer;
  private readonly locator: ServerLocator;
  private readonly log: Logger;
  private readonly onAnswer: FailoverRequestSenderOptions['onAnswer'];
  /** Next-hop URI text → the target that last answered for it. */
  private readonly preferred = new Map<string, ServerTarget>();

  constructor(options: FailoverRequestSenderOptions) {
    this.layer = options.layer;
    this.locator = options.locator;
    this.log = (options.logger ?? silentLogger()).child({ mod: 'sip/ua/sender' });
    this.onAnswer = options.onAnswer;
  }

  /** Forgets the preferred target of every URI (the network changed). */
  forgetPreferred(): void {
    this.preferred.clear();
  }

  /** Forgets one target as preferred and blacklists it (its flow failed, RFC 5626 §4.4.1). */
  targetFailed(target: ServerTarget, failure: TargetFailure): void {
    for (const [uri, t] of this.preferred) if (sameTarget(t, target)) this.preferred.delete(uri);
    this.locator.blacklist.add(target, failure.retryAfterMs);
  }

  /**
   * Sends a request with failover over the located targets. `nextHop` names the URI to locate
   * when the request's own Route / Request-URI would mislead: a request built in a dialog with a
   * strict-routing route set carries the strict router as its Request-URI, and the dialog knows
   * its next hop (Dialog.nextHopUri, RFC 3261 §12.2.1.1).
   */
  async send(request: SipRequest, options: { onProvisional?: (r: SipResponse) => void; nextHop?: Uri | undefined } = {}): Promise<RequestOutcome> {
    const hop = options.nextHop ?? nextHopUri(request);
    const key = hop.toString();
    let list: TargetList;
    try {
      list = this.withPreferred(await this.locator.locate(hop), key);
    } catch (e) {
      // RFC 3263 §4.3 / RFC 3261 §8.1.3.1: no target at all is a transport error (treated as 503).
      const error = e instanceof Error ? e : new Error(String(e));
      if (!(e instanceof LocateError)) this.log.error({ err: error.message }, 'locating the next hop failed unexpectedly');
      return { kind: 'transport-error', error };
    }
    let last: RequestOutcome | undefined;
    for (let target = list.next(); target !== undefined; target = list.next()) {
      const outcome = await this.sendTo(request, target, options);
      const failure = failureOf(outcome);
      if (!failure) {
        list.succeeded(target);
        this.preferred.set(key, target);
        if (outcome.kind === 'response') this.onAnswer?.(request, target, outcome.response);
        return outcome;
      }
      list.failed(target, failure);
      if (sameTarget(this.preferred.get(key), target)) this.preferred.delete(key);
      last = outcome;
      if (list.remaining > 0) {
        this.log.info({ method: request.method, target: `${target.protocol}:${target.address}:${target.port}`, reason: failure.reason }, 'target failed: trying the next one (RFC 3263 §4.3)');
      }
    }
    return last ?? { kind: 'transport-error', error: new Error(`no target left for ${key}`) };
  }

  /** One attempt: a new client transaction to one target; resolves on its outcome, never rejects. */
  private sendTo(request: SipRequest, target: ServerTarget, options: { onProvisional?: (r: SipResponse) => void }): Promise<RequestOutcome> {
    return sendOnce(this.layer, request, target, options);
  }

  /** The located list with the sticky target moved to the front, when it is still among the targets. */
  private withPreferred(list: TargetList, key: string): TargetList {
    const p = this.preferred.get(key);
    const i = p ? list.targets.findIndex((t) => sameTarget(t, p)) : -1;
    if (i <= 0) return list;
    const targets = [list.targets[i], ...list.targets.filter((_, j) => j !== i)].filter((t): t is ServerTarget => t !== undefined);
    return new TargetList({ uri: list.uri, targets, blacklist: this.locator.blacklist });
  }
}

/** RFC 3263 §4.3: the outcomes that send the request on to the next target. */
function failureOf(outcome: RequestOutcome): TargetFailure | undefined {
  if (outcome.kind === 'timeout') return { reason: 'timeout' };
  if (outcome.kind === 'transport-error') return { reason: 'transport-error' };
  if (outcome.response.status === 503) return { reason: 'service-unavailable', retryAfterMs: retryAfterMs(outcome.response) };
  return undefined;
}

function sameTarget(a: ServerTarget | undefined, b: ServerTarget): boolean {
  return a !== undefined && a.protocol === b.protocol && a.address.toLowerCase() === b.address.toLowerCase() && a.port === b.port;
}
