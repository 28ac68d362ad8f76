import type { NetworkInterfaceInfo } from 'node:os';
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../firmware/util/clock.js';
import { NetworkWatch } from '../../../firmware/sip/ua/network-watch.js';

function iface(address: string, internal = false): NetworkInterfaceInfo {
  return { address, netmask: '255.255.255.0', family: 'IPv4', mac: '00:00:00:00:00:00', internal, cidr: `${address}/24` };
}

describe('NetworkWatch', () => {
  it('reports a changed address once, on the next look, and ignores loopback changes', async () => {
    const clock = new VirtualClock();
    let table: Record<string, NetworkInterfaceInfo[]> = { lo: [iface('127.0.0.1', true)], eth0: [iface('192.168.1.20')] };
    const changes: { before: string[]; after: string[] }[] = [];
    const watch = new NetworkWatch({ clock, intervalMs: 5000, interfaces: () => table, onChange: (c) => changes.push(c) });
    watch.start();
    await clock.advance(12_000);
    expect(changes).toEqual([]);
    table = { lo: [iface('127.0.0.2', true)], eth0: [iface('192.168.1.20')] };
    await clock.advance(5_000);
    expect(changes).toEqual([]);
    table = { lo: [iface('127.0.0.1', true)], eth0: [iface('10.0.0.7')] };
    await clock.advance(5_000);
    expect(changes).toEqual([{ before: ['eth0/192.168.1.20'], after: ['eth0/10.0.0.7'] }]);
    await clock.advance(20_000);
    expect(changes).toHaveLength(1);
    watch.stop();
    expect(clock.pending).toBe(0);
  });
});
