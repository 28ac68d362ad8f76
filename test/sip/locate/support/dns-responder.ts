// A tiny authoritative DNS server on 127.0.0.1 (node:dgram) answering NAPTR, SRV, A, AAAA from a zone table, for node:dns tests.
import { type Socket, createSocket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import { DnsLookupError, type DnsZone, StaticDnsResolver } from '../../../../firmware/sip/locate/index.js';

const TYPE = { A: 1, NAPTR: 35, SRV: 33, AAAA: 28 } as const;
const RCODE = { NOERROR: 0, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;

export interface DnsResponder {
  /** The UDP port it listens on (127.0.0.1): give node:dns "127.0.0.1:PORT". */
  port: number;
  /** "TYPE name" of every question received. */
  queries: string[];
  close(): Promise<void>;
}

/** Encodes a domain name as uncompressed labels (RFC 1035 §3.1); NAPTR replacements must not be compressed (RFC 3403 §4.1). */
function encodeName(name: string): Buffer {
  const labels = name.replace(/\.$/, '').split('.').filter((l) => l.length > 0);
  return Buffer.concat([...labels.map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l, 'ascii')])), Buffer.from([0])]);
}

function charString(s: string): Buffer {
  return Buffer.concat([Buffer.from([s.length]), Buffer.from(s, 'ascii')]);
}

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}

function ipv6Bytes(address: string): Buffer {
  const [head = '', tail] = address.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return Buffer.concat(groups.map((g) => u16(parseInt(g, 16))));
}

/** Reads the question's name (no compression in questions from c-ares) and returns it with the offset after it. */
function readName(msg: Buffer, offset: number): { name: string; next: number } {
  const labels: string[] = [];
  let p = offset;
  for (;;) {
    const len = msg[p];
    if (len === undefined) throw new Error('truncated name');
    p++;
    if (len === 0) break;
    labels.push(msg.subarray(p, p + len).toString('ascii'));
    p += len;
  }
  return { name: labels.join('.'), next: p };
}

/**
 * Starts the responder. Every name's answers come from a StaticDnsResolver over `zone`: NXDOMAIN,
 * NODATA (no answer records), SERVFAIL and REFUSED as rcodes; a TIMEOUT failure is never answered.
 */
export async function startDnsResponder(zone: DnsZone, options: { ttlSec?: number } = {}): Promise<DnsResponder> {
  const records = new StaticDnsResolver(zone);
  const queries: string[] = [];
  const socket: Socket = createSocket('udp4');

  async function answer(msg: Buffer): Promise<Buffer | undefined> {
    const id = msg.readUInt16BE(0);
    const rd = msg.readUInt16BE(2) & 0x0100;
    const { name, next } = readName(msg, 12);
    const qtype = msg.readUInt16BE(next);
    const question = msg.subarray(12, next + 4);
    const reply = (rcode: number, answers: Buffer[]): Buffer =>
      // QR, AA, the client's RD; QDCOUNT 1, ANCOUNT n, NSCOUNT 0, ARCOUNT 0
      Buffer.concat([u16(id), u16(0x8400 | rd | rcode), u16(1), u16(answers.length), u16(0), u16(0), question, ...answers]);
    // Every answer record names the question through a compression pointer to offset 12 (RFC 1035 §4.1.4).
    const rr = (type: number, ttl: number, rdata: Buffer): Buffer => {
      const fixed = Buffer.alloc(10);
      fixed.writeUInt16BE(0xc00c, 0);
      fixed.writeUInt16BE(type, 2);
      fixed.writeUInt16BE(1, 4); // class IN
      fixed.writeUInt32BE(ttl, 6);
      return Buffer.concat([fixed, u16(rdata.length), rdata]);
    };
    const typeName = (Object.keys(TYPE) as (keyof typeof TYPE)[]).find((k) => TYPE[k] === qtype);
    queries.push(`${typeName ?? String(qtype)} ${name}`);
    const ttl = options.ttlSec ?? zone.ttlSec ?? 300;
    try {
      switch (typeName) {
        case 'A':
          return reply(RCODE.NOERROR, (await records.a(name)).records.map((a) => rr(TYPE.A, ttl, Buffer.from(a.split('.').map(Number)))));
        case 'AAAA':
          return reply(RCODE.NOERROR, (await records.aaaa(name)).records.filter((a) => isIPv6(a)).map((a) => rr(TYPE.AAAA, ttl, ipv6Bytes(a))));
        case 'SRV':
          return reply(
            RCODE.NOERROR,
            (await records.srv(name)).records.map((r) => rr(TYPE.SRV, ttl, Buffer.concat([u16(r.priority), u16(r.weight), u16(r.port), encodeName(r.name)]))),
          );
        case 'NAPTR':
          return reply(
            RCODE.NOERROR,
            (await records.naptr(name)).records.map((r) =>
              rr(TYPE.NAPTR, ttl, Buffer.concat([u16(r.order), u16(r.preference), charString(r.flags), charString(r.service), charString(r.regexp), encodeName(r.replacement)])),
            ),
          );
        default:
          return reply(RCODE.NOTIMP, []);
      }
    } catch (err) {
      if (!(err instanceof DnsLookupError)) throw err;
      if (err.code === 'TIMEOUT') return undefined;
      return reply(err.code === 'NXDOMAIN' ? RCODE.NXDOMAIN : err.code === 'REFUSED' ? RCODE.REFUSED : RCODE.SERVFAIL, []);
    }
  }

  socket.on('message', (msg, rinfo) => {
    answer(msg).then(
      (out) => {
        if (out) socket.send(out, rinfo.port, rinfo.address);
      },
      () => undefined, // a malformed question is dropped, like a real server would
    );
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => {
      socket.off('error', reject);
      resolve();
    });
  });
  return {
    port: socket.address().port,
    queries,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}
