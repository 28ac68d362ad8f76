// The table of open TCP/TLS connections: by id (for responses, RFC 3261 §18.2.2) and by remote address + protocol (for reuse).
import type { StreamConnection } from './stream-connection.js';
import type { SendTarget } from './transport.js';
import { ipBytes, stripBrackets } from './ip-address.js';

/**
 * The reuse key of a target: protocol, address in canonical form, port, and for TLS the name the
 * certificate was verified against (a connection verified for one name is not reused for another).
 */
export function connectionKey(target: Pick<SendTarget, 'protocol' | 'address' | 'port' | 'serverName'>): string {
  const bytes = ipBytes(target.address);
  const address = bytes ? bytes.toString('hex') : stripBrackets(target.address).toLowerCase();
  const name = target.protocol === 'tls' ? (target.serverName ?? '').toLowerCase() : '';
  return `${target.protocol}|${address}|${target.port}|${name}`;
}

export class ConnectionTable {
  private readonly byId = new Map<string, StreamConnection>();
  private readonly byKey = new Map<string, StreamConnection>();
  private readonly keyOfId = new Map<string, string>();

  add(connection: StreamConnection, key: string): void {
    this.byId.set(connection.id, connection);
    // The newest connection to a key is the one reused.
    this.byKey.set(key, connection);
    this.keyOfId.set(connection.id, key);
  }

  get(id: string): StreamConnection | undefined {
    return this.byId.get(id);
  }

  /** An open connection to the target, if there is one. */
  find(key: string): StreamConnection | undefined {
    const c = this.byKey.get(key);
    return c?.isOpen ? c : undefined;
  }

  remove(connection: StreamConnection): void {
    this.byId.delete(connection.id);
    const key = this.keyOfId.get(connection.id);
    this.keyOfId.delete(connection.id);
    if (key !== undefined && this.byKey.get(key) === connection) {
      this.byKey.delete(key);
      // Another open connection with the same key (an older one) takes over.
      for (const other of this.byId.values()) {
        if (this.keyOfId.get(other.id) === key && other.isOpen) this.byKey.set(key, other);
      }
    }
  }

  all(): StreamConnection[] {
    return [...this.byId.values()];
  }

  get size(): number {
    return this.byId.size;
  }
}
