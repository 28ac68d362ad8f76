// The phone application: the hook and the keys (keymap.ts) mapped onto the call logic (phone-calls.ts) and features (phone-features.ts), redial, DND, the call history view and the menus, and the screen of each state.
import type { KeyEvent } from '../../hal/devices.js';
import type { TimerHandle } from '../util/clock.js';
import type { CallListName } from './call-history.js';
import { BACKSPACE } from './dial-plan.js';
import { actionOf, type KeyContext, type PhoneAction } from './keymap.js';
import type { PhoneCall } from './phone-call.js';
import { PhoneFeatures } from './phone-features.js';
import { PhoneMenus, type MenuHost } from './phone-menus.js';
import { phoneScreen } from './phone-screen.js';
import { PhoneState } from './phone-state.js';

export type { PhoneOptions } from './phone-core.js';

/** Keys that go into a number. */
const DIAL_KEYS = new Set(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '#']);
const HISTORY_LISTS: readonly CallListName[] = ['missed', 'received', 'dialed'];
/** The lists and menus go back to the idle screen after this long without a key. */
const MENU_IDLE_MS = 60_000;

/**
 * The phone: the state machine of phone-state.ts driven by the hook, the keypad and the calls'
 * events, with the screens of phone-screen.ts. Keys follow keymap.ts.
 */
export class Phone extends PhoneFeatures {
  private historyView = { list: 'missed' as CallListName, index: 0 };
  /** The history was opened from the menu: Back returns there. */
  private historyFromMenu = false;
  private readonly menus = new PhoneMenus(this.menuHost());
  private menuIdleTimer: TimerHandle | undefined;
  /** The state a key was pressed in, for its long press. */
  private pressedIn = PhoneState.Idle;

  override start(): Promise<void> {
    if (this.o.calls) this.unsubscribe.push(this.o.calls.on('incoming', (c) => void this.onIncoming(c)));
    if (this.o.calls) this.unsubscribe.push(this.o.calls.on('call', (c) => this.adopt(c)));
    if (this.o.calls) this.unsubscribe.push(this.o.calls.on('refused', (r) => this.onRefused(r)));
    return super.start();
  }

  override async stop(): Promise<void> {
    this.o.clock.clearTimeout(this.menuIdleTimer);
    await super.stop();
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
        this.goOffHook(false);
        return;
      case PhoneState.Menu: {
        // The phonebook entry shown is called; elsewhere in the menus lifting is just off hook.
        const number = this.menus.number;
        this.menus.close();
        if (number === undefined) {
          this.goOffHook(false);
        } else {
          this.useAudioPath(false);
          this.placeCall(number);
        }
        return;
      }
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
    if (e.type === 'long') {
      this.longPress(e.key);
    } else {
      this.pressedIn = this.state;
      this.press(e.key);
    }
    this.armMenuIdle();
    void this.render();
  }

  /** In the lists and menus, a minute without a key goes back to the idle screen. */
  private armMenuIdle(): void {
    this.o.clock.clearTimeout(this.menuIdleTimer);
    this.menuIdleTimer = undefined;
    if (this.state !== PhoneState.Menu && this.state !== PhoneState.History) return;
    this.menuIdleTimer = this.o.clock.setTimeout(() => {
      this.menuIdleTimer = undefined;
      if (this.state !== PhoneState.Menu && this.state !== PhoneState.History) return;
      this.menus.close();
      this.go(PhoneState.Idle);
      void this.render();
    }, MENU_IDLE_MS);
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
      case PhoneState.Menu:
        this.menus.type(key);
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
    // The press already moved the phone on (Back out of a menu, a call rejected): the hold means nothing here.
    if (this.state !== this.pressedIn) return;
    const action = actionOf(this.keyContext(), key, 'long');
    if (!action) return;
    if (this.state === PhoneState.Menu && action === 'backspace') {
      this.menus.longStar();
      return;
    }
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
      case PhoneState.Menu:
        return this.menus.page?.kind === 'entry' ? 'menu-entry' : 'menu';
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
        this.openHistory(false);
        return;
      case 'menu':
        this.menus.open();
        this.go(PhoneState.Menu);
        return;
      case 'menu-up':
      case 'menu-down':
      case 'menu-ok':
      case 'menu-back':
        this.menus.move(action === 'menu-up' ? 'up' : action === 'menu-down' ? 'down' : action === 'menu-ok' ? 'ok' : 'back');
        return;
      case 'delete-entry': {
        const list = this.historyView.list;
        if (this.o.history?.remove(list, this.historyView.index)) {
          this.historyView.index = Math.max(0, Math.min(this.historyView.index, this.o.history.list(list).length - 1));
          this.showNotice('Deleted');
        }
        return;
      }
      case 'speaker':
        this.goOffHook(true);
        return;
      case 'send':
        if (this.state === PhoneState.PreDial) {
          this.useAudioPath(true);
          this.placeCall(this.digits);
        } else if (this.state === PhoneState.Transfer && this.collector && this.collector.dialed !== '') {
          this.transferTo(this.collector.dialed);
        }
        return;
      case 'consult':
        if (this.state === PhoneState.Transfer && this.collector && this.collector.dialed !== '') this.consult(this.collector.dialed);
        return;
      case 'backspace':
        if (this.state === PhoneState.Menu) {
          this.menus.move('backspace');
        } else if (this.state === PhoneState.PreDial) {
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
        if (this.state === PhoneState.History && this.historyFromMenu) this.go(PhoneState.Menu);
        else this.endKey();
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

  private openHistory(fromMenu: boolean): void {
    this.historyView = { list: 'missed', index: 0 };
    this.historyFromMenu = fromMenu;
    this.go(PhoneState.History);
    this.o.history?.markMissedViewed();
  }

  /** What the menus may do to the phone. */
  private menuHost(): MenuHost {
    return {
      settings: this.o.settings,
      phonebook: this.o.phonebook,
      ringTones: this.ringTones,
      noAnswerAfterS: () => this.noAnswerAfterS,
      forwardTarget: (kind) => this.forwardTarget(kind),
      dnd: () => this.dnd,
      setDnd: (on) => this.setDnd(on),
      volume: (path) => this.volume(path),
      setVolume: (path, level) => void this.setVolumeLevel(path, level),
      dial: (number) => {
        this.menus.close();
        this.useAudioPath(true);
        this.placeCall(number);
      },
      openHistory: () => this.openHistory(true),
      exit: () => {
        if (this.state === PhoneState.Menu) this.go(PhoneState.Idle);
      },
      notice: (text) => this.showNotice(text),
    };
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
      forward: this.forwardTarget('always'),
      history: this.historyView,
      menu: this.menus.page,
    });
  }
}
