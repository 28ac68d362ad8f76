// createNon2xxAck(): the ACK an INVITE client transaction sends for a 300-699 response (RFC 3261 §17.1.1.3).
import { SipRequest, type SipResponse } from '../message/message.js';

/**
 * RFC 3261 §17.1.1.3: Request-URI, Call-ID, From and CSeq number of the INVITE, CSeq method ACK,
 * To of the response (with the tag the UAS added), one Via equal to the INVITE's top Via (so the
 * same branch: the ACK belongs to the INVITE transaction), and the INVITE's Route header fields.
 * Header values are copied as text, so that they are byte for byte those of the INVITE.
 */
export function createNon2xxAck(invite: SipRequest, response: SipResponse): SipRequest {
  const ack = new SipRequest({ method: 'ACK', uri: invite.uri });
  ack.append('Via', invite.topVia);
  ack.append('Max-Forwards', invite.get('Max-Forwards') ?? '70');
  for (const r of invite.getAll('Route')) ack.append('Route', r);
  const to = response.get('To');
  const from = invite.get('From');
  const callId = invite.get('Call-ID');
  if (to === undefined || from === undefined || callId === undefined) throw new TypeError('createNon2xxAck: the INVITE or the response lacks To, From or Call-ID');
  ack.append('To', to).append('From', from).append('Call-ID', callId);
  ack.append('CSeq', `${invite.cseq.seq} ACK`);
  return ack;
}
