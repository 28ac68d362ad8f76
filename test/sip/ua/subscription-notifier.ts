// A scripted RFC 6665 notifier on the loopback network for subscription and MWI tests: digest, grants, NOTIFY before or after the 2xx, failures on demand.
import { Dialog, DialogState } from '../../../firmware/sip/dialog/index.js';
import { AuthValue, Params, type SipRequest } from '../../../firmware/sip/message/index.js';
import { type AnyServerTransaction, type RequestOutcome, TransactionRequestSender } from '../../../firmware/sip/transaction/index.js';
import type { LoopbackNetwork } from '../../../firmware/sip/transport/loopback-transport.js';
import { addLayer, type Endpoint } from '../support/layer-fixture.js';
import { nameAddr } from '../support/sip-builders.js';
import { nextHopTarget } from '../support/test-user-agent.js';
import { expectedDigest } from './registration-fake-registrar.js';

export interface ReceivedSubscribe {
  atMs: number;
  request: SipRequest;
}

/** One-shot behaviours for the next SUBSCRIBEs, used in order. */
export type NotifierOverride =
  /** Answer this status (with these headers) instead. */
  | { respond: number; headers?: [string, string][] }
  /** Never answer (the subscriber's Timer F fires). */
  | { silent: true };

/**
 * Behaves like a notifier (RFC 6665 §4.2): answers SUBSCRIBE 200 with Expires (the smaller of
 * what was asked and grantS) and a Contact, makes a UAS dialog, and sends a NOTIFY in it at once
 * (active with expires and the body); answers refreshes in the dialog and 481 for an unknown
 * one; an unsubscribe (Expires: 0) gets 200 and NOTIFY terminated. With a password it challenges
 * (401) until the digest checks out, computed independently of firmware/sip/auth.
 */
export class ScriptedNotifier {
  readonly endpoint: Endpoint;
  readonly sender: TransactionRequestSender;
  readonly subscribes: ReceivedSubscribe[] = [];
  readonly overrides: NotifierOverride[] = [];
  /** The NOTIFYs sent and what became of them. */
  readonly notifies: { request: SipRequest; outcome: RequestOutcome }[] = [];
  readonly dialogs = new Map<string, Dialog>();
  grantS = 600;
  /** Send the NOTIFY before the 2xx, which follows after delay2xxMs. */
  notifyFirst = false;
  delay2xxMs = 50;
  /** Send a NOTIFY after each accepted SUBSCRIBE. */
  autoNotify = true;
  substate: 'active' | 'pending' = 'active';
  /** The NOTIFY body, or none. */
  body: string | undefined = 'Messages-Waiting: yes\r\nMessage-Account: sip:*97@10.0.0.2\r\nVoice-Message: 2/8 (1/0)\r\n';
  contentType = 'application/simple-message-summary';
  event = 'message-summary';
  /** Digest: auth user → password; undefined: no challenge. */
  users: Record<string, string> | undefined;
  realm = 'test.local';
  private nonce = 0;
  private readonly nonces = new Set<string>();

  constructor(
    private readonly network: LoopbackNetwork,
    readonly address = '10.0.0.2',
  ) {
    this.endpoint = addLayer(network, address, { validation: false, seed: 3 });
    this.sender = new TransactionRequestSender({ layer: this.endpoint.layer, resolveTarget: nextHopTarget });
    this.endpoint.layer.on('request', (tx) => {
      void this.handle(tx);
    });
  }

  get contact(): string {
    return `<sip:notifier@${this.address}:5060>`;
  }

  /** SUBSCRIBE times, ms. */
  times(): number[] {
    return this.subscribes.map((s) => s.atMs);
  }

  last(): SipRequest {
    const s = this.subscribes.at(-1);
    if (!s) throw new Error('no SUBSCRIBE received');
    return s.request;
  }

  /** The dialog of the latest subscription. */
  dialog(): Dialog {
    const d = this.dialogs.get(this.last().callId);
    if (!d) throw new Error('no dialog for the last SUBSCRIBE');
    return d;
  }

  /** Sends a NOTIFY in the latest subscription's dialog (or the given one). */
  async notify(options: { substate?: string; body?: string | undefined; event?: string; dialog?: Dialog; contentType?: string } = {}): Promise<RequestOutcome> {
    const dialog = options.dialog ?? this.dialog();
    const body = 'body' in options ? options.body : this.body;
    const request = dialog.createRequest('NOTIFY', {
      headers: [
        ['Event', options.event ?? this.event],
        ['Subscription-State', options.substate ?? `${this.substate};expires=${this.grantS}`],
      ],
      ...(body !== undefined ? { body, contentType: options.contentType ?? this.contentType } : {}),
      contact: nameAddr(`sip:notifier@${this.address}:5060`),
    });
    const outcome = await this.sender.send(request);
    this.notifies.push({ request, outcome });
    return outcome;
  }

  /** Statuses of the answers to the NOTIFYs sent. */
  notifyStatuses(): (number | string)[] {
    return this.notifies.map((n) => (n.outcome.kind === 'response' ? n.outcome.response.status : n.outcome.kind));
  }

  private challenge(tx: AnyServerTransaction): void {
    const nonce = `nonce${++this.nonce}`;
    this.nonces.add(nonce);
    const auth = new AuthValue('Digest', Params.of([
      { name: 'realm', value: this.realm, quoted: true },
      { name: 'nonce', value: nonce, quoted: true },
      { name: 'algorithm', value: 'MD5', quoted: false },
      { name: 'qop', value: 'auth', quoted: true },
    ]));
    tx.reply(401, { headers: [['WWW-Authenticate', auth.toString()]] });
  }

  private authorized(req: SipRequest): boolean {
    if (!this.users) return true;
    const creds = req.authorization.find((a) => a.get('realm') === this.realm);
    if (!creds) return false;
    const username = creds.get('username') ?? '';
    const password = this.users[username];
    if (password === undefined || !this.nonces.has(creds.get('nonce') ?? '')) return false;
    return creds.get('response') === expectedDigest(creds, { method: req.method, password, username });
  }

  private async handle(tx: AnyServerTransaction): Promise<void> {
    const req = tx.request;
    if (req.method !== 'SUBSCRIBE') {
      tx.reply(405);
      return;
    }
    this.subscribes.push({ atMs: this.network.clock.now(), request: req });
    const o = this.overrides.shift();
    if (o) {
      if ('silent' in o) return;
      tx.reply(o.respond, { headers: o.headers ?? [] });
      return;
    }
    if (!this.authorized(req)) {
      this.challenge(tx);
      return;
    }
    const asked = req.expires ?? 3600;
    const granted = Math.min(asked, this.grantS);
    const headers: [string, string][] = [
      ['Expires', String(granted)],
      ['Contact', this.contact],
    ];
    let dialog: Dialog;
    if (req.to.tag !== undefined) {
      const d = this.dialogs.get(req.callId);
      if (d?.state !== DialogState.Confirmed || d.id.localTag !== req.to.tag) {
        tx.reply(481);
        return;
      }
      const verdict = d.receiveRequest(req);
      if (!verdict.ok) {
        tx.reply(verdict.status);
        return;
      }
      dialog = d;
    } else {
      dialog = Dialog.uas(req, { localTag: tx.toTag, state: DialogState.Confirmed, localContact: nameAddr(`sip:notifier@${this.address}:5060`) });
      this.dialogs.set(req.callId, dialog);
    }
    const substate = granted === 0 ? 'terminated' : `${this.substate};expires=${granted}`;
    if (this.notifyFirst && this.autoNotify) {
      void this.notify({ dialog, substate });
      await this.network.clock.sleep(this.delay2xxMs);
      tx.reply(200, { headers });
      return;
    }
    tx.reply(200, { headers });
    if (!this.autoNotify) return;
    await this.notify({ dialog, substate, ...(granted === 0 ? { body: undefined } : {}) });
    if (granted === 0) {
      dialog.terminate('unsubscribed');
      this.dialogs.delete(req.callId);
    }
  }
}
