// Codec interface of the engine and the registry of codecs by name (CONVENTIONS.md #11): PCMU, PCMA, opus.
#ifndef OFFHOOK_ENGINE_CODEC_H
#define OFFHOOK_ENGINE_CODEC_H

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace offhook::engine {

/// The codec parameters a stream was configured with (from SDP: rtpmap and fmtp; the SDP layer maps them).
struct CodecParams {
  std::string name;
  int payload_type = 0;
  /// RTP timestamp rate (rtpmap): 8000 for G.711, always 48000 for Opus (RFC 7587 §4.1).
  int rtp_clock_hz = 8000;
  /// Rate the codec itself runs at (Opus: 8000, 16000 or 48000 — its maxplaybackrate; G.711: 8000).
  int sample_rate_hz = 8000;
  int ptime_ms = 20;
  /// Opus only (RFC 7587 §6.1 useinbandfec, usedtx, maxaveragebitrate).
  bool fec = false;
  bool dtx = false;
  int bitrate_bps = 0;  ///< 0 = the codec's default
  int expected_loss_percent = 10;
  int complexity = 5;
};

/// One direction of a codec instance. Called on the media thread only; never throws, never blocks.
class Encoder {
 public:
  virtual ~Encoder() = default;
  /// Encodes one packet's worth of samples at CodecParams::sample_rate_hz. Returns bytes written,
  /// 0 when there is nothing to send (Opus DTX, RFC 7587 §3.1.3), negative on error.
  virtual int encode(const int16_t* pcm, size_t samples, uint8_t* out, size_t capacity) noexcept = 0;
};

class Decoder {
 public:
  virtual ~Decoder() = default;
  /// Decodes one payload into at most max_samples samples; returns the count, negative on error.
  virtual int decode(const uint8_t* payload, size_t size, int16_t* out, size_t max_samples) noexcept = 0;
  /// Packet loss concealment for `samples` missing samples. Returns the count written.
  virtual int conceal(int16_t* out, size_t samples) noexcept = 0;
  /// Opus in-band FEC (RFC 7587 §3.2): rebuilds the missing frame from the next packet's LBRR data.
  /// Returns the count, or 0 when the codec cannot (then the caller conceals).
  virtual int decode_fec(const uint8_t* /*next_payload*/, size_t /*size*/, int16_t* /*out*/, size_t /*samples*/) noexcept {
    return 0;
  }
  /// Forgets state: a new source or a timeline jump.
  virtual void reset() noexcept = 0;
};

/// E-model inputs of a codec (ITU-T G.107 §7.5, values from G.113 Appendix I where it lists the codec).
struct CodecQuality {
  double ie = 0;   ///< equipment impairment factor
  double bpl = 1;  ///< packet-loss robustness factor
  double algorithmic_delay_ms = 0;  ///< look-ahead added to the mouth-to-ear delay
};

/// One entry of the registry: what it can be configured to, and how to make instances.
struct CodecInfo {
  const char* name;
  /// RTP clock rate the codec's rtpmap must use (0: any of the supported sample rates).
  int rtp_clock_hz;
  /// Why a configuration is refused, or empty.
  std::string (*check)(const CodecParams& params);
  std::unique_ptr<Encoder> (*make_encoder)(const CodecParams& params, std::string& error);
  std::unique_ptr<Decoder> (*make_decoder)(const CodecParams& params, std::string& error);
  CodecQuality (*quality)(const CodecParams& params);
  /// RTP timestamp units a received payload covers (0 when it cannot tell), for the jitter buffer.
  uint32_t (*packet_duration_ts)(const uint8_t* payload, size_t size, const CodecParams& params);
};

/// Looks a codec up by its RTP encoding name (case-insensitive, as SDP's rtpmap is, RFC 4566 §6);
/// nullptr if unknown. The registry is read-only data: no state.
const CodecInfo* find_codec(std::string_view name) noexcept;

/// Comma-separated names, for error messages.
std::string codec_names();
/// The registry's names, in order.
std::vector<std::string> codec_name_list();

// The entries, each in its own file.
extern const CodecInfo kPcmuCodec;
extern const CodecInfo kPcmaCodec;
extern const CodecInfo kOpusCodec;

}  // namespace offhook::engine

#endif  // OFFHOOK_ENGINE_CODEC_H
