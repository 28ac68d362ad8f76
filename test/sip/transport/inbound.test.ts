// Unit tests of the transport's pure helpers: IP address forms, sent-by keys, received/rport, salvaging unparsable requests, the Via rewrite.
import { describe, expect, it } from 'vitest';
import { SipParseError } from '../../../firmware/sip/message/errors.js';
import { errorResponseFor, isKeepAlive, isStun, looksLikeResponse, markReceived, salvageRequest, sentByKey, udpResponseTarget, withTopViaTransport } from '../../../firmware/sip/transport/inbound.js';
import { connectionKey } from '../../../firmware/sip/transport/connection-table.js';
import { ipBytes, ipEquals, ipFamily, normalizeAddress } from '../../../firmware/sip/transport/ip-address.js';
import { parseRequest, requestText } from './helpers.js';

describe('IP address helpers', () => {
  it('parses IPv4, IPv6 in every text form, and IPv4-mapped addresses', () => {
    expect(ipBytes('192.0.2.1')?.toString('hex')).toBe('c0000201');
    expect(ipBytes('::1')?.toString('hex')).toBe('00000000000000000000000000000001');
    expect(ipBytes('[2001:db8::1]')?.toString('hex')).toBe('20010db8000000000000000000000001');
    expect(ipBytes('2001:db8:0:0:1::')?.toString('hex')).toBe('20010db8000000000001000000000000');
    expect(ipBytes('64:ff9b::192.0.2.33')?.toString('hex')).toBe('0064ff9b0000000000000000c0000221');
    expect(ipBytes('::ffff:10.0.0.1')?.toString('hex')).toBe('0a000001');
    expect(ipBytes('fe80::1%eth0')?.toString('hex')).toBe('fe800000000000000000000000000001');
    expect(ipBytes('example.test')).toBeUndefined();
    expect(ipEquals('::1', '[0:0:0:0:0:0:0:1]')).toBe(true);
    expect(ipEquals('::ffff:127.0.0.1', '127.0.0.1')).toBe(true);
    expect(ipEquals('127.0.0.1', '127.0.0.2')).toBe(false);
    expect(normalizeAddress('::FFFF:192.0.2.9')).toBe('192.0.2.9');
    expect([ipFamily('[::1]'), ipFamily('10.1.2.3'), ipFamily('pbx.test')]).toEqual([6, 4, 0]);
  });

  it('keys connections and sent-by values in canonical form', () => {
    expect(sentByKey('[::1]', undefined, 'UDP')).toBe(sentByKey('0:0::1', 5060, 'TCP'));
    expect(sentByKey('PBX.test', undefined, 'TLS')).toBe('pbx.test:5061');
    expect(connectionKey({ protocol: 'tls', address: '::1', port: 5061, serverName: 'A.test' })).toBe(connectionKey({ protocol: 'tls', address: '[0::1]', port: 5061, serverName: 'a.test' }));
    expect(connectionKey({ protocol: 'tcp', address: '::1', port: 5060, serverName: 'a.test' })).toBe(connectionKey({ protocol: 'tcp', address: '::1', port: 5060 }));
  });
});

describe('received and rport', () => {
  const source = { protocol: 'udp' as const, address: '198.51.100.7', port: 40123 };

  it('compares the sent-by host as an address, not as text', () => {
    const req = parseRequest(requestText({ via: 'SIP/2.0/UDP [0:0:0:0:0:0:0:1]:5060;branch=z9hG4bK-6' }));
    markReceived(req, { protocol: 'udp', address: '::1', port: 5060 });
    expect(req.topVia.received).toBeUndefined();
  });

  it('fills rport and received, and the response goes to the source port', () => {
    const req = parseRequest(requestText({ via: 'SIP/2.0/UDP 10.0.0.2:5060;rport;branch=z9hG4bK-n' }));
    markReceived(req, source);
    expect(req.get('Via')).toBe('SIP/2.0/UDP 10.0.0.2:5060;rport=40123;branch=z9hG4bK-n;received=198.51.100.7');
    expect(udpResponseTarget(req.topVia, source)).toEqual({ protocol: 'udp', address: '198.51.100.7', port: 40123 });
  });

  it('without rport, answers the sent-by port at the source address (RFC 3261 §18.2.2)', () => {
    const req = parseRequest(requestText({ via: 'SIP/2.0/UDP 10.0.0.2:5070;branch=z9hG4bK-n' }));
    markReceived(req, source);
    expect(udpResponseTarget(req.topVia, source)).toEqual({ protocol: 'udp', address: '198.51.100.7', port: 5070 });
    const noPort = parseRequest(requestText({ via: 'SIP/2.0/UDP 10.0.0.2;branch=z9hG4bK-n' }));
    expect(udpResponseTarget(noPort.topVia, source).port).toBe(5060);
  });

  it('throws a SipParseError for a request without a usable Via', () => {
    const req = parseRequest(requestText({ via: 'SIP/2.0/UDP' }));
    expect(() => markReceived(req, source)).toThrow(SipParseError);
  });
});

describe('salvaging unparsable requests', () => {
  it('keeps Via, From, To, Call-ID, CSeq (compact and folded forms too) and answers with a stable To tag', () => {
    const text = [
      'INVITE sip:bob@x SIP/2.0',
      'v: SIP/2.0/UDP 10.0.0.2;branch=z9hG4bK-1',
      'Via: SIP/2.0/UDP 10.0.0.3;branch=z9hG4bK-2',
      'f: <sip:a@x>;tag=1',
      't: <sip:b@x>',
      'i: abc@x',
      'CSeq: 7',
      '  INVITE',
      'Broken header without colon',
      '',
      '',
    ].join('\r\n');
    const req = salvageRequest(Buffer.from(text));
    expect(req).toBeDefined();
    expect(req!.getAll('Via')).toHaveLength(2);
    expect(req!.cseq.seq).toBe(7);
    const error = new SipParseError({ reason: "expected ':'", line: 9, column: 8 });
    const a = errorResponseFor(req!, error)!;
    const b = errorResponseFor(salvageRequest(Buffer.from(text))!, error)!;
    expect(a.status).toBe(400);
    expect(a.to.tag).toBe(b.to.tag);
    expect(a.reason).toMatch(/^Bad Request - /);
    expect(a.from.tag).toBe('1');
    expect(errorResponseFor(req!, new SipParseError({ reason: 'too big', limit: 'messageBytes' }))!.status).toBe(513);
  });

  it('gives up on ACKs, responses, missing headers and binary junk', () => {
    expect(salvageRequest(Buffer.from(requestText({ method: 'ACK', via: 'SIP/2.0/UDP h;branch=z9hG4bK-1' })))).toBeUndefined();
    expect(salvageRequest(Buffer.from('SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h\r\n\r\n'))).toBeUndefined();
    expect(salvageRequest(Buffer.from('OPTIONS sip:x SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK-1\r\n\r\n'))).toBeUndefined();
    expect(salvageRequest(Buffer.from([0xff, 0x00, 0x0d, 0x0a, 0x0d, 0x0a]))).toBeUndefined();
    expect(salvageRequest(Buffer.alloc(0))).toBeUndefined();
  });

  it('recognizes responses, keep-alives and STUN', () => {
    expect(looksLikeResponse(Buffer.from('\r\nSIP/2.0 200 OK'))).toBe(true);
    expect(looksLikeResponse(Buffer.from('SIP:x'))).toBe(false);
    expect(isKeepAlive(Buffer.from('\r\n\r\n'))).toBe(true);
    expect(isKeepAlive(Buffer.from('\r\nx'))).toBe(false);
    const stun = Buffer.alloc(20);
    stun.writeUInt16BE(0x0001, 0);
    stun.writeUInt32BE(0x2112a442, 4);
    expect(isStun(stun)).toBe(true);
    expect(isStun(Buffer.from('OPTIONS sip:x SIP/2.0\r\n'))).toBe(false);
  });
});

describe('the Via rewrite of RFC 3261 §18.1.1', () => {
  it('changes the transport and port of the top Via only, on a copy', () => {
    const req = parseRequest(requestText({ via: 'SIP/2.0/UDP [2001:db8::2]:5060;branch=z9hG4bK-m;rport, SIP/2.0/UDP 10.0.0.9;branch=z9hG4bK-o' }));
    const moved = withTopViaTransport(req, 'TCP', 5080)!;
    expect(moved.get('Via')).toBe('SIP/2.0/TCP [2001:db8::2]:5080;branch=z9hG4bK-m;rport, SIP/2.0/UDP 10.0.0.9;branch=z9hG4bK-o');
    expect(req.topVia.transport).toBe('UDP');
    expect(withTopViaTransport(parseRequest(requestText({ via: 'garbage' })), 'TCP', 5080)).toBeUndefined();
  });
});
