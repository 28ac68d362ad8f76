// The dialog layer's public API (RFC 3261 §12).
export {
  Dialog,
  DialogCreationError,
  type DialogEvents,
  type DialogId,
  type DialogOptions,
  DialogState,
  DialogStateError,
  type InDialogRequestOptions,
  type InDialogVerdict,
  TARGET_REFRESH_METHODS,
  type UasDialogOptions,
  dialogKey,
} from './dialog.js';
export { DialogRegistry, DuplicateDialogError, type InDialogMatch } from './dialog-registry.js';
