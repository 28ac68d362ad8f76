// Packet captures for interop tests: capture SIP on loopback with dumpcap, read a pcap into SIP methods and status codes with tshark -r.
import { execFile } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { PeerStartError } from './errors.js';
import { freePort } from './free-port.js';
import { LoggedProcess } from './process.js';
import { findTool } from './tools.js';

/** One SIP message seen in a capture. */
export interface SipPacket {
  frame: number;
  /** Seconds since the first packet of the capture. */
  timeSec: number;
  transport: 'udp' | 'tcp';
  source: string;
  destination: string;
  /** Set for a request ("INVITE"). */
  method: string | undefined;
  /** Set for a response (200). */
  status: number | undefined;
  /** The CSeq method (for a response, the method it answers). */
  cseqMethod: string;
  callId: string;
}

export interface ReadPcapOptions {
  /** Ports to decode as SIP besides 5060 (tshark only dissects 5060/5061 as SIP without a hint). */
  ports?: readonly number[];
}

const FIELDS = ['frame.number', 'frame.time_relative', 'ip.src', 'ipv6.src', 'ip.dst', 'ipv6.dst', 'udp.srcport', 'udp.dstport', 'tcp.srcport', 'tcp.dstport', 'sip.Method', 'sip.Status-Code', 'sip.CSeq.method', 'sip.Call-ID'];

/** Reads the SIP messages of a pcap / pcapng file with `tshark -r`, in capture order. */
export async function readSipPcap(file: string, options: ReadPcapOptions = {}): Promise<SipPacket[]> {
  const tshark = findTool('tshark');
  const args = ['-r', file, '-n', '-Y', 'sip', '-T', 'fields', '-E', 'separator=/t', '-E', 'occurrence=f'];
  for (const p of options.ports ?? []) args.push('-d', `udp.port==${p},sip`, '-d', `tcp.port==${p},sip`);
  for (const f of FIELDS) args.push('-e', f);
  const stdout = await runTshark(tshark, args, file);
  const packets: SipPacket[] = [];
  for (const line of stdout.split('\n')) {
    if (line.trim().length === 0) continue;
    const [frame, time, ip4src, ip6src, ip4dst, ip6dst, usrc, udst, tsrc, tdst, method, status, cseqMethod, callId] = line.split('\t');
    const udp = (usrc ?? '') !== '';
    const src = ip4src || ip6src || '?';
    const dst = ip4dst || ip6dst || '?';
    packets.push({
      frame: Number(frame),
      timeSec: Number(time),
      transport: udp ? 'udp' : 'tcp',
      source: `${src}:${udp ? usrc : tsrc}`,
      destination: `${dst}:${udp ? udst : tdst}`,
      method: method || undefined,
      status: status ? Number(status) : undefined,
      cseqMethod: cseqMethod ?? '',
      callId: callId ?? '',
    });
  }
  return packets;
}

function runTshark(tshark: string, args: readonly string[], file: string): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    execFile(tshark, [...args], { maxBuffer: 64 * 1024 * 1024 }, (err, out, errText) => {
      if (err) reject(new Error(`tshark -r ${file} failed: ${err.message}\n${errText}`));
      else resolve(out);
    });
  });
}

/** A TCP segment that carries bytes (SIP or not: CRLF keep-alives are not SIP, RFC 5626 §3.5.1). */
export interface TcpPayload {
  frame: number;
  timeSec: number;
  source: string;
  destination: string;
  payload: Buffer;
}

/** Reads every TCP segment with a payload from a pcap file (`tshark -r`), in capture order. */
export async function readTcpPayloads(file: string): Promise<TcpPayload[]> {
  const tshark = findTool('tshark');
  const fields = ['frame.number', 'frame.time_relative', 'ip.src', 'ipv6.src', 'tcp.srcport', 'ip.dst', 'ipv6.dst', 'tcp.dstport', 'tcp.payload'];
  const args = ['-r', file, '-n', '-Y', 'tcp.len > 0', '-T', 'fields', '-E', 'separator=/t', '-E', 'occurrence=f', ...fields.flatMap((f) => ['-e', f])];
  const out: TcpPayload[] = [];
  for (const line of (await runTshark(tshark, args, file)).split('\n')) {
    if (line.trim().length === 0) continue;
    const [frame, time, src4, src6, sport, dst4, dst6, dport, hex] = line.split('\t');
    out.push({
      frame: Number(frame),
      timeSec: Number(time),
      source: `${src4 || src6 || '?'}:${sport ?? ''}`,
      destination: `${dst4 || dst6 || '?'}:${dport ?? ''}`,
      // Older tshark prints "0d:0a", newer "0d0a".
      payload: Buffer.from((hex ?? '').replace(/:/g, ''), 'hex'),
    });
  }
  return out;
}

/** A compact ladder for assertions: "OPTIONS", "200 OPTIONS", "REGISTER", "401 REGISTER", ... */
export function sipLadder(packets: readonly SipPacket[]): string[] {
  return packets.map((p) => (p.method !== undefined ? p.method : `${p.status ?? '?'} ${p.cseqMethod}`));
}

export interface CaptureOptions {
  /** Capture UDP and TCP on these ports (both directions). */
  ports: readonly number[];
  /** Where to write (pcap format); default capture.pcap in a fresh temp dir. */
  file?: string | undefined;
  /** Default "lo": everything in these tests is on loopback. */
  interface?: string | undefined;
}

export interface Capture {
  file: string;
  pid: number;
  /** Flushes, stops dumpcap by pid and gives the pcap file (kept until removed with removeFile). */
  stop(): Promise<string>;
  /** Removes the capture file and its temp dir. */
  removeFile(): void;
}

function sizeOf(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return -1;
  }
}

/**
 * Starts dumpcap on loopback for the given ports and resolves when it really captures. libpcap
 * hands packets over in blocks, so a "Capturing on" line does not mean a packet sent now will be
 * in the file: a marker datagram to a port of our own is sent until it shows up in the file, once
 * at start and once before stop (then every packet sent before stop() is in the file).
 */
export async function startCapture(options: CaptureOptions): Promise<Capture> {
  const dumpcap = findTool('dumpcap');
  findTool('tshark');
  const dir = mkdtempSync(join(tmpdir(), 'offhook-capture-'));
  const file = options.file ?? join(dir, 'capture.pcap');
  const markerPort = await freePort({ protocols: ['udp'] });
  const sink = createSocket('udp4');
  await new Promise<void>((resolve) => sink.bind(markerPort, '127.0.0.1', resolve));
  sink.on('message', () => undefined);
  const portFilter = options.ports.map((p) => `port ${p}`).join(' or ');
  const filter = `(${portFilter || 'not ip'}) or (udp dst port ${markerPort})`;
  const log = join(dir, 'dumpcap.log');
  const proc = new LoggedProcess({ command: dumpcap, args: ['-i', options.interface ?? 'lo', '-f', filter, '-P', '-w', file], cwd: dir, stdoutFile: log, stderrFile: log });

  const sender = createSocket('udp4');
  const barrier = async (timeoutMs: number): Promise<boolean> => {
    const before = sizeOf(file);
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline && !proc.exitStatus) {
      if (before >= 0) sender.send('offhook-capture-marker', markerPort, '127.0.0.1');
      await sleep(25);
      const now = sizeOf(file);
      if (before >= 0 && now > before) return true;
      if (before < 0 && now > 0) return barrier(Math.max(0, deadline - Date.now()));
    }
    return false;
  };
  const closeSockets = (): void => {
    sender.close();
    sink.close();
  };
  if (!(await barrier(5000))) {
    await proc.stop({ signal: 'SIGKILL', graceMs: 1000 });
    closeSockets();
    throw new PeerStartError({ peer: 'dumpcap', reason: 'no packet reached the capture file within 5000 ms', logFile: log, runDir: dir });
  }
  let stopped: Promise<string> | undefined;
  return {
    file,
    pid: proc.pid,
    stop: () => {
      stopped ??= (async () => {
        await barrier(3000);
        await proc.stop({ signal: 'SIGINT', graceMs: 3000 });
        closeSockets();
        if (!existsSync(file)) throw new Error(`dumpcap wrote no ${file}`);
        return file;
      })();
      return stopped;
    },
    removeFile: () => rmSync(dir, { recursive: true, force: true }),
  };
}
