// Tests of the sysfs GPIO backend: header chip resolution on fake sysfs trees, and the chip over a fake onoff port.
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../firmware/util/clock.js';
import { HalError } from '../../../hal/errors.js';
import type { GpioEdge, GpioEdgeEvent, GpioLevel } from '../../../hal/gpio/gpio.js';
import { resolveGpioBase, SysfsGpioChip, type SysfsGpioPort, type SysfsGpioPortFactory } from '../../../hal/gpio/sysfs-gpio.js';
import { halCode } from '../../support/hal-code.js';

type ChipSpec = [base: number, label: string, ngpio: number];

/** Kernel 6.6+ on a Pi 4: the SoC's bank moved to 512, the firmware expander follows. */
const PI4_KERNEL_6_6: ChipSpec[] = [
  [512, 'pinctrl-bcm2711', 58],
  [570, 'raspberrypi-exp-gpio', 8],
];
/** Kernel 6.6+ on a Pi 5: the BCM2712's own banks come first; the header is on the RP1 at 571. */
const PI5_KERNEL_6_6: ChipSpec[] = [
  [512, 'pinctrl-bcm2712', 32],
  [544, 'pinctrl-bcm2712', 2],
  [546, 'pinctrl-bcm2712', 17],
  [563, 'pinctrl-bcm2712', 6],
  [569, 'raspberrypi-exp-gpio', 2],
  [571, 'pinctrl-rp1', 54],
];
/** An older kernel on a Pi 3: numbering from 0. */
const PI3_OLD_KERNEL: ChipSpec[] = [
  [0, 'pinctrl-bcm2835', 54],
  [504, 'raspberrypi-exp-gpio', 8],
];
const NO_HEADER_CHIP: ChipSpec[] = [
  [0, 'gpio-mockup-A', 8],
  [8, 'raspberrypi-exp-gpio', 8],
];

let tmp: string;
beforeEach(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'offhook-sysfs-'));
});
afterEach(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** Builds <root>/class/gpio/{export,unexport,gpiochipN/{label,base,ngpio}} like the kernel does. */
async function fakeSysfs(name: string, chips: readonly ChipSpec[]): Promise<string> {
  const root = join(tmp, name);
  const dir = join(root, 'class', 'gpio');
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'export'), '');
  await writeFile(join(dir, 'unexport'), '');
  for (const [base, label, ngpio] of chips) {
    const chip = join(dir, `gpiochip${base}`);
    await mkdir(chip);
    await writeFile(join(chip, 'label'), `${label}\n`);
    await writeFile(join(chip, 'base'), `${base}\n`);
    await writeFile(join(chip, 'ngpio'), `${ngpio}\n`);
  }
  return root;
}

describe('resolveGpioBase', () => {
  it('finds a Pi 4 header chip at 512 on kernel 6.6+', async () => {
    const sysfsRoot = await fakeSysfs('pi4', PI4_KERNEL_6_6);
    expect(await resolveGpioBase({ sysfsRoot })).toEqual({ chipName: 'gpiochip512', label: 'pinctrl-bcm2711', base: 512, ngpio: 58 });
  });

  it('finds the Pi 5 header on the RP1 at 571, not on the BCM2712 banks', async () => {
    const sysfsRoot = await fakeSysfs('pi5', PI5_KERNEL_6_6);
    expect(await resolveGpioBase({ sysfsRoot })).toEqual({ chipName: 'gpiochip571', label: 'pinctrl-rp1', base: 571, ngpio: 54 });
  });

  it('finds base 0 on an old kernel', async () => {
    const sysfsRoot = await fakeSysfs('pi3', PI3_OLD_KERNEL);
    expect(await resolveGpioBase({ sysfsRoot })).toMatchObject({ label: 'pinctrl-bcm2835', base: 0 });
  });

  it('takes the labels to look for as a parameter', async () => {
    const sysfsRoot = await fakeSysfs('pi4', PI4_KERNEL_6_6);
    expect(await resolveGpioBase({ sysfsRoot, labels: ['raspberrypi-exp-gpio'] })).toMatchObject({ base: 570, ngpio: 8 });
  });

  it('names the labels it found when none matches', async () => {
    const sysfsRoot = await fakeSysfs('other', NO_HEADER_CHIP);
    const err: unknown = await resolveGpioBase({ sysfsRoot }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HalError);
    const hal = err as HalError;
    expect(hal.code).toBe('ENODEV');
    expect(hal.message).toContain('gpiochip0 "gpio-mockup-A"');
    expect(hal.message).toContain('gpiochip8 "raspberrypi-exp-gpio"');
    expect(hal.message).toContain('pinctrl-rp1');
  });

  it('says so when there is no sysfs GPIO at all', async () => {
    await expect(resolveGpioBase({ sysfsRoot: join(tmp, 'nothing') })).rejects.toMatchObject({ name: 'HalError', code: 'ENOENT' });
  });
});

/** A stand-in for onoff's Gpio that records what the backend asked of it. */
class FakePort implements SysfsGpioPort {
  value: GpioLevel;
  direction: 'in' | 'out' | 'high' | 'low';
  watcher: ((err: Error | null | undefined, value: GpioLevel) => void) | undefined;
  unexported = false;
  readonly calls: string[] = [];

  constructor(
    readonly gpio: number,
    initial: 'in' | 'high' | 'low',
    readonly edge: GpioEdge,
  ) {
    this.direction = initial;
    this.value = initial === 'high' ? 1 : 0;
  }

  readSync(): GpioLevel {
    return this.value;
  }

  writeSync(value: GpioLevel): void {
    this.calls.push(`write ${value}`);
    this.value = value;
  }

  setDirection(direction: 'in' | 'out' | 'high' | 'low'): void {
    this.calls.push(`direction ${direction}`);
    this.direction = direction;
  }

  watch(callback: (err: Error | null | undefined, value: GpioLevel) => void): void {
    this.watcher = callback;
  }

  unwatchAll(): void {
    this.watcher = undefined;
  }

  unexport(): void {
    this.unexported = true;
  }
}

async function openPi5(factoryOverride?: SysfsGpioPortFactory) {
  const sysfsRoot = await fakeSysfs('pi5', PI5_KERNEL_6_6);
  const ports: FakePort[] = [];
  const factory: SysfsGpioPortFactory =
    factoryOverride ??
    ((gpio, direction, edge) => {
      const port = new FakePort(gpio, direction, edge);
      ports.push(port);
      return port;
    });
  const logLines: string[] = [];
  const log = pino(
    { level: 'debug' },
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        logLines.push(chunk.toString());
        done();
      },
    }),
  );
  const clock = new VirtualClock();
  const chip = await SysfsGpioChip.open({ sysfsRoot, portFactory: factory, clock, log });
  return { chip, ports, logLines, clock };
}

describe('SysfsGpioChip', () => {
  it('maps chip offsets to global numbers from the resolved base', async () => {
    const { chip, ports } = await openPi5();
    expect(chip.name).toBe('gpiochip571');
    expect(chip.label).toBe('pinctrl-rp1');
    const led = chip.requestOutput(17, { initial: 1 });
    expect(ports[0]).toMatchObject({ gpio: 588, direction: 'high' });
    led.write(0);
    expect(ports[0]!.calls).toEqual(['write 0']);
    expect(led.read()).toBe(0);
  });

  it('emulates open drain with the direction: input releases, output-low pulls down', async () => {
    const { chip, ports } = await openPi5();
    const column = chip.requestOutput(12, { initial: 0, drive: 'open-drain' });
    expect(ports[0]).toMatchObject({ gpio: 583, direction: 'low' });
    column.write(1);
    column.write(0);
    expect(ports[0]!.calls).toEqual(['direction in', 'direction low']);
  });

  it('delivers watched edges with the clock time, and logs once that bias needs config.txt', async () => {
    const { chip, ports, logLines, clock } = await openPi5();
    const row = chip.requestInput(5, { bias: 'pull-up', edge: 'falling' });
    chip.requestInput(6, { bias: 'pull-up', edge: 'falling' });
    expect(ports[0]).toMatchObject({ gpio: 576, direction: 'in', edge: 'falling' });
    const events: GpioEdgeEvent[] = [];
    row.onEdge((e) => events.push(e));
    await clock.advance(7);
    ports[0]!.watcher!(null, 0);
    expect(events).toEqual([{ level: 0, timestampNs: 7_000_000n }]);
    expect(logLines.filter((l) => l.includes('config.txt'))).toHaveLength(1);
    expect(halCode(() => row.write(1))).toBe('EPERM');
  });

  it('refuses a second request (EBUSY) and offsets past the chip (EINVAL); release unexports', async () => {
    const { chip, ports } = await openPi5();
    const line = chip.requestInput(4);
    expect(halCode(() => chip.requestInput(4))).toBe('EBUSY');
    expect(halCode(() => chip.requestInput(54))).toBe('EINVAL');
    line.release();
    expect(ports[0]!.unexported).toBe(true);
    expect(halCode(() => line.read())).toBe('EBADF');
    chip.requestInput(4);
    chip.close();
    expect(ports[1]!.unexported).toBe(true);
    expect(halCode(() => chip.requestInput(4))).toBe('ENODEV');
  });

  it('turns an export failure into a HalError with the errno and a hint', async () => {
    const { chip } = await openPi5(() => {
      throw Object.assign(new Error("EACCES: permission denied, open '/sys/class/gpio/export'"), { code: 'EACCES' });
    });
    const err = (() => {
      try {
        chip.requestInput(17);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(HalError);
    expect((err as HalError).code).toBe('EACCES');
    expect((err as HalError).message).toContain('GPIO 588');
    expect((err as HalError).message).toContain('gpio group');
  });
});
