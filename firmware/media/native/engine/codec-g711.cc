// PCMU and PCMA (RFC 3551 §4.5.14) for the engine: our G.711 tables plus our PLC.
#include <memory>
#include <string>

#include "engine/codec.h"
#include "engine/g711-plc.h"
#include "g711.h"

namespace offhook::engine {
namespace {

template <bool kUlaw>
class G711Encoder final : public Encoder {
 public:
  int encode(const int16_t* pcm, size_t samples, uint8_t* out, size_t capacity) noexcept override {
    if (capacity < samples) return -1;
    if constexpr (kUlaw) {
      g711::ulaw_encode_block(pcm, out, samples);
    } else {
      g711::alaw_encode_block(pcm, out, samples);
    }
    return static_cast<int>(samples);  // one octet per sample (RFC 3551 §4.5.14)
  }
};

template <bool kUlaw>
class G711Decoder final : public Decoder {
 public:
  int decode(const uint8_t* payload, size_t size, int16_t* out, size_t max_samples) noexcept override {
    const size_t n = size < max_samples ? size : max_samples;
    if constexpr (kUlaw) {
      g711::ulaw_decode_block(payload, out, n);
    } else {
      g711::alaw_decode_block(payload, out, n);
    }
    plc_.good(out, n);
    return static_cast<int>(n);
  }
  int conceal(int16_t* out, size_t samples) noexcept override {
    plc_.conceal(out, samples);
    return static_cast<int>(samples);
  }
  void reset() noexcept override { plc_.reset(); }

 private:
  G711Plc plc_;
};

std::string check_g711(const CodecParams& p) {
  if (p.rtp_clock_hz != 8000 || p.sample_rate_hz != 8000) return "G.711 runs at 8000 Hz (RFC 3551 §4.5.14)";
  if (p.ptime_ms < 10 || p.ptime_ms > 200 || p.ptime_ms % 10 != 0) return "G.711 ptimeMs must be a multiple of 10 from 10 to 200";
  return {};
}

template <bool kUlaw>
std::unique_ptr<Encoder> make_g711_encoder(const CodecParams& /*params*/, std::string& /*error*/) {
  return std::make_unique<G711Encoder<kUlaw>>();
}

template <bool kUlaw>
std::unique_ptr<Decoder> make_g711_decoder(const CodecParams& /*params*/, std::string& /*error*/) {
  return std::make_unique<G711Decoder<kUlaw>>();
}

// ITU-T G.113 Appendix I: G.711 has Ie = 0, and Bpl = 25.1 with packet loss concealment
// (Bpl = 4.3 without). No look-ahead.
CodecQuality g711_quality(const CodecParams& /*params*/) { return {0.0, 25.1, 0.0}; }

/// One octet per sample at 8000 Hz: the payload size is its duration in timestamp units.
uint32_t g711_duration(const uint8_t* /*payload*/, size_t size, const CodecParams& /*params*/) {
  return static_cast<uint32_t>(size);
}

}  // namespace

const CodecInfo kPcmuCodec = {"PCMU", 8000, check_g711, make_g711_encoder<true>, make_g711_decoder<true>, g711_quality, g711_duration};
const CodecInfo kPcmaCodec = {"PCMA", 8000, check_g711, make_g711_encoder<false>, make_g711_decoder<false>, g711_quality, g711_duration};

}  // namespace offhook::engine
