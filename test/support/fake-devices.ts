// Hand-driven Keypad and HookSwitch for tests of code above the HAL (the drivers have their own tests on emulated chips).
import type { HookSwitch, KeyEvent, Keypad, LedPattern, Leds } from '../../hal/devices.js';
import type { HalError } from '../../hal/errors.js';
import { Emitter, type Unsubscribe } from '../../firmware/util/emitter.js';

export class FakeKeypad implements Keypad {
  readonly layout = [
    ['1', '2', '3', 'A'],
    ['4', '5', '6', 'B'],
    ['7', '8', '9', 'C'],
    ['*', '0', '#', 'D'],
  ];
  private readonly events = new Emitter<{ key: [KeyEvent]; error: [HalError] }>();
  on(event: 'key', listener: (e: KeyEvent) => void): Unsubscribe;
  on(event: 'error', listener: (e: HalError) => void): Unsubscribe;
  on(event: 'key' | 'error', listener: ((e: KeyEvent) => void) | ((e: HalError) => void)): Unsubscribe {
    return this.events.on(event, listener as never);
  }
  start(): Promise<void> {
    return Promise.resolve();
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
  type(keys: string): void {
    for (const key of keys) {
      this.events.emit('key', { key, type: 'down', atMs: 0 });
      this.events.emit('key', { key, type: 'up', atMs: 0 });
    }
  }
}

export class FakeHook implements HookSwitch {
  offHook = false;
  private readonly events = new Emitter<{ change: [boolean]; error: [HalError] }>();
  on(event: 'change', listener: (offHook: boolean) => void): Unsubscribe;
  on(event: 'error', listener: (e: HalError) => void): Unsubscribe;
  on(event: 'change' | 'error', listener: ((v: boolean) => void) | ((e: HalError) => void)): Unsubscribe {
    return this.events.on(event, listener as never);
  }
  start(): Promise<void> {
    return Promise.resolve();
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
  set(offHook: boolean): void {
    this.offHook = offHook;
    this.events.emit('change', offHook);
  }
}

export class FakeLeds implements Leds {
  readonly names = ['mwi', 'line'];
  readonly state = new Map<string, LedPattern>();
  set(name: string, pattern: LedPattern): void {
    this.state.set(name, pattern);
  }
  get(name: string): LedPattern {
    return this.state.get(name) ?? 'off';
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}
