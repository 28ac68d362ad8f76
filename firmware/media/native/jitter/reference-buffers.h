// Reference jitter buffers for the benchmark only: speexdsp's adaptive JitterBuffer behind our drive API,
// and a fixed-delay buffer. Not used by the media engine.
#ifndef OFFHOOK_JITTER_REFERENCE_BUFFERS_H
#define OFFHOOK_JITTER_REFERENCE_BUFFERS_H

#include <cstdint>
#include <mutex>
#include <vector>

#include "jitter-buffer.h"

// speexdsp's opaque state (speex/speex_jitter.h), kept out of this header.
struct JitterBuffer_;

namespace offhook::jitter {

/// libspeexdsp's JitterBuffer driven the way its manual describes: jitter_buffer_init(step) with the
/// frame size as step (so delay steps and concealment units are one frame), every other setting at its
/// default (margin 0, max late rate 4 %, automatic late cost, automatic adjustment); put() on arrival;
/// per play-out period of one frame, jitter_buffer_get(desired_span = frame) and then
/// jitter_buffer_tick(), or jitter_buffer_remaining_span(rem) when it returned more than a frame (the
/// rest is played in the next periods, which then call no get()). A new SSRC resets it, as an
/// application has to. Time is not an input of speexdsp: it counts ticks, so now_us is unused.
class SpeexJitterTwin {
 public:
  explicit SpeexJitterTwin(const Config& config);
  ~SpeexJitterTwin();
  SpeexJitterTwin(const SpeexJitterTwin&) = delete;
  SpeexJitterTwin& operator=(const SpeexJitterTwin&) = delete;

  void put(const Packet& packet);
  void pull(int64_t now_us, Pulled& out);
  Stats stats() const;
  void reset();

 private:
  const Config config_;
  const int32_t frame_ts_;
  mutable std::mutex mutex_;
  ::JitterBuffer_* jb_;
  std::vector<char> scratch_;
  bool have_ssrc_ = false;
  uint32_t ssrc_ = 0;
  bool synced_ = false;
  /// Timestamp units of the last returned chunk still to be played in later periods.
  int32_t leftover_ts_ = 0;
  Play leftover_kind_ = Play::kSilence;
  uint32_t leftover_timestamp_ = 0;
  Stats stats_;
};

/// Fixed play-out delay, re-anchored on each talkspurt: the first packet (and the first packet after a
/// silence that carries the marker bit, RFC 3551 §4.1) is played delay_ms after its arrival and the
/// following ones at their timestamp's offset from it — the "fixed" baseline of Ramjee et al. (1994).
class FixedDelayBuffer {
 public:
  FixedDelayBuffer(const Config& config, int delay_ms);

  void put(const Packet& packet);
  void pull(int64_t now_us, Pulled& out);
  Stats stats() const;
  void reset();

 private:
  struct Slot {
    bool used = false;
    bool marker = false;
    bool comfort_noise = false;
    uint16_t seq = 0;
    uint32_t ts = 0;
    uint32_t duration_ts = 0;
    uint32_t size = 0;
    int64_t arrival_us = 0;
  };
  Slot* find(uint32_t ts);
  Slot* earliest();

  const Config config_;
  const int delay_ms_;
  const uint32_t frame_ts_;
  mutable std::mutex mutex_;
  std::vector<Slot> slots_;
  std::vector<uint8_t> bytes_;
  bool have_ssrc_ = false;
  uint32_t ssrc_ = 0;
  bool anchored_ = false;
  bool in_silence_ = true;
  uint32_t play_ts_ = 0;
  Stats stats_;
};

}  // namespace offhook::jitter

#endif  // OFFHOOK_JITTER_REFERENCE_BUFFERS_H
