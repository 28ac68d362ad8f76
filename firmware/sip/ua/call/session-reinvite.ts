// Sending a re-INVITE in a confirmed dialog: RFC 3263 failover, one digest round, and the ACK for its 2xx and for every retransmission of it (RFC 3261 §13.2.2.4, §14.1).
import type { Logger } from '../../../util/log.js';
import { type Dialog, DialogState, type InDialogRequestOptions } from '../../dialog/index.js';
import type { ServerTarget, TargetList } from '../../locate/index.js';
import type { SipRequest, SipResponse } from '../../message/index.js';
import type { RequestOutcome } from '../../transaction/index.js';
import { type CallEnvironment, describeTarget, hostOf } from './call-environment.js';

export interface ReinviteOptions {
  env: CallEnvironment;
  dialog: Dialog;
  accountId: string | undefined;
  /** Headers (User-Agent included), the offer, Contact (default: the dialog's local contact). */
  request: InDialogRequestOptions;
  log: Logger;
}

/**
 * Sends one re-INVITE and resolves with its final outcome; never rejects.
 *
 * Unlike Session.sendRequest(), the INVITE client transaction is driven directly: the layer
 * hands every 2xx to the TU (RFC 6026 §7.2), and each one — the first and its retransmissions,
 * which come when our ACK was lost — gets the same ACK (§13.2.2.4), sent to the target that
 * answered. The targets of Dialog.nextHopUri are tried in RFC 3263 order on timeout, transport
 * error and 503 (§4.3); a 401/407 is answered once with the account's credentials (a new CSeq,
 * §22.2), and the ACK carries them. The dialog sees the final response (a 481 or 408 ends it,
 * RFC 3261 §12.2.1.2).
 */
export async function sendReinvite(o: ReinviteOptions): Promise<RequestOutcome> {
  const { env, dialog } = o;
  const hop = dialog.nextHopUri;
  const exchange = env.digest(o.accountId)?.begin({ fromConfiguredServer: false, peerHost: hostOf(hop) });
  for (let round = 0; ; round++) {
    if (dialog.state === DialogState.Terminated) return { kind: 'transport-error', error: new Error('the dialog ended before the re-INVITE went out') };
    let request: SipRequest;
    try {
      request = dialog.createRequest('INVITE', o.request);
    } catch (e) {
      return { kind: 'transport-error', error: e instanceof Error ? e : new Error(String(e)) };
    }
    exchange?.authorize(request);
    let targets: TargetList;
    try {
      targets = await env.locator.locate(hop);
    } catch (e) {
      return { kind: 'transport-error', error: e instanceof Error ? e : new Error(String(e)) };
    }
    const result = await walk(o, request, targets);
    if (result.kind !== 'response') return result;
    const res = result.response;
    dialog.receiveResponse(res);
    if ((res.status === 401 || res.status === 407) && round === 0 && exchange && (dialog.state as DialogState) !== DialogState.Terminated && exchange.onChallenge(res).kind === 'retry') continue;
    return result;
  }
}

/** RFC 3263 §4.3: the re-INVITE (a copy per target, each with its own branch) to each target in turn until one gives an answer that ends the walk. */
async function walk(o: ReinviteOptions, request: SipRequest, targets: TargetList): Promise<RequestOutcome> {
  let last: RequestOutcome = { kind: 'transport-error', error: new Error('no target for the re-INVITE') };
  for (let target = targets.next(); target !== undefined; target = targets.next()) {
    last = await attempt(o, request.clone(), target);
    if (last.kind === 'timeout') targets.failed(target, { reason: 'timeout' });
    else if (last.kind === 'transport-error') targets.failed(target, { reason: 'transport-error' });
    else if (last.response.status === 503) targets.failed(target, { reason: 'service-unavailable' });
    else {
      targets.succeeded(target);
      return last;
    }
    o.log.info({ target: describeTarget(target), result: last.kind === 'response' ? last.response.status : last.kind }, 're-INVITE failed at this target');
  }
  return last;
}

function attempt(o: ReinviteOptions, request: SipRequest, target: ServerTarget): Promise<RequestOutcome> {
  const credentials = [...request.getAll('Authorization').map((v) => ['Authorization', v] as const), ...request.getAll('Proxy-Authorization').map((v) => ['Proxy-Authorization', v] as const)];
  let ack: SipRequest | undefined;
  const acknowledge = (res: SipResponse): void => {
    if (res.to.tag !== o.dialog.id.remoteTag) return;
    if (!ack) {
      if (o.dialog.state === DialogState.Terminated) return;
      // The 2xx may move the remote target (a target refresh, §12.2.1.2): the ACK goes to the new one.
      o.dialog.receiveResponse(res);
      ack = o.dialog.createAck(request.cseq.seq, { headers: credentials });
    }
    void o.env.layer.sendAck(ack, target).then((r) => {
      if (!r.ok) o.log.warn({ err: r.error.message, target: describeTarget(target) }, 'ACK for the re-INVITE not sent');
    });
  };
  return new Promise<RequestOutcome>((resolve) => {
    let done = false;
    const finish = (r: RequestOutcome): void => {
      if (done) return;
      done = true;
      resolve(r);
    };
    try {
      o.env.layer.sendInvite(request, target, {
        onFinal: (res) => {
          if (res.status < 300) acknowledge(res);
          finish({ kind: 'response', response: res });
        },
        onTimeout: () => finish({ kind: 'timeout' }),
        onTransportError: (error) => finish({ kind: 'transport-error', error }),
      });
    } catch (e) {
      finish({ kind: 'transport-error', error: e instanceof Error ? e : new Error(String(e)) });
    }
  });
}
