// Capture processing between the microphone and the encoders: echo cancellation, noise suppression and AGC (speexdsp), per audio path.
#ifndef OFFHOOK_ENGINE_AUDIO_PROCESSING_H
#define OFFHOOK_ENGINE_AUDIO_PROCESSING_H

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

struct SpeexEchoState_;
struct SpeexPreprocessState_;

namespace offhook::engine {

/// Where the sound goes in and out of the phone: each has its own acoustics, so its own settings
/// (a handset's earpiece barely reaches its microphone; a loudspeaker in a room does, for 100+ ms).
enum class AudioPath { kHandset = 0, kSpeaker = 1, kHeadset = 2 };
inline constexpr size_t kAudioPathCount = 3;
const char* audio_path_name(AudioPath path) noexcept;
/// False when `name` is not 'handset', 'speaker' or 'headset'.
bool parse_audio_path(std::string_view name, AudioPath& path) noexcept;

/// The settings of one path (AudioProcessingOptions in firmware/media/media-engine.ts).
struct PathProcessing {
  bool aec = true;
  /// Echo tail the adaptive filter covers (speex_echo_state_init's filter_length), ms.
  int aec_tail_ms = 128;
  /// Noise attenuation (SPEEX_PREPROCESS_SET_NOISE_SUPPRESS), dB below 0; 0 = off.
  int noise_suppression_db = -15;
  bool agc = false;
  /// AGC target loudness, dBFS (SPEEX_PREPROCESS_SET_AGC_LEVEL takes it as a 16-bit amplitude).
  double agc_level_dbfs = -18;
};

struct ProcessingOptions {
  std::array<PathProcessing, kAudioPathCount> paths{};
  AudioPath path = AudioPath::kHandset;
  ProcessingOptions();
};

/// Runs on the media thread once per period. configure() (JS thread) is called under the engine
/// lock like process(), so the two never overlap. speexdsp needs the echo reference aligned with
/// the echo: the speaker period the device played just before the microphone period that carries
/// its echo. The engine hands over the period it wrote in the previous tick; the backend's output
/// latency (echo_delay_frames) is added here with a short history, and what is left (the acoustic
/// path) is for the adaptive filter to find within its tail.
class AudioProcessor {
 public:
  AudioProcessor(int sample_rate_hz, size_t period_frames);
  ~AudioProcessor();
  AudioProcessor(const AudioProcessor&) = delete;
  AudioProcessor& operator=(const AudioProcessor&) = delete;

  /// (Re)builds the speexdsp states for `settings`: the filters start again from nothing. Throws
  /// std::bad_alloc / std::runtime_error when speexdsp cannot allocate.
  void configure(const PathProcessing& settings);
  /// In place on `capture`; `playback` is the speaker period written just before.
  void process(int16_t* capture, const int16_t* playback, size_t frames, size_t echo_delay_frames) noexcept;
  const PathProcessing& settings() const noexcept { return settings_; }

 private:
  void destroy() noexcept;

  const int rate_;
  const size_t frames_;
  PathProcessing settings_;
  SpeexEchoState_* echo_ = nullptr;
  SpeexPreprocessState_* preprocess_ = nullptr;
  std::vector<int16_t> cleaned_;
  // Speaker history, a ring of `history_` samples, for the device's output latency.
  std::vector<int16_t> history_;
  size_t history_write_ = 0;
  std::vector<int16_t> reference_;
};

}  // namespace offhook::engine

#endif  // OFFHOOK_ENGINE_AUDIO_PROCESSING_H
