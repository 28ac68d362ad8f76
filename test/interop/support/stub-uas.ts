// A stand-in UDP UAS for the harness self-tests: answers requests with the RFC 3261 §8.2 checks on raw text, so SIPp scenarios are proven before the phone's UA exists.
import { type RemoteInfo, type Socket, createSocket } from 'node:dgram';

export interface StubUasOptions {
  /** Answer every request (but ACK) with this status instead of checking it: proves that scenarios notice a wrong answer. */
  alwaysStatus?: number | undefined;
}

export interface StubUas {
  port: number;
  hostPort: string;
  /** First lines of the requests received, in order. */
  received: string[];
  close(): Promise<void>;
}

const KNOWN_METHODS = ['INVITE', 'ACK', 'BYE', 'CANCEL', 'OPTIONS', 'REGISTER', 'INFO', 'MESSAGE', 'UPDATE', 'PRACK', 'SUBSCRIBE', 'NOTIFY', 'REFER'];
const ACCEPTED_TYPES = ['application/sdp'];

const REASONS: Readonly<Record<number, string>> = {
  200: 'OK',
  400: 'Bad Request',
  415: 'Unsupported Media Type',
  416: 'Unsupported URI Scheme',
  420: 'Bad Extension',
  483: 'Too Many Hops',
  486: 'Busy Here',
  501: 'Not Implemented',
  505: 'Version Not Supported',
};

interface RawRequest {
  method: string;
  uri: string;
  version: string;
  /** [name lower-cased, value] in order; compact forms expanded for the few that matter here. */
  headers: [string, string][];
  body: string;
}

const COMPACT: Readonly<Record<string, string>> = { i: 'call-id', v: 'via', f: 'from', t: 'to', c: 'content-type', l: 'content-length' };

function parse(text: string): RawRequest | undefined {
  const split = text.indexOf('\r\n\r\n');
  const head = split >= 0 ? text.slice(0, split) : text;
  const lines = head.split('\r\n');
  const m = /^(\S+) (\S+) (\S+)$/.exec(lines[0] ?? '');
  if (!m || m[3]?.startsWith('SIP/') !== true || !m[1] || !m[2]) return undefined;
  const headers: [string, string][] = [];
  for (const line of lines.slice(1)) {
    const c = line.indexOf(':');
    if (c <= 0) continue;
    const raw = line.slice(0, c).trim().toLowerCase();
    headers.push([COMPACT[raw] ?? raw, line.slice(c + 1).trim()]);
  }
  return { method: m[1], uri: m[2], version: m[3], headers, body: split >= 0 ? text.slice(split + 4) : '' };
}

const values = (r: RawRequest, name: string): string[] => r.headers.filter(([n]) => n === name).map(([, v]) => v);

/** The RFC 3261 §8.2 order: version, required headers, URI scheme, method, Max-Forwards, Require, body type. */
function check(r: RawRequest): { status: number; extra: string[] } {
  if (r.version !== 'SIP/2.0') return { status: 505, extra: [] };
  if (values(r, 'call-id').length === 0) return { status: 400, extra: [] };
  const scheme = r.uri.slice(0, Math.max(0, r.uri.indexOf(':'))).toLowerCase();
  if (!['sip', 'sips', 'tel'].includes(scheme)) return { status: 416, extra: [] };
  if (!KNOWN_METHODS.includes(r.method)) return { status: 501, extra: [`Allow: ${KNOWN_METHODS.join(', ')}`] };
  if (values(r, 'max-forwards')[0] === '0') return { status: 483, extra: [] };
  const required = values(r, 'require').flatMap((v) => v.split(',').map((t) => t.trim()));
  if (required.length > 0) return { status: 420, extra: [`Unsupported: ${required.join(', ')}`] };
  const type = values(r, 'content-type')[0]?.split(';')[0]?.trim().toLowerCase();
  if (r.body.trim().length > 0 && (!type || !ACCEPTED_TYPES.includes(type))) return { status: 415, extra: [`Accept: ${ACCEPTED_TYPES.join(', ')}`] };
  return { status: 200, extra: [`Allow: ${KNOWN_METHODS.join(', ')}`] };
}

function respond(socket: Socket, r: RawRequest, status: number, extra: string[], to: RemoteInfo): void {
  const copy = (name: string, label: string): string[] => values(r, name).map((v) => `${label}: ${v}`);
  const toHeader = values(r, 'to')[0];
  const lines = [
    `SIP/2.0 ${status} ${REASONS[status] ?? 'Whatever'}`,
    ...copy('via', 'Via'),
    ...copy('from', 'From'),
    // RFC 3261 §8.2.6.2: a To tag on every response but a 100.
    ...(toHeader !== undefined ? [`To: ${toHeader}${/;\s*tag=/i.test(toHeader) ? '' : ';tag=stub-uas'}`] : []),
    ...copy('call-id', 'Call-ID'),
    ...copy('cseq', 'CSeq'),
    ...extra,
    'Server: offhook-interop-stub-uas',
    'Content-Length: 0',
    '',
    '',
  ];
  socket.send(lines.join('\r\n'), to.port, to.address);
}

/** Starts the stub on 127.0.0.1 (a kernel-chosen port); ACKs are swallowed, everything else answered. */
export async function startStubUas(options: StubUasOptions = {}): Promise<StubUas> {
  const socket = createSocket('udp4');
  const received: string[] = [];
  socket.on('message', (msg, rinfo) => {
    const r = parse(msg.toString('utf8'));
    if (!r) return;
    received.push(`${r.method} ${r.uri} ${r.version}`);
    if (r.method === 'ACK') return;
    const { status, extra } = options.alwaysStatus !== undefined ? { status: options.alwaysStatus, extra: [] } : check(r);
    respond(socket, r, status, extra, rinfo);
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => {
      socket.off('error', reject);
      resolve();
    });
  });
  const port = socket.address().port;
  return { port, hostPort: `127.0.0.1:${port}`, received, close: () => new Promise<void>((resolve) => socket.close(() => resolve())) };
}
