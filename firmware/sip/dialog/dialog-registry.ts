// The dialogs of a UA by Call-ID and tags: routes in-dialog requests to their dialog and answers 481 / 500 for the others (RFC 3261 §12.2.2).
import type { SipRequest, SipResponse } from '../message/message.js';
import { Dialog, type DialogId, DialogState, dialogKey } from './dialog.js';

/** Two dialogs with one identity. */
export class DuplicateDialogError extends Error {
  override readonly name = 'DuplicateDialogError';
  constructor(readonly id: DialogId) {
    super(`a dialog ${id.callId} (${id.localTag}/${id.remoteTag}) is already registered`);
  }
}

/** Where a received request belongs. */
export type InDialogMatch =
  /** No To tag: not within a dialog (it may create one). */
  | { kind: 'out-of-dialog' }
  /** Within this dialog, which accepted it (remote CSeq and target updated). */
  | { kind: 'in-dialog'; dialog: Dialog }
  /** To answer with this response: 481 for an unknown dialog, 500 for a CSeq out of order (RFC 3261 §12.2.2). */
  | { kind: 'reject'; status: 481 | 500; response: SipResponse; dialog: Dialog | undefined }
  /** An ACK (never answered) for no dialog: drop it. */
  | { kind: 'drop' };

/**
 * A UA's dialogs keyed by Call-ID, local tag and remote tag. A dialog leaves the registry by
 * itself when it terminates. Several early dialogs may share a Call-ID and local tag (forking,
 * RFC 3261 §12.1.2, §13.2.2.4).
 */
export class DialogRegistry {
  private readonly dialogs = new Map<string, { dialog: Dialog; off: () => void }>();

  get size(): number {
    return this.dialogs.size;
  }

  values(): Dialog[] {
    return [...this.dialogs.values()].map((e) => e.dialog);
  }

  add(dialog: Dialog): Dialog {
    const key = dialogKey(dialog.id);
    if (this.dialogs.has(key)) throw new DuplicateDialogError(dialog.id);
    if (dialog.state === DialogState.Terminated) return dialog;
    const off = dialog.on('state', (state) => {
      if (state === DialogState.Terminated) this.remove(dialog);
    });
    this.dialogs.set(key, { dialog, off });
    return dialog;
  }

  remove(dialog: Dialog): void {
    const key = dialogKey(dialog.id);
    const entry = this.dialogs.get(key);
    if (entry?.dialog !== dialog) return;
    entry.off();
    this.dialogs.delete(key);
  }

  get(id: DialogId): Dialog | undefined {
    return this.dialogs.get(dialogKey(id))?.dialog;
  }

  /** The dialog of a received request: local tag = its To tag, remote tag = its From tag. */
  forRequest(request: SipRequest): Dialog | undefined {
    const localTag = request.to.tag;
    if (localTag === undefined) return undefined;
    return this.get({ callId: request.callId, localTag, remoteTag: request.from.tag ?? '' });
  }

  /** The dialog of a received response: local tag = its From tag, remote tag = its To tag. */
  forResponse(response: SipResponse): Dialog | undefined {
    const localTag = response.from.tag;
    const remoteTag = response.to.tag;
    if (localTag === undefined || remoteTag === undefined) return undefined;
    return this.get({ callId: response.callId, localTag, remoteTag });
  }

  /** Every dialog of one Call-ID and local tag (the early dialogs of a forked INVITE). */
  forked(callId: string, localTag: string): Dialog[] {
    return this.values().filter((d) => d.id.callId === callId && d.id.localTag === localTag);
  }

  /**
   * RFC 3261 §12.2.2: a request with a To tag belongs to the dialog it names; if there is none,
   * it is answered 481 (an ACK is dropped); if the dialog finds it out of order, 500.
   */
  receiveRequest(request: SipRequest): InDialogMatch {
    if (request.to.tag === undefined) return { kind: 'out-of-dialog' };
    const dialog = this.forRequest(request);
    if (!dialog) {
      if (request.method === 'ACK') return { kind: 'drop' };
      return { kind: 'reject', status: 481, response: Dialog.rejection(request, { status: 481, reason: 'Call/Transaction Does Not Exist' }), dialog: undefined };
    }
    const verdict = dialog.receiveRequest(request);
    if (verdict.ok) return { kind: 'in-dialog', dialog };
    if (request.method === 'ACK') return { kind: 'drop' };
    return { kind: 'reject', status: verdict.status, response: Dialog.rejection(request, verdict), dialog };
  }
}
