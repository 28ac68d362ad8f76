// A minimal in-process user agent on a TransactionLayer and a DialogRegistry (SIP.js test/support style): calls, answers, in-dialog requests.
import { Dialog } from '../../../firmware/sip/dialog/dialog.js';
import { DialogRegistry } from '../../../firmware/sip/dialog/dialog-registry.js';
import { createRequest } from '../../../firmware/sip/message/build.js';
import type { NameAddr } from '../../../firmware/sip/message/headers.js';
import type { SipRequest, SipResponse } from '../../../firmware/sip/message/message.js';
import type { Uri } from '../../../firmware/sip/message/uri.js';
import { createCallId, createTag } from '../../../firmware/sip/transaction/identifiers.js';
import type { InviteClientTransaction } from '../../../firmware/sip/transaction/invite-client-transaction.js';
import type { RequestOutcome } from '../../../firmware/sip/transaction/outcome.js';
import { TransactionRequestSender } from '../../../firmware/sip/transaction/request-sender.js';
import type { AnyServerTransaction } from '../../../firmware/sip/transaction/transaction-layer.js';
import type { SendTarget } from '../../../firmware/sip/transport/transport.js';
import type { Endpoint } from './layer-fixture.js';
import { nameAddr } from './sip-builders.js';

/** Where a request goes on the loopback network: its first Route (loose routing), else its Request-URI. */
export function nextHopTarget(request: SipRequest): SendTarget {
  const first = request.route[0];
  const u: Uri = first && first.uri.kind === 'sip' && first.uri.lr ? first.uri : request.uri;
  if (u.kind !== 'sip') throw new Error(`cannot route to ${u.toString()}`);
  const transport = u.transport?.toLowerCase();
  return { protocol: transport === 'tcp' ? 'tcp' : 'udp', address: u.host, port: u.port ?? 5060 };
}

export interface OutgoingCall {
  invite: SipRequest;
  transaction: InviteClientTransaction;
  /** Early and confirmed dialogs made by the responses, by remote tag. */
  dialogs: Map<string, Dialog>;
  /** All responses that reached the TU. */
  responses: SipResponse[];
  /** Resolves with the first final response. */
  final: Promise<SipResponse>;
}

/** How the UA answers an INVITE out of a dialog: statuses sent in order (default 180 then 200). */
export type Answer = readonly number[];

export class TestUserAgent {
  readonly dialogs = new DialogRegistry();
  readonly contact: NameAddr;
  readonly aor: string;
  readonly sender: TransactionRequestSender;
  /** Requests the TU saw (after the transaction and dialog layers). */
  readonly incoming: SipRequest[] = [];
  readonly acks: SipRequest[] = [];
  answer: Answer = [180, 200];

  constructor(
    readonly endpoint: Endpoint,
    readonly user: string,
  ) {
    this.aor = `sip:${user}@example.com`;
    this.contact = nameAddr(`sip:${user}@${endpoint.address}:${endpoint.port}`);
    this.sender = new TransactionRequestSender({ layer: endpoint.layer, resolveTarget: nextHopTarget });
    endpoint.layer.on('request', (tx) => this.onRequest(tx));
    endpoint.layer.on('ack', (ack) => {
      this.acks.push(ack);
      this.dialogs.receiveRequest(ack);
    });
  }

  get layer(): Endpoint['layer'] {
    return this.endpoint.layer;
  }

  /** Calls a peer: INVITE to its contact, dialogs from 1xx/2xx with a To tag, ACK for every 2xx. */
  call(peer: TestUserAgent, options: { route?: readonly string[] } = {}): OutgoingCall {
    const random = this.layer.random;
    const invite = createRequest({
      method: 'INVITE',
      uri: peer.contact.uri,
      from: nameAddr(this.aor, createTag(random)),
      to: nameAddr(peer.aor),
      callId: createCallId(random, this.endpoint.address),
      cseq: 1,
      contact: this.contact,
      route: options.route?.map((r) => nameAddr(r)),
    });
    const dialogs = new Map<string, Dialog>();
    const responses: SipResponse[] = [];
    let resolveFinal: (r: SipResponse) => void = () => undefined;
    const final = new Promise<SipResponse>((resolve) => (resolveFinal = resolve));
    const dialogFor = (res: SipResponse): Dialog | undefined => {
      const tag = res.to.tag;
      if (tag === undefined) return undefined;
      let d = dialogs.get(tag);
      if (!d) {
        d = this.dialogs.add(Dialog.uac(invite, res, { random, localContact: this.contact }));
        dialogs.set(tag, d);
      } else d.receiveResponse(res);
      return d;
    };
    const transaction = this.layer.sendInvite(invite, nextHopTarget(invite), {
      onProvisional: (res) => {
        responses.push(res);
        if (res.status > 100) dialogFor(res);
      },
      onFinal: (res) => {
        responses.push(res);
        resolveFinal(res);
        if (res.status >= 300) {
          for (const d of dialogs.values()) d.receiveResponse(res);
          return;
        }
        const d = dialogFor(res);
        if (!d) return;
        // RFC 3261 §13.2.2.4: every 2xx, retransmissions included, is ACKed by the UAC core.
        const ack = d.createAck(invite.cseq.seq);
        void this.layer.sendAck(ack, nextHopTarget(ack));
      },
    });
    return { invite, transaction, dialogs, responses, final };
  }

  /** Sends a request within a dialog and resolves with its outcome. */
  request(dialog: Dialog, method: string, options: { contact?: NameAddr } = {}): Promise<RequestOutcome> {
    const req = dialog.createRequest(method, options.contact ? { contact: options.contact } : {});
    return this.sender.send(req).then((outcome) => {
      if (outcome.kind === 'response') {
        dialog.receiveResponse(outcome.response);
        // A re-INVITE's 2xx is ACKed like the first one (RFC 3261 §13.2.2.4). A retransmitted 2xx
        // after this would reach the layer as a stray response; this test UA ignores those.
        if (method === 'INVITE' && outcome.response.status >= 200 && outcome.response.status < 300) {
          const ack = dialog.createAck(req.cseq.seq);
          void this.layer.sendAck(ack, nextHopTarget(ack));
        }
      }
      if (method === 'BYE') dialog.terminate('BYE sent');
      return outcome;
    });
  }

  private onRequest(tx: AnyServerTransaction): void {
    const request = tx.request;
    this.incoming.push(request);
    const match = this.dialogs.receiveRequest(request);
    if (match.kind === 'reject') {
      tx.respond(match.response);
      return;
    }
    if (match.kind === 'drop') return;
    if (match.kind === 'in-dialog') {
      const dialog = match.dialog;
      tx.reply(200, request.method === 'INVITE' ? { headers: [['Contact', this.contact.toString()]] } : {});
      if (request.method === 'BYE') dialog.terminate('BYE received');
      return;
    }
    if (request.method !== 'INVITE') {
      tx.reply(200);
      return;
    }
    const dialog = this.dialogs.add(Dialog.uas(request, { localTag: tx.toTag, localContact: this.contact, random: this.layer.random }));
    for (const status of this.answer) {
      // RFC 3261 §12.1.1: a response that makes a dialog carries Contact and the Record-Route.
      tx.reply(status, status < 300 ? { headers: [['Contact', this.contact.toString()]], copyRecordRoute: true } : {});
      if (status >= 200 && status < 300) {
        dialog.confirm();
        return;
      }
      if (status >= 300) {
        dialog.terminate(`${status} sent`);
        return;
      }
    }
  }
}
