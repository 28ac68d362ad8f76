// The ringer through the speaker: a tone cadence or a WAV file, looped until stopped, mixed into the playback path.
#ifndef OFFHOOK_ENGINE_RING_H
#define OFFHOOK_ENGINE_RING_H

#include <cstddef>
#include <cstdint>
#include <vector>

#include "engine/tones.h"

namespace offhook::engine {

/// Separate from the call-progress ToneGenerator so that a call-waiting tone and the ringer, or a key
/// tone while it rings, do not cancel each other. Control calls on the JS thread, render() on the
/// media thread, all under the engine lock; nothing allocates in render().
class RingPlayer {
 public:
  explicit RingPlayer(int sample_rate_hz) noexcept : tone_(sample_rate_hz) {}
  void play_tone(ToneSpec spec);
  /// `samples` at the engine rate; `gain` linear.
  void play_samples(std::vector<int16_t> samples, bool loop, double gain) noexcept;
  void stop() noexcept;
  bool playing() const noexcept { return mode_ != Mode::kNone; }
  void render(int32_t* mix, size_t frames) noexcept;

 private:
  enum class Mode { kNone, kTone, kSamples };
  Mode mode_ = Mode::kNone;
  ToneGenerator tone_;
  std::vector<int16_t> samples_;
  size_t position_ = 0;
  bool loop_ = true;
  double gain_ = 1.0;
};

}  // namespace offhook::engine

#endif  // OFFHOOK_ENGINE_RING_H
