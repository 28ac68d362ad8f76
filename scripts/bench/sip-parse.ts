// Benchmark: SIP parse + serialize throughput of firmware/sip/message against the parsers of JsSIP and SIP.js.
//
// Build and run:
//   node scripts/build.mjs --bench
//   node dist/bench/sip-parse.mjs [--seconds 0.5] [--runs 7] [--warmup 2] [--only offhook,JsSIP]
//
// --only runs the named contenders alone (comma-separated; "x JsSIP" needs JsSIP among them), so
// that a CPU profile shows one contender:
//   node --cpu-prof --cpu-prof-dir=/tmp/prof dist/bench/sip-parse.mjs --only offhook
//
// What each contender does per message, on the same corpus, in one process:
// - offhook: parseMessage(bytes) from a Buffer (as a socket delivers it), then
//   message.parseAllHeaders() — every header with a grammar parsed into typed values and
//   validated, the check fails the run on any error — then serializeMessage(message) back to a
//   Buffer (start line, canonical header names, header values, recomputed Content-Length, body).
//   Header lines received exactly as they serialize (canonical name, one space, unfolded: all of
//   this corpus) are copied as they are, consecutive ones in one piece; a message built in code
//   has no such lines. A second row does the same with serializeMessage(message,
//   { reformat: true }), which writes every header from its parsed value instead of its text.
// - JsSIP 3.x: JsSIP's Parser.parseMessage(string, ua) (lib/Parser.js, what its transport calls).
//   It parses Via (top one), From, To, Call-ID, CSeq, Contact, Record-Route, Content-Length,
//   Content-Type, Max-Forwards, WWW-/Proxy-Authenticate, Event and a few more with its PEG
//   grammar; other headers (Authorization, Allow, Supported...) are kept as text. Then toString(),
//   which returns the received string (JsSIP has no serializer for incoming messages).
//   Input is a string (JsSIP's transports hand it strings): the UTF-8 decoding is not charged to it.
// - SIP.js 0.21: its core Parser.parseMessage(string, logger) (lib/core/messages/parser.js), the
//   same design as JsSIP's; then toString(), which also returns the received string.
//
// Timing: a warm-up of `warmup` seconds per contender, then `runs` rounds in which every
// contender gets a timed run of `seconds` cycling through the corpus (interleaved, so that load
// from other processes hits all alike); the figure is the median of a contender's runs, in
// messages per wall-clock second, and beside it per CPU second of the process; "x JsSIP" is the
// ratio of those medians, and "per round" the lowest and highest ratio of runs in the same round.
// JsSIP allocates much more than the others and slows down more when the machine is busy, so the
// ratio rises with the load: the load average is printed with the results. Prints a table and one
// JSON line.
import { createRequire } from 'node:module';
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { Parser as SipJsParser } from 'sip.js/lib/core/messages/parser.js';
import { parseMessage } from '../../firmware/sip/message/parse.js';
import { serializeMessage } from '../../firmware/sip/message/serialize.js';

interface JsSipMessage {
  toString(): string;
}
interface JsSipParserModule {
  parseMessage(data: string, ua: unknown): JsSipMessage | undefined;
}

// JsSIP is CommonJS without type declarations for lib/Parser.js: loaded at run time from
// node_modules (kept out of the bundle).
const requireCjs = createRequire(import.meta.url);
const JsSipParser = requireCjs('jssip/lib/Parser.js') as JsSipParserModule;

const CRLF = '\r\n';
function message(lines: string[], body = ''): string {
  const withLength = lines.map((l) => (l === 'Content-Length: #' ? `Content-Length: ${Buffer.byteLength(body)}` : l));
  return withLength.join(CRLF) + CRLF + CRLF + body;
}

const SDP_ALICE = [
  'v=0',
  'o=alice 2890844526 2890844526 IN IP4 192.0.2.101',
  's=-',
  'c=IN IP4 192.0.2.101',
  't=0 0',
  'm=audio 49172 RTP/AVP 0 8 101',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:8 PCMA/8000',
  'a=rtpmap:101 telephone-event/8000',
  'a=fmtp:101 0-15',
  'a=ptime:20',
  'a=sendrecv',
  '',
].join(CRLF);

const SDP_BOB = SDP_ALICE.replace(/alice/g, 'bob').replace(/192\.0\.2\.101/g, '192.0.2.202').replace('49172', '3456');

/** A realistic call and registration: what a desk phone sends and receives most. */
const CORPUS: readonly { name: string; text: string }[] = [
  {
    name: 'INVITE with SDP',
    text: message(
      [
        'INVITE sip:bob@biloxi.example.com SIP/2.0',
        'Via: SIP/2.0/UDP 192.0.2.101:5060;branch=z9hG4bK776asdhds;rport',
        'Max-Forwards: 70',
        'To: Bob <sip:bob@biloxi.example.com>',
        'From: "Alice" <sip:alice@atlanta.example.com>;tag=1928301774',
        'Call-ID: a84b4c76e66710@pc33.atlanta.example.com',
        'CSeq: 314159 INVITE',
        'Contact: <sip:alice@192.0.2.101:5060;transport=udp>',
        'Allow: INVITE, ACK, CANCEL, OPTIONS, BYE, REFER, NOTIFY, INFO, UPDATE',
        'Supported: replaces, timer, 100rel',
        'User-Agent: offhook/0.1',
        'Content-Type: application/sdp',
        'Content-Length: #',
      ],
      SDP_ALICE,
    ),
  },
  {
    name: '180 Ringing',
    text: message([
      'SIP/2.0 180 Ringing',
      'Via: SIP/2.0/UDP 192.0.2.101:5060;branch=z9hG4bK776asdhds;rport=5060;received=192.0.2.101',
      'Record-Route: <sip:proxy.biloxi.example.com;lr>',
      'To: Bob <sip:bob@biloxi.example.com>;tag=a6c85cf',
      'From: "Alice" <sip:alice@atlanta.example.com>;tag=1928301774',
      'Call-ID: a84b4c76e66710@pc33.atlanta.example.com',
      'CSeq: 314159 INVITE',
      'Contact: <sip:bob@192.0.2.202:5060>',
      'Content-Length: 0',
    ]),
  },
  {
    name: '200 OK with SDP',
    text: message(
      [
        'SIP/2.0 200 OK',
        'Via: SIP/2.0/UDP 192.0.2.101:5060;branch=z9hG4bK776asdhds;rport=5060;received=192.0.2.101',
        'Record-Route: <sip:proxy.biloxi.example.com;lr>',
        'To: Bob <sip:bob@biloxi.example.com>;tag=a6c85cf',
        'From: "Alice" <sip:alice@atlanta.example.com>;tag=1928301774',
        'Call-ID: a84b4c76e66710@pc33.atlanta.example.com',
        'CSeq: 314159 INVITE',
        'Contact: <sip:bob@192.0.2.202:5060>',
        'Allow: INVITE, ACK, CANCEL, OPTIONS, BYE',
        'Supported: replaces, timer',
        'Content-Type: application/sdp',
        'Content-Length: #',
      ],
      SDP_BOB,
    ),
  },
  {
    name: 'REGISTER with Authorization',
    text: message([
      'REGISTER sip:registrar.biloxi.example.com SIP/2.0',
      'Via: SIP/2.0/UDP 192.0.2.101:5060;branch=z9hG4bKnashds7;rport',
      'Max-Forwards: 70',
      'To: Bob <sip:bob@biloxi.example.com>',
      'From: Bob <sip:bob@biloxi.example.com>;tag=456248',
      'Call-ID: 843817637684230@998sdasdh09',
      'CSeq: 1827 REGISTER',
      'Contact: <sip:bob@192.0.2.202:5060>;expires=3600;+sip.instance="<urn:uuid:00000000-0000-1000-8000-000A95A0E128>"',
      'Authorization: Digest username="bob", realm="biloxi.example.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", uri="sip:registrar.biloxi.example.com", response="245f23415f11432b3434341c022", algorithm=MD5, cnonce="0a4f113b", qop=auth, nc=00000001, opaque="5ccc069c403ebaf9f0171e9517f40e41"',
      'Expires: 3600',
      'User-Agent: offhook/0.1',
      'Content-Length: 0',
    ]),
  },
  {
    name: '401 with WWW-Authenticate',
    text: message([
      'SIP/2.0 401 Unauthorized',
      'Via: SIP/2.0/UDP 192.0.2.101:5060;branch=z9hG4bKnashds7;rport=5060;received=192.0.2.101',
      'To: Bob <sip:bob@biloxi.example.com>;tag=2493k59kd',
      'From: Bob <sip:bob@biloxi.example.com>;tag=456248',
      'Call-ID: 843817637684230@998sdasdh09',
      'CSeq: 1826 REGISTER',
      'WWW-Authenticate: Digest realm="biloxi.example.com", qop="auth", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41", algorithm=MD5, stale=FALSE',
      'Content-Length: 0',
    ]),
  },
  {
    name: 'NOTIFY message-summary',
    text: message(
      [
        'NOTIFY sip:bob@192.0.2.202:5060 SIP/2.0',
        'Via: SIP/2.0/UDP voicemail.biloxi.example.com;branch=z9hG4bK4b43c2ff8.1',
        'Max-Forwards: 70',
        'To: <sip:bob@biloxi.example.com>;tag=4442',
        'From: <sip:voicemail@biloxi.example.com>;tag=78923',
        'Call-ID: 1349882@voicemail.biloxi.example.com',
        'CSeq: 20 NOTIFY',
        'Contact: <sip:voicemail@voicemail.biloxi.example.com>',
        'Event: message-summary',
        'Subscription-State: active;expires=3599',
        'Content-Type: application/simple-message-summary',
        'Content-Length: #',
      ],
      ['Messages-Waiting: yes', 'Message-Account: sip:bob@biloxi.example.com', 'Voice-Message: 2/8 (0/2)', ''].join(CRLF),
    ),
  },
];

interface Contender {
  name: string;
  /** Handles message i of the corpus; returns a number derived from the output (kept live). */
  run(i: number): number;
}

function contenders(): Contender[] {
  const strings = CORPUS.map((c) => c.text);
  const buffers = CORPUS.map((c) => Buffer.from(c.text, 'utf8'));
  const sipJsLogger = { error: () => undefined, warn: () => undefined, log: () => undefined, debug: () => undefined };
  const ours = (reformat: boolean) => (i: number): number => {
    const r = parseMessage(buffers[i] ?? Buffer.alloc(0));
    if (!r.ok) throw r.error;
    const e = r.message.parseAllHeaders();
    if (e) throw e;
    return serializeMessage(r.message, { reformat }).length;
  };
  return [
    { name: 'offhook', run: ours(false) },
    { name: 'offhook (reformat)', run: ours(true) },
    {
      name: 'JsSIP',
      run: (i) => {
        const m = JsSipParser.parseMessage(strings[i] ?? '', undefined);
        if (!m) throw new Error(`JsSIP could not parse ${CORPUS[i]?.name ?? ''}`);
        return m.toString().length;
      },
    },
    {
      name: 'SIP.js',
      run: (i) => {
        // The logger stub has the members the parser calls; SIP.js's Logger class is not needed.
        const m = SipJsParser.parseMessage(strings[i] ?? '', sipJsLogger as unknown as Parameters<typeof SipJsParser.parseMessage>[1]);
        if (!m) throw new Error(`SIP.js could not parse ${CORPUS[i]?.name ?? ''}`);
        return m.toString().length;
      },
    },
  ];
}

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : NaN;
  return Number.isFinite(v) && v > 0 ? v : fallback;
}

/** The contenders named by --only (all when absent). */
function selected(all: Contender[]): Contender[] {
  const i = process.argv.indexOf('--only');
  if (i < 0) return all;
  const names = (process.argv[i + 1] ?? '').split(',').map((n) => n.trim());
  const chosen = all.filter((c) => names.includes(c.name));
  if (chosen.length === 0) throw new Error(`--only: none of ${JSON.stringify(names)}; contenders are ${all.map((c) => c.name).join(', ')}`);
  return chosen;
}

function loadAverage(): string {
  return loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
}

function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/**
 * One timed run: whole passes over the corpus until `seconds` elapse. Returns messages per
 * wall-clock second and per CPU second of the process (the latter moves less when other
 * processes share the machine; it includes the garbage collector's helper threads).
 */
function timedRun(c: Contender, seconds: number): { rate: number; cpuRate: number; sink: number } {
  const n = CORPUS.length;
  let count = 0;
  let sink = 0;
  const t0 = performance.now();
  const c0 = cpuSeconds();
  const until = t0 + seconds * 1000;
  let now = t0;
  while (now < until) {
    for (let k = 0; k < 50; k++) for (let i = 0; i < n; i++) sink += c.run(i);
    count += 50 * n;
    now = performance.now();
  }
  return { rate: count / ((now - t0) / 1000), cpuRate: count / Math.max(1e-9, cpuSeconds() - c0), sink };
}

function median(xs: number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] ?? 0) : ((s[m - 1] ?? 0) + (s[m] ?? 0)) / 2;
}

function main(): void {
  const seconds = arg('seconds', 0.5);
  const runs = Math.round(arg('runs', 7));
  const warmup = arg('warmup', 2);
  const all = selected(contenders());
  const loadBefore = loadAverage();
  let sink = 0;
  // Each contender must handle the whole corpus before anything is timed.
  for (const c of all) for (let i = 0; i < CORPUS.length; i++) sink += c.run(i);
  // JsSIP's PEG grammar takes about a second of running to be fully optimized: warm up long.
  for (const c of all) sink += timedRun(c, warmup).sink;
  // Runs are interleaved (A B C D A B C D ...) so that load from other processes on the machine
  // falls on every contender alike rather than on whichever was being timed.
  const rates = all.map((): number[] => []);
  const cpuRates = all.map((): number[] => []);
  for (let r = 0; r < runs; r++) {
    all.forEach((c, k) => {
      const t = timedRun(c, seconds);
      rates[k]?.push(t.rate);
      cpuRates[k]?.push(t.cpuRate);
      sink += t.sink;
    });
  }
  const loadAfter = loadAverage();
  const results = all.map((c, k) => ({ name: c.name, msgsPerSec: median(rates[k] ?? []), msgsPerCpuSec: median(cpuRates[k] ?? []) }));
  const jk = all.findIndex((c) => c.name === 'JsSIP');
  const jssip = results[jk];
  const rows = results.map((r, k) => {
    // Ratios of runs of the same round: the load of that moment fell on both.
    const perRound = (rates[k] ?? []).map((x, i) => x / (rates[jk]?.[i] ?? NaN));
    return {
      ...r,
      ratioToJsSIP: r.msgsPerSec / (jssip?.msgsPerSec ?? NaN),
      cpuRatioToJsSIP: r.msgsPerCpuSec / (jssip?.msgsPerCpuSec ?? NaN),
      minRatio: Math.min(...perRound),
      maxRatio: Math.max(...perRound),
    };
  });
  const pad = (s: string, n: number): string => s.padEnd(n);
  const lpad = (s: string, n: number): string => s.padStart(n);
  const ratio = (x: number): string => (Number.isFinite(x) ? x.toFixed(1) : '-');
  console.log(`SIP parse + serialize, corpus of ${CORPUS.length} messages (${CORPUS.map((c) => c.name).join(', ')})`);
  console.log(`median of ${runs} runs of ${seconds} s after ${warmup} s warm-up; node ${process.version}; ${cpus().length} CPUs, load average ${loadBefore} before, ${loadAfter} after`);
  console.log(`${pad('parser', 20)}${lpad('msgs/s', 12)}${lpad('x JsSIP', 10)}${lpad('per round', 14)}${lpad('msgs/CPU-s', 14)}${lpad('x JsSIP', 10)}`);
  for (const r of rows) {
    const fmt = (x: number): string => Math.round(x).toLocaleString('en-US');
    const range = Number.isFinite(r.minRatio) ? `${ratio(r.minRatio)}-${ratio(r.maxRatio)}` : '-';
    console.log(`${pad(r.name, 20)}${lpad(fmt(r.msgsPerSec), 12)}${lpad(ratio(r.ratioToJsSIP), 10)}${lpad(range, 14)}${lpad(fmt(r.msgsPerCpuSec), 14)}${lpad(ratio(r.cpuRatioToJsSIP), 10)}`);
  }
  console.log(
    JSON.stringify({
      bench: 'sip-parse',
      node: process.version,
      corpus: CORPUS.map((c) => c.name),
      seconds,
      runs,
      cpus: cpus().length,
      loadAverage: { before: loadBefore, after: loadAfter },
      results: rows.map((r) => ({
        name: r.name,
        msgsPerSec: Math.round(r.msgsPerSec),
        ratioToJsSIP: Number(r.ratioToJsSIP.toFixed(2)),
        ratioPerRound: [Number(r.minRatio.toFixed(2)), Number(r.maxRatio.toFixed(2))],
        msgsPerCpuSec: Math.round(r.msgsPerCpuSec),
        cpuRatioToJsSIP: Number(r.cpuRatioToJsSIP.toFixed(2)),
      })),
      sink: sink % 1000,
    }),
  );
}

main();
