// Where the phone is reached for an account and the Contact URI made of it (one for REGISTER, SUBSCRIBE and INVITE), and the hex identifiers of Call-IDs and tags.
import { Params, SipUri } from '../message/index.js';

/** Where this phone can be reached for the account: the transport's local address (the UA provides it). */
export interface ContactAddress {
  /** IP address (v4, or v6 without brackets) or host name. */
  host: string;
  port: number;
  transport: 'udp' | 'tcp' | 'tls';
}

/** The Contact URI of our requests: the AOR's user at the transport's address, transport=tcp / tls unless UDP (RFC 3261 §19.1.1). */
export function contactUri(user: string | undefined, address: ContactAddress): SipUri {
  const host = address.host.includes(':') && !address.host.startsWith('[') ? `[${address.host}]` : address.host;
  const params = address.transport === 'udp' ? Params.EMPTY : Params.EMPTY.with('transport', address.transport);
  return new SipUri({ user, host, port: address.port, params });
}

/** Random bytes as hex: Call-IDs and tags of the clients that make their own (RFC 3261 §19.3). */
export function hexId(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}
