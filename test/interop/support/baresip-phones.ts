// baresip softphones registered to the harness Kamailio (1001, 1002, 1004 ...), each with its own tone and ctrl_tcp, and the call commands of baresip 1.0 (dial, accept, hangup, hold, resume, blind transfer, DTMF) as methods.
import { type BaresipControl, type BaresipEvent, type BaresipResponse } from './baresip-control.js';
import { type BaresipInstance, type BaresipOptions, startBaresip } from './baresip.js';
import { KAMAILIO_DOMAIN } from './kamailio.js';
import { waitUntil } from './user-agent.js';

export interface BaresipPhone {
  user: string;
  /** sip:USER@test.local */
  aor: string;
  /** The tone it plays as its microphone, Hz. */
  toneHz: number;
  instance: BaresipInstance;
  control: BaresipControl;
  /** /dial: a user ("1003"), which becomes sip:1003@test.local, or a full URI. */
  dial(target: string): Promise<BaresipResponse>;
  /** /accept: answers the incoming call (phones started with answerMode 'manual'). */
  accept(): Promise<BaresipResponse>;
  /** /hangup: ends (or rejects, or cancels) the current call. */
  hangup(): Promise<BaresipResponse>;
  /** /hold: re-INVITE with a=sendonly. */
  hold(): Promise<BaresipResponse>;
  /** /resume: re-INVITE with a=sendrecv. */
  resume(): Promise<BaresipResponse>;
  /** /transfer: BLIND transfer of the current call (REFER, Refer-To: target; user or URI as for dial). */
  transfer(target: string): Promise<BaresipResponse>;
  /** /sndcode: DTMF digits 0-9 * # A-D, sent as RTP telephone-event (RFC 4733), not as SIP INFO. */
  sendDtmf(digits: string): Promise<BaresipResponse>;
  /** /listcalls as text. */
  listCalls(): Promise<string>;
  /** /line N: makes call N (1-based, as listcalls numbers them) the current one. */
  line(n: number): Promise<BaresipResponse>;
  /** The next event of a type after `from` (an index into control.events; default: all so far). */
  waitFor(type: string, timeoutMs: number, options?: { match?: (e: BaresipEvent) => boolean; from?: number }): Promise<BaresipEvent>;
  stop(): Promise<void>;
}

export interface BaresipPhonesOptions {
  /** Users to start, default ['1001', '1002', '1004'] (1003 is the phone under test). */
  users?: readonly string[];
  /** 'auto' answers at once (default); 'manual' rings until accept(). */
  answerMode?: 'auto' | 'manual';
  /** Tone per user, Hz; default 400 + 100 × (its index): 400, 500, 600 ... */
  toneHz?: (user: string, index: number) => number;
  /** How long to wait for each registration, ms. Default 8000. */
  registerTimeoutMs?: number;
  /** More startBaresip options for every phone. */
  baresip?: Omit<BaresipOptions, 'accounts' | 'toneHz' | 'control'>;
}

function uriOf(target: string): string {
  return target.startsWith('sip:') || target.startsWith('sips:') ? target : `sip:${target}@${KAMAILIO_DOMAIN}`;
}

/** A started baresip with control: its one registered account, and the call commands. */
function phone(user: string, toneHz: number, instance: BaresipInstance): BaresipPhone {
  const control = instance.control();
  const cmd = (command: string, params = ''): Promise<BaresipResponse> => control.command(command, params);
  return {
    user,
    aor: `sip:${user}@${KAMAILIO_DOMAIN}`,
    toneHz,
    instance,
    control,
    dial: (target) => cmd('dial', uriOf(target)),
    accept: () => cmd('accept'),
    hangup: () => cmd('hangup'),
    hold: () => cmd('hold'),
    resume: () => cmd('resume'),
    transfer: (target) => cmd('transfer', uriOf(target)),
    sendDtmf: (digits) => cmd('sndcode', digits),
    listCalls: async () => (await cmd('listcalls')).data,
    line: (n) => cmd('line', String(n)),
    waitFor: (type, timeoutMs, options) => control.waitForEvent(type, timeoutMs, options),
    stop: async () => {
      await instance.stop();
    },
  };
}

/**
 * Starts one baresip per user, each registered at Kamailio (`kamailio.hostPort`, also its outbound
 * proxy) as sip:USER@test.local with password pwUSER, with ctrl_tcp; resolves once every one of them
 * is registered (its log shows the 200 OK). Stops the ones it started if one fails.
 */
export async function startBaresipPhones(kamailio: { hostPort: string }, options: BaresipPhonesOptions = {}): Promise<BaresipPhone[]> {
  const users = options.users ?? ['1001', '1002', '1004'];
  const started: BaresipPhone[] = [];
  try {
    await Promise.all(
      users.map(async (user, index) => {
        const toneHz = options.toneHz?.(user, index) ?? 400 + 100 * index;
        const instance = await startBaresip({
          ...options.baresip,
          toneHz,
          control: true,
          accounts: [{ user, registrar: kamailio.hostPort, answerMode: options.answerMode ?? 'auto' }],
        });
        const p = phone(user, toneHz, instance);
        started.push(p);
        // baresip logs "1001@test.local: {0/UDP/v4} 200 OK (server) [1 binding]" (reginfo has no status in 1.0)
        const registered = new RegExp(`^${user}@${KAMAILIO_DOMAIN.replace(/\./g, '\\.')}: .* 200 OK`, 'm');
        await waitUntil(() => registered.test(instance.readLog()), {
          timeoutMs: options.registerTimeoutMs ?? 8000,
          intervalMs: 100,
          what: () => `baresip ${user} registered at ${kamailio.hostPort}; its log:\n${instance.readLog().slice(-2000)}`,
        });
      }),
    );
  } catch (err) {
    await Promise.all(started.map((p) => p.stop()));
    throw err;
  }
  return users.map((u) => started.find((p) => p.user === u)).filter((p): p is BaresipPhone => p !== undefined);
}
