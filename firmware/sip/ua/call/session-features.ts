// The options of the mid-call features (hold by re-INVITE or UPDATE, session timers, 100rel, DTMF by INFO), their defaults, and the small types the session's API shares.
import { type SessionTimerConfig, sessionTimerConfig } from '../session-timer.js';

/** How sendDtmf() sends keys: RFC 4733 telephone-events in the media (the handler), or one SIP INFO per key (application/dtmf-relay). */
export type DtmfMode = 'rfc4733' | 'info';

/** Which request carries a re-offer: always a re-INVITE, or an UPDATE (RFC 3311) when the peer's Allow lists it (else a re-INVITE). */
export type ReofferMethod = 'invite' | 'update';

/** Hold as both sides see it: we hold the peer (our last agreed offer or answer was sendonly / inactive), the peer holds us. */
export interface HoldState {
  readonly local: boolean;
  readonly remote: boolean;
}

/** How hold(), resume() or a session refresh went. */
export type SessionModifyResult =
  | { readonly ok: true; readonly held: HoldState }
  /** Refused or failed: status of the final response (0: not sent: the call is not up, no offer...), reason. The call stays as it was unless the status ended it (408, 481). */
  | { readonly ok: false; readonly status: number; readonly reason: string };

/** A key received during the call: by SIP INFO (here), or RFC 4733 from the media engine (reported by the media layer, not by the session). */
export interface SessionDtmfEvent {
  readonly digit: string;
  /** How long the key was held, when the sender said (dtmf-relay Duration). */
  readonly durationMs: number | undefined;
  readonly via: 'info' | 'rfc4733';
}

/** The part of UserAgentOptions.calls that configures the mid-call features. */
export interface MidCallOptions {
  /** Session timers (RFC 4028). On by default: 1800 s asked for, Min-SE 90 s; the caller refreshes unless it asks otherwise. */
  sessionTimers?:
    | {
        enabled?: boolean | undefined;
        /** The Session-Expires asked for (UAC) or granted at most (UAS), s. Default 1800. */
        expiresS?: number | undefined;
        /** The shortest interval accepted, s (never below 90). Default 90. */
        minSeS?: number | undefined;
        /** Who refreshes when an incoming INVITE leaves it to us (RFC 4028 §9). Default 'uac' (the caller). */
        uasRefresher?: 'uac' | 'uas' | undefined;
      }
    | undefined;
  /** Hold / resume by re-INVITE (default) or by UPDATE when the peer allows it. */
  holdMethod?: ReofferMethod | undefined;
  /** Session refreshes by UPDATE when the peer allows it (default), else by re-INVITE; 'invite' always re-INVITEs. */
  refreshMethod?: ReofferMethod | undefined;
  /** 1xx to an INVITE that only says Supported: 100rel: 'required' (default) sends them reliably only when the INVITE requires it; 'supported' always. */
  reliableProvisionals?: 'required' | 'supported' | undefined;
  /** How sendDtmf() sends keys unless the call or account says otherwise. Default 'rfc4733'. */
  dtmf?: DtmfMode | undefined;
}

/** MidCallOptions with the defaults applied (part of CallSettings). */
export interface MidCallSettings {
  sessionTimers: SessionTimerConfig;
  holdMethod: ReofferMethod;
  refreshMethod: ReofferMethod;
  reliableWhenSupported: boolean;
  dtmf: DtmfMode;
}

/** The settings from the options; RangeError for session timer values that are not positive whole seconds. */
export function midCallSettings(options: MidCallOptions = {}): MidCallSettings {
  const st = options.sessionTimers ?? {};
  return {
    sessionTimers: sessionTimerConfig({ enabled: st.enabled, sessionExpiresS: st.expiresS, minSES: st.minSeS, uasPrefersRefresher: st.uasRefresher }),
    holdMethod: options.holdMethod ?? 'invite',
    refreshMethod: options.refreshMethod ?? 'update',
    reliableWhenSupported: options.reliableProvisionals === 'supported',
    dtmf: options.dtmf ?? 'rfc4733',
  };
}
