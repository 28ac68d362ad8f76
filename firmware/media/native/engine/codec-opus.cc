// Opus (RFC 6716, RTP payload RFC 7587) over libopus: 8, 16 or 48 kHz, in-band FEC and DTX as configured.
#include <opus/opus.h>

#include <algorithm>
#include <memory>
#include <string>

#include "engine/codec.h"

namespace offhook::engine {
namespace {

/// Largest frame libopus decodes: 120 ms at 48 kHz (RFC 6716 §3.2.5), for the decoder's scratch.
constexpr int kMaxFrameMs = 120;

int max_bandwidth_for(int rate) {
  if (rate <= 8000) return OPUS_BANDWIDTH_NARROWBAND;
  if (rate <= 16000) return OPUS_BANDWIDTH_WIDEBAND;
  return OPUS_BANDWIDTH_FULLBAND;
}

class OpusEncoderImpl final : public Encoder {
 public:
  OpusEncoderImpl(OpusEncoder* encoder, bool dtx) noexcept : encoder_(encoder), dtx_(dtx) {}
  ~OpusEncoderImpl() override { opus_encoder_destroy(encoder_); }
  OpusEncoderImpl(const OpusEncoderImpl&) = delete;
  OpusEncoderImpl& operator=(const OpusEncoderImpl&) = delete;

  int encode(const int16_t* pcm, size_t samples, uint8_t* out, size_t capacity) noexcept override {
    const opus_int32 n = opus_encode(encoder_, pcm, static_cast<int>(samples), out, static_cast<opus_int32>(capacity));
    if (n < 0) return -1;
    // libopus: a packet of 1 or 2 bytes in DTX "does not need to be transmitted" (opus_encode docs;
    // RFC 7587 §3.1.3): nothing to send, the receiver's decoder makes comfort noise from the gap.
    if (dtx_ && n <= 2) return 0;
    return n;
  }

 private:
  OpusEncoder* encoder_;
  bool dtx_;
};

/// Whether a packet carries LBRR (in-band FEC) data for the frame before it. RFC 6716 §4.2.3: a
/// SILK-only or hybrid frame (TOC configs 0–15, §3.1) starts with one VAD flag per 20 ms SILK frame
/// and then the LBRR flag; all are coded with equal probabilities, which the range coder (§4.1)
/// passes through as the leading bits of the first octet. CELT-only packets have no LBRR. Mono.
bool has_lbrr(const uint8_t* packet, size_t size) noexcept {
  if (size < 2) return false;
  const int config = packet[0] >> 3;
  if (config >= 16) return false;
  const unsigned char* frames[48];
  opus_int16 sizes[48];
  unsigned char toc = 0;
  const int count = opus_packet_parse(packet, static_cast<opus_int32>(size), &toc, frames, sizes, nullptr);
  if (count <= 0 || sizes[0] < 1) return false;
  // SILK frames per Opus frame: 1 for 10 and 20 ms, 2 for 40 ms, 3 for 60 ms (§4.2.2).
  const int samples = opus_packet_get_samples_per_frame(packet, 48000);
  const int silk_frames = samples > 960 ? samples / 960 : 1;
  return ((frames[0][0] >> (7 - silk_frames)) & 1) != 0;
}

class OpusDecoderImpl final : public Decoder {
 public:
  OpusDecoderImpl(OpusDecoder* decoder, int rate) noexcept : decoder_(decoder), rate_(rate) {}
  ~OpusDecoderImpl() override { opus_decoder_destroy(decoder_); }
  OpusDecoderImpl(const OpusDecoderImpl&) = delete;
  OpusDecoderImpl& operator=(const OpusDecoderImpl&) = delete;

  int decode(const uint8_t* payload, size_t size, int16_t* out, size_t max_samples) noexcept override {
    const size_t limit = std::min(max_samples, static_cast<size_t>(rate_ / 1000 * kMaxFrameMs));
    const int n = opus_decode(decoder_, payload, static_cast<opus_int32>(size), out, static_cast<int>(limit), 0);
    return n;
  }
  int conceal(int16_t* out, size_t samples) noexcept override {
    // A null packet asks libopus for its own concealment; frame_size must be a multiple of 2.5 ms.
    const int n = opus_decode(decoder_, nullptr, 0, out, static_cast<int>(samples), 0);
    return n < 0 ? 0 : n;
  }
  int decode_fec(const uint8_t* next_payload, size_t size, int16_t* out, size_t samples) noexcept override {
    // RFC 7587 §3.2 / opus_decode(decode_fec = 1): the LBRR copy of the previous frame that the next
    // packet carries. Without LBRR data (the sender has FEC off, or its encoder judged the frame not
    // speech) say so: the caller conceals instead, and counts it as concealment.
    if (!has_lbrr(next_payload, size)) return 0;
    const int n = opus_decode(decoder_, next_payload, static_cast<opus_int32>(size), out, static_cast<int>(samples), 1);
    return n < 0 ? 0 : n;
  }
  void reset() noexcept override { opus_decoder_ctl(decoder_, OPUS_RESET_STATE); }

 private:
  OpusDecoder* decoder_;
  int rate_;
};

std::string check_opus(const CodecParams& p) {
  if (p.rtp_clock_hz != 48000) return "opus uses a 48000 Hz RTP clock whatever its sample rate (RFC 7587 §4.1)";
  if (p.sample_rate_hz != 8000 && p.sample_rate_hz != 16000 && p.sample_rate_hz != 48000) {
    return "opus sampleRateHz must be 8000, 16000 or 48000";
  }
  if (p.ptime_ms != 10 && p.ptime_ms != 20 && p.ptime_ms != 40 && p.ptime_ms != 60) {
    return "opus ptimeMs must be 10, 20, 40 or 60 (RFC 6716 §2.1.4 frame sizes)";
  }
  if (p.bitrate_bps != 0 && (p.bitrate_bps < 6000 || p.bitrate_bps > 510000)) {
    return "opus bitrateBps must be from 6000 to 510000 (RFC 7587 §6.1)";
  }
  if (p.expected_loss_percent < 0 || p.expected_loss_percent > 100) return "opus expectedLossPercent must be 0 to 100";
  if (p.complexity < 0 || p.complexity > 10) return "opus complexity must be 0 to 10";
  return {};
}

std::unique_ptr<Encoder> make_opus_encoder(const CodecParams& p, std::string& error) {
  int err = OPUS_OK;
  OpusEncoder* encoder = opus_encoder_create(p.sample_rate_hz, 1, OPUS_APPLICATION_VOIP, &err);
  if (encoder == nullptr || err != OPUS_OK) {
    error = std::string("opus_encoder_create: ") + opus_strerror(err);
    return nullptr;
  }
  auto impl = std::make_unique<OpusEncoderImpl>(encoder, p.dtx);
  opus_encoder_ctl(encoder, OPUS_SET_SIGNAL(OPUS_SIGNAL_VOICE));
  opus_encoder_ctl(encoder, OPUS_SET_MAX_BANDWIDTH(max_bandwidth_for(p.sample_rate_hz)));
  opus_encoder_ctl(encoder, OPUS_SET_COMPLEXITY(p.complexity));
  if (p.bitrate_bps > 0) opus_encoder_ctl(encoder, OPUS_SET_BITRATE(p.bitrate_bps));
  // FEC (LBRR) is only produced when the encoder is told to expect loss (OPUS_SET_PACKET_LOSS_PERC).
  opus_encoder_ctl(encoder, OPUS_SET_INBAND_FEC(p.fec ? 1 : 0));
  opus_encoder_ctl(encoder, OPUS_SET_PACKET_LOSS_PERC(p.fec ? p.expected_loss_percent : 0));
  opus_encoder_ctl(encoder, OPUS_SET_DTX(p.dtx ? 1 : 0));
  return impl;
}

std::unique_ptr<Decoder> make_opus_decoder(const CodecParams& p, std::string& error) {
  int err = OPUS_OK;
  // Mono output whatever the sender's channel count: libopus downmixes (RFC 7587 §3.4 allows it).
  OpusDecoder* decoder = opus_decoder_create(p.sample_rate_hz, 1, &err);
  if (decoder == nullptr || err != OPUS_OK) {
    error = std::string("opus_decoder_create: ") + opus_strerror(err);
    return nullptr;
  }
  return std::make_unique<OpusDecoderImpl>(decoder, p.sample_rate_hz);
}

// Opus is not in ITU-T G.113 Appendix I. Provisional values, ours: Ie = 0 (we rate on the
// narrowband scale, where wideband Opus at voice bitrates is not worse than G.711) and Bpl = 25.1,
// the G.711-with-PLC value (Opus PLC is at least as robust); the loss fed to the formula is what
// was left after FEC. Look-ahead 6.5 ms (RFC 6716 §1: 26.5 ms algorithmic delay at 20 ms frames).
// To be replaced by P.863 measurements on the target.
CodecQuality opus_quality(const CodecParams& /*params*/) { return {0.0, 25.1, 6.5}; }

/// From the TOC octet and frame count (RFC 6716 §3.1), at the 48 kHz RTP clock.
uint32_t opus_duration(const uint8_t* payload, size_t size, const CodecParams& /*params*/) {
  if (size == 0) return 0;
  const int n = opus_packet_get_nb_samples(payload, static_cast<opus_int32>(size), 48000);
  return n > 0 ? static_cast<uint32_t>(n) : 0;
}

}  // namespace

const CodecInfo kOpusCodec = {"opus", 48000, check_opus, make_opus_encoder, make_opus_decoder, opus_quality, opus_duration};

}  // namespace offhook::engine
