// Notices when the phone's network addresses change (DHCP renew, cable moved, Wi-Fi roam) so that registrations are renewed.
import { networkInterfaces } from 'node:os';
import type { Clock, TimerHandle } from '../../util/clock.js';

/** The addresses of one moment: what os.networkInterfaces() returns, or a test's table. */
export type InterfaceSnapshot = () => ReturnType<typeof networkInterfaces>;

export interface NetworkWatchOptions {
  clock: Clock;
  /** How often to look, ms. Default 5000: a desk phone re-registers within seconds of a new address. */
  intervalMs?: number;
  /** Default: os.networkInterfaces. */
  interfaces?: InterfaceSnapshot;
  /** Called once per change, with the addresses before and after. */
  onChange: (change: { before: string[]; after: string[] }) => void;
}

/** The non-loopback addresses in a stable order: the phone's identity on the network. */
export function externalAddresses(snapshot: ReturnType<typeof networkInterfaces>): string[] {
  const out: string[] = [];
  for (const [name, list] of Object.entries(snapshot)) {
    for (const a of list ?? []) if (!a.internal) out.push(`${name}/${a.address}`);
  }
  return out.sort();
}

/**
 * Polls the interface table on the clock (Node has no address-change event; netlink would need
 * native code for a once-in-a-while event). RFC 5626 §4.4 and RFC 3261 §10.2.4: a phone whose
 * address changed must register its new Contact, which UserAgent.networkChanged() does.
 */
export class NetworkWatch {
  private timer: TimerHandle | undefined;
  private last: string[];
  private readonly snapshot: InterfaceSnapshot;

  constructor(private readonly o: NetworkWatchOptions) {
    this.snapshot = o.interfaces ?? networkInterfaces;
    this.last = externalAddresses(this.snapshot());
  }

  start(): void {
    this.stop();
    this.timer = this.o.clock.setTimeout(() => {
      this.check();
      this.start();
    }, this.o.intervalMs ?? 5000);
  }

  stop(): void {
    this.o.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Looks now; returns true when the addresses changed since the last look. */
  check(): boolean {
    const now = externalAddresses(this.snapshot());
    if (now.length === this.last.length && now.every((a, i) => a === this.last[i])) return false;
    const before = this.last;
    this.last = now;
    this.o.onChange({ before, after: now });
    return true;
  }
}
