// G.711 PCMU / PCMA over the native addon: 16-bit linear PCM to 8-bit codes and back, 8000 Hz.
import type { G711Law, NativeAddon } from './native-addon.js';

export type { G711Law } from './native-addon.js';

/** Static RTP payload types (RFC 3551 §6, Table 4). */
export const G711_PAYLOAD_TYPES = { PCMU: 0, PCMA: 8 } as const satisfies Record<G711Law, number>;

export interface G711CodecOptions {
  /** The loaded addon, or anything with its G.711 part. */
  addon: Pick<NativeAddon, 'g711'>;
  law: G711Law;
}

/**
 * One G.711 law. The native engine codes its own streams; this is for tools, tests, prompts and the
 * mock engine. Both directions are one byte per sample, so a 20 ms frame is 160 samples / 160 bytes.
 */
export class G711Codec {
  readonly law: G711Law;
  readonly payloadType: (typeof G711_PAYLOAD_TYPES)[G711Law];
  readonly sampleRateHz = 8000;
  private readonly addon: G711CodecOptions['addon'];

  constructor(options: G711CodecOptions) {
    this.addon = options.addon;
    this.law = options.law;
    this.payloadType = G711_PAYLOAD_TYPES[options.law];
  }

  /** One code per sample; `out`, when given, must be pcm.length bytes long and is filled and returned. */
  encode(pcm: Int16Array, out?: Uint8Array): Uint8Array {
    return this.addon.g711.encode(this.law, pcm, out);
  }

  /** One sample per code; `out`, when given, must be codes.length samples long and is filled and returned. */
  decode(codes: Uint8Array, out?: Int16Array): Int16Array {
    return this.addon.g711.decode(this.law, codes, out);
  }
}
