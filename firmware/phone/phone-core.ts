// The phone's plumbing under the call logic: options, devices in and out (hook, keys, LCD, LEDs, ringer, tones), the guarded state, timers and the render queue.
import type { HookSwitch, KeyEvent, Keypad, Leds, LedPattern, Ringer, TextDisplay } from '../../hal/devices.js';
import type { AudioPath, MediaEngine, RingRequest } from '../media/media-engine.js';
import { RING_CADENCES, TONE_COUNTRIES, type ToneCountry, type ToneName } from '../media/tones.js';
import type { Clock, TimerHandle } from '../util/clock.js';
import type { Unsubscribe } from '../util/emitter.js';
import type { Logger } from '../util/log.js';
import type { CallHistory } from './call-history.js';
import type { AudioControls, CallService } from './call-service.js';
import { DialPlan } from './dial-plan.js';
import { hasSoftkeys } from './keymap.js';
import type { PhoneCall } from './phone-call.js';
import type { PhoneFeatureOptions } from './phone-features.js';
import { phoneTransition, PhoneState } from './phone-state.js';
import type { Phonebook } from './phonebook.js';
import type { ClockFormat } from './screens.js';
import { VOLUME_MAX, type SettingsStore, type VolumePath } from './settings-store.js';

export interface PhoneOptions {
  display: TextDisplay;
  keypad?: Keypad | undefined;
  hook?: HookSwitch | undefined;
  leds?: Leds | undefined;
  /** The buzzer; it rings with the country's cadence (or ringCadenceMs). */
  ringer?: Ringer | undefined;
  clock: Clock;
  log: Logger;
  format: ClockFormat;
  /** The SIP side: calls, registration, voicemail. Without it the phone only dials and shows the clock. */
  calls?: CallService | undefined;
  /** Tones (dial, ringback, busy, congestion, call waiting), ringing on the speaker, the audio path. */
  media?: MediaEngine | undefined;
  /** Volume and mute on the engine (firmware/audio-controls.ts); absent: levels are kept and shown only. */
  audio?: AudioControls | undefined;
  /** Default: an empty digit map, 4 s between digits, '#' sends. */
  dialPlan?: DialPlan | undefined;
  /** Call-progress tones of this country (default US). */
  toneCountry?: ToneCountry | undefined;
  /** What the engine rings on the speaker; default the country's cadence. null: the buzzer only. */
  ring?: RingRequest | null | undefined;
  /** The buzzer's [on, off, ...] ms; default the country's ringing cadence. */
  ringCadenceMs?: readonly number[] | undefined;
  /**
   * The ring tones the settings menu offers (the config's choices): "default" (ring and
   * ringCadenceMs above, i.e. the config's tones.ringTone) and country cadences by code. Default
   * all of them; the settings' ringTone picks one.
   */
  ringTones?: readonly string[] | undefined;
  /** Call forward, auto-answer, hotline as provisioned (the config's features section). */
  features?: PhoneFeatureOptions | undefined;
  /** Missed, received and dialed calls; the missed count on the idle screen. */
  history?: CallHistory | undefined;
  /** Volumes (persisted), DND, forwarding. */
  settings?: SettingsStore | undefined;
  /** Names for numbers, speed dials. */
  phonebook?: Phonebook | undefined;
  /** A second incoming call during a call is announced (default true); false: it gets 486. */
  callWaiting?: boolean | undefined;
  /** The idle screen's first row without a call service (the composition root's account text). */
  accountStatus?: (() => string) | undefined;
  /** A problem shown instead of the line on the idle screen (a missing device, an unusable SIP socket). */
  problem?: (() => string | undefined) | undefined;
  /** Digits kept at most (a number longer than this is cut). */
  maxDigits?: number | undefined;
  /** How long the idle screen shows the last call's duration and quality after hanging up. Default 5 s; 0: never. */
  summaryMs?: number | undefined;
}

const NOTICE_MS = 2500;

/** Every ring tone the phone can play: the configured one and each country's cadence. */
export const RING_TONES: readonly string[] = ['default', ...TONE_COUNTRIES];

/**
 * What every part of the phone shares. The call logic (phone.ts) sits on top; this class keeps the
 * state diagram honest, drives the outputs and draws whatever screen() returns, in order.
 */
export abstract class PhoneCore {
  protected state = PhoneState.Idle;
  /** The calls alive: the focused one, held ones, a waiting one. */
  protected calls: PhoneCall[] = [];
  /** The call the screen and the keys are about. */
  protected focus: PhoneCall | undefined;
  /** Audio on the speaker: off hook by the speaker key, with the handset down. */
  protected speaker = false;
  protected muted = false;
  protected notice: { text: string; untilMs: number } | undefined;
  protected readonly plan: DialPlan;
  protected readonly country: ToneCountry;
  protected readonly log: Logger;
  protected readonly softkeys: boolean;
  protected readonly unsubscribe: Unsubscribe[] = [];
  private minuteTimer: TimerHandle | undefined;
  private noticeTimer: TimerHandle | undefined;
  private tickTimer: TimerHandle | undefined;
  private rendering: Promise<void> = Promise.resolve();
  private ringing = false;
  private tone: ToneName | undefined;
  /** Volume levels when there is no settings store. */
  private readonly volumes: Record<VolumePath, number> = { handset: 5, speaker: 5 };
  private dndLocal = false;

  constructor(protected readonly o: PhoneOptions) {
    this.log = o.log.child({ mod: 'phone' });
    this.plan = o.dialPlan ?? new DialPlan();
    this.country = o.toneCountry ?? 'US';
    this.softkeys = o.calls !== undefined && o.keypad !== undefined && hasSoftkeys(o.keypad.layout);
  }

  get currentState(): PhoneState {
    return this.state;
  }

  /** Something shown on the screen changed outside the phone (the registration state): draw again. */
  refresh(): Promise<void> {
    return this.render();
  }

  protected abstract onHook(offHook: boolean): void;
  protected abstract onKey(e: KeyEvent): void;
  protected abstract screen(): string[];
  /** Once a second while a call is up: the timer and a statistics sample. */
  protected abstract onTick(): void;

  start(): Promise<void> {
    if (this.o.hook) {
      this.unsubscribe.push(this.o.hook.on('change', (offHook) => this.onHook(offHook)));
      if (this.o.hook.offHook) this.onHook(true);
    }
    if (this.o.keypad) this.unsubscribe.push(this.o.keypad.on('key', (e) => this.onKey(e)));
    if (this.o.history) this.unsubscribe.push(this.o.history.on('change', () => void this.render()));
    if (this.o.settings) this.unsubscribe.push(this.o.settings.on('change', () => void this.render()));
    if (this.o.calls) {
      const calls = this.o.calls;
      this.unsubscribe.push(calls.on('registration', () => void this.render()));
      this.unsubscribe.push(calls.on('voicemail', () => this.showVoicemail()));
      calls.setDoNotDisturb?.(this.dnd);
      this.showVoicemail();
    }
    this.scheduleMinuteTick();
    return this.render();
  }

  async stop(): Promise<void> {
    for (const u of this.unsubscribe.splice(0)) u();
    for (const t of [this.minuteTimer, this.noticeTimer, this.tickTimer]) this.o.clock.clearTimeout(t);
    this.tickTimer = undefined;
    this.stopRinging();
    this.playTone(undefined);
    await this.rendering;
  }

  // --- state ----------------------------------------------------------------------------------

  protected go(to: PhoneState): void {
    if (to === this.state) return;
    this.log.debug({ from: this.state, to }, 'state');
    this.state = phoneTransition(this.state, to);
  }

  /** Off hook as far as the calls go: the handset is up, or the speaker is on. */
  protected get offHook(): boolean {
    return this.speaker || (this.o.hook?.offHook ?? false);
  }

  protected get dnd(): boolean {
    return this.o.settings?.settings.dnd ?? this.dndLocal;
  }

  protected setDnd(on: boolean): void {
    if (this.o.settings) this.o.settings.setDnd(on);
    else this.dndLocal = on;
    this.o.calls?.setDoNotDisturb?.(on);
  }

  protected get audioPath(): VolumePath {
    return this.speaker ? 'speaker' : 'handset';
  }

  protected volume(path: VolumePath): number {
    return this.o.settings?.settings.volume[path] ?? this.volumes[path];
  }

  /** Steps the volume of the path in use; returns the new level (persisted with the settings). */
  protected stepVolume(delta: number): number {
    const path = this.audioPath;
    const level = this.o.settings ? this.o.settings.stepVolume(path, delta) : (this.volumes[path] = Math.min(VOLUME_MAX, Math.max(0, this.volumes[path] + delta)));
    this.o.audio?.setVolume(path, level);
    return level;
  }

  /** Sets a path's volume (the menus), persisted with the settings; returns the level kept. */
  protected setVolumeLevel(path: VolumePath, level: number): number {
    const kept = this.o.settings ? this.o.settings.setVolume(path, level) : (this.volumes[path] = Math.min(VOLUME_MAX, Math.max(0, Math.round(level))));
    this.o.audio?.setVolume(path, kept);
    return kept;
  }

  /** Routes the audio to the handset or the speaker, with that path's volume. */
  protected useAudioPath(speaker: boolean): void {
    this.speaker = speaker;
    const path: AudioPath = speaker ? 'speaker' : 'handset';
    this.media((m) => m.setAudioPath(path));
    this.o.audio?.setVolume(path, this.volume(path));
  }

  protected setMuted(muted: boolean): void {
    this.muted = muted;
    this.o.audio?.setMuted(muted);
  }

  // --- outputs ----------------------------------------------------------------------------------

  /** Runs an engine call; an engine that fails (closed, a device gone) must not stop the phone. */
  protected media(fn: (m: MediaEngine) => void): void {
    if (!this.o.media) return;
    try {
      fn(this.o.media);
    } catch (err) {
      this.log.warn({ err }, 'media engine call failed');
    }
  }

  /** Plays a country tone (replacing the one playing), or stops it (undefined). */
  protected playTone(tone: ToneName | undefined): void {
    if (tone === this.tone) return;
    this.tone = tone;
    if (tone === undefined) this.media((m) => m.stopTone());
    else this.media((m) => m.playTone({ tone, country: this.country }));
  }

  protected get tonePlaying(): ToneName | undefined {
    return this.tone;
  }

  /** The ring tones offered in the settings menu. */
  get ringTones(): readonly string[] {
    return (this.o.ringTones ?? RING_TONES).filter((t) => RING_TONES.includes(t));
  }

  protected startRinging(): void {
    if (this.ringing) return;
    this.ringing = true;
    // The ring tone chosen in the menu: a country's cadence instead of the configured ring.
    const chosen = this.o.settings?.settings.ringTone;
    const country = TONE_COUNTRIES.find((c) => c === chosen && this.ringTones.includes(c));
    this.o.ringer?.ring(country ? RING_CADENCES[country].onOffMs : (this.o.ringCadenceMs ?? RING_CADENCES[this.country].onOffMs));
    const ring = country ? (this.o.ring === null ? null : { country }) : this.o.ring === undefined ? { country: this.country } : this.o.ring;
    if (ring) this.media((m) => m.ring(ring));
  }

  protected stopRinging(): void {
    if (!this.ringing) return;
    this.ringing = false;
    this.o.ringer?.stop();
    if (this.o.ring !== null) this.media((m) => m.stopRing());
  }

  protected led(name: string, pattern: LedPattern): void {
    if (this.o.leds?.names.includes(name)) this.o.leds.set(name, pattern);
  }

  /** The line LED from the state: blinking fast while ringing, slow with only held calls, on in use. */
  protected updateLineLed(): void {
    let pattern: LedPattern = 'off';
    if (this.state === PhoneState.Ringing) pattern = 'fast-blink';
    else if (this.offHook || this.calls.length > 0) pattern = this.calls.length > 0 && this.calls.every((c) => c.held) ? 'slow-blink' : 'on';
    this.led('line', pattern);
  }

  /** The MWI lamp follows the voicemail summary. */
  private showVoicemail(): void {
    const vm = this.o.calls?.voicemail();
    this.led('mwi', vm && (vm.waiting || vm.newMessages > 0) ? 'slow-blink' : 'off');
    void this.render();
  }

  /** A short message in place of the indicators (idle) or the detail row (calls), for a few seconds. */
  protected showNotice(text: string): void {
    this.notice = { text, untilMs: this.o.clock.now() + NOTICE_MS };
    this.o.clock.clearTimeout(this.noticeTimer);
    this.noticeTimer = this.o.clock.setTimeout(() => {
      this.notice = undefined;
      void this.render();
    }, NOTICE_MS);
  }

  protected get noticeText(): string | undefined {
    return this.notice && this.notice.untilMs > this.o.clock.now() ? this.notice.text : undefined;
  }

  /** Keeps the one-second tick running while any call is up. */
  protected updateTick(): void {
    const needed = this.calls.some((c) => c.connected);
    if (needed && !this.tickTimer) {
      const tick = (): void => {
        this.tickTimer = this.o.clock.setTimeout(tick, 1000);
        this.onTick();
        void this.render();
      };
      this.tickTimer = this.o.clock.setTimeout(tick, 1000);
    } else if (!needed && this.tickTimer) {
      this.o.clock.clearTimeout(this.tickTimer);
      this.tickTimer = undefined;
    }
  }

  /** The idle clock changes on the minute: wake exactly then, not every second. */
  private scheduleMinuteTick(): void {
    const msToNextMinute = 60_000 - (this.o.clock.wallNow() % 60_000);
    this.minuteTimer = this.o.clock.setTimeout(() => {
      this.scheduleMinuteTick();
      if (this.state === PhoneState.Idle) void this.render();
    }, msToNextMinute + 5);
  }

  /** Renders in order: a newer frame is computed when its turn comes, so the screen ends on the latest state. */
  protected render(): Promise<void> {
    this.updateLineLed();
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
