// PcapTrace: writes every SIP message a transport sends or receives to a pcap file (or any writable stream) for Wireshark, tshark and sngrep.
import { open } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { type Logger, silentLogger } from '../../util/log.js';
import { PcapEncoder } from './pcap-encoder.js';
import type { TraceRecord, TraceSink } from './trace-record.js';

export interface PcapTraceOptions {
  logger?: Logger | undefined;
}

/**
 * Usage: `const pcap = await PcapTrace.open('/tmp/sip.pcap'); transport.on('trace', pcap.record);`
 *
 * The pcap holds the messages as they are, Authorization and Proxy-Authorization included: it is
 * a debugging artifact the user asked for, like a tcpdump capture, and digest credentials are
 * what one often needs to see in it. The file is created with mode 0600 for that reason. (The
 * debug log, which may be shipped around, is redacted: see createLogTrace.) TLS messages are
 * written as the plaintext they carry, inside TCP segments with the real ports; on port 5061
 * Wireshark first tries TLS there: use "Decode As... SIP" (tshark: -d tcp.port==5061,sip).
 *
 * Writes are queued on the stream: record() never blocks the event loop and never throws. A
 * write error is logged once and tracing stops.
 */
export class PcapTrace {
  private readonly encoder = new PcapEncoder();
  private readonly log: Logger;
  private failed = false;
  private closing: Promise<void> | undefined;

  /** Writes the pcap global header at once. */
  constructor(
    private readonly stream: Writable,
    options: PcapTraceOptions = {},
  ) {
    this.log = (options.logger ?? silentLogger()).child({ mod: 'sip/trace' });
    stream.on('error', (e) => {
      if (!this.failed) this.log.warn({ err: e }, 'pcap trace write failed; tracing stopped');
      this.failed = true;
    });
    stream.write(this.encoder.fileHeader());
  }

  /** Creates (or truncates) a pcap file, readable by its owner only. Rejects when the file cannot be created. */
  static async open(path: string, options: PcapTraceOptions = {}): Promise<PcapTrace> {
    const handle = await open(path, 'w', 0o600);
    return new PcapTrace(handle.createWriteStream(), options);
  }

  /** A trace listener: `transport.on('trace', pcap.record)`. */
  readonly record: TraceSink = (r: TraceRecord): void => {
    if (this.failed || this.closing) return;
    try {
      this.stream.write(this.encoder.encode(r));
    } catch (e) {
      this.failed = true;
      this.log.warn({ err: e }, 'pcap trace failed; tracing stopped');
    }
  };

  /** Flushes and closes the stream. */
  close(): Promise<void> {
    this.closing ??= new Promise((resolve) => {
      if (this.stream.writableFinished || this.stream.destroyed) {
        resolve();
        return;
      }
      this.stream.once('close', () => resolve());
      this.stream.once('error', () => resolve());
      this.stream.end();
    });
    return this.closing;
  }
}
