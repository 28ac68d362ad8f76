// The phone application: reacts to the hook and the keypad, keeps the screen, LEDs and ringer in step.
import type { HookSwitch, KeyEvent, Keypad, Leds, TextDisplay } from '../../hal/devices.js';
import type { Clock, TimerHandle } from '../util/clock.js';
import type { Unsubscribe } from '../util/emitter.js';
import type { Logger } from '../util/log.js';
import { phoneTransition, PhoneState } from './phone-state.js';
import { dialScreen, idleScreen, type ClockFormat } from './screens.js';

export interface PhoneOptions {
  display: TextDisplay;
  keypad?: Keypad | undefined;
  hook?: HookSwitch | undefined;
  leds?: Leds | undefined;
  clock: Clock;
  log: Logger;
  format: ClockFormat;
  /** The account line of the idle screen ("No account" until SIP registration lands). */
  accountStatus: () => string;
  /** Digits kept at most (a number longer than this is cut). */
  maxDigits?: number;
}

/** Keys that go into a number; the softkeys A-D are commands. */
const DIAL_KEYS = new Set(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '#']);
/** Softkey D erases the last digit (a desk phone's backspace). */
const BACKSPACE_KEY = 'D';

export class Phone {
  private state = PhoneState.Idle;
  private digits = '';
  private readonly unsubscribe: Unsubscribe[] = [];
  private minuteTimer: TimerHandle | undefined;
  private rendering: Promise<void> = Promise.resolve();
  private readonly log: Logger;

  constructor(private readonly o: PhoneOptions) {
    this.log = o.log.child({ mod: 'phone' });
  }

  get currentState(): PhoneState {
    return this.state;
  }

  get dialedDigits(): string {
    return this.digits;
  }

  start(): Promise<void> {
    if (this.o.hook) {
      this.unsubscribe.push(this.o.hook.on('change', (offHook) => this.onHook(offHook)));
      if (this.o.hook.offHook) this.onHook(true);
    }
    if (this.o.keypad) this.unsubscribe.push(this.o.keypad.on('key', (e) => this.onKey(e)));
    this.scheduleMinuteTick();
    return this.render();
  }

  async stop(): Promise<void> {
    for (const u of this.unsubscribe.splice(0)) u();
    this.o.clock.clearTimeout(this.minuteTimer);
    await this.rendering;
  }

  /** Something shown on the screen changed outside the phone (the registration state): draw again. */
  refresh(): Promise<void> {
    return this.render();
  }

  /** The idle clock changes on the minute: wake exactly then, not every second. */
  private scheduleMinuteTick(): void {
    const msToNextMinute = 60_000 - (this.o.clock.wallNow() % 60_000);
    this.minuteTimer = this.o.clock.setTimeout(() => {
      this.scheduleMinuteTick();
      if (this.state === PhoneState.Idle) void this.render();
    }, msToNextMinute + 5);
  }

  private go(to: PhoneState): void {
    if (to === this.state) return;
    this.log.debug({ from: this.state, to }, 'state');
    this.state = phoneTransition(this.state, to);
  }

  private onHook(offHook: boolean): void {
    if (offHook) {
      this.go(PhoneState.Dialing);
    } else {
      this.go(PhoneState.Idle);
      this.digits = '';
    }
    this.o.leds?.set('line', offHook ? 'on' : 'off');
    void this.render();
  }

  private onKey(e: KeyEvent): void {
    if (e.type !== 'down') return;
    if (e.key === BACKSPACE_KEY) {
      this.digits = this.digits.slice(0, -1);
      if (this.state === PhoneState.PreDial && this.digits === '') this.go(PhoneState.Idle);
    } else if (DIAL_KEYS.has(e.key)) {
      if (this.digits.length >= (this.o.maxDigits ?? 64)) return;
      this.digits += e.key;
      if (this.state === PhoneState.Idle) this.go(PhoneState.PreDial);
    } else {
      return;
    }
    void this.render();
  }

  private screen(): string[] {
    const caps = this.o.display.capabilities;
    if (this.state === PhoneState.Idle) {
      return idleScreen(caps, { accountStatus: this.o.accountStatus(), now: new Date(this.o.clock.wallNow()), format: this.o.format });
    }
    return dialScreen(caps, { offHook: this.state === PhoneState.Dialing, digits: this.digits });
  }

  /** Renders in order: a newer frame is computed when its turn comes, so the screen ends on the latest state. */
  private render(): Promise<void> {
    this.rendering = this.rendering
      .then(async () => {
        const rows = this.screen();
        for (let r = 0; r < rows.length; r++) await this.o.display.writeLine(r, rows[r] ?? '');
      })
      .catch((err: unknown) => {
        // The display reports and retries on its own; the phone carries on without it.
        this.log.warn({ err }, 'screen update failed');
      });
    return this.rendering;
  }
}
