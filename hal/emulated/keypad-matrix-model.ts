// An emulated diode-less keypad matrix wired to an emulated GPIO chip, so that tests press keys with bounce and scanners scan for real.
import type { Clock } from '../../firmware/util/clock.js';
import { HalError } from '../errors.js';
import { BouncingContact, seededRandom, type ContactOptions } from './bouncing-contact.js';
import type { EmulatedGpioChip } from './emulated-gpio-chip.js';

export type { ContactOptions } from './bouncing-contact.js';

export interface KeypadMatrixModelOptions {
  chip: EmulatedGpioChip;
  /** Chip offsets of the row wires, top to bottom. */
  rowPins: readonly number[];
  /** Chip offsets of the column wires, left to right. */
  columnPins: readonly number[];
  /** Key names row by row, for pressKey('5'); optional when the test only presses by (row, col). */
  layout?: readonly (readonly string[])[];
  clock: Clock;
  /** Seed of the chatter pattern; the same seed gives the same bounce on every run. Default 1. */
  seed?: number;
}

/**
 * Each key is a switch between its row wire and its column wire; a pressed key links the two lines
 * on the chip, so a row pulled up by the scanner reads 0 exactly when some path of pressed keys
 * reaches a column driven low. With no diodes, three keys pressed at three corners of a rectangle
 * therefore make the fourth corner read pressed too, as on a real membrane pad.
 */
export class KeypadMatrixModel {
  private readonly chip: EmulatedGpioChip;
  private readonly rowPins: readonly number[];
  private readonly columnPins: readonly number[];
  private readonly layout: readonly (readonly string[])[] | undefined;
  private readonly contacts: BouncingContact[][];

  constructor(options: KeypadMatrixModelOptions) {
    this.chip = options.chip;
    this.rowPins = [...options.rowPins];
    this.columnPins = [...options.columnPins];
    this.layout = options.layout;
    const random = seededRandom(options.seed ?? 1);
    this.contacts = this.rowPins.map((rowPin) =>
      this.columnPins.map(
        (columnPin) =>
          new BouncingContact({
            clock: options.clock,
            random,
            apply: (closed) => {
              if (closed) this.chip.link(rowPin, columnPin);
              else this.chip.unlink(rowPin, columnPin);
            },
          }),
      ),
    );
  }

  /** Presses the key at (row, col); the contact chatters for bounceMs on the clock before it stays closed. */
  press(row: number, col: number, options: ContactOptions = {}): void {
    this.contact(row, col).set(true, options.bounceMs ?? 0);
  }

  release(row: number, col: number, options: ContactOptions = {}): void {
    this.contact(row, col).set(false, options.bounceMs ?? 0);
  }

  pressKey(key: string, options: ContactOptions = {}): void {
    const { row, col } = this.position(key);
    this.press(row, col, options);
  }

  releaseKey(key: string, options: ContactOptions = {}): void {
    const { row, col } = this.position(key);
    this.release(row, col, options);
  }

  /** Whether the key's contact is closed right now (during chatter this flips). */
  isClosed(row: number, col: number): boolean {
    return this.contact(row, col).closed;
  }

  /** Opens every contact at once, without bounce. */
  releaseAll(): void {
    for (const row of this.contacts) for (const c of row) c.set(false, 0);
  }

  /** The (row, col) of a key in the layout. */
  position(key: string): { row: number; col: number } {
    if (!this.layout) throw new HalError('keypad model', 'pressKey needs a layout', { code: 'EINVAL' });
    for (const [row, keys] of this.layout.entries()) {
      const col = keys.indexOf(key);
      if (col >= 0) return { row, col };
    }
    throw new HalError('keypad model', `no key "${key}" in the layout`, { code: 'EINVAL' });
  }

  private contact(row: number, col: number): BouncingContact {
    const contact = this.contacts[row]?.[col];
    if (!contact) {
      throw new HalError('keypad model', `no key at row ${row}, column ${col} (${this.rowPins.length}x${this.columnPins.length})`, {
        code: 'EINVAL',
      });
    }
    return contact;
  }
}
