// The SIP trace in the debug log: each message's text with the values of Authorization and Proxy-Authorization redacted.
import type { Logger } from '../../util/log.js';
import { formatHostPort } from '../transport/ip-address.js';
import type { TraceRecord, TraceSink } from './trace-record.js';

/** Header fields whose values never reach the log (digest responses can be attacked offline). */
const REDACTED_HEADERS = /^(authorization|proxy-authorization)[ \t]*:[ \t]*([^ \t]*)/i;

/**
 * The message text with every Authorization and Proxy-Authorization value replaced by its scheme
 * and "[redacted]"; continuation lines of such a field are dropped (RFC 3261 §7.3.1 folding).
 * Only the header section is touched.
 */
export function redactSipText(text: string): string {
  const end = text.indexOf('\r\n\r\n');
  const head = end < 0 ? text : text.slice(0, end);
  const rest = end < 0 ? '' : text.slice(end);
  const out: string[] = [];
  let dropping = false;
  for (const line of head.split('\r\n')) {
    if (dropping && (line.startsWith(' ') || line.startsWith('\t'))) continue;
    dropping = false;
    const m = REDACTED_HEADERS.exec(line);
    if (m) {
      out.push(`${m[1] ?? ''}: ${m[2] ? `${m[2]} ` : ''}[redacted]`);
      dropping = true;
    } else {
      out.push(line);
    }
  }
  return out.join('\r\n') + rest;
}

/**
 * A trace listener that writes each message to the log at debug level:
 * `transport.on('trace', createLogTrace(log))`. Nothing is decoded unless debug is enabled.
 */
export function createLogTrace(logger: Logger): TraceSink {
  const log = logger.child({ mod: 'sip/trace' });
  return (r: TraceRecord): void => {
    if (!log.isLevelEnabled('debug')) return;
    const peer = formatHostPort(r.remote.address, r.remote.port);
    log.debug(
      { dir: r.direction, protocol: r.protocol, remote: peer, local: formatHostPort(r.local.address, r.local.port), bytes: r.bytes.length, conn: r.connectionId, sip: redactSipText(r.bytes.toString('utf8')) },
      `SIP ${r.direction === 'in' ? 'from' : 'to'} ${r.protocol} ${peer}`,
    );
  };
}
