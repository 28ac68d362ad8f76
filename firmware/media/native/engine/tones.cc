// Tone synthesis: phase accumulators per frequency, cadence stepping, edge ramps.
#include "engine/tones.h"

#include <algorithm>
#include <cmath>
#include <utility>

namespace offhook::engine {
namespace {

constexpr double kTwoPi = 6.283185307179586;
constexpr double kModulationDepth = 0.9;
constexpr int kRampMs = 2;

}  // namespace

double dbm0_to_peak(double dbm0) noexcept { return 32768.0 * std::pow(10.0, (dbm0 - 3.17) / 20.0); }

void ToneGenerator::play(ToneSpec spec) {
  spec_ = std::move(spec);
  playing_ = !spec_.segments.empty();
  for (double& p : phase_) p = 0;
  if (playing_) enter(0);
}

void ToneGenerator::enter(size_t index) noexcept {
  segment_ = index;
  segment_pos_ = 0;
  const ToneSegment& s = spec_.segments[index];
  segment_len_ = static_cast<int64_t>(s.duration_ms) * rate_ / 1000;
  amplitude_ = dbm0_to_peak(s.level_dbm0);
}

bool ToneGenerator::render(int32_t* mix, size_t frames) noexcept {
  if (!playing_) return false;
  const int64_t ramp = static_cast<int64_t>(rate_) * kRampMs / 1000;
  for (size_t i = 0; i < frames; ++i) {
    if (segment_len_ > 0 && segment_pos_ >= segment_len_) {
      const size_t next = segment_ + 1;
      if (next < spec_.segments.size()) {
        enter(next);
      } else if (spec_.repeat) {
        enter(0);
      } else {
        playing_ = false;
        return true;
      }
    }
    const ToneSegment& s = spec_.segments[segment_];
    if (!s.frequencies_hz.empty()) {
      double value = 0;
      const size_t count = std::min<size_t>(s.frequencies_hz.size(), 4);
      if (s.alternate_ms > 0) {
        const int64_t step = std::max<int64_t>(1, static_cast<int64_t>(s.alternate_ms) * rate_ / 1000);
        const size_t k = static_cast<size_t>(segment_pos_ / step) % count;
        value = std::sin(phase_[0]);
        phase_[0] += kTwoPi * s.frequencies_hz[k] / rate_;
        if (phase_[0] > kTwoPi) phase_[0] -= kTwoPi;
      } else {
        for (size_t k = 0; k < count; ++k) {
          value += std::sin(phase_[k]);
          phase_[k] += kTwoPi * s.frequencies_hz[k] / rate_;
          if (phase_[k] > kTwoPi) phase_[k] -= kTwoPi;
        }
      }
      if (s.modulation_hz > 0) {
        value *= (1.0 - kModulationDepth / 2) + (kModulationDepth / 2) * std::sin(phase_[4]);
        phase_[4] += kTwoPi * s.modulation_hz / rate_;
        if (phase_[4] > kTwoPi) phase_[4] -= kTwoPi;
      }
      double gain = 1.0;
      if (segment_pos_ < ramp) gain = static_cast<double>(segment_pos_) / ramp;
      if (segment_len_ > 0 && segment_len_ - segment_pos_ < ramp) gain = std::min(gain, static_cast<double>(segment_len_ - segment_pos_) / ramp);
      mix[i] += static_cast<int32_t>(std::lround(value * amplitude_ * gain));
    }
    ++segment_pos_;
  }
  return false;
}

}  // namespace offhook::engine
