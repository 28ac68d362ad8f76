// Free ports on loopback, chosen at random outside the kernel's ephemeral range, so parallel test files do not clash.
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

export interface FreePortOptions {
  /** Address to check on (default 127.0.0.1; "::1" for IPv6). */
  host?: string;
  /** Protocols that must all be free on the port (default udp and tcp: Kamailio and SIPp use both). */
  protocols?: readonly ('udp' | 'tcp')[];
  /** How many consecutive ports must be free (e.g. 4 for RTP + RTCP of two streams). Default 1. */
  count?: number;
  /**
   * Range to pick from, inclusive. Default 20000-29999: below Linux's ephemeral range (32768-60999),
   * so a port the kernel hands out to some client socket never takes ours.
   */
  minPort?: number;
  maxPort?: number;
  /** Random picks to try before giving up. Default 50. */
  attempts?: number;
  /** Ports already chosen for the same peer but not bound yet: the range returned contains none of them. */
  avoid?: readonly number[];
}

function udpFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    s.once('error', () => {
      s.close();
      resolve(false);
    });
    s.bind(port, host, () => s.close(() => resolve(true)));
  });
}

function tcpFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen({ port, host, exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

async function isFree(host: string, port: number, protocols: readonly ('udp' | 'tcp')[]): Promise<boolean> {
  for (const p of protocols) if (!(await (p === 'udp' ? udpFree(host, port) : tcpFree(host, port)))) return false;
  return true;
}

/**
 * A port (the first of `count` consecutive ones) that is free right now for every protocol asked.
 * Random picks make two test files that ask at the same time very unlikely to get the same port;
 * a peer that then fails to bind is restarted on another one by its start function.
 */
export async function freePort(options: FreePortOptions = {}): Promise<number> {
  const host = options.host ?? '127.0.0.1';
  const protocols = options.protocols ?? ['udp', 'tcp'];
  const count = options.count ?? 1;
  const min = options.minPort ?? 20000;
  const max = options.maxPort ?? 29999;
  const attempts = options.attempts ?? 50;
  for (let i = 0; i < attempts; i++) {
    const first = min + Math.floor(Math.random() * (max - min + 2 - count));
    let ok = !(options.avoid ?? []).some((a) => a >= first && a < first + count);
    for (let p = first; p < first + count && ok; p++) ok = await isFree(host, p, protocols);
    if (ok) return first;
  }
  throw new Error(`no ${count} free consecutive ${protocols.join('+')} port(s) on ${host} in ${min}-${max} after ${attempts} tries`);
}

/**
 * True when some socket listens on the port on loopback (any address family), from
 * /proc/net/{udp,udp6,tcp,tcp6}: read-only, so it can never take the port from the peer that
 * is about to bind it (a test bind could).
 */
export function isListening(port: number, protocol: 'udp' | 'tcp'): boolean {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')} `;
  for (const file of protocol === 'udp' ? ['/proc/net/udp', '/proc/net/udp6'] : ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      // local_address is field 1; for TCP only state 0A (LISTEN) counts.
      if (!`${fields[1] ?? ''} `.endsWith(hex)) continue;
      if (protocol === 'udp' || fields[3] === '0A') return true;
    }
  }
  return false;
}

/** Waits until something listens on the port; false after timeoutMs. */
export async function waitForListener(port: number, protocol: 'udp' | 'tcp', timeoutMs: number, stillRunning: () => boolean = () => true): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && stillRunning()) {
    if (isListening(port, protocol)) return true;
    await sleep(20);
  }
  return isListening(port, protocol);
}
