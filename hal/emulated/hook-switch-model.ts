// An emulated hook switch (a microswitch under the handset cradle) wired from a GPIO input to GND, with bounce.
import type { Clock } from '../../firmware/util/clock.js';
import { BouncingContact, seededRandom, type ContactOptions } from './bouncing-contact.js';
import type { EmulatedGpioChip } from './emulated-gpio-chip.js';

export interface HookSwitchModelOptions {
  chip: EmulatedGpioChip;
  /** Chip offset of the input the switch pulls to GND. */
  pin: number;
  /**
   * The contact's state with its plunger released, i.e. with the handset lifted (off-hook):
   * 'normally-open' is open when lifted and closed when the handset rests on the cradle;
   * 'normally-closed' is closed when lifted and open on the cradle.
   */
  contact: 'normally-open' | 'normally-closed';
  clock: Clock;
  /** The handset's position when the model is built. Default false (on the cradle). */
  offHook?: boolean;
  /** Seed of the chatter pattern. Default 1. */
  seed?: number;
}

/**
 * The switch connects the pin to GND when its contact is closed, and leaves it to the pin's bias
 * (the driver's pull-up) when open. So with a pull-up, a normally-open switch reads 1 off-hook and
 * 0 on-hook; a normally-closed switch reads 0 off-hook and 1 on-hook.
 */
export class HookSwitchModel {
  private readonly contactType: 'normally-open' | 'normally-closed';
  private readonly contact: BouncingContact;
  private handsetLifted: boolean;

  constructor(options: HookSwitchModelOptions) {
    this.contactType = options.contact;
    this.handsetLifted = options.offHook ?? false;
    const chip = options.chip;
    const pin = options.pin;
    this.contact = new BouncingContact({
      clock: options.clock,
      random: seededRandom(options.seed ?? 1),
      closed: this.closedWhen(this.handsetLifted),
      apply: (closed) => chip.setInput(pin, closed ? 0 : undefined),
    });
    chip.setInput(pin, this.contact.closed ? 0 : undefined);
  }

  /** Where the handset is (the contact may still be chattering). */
  get offHook(): boolean {
    return this.handsetLifted;
  }

  /** Lifts the handset: the plunger is released, the contact chatters for bounceMs and settles. */
  lift(options: ContactOptions = {}): void {
    this.handsetLifted = true;
    this.contact.set(this.closedWhen(true), options.bounceMs ?? 0);
  }

  /** Puts the handset back on the cradle, pressing the plunger. */
  replace(options: ContactOptions = {}): void {
    this.handsetLifted = false;
    this.contact.set(this.closedWhen(false), options.bounceMs ?? 0);
  }

  private closedWhen(lifted: boolean): boolean {
    // "Normally" is the plunger released, which is the handset lifted.
    return this.contactType === 'normally-closed' ? lifted : !lifted;
  }
}
