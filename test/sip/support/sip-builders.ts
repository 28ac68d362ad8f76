// Builders of SIP requests for tests: typed (createRequest) and raw text (for RFC 2543 or deliberately broken requests).
import { createRequest } from '../../../firmware/sip/message/build.js';
import { NameAddr, Via } from '../../../firmware/sip/message/headers.js';
import type { SipRequest } from '../../../firmware/sip/message/message.js';
import { Params } from '../../../firmware/sip/message/params.js';
import { parseMessage } from '../../../firmware/sip/message/parse.js';
import { uri } from '../../../firmware/sip/message/uri.js';

export function nameAddr(text: string, tag?: string): NameAddr {
  const na = new NameAddr({ uri: uri(text) });
  return tag === undefined ? na : na.withTag(tag);
}

export interface RequestSpec {
  method: string;
  uri?: string;
  fromUri?: string;
  fromTag?: string;
  toUri?: string;
  toTag?: string;
  callId?: string;
  cseq?: number;
  /** A Via to put in (raw peers need one; a TransactionLayer replaces it). */
  via?: { transport?: string; host: string; port?: number; branch?: string | undefined; rport?: boolean };
  contact?: string;
  recordRoute?: readonly string[];
  route?: readonly string[];
  headers?: readonly (readonly [string, string])[];
  body?: string;
  contentType?: string;
  maxForwards?: number;
}

/** A request with sensible defaults: alice calls bob. */
export function makeRequest(spec: RequestSpec): SipRequest {
  const via = spec.via
    ? new Via({
        transport: spec.via.transport ?? 'UDP',
        host: spec.via.host,
        port: spec.via.port,
        params: (() => {
          let p = Params.EMPTY;
          if (spec.via.branch !== undefined) p = p.with('branch', spec.via.branch);
          if (spec.via.rport === true) p = p.with('rport', null);
          return p;
        })(),
      })
    : undefined;
  const req = createRequest({
    method: spec.method,
    uri: spec.uri ?? 'sip:bob@10.0.0.2:5060',
    from: nameAddr(spec.fromUri ?? 'sip:alice@example.com', spec.fromTag ?? 'alicetag'),
    to: nameAddr(spec.toUri ?? 'sip:bob@example.com', spec.toTag),
    callId: spec.callId ?? 'call-1@example.com',
    cseq: spec.cseq ?? 1,
    via,
    maxForwards: spec.maxForwards,
    contact: spec.contact !== undefined ? nameAddr(spec.contact) : undefined,
    route: spec.route?.map((r) => nameAddr(r)),
    headers: spec.headers,
    body: spec.body,
    contentType: spec.contentType,
  });
  for (const rr of spec.recordRoute ?? []) req.append('Record-Route', `<${rr}>`);
  return req;
}

/** Parses a request written as lines (joined with CRLF, an empty line added). */
export function rawRequest(lines: readonly string[], body = ''): SipRequest {
  const r = parseMessage(`${lines.join('\r\n')}\r\n\r\n${body}`);
  if (!r.ok) throw r.error;
  if (r.message.kind !== 'request') throw new Error('not a request');
  return r.message;
}
