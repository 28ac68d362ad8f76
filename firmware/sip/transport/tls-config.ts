// TLS settings of the network transport: the client's trust anchors and the server's key and certificate, loaded once.
import { readFile } from 'node:fs/promises';
import { type SecureContext, createSecureContext } from 'node:tls';
import { TransportError, errorText } from './transport-error.js';

export interface TlsClientOptions {
  /**
   * PEM file of the CAs to trust instead of the default store. The default store is Node's:
   * on Debian's nodejs package that is the system store (/etc/ssl/certs), on official Node
   * builds the bundled Mozilla list; pass "/etc/ssl/certs/ca-certificates.crt" to be explicit.
   */
  caFile?: string | undefined;
  /** PEM text of the CAs to trust (instead of caFile). */
  ca?: string | Buffer | undefined;
  /**
   * Accept any certificate and host name. For lab setups only: a warning is logged for every
   * connection opened this way.
   */
  insecure?: boolean | undefined;
}

export interface TlsServerOptions {
  /** PEM private key and certificate chain, as text or as files. */
  key?: string | Buffer | undefined;
  cert?: string | Buffer | undefined;
  keyFile?: string | undefined;
  certFile?: string | undefined;
}

/** The secure context all outgoing TLS connections share (building one per connection parses every CA again). */
export async function clientSecureContext(options: TlsClientOptions): Promise<SecureContext> {
  try {
    const ca = options.ca ?? (options.caFile !== undefined ? await readFile(options.caFile) : undefined);
    return createSecureContext(ca === undefined ? {} : { ca });
  } catch (e) {
    throw new TransportError({ code: 'tls-failed', message: `cannot load the TLS trust anchors${options.caFile ? ` from ${options.caFile}` : ''}: ${errorText(e)}`, cause: e });
  }
}

/** Key and certificate of a TLS listener; throws TransportError (bind-failed) when missing or unreadable. */
export async function serverKeyPair(options: TlsServerOptions | undefined, where: string): Promise<{ key: string | Buffer; cert: string | Buffer }> {
  try {
    const key = options?.key ?? (options?.keyFile !== undefined ? await readFile(options.keyFile) : undefined);
    const cert = options?.cert ?? (options?.certFile !== undefined ? await readFile(options.certFile) : undefined);
    if (key === undefined || cert === undefined) throw new Error('a TLS listener needs a key and a certificate');
    // Fails here, at start, rather than at the first handshake.
    createSecureContext({ key, cert });
    return { key, cert };
  } catch (e) {
    throw new TransportError({ code: 'bind-failed', message: `TLS listener ${where}: ${errorText(e)}`, cause: e });
  }
}
