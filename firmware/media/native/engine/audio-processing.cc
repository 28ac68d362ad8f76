// speexdsp echo canceller (MDF) feeding its residual-echo estimate to the preprocessor (noise suppression, AGC), per path.
#include "engine/audio-processing.h"

#include <speex/speex_echo.h>
#include <speex/speex_preprocess.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <new>
#include <stdexcept>

namespace offhook::engine {
namespace {

/// Longest output latency a backend may report: the speaker history is this long.
constexpr int kMaxEchoDelayMs = 200;

}  // namespace

const char* audio_path_name(AudioPath path) noexcept {
  switch (path) {
    case AudioPath::kHandset:
      return "handset";
    case AudioPath::kSpeaker:
      return "speaker";
    case AudioPath::kHeadset:
      return "headset";
  }
  return "handset";
}

bool parse_audio_path(std::string_view name, AudioPath& path) noexcept {
  if (name == "handset") {
    path = AudioPath::kHandset;
  } else if (name == "speaker") {
    path = AudioPath::kSpeaker;
  } else if (name == "headset") {
    path = AudioPath::kHeadset;
  } else {
    return false;
  }
  return true;
}

ProcessingOptions::ProcessingOptions() {
  // Handset: the earpiece couples little into the microphone, through a short path.
  paths[static_cast<size_t>(AudioPath::kHandset)] = {true, 64, -15, false, -18};
  // Loudspeaker: a room's reverberation lasts; the talker sits at varying distances, hence AGC.
  paths[static_cast<size_t>(AudioPath::kSpeaker)] = {true, 200, -20, true, -18};
  // Headset: no acoustic path worth cancelling.
  paths[static_cast<size_t>(AudioPath::kHeadset)] = {false, 64, -15, false, -18};
}

AudioProcessor::AudioProcessor(int sample_rate_hz, size_t period_frames)
    : rate_(sample_rate_hz),
      frames_(period_frames),
      cleaned_(period_frames, 0),
      history_(static_cast<size_t>(sample_rate_hz) * kMaxEchoDelayMs / 1000 + period_frames, 0),
      reference_(period_frames, 0) {
  settings_.aec = false;
  settings_.noise_suppression_db = 0;
}

AudioProcessor::~AudioProcessor() { destroy(); }

void AudioProcessor::destroy() noexcept {
  if (preprocess_ != nullptr) speex_preprocess_state_destroy(preprocess_);
  if (echo_ != nullptr) speex_echo_state_destroy(echo_);
  preprocess_ = nullptr;
  echo_ = nullptr;
}

void AudioProcessor::configure(const PathProcessing& settings) {
  destroy();
  settings_ = settings;
  std::fill(history_.begin(), history_.end(), int16_t{0});
  history_write_ = 0;
  const int frame = static_cast<int>(frames_);
  int rate = rate_;
  if (settings_.aec) {
    const int tail = std::max(frame, rate_ * settings_.aec_tail_ms / 1000);
    echo_ = speex_echo_state_init(frame, tail);
    if (echo_ == nullptr) throw std::bad_alloc();
    speex_echo_ctl(echo_, SPEEX_ECHO_SET_SAMPLING_RATE, &rate);
  }
  const bool denoise = settings_.noise_suppression_db < 0;
  // The residual echo suppressor lives in the preprocessor's spectral gain, which speexdsp only
  // applies with denoising on (preprocess.c: "If noise suppression is off, don't apply the gain");
  // with NS "off" and AEC on it runs with a noise floor of 0 dB, i.e. echo suppression only.
  if (settings_.aec || denoise || settings_.agc) {
    preprocess_ = speex_preprocess_state_init(frame, rate_);
    if (preprocess_ == nullptr) {
      destroy();
      throw std::bad_alloc();
    }
    int on = (settings_.aec || denoise) ? 1 : 0;
    speex_preprocess_ctl(preprocess_, SPEEX_PREPROCESS_SET_DENOISE, &on);
    int suppress = settings_.noise_suppression_db;
    speex_preprocess_ctl(preprocess_, SPEEX_PREPROCESS_SET_NOISE_SUPPRESS, &suppress);
    int agc = settings_.agc ? 1 : 0;
    if (speex_preprocess_ctl(preprocess_, SPEEX_PREPROCESS_SET_AGC, &agc) != 0 && settings_.agc) {
      destroy();
      throw std::runtime_error("this libspeexdsp has no AGC (a fixed-point build)");
    }
    if (settings_.agc) {
      // speexdsp's AGC level is a loudness in 16-bit sample units (default 8000, about −12 dBFS).
      float level = static_cast<float>(32768.0 * std::pow(10.0, settings_.agc_level_dbfs / 20.0));
      speex_preprocess_ctl(preprocess_, SPEEX_PREPROCESS_SET_AGC_LEVEL, &level);
    }
    if (echo_ != nullptr) speex_preprocess_ctl(preprocess_, SPEEX_PREPROCESS_SET_ECHO_STATE, echo_);
  }
}

void AudioProcessor::process(int16_t* capture, const int16_t* playback, size_t frames, size_t echo_delay_frames) noexcept {
  if (frames != frames_ || (echo_ == nullptr && preprocess_ == nullptr)) return;
  if (echo_ != nullptr) {
    // Keep the speaker history, then take the period `echo_delay_frames` older than the newest.
    const size_t size = history_.size();
    for (size_t i = 0; i < frames; ++i) {
      history_[history_write_] = playback[i];
      history_write_ = (history_write_ + 1) % size;
    }
    const size_t delay = std::min(echo_delay_frames, size - frames);
    size_t read = (history_write_ + size - frames - delay) % size;
    for (size_t i = 0; i < frames; ++i) {
      reference_[i] = history_[read];
      read = (read + 1) % size;
    }
    speex_echo_cancellation(echo_, capture, reference_.data(), cleaned_.data());
    std::memcpy(capture, cleaned_.data(), frames * sizeof(int16_t));
  }
  if (preprocess_ != nullptr) speex_preprocess_run(preprocess_, capture);
}

}  // namespace offhook::engine
