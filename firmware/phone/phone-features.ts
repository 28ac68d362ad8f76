// Call features on top of the call logic: call forward (always / busy / no answer, answered here with a 302), auto-answer (intercom), hotline.
import type { TimerHandle } from '../util/clock.js';
import type { IncomingCall } from './call-service.js';
import type { PhoneCall } from './phone-call.js';
import { PhoneCalls } from './phone-calls.js';
import { PhoneState } from './phone-state.js';
import { normalizeNumber } from './phonebook.js';
import type { ForwardKind } from './settings-store.js';

/** Call forwarding as provisioned (config features.forward); the menu's settings win over it. */
export interface ForwardFeature {
  always?: string | undefined;
  busy?: string | undefined;
  noAnswer?: string | undefined;
  noAnswerAfterS?: number | undefined;
}

/** Intercom answering on the speaker (config features.autoAnswer). */
export interface AutoAnswerFeature {
  enabled: boolean;
  /** Seconds of ringing before the answer; 0: at once. */
  delayS?: number | undefined;
  /** Only callers with these numbers or URIs (compared normalised); absent: every caller. */
  onlyFrom?: readonly string[] | undefined;
}

/** Hotline / PLAR (config features.hotline): off hook without a key for delayS dials number. */
export interface HotlineFeature {
  number: string;
  delayS?: number | undefined;
}

/** The call features of the config (its features section has this shape), all optional. */
export interface PhoneFeatureOptions {
  forward?: ForwardFeature | undefined;
  autoAnswer?: AutoAnswerFeature | undefined;
  hotline?: HotlineFeature | undefined;
}

/** The no-answer delay when neither the settings nor the config give one. */
export const DEFAULT_NO_ANSWER_AFTER_S = 20;
/** How long the auto-answer beep (the country's confirmation tone, three short bursts) plays. */
const BEEP_MS = 600;

/**
 * What the INVITE asks of an intercom phone: `Alert-Info: <...>;info=alert-autoanswer` (also
 * `info=intercom`, "Intercom"), or `Call-Info: <...>;answer-after=N` (N seconds; 0 at once).
 * Returns the delay the headers ask for (seconds, 0 when they give none), or undefined when they
 * do not ask. Only acted on when auto-answer is enabled in the config.
 */
export function intercomRequest(header: (name: string) => readonly string[]): number | undefined {
  for (const v of header('Call-Info')) {
    const m = /;\s*answer-after\s*=\s*(\d+)/i.exec(v);
    if (m) return Number(m[1]);
  }
  for (const v of header('Alert-Info')) if (/alert-autoanswer|(^|[\s;=<])intercom\b|auto-?answer/i.test(v)) return 0;
  return undefined;
}

/**
 * The features of the phone that act on calls by themselves: forwarding, auto-answer, hotline.
 * Phone (phone.ts) sits on top and maps keys; the menus change the forwarding targets in the
 * settings store.
 */
export abstract class PhoneFeatures extends PhoneCalls {
  private readonly featureTimers = new Set<TimerHandle>();
  private hotlineTimer: TimerHandle | undefined;

  override async stop(): Promise<void> {
    for (const t of this.featureTimers) this.o.clock.clearTimeout(t);
    this.featureTimers.clear();
    this.cancelHotline();
    await super.stop();
  }

  // --- call forward -----------------------------------------------------------------------------

  /** The forwarding target in force: the menu's setting (false: switched off there), else the config's. */
  forwardTarget(kind: ForwardKind): string | undefined {
    const set = this.o.settings?.settings.callForward[kind];
    if (set === false) return undefined;
    return set ?? this.o.features?.forward?.[kind];
  }

  /** Seconds an unanswered call rings before forward-no-answer takes it. */
  get noAnswerAfterS(): number {
    return this.o.settings?.settings.callForward.noAnswerAfterS ?? this.o.features?.forward?.noAnswerAfterS ?? DEFAULT_NO_ANSWER_AFTER_S;
  }

  /** Forwarded on arrival (always, busy): undefined, the phone keeps no call. */
  protected override onIncoming(session: IncomingCall): PhoneCall | undefined {
    // Forward always: the call never rings here; it is logged as forwarded.
    const always = this.forwardTarget('always');
    if (always !== undefined && this.redirectNew(session, always)) {
      this.forwardedRecord(session, always);
      return undefined;
    }
    // Forward busy: where the phone would answer 486 (in a call, no call waiting or one already waiting).
    const busy = this.forwardTarget('busy');
    if (busy !== undefined && !this.free && !this.canWait && this.redirectNew(session, busy)) {
      this.forwardedRecord(session, busy);
      return undefined;
    }
    const call = super.onIncoming(session);
    if (!call || call.outcome !== undefined) return call;
    const ringing = this.focus === call && this.state === PhoneState.Ringing;
    if (ringing || this.waiting === call) this.armNoAnswer(call);
    if (ringing) this.considerAutoAnswer(call, session);
    return call;
  }

  /** A 302 to a call the phone has not taken in; false when the service cannot (the call then rings). */
  private redirectNew(session: IncomingCall, target: string): boolean {
    if (session.redirect === undefined) {
      this.log.warn({ target }, 'call forwarding needs redirect() from the call service: the call rings');
      return false;
    }
    const ok = session.redirect(target);
    if (!ok) this.log.warn({ target }, 'call not forwarded: the redirect was refused');
    else this.log.info({ from: session.remote.number, target }, 'call forwarded');
    return ok;
  }

  /** Logs a call forwarded on arrival (the phone never kept it). */
  private forwardedRecord(session: IncomingCall, target: string): void {
    this.logUnrung(session.remote, { outcome: 'forwarded', forwardedTo: target });
    this.showNotice(`Forwarded to ${target}`);
    void this.render();
  }

  /** Forward no answer: a ringing (or waiting) call still unanswered after noAnswerAfterS goes to the target. */
  private armNoAnswer(call: PhoneCall): void {
    if (this.forwardTarget('noAnswer') === undefined) return;
    const timer = this.o.clock.setTimeout(() => {
      this.featureTimers.delete(timer);
      const target = this.forwardTarget('noAnswer');
      const incoming = call.incoming;
      if (target === undefined || !incoming || call.outcome !== undefined || call.connectedAtMs !== undefined || call.recall) return;
      if (!(this.focus === call && this.state === PhoneState.Ringing) && this.waiting !== call) return;
      call.forwardedTo = target;
      if (!this.redirectNew(incoming, target)) call.forwardedTo = undefined;
      void this.render();
    }, this.noAnswerAfterS * 1000);
    this.featureTimers.add(timer);
  }

  // --- auto-answer ------------------------------------------------------------------------------

  /**
   * Intercom: with autoAnswer enabled in the config, a call from a caller in onlyFrom (every caller
   * without onlyFrom) is answered on the speaker after delayS; so is a call whose INVITE asks for it
   * (intercomRequest: the PBX's intercom or paging), after the delay it asks for. Never by a header
   * alone: disabled in the config, the headers are ignored.
   */
  private considerAutoAnswer(call: PhoneCall, session: IncomingCall): void {
    const auto = this.o.features?.autoAnswer;
    if (!auto?.enabled) return;
    const asked = session.header ? intercomRequest((name) => session.header?.(name) ?? []) : undefined;
    const caller = normalizeNumber(session.remote.number);
    const listed = auto.onlyFrom === undefined || auto.onlyFrom.some((n) => normalizeNumber(n) === caller);
    if (!listed && asked === undefined) return;
    const delayMs = (asked ?? auto.delayS ?? 0) * 1000;
    if (delayMs <= 0) {
      this.autoAnswer(call);
      return;
    }
    const timer = this.o.clock.setTimeout(() => {
      this.featureTimers.delete(timer);
      this.autoAnswer(call);
      void this.render();
    }, delayMs);
    this.featureTimers.add(timer);
  }

  /** Answers on the speaker with a short beep, if the call still rings here. */
  private autoAnswer(call: PhoneCall): void {
    if (this.focus !== call || this.state !== PhoneState.Ringing || call.outcome !== undefined || call.recall) return;
    this.log.info({ from: call.number }, 'auto-answer');
    this.answer(!(this.o.hook?.offHook ?? false));
    this.playTone('confirmation');
    const timer = this.o.clock.setTimeout(() => {
      this.featureTimers.delete(timer);
      if (this.tonePlaying === 'confirmation') this.playTone(undefined);
    }, BEEP_MS);
    this.featureTimers.add(timer);
  }

  // --- hotline ----------------------------------------------------------------------------------

  /**
   * Off hook from idle (the handset, or the speaker key): dial tone, and with a hotline the number
   * is called after delayS without a key (at once with 0). The hotline's wait replaces the
   * first-digit timeout; a key cancels it and dialing goes on as usual.
   */
  protected goOffHook(speaker: boolean): void {
    const hotline = this.o.features?.hotline;
    if (!hotline) {
      this.startDialing(speaker);
      return;
    }
    const delayMs = (hotline.delayS ?? 0) * 1000;
    if (delayMs <= 0) {
      this.useAudioPath(speaker);
      this.placeCall(hotline.number);
      return;
    }
    this.startDialing(speaker);
    // Keys still collect (the inter-digit timer starts with the first one); no first-digit timeout.
    this.newCollector((number) => this.placeCall(number));
    const collector = this.collector;
    this.cancelHotline();
    this.hotlineTimer = this.o.clock.setTimeout(() => {
      this.hotlineTimer = undefined;
      if (this.state !== PhoneState.Dialing || this.collector !== collector || collector?.dialed !== '') return;
      this.log.info({ number: hotline.number }, 'hotline');
      this.placeCall(hotline.number);
      void this.render();
    }, delayMs);
  }

  protected override dialKey(key: string): void {
    this.cancelHotline();
    super.dialKey(key);
  }

  protected override hangUp(): void {
    this.cancelHotline();
    super.hangUp();
  }

  private cancelHotline(): void {
    this.o.clock.clearTimeout(this.hotlineTimer);
    this.hotlineTimer = undefined;
  }
}
