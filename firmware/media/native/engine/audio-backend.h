// The audio device interface of the engine (capture and playback of 10 ms periods) and its registry by name.
#ifndef OFFHOOK_ENGINE_AUDIO_BACKEND_H
#define OFFHOOK_ENGINE_AUDIO_BACKEND_H

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace offhook::engine {

/// Options of a backend, taken generically from the JS options object (string and number members),
/// so that a new backend (ALSA: device, periods ...) needs no change to the binding.
struct AudioBackendOptions {
  std::string name;
  /// Engine rate and period: every read() and write() moves exactly period_frames mono samples.
  int sample_rate_hz = 16000;
  size_t period_frames = 160;
  std::map<std::string, std::string, std::less<>> strings;
  std::map<std::string, double, std::less<>> numbers;

  const std::string* string(std::string_view key) const {
    auto it = strings.find(key);
    return it == strings.end() ? nullptr : &it->second;
  }
  const double* number(std::string_view key) const {
    auto it = numbers.find(key);
    return it == numbers.end() ? nullptr : &it->second;
  }
};

/// Why opening a backend or one of its calls failed: a message for people and an errno when a
/// system call is the cause (0 otherwise), with the device or file it concerns.
struct AudioError {
  int err = 0;
  std::string message;
  std::string device;
};

/// One audio device. open() and close() run on the JS thread (engine creation and shutdown); read()
/// and write() on the media thread only, once per period, and never throw.
///
/// Pacing: the engine's clock drives the media thread (realtime: every 10 ms of CLOCK_MONOTONIC;
/// virtual: advance()). A device with its own clock (ALSA) says so with paces_itself(): then the
/// engine lets read() block until a period was captured and takes its time from that instead.
class AudioBackend {
 public:
  virtual ~AudioBackend() = default;
  virtual const char* name() const noexcept = 0;
  /// Prepares the device; false with `error` filled in.
  virtual bool open(const AudioBackendOptions& options, AudioError& error) = 0;
  virtual bool paces_itself() const noexcept { return false; }
  /// One period of microphone samples. False on a device error (the engine reports it once and
  /// carries on with silence).
  virtual bool read(int16_t* pcm, size_t frames, AudioError& error) noexcept = 0;
  /// One period for the speaker.
  virtual bool write(const int16_t* pcm, size_t frames, AudioError& error) noexcept = 0;
  /// Capture overruns and playback underruns so far (a file never has any).
  virtual uint64_t capture_xruns() const noexcept { return 0; }
  virtual uint64_t playback_xruns() const noexcept { return 0; }
  /// Flushes and releases the device; false with `error` when that failed (a WAV header not fixed).
  virtual bool close(AudioError& error) noexcept = 0;
};

/// Registry entry (CONVENTIONS.md #11), the way baresip registers auplay/ausrc modules by name.
struct AudioBackendInfo {
  const char* name;
  std::unique_ptr<AudioBackend> (*create)();
};

/// The backend of that name, or nullptr. The table is constant data.
const AudioBackendInfo* find_audio_backend(std::string_view name) noexcept;
std::string audio_backend_names();
std::vector<std::string> audio_backend_name_list();

std::unique_ptr<AudioBackend> make_file_backend();
std::unique_ptr<AudioBackend> make_null_backend();

}  // namespace offhook::engine

#endif  // OFFHOOK_ENGINE_AUDIO_BACKEND_H
