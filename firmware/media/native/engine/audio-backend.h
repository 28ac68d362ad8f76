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
  /// The engine runs on the virtual clock (tests): no real-time scheduling, no device pacing.
  bool virtual_clock = false;
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

/// What a device was set up with, as the driver chose it (snd_pcm_hw_params_get_*), per direction.
struct AudioDeviceSetup {
  std::string device;
  /// ALSA format name ("S16_LE", "S32_LE" ...).
  std::string format;
  int channels = 0;
  int rate_hz = 0;
  size_t period_frames = 0;
  size_t buffer_frames = 0;
};

/// Reported once per (re)opening of a device (the deviceOpened event).
struct AudioDeviceInfo {
  AudioDeviceSetup capture;
  AudioDeviceSetup playback;
  /// Capture and playback started and stopped together (snd_pcm_link: one card, one clock).
  bool linked = false;
  /// The media thread got SCHED_FIFO at `realtime_priority`; when refused, realtime_err says why.
  bool realtime = false;
  int realtime_priority = 0;
  int realtime_err = 0;
};

/// Counters of the `external` backend (AudioStats.external in firmware/media/media-engine.ts).
struct ExternalAudioStats {
  uint64_t capture_pushed_frames = 0;
  size_t capture_queued_frames = 0;
  /// Times the microphone ran dry after it had started (then silence until the pre-roll is queued again).
  uint64_t capture_underruns = 0;
  /// Pushes that did not fit, and the samples they cost (the oldest queued are dropped).
  uint64_t capture_overflows = 0;
  uint64_t capture_overflow_frames = 0;
  /// Samples dropped to take back a standing surplus (the sender's clock runs faster than the engine's).
  uint64_t capture_trimmed_frames = 0;
  uint64_t playback_delivered_frames = 0;
  /// Batches JS had not taken in time (playbackMaxPendingMs), and their samples.
  uint64_t playback_drops = 0;
  uint64_t playback_dropped_frames = 0;
};

/// The part of the `external` backend that JS drives: the microphone is PCM that JS pushes, the
/// speaker's output goes back to JS in batches (Event::Kind::kPlayback). No device clock: the
/// engine's clock paces both directions.
class ExternalAudio {
 public:
  virtual ~ExternalAudio() = default;
  /// JS thread: microphone samples at the engine rate, appended (a short lock, never a wait on the
  /// media thread's work). When the buffer is full the oldest samples are dropped and counted.
  virtual void push_capture(const int16_t* pcm, size_t frames) noexcept = 0;
  /// Media thread, after write(): a full batch of what the speaker played, copied into `out` (which
  /// must have room for playback_batch_frames()); false while the batch is still filling.
  virtual bool take_playback(std::vector<int16_t>& out) noexcept = 0;
  virtual size_t playback_batch_frames() const noexcept = 0;
  /// Media thread: a batch that JS had no room for (too many still undelivered).
  virtual void playback_dropped(size_t frames) noexcept = 0;
  /// How many batches may wait for JS before the next one is dropped.
  virtual size_t max_pending_batches() const noexcept = 0;
  /// Any thread.
  virtual ExternalAudioStats stats() const noexcept = 0;
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
  /// No device clock at all (file, null): a period's read() and write() may run up to a period late
  /// with no audible or measurable difference, so the engine may run two periods on one wake-up
  /// when the first has nothing time-critical to do (Engine::media_loop_realtime).
  virtual bool defers_ticks() const noexcept { return false; }
  /// One period of microphone samples. False on a device error (the engine reports it once and
  /// carries on with silence).
  virtual bool read(int16_t* pcm, size_t frames, AudioError& error) noexcept = 0;
  /// One period for the speaker.
  virtual bool write(const int16_t* pcm, size_t frames, AudioError& error) noexcept = 0;
  /// Capture overruns and playback underruns so far (a file never has any).
  virtual uint64_t capture_xruns() const noexcept { return 0; }
  virtual uint64_t playback_xruns() const noexcept { return 0; }
  /// Output latency in engine-rate frames beyond the one period the tick order adds (what the device
  /// buffers before the speaker plays it), so that the echo canceller's reference lines up.
  virtual size_t echo_delay_frames() const noexcept { return 0; }
  /// Media thread, after each tick: true once after every (re)opening, with what was set up.
  virtual bool take_opened(AudioDeviceInfo& /*info*/) noexcept { return false; }
  /// Flushes and releases the device; false with `error` when that failed (a WAV header not fixed).
  virtual bool close(AudioError& error) noexcept = 0;
  /// The JS-driven side of the `external` backend; nullptr for every other backend.
  virtual ExternalAudio* external() noexcept { return nullptr; }
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
std::unique_ptr<AudioBackend> make_alsa_backend();
std::unique_ptr<AudioBackend> make_external_backend();

}  // namespace offhook::engine

#endif  // OFFHOOK_ENGINE_AUDIO_BACKEND_H
