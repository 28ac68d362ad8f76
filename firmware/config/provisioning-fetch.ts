// The provisioning client's HTTP(S) GET: conditional headers, a deadline, a body size limit, and a bounded number of redirects.
import { readFileSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { RealClock, type Clock } from '../util/clock.js';

/** One GET of a provisioning URL. */
export interface FetchRequest {
  /** http:// or https://, without user:password (credentials go in headers.authorization). */
  url: string;
  /** Request headers, lower-case names: if-none-match, if-modified-since, authorization. */
  headers: Readonly<Record<string, string>>;
  /** The whole exchange, redirects included, must finish within this. */
  timeoutMs: number;
  /** A longer body is abandoned (a config is a few kilobytes; this bounds memory). */
  maxBytes: number;
  /** 3xx answers followed at most. */
  maxRedirects: number;
  /** PEM CA bundle trusted for https; absent: the system CAs. */
  caFile?: string | undefined;
}

/** The final answer (after redirects). The body is read only for 200. */
export interface FetchResponse {
  status: number;
  /** The URL that gave this answer. */
  url: string;
  etag?: string | undefined;
  lastModified?: string | undefined;
  body?: string | undefined;
}

/** Injected into the Provisioner; tests and other transports replace it. */
export type ProvisioningFetch = (request: FetchRequest) => Promise<FetchResponse>;

export type FetchErrorCode = 'timeout' | 'too-large' | 'redirects' | 'insecure-redirect' | 'bad-url' | 'network';

/** A fetch that gave no usable answer. The message names no header value (credentials never appear in it). */
export class FetchError extends Error {
  override readonly name = 'FetchError';
  constructor(
    readonly code: FetchErrorCode,
    message: string,
  ) {
    super(message);
  }
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

function header(res: IncomingMessage, name: string): string | undefined {
  const v = res.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

interface Exchange {
  promise: Promise<FetchResponse & { location?: string | undefined }>;
  abort(err: Error): void;
}

function exchange(url: URL, req: FetchRequest): Exchange {
  let abort: (err: Error) => void = () => undefined;
  const promise = new Promise<FetchResponse & { location?: string | undefined }>((resolve, reject) => {
    const https = url.protocol === 'https:';
    let ca: Buffer | undefined;
    if (https && req.caFile !== undefined) {
      try {
        ca = readFileSync(req.caFile);
      } catch (err) {
        reject(new FetchError('network', `cannot read caFile ${req.caFile}: ${err instanceof Error ? err.message : String(err)}`));
        return;
      }
    }
    const send = https ? httpsRequest : httpRequest;
    const r = send(url, { method: 'GET', headers: { ...req.headers, accept: 'application/yaml, text/yaml, text/plain, */*' }, ...(ca ? { ca } : {}) }, (res) => {
      const status = res.statusCode ?? 0;
      const base = { status, url: url.toString(), etag: header(res, 'etag'), lastModified: header(res, 'last-modified') };
      if (status !== 200) {
        res.resume();
        res.on('end', () => resolve({ ...base, location: header(res, 'location') }));
        res.on('error', (err) => reject(new FetchError('network', err.message)));
        return;
      }
      const declared = Number(header(res, 'content-length'));
      if (Number.isFinite(declared) && declared > req.maxBytes) {
        r.destroy();
        reject(new FetchError('too-large', `the config is ${declared} bytes, more than the ${req.maxBytes} allowed`));
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > req.maxBytes) {
          r.destroy();
          reject(new FetchError('too-large', `the config is more than the ${req.maxBytes} bytes allowed`));
          return;
        }
        chunks.push(chunk);
      });
      res.on('end', () => resolve({ ...base, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', (err) => reject(new FetchError('network', err.message)));
    });
    r.on('error', (err) => reject(err instanceof FetchError ? err : new FetchError('network', err.message)));
    abort = (err) => {
      reject(err);
      r.destroy();
    };
    r.end();
  });
  return { promise, abort: (err) => abort(err) };
}

/**
 * The default ProvisioningFetch, on node:http / node:https. Redirects are followed up to
 * maxRedirects; one from https to http is refused (it would send the request, and the config's
 * passwords, in the clear), and the Authorization header is not sent to another origin. The
 * deadline runs on the injected clock.
 */
export function createHttpFetch(options: { clock?: Clock } = {}): ProvisioningFetch {
  const clock = options.clock ?? new RealClock();
  return async (req) => {
    let url: URL;
    try {
      url = new URL(req.url);
    } catch {
      throw new FetchError('bad-url', 'not a URL');
    }
    url.username = '';
    url.password = '';
    let headers: Record<string, string> = { ...req.headers };
    let current: Exchange | undefined;
    const deadline = { passed: false };
    const timer = clock.setTimeout(() => {
      deadline.passed = true;
      current?.abort(new FetchError('timeout', `no answer within ${req.timeoutMs} ms`));
    }, req.timeoutMs);
    try {
      for (let hop = 0; ; hop++) {
        if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new FetchError('bad-url', `${url.protocol} URLs are not supported (http: and https: are)`);
        if (deadline.passed) throw new FetchError('timeout', `no answer within ${req.timeoutMs} ms`);
        current = exchange(url, { ...req, headers });
        const res = await current.promise;
        if (!REDIRECTS.has(res.status) || res.location === undefined) {
          const { location: _l, ...answer } = res;
          return answer;
        }
        if (hop >= req.maxRedirects) throw new FetchError('redirects', `more than ${req.maxRedirects} redirects`);
        let next: URL;
        try {
          next = new URL(res.location, url);
        } catch {
          throw new FetchError('bad-url', `redirect to something that is not a URL`);
        }
        // Credentials in a Location are not taken: node would send them as basic auth.
        next.username = '';
        next.password = '';
        if (url.protocol === 'https:' && next.protocol === 'http:') throw new FetchError('insecure-redirect', 'redirect from https to http refused');
        if (next.origin !== url.origin) {
          const { authorization: _a, ...rest } = headers;
          headers = rest;
        }
        url = next;
      }
    } finally {
      clock.clearTimeout(timer);
    }
  };
}
