// The `file` audio backend: a WAV file or a generated sine as the microphone, a WAV file of what the speaker plays.
#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <memory>
#include <string>

#include "engine/audio-backend.h"
#include "engine/resampler.h"
#include "engine/wav.h"

namespace offhook::engine {
namespace {

constexpr double kTwoPi = 6.283185307179586;

/// Options (AudioFileBackendOptions in firmware/media/media-engine.ts):
///   captureWavPath   WAV played as the microphone (any rate; converted to the engine rate)
///   captureToneHz    or a sine at this frequency ...
///   captureLevelDbfs ... at this peak level (default −12 dBFS)
///   captureLoop      1 = start the WAV again at its end (default: silence after it)
///   playbackWavPath  WAV written with every period the speaker plays (mono, engine rate)
///   echoGainDb       a simulated acoustic echo (tests of the echo canceller): what the speaker
///   echoDelayMs      plays comes back into the microphone this much weaker, and this much later
///                    than the one period the tick order adds (read before write): the echo of the
///                    period written in tick k is in the microphone period read in tick k + 1 + delay.
///   echoReportedMs   of that delay, how much the backend reports as its output latency (as `alsa`
///                    does for the periods it keeps queued), for the echo canceller to skip
class FileBackend final : public AudioBackend {
 public:
  const char* name() const noexcept override { return "file"; }
  bool defers_ticks() const noexcept override { return true; }

  bool open(const AudioBackendOptions& options, AudioError& error) override {
    rate_ = options.sample_rate_hz;
    if (const std::string* path = options.string("captureWavPath")) {
      wav::Audio audio;
      std::string message;
      int err = 0;
      if (!wav::read(*path, audio, message, err)) {
        error = {err, "captureWavPath: " + message, *path};
        return false;
      }
      if (audio.sample_rate_hz != rate_) {
        Resampler resampler(audio.sample_rate_hz, rate_);
        resampler.process(audio.samples.data(), audio.samples.size(), capture_);
      } else {
        capture_ = std::move(audio.samples);
      }
      const double* loop = options.number("captureLoop");
      loop_ = loop != nullptr && *loop != 0;
    } else if (const double* hz = options.number("captureToneHz")) {
      if (!(*hz > 0 && *hz < rate_ / 2.0)) {
        error = {0, "captureToneHz must be above 0 and below half the engine rate", ""};
        return false;
      }
      tone_hz_ = *hz;
      const double* level = options.number("captureLevelDbfs");
      tone_peak_ = 32767.0 * std::pow(10.0, (level != nullptr ? *level : -12.0) / 20.0);
    }
    if (const std::string* path = options.string("playbackWavPath")) {
      const int err = writer_.open(*path, rate_);
      if (err != 0) {
        error = {err, "playbackWavPath: cannot create", *path};
        return false;
      }
      playback_path_ = *path;
    }
    const double* echo_gain = options.number("echoGainDb");
    const double* echo_delay = options.number("echoDelayMs");
    if (echo_gain != nullptr || echo_delay != nullptr) {
      const double delay_ms = echo_delay != nullptr ? *echo_delay : 0;
      if (!(delay_ms >= 0 && delay_ms <= 1000)) {
        error = {0, "echoDelayMs must be from 0 to 1000", ""};
        return false;
      }
      echo_ = true;
      echo_gain_ = std::pow(10.0, (echo_gain != nullptr ? *echo_gain : 0.0) / 20.0);
      echo_line_.push_silence(static_cast<size_t>(std::lround(delay_ms * rate_ / 1000.0)));
      const double* reported = options.number("echoReportedMs");
      if (reported != nullptr) {
        if (!(*reported >= 0 && *reported <= delay_ms)) {
          error = {0, "echoReportedMs must be from 0 to echoDelayMs", ""};
          return false;
        }
        echo_reported_frames_ = static_cast<size_t>(std::lround(*reported * rate_ / 1000.0));
      }
    }
    return true;
  }

  bool read(int16_t* pcm, size_t frames, AudioError& /*error*/) noexcept override {
    if (tone_hz_ > 0) {
      for (size_t i = 0; i < frames; ++i) {
        pcm[i] = static_cast<int16_t>(std::lround(tone_peak_ * std::sin(phase_)));
        phase_ += kTwoPi * tone_hz_ / rate_;
        if (phase_ > kTwoPi) phase_ -= kTwoPi;
      }
    } else {
      for (size_t i = 0; i < frames; ++i) {
        if (position_ >= capture_.size() && loop_ && !capture_.empty()) position_ = 0;
        pcm[i] = position_ < capture_.size() ? capture_[position_++] : 0;
      }
    }
    if (echo_) add_echo(pcm, frames);
    return true;
  }

  bool write(const int16_t* pcm, size_t frames, AudioError& error) noexcept override {
    if (echo_) {
      try {
        echo_line_.push(pcm, frames);
      } catch (const std::bad_alloc&) {
      }
    }
    if (!writer_.is_open()) return true;
    const int err = writer_.write(pcm, frames);
    if (err == 0) return true;
    error.err = err;
    error.message = "playbackWavPath: write failed";
    error.device = playback_path_;
    return false;
  }

  void add_echo(int16_t* pcm, size_t frames) noexcept {
    const size_t n = std::min(frames, echo_line_.size());
    const int16_t* echo = echo_line_.front();
    for (size_t i = 0; i < n; ++i) {
      const long v = pcm[i] + std::lround(echo[i] * echo_gain_);
      pcm[i] = static_cast<int16_t>(std::clamp(v, -32768L, 32767L));
    }
    echo_line_.drop(n);
  }

  size_t echo_delay_frames() const noexcept override { return echo_reported_frames_; }

  bool close(AudioError& error) noexcept override {
    const int err = writer_.close();
    if (err == 0) return true;
    error.err = err;
    error.message = "playbackWavPath: could not finish the file";
    error.device = playback_path_;
    return false;
  }

 private:
  int rate_ = 16000;
  std::vector<int16_t> capture_;
  size_t position_ = 0;
  bool loop_ = false;
  double tone_hz_ = 0;
  double tone_peak_ = 0;
  double phase_ = 0;
  wav::Writer writer_;
  std::string playback_path_;
  bool echo_ = false;
  double echo_gain_ = 0;
  SampleFifo echo_line_;
  size_t echo_reported_frames_ = 0;
};

}  // namespace

std::unique_ptr<AudioBackend> make_file_backend() { return std::make_unique<FileBackend>(); }

}  // namespace offhook::engine
