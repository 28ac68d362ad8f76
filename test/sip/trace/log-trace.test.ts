// The SIP trace in the debug log: message text with Authorization and Proxy-Authorization redacted, nothing below debug.
import { describe, expect, it } from 'vitest';
import { createLogTrace, redactSipText } from '../../../firmware/sip/trace/log-trace.js';
import type { TraceRecord } from '../../../firmware/sip/trace/trace-record.js';
import { captureLogger } from '../transport/helpers.js';

const REGISTER = [
  'REGISTER sip:pbx.test SIP/2.0',
  'Via: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bK-1',
  'Authorization: Digest username="alice", realm="pbx.test", nonce="abc",',
  '  uri="sip:pbx.test", response="0123456789abcdef0123456789abcdef"',
  'proxy-authorization :Digest username="alice", response="fedcba"',
  'Call-ID: x@y',
  'Content-Length: 26',
  '',
  'Authorization: in the body',
].join('\r\n');

function record(bytes: string): TraceRecord {
  return {
    direction: 'out',
    protocol: 'udp',
    local: { protocol: 'udp', address: '10.0.0.2', port: 5060 },
    remote: { protocol: 'udp', address: '10.0.0.1', port: 5060 },
    bytes: Buffer.from(bytes),
    wallTimeMs: 0,
  };
}

describe('log trace', () => {
  it('redacts credential values, folded lines included, and nothing else', () => {
    const out = redactSipText(REGISTER);
    expect(out).not.toContain('0123456789abcdef');
    expect(out).not.toContain('fedcba');
    expect(out).not.toContain('nonce');
    expect(out).toContain('Authorization: Digest [redacted]\r\nproxy-authorization: Digest [redacted]\r\nCall-ID: x@y');
    expect(out.endsWith('\r\n\r\nAuthorization: in the body')).toBe(true);
  });

  it('logs each message at debug level only', () => {
    const debug = captureLogger('debug');
    createLogTrace(debug.logger)(record(REGISTER));
    expect(debug.lines).toHaveLength(1);
    const line = debug.lines[0]!;
    expect(line.msg).toBe('SIP to udp 10.0.0.1:5060');
    expect(line.mod).toBe('sip/trace');
    expect(String(line.sip)).toContain('Authorization: Digest [redacted]');
    expect(JSON.stringify(line)).not.toContain('0123456789abcdef');

    const info = captureLogger('info');
    createLogTrace(info.logger)(record(REGISTER));
    expect(info.lines).toHaveLength(0);
  });
});
