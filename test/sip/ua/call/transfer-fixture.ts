// Three phones on the loopback network for the transfer tests (alice, bob, carol), and a helper that puts a call up between two of them.
import type { IncomingSession, OutgoingSession, Session, TransferProgress } from '../../../../firmware/sip/ua/index.js';
import { type Net, type Phone, net, phone, settle } from './call-fixture.js';

export interface Trio {
  n: Net;
  alice: Phone;
  bob: Phone;
  carol: Phone;
}

/** alice 10.0.0.1, bob 10.0.0.2, carol 10.0.0.3; options go to every phone (or per phone). */
export async function trio(options: { all?: Parameters<typeof phone>[3]; alice?: Parameters<typeof phone>[3]; bob?: Parameters<typeof phone>[3]; carol?: Parameters<typeof phone>[3] } = {}): Promise<Trio> {
  const n = net();
  const merge = (o: Parameters<typeof phone>[3] | undefined): Parameters<typeof phone>[3] => ({ ...options.all, ...o, calls: { ...options.all?.calls, ...o?.calls } });
  const alice = await phone(n, '10.0.0.1', 'alice', merge(options.alice));
  const bob = await phone(n, '10.0.0.2', 'bob', merge(options.bob));
  const carol = await phone(n, '10.0.0.3', 'carol', merge(options.carol));
  return { n, alice, bob, carol };
}

/** from calls to (at uri), to answers: both sessions, confirmed. */
export async function connect(n: Net, from: Phone, to: Phone, uri: string): Promise<{ out: OutgoingSession; inc: IncomingSession }> {
  const before = to.incoming.length;
  const out = from.ua.call(uri);
  await settle(n);
  const inc = to.incoming[before];
  if (!inc) throw new Error(`${uri} did not ring`);
  await inc.accept();
  await settle(n);
  return { out, inc };
}

/** Records a session's transfer-progress events. */
export function progressOf(session: Session): TransferProgress[] {
  const out: TransferProgress[] = [];
  session.on('transfer-progress', (p) => out.push(p));
  return out;
}
