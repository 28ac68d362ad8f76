// The media engine core: owns the audio device and the streams, runs the media thread (10 ms ticks: audio and RTP).
#ifndef OFFHOOK_ENGINE_ENGINE_H
#define OFFHOOK_ENGINE_ENGINE_H

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "engine/audio-backend.h"
#include "engine/audio-processing.h"
#include "engine/events.h"
#include "engine/random.h"
#include "engine/ring.h"
#include "engine/stream.h"
#include "engine/tones.h"

namespace offhook::engine {

/// CONVENTIONS.md #9: the engine's clock is injected. Realtime: CLOCK_MONOTONIC paces the media
/// thread (or the device, when it paces itself). Virtual: time stands still until advance(), which
/// runs the ticks due as fast as the CPU allows and returns when they are done.
enum class ClockMode { kRealtime, kVirtual };

struct EngineOptions {
  ClockMode clock = ClockMode::kRealtime;
  /// 8000, 16000, 32000 or 48000; streams convert to their codec's rate.
  int sample_rate_hz = 16000;
  /// Period of the stats events; 0 = none (getStats() still works).
  int64_t stats_interval_us = 1'000'000;
  bool has_seed = false;
  uint64_t seed = 0;
  AudioBackendOptions audio;
  /// Echo cancellation, noise suppression and AGC per audio path, and the path to start on.
  ProcessingOptions processing;
};

/// The engine's view of its audio device (getAudioStats() in the binding).
struct AudioStats {
  std::string backend;
  AudioPath path = AudioPath::kHandset;
  /// False from a device error until the device works again.
  bool device_ok = true;
  /// Set once the device reported its setup (deviceOpened); the last one.
  bool has_device_info = false;
  AudioDeviceInfo device_info;
  uint64_t capture_xruns = 0;
  uint64_t playback_xruns = 0;
  uint64_t late_ticks = 0;
  uint64_t device_errors = 0;
  uint64_t device_recoveries = 0;
  /// Streams in the conference (empty: none).
  std::vector<uint32_t> conference;
  /// The `external` backend's buffers.
  bool has_external = false;
  ExternalAudioStats external;
};

struct StreamInfo {
  uint32_t id = 0;
  uint16_t local_rtp_port = 0;
  uint16_t local_rtcp_port = 0;
  uint32_t local_ssrc = 0;
};

/// Threads:
///  - media thread ("offhook-media"): one tick per 10 ms period: capture; then every stream's socket
///    is read (RTP, RTCP → jitter buffer); echo canceller, noise suppression, AGC (AudioProcessor) →
///    each stream's encoder → RTP (a conference leg: plus the other legs); each stream's jitter buffer
///    → decoder → mix with the tone and the ringer → playback; then RTCP, RTP timeout and statistics
///    timers. Arrival times: realtime, the kernel's receive timestamps (SO_TIMESTAMPNS) on the engine
///    clock, as exact as a thread woken per packet would see them, without its wake-ups (a packet
///    that arrives between two ticks cannot play before the next one anyway); virtual, the tick's
///    time, which makes two engines on loopback UDP deterministic when a test interleaves their
///    advance() calls.
///  - JS thread: control calls; events come back through the EventSink (one thread-safe function).
/// One mutex (the engine lock) guards the streams and the tone generator; the device's read() and
/// write() run outside it, so that a blocking ALSA read never holds up JS.
class Engine {
 public:
  /// Opens the audio backend and starts the threads; throws EngineError.
  Engine(const EngineOptions& options, EventSink& events);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  StreamInfo create_stream(const StreamConfig& config);
  void update_stream(uint32_t id, const StreamMedia& media);
  void start_stream(uint32_t id);
  void stop_stream(uint32_t id);
  void close_stream(uint32_t id);
  void send_dtmf(uint32_t id, const std::string& digits, int duration_ms, int gap_ms, int volume_dbm0);
  StreamStats stream_stats(uint32_t id);
  void play_tone(ToneSpec spec);
  void stop_tone();
  /// The ringer on the speaker: a cadence, or samples at the engine rate (a WAV file, converted).
  void ring_tone(ToneSpec spec);
  void ring_samples(std::vector<int16_t> samples, bool loop, double gain);
  /// Reads a 16-bit PCM WAV (any rate, converted) and rings with it; throws EngineError.
  void ring_wav(const std::string& path, bool loop, double gain_db);
  void stop_ring();
  /// Mix-minus conference of 2 or more streams: the local user hears every leg, each leg hears the
  /// local user and the other legs, never itself. Replaces any conference; throws EngineError.
  void join_conference(const std::vector<uint32_t>& ids);
  void split_conference();
  /// Switches the capture processing to that path's settings (the filters start again), and the
  /// gains to that path's (ramped over the next period).
  void set_audio_path(AudioPath path);
  /// A path's gains, dB, clamped to kMinGainDb..kMaxGainDb; an absent one keeps its value. The
  /// microphone gain scales the capture after its processing (what every stream and the conference
  /// get); the speaker gain scales the call audio and the tones played, not the ringer (its own level).
  /// The current path's change ramps over one period.
  void set_gains(AudioPath path, std::optional<double> mic_db, std::optional<double> speaker_db);
  /// Muted: the microphone sends silence (zeros) to every stream and the conference; the far ends and
  /// the tones still play. Ramped over one period.
  void set_muted(bool muted);
  static constexpr double kMinGainDb = -40.0;
  static constexpr double kMaxGainDb = 20.0;
  AudioStats audio_stats() const;
  /// `external` backend: microphone samples at the engine rate from JS (throws EngineError
  /// ERR_MEDIA_STATE with any other backend). The speaker's side comes back as kPlayback events.
  void push_capture(const int16_t* pcm, size_t frames);
  /// Virtual clock only: runs the ticks of the next `us` microseconds, then returns.
  void advance(int64_t us);
  int64_t now_us() const noexcept;
  ClockMode clock() const noexcept { return clock_; }
  int sample_rate_hz() const noexcept { return context_.sample_rate_hz; }

  /// Stops and joins the threads, sends RTCP BYE on started streams, closes sockets and the device.
  /// Idempotent. False with `error` when the device could not be closed cleanly.
  bool shutdown(AudioError& error) noexcept;

 private:
  void media_loop_realtime() noexcept;
  void media_loop_virtual() noexcept;
  void receive_all(int64_t now_us) noexcept;
  /// Whether the next tick sends a packet on some stream (the one thing that cannot run late).
  bool tick_due() noexcept;
  void tick(int64_t now_us) noexcept;
  void device_error(const AudioError& error, bool capture, int64_t now_us) noexcept;
  void device_events(bool ok, int64_t now_us) noexcept;
  void mix_streams(int64_t now_us) noexcept;
  void deliver_playback(int64_t now_us) noexcept;
  void post_event(std::unique_ptr<Event> event, int64_t now_us) noexcept;
  std::shared_ptr<Stream> find(uint32_t id) const;
  void check_open() const;

  const ClockMode clock_;
  EventSink& events_;
  Random random_;
  EngineContext context_;
  std::unique_ptr<AudioBackend> backend_;
  /// The backend's JS-driven side (`external`), else nullptr; batches of it waiting for JS.
  ExternalAudio* external_ = nullptr;
  std::shared_ptr<std::atomic<int>> playback_pending_ = std::make_shared<std::atomic<int>>(0);
  ProcessingOptions processing_options_;
  const std::chrono::steady_clock::time_point origin_;
  const int64_t period_us_ = 10'000;

  // Engine lock: streams, tones, ringer, conference, capture processing, context counters.
  mutable std::mutex mutex_;
  std::vector<std::shared_ptr<Stream>> streams_;
  uint32_t next_stream_id_ = 1;
  ToneGenerator tones_;
  RingPlayer ring_;
  AudioProcessor processor_;
  AudioPath path_ = AudioPath::kHandset;
  /// Gains per path (dB) and the mute; the linear gains applied in the last period, ramped from.
  struct PathGains {
    double mic_db = 0;
    double speaker_db = 0;
  };
  std::array<PathGains, kAudioPathCount> gains_{};
  bool muted_ = false;
  double mic_gain_ = 1.0;
  double speaker_gain_ = 1.0;
  std::vector<uint32_t> conference_;
  /// One period of each stream's play-out (index as streams_), and what a conference leg sends.
  std::vector<std::vector<int32_t>> legs_;
  std::vector<char> in_conference_;  // per stream, refreshed each tick
  std::vector<int32_t> conference_sum_;
  std::vector<int16_t> leg_send_;
  bool device_ok_ = true;
  int64_t device_down_since_us_ = 0;
  uint64_t device_errors_ = 0;
  uint64_t device_recoveries_ = 0;
  bool has_device_info_ = false;
  AudioDeviceInfo device_info_;

  // Media thread buffers (one period each), touched only by the media thread.
  std::vector<int16_t> capture_;
  std::vector<int16_t> playback_;
  std::vector<int32_t> mix_;
  std::vector<int16_t> playback_batch_;
  bool capture_failed_ = false;
  std::string last_error_device_;
  bool playback_failed_ = false;

  // Clock and lifetime.
  std::mutex clock_mutex_;
  std::condition_variable clock_cv_;
  std::condition_variable done_cv_;
  std::atomic<bool> stop_{false};
  int64_t target_us_ = 0;     // virtual: advance() target
  int64_t next_tick_us_ = 0;  // virtual: time of the next tick
  std::atomic<int64_t> virtual_now_{0};
  bool shut_down_ = false;
  std::thread media_thread_;
};

}  // namespace offhook::engine

#endif  // OFFHOOK_ENGINE_ENGINE_H
