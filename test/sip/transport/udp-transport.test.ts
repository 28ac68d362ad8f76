// NetworkTransport over UDP on real sockets: round trips on IPv4 and IPv6, received/rport, sent-by checks, junk, stateless 400/513, the switch to TCP.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createResponse } from '../../../firmware/sip/message/build.js';
import { TransactionLayer } from '../../../firmware/sip/transaction/transaction-layer.js';
import { RealClock } from '../../../firmware/util/clock.js';
import { asRequest, closedTcpPort, collect, harness, nextEvent, parseRequest, parseResponse, requestFrom, requestText, sendError, sleep } from './helpers.js';

const h = harness();

function v6only(): boolean {
  try {
    return readFileSync('/proc/sys/net/ipv6/bindv6only', 'utf8').trim() === '1';
  } catch {
    return false;
  }
}

describe('NetworkTransport over UDP', () => {
  for (const address of ['127.0.0.1', '::1']) {
    it(`carries a request and its response (${address})`, async () => {
      const a = await h.transport({ listen: [{ protocol: 'udp', address, port: 0 }] });
      const b = await h.transport({ listen: [{ protocol: 'udp', address, port: 0 }] });
      const bAddr = b.localAddress('udp')!;
      expect(bAddr.address).toBe(address);
      const family = address.includes(':') ? 6 : 4;
      const req = requestFrom(a, 'udp', { family });
      const arrived = nextEvent(b, 'message');
      const sent = await a.send(req, { protocol: 'udp', address, port: bAddr.port });
      expect(sent).toMatchObject({ ok: true, protocol: 'udp' });
      const inbound = await arrived;
      expect(inbound.message.kind).toBe('request');
      expect(inbound.source).toEqual({ protocol: 'udp', address, port: a.localAddress('udp')!.port });
      expect(inbound.local.port).toBe(bAddr.port);
      expect(inbound.connectionId).toBeUndefined();

      // The response goes back to the source (rport), and A accepts it: the sent-by is its own.
      const res = createResponse(asRequest(inbound.message), { status: 200, toTag: 'b1' });
      const back = nextEvent(a, 'message');
      expect(await b.send(res, { protocol: 'udp', address: inbound.source.address, port: inbound.source.port })).toMatchObject({ ok: true });
      const got = await back;
      expect(got.message.kind === 'response' && got.message.status).toBe(200);
      expect(got.message.topVia.rport).toBe(a.localAddress('udp')!.port);
    });
  }

  // Linux binds "::" dual-stack unless net.ipv6.bindv6only is set.
  it.skipIf(v6only())('serves IPv4 peers from a dual-stack "::" socket, with plain IPv4 addresses', async () => {
    const b = await h.transport({ listen: [{ protocol: 'udp', address: '::', port: 0 }] });
    const local = b.localAddress('udp')!;
    // A wildcard bind advertises an interface address, never "::".
    expect(local.address).not.toBe('::');
    const peer = await h.udpPeer('127.0.0.1');
    const arrived = nextEvent(b, 'message');
    await peer.send(requestText({ via: `SIP/2.0/UDP 127.0.0.1:${peer.port};branch=z9hG4bK-ds;rport` }), local.port, '127.0.0.1');
    const inbound = await arrived;
    expect(inbound.source).toEqual({ protocol: 'udp', address: '127.0.0.1', port: peer.port });
    expect(inbound.message.topVia.received).toBe('127.0.0.1');
    const res = createResponse(asRequest(inbound.message), { status: 200, toTag: 'ds' });
    expect(await b.send(res, { protocol: 'udp', address: '127.0.0.1', port: peer.port })).toMatchObject({ ok: true, protocol: 'udp' });
    expect(parseResponse(await peer.datagram()).status).toBe(200);
  });

  it('adds received and fills rport (RFC 3261 §18.2.1, RFC 3581 §4)', async () => {
    const b = await h.transport({ listen: [{ protocol: 'udp', address: '127.0.0.1', port: 0 }] });
    const port = b.localAddress('udp')!.port;
    const peer = await h.udpPeer();
    const messages = collect(b, 'message');

    // Another address than the source, rport asked for.
    await peer.send(requestText({ via: 'SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-a;rport', callId: 'c1' }), port);
    // A host name.
    await peer.send(requestText({ via: 'SIP/2.0/UDP phone.example.test;branch=z9hG4bK-b', callId: 'c2' }), port);
    // The source address itself, no rport: left alone.
    await peer.send(requestText({ via: `SIP/2.0/UDP 127.0.0.1:${peer.port};branch=z9hG4bK-c`, callId: 'c3' }), port);
    // The source address, rport asked for: received is added anyway (RFC 3581 §4).
    await peer.send(requestText({ via: `SIP/2.0/UDP 127.0.0.1:${peer.port};rport;branch=z9hG4bK-d`, callId: 'c4' }), port);
    await expect.poll(() => messages.length).toBe(4);
    const byCallId = new Map(messages.map((m) => [m.message.callId, m.message.topVia]));
    expect(byCallId.get('c1')?.received).toBe('127.0.0.1');
    expect(byCallId.get('c1')?.rport).toBe(peer.port);
    expect(byCallId.get('c1')?.branch).toBe('z9hG4bK-a');
    expect(byCallId.get('c2')?.received).toBe('127.0.0.1');
    expect(byCallId.get('c2')?.rport).toBeUndefined();
    expect(byCallId.get('c3')?.received).toBeUndefined();
    expect(byCallId.get('c4')?.received).toBe('127.0.0.1');
    expect(byCallId.get('c4')?.rport).toBe(peer.port);
  });

  it('keeps the other Via values when it edits the top one', async () => {
    const b = await h.transport({ listen: [{ protocol: 'udp', address: '127.0.0.1', port: 0 }] });
    const peer = await h.udpPeer();
    const arrived = nextEvent(b, 'message');
    const text = requestText({ via: 'SIP/2.0/UDP 192.0.2.1;rport;branch=z9hG4bK-top, SIP/2.0/TCP 192.0.2.2;branch=z9hG4bK-2', extra: ['Via: SIP/2.0/UDP 192.0.2.3;branch=z9hG4bK-3'] });
    await peer.send(text, b.localAddress('udp')!.port);
    const m = (await arrived).message;
    expect(m.via.map((v) => v.branch)).toEqual(['z9hG4bK-top', 'z9hG4bK-2', 'z9hG4bK-3']);
    expect(m.getAll('Via')[1]).toBe('SIP/2.0/UDP 192.0.2.3;branch=z9hG4bK-3');
  });

  it('drops responses whose top Via is not its own (RFC 3261 §18.1.2)', async () => {
    const b = await h.transport({ listen: [{ protocol: 'udp', address: '127.0.0.1', port: 0 }], sentByAliases: ['pbx-phone.example.test'] });
    const port = b.localAddress('udp')!.port;
    const peer = await h.udpPeer();
    const messages = collect(b, 'message');
    const response = (via: string, callId: string): string =>
      `SIP/2.0 200 OK\r\nVia: ${via}\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:b@x>;tag=2\r\nCall-ID: ${callId}\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n`;
    await peer.send(response('SIP/2.0/UDP 192.0.2.99:5060;branch=z9hG4bK-x', 'foreign'), port);
    await peer.send(response(`SIP/2.0/UDP 127.0.0.1:${port + 1 === 65536 ? 1 : port + 1};branch=z9hG4bK-x`, 'other-port'), port);
    await peer.send(response(`SIP/2.0/UDP 127.0.0.1:${port};branch=z9hG4bK-x`, 'ours'), port);
    await peer.send(response('SIP/2.0/UDP pbx-phone.example.test:5088;branch=z9hG4bK-x', 'alias'), port);
    await expect.poll(() => messages.length).toBe(2);
    await sleep(50);
    expect(messages.map((m) => m.message.callId)).toEqual(['ours', 'alias']);
  });

  it('survives garbage, binary junk, truncated messages and keep-alives, and delivers the next good message', async () => {
    const b = await h.transport({ listen: [{ protocol: 'udp', address: '127.0.0.1', port: 0 }] });
    const port = b.localAddress('udp')!.port;
    const peer = await h.udpPeer();
    const messages = collect(b, 'message');
    const bad = collect(b, 'bad-request');
    const junk = Buffer.alloc(1500);
    for (let i = 0; i < junk.length; i++) junk[i] = (i * 7919 + 13) & 0xff;
    await peer.send(junk, port);
    await peer.send('hello\r\n\r\n', port);
    await peer.send('\r\n\r\n', port);
    await peer.send(Buffer.from([0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42, ...new Array<number>(12).fill(0)]), port); // STUN
    await peer.send(requestText({ via: 'SIP/2.0/UDP 127.0.0.1;branch=z9hG4bK-t' }).slice(0, 90), port); // truncated
    await peer.send('SIP/2.0 200 OK\r\nVia: nonsense\r\n\r\n', port); // malformed response
    await peer.send(Buffer.from('INVITE \u0000\u00ff\u00fe sip:x SIP/2.0\r\n\r\n', 'latin1'), port);
    await peer.send(requestText({ via: `SIP/2.0/UDP 127.0.0.1:${peer.port};branch=z9hG4bK-good`, callId: 'good' }), port);
    await expect.poll(() => messages.length).toBe(1);
    expect(messages[0]!.message.callId).toBe('good');
    // The junk and the truncated request were reported (none could be answered).
    expect(bad.length).toBeGreaterThanOrEqual(1);
    expect(bad.every((e) => e.answeredStatus === undefined)).toBe(true);
    expect(peer.received).toHaveLength(0);
  });

  it('answers an unparsable request with 400 when Via, From, To, Call-ID and CSeq can be read', async () => {
    const b = await h.transport({ listen: [{ protocol: 'udp', address: '127.0.0.1', port: 0 }] });
    const peer = await h.udpPeer();
    const bad = nextEvent(b, 'bad-request');
    const text = requestText({ method: 'INVITE', via: 'SIP/2.0/UDP 192.0.2.7:5070;rport;branch=z9hG4bK-bad', extra: ['This line has no colon'] });
    await peer.send(text, b.localAddress('udp')!.port);
    const res = parseResponse(await peer.datagram());
    expect(res.status).toBe(400);
    expect(res.reason).toMatch(/^Bad Request - /);
    expect(res.callId).toBe('call-1@test');
    expect(res.cseq.method).toBe('INVITE');
    expect(res.to.tag).toBeTruthy();
    expect(res.topVia.received).toBe('127.0.0.1');
    expect(res.topVia.rport).toBe(peer.port);
    const ev = await bad;
    expect(ev.answeredStatus).toBe(400);
    expect(ev.error.name).toBe('SipParseError');
    expect(ev.preview).toMatch(/^INVITE sip:bob@example.test/);

    // The same request again gets the same To tag (stateless, RFC 3261 §8.2.6.2).
    await peer.send(text, b.localAddress('udp')!.port);
    expect(parseResponse(await peer.datagram(2)).to.tag).toBe(res.to.tag);
  });

  it('never answers an unparsable ACK, nor a request without a usable Via', async () => {
    const b = await h.transport({ listen: [{ protocol: 'udp', address: '127.0.0.1', port: 0 }] });
    const peer = await h.udpPeer();
    const bad = collect(b, 'bad-request');
    const port = b.localAddress('udp')!.port;
    await peer.send(requestText({ method: 'ACK', via: `SIP/2.0/UDP 127.0.0.1:${peer.port};branch=z9hG4bK-ack`, extra: ['No colon here'] }), port);
    await peer.send(requestText({ via: 'SIP/2.0/UDP', extra: ['No colon here'] }), port);
    // Parses, but its Via is malformed: the transport cannot add received, nor answer.
    await peer.send(requestText({ via: 'SIP/2.0/UDP ;;;' }), port);
    await expect.poll(() => bad.length).toBe(3);
    expect(bad.map((e) => e.answeredStatus)).toEqual([undefined, undefined, undefined]);
    await sleep(50);
    expect(peer.received).toHaveLength(0);
  });

  it('answers 513 to a datagram over maxDatagramBytes', async () => {
    const b = await h.transport({ listen: [{ protocol: 'udp', address: '127.0.0.1', port: 0 }], maxDatagramBytes: 2000 });
    const peer = await h.udpPeer();
    const messages = collect(b, 'message');
    await peer.send(requestText({ method: 'MESSAGE', via: `SIP/2.0/UDP 127.0.0.1:${peer.port};branch=z9hG4bK-big`, body: 'x'.repeat(3000) }), b.localAddress('udp')!.port);
    const res = parseResponse(await peer.datagram());
    expect(res.status).toBe(513);
    expect(res.reason).toBe('Message Too Large');
    expect(messages).toHaveLength(0);
  });

  it('moves a request over 1300 bytes to TCP and rewrites its Via (RFC 3261 §18.1.1)', async () => {
    const a = await h.udpTcpTransport('127.0.0.1');
    const b = await h.udpTcpTransport('127.0.0.1');
    const bPort = b.localAddress('udp')!.port;
    const big = requestFrom(a, 'udp', { method: 'INVITE', body: 'v=0\r\n' + 'a=x\r\n'.repeat(400), branch: 'z9hG4bK-big', extra: ['Content-Type: application/sdp'] });
    const arrived = nextEvent(b, 'message');
    const sent = await a.send(big, { protocol: 'udp', address: '127.0.0.1', port: bPort });
    expect(sent).toMatchObject({ ok: true, protocol: 'tcp' });
    const inbound = await arrived;
    expect(inbound.connectionId).toMatch(/^tcp-/);
    expect(inbound.message.topVia.transport).toBe('TCP');
    expect(inbound.message.topVia.port).toBe(a.localAddress('tcp')!.port);
    expect(inbound.message.topVia.branch).toBe('z9hG4bK-big');
    // The caller's message is not changed.
    expect(big.topVia.transport).toBe('UDP');

    // The response comes back on the connection and is accepted (the TCP sent-by is A's).
    const back = nextEvent(a, 'message');
    const res = createResponse(asRequest(inbound.message), { status: 180, toTag: 'b1' });
    expect(await b.send(res, { ...inbound.source, connectionId: inbound.connectionId })).toMatchObject({ ok: true, protocol: 'tcp', connectionId: inbound.connectionId });
    expect((await back).message.kind).toBe('response');

    // A CANCEL of that INVITE follows it to TCP although it is small (RFC 3261 §9.1).
    const cancel = requestFrom(a, 'udp', { method: 'CANCEL', branch: 'z9hG4bK-big' });
    const cancelled = nextEvent(b, 'message');
    expect(await a.send(cancel, { protocol: 'udp', address: '127.0.0.1', port: bPort })).toMatchObject({ ok: true, protocol: 'tcp' });
    expect((await cancelled).message.topVia.transport).toBe('TCP');

    // A small request goes over UDP.
    const small = nextEvent(b, 'message');
    expect(await a.send(requestFrom(a, 'udp', { branch: 'z9hG4bK-small' }), { protocol: 'udp', address: '127.0.0.1', port: bPort })).toMatchObject({ ok: true, protocol: 'udp' });
    expect((await small).connectionId).toBeUndefined();
  });

  it('a transaction sent over UDP and moved to TCP gets its responses (RFC 3261 §18.1.1, §18.1.2)', async () => {
    // UDP and TCP on different ports (ephemeral listeners): the moved Via names another sent-by.
    const a = await h.transport({ listen: [{ protocol: 'udp', address: '127.0.0.1', port: 0 }, { protocol: 'tcp', address: '127.0.0.1', port: 0 }] });
    expect(a.localAddress('tcp')!.port).not.toBe(a.localAddress('udp')!.port);
    const b = await h.udpTcpTransport('127.0.0.1');
    const layer = new TransactionLayer({ transport: a, clock: new RealClock(), validation: false });
    try {
      const big = requestFrom(a, 'udp', { method: 'INVITE', body: 'v=0\r\n' + 'a=x\r\n'.repeat(400), branch: 'z9hG4bK-moved', extra: ['Content-Type: application/sdp'] });
      const arrived = nextEvent(b, 'message');
      const final = new Promise<number>((resolve) => {
        layer.sendInvite(big, { protocol: 'udp', address: '127.0.0.1', port: b.localAddress('udp')!.port }, { onFinal: (r) => resolve(r.status), onTimeout: () => resolve(-1) });
      });
      const inbound = await arrived;
      expect(inbound.message.topVia.transport).toBe('TCP');
      const res = createResponse(asRequest(inbound.message), { status: 486, toTag: 'b1' });
      await b.send(res, { ...inbound.source, connectionId: inbound.connectionId });
      expect(await final).toBe(486);
    } finally {
      layer.close();
    }
  });

  it('falls back to UDP when TCP cannot connect and the request fits a datagram', async () => {
    const a = await h.transport({ listen: [{ protocol: 'udp', address: '127.0.0.1', port: 0 }] });
    const peer = await h.udpPeer();
    const big = requestFrom(a, 'udp', { method: 'MESSAGE', body: 'y'.repeat(2000) });
    const sent = await a.send(big, { protocol: 'udp', address: '127.0.0.1', port: peer.port });
    expect(sent).toMatchObject({ ok: true, protocol: 'udp' });
    const got = parseRequest((await peer.datagram()).toString('utf8'));
    expect(got.topVia.transport).toBe('UDP');
    expect(got.body.length).toBe(2000);

    // Too large for a datagram and no TCP: a transport error, not a throw.
    const port = await closedTcpPort();
    const huge = requestFrom(a, 'udp', { method: 'MESSAGE', body: 'z'.repeat(70_000) });
    const failed = await a.send(huge, { protocol: 'udp', address: '127.0.0.1', port });
    expect(sendError(failed).code).toBe('connect-failed');
  });

  it('sends CRLF keep-alives over UDP on request and periodically', async () => {
    const { VirtualClock } = await import('../../../firmware/util/clock.js');
    const clock = new VirtualClock();
    const a = await h.transport({ listen: [{ protocol: 'udp', address: '127.0.0.1', port: 0 }], clock });
    const peer = await h.udpPeer();
    const target = { protocol: 'udp' as const, address: '127.0.0.1', port: peer.port };
    expect(await a.sendKeepAlive(target)).toMatchObject({ ok: true });
    expect((await peer.datagram(1)).toString()).toBe('\r\n\r\n');
    const stop = a.startKeepAlive(target, { intervalMs: 25_000 });
    await clock.advance(25_000);
    await peer.datagram(2);
    await clock.advance(25_000);
    await peer.datagram(3);
    stop();
    await clock.advance(50_000);
    await sleep(30);
    expect(peer.received).toHaveLength(3);
  });

  it('reports sends that cannot happen as results, never as throws', async () => {
    const a = await h.transport({ listen: [{ protocol: 'udp', address: '127.0.0.1', port: 0 }] });
    const req = requestFrom(a, 'udp');
    const byName = await a.send(req, { protocol: 'udp', address: 'example.test', port: 5060 });
    expect(sendError(byName).code).toBe('bad-target');
    const v6 = await a.send(req, { protocol: 'udp', address: '::1', port: 5060 });
    expect(sendError(v6).code).toBe('no-listener');
    await a.close();
    const closed = await a.send(req, { protocol: 'udp', address: '127.0.0.1', port: 5060 });
    expect(sendError(closed).code).toBe('not-running');
  });
});
