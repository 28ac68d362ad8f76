// Desk phones on the loopback network for end-to-end tests: the Phone on its emulated board over a real UserAgent (UaCallService), extensions dialled straight at their phone's address.
import { SdpMediaHandler, sdpMediaHandlerFactory } from '../../../firmware/call/sdp-media-handler.js';
import type { RtpStream } from '../../../firmware/media/media-engine.js';
import { MockMediaEngine } from '../../../firmware/media/mock-media-engine.js';
import type { CallService, CallServiceEvents, CallSession, LineView, VoicemailSummary } from '../../../firmware/phone/call-service.js';
import type { PhoneOptions } from '../../../firmware/phone/phone.js';
import { UaCallService } from '../../../firmware/phone/ua-call-service.js';
import type { Session } from '../../../firmware/sip/ua/index.js';
import type { Unsubscribe } from '../../../firmware/util/emitter.js';
import { phone, settle, type Net, type Phone as UaPhone } from '../../sip/ua/call/call-fixture.js';
import { phoneBoard, type PhoneBoard } from './phone-board.js';

/** Extension → the phone's address on the loopback network. */
export const HOSTS: Readonly<Record<string, string>> = { '1001': '10.0.0.1', '1002': '10.0.0.2', '1003': '10.0.0.3' };

/** No PBX on the loopback network: an extension is called at its phone's address. */
class DirectDial implements CallService {
  constructor(private readonly inner: UaCallService) {}
  call(target: string): CallSession {
    const host = HOSTS[target];
    return this.inner.call(host ? `sip:${target}@${host}` : target);
  }
  on<K extends keyof CallServiceEvents>(event: K, listener: (...args: CallServiceEvents[K]) => void): Unsubscribe {
    return this.inner.on(event, listener);
  }
  line(): LineView | undefined {
    return this.inner.line();
  }
  voicemail(): VoicemailSummary | undefined {
    return this.inner.voicemail();
  }
  conference(calls: readonly CallSession[]): boolean {
    return this.inner.conference(calls);
  }
  splitConference(): void {
    this.inner.splitConference();
  }
  setDoNotDisturb(on: boolean): void {
    this.inner.setDoNotDisturb(on);
  }
}

export interface Desk {
  board: PhoneBoard;
  media: MockMediaEngine;
  ua: UaPhone;
}

/** A desk phone for an extension of HOSTS, with more phone options (features, ...). */
export async function desk(n: Net, ext: string, displayName: string, options: Partial<PhoneOptions> = {}): Promise<Desk> {
  const address = HOSTS[ext] ?? '10.0.0.9';
  const media = new MockMediaEngine();
  const ua = await phone(n, address, ext, {
    account: { displayName },
    // Two calls at a time, as main.ts allows with call waiting on: the phone decides about the second.
    calls: { sessionDescriptionHandlerFactory: sdpMediaHandlerFactory({ engine: media, bindAddress: address }), maxCalls: 2 },
  });
  const streamOf = (s: Session): RtpStream | undefined => (s.handler instanceof SdpMediaHandler ? s.handler.stream : undefined);
  const service = new UaCallService({
    ua: ua.ua,
    statsOf: (s) => streamOf(s)?.getStats(),
    conferenceMixer: { streamOf, join: (streams) => media.joinConference(streams), split: () => media.splitConference() },
    directory: Object.fromEntries(Object.entries(HOSTS).map(([e, host]) => [e, `sip:${e}@${host}`])),
  });
  const board = await phoneBoard({ calls: new DirectDial(service), clock: n.clock, media, phone: options });
  return { board, media, ua };
}

/** Lets the network and the boards run for a while. */
export async function run(n: Net, a: PhoneBoard, ms = 200): Promise<void> {
  await settle(n);
  await a.wait(ms);
  await settle(n);
}
