// The calls under the phone's keys: dialing with the dial plan, placing and answering calls, hold, swap, call waiting, conference, transfer, hanging up, and what each end shows.
import type { SessionOutcome } from '../sip/ua/index.js';
import type { CallRecord } from './call-history.js';
import { CallServiceError, type CallSession, type IncomingCall, type RefusedCall } from './call-service.js';
import { outcomeDetail, outcomeView } from './call-screens.js';
import { DigitCollector } from './dial-plan.js';
import { PhoneCall } from './phone-call.js';
import { PhoneCore } from './phone-core.js';
import { PhoneState } from './phone-state.js';

/** The Ended screen: what ended (or failed), its status line and its tone. */
export interface EndedView {
  text: string;
  detail: string;
  call: PhoneCall | undefined;
}

/**
 * The call logic of the phone: what happens to calls, whatever key or hook change asked for it.
 * Phone (phone.ts) maps the keys and the hook onto these.
 */
export abstract class PhoneCalls extends PhoneCore {
  /** On-hook digits (PreDial). */
  protected digits = '';
  /** Off-hook digits (Dialing) or a transfer target (Transfer). */
  protected collector: DigitCollector | undefined;
  /** An incoming call during a call. */
  protected waiting: PhoneCall | undefined;
  protected ended: EndedView | undefined;
  /** The softkey page in a call (1-3). */
  protected page: 1 | 2 | 3 = 1;
  protected showQuality = false;
  protected silenced = false;
  protected lastDialed: string | undefined;
  /** The last connected call, shown on the idle screen for summaryMs after hanging up. */
  protected summary: { call: PhoneCall; untilMs: number } | undefined;

  // --- dialing ----------------------------------------------------------------------------------

  protected startDialing(speaker: boolean): void {
    this.useAudioPath(speaker);
    this.go(PhoneState.Dialing);
    this.newCollector((number) => this.placeCall(number));
    this.collector?.start();
    this.playTone('dial');
  }

  protected newCollector(onSend: (number: string) => void): void {
    this.collector?.stop();
    const c = new DigitCollector(this.plan, this.o.clock);
    c.on('send', (number) => {
      onSend(number);
      void this.render();
    });
    c.on('invalid', () => this.collectFailed('Invalid number'));
    c.on('timeout', (dialed) => this.collectFailed(dialed === '' ? 'Dial timeout' : 'Invalid number'));
    this.collector = c;
  }

  protected collectFailed(text: string): void {
    if (this.state === PhoneState.Transfer) {
      this.showNotice(text);
      this.startTransfer();
    } else {
      this.showEnded({ text, detail: '', call: undefined }, 'congestion');
    }
    void this.render();
  }

  protected dialKey(key: string): void {
    // The first digit ends the dial tone.
    this.playTone(undefined);
    this.collector?.key(key);
  }

  // --- outgoing ---------------------------------------------------------------------------------

  protected placeCall(number: string): void {
    this.collector?.stop();
    this.collector = undefined;
    this.digits = '';
    this.playTone(undefined);
    this.go(PhoneState.Calling);
    this.lastDialed = number;
    const service = this.o.calls;
    if (!service) {
      this.showEnded({ text: 'No line', detail: 'no SIP account', call: undefined }, 'congestion');
      return;
    }
    let call: PhoneCall;
    try {
      const session = service.call(number);
      call = new PhoneCall(session, { number, name: this.o.phonebook?.nameFor(number) ?? session.remote.displayName, startedAt: this.o.clock.wallNow() });
    } catch (err) {
      if (!(err instanceof CallServiceError)) throw err;
      this.log.warn({ err: err.message }, 'call not placed');
      this.o.history?.add({ direction: 'outgoing', number, startedAt: this.o.clock.wallNow(), outcome: 'failed' });
      this.showEnded({ text: 'Call failed', detail: err.message, call: undefined }, 'congestion');
      return;
    }
    this.track(call);
    this.focus = call;
    this.page = 1;
    this.showQuality = false;
    call.on('progress', (p) => {
      call.alerting = true;
      call.earlyMedia = call.earlyMedia || p.earlyMedia;
      if (this.focus === call && (this.state === PhoneState.Calling || this.state === PhoneState.Ringback)) {
        this.go(PhoneState.Ringback);
        this.playTone(call.earlyMedia ? undefined : 'ringback');
      }
      void this.render();
    });
  }

  /**
   * A call the user agent made in place of one of ours (a transfer it followed, a Replaces it
   * answered): it becomes the call in focus, so the old one ending shows no Ended screen.
   */
  protected adopt(session: CallSession): void {
    const number = session.remote.number;
    const call = new PhoneCall(session, { number, name: this.o.phonebook?.nameFor(number) ?? session.remote.displayName, startedAt: this.o.clock.wallNow() });
    this.track(call);
    this.focus = call;
    this.page = 1;
    this.showQuality = false;
    this.playTone(undefined);
    if (session.state === 'confirmed') {
      call.connectedAtMs = this.o.clock.now();
      this.go(PhoneState.Connected);
    } else {
      this.go(PhoneState.Calling);
    }
    this.updateTick();
    void this.render();
  }

  /** Follows a call's answer and end. */
  protected track(call: PhoneCall): void {
    this.calls.push(call);
    call.on('accepted', () => {
      call.connectedAtMs = this.o.clock.now();
      if (this.focus === call && this.state !== PhoneState.Ended) {
        // The auto-answer beep plays out; any other tone (ringback) stops.
        if (this.tonePlaying !== 'confirmation') this.playTone(undefined);
        this.go(PhoneState.Connected);
      }
      this.updateTick();
      void this.render();
    });
    call.on('ended', (o) => {
      this.callEnded(call, o);
      void this.render();
    });
  }

  // --- incoming ---------------------------------------------------------------------------------

  /** On hook and not in a call: an incoming call rings (the idle screen, on-hook digits, the lists and menus). */
  protected get free(): boolean {
    const s = this.state;
    return s === PhoneState.Idle || s === PhoneState.PreDial || s === PhoneState.History || s === PhoneState.Menu;
  }

  /** Whether another incoming call now would be a waiting call (rather than busy). */
  protected get canWait(): boolean {
    return this.state === PhoneState.Connected && (this.o.callWaiting ?? true) && !this.waiting;
  }

  /** Rings, waits or refuses (486) an incoming call; returns the call as the phone keeps it. */
  protected onIncoming(session: IncomingCall): PhoneCall | undefined {
    const name = this.o.phonebook?.nameFor(session.remote.number) ?? session.remote.displayName;
    const call = new PhoneCall(session, { name, startedAt: this.o.clock.wallNow() });
    this.track(call);
    if (this.free) {
      this.digits = '';
      this.focus = call;
      this.silenced = false;
      this.go(PhoneState.Ringing);
      this.startRinging();
    } else if (this.canWait) {
      this.waiting = call;
      this.playTone('callWaiting');
    } else {
      session.reject(486);
    }
    void this.render();
    return call;
  }

  /** A call the SIP side refused without ringing (DND, busy): missed, as desk phones list it. */
  protected onRefused(call: RefusedCall): void {
    this.logUnrung(call.remote, { outcome: 'missed' });
    void this.render();
  }

  /** The history record of an incoming call the phone never rang for (refused, forwarded on arrival). */
  protected logUnrung(remote: { displayName: string | undefined; number: string }, how: Pick<CallRecord, 'outcome' | 'forwardedTo'>): void {
    const number = remote.number;
    const name = this.o.phonebook?.nameFor(number) ?? remote.displayName;
    const record: CallRecord = { direction: 'incoming', number, startedAt: this.o.clock.wallNow(), ...how };
    if (name !== undefined) record.name = name;
    this.o.history?.add(record);
  }

  protected answer(speaker: boolean): void {
    const call = this.focus;
    if (!call) return;
    this.stopRinging();
    this.useAudioPath(speaker);
    this.page = 1;
    this.showQuality = false;
    if (call.recall) {
      call.recall = false;
      this.resume(call);
    } else {
      void call.incoming?.accept();
    }
    this.go(PhoneState.Connected);
  }

  protected answerWaiting(): void {
    const waiting = this.waiting;
    const current = this.focus;
    if (!waiting) return;
    this.waiting = undefined;
    this.playTone(undefined);
    if (current?.connected && !current.held) this.hold(current);
    this.focus = waiting;
    void waiting.incoming?.accept();
  }

  protected reject(): void {
    if (this.waiting && this.state !== PhoneState.Ringing) {
      const w = this.waiting;
      w.rejectedByUser = true;
      w.incoming?.reject(603);
      return;
    }
    const call = this.focus;
    if (!call) return;
    call.rejectedByUser = true;
    if (call.recall) call.session.hangup();
    else call.incoming?.reject(603);
  }

  // --- in a call --------------------------------------------------------------------------------

  protected hold(call: PhoneCall): void {
    const hold = call.session.hold?.bind(call.session);
    if (!hold) {
      this.showNotice('Hold not available');
      return;
    }
    call.held = true;
    void hold().then((ok) => {
      if (!ok && call.outcome === undefined) {
        call.held = false;
        this.showNotice('Hold failed');
      }
      void this.render();
    });
  }

  protected resume(call: PhoneCall): void {
    const resume = call.session.resume?.bind(call.session);
    if (!resume) return;
    call.held = false;
    void resume().then((ok) => {
      if (!ok && call.outcome === undefined) {
        call.held = true;
        this.showNotice('Resume failed');
      }
      void this.render();
    });
  }

  protected toggleHold(): void {
    const focus = this.focus;
    if (this.state === PhoneState.Ended) {
      // A call that stayed on hold while the other one ended: back to it.
      const held = this.calls.find((c) => c.held && c.connected);
      if (!held) return;
      this.playTone(undefined);
      this.ended = undefined;
      this.focus = held;
      this.resume(held);
      this.go(PhoneState.Connected);
      return;
    }
    if (!focus?.connected) return;
    if (focus.held) this.resume(focus);
    else this.hold(focus);
  }

  protected swap(): void {
    const focus = this.focus;
    const other = this.calls.find((c) => c !== focus && c.held && c.connected);
    if (!focus || !other) {
      this.showNotice('No call to swap');
      return;
    }
    if (!focus.held) this.hold(focus);
    this.resume(other);
    this.focus = other;
  }

  /** The conference key: joins the call in focus with the other one, or splits a conference again (the other call goes on hold). */
  protected conference(): void {
    const focus = this.focus;
    const service = this.o.calls;
    if (focus?.conference) {
      this.splitConference();
      const other = this.calls.find((c) => c !== focus && c.connected);
      if (other && !other.held) this.hold(other);
      return;
    }
    const other = this.calls.find((c) => c !== focus && c.connected);
    if (!focus?.connected || !other || service?.conference === undefined) {
      this.showNotice(other ? 'Conference not available' : 'No call to join');
      return;
    }
    if (focus.held) this.resume(focus);
    if (other.held) this.resume(other);
    if (service.conference([focus.session, other.session])) {
      focus.conference = true;
      other.conference = true;
    } else {
      this.showNotice('Conference failed');
    }
  }

  /**
   * The transfer key. With a second call up (a consultation), an attended transfer: the other call's
   * peer is handed to the consultation's (REFER with Replaces). Otherwise the number to transfer to
   * is typed: Send transfers blind, Consult calls it first (the call goes on hold).
   */
  protected startTransfer(): void {
    const focus = this.focus;
    const original = this.calls.find((c) => c !== focus && c.connected);
    if (focus?.connected && original) {
      this.attendedTransfer(original, focus);
      return;
    }
    this.go(PhoneState.Transfer);
    this.newCollector((number) => this.transferTo(number));
    this.collector?.start();
  }

  /** Consult: the call goes on hold and the typed number is called; the transfer key then completes it. */
  protected consult(target: string): void {
    const call = this.focus;
    if (!call) return;
    if (!call.held) this.hold(call);
    this.placeCall(target);
  }

  protected attendedTransfer(original: PhoneCall, consultation: PhoneCall): void {
    const transfer = original.session.transferTo?.bind(original.session);
    if (!transfer) {
      this.showNotice('Transfer not available');
      return;
    }
    this.showNotice(`Transferring to ${consultation.number}`);
    void transfer(consultation.session).then((ok) => {
      this.showNotice(ok ? 'Transferred' : 'Transfer failed');
      void this.render();
    });
  }

  protected transferTo(target: string): void {
    const call = this.focus;
    const transfer = call?.session.transfer?.bind(call.session);
    this.collector?.stop();
    this.collector = undefined;
    if (!call || !transfer) return;
    this.go(PhoneState.Connected);
    this.showNotice(`Transferring to ${target}`);
    void transfer(target).then((ok) => {
      if (ok) {
        this.showNotice('Transferred');
        // The user agent ends a transferred call itself; a service that does not is hung up here.
        if (call.outcome === undefined) call.session.hangup();
      } else if (call.outcome === undefined) {
        this.showNotice('Transfer failed');
      }
      void this.render();
    });
  }

  // --- ending -----------------------------------------------------------------------------------

  /** On hook, or the End key: ends the focused call; a held call rings back, a waiting call rings. */
  protected hangUp(): void {
    this.collector?.stop();
    this.collector = undefined;
    this.digits = '';
    this.playTone(undefined);
    this.ended = undefined;
    this.speaker = false;
    if (this.state === PhoneState.Ringing || this.state === PhoneState.Idle) return;
    const focus = this.focus;
    // Detached first: the call's end is no longer the screen's business.
    this.focus = undefined;
    if (focus && !focus.held && focus.outcome === undefined) {
      if (focus.connected && (this.o.summaryMs ?? 5000) > 0) this.summary = { call: focus, untilMs: this.o.clock.now() + (this.o.summaryMs ?? 5000) };
      for (const c of focus.conference ? this.calls.filter((x) => x.conference) : [focus]) c.session.hangup();
    }
    this.setMuted(false);
    const next = this.waiting ?? this.calls.find((c) => c.outcome === undefined && c.held);
    this.page = 1;
    this.showQuality = false;
    if (next) {
      if (next === this.waiting) this.waiting = undefined;
      else next.recall = true;
      this.focus = next;
      this.silenced = false;
      this.go(PhoneState.Ringing);
      this.startRinging();
      // End with the handset still up: the next call is taken at once, no ring needed.
      if (this.o.hook?.offHook) this.answer(false);
      return;
    }
    this.go(PhoneState.Idle);
    if (this.summary) {
      const until = this.summary.untilMs;
      this.o.clock.setTimeout(() => {
        if (this.summary?.untilMs === until) {
          this.summary = undefined;
          void this.render();
        }
      }, until - this.o.clock.now());
    }
  }

  protected endKey(): void {
    switch (this.state) {
      case PhoneState.Transfer:
        this.collector?.stop();
        this.collector = undefined;
        this.go(PhoneState.Connected);
        return;
      case PhoneState.History:
      case PhoneState.Menu:
        this.go(PhoneState.Idle);
        return;
      default: {
        const handsetUp = this.o.hook?.offHook ?? false;
        this.hangUp();
        // With the handset still up, End gives a fresh dial tone, as on desk phones.
        if (handsetUp && this.state === PhoneState.Idle) this.startDialing(false);
      }
    }
  }

  protected showEnded(view: EndedView, tone: Parameters<PhoneCore['playTone']>[0]): void {
    this.ended = view;
    this.showQuality = false;
    this.go(PhoneState.Ended);
    this.playTone(tone);
  }

  /** Ends the 3-way mix: the calls are separate again. */
  protected splitConference(): void {
    for (const c of this.calls) c.conference = false;
    this.o.calls?.splitConference?.();
  }

  protected callEnded(call: PhoneCall, o: SessionOutcome): void {
    // One leg of a conference ended: the other stays, as a plain call.
    if (call.conference) this.splitConference();
    call.outcome = o;
    call.endedAtMs = this.o.clock.now();
    call.sample();
    call.dispose();
    this.calls = this.calls.filter((c) => c !== call);
    this.updateTick();
    if (o.kind !== 'answered-elsewhere') this.o.history?.add(call.record());
    if (call === this.waiting) {
      this.waiting = undefined;
      if (this.tonePlaying === 'callWaiting') this.playTone(undefined);
      return;
    }
    if (call !== this.focus) return;
    if (this.state === PhoneState.Ringing) {
      this.stopRinging();
      this.focus = undefined;
      this.go(PhoneState.Idle);
      return;
    }
    if (this.state === PhoneState.Idle || this.state === PhoneState.Ended) return;
    // Off hook: the outcome's screen and tone stay until on hook.
    const view = outcomeView(o);
    const detail = call.connectedAtMs === undefined ? outcomeDetail(o) : '';
    this.collector?.stop();
    this.collector = undefined;
    this.showEnded({ text: view.text, detail, call }, view.tone);
  }

  protected onTick(): void {
    for (const c of this.calls) if (c.connected) c.sample();
  }

}
