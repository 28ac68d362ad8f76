// The phone application: the hook and the keys (keymap.ts) mapped onto the call logic of phone-calls.ts, redial, DND, the call history view, and the screen of each state.
import type { KeyEvent } from '../../hal/devices.js';
import type { CallListName } from './call-history.js';
import { BACKSPACE } from './dial-plan.js';
import { actionOf, type KeyContext, type PhoneAction } from './keymap.js';
import type { PhoneCall } from './phone-call.js';
import { PhoneCalls } from './phone-calls.js';
import { phoneScreen } from './phone-screen.js';
import { PhoneState } from './phone-state.js';

export type { PhoneOptions } from './phone-core.js';

/** Keys that go into a number. */
const DIAL_KEYS = new Set(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '#']);
const HISTORY_LISTS: readonly CallListName[] = ['missed', 'received', 'dialed'];

/**
 * The phone: the state machine of phone-state.ts driven by the hook, the keypad and the calls'
 * events, with the screens of phone-screen.ts. Keys follow keymap.ts.
 */
export class Phone extends PhoneCalls {
  private historyView = { list: 'missed' as CallListName, index: 0 };

  override start(): Promise<void> {
    if (this.o.calls) this.unsubscribe.push(this.o.calls.on('incoming', (c) => this.onIncoming(c)));
    return super.start();
  }

  /** The number being typed: on hook (PreDial) or off hook (Dialing, Transfer). */
  get dialedDigits(): string {
    return this.state === PhoneState.PreDial ? this.digits : (this.collector?.dialed ?? '');
  }

  /** The calls alive, for the control API: the focused one first. */
  get activeCalls(): readonly PhoneCall[] {
    return [...this.calls].sort((a, b) => (a === this.focus ? -1 : b === this.focus ? 1 : 0));
  }

  // --- inputs -----------------------------------------------------------------------------------

  protected onHook(offHook: boolean): void {
    if (offHook) this.lifted();
    else if (!this.speaker) this.hangUp();
    void this.render();
  }

  private lifted(): void {
    this.summary = undefined;
    switch (this.state) {
      case PhoneState.Idle:
        this.startDialing(false);
        return;
      case PhoneState.PreDial:
        if (!this.o.calls) {
          // No line to call on: the typed number carries over into off-hook dialing.
          const typed = this.digits;
          this.startDialing(false);
          for (const key of typed) this.dialKey(key);
          return;
        }
        this.useAudioPath(false);
        this.placeCall(this.digits);
        return;
      case PhoneState.History: {
        const entry = this.historyEntry();
        this.useAudioPath(false);
        if (entry) this.placeCall(entry.number);
        else this.startDialing(false);
        return;
      }
      case PhoneState.Ringing:
        this.answer(false);
        return;
      default:
        // On the speaker: the handset takes the audio over.
        if (this.speaker) this.useAudioPath(false);
    }
  }

  protected onKey(e: KeyEvent): void {
    if (e.type === 'up') return;
    this.summary = undefined;
    if (e.type === 'long') this.longPress(e.key);
    else this.press(e.key);
    void this.render();
  }

  private press(key: string): void {
    const action = actionOf(this.keyContext(), key, 'down');
    if (action) {
      this.act(action);
      return;
    }
    if (!DIAL_KEYS.has(key)) return;
    switch (this.state) {
      case PhoneState.Idle:
        if (key === '#') {
          this.act('redial');
        } else {
          this.go(PhoneState.PreDial);
          this.digits = key;
        }
        return;
      case PhoneState.PreDial:
        if (this.plan.isSendKey(this.digits, key)) this.act('send');
        else if (this.digits.length < (this.o.maxDigits ?? 64)) this.digits += key;
        return;
      case PhoneState.Dialing:
        if (key === '#' && this.collector?.dialed === '' && this.lastNumber() !== undefined) this.act('redial');
        else this.dialKey(key);
        return;
      case PhoneState.Transfer:
        this.collector?.key(key);
        return;
      case PhoneState.Connected:
        if (this.focus?.connected && !this.focus.held) this.focus.session.sendDtmf(key);
        return;
      default:
    }
  }

  private longPress(key: string): void {
    // The press before it already typed the key: a long press on the first key of on-hook dialing
    // is the idle screen's command (4x3: '*' = DND), or a speed dial.
    if (this.state === PhoneState.PreDial && this.digits === key) {
      const idle = actionOf('idle', key, 'long');
      const speed = this.o.phonebook?.speedDial(key);
      if (idle) {
        this.digits = '';
        this.go(PhoneState.Idle);
        this.act(idle);
      } else if (speed) {
        this.digits = speed.number;
      }
      return;
    }
    if (this.state === PhoneState.Dialing && this.collector?.dialed === key) {
      const speed = this.o.phonebook?.speedDial(key);
      if (speed) {
        this.collector.stop();
        this.placeCall(speed.number);
        return;
      }
    }
    const action = actionOf(this.keyContext(), key, 'long');
    if (!action) return;
    if (action === 'backspace' && key === '*') this.act('backspace'); // the '*' the press typed, then one more
    this.act(action);
  }

  private keyContext(): KeyContext {
    switch (this.state) {
      case PhoneState.Idle:
        return 'idle';
      case PhoneState.PreDial:
        return 'predial';
      case PhoneState.Dialing:
        return 'dialing';
      case PhoneState.Calling:
      case PhoneState.Ringback:
        return 'outgoing';
      case PhoneState.Ringing:
        return 'ringing';
      case PhoneState.Connected:
        return this.waiting ? 'waiting' : (`call-${this.page}` as const);
      case PhoneState.Transfer:
        return 'transfer';
      case PhoneState.Ended:
        return 'ended';
      case PhoneState.History:
        return 'history';
    }
  }

  // --- key actions ------------------------------------------------------------------------------

  private act(action: PhoneAction): void {
    const focus = this.focus;
    switch (action) {
      case 'redial': {
        const number = this.lastNumber();
        if (number === undefined) this.showNotice('No number to redial');
        else {
          if (!this.offHook) this.useAudioPath(true);
          this.collector?.stop();
          this.placeCall(number);
        }
        return;
      }
      case 'dnd':
        this.setDnd(!this.dnd);
        this.showNotice(this.dnd ? 'DND on' : 'DND off');
        return;
      case 'history':
        this.historyView = { list: 'missed', index: 0 };
        this.go(PhoneState.History);
        this.o.history?.markMissedViewed();
        return;
      case 'speaker':
        this.startDialing(true);
        return;
      case 'send':
        if (this.state === PhoneState.PreDial) {
          this.useAudioPath(true);
          this.placeCall(this.digits);
        } else if (this.state === PhoneState.Transfer && this.collector && this.collector.dialed !== '') {
          this.transferTo(this.collector.dialed);
        }
        return;
      case 'backspace':
        if (this.state === PhoneState.PreDial) {
          this.digits = this.digits.slice(0, -1);
          if (this.digits === '') this.go(PhoneState.Idle);
        } else {
          this.collector?.key(BACKSPACE);
        }
        return;
      case 'answer':
        if (this.state === PhoneState.Ringing) this.answer(!(this.o.hook?.offHook ?? false));
        else if (this.waiting) this.answerWaiting();
        return;
      case 'silence':
        this.silenced = true;
        this.stopRinging();
        return;
      case 'reject':
        this.reject();
        return;
      case 'end':
        this.endKey();
        return;
      case 'hold':
        this.toggleHold();
        return;
      case 'mute':
        this.setMuted(!this.muted);
        this.showNotice(this.muted ? 'Muted' : 'Unmuted');
        return;
      case 'transfer':
        if (!focus?.connected || focus.session.transfer === undefined) this.showNotice('Transfer not available');
        else this.startTransfer();
        return;
      case 'conference':
        this.conference();
        return;
      case 'swap':
        this.swap();
        return;
      case 'volume-down':
      case 'volume-up': {
        const level = this.stepVolume(action === 'volume-up' ? 1 : -1);
        this.showNotice(`${this.audioPath === 'speaker' ? 'Speaker' : 'Handset'} vol ${level}`);
        return;
      }
      case 'quality':
        this.showQuality = !this.showQuality;
        return;
      case 'more':
        this.page = this.page === 3 ? 1 : ((this.page + 1) as 2 | 3);
        return;
      case 'next-list': {
        const i = HISTORY_LISTS.indexOf(this.historyView.list);
        this.historyView = { list: HISTORY_LISTS[(i + 1) % HISTORY_LISTS.length] ?? 'missed', index: 0 };
        return;
      }
      case 'older':
      case 'newer': {
        const size = this.o.history?.list(this.historyView.list).length ?? 0;
        const index = this.historyView.index + (action === 'older' ? 1 : -1);
        this.historyView.index = Math.max(0, Math.min(size - 1, index));
        return;
      }
      case 'dial-entry': {
        const entry = this.historyEntry();
        if (!entry) return;
        this.useAudioPath(true);
        this.placeCall(entry.number);
        return;
      }
    }
  }

  private lastNumber(): string | undefined {
    return this.lastDialed ?? this.o.history?.list('dialed')[0]?.number;
  }

  private historyEntry(): { number: string } | undefined {
    return this.o.history?.list(this.historyView.list)[this.historyView.index];
  }

  // --- screen -----------------------------------------------------------------------------------

  protected screen(): string[] {
    return phoneScreen({
      caps: this.o.display.capabilities,
      state: this.state,
      options: this.o,
      nowMs: this.o.clock.now(),
      softkeys: this.softkeys,
      context: this.keyContext(),
      offHook: this.offHook,
      speaker: this.speaker,
      muted: this.muted,
      digits: this.dialedDigits,
      focus: this.focus,
      waiting: this.waiting,
      held: this.calls.filter((c) => c !== this.focus && c.held),
      ended: this.ended,
      summary: this.summary && this.summary.untilMs > this.o.clock.now() ? this.summary.call : undefined,
      showQuality: this.showQuality,
      silenced: this.silenced,
      notice: this.noticeText,
      dnd: this.dnd,
      history: this.historyView,
    });
  }
}
