// createCancel(): the CANCEL for a pending request (RFC 3261 §9.1).
import { SipRequest } from '../message/message.js';

export interface CreateCancelOptions {
  /** A Reason header (RFC 3326), e.g. 'SIP;cause=200;text="Call completed elsewhere"'. */
  reason?: string;
}

/**
 * RFC 3261 §9.1: the same Request-URI, Call-ID, To, From and CSeq number as the request being
 * cancelled (CSeq method CANCEL), one Via equal to its top Via (the same branch, so that the
 * server matches the CANCEL to the INVITE transaction, §9.2), and its Route header fields. The
 * CANCEL must go to the same destination as the request; TransactionLayer.cancel() sees to that.
 */
export function createCancel(request: SipRequest, options: CreateCancelOptions = {}): SipRequest {
  const cancel = new SipRequest({ method: 'CANCEL', uri: request.uri });
  cancel.append('Via', request.topVia);
  cancel.append('Max-Forwards', request.get('Max-Forwards') ?? '70');
  for (const r of request.getAll('Route')) cancel.append('Route', r);
  const to = request.get('To');
  const from = request.get('From');
  const callId = request.get('Call-ID');
  if (to === undefined || from === undefined || callId === undefined) throw new TypeError('createCancel: the request lacks To, From or Call-ID');
  cancel.append('To', to).append('From', from).append('Call-ID', callId);
  cancel.append('CSeq', `${request.cseq.seq} CANCEL`);
  if (options.reason !== undefined) cancel.append('Reason', options.reason);
  return cancel;
}
