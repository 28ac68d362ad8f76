// NetworkTransport over TCP on real sockets: framing, responses on the request's connection, reuse, limits, junk, slowloris, keep-alives, timeouts, IPv6.
import { describe, expect, it } from 'vitest';
import { createResponse } from '../../../firmware/sip/message/build.js';
import { VirtualClock } from '../../../firmware/util/clock.js';
import { asRequest, closedTcpPort, codeOf, collect, harness, nextEvent, parseResponse, requestFrom, requestText, sendError, sleep } from './helpers.js';

const h = harness();

function tcpListener(address = '127.0.0.1'): { protocol: 'tcp'; address: string; port: number } {
  return { protocol: 'tcp', address, port: 0 };
}

describe('NetworkTransport over TCP', () => {
  it('frames messages split across chunks and several messages in one chunk', async () => {
    const b = await h.transport({ listen: [tcpListener()] });
    const messages = collect(b, 'message');
    const peer = await h.tcpPeer(b.localAddress('tcp')!.port);
    const via = (n: number): string => `SIP/2.0/TCP 127.0.0.1:${peer.socket.localPort};branch=z9hG4bK-${n}`;
    const m1 = requestText({ method: 'MESSAGE', via: via(1), callId: 'm1', body: 'first body' });
    const m2 = requestText({ method: 'MESSAGE', via: via(2), callId: 'm2', body: 'second\r\n\r\nbody with a blank line' });
    const m3 = requestText({ via: via(3), callId: 'm3' });
    const m4 = requestText({ method: 'MESSAGE', via: via(4), callId: 'm4', body: 'é'.repeat(10) });
    // m1 byte by byte in small pieces (header/body boundary included), then m2 + m3 + half of m4, then the rest.
    for (let i = 0; i < m1.length; i += 7) {
      await peer.write(m1.slice(i, i + 7));
      if (i % 70 === 0) await sleep(1);
    }
    const m4bytes = Buffer.from(m4);
    await peer.write(Buffer.concat([Buffer.from(m2 + m3), m4bytes.subarray(0, 100)]));
    await sleep(20);
    await peer.write(m4bytes.subarray(100));
    await expect.poll(() => messages.length).toBe(4);
    expect(messages.map((m) => m.message.callId)).toEqual(['m1', 'm2', 'm3', 'm4']);
    expect(messages[0]!.message.bodyText).toBe('first body');
    expect(messages[1]!.message.bodyText).toBe('second\r\n\r\nbody with a blank line');
    expect(messages[3]!.message.bodyText).toBe('é'.repeat(10));
    expect(new Set(messages.map((m) => m.connectionId)).size).toBe(1);
    // received is added for a TCP source too (RFC 3261 §18.2.1 applies to every transport).
    expect(messages[0]!.message.topVia.received).toBeUndefined();
  });

  it("sends responses back on the request's connection (RFC 3261 §18.2.2)", async () => {
    const b = await h.transport({ listen: [tcpListener()] });
    const peer = await h.tcpPeer(b.localAddress('tcp')!.port);
    const arrived = nextEvent(b, 'message');
    await peer.write(requestText({ via: 'SIP/2.0/TCP client.invalid:5060;branch=z9hG4bK-r' }));
    const inbound = await arrived;
    expect(inbound.message.topVia.received).toBe('127.0.0.1');
    expect(inbound.source.port).toBe(peer.socket.localPort);
    const res = createResponse(asRequest(inbound.message), { status: 200, toTag: 't' });
    // The target names the client's listening port, which nobody listens on: only the connection works.
    const sent = await b.send(res, { protocol: 'tcp', address: '127.0.0.1', port: 5060, connectionId: inbound.connectionId });
    expect(sent).toMatchObject({ ok: true, connectionId: inbound.connectionId });
    const text = await peer.until((t) => t.includes('\r\n\r\n'));
    expect(parseResponse(text).status).toBe(200);
    expect(b.connections()).toHaveLength(1);
    expect(b.connections()[0]).toMatchObject({ opener: 'remote', protocol: 'tcp' });
  });

  it('reuses an outgoing connection for later requests to the same target', async () => {
    const a = await h.transport({ listen: [tcpListener()] });
    const b = await h.transport({ listen: [tcpListener()] });
    const target = { protocol: 'tcp' as const, address: '127.0.0.1', port: b.localAddress('tcp')!.port };
    const messages = collect(b, 'message');
    // Two sends at once share one connect.
    const [r1, r2] = await Promise.all([a.send(requestFrom(a, 'tcp', { branch: 'z9hG4bK-1' }), target), a.send(requestFrom(a, 'tcp', { branch: 'z9hG4bK-2' }), target)]);
    const r3 = await a.send(requestFrom(a, 'tcp', { branch: 'z9hG4bK-3' }), target);
    expect(r1.ok && r2.ok && r3.ok).toBe(true);
    const ids = [r1, r2, r3].map((r) => (r.ok ? r.connectionId : undefined));
    expect(new Set(ids).size).toBe(1);
    await expect.poll(() => messages.length).toBe(3);
    expect(a.connections()).toHaveLength(1);
    expect(b.connections()).toHaveLength(1);

    // B's response to A goes on the same connection, and A accepts it.
    const back = nextEvent(a, 'message');
    const m = messages[0]!;
    expect(await b.send(createResponse(asRequest(m.message), { status: 200, toTag: 'x' }), { ...m.source, connectionId: m.connectionId })).toMatchObject({ ok: true });
    expect((await back).connectionId).toBe(ids[0]);

    // When the connection is gone, the next request opens a new one.
    const closed = nextEvent(a, 'connection-closed');
    b.connections();
    await b.close();
    expect((await closed).connectionId).toBe(ids[0]);
  });

  it('answers 513 to a message over 64 KiB whose header section was read, then closes the connection', async () => {
    const b = await h.transport({ listen: [tcpListener()] });
    const port = b.localAddress('tcp')!.port;
    const bad = nextEvent(b, 'bad-request');
    const closed = nextEvent(b, 'connection-closed');
    const peer = await h.tcpPeer(port);
    await peer.write(requestText({ method: 'MESSAGE', via: 'SIP/2.0/TCP 127.0.0.1;branch=z9hG4bK-big', contentLength: 70_000 }));
    await peer.write('x'.repeat(10_000));
    const text = await peer.until((t) => t.includes('\r\n\r\n'));
    expect(parseResponse(text).status).toBe(513);
    expect((await bad).answeredStatus).toBe(513);
    expect(codeOf((await closed).error)).toBe('framing-lost');
    await peer.waitClosed();

    // A header section that never ends within the limit: no answer, the connection closes.
    const peer2 = await h.tcpPeer(port);
    await peer2.write(`OPTIONS sip:x SIP/2.0\r\nX-Junk: ${'j'.repeat(70_000)}`);
    await peer2.waitClosed();
    expect(peer2.text).toBe('');

    // The transport still works.
    const good = nextEvent(b, 'message');
    const peer3 = await h.tcpPeer(port);
    await peer3.write(requestText({ via: 'SIP/2.0/TCP 127.0.0.1;branch=z9hG4bK-ok', callId: 'after' }));
    expect((await good).message.callId).toBe('after');
  });

  it('accepts a message of exactly maxStreamMessageBytes', async () => {
    const b = await h.transport({ listen: [tcpListener()], maxStreamMessageBytes: 4096 });
    const peer = await h.tcpPeer(b.localAddress('tcp')!.port);
    const build = (n: number): string => requestText({ method: 'MESSAGE', via: 'SIP/2.0/TCP 127.0.0.1;branch=z9hG4bK-e', body: 'b'.repeat(n) });
    // The Content-Length digits depend on the body length: two rounds settle it.
    let bodyLength = 1000;
    for (let i = 0; i < 2; i++) bodyLength += 4096 - Buffer.byteLength(build(bodyLength));
    const text = build(bodyLength);
    expect(Buffer.byteLength(text)).toBe(4096);
    const got = nextEvent(b, 'message');
    await peer.write(text);
    expect((await got).message.body.length).toBe(bodyLength);
  });

  it('answers 400 to a request without Content-Length on a stream and closes (RFC 3261 §18.3)', async () => {
    const b = await h.transport({ listen: [tcpListener()] });
    const peer = await h.tcpPeer(b.localAddress('tcp')!.port);
    await peer.write(requestText({ via: 'SIP/2.0/TCP 127.0.0.1;branch=z9hG4bK-ncl', noContentLength: true }));
    const res = parseResponse(await peer.until((t) => t.includes('\r\n\r\n')));
    expect(res.status).toBe(400);
    await peer.waitClosed();
  });

  it('survives binary junk, malformed messages and a stalled half message; other connections keep working', async () => {
    const clock = new VirtualClock();
    const b = await h.transport({ listen: [tcpListener()], clock, incompleteMessageTimeoutMs: 30_000 });
    const port = b.localAddress('tcp')!.port;
    const messages = collect(b, 'message');
    const closedEvents = collect(b, 'connection-closed');

    const junk = Buffer.alloc(3000);
    for (let i = 0; i < junk.length; i++) junk[i] = (i * 31 + 7) & 0xff;
    const junkPeer = await h.tcpPeer(port);
    await junkPeer.write(junk);

    // A response that does not parse, with a correct Content-Length: dropped, the stream stays framed.
    const malformed = await h.tcpPeer(port);
    await malformed.write('SIP/2.0 200 OK\r\nVia: garbage\r\nContent-Length: 0\r\n\r\n');
    await malformed.write(requestText({ via: 'SIP/2.0/TCP 127.0.0.1;branch=z9hG4bK-after-bad', callId: 'after-bad' }));

    // Slowloris: half a message, then nothing.
    const slow = await h.tcpPeer(port);
    const half = requestText({ method: 'MESSAGE', via: 'SIP/2.0/TCP 127.0.0.1;branch=z9hG4bK-slow', body: 'z'.repeat(200) });
    await slow.write(half.slice(0, half.length - 100));

    const good = await h.tcpPeer(port);
    await good.write(requestText({ via: 'SIP/2.0/TCP 127.0.0.1;branch=z9hG4bK-good', callId: 'good' }));
    await expect.poll(() => messages.map((m) => m.message.callId).sort()).toEqual(['after-bad', 'good']);

    // The stalled message times out; the junk (no header section end) too.
    await clock.advance(30_000);
    await slow.waitClosed();
    await junkPeer.waitClosed();
    await expect.poll(() => closedEvents.map((e) => codeOf(e.error))).toContain('incomplete-message');
    expect(good.closed).toBe(false);
  });

  it('answers a CRLFCRLF ping with a CRLF pong (RFC 5626 §3.5.1)', async () => {
    const b = await h.transport({ listen: [tcpListener()] });
    const peer = await h.tcpPeer(b.localAddress('tcp')!.port);
    await peer.write('\r\n\r\n');
    await peer.until((t) => t === '\r\n');
    // Pings between messages do not disturb framing.
    const got = nextEvent(b, 'message');
    await peer.write(`\r\n\r\n${requestText({ via: 'SIP/2.0/TCP 127.0.0.1;branch=z9hG4bK-p', callId: 'after-ping' })}`);
    expect((await got).message.callId).toBe('after-ping');
    await peer.until((t) => t === '\r\n\r\n');
  });

  it('sends keep-alive pings and closes the flow when the pong is missing (RFC 5626 §4.4.1)', async () => {
    const clock = new VirtualClock();
    const silent = await h.silentTcpServer();
    const a = await h.transport({ listen: [tcpListener()], clock, streamKeepAlive: { intervalMs: 30_000, pongTimeoutMs: 10_000 } });
    const sent = await a.send(requestFrom(a, 'tcp'), { protocol: 'tcp', address: '127.0.0.1', port: silent.port });
    expect(sent.ok).toBe(true);
    const closed = nextEvent(a, 'connection-closed');
    await clock.advance(30_000);
    await expect.poll(() => silent.peers[0]?.text.endsWith('\r\n\r\n')).toBe(true);
    await clock.advance(10_000);
    const ev = await closed;
    expect(codeOf(ev.error)).toBe('keepalive-timeout');

    // Against a peer that answers, the flow stays up.
    const b = await h.transport({ listen: [tcpListener()] });
    const target = { protocol: 'tcp' as const, address: '127.0.0.1', port: b.localAddress('tcp')!.port };
    expect((await a.send(requestFrom(a, 'tcp'), target)).ok).toBe(true);
    const closedB = collect(a, 'connection-closed');
    for (let i = 0; i < 3; i++) {
      // The ping goes at the end of each step; B's pong arrives during the real-time sleep.
      await clock.advance(30_000);
      await sleep(30);
    }
    expect(closedB.map((e) => e.error?.message)).toEqual([]);
    expect(a.connections()).toHaveLength(1);
  });

  it('pings an existing flow with startKeepAlive()', async () => {
    const clock = new VirtualClock();
    const silent = await h.silentTcpServer();
    const a = await h.transport({ listen: [tcpListener()], clock });
    const target = { protocol: 'tcp' as const, address: '127.0.0.1', port: silent.port };
    expect((await a.send(requestFrom(a, 'tcp'), target)).ok).toBe(true);
    const stop = a.startKeepAlive(target, { intervalMs: 20_000, pongTimeoutMs: 5_000 });
    await sleep(10);
    await clock.advance(20_000);
    await expect.poll(() => silent.peers[0]?.text.endsWith('\r\n\r\n')).toBe(true);
    // A pong from the peer in time keeps it open.
    await silent.peers[0]!.write('\r\n');
    await sleep(30);
    await clock.advance(5_000);
    expect(a.connections()).toHaveLength(1);
    stop();
    await clock.advance(60_000);
    expect(a.connections()).toHaveLength(1);
  });

  it('closes idle connections after idleTimeoutMs', async () => {
    const clock = new VirtualClock();
    const a = await h.transport({ listen: [tcpListener()], clock, idleTimeoutMs: 60_000 });
    const b = await h.transport({ listen: [tcpListener()] });
    const sent = await a.send(requestFrom(a, 'tcp'), { protocol: 'tcp', address: '127.0.0.1', port: b.localAddress('tcp')!.port });
    expect(sent.ok).toBe(true);
    const closed = nextEvent(a, 'connection-closed');
    await clock.advance(59_000);
    expect(a.connections()).toHaveLength(1);
    await clock.advance(1_000);
    expect(codeOf((await closed).error)).toBe('idle-timeout');
    await expect.poll(() => b.connections().length).toBe(0);
  });

  it('reports refused and timed-out connects as results', async () => {
    const a = await h.transport({ listen: [tcpListener()], connectTimeoutMs: 300 });
    const refused = await a.send(requestFrom(a, 'tcp'), { protocol: 'tcp', address: '127.0.0.1', port: await closedTcpPort() });
    expect(sendError(refused)).toMatchObject({ code: 'connect-failed', systemCode: 'ECONNREFUSED' });
    // 192.0.2.1 (TEST-NET-1) is not routed: the connect hangs (or fails at once where there is no route).
    const timedOut = await a.send(requestFrom(a, 'tcp'), { protocol: 'tcp', address: '192.0.2.1', port: 5060 });
    expect(['connect-timeout', 'connect-failed']).toContain(sendError(timedOut).code);
  });

  it('works over IPv6', async () => {
    const a = await h.transport({ listen: [tcpListener('::1')] });
    const b = await h.transport({ listen: [tcpListener('::1')] });
    const arrived = nextEvent(b, 'message');
    const sent = await a.send(requestFrom(a, 'tcp', { family: 6 }), { protocol: 'tcp', address: '::1', port: b.localAddress('tcp', 6)!.port });
    expect(sent).toMatchObject({ ok: true, protocol: 'tcp' });
    const inbound = await arrived;
    expect(inbound.source.address).toBe('::1');
    expect(inbound.message.topVia.host).toBe('[::1]');
    // The request asked for rport, so received is there even though it equals the host (RFC 3581 §4).
    expect(inbound.message.topVia.received).toBe('::1');
    expect(inbound.message.topVia.rport).toBe(inbound.source.port);
    const back = nextEvent(a, 'message');
    await b.send(createResponse(asRequest(inbound.message), { status: 200, toTag: 'v6' }), { ...inbound.source, connectionId: inbound.connectionId });
    expect((await back).message.kind).toBe('response');
  });

  it('does not let a throwing listener break the connection', async () => {
    const b = await h.transport({ listen: [tcpListener()] });
    let calls = 0;
    b.on('message', () => {
      calls++;
      throw new Error('listener bug');
    });
    const peer = await h.tcpPeer(b.localAddress('tcp')!.port);
    await peer.write(requestText({ via: 'SIP/2.0/TCP 127.0.0.1;branch=z9hG4bK-1', callId: 'x1' }));
    await peer.write(requestText({ via: 'SIP/2.0/TCP 127.0.0.1;branch=z9hG4bK-2', callId: 'x2' }));
    await expect.poll(() => calls).toBe(2);
    expect(peer.closed).toBe(false);
  });
});
