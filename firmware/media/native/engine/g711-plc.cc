// G.711 packet loss concealment: pitch search by normalized cross-correlation, period repetition, fades.
#include "engine/g711-plc.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace offhook::engine {

void G711Plc::reset() noexcept {
  std::memset(history_, 0, sizeof history_);
  filled_ = 0;
  erased_ = 0;
  phase_ = 0;
}

int G711Plc::find_pitch() const noexcept {
  // Compare the newest 10 ms with the same span one candidate period earlier; the period whose copy
  // matches best (normalized cross-correlation) is the one to repeat.
  constexpr int kWindow = 80;
  const int16_t* newest = history_ + kHistory - kWindow;
  int best = kMinPitch;
  double best_score = -2;
  for (int p = kMinPitch; p <= kMaxPitch; ++p) {
    const int16_t* earlier = newest - p;
    double cross = 0, energy = 0;
    for (int i = 0; i < kWindow; ++i) {
      cross += static_cast<double>(newest[i]) * earlier[i];
      energy += static_cast<double>(earlier[i]) * earlier[i];
    }
    const double score = energy > 0 ? cross / std::sqrt(energy) : 0;
    if (score > best_score) {
      best_score = score;
      best = p;
    }
  }
  return best;
}

int16_t G711Plc::synth_next() noexcept {
  // Repeats the last pitch period of history_, cyclically.
  const int16_t sample = history_[kHistory - pitch_ + phase_];
  phase_ = (phase_ + 1) % pitch_;
  return sample;
}

void G711Plc::conceal(int16_t* out, size_t samples) noexcept {
  if (filled_ < kHistory) {  // nothing to repeat yet
    std::memset(out, 0, samples * sizeof(int16_t));
    erased_ += static_cast<int>(samples);
    return;
  }
  if (erased_ == 0) {
    pitch_ = find_pitch();
    phase_ = 0;
  }
  for (size_t i = 0; i < samples; ++i) {
    const int n = erased_ + static_cast<int>(i);
    double gain = 1.0;
    if (n >= kFullLevelSamples) gain = std::max(0.0, 1.0 - static_cast<double>(n - kFullLevelSamples) / kFadeSamples);
    out[i] = static_cast<int16_t>(std::lround(synth_next() * gain));
  }
  erased_ += static_cast<int>(samples);
}

void G711Plc::good(int16_t* pcm, size_t samples) noexcept {
  if (erased_ > 0 && filled_ >= kHistory) {
    // Cross-fade from the continued synthetic signal into the real one over kBlendSamples.
    const int n = std::min<int>(kBlendSamples, static_cast<int>(samples));
    const double tail_gain =
        erased_ >= kFullLevelSamples ? std::max(0.0, 1.0 - static_cast<double>(erased_ - kFullLevelSamples) / kFadeSamples) : 1.0;
    for (int i = 0; i < n; ++i) {
      const double w = static_cast<double>(i + 1) / (n + 1);
      const double synth = synth_next() * tail_gain;
      pcm[i] = static_cast<int16_t>(std::lround(synth * (1 - w) + pcm[i] * w));
    }
  }
  erased_ = 0;
  // Shift the new samples into the history.
  const int take = std::min<int>(static_cast<int>(samples), kHistory);
  std::memmove(history_, history_ + take, (kHistory - take) * sizeof(int16_t));
  std::memcpy(history_ + kHistory - take, pcm + (samples - static_cast<size_t>(take)), static_cast<size_t>(take) * sizeof(int16_t));
  filled_ = std::min(kHistory, filled_ + take);
}

}  // namespace offhook::engine
