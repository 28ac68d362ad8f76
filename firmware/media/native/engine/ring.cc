// Ringer playback: the tone generator for cadences, a looping sample buffer for WAV ring tones.
#include "engine/ring.h"

#include <cmath>
#include <utility>

namespace offhook::engine {

void RingPlayer::play_tone(ToneSpec spec) {
  tone_.play(std::move(spec));
  mode_ = tone_.playing() ? Mode::kTone : Mode::kNone;
}

void RingPlayer::play_samples(std::vector<int16_t> samples, bool loop, double gain) noexcept {
  tone_.stop();
  samples_.swap(samples);  // the old buffer is freed by the caller (JS thread), not in render()
  position_ = 0;
  loop_ = loop;
  gain_ = gain;
  mode_ = samples_.empty() ? Mode::kNone : Mode::kSamples;
}

void RingPlayer::stop() noexcept {
  tone_.stop();
  mode_ = Mode::kNone;
}

void RingPlayer::render(int32_t* mix, size_t frames) noexcept {
  switch (mode_) {
    case Mode::kNone:
      return;
    case Mode::kTone:
      if (tone_.render(mix, frames)) mode_ = Mode::kNone;  // a cadence that does not repeat has ended
      return;
    case Mode::kSamples:
      for (size_t i = 0; i < frames; ++i) {
        if (position_ >= samples_.size()) {
          if (!loop_) {
            mode_ = Mode::kNone;
            return;
          }
          position_ = 0;
        }
        mix[i] += static_cast<int32_t>(std::lround(samples_[position_++] * gain_));
      }
      return;
  }
}

}  // namespace offhook::engine
