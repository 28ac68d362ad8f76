// Tests of the emulated I2C bus: NAKs like a real bus, NAK switches, scan, per-byte wire timing.
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../firmware/util/clock.js';
import { HalError } from '../../../hal/errors.js';
import { EmulatedI2cBus, type I2cDeviceModel, type I2cTransferTiming } from '../../../hal/emulated/emulated-i2c-bus.js';
import { QueuedI2cBus } from '../../../hal/i2c/i2c-bus.js';
import { settle } from './settle.js';

/** A model that records what it was sent and when each byte arrived. */
class Recorder implements I2cDeviceModel {
  readonly writes: { data: number[]; byteTimesMs: number[]; startMs: number }[] = [];
  answer = [0xa5];
  write(data: Uint8Array, timing: I2cTransferTiming): void {
    this.writes.push({ data: [...data], byteTimesMs: [...data].map((_, i) => timing.byteDoneMs(i)), startMs: timing.startMs });
  }
  read(length: number): Uint8Array {
    return Uint8Array.from({ length }, (_, i) => this.answer[i % this.answer.length] ?? 0);
  }
}

async function rejection(promise: Promise<unknown>): Promise<HalError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(HalError);
  return err as HalError;
}

function rig(options: { busSpeedHz?: number; instantTransfers?: boolean } = {}) {
  const clock = new VirtualClock();
  const bus = new EmulatedI2cBus({ clock, name: 'i2c-1', ...options });
  const device = new Recorder();
  bus.attach(0x27, device);
  return { clock, bus, device };
}

describe('EmulatedI2cBus', () => {
  it('refuses an address without a device like a real NAK: HalError EREMOTEIO naming bus and address', async () => {
    const { clock, bus } = rig();
    const err = await settle(clock, rejection(bus.write(0x50, Uint8Array.of(1))));
    expect(err.code).toBe('EREMOTEIO');
    expect(err.device).toBe('i2c-1@0x50');
    expect(err.message).toContain('EREMOTEIO');
  });

  it('delivers bytes and answers reads', async () => {
    const { clock, bus, device } = rig();
    await settle(clock, bus.write(0x27, Uint8Array.of(1, 2, 3)));
    expect(device.writes.map((w) => w.data)).toEqual([[1, 2, 3]]);
    device.answer = [7, 8];
    expect([...(await settle(clock, bus.read(0x27, 3)))]).toEqual([7, 8, 7]);
  });

  it('NAKs on demand for a number of transfers, then acknowledges again', async () => {
    const { clock, bus, device } = rig();
    bus.nak(0x27, { transfers: 2 });
    expect((await settle(clock, rejection(bus.write(0x27, Uint8Array.of(1))))).code).toBe('EREMOTEIO');
    expect((await settle(clock, rejection(bus.read(0x27, 1)))).code).toBe('EREMOTEIO');
    await settle(clock, bus.write(0x27, Uint8Array.of(3)));
    expect(device.writes.map((w) => w.data)).toEqual([[3]]);
    expect(bus.transfers).toBe(3);
  });

  it('NAKs until cleared when no count is given', async () => {
    const { clock, bus, device } = rig();
    bus.nak(0x27);
    for (let i = 0; i < 5; i++) await settle(clock, rejection(bus.write(0x27, Uint8Array.of(i))));
    expect(bus.naking(0x27)).toBe(true);
    bus.clearNak(0x27);
    await settle(clock, bus.write(0x27, Uint8Array.of(9)));
    expect(device.writes).toHaveLength(1);
  });

  it('scan lists attached addresses that acknowledge, in order', async () => {
    const { bus } = rig();
    bus.attach(0x3c, new Recorder());
    bus.attach(0x20, new Recorder());
    expect(await bus.scan()).toEqual([0x20, 0x27, 0x3c]);
    bus.nak(0x3c);
    expect(await bus.scan()).toEqual([0x20, 0x27]);
    bus.detach(0x20);
    expect(await bus.scan()).toEqual([0x27]);
  });

  it('times each byte at 9 bits per byte: 90 µs at the default 100 kHz, after the address byte', async () => {
    const { clock, bus, device } = rig();
    await clock.advance(10);
    await settle(clock, bus.write(0x27, Uint8Array.of(1, 2, 3)));
    const [w] = device.writes;
    expect(w?.startMs).toBe(10);
    expect(w?.byteTimesMs.map((t) => +(t - 10).toFixed(6))).toEqual([0.18, 0.27, 0.36]);
  });

  it('takes a configurable bus speed', async () => {
    const { clock, bus, device } = rig({ busSpeedHz: 400_000 });
    await settle(clock, bus.write(0x27, Uint8Array.of(1, 2)));
    expect(device.writes[0]?.byteTimesMs.map((t) => +t.toFixed(6))).toEqual([0.045, 0.0675]);
  });

  it('a write lasts its wire time on the clock, and transfers never overlap', async () => {
    const { clock, bus, device } = rig();
    let done = false;
    const first = bus.write(0x27, new Uint8Array(10)).then(() => (done = true));
    const second = bus.write(0x27, Uint8Array.of(1));
    await clock.advance(0.5);
    expect(done).toBe(false);
    await clock.advance(0.5); // 11 bytes x 90 µs = 0.99 ms
    expect(done).toBe(true);
    await settle(clock, Promise.all([first, second]));
    expect(device.writes[1]?.startMs).toBeCloseTo(0.99, 9);
  });

  it('instantTransfers resolves without the clock moving, still timing bytes back to back', async () => {
    const { bus, device } = rig({ instantTransfers: true });
    await bus.write(0x27, Uint8Array.of(1, 2));
    await bus.write(0x27, Uint8Array.of(3));
    expect(device.writes[1]?.startMs).toBeCloseTo(0.27, 9);
  });

  it('works behind the QueuedI2cBus', async () => {
    const { clock, bus, device } = rig();
    const queued = new QueuedI2cBus(bus);
    bus.nak(0x27, { transfers: 1 });
    const failed = rejection(queued.write(0x27, Uint8Array.of(1)));
    const ok = queued.write(0x27, Uint8Array.of(2));
    expect((await settle(clock, failed)).code).toBe('EREMOTEIO');
    await settle(clock, ok);
    expect(device.writes.map((w) => w.data)).toEqual([[2]]);
  });

  it('turns a model that throws into an EIO HalError, and a closed bus into EBADF', async () => {
    const { clock, bus } = rig();
    bus.attach(0x30, {
      write() {
        throw new Error('boom');
      },
      read: () => new Uint8Array(0),
    });
    const err = await settle(clock, rejection(bus.write(0x30, Uint8Array.of(1))));
    expect(err.code).toBe('EIO');
    expect(err.message).toContain('boom');
    expect((await settle(clock, rejection(bus.read(0x30, 2)))).code).toBe('EIO');
    await bus.close();
    expect((await rejection(bus.write(0x27, Uint8Array.of(1)))).code).toBe('EBADF');
  });

  it('rejects invalid addresses and double attachment', async () => {
    const { bus } = rig();
    expect((await rejection(bus.write(0x80, Uint8Array.of(1)))).code).toBe('EINVAL');
    expect(() => {
      bus.attach(0x27, new Recorder());
    }).toThrow(RangeError);
  });
});
