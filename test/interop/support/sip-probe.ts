// Raw SIP over UDP from the test process: send exact bytes, read the first final response (readiness probes, requests SIPp cannot check).
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';

export interface ProbeResponse {
  status: number;
  reason: string;
  /** Header fields as received, names lower-cased, values in order. */
  headers: Map<string, string[]>;
  raw: string;
}

export interface SipProbeOptions {
  host: string;
  port: number;
  /**
   * The request to send, built once the local socket is bound: gets the local address and port
   * (for Via and Contact) and a fresh branch. Lines end in CRLF.
   */
  request: (local: { address: string; port: number; branch: string; tag: string; callId: string }) => string;
  /** How long to wait for a final (non-1xx) response, ms. Default 2000. */
  timeoutMs?: number;
}

/** The first line and header fields of a response; undefined when the text is not a SIP response. */
export function parseProbeResponse(raw: string): ProbeResponse | undefined {
  const head = raw.split('\r\n\r\n')[0] ?? '';
  const lines = head.split('\r\n');
  const m = /^SIP\/2\.0 (\d{3}) ?(.*)$/.exec(lines[0] ?? '');
  if (!m) return undefined;
  const headers = new Map<string, string[]>();
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    headers.set(name, [...(headers.get(name) ?? []), line.slice(colon + 1).trim()]);
  }
  return { status: Number(m[1]), reason: m[2] ?? '', headers, raw };
}

/**
 * Sends one request over UDP from 127.0.0.1 (or ::1 for an IPv6 host) and resolves with the
 * first final response, or undefined after timeoutMs. Retransmits every 500 ms like Timer E
 * would (RFC 3261 §17.1.2.2) until then, so a peer still starting up is caught as soon as it listens.
 */
export async function probeSip(options: SipProbeOptions): Promise<ProbeResponse | undefined> {
  const v6 = options.host.includes(':');
  const socket = createSocket(v6 ? 'udp6' : 'udp4');
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, v6 ? '::1' : '127.0.0.1', () => {
      socket.off('error', reject);
      resolve();
    });
  });
  const local = socket.address();
  const id = randomBytes(6).toString('hex');
  const text = options.request({ address: local.address, port: local.port, branch: `z9hG4bK-probe-${id}`, tag: `probe-${id}`, callId: `probe-${id}@offhook.test` });
  try {
    return await new Promise<ProbeResponse | undefined>((resolve) => {
      const send = (): void => socket.send(text, options.port, options.host, () => undefined);
      const resend = setInterval(send, 500);
      const timeout = setTimeout(() => done(undefined), options.timeoutMs ?? 2000);
      // ICMP port unreachable (nobody listening yet) surfaces as a socket error on Linux: keep trying.
      socket.on('error', () => undefined);
      socket.on('message', (msg) => {
        const r = parseProbeResponse(msg.toString('utf8'));
        if (r && r.status >= 200) done(r);
      });
      function done(r: ProbeResponse | undefined): void {
        clearInterval(resend);
        clearTimeout(timeout);
        resolve(r);
      }
      send();
    });
  } finally {
    socket.close();
  }
}

/** OPTIONS to a server itself (no user part): Kamailio's keep-alive route answers 200. */
export function optionsRequest(host: string, port: number): SipProbeOptions['request'] {
  const hostPart = host.includes(':') ? `[${host}]` : host;
  return (l) => {
    const localHost = l.address.includes(':') ? `[${l.address}]` : l.address;
    return [
      `OPTIONS sip:${hostPart}:${port} SIP/2.0`,
      `Via: SIP/2.0/UDP ${localHost}:${l.port};branch=${l.branch};rport`,
      `Max-Forwards: 70`,
      `From: <sip:probe@${localHost}>;tag=${l.tag}`,
      `To: <sip:${hostPart}:${port}>`,
      `Call-ID: ${l.callId}`,
      `CSeq: 1 OPTIONS`,
      `Accept: application/sdp`,
      `Content-Length: 0`,
      '',
      '',
    ].join('\r\n');
  };
}
