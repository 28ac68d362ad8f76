// The malformed requests a UAS must refuse with an exact status (RFC 3261 §8.2), as SIPp scenarios and as raw text for probeSip().
import type { SipProbeOptions } from './sip-probe.js';

export interface MalformedCase {
  /** What is wrong, for test names. */
  name: string;
  /** The one status the UAS must answer. */
  status: number;
  /**
   * The SIPp scenario of test/interop/sipp that sends it and checks the status. Undefined for a
   * missing Call-ID: SIPp matches responses to calls by Call-ID and discards a response without
   * one ("SIP message without Call-ID discarded"), so that case is only checked with probeSip().
   */
  scenario: string | undefined;
  /** The same request as raw text, for probeSip({ request }). */
  request: (target: { host: string; port: number; user: string }) => SipProbeOptions['request'];
}

/** An OPTIONS-shaped request with the lines given changed (maxForwards null drops the header, callId false drops Call-ID). */
function build(target: { host: string; port: number; user: string }, change: { start?: string; maxForwards?: string | null; callId?: boolean; cseq?: string; extra?: string[]; contentType?: string; body?: string }): SipProbeOptions['request'] {
  return (l) => {
    const ruri = `sip:${target.user}@${target.host}:${target.port}`;
    const body = change.body ?? '';
    return [
      change.start ?? `OPTIONS ${ruri} SIP/2.0`,
      `Via: SIP/2.0/UDP ${l.address}:${l.port};branch=${l.branch};rport`,
      change.maxForwards === null ? undefined : `Max-Forwards: ${change.maxForwards ?? '70'}`,
      `From: <sip:probe@${l.address}:${l.port}>;tag=${l.tag}`,
      `To: <${ruri}>`,
      change.callId === false ? undefined : `Call-ID: ${l.callId}`,
      `CSeq: ${change.cseq ?? '1 OPTIONS'}`,
      ...(change.extra ?? []),
      change.contentType !== undefined ? `Content-Type: ${change.contentType}` : undefined,
      `Content-Length: ${Buffer.byteLength(body)}`,
      '',
      body,
    ]
      .filter((x): x is string => x !== undefined)
      .join('\r\n');
  };
}

export const MALFORMED_REQUESTS: readonly MalformedCase[] = [
  { name: 'SIP version 7.0 (RFC 3261 §8.2, §21.5.6)', status: 505, scenario: 'uac-bad-version', request: (t) => build(t, { start: `OPTIONS sip:${t.user}@${t.host}:${t.port} SIP/7.0` }) },
  { name: 'unknown method FOOBAR (RFC 3261 §8.2.1)', status: 501, scenario: 'uac-unknown-method', request: (t) => build(t, { start: `FOOBAR sip:${t.user}@${t.host}:${t.port} SIP/2.0`, cseq: '1 FOOBAR' }) },
  { name: 'Max-Forwards: 0 (RFC 3261 §16.3)', status: 483, scenario: 'uac-max-forwards-zero', request: (t) => build(t, { maxForwards: '0' }) },
  { name: 'Require: x-offhook-unknown (RFC 3261 §8.2.2.3)', status: 420, scenario: 'uac-unknown-require', request: (t) => build(t, { extra: ['Require: x-offhook-unknown'] }) },
  {
    name: 'body of an unknown Content-Type (RFC 3261 §8.2.3)',
    status: 415,
    scenario: 'uac-bad-content-type',
    // As raw text an OPTIONS: no INVITE transaction to ACK afterwards.
    request: (t) => build(t, { contentType: 'application/x-offhook-unknown', body: 'this body has a type no phone understands' }),
  },
  { name: 'no Call-ID (RFC 3261 §8.1.1.4: mandatory)', status: 400, scenario: undefined, request: (t) => build(t, { callId: false }) },
  { name: 'Request-URI scheme x-unknown-scheme: (RFC 3261 §8.2.2.1)', status: 416, scenario: 'uac-unknown-scheme', request: (t) => build(t, { start: `OPTIONS x-unknown-scheme:probe@${t.host}:${t.port} SIP/2.0` }) },
];
