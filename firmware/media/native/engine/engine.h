// The media engine core: owns the audio device and the streams, runs the media thread (10 ms ticks) and the network thread.
#ifndef OFFHOOK_ENGINE_ENGINE_H
#define OFFHOOK_ENGINE_ENGINE_H

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "engine/audio-backend.h"
#include "engine/events.h"
#include "engine/random.h"
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
};

/// The slot of the echo canceller between capture and encoder: given the microphone period and the
/// speaker period played just before it. Pass-through until speexdsp's AEC is plugged in here.
class EchoCanceller {
 public:
  virtual ~EchoCanceller() = default;
  virtual void process(int16_t* capture, const int16_t* playback, size_t frames) noexcept = 0;
};

struct StreamInfo {
  uint32_t id = 0;
  uint16_t local_rtp_port = 0;
  uint16_t local_rtcp_port = 0;
  uint32_t local_ssrc = 0;
};

/// Threads:
///  - media thread ("offhook-media"): one tick per 10 ms period: capture → echo canceller → each
///    stream's encoder → RTP; each stream's jitter buffer → decoder → mix with the tone → playback;
///    then RTCP, RTP timeout and statistics timers. In virtual mode it also reads the sockets at the
///    start of each tick (arrival time = the tick's time), which makes two engines on loopback UDP
///    deterministic when a test interleaves their advance() calls.
///  - network thread ("offhook-rtp-rx", realtime only): poll() on every stream socket, arrival times
///    from the engine clock as packets are read, into the jitter buffers.
///  - JS thread: control calls; events come back through the EventSink (one thread-safe function).
/// One mutex (the engine lock) guards the streams and the tone generator; the device's read() and
/// write() run outside it, so that a blocking ALSA read never holds up the network thread or JS.
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
  void network_loop() noexcept;
  void tick(int64_t now_us) noexcept;
  void device_error(const AudioError& error, bool capture, int64_t now_us) noexcept;
  std::shared_ptr<Stream> find(uint32_t id) const;
  void wake_network() noexcept;
  void check_open() const;

  const ClockMode clock_;
  EventSink& events_;
  Random random_;
  EngineContext context_;
  std::unique_ptr<AudioBackend> backend_;
  std::unique_ptr<EchoCanceller> echo_;
  const std::chrono::steady_clock::time_point origin_;
  const int64_t period_us_ = 10'000;

  // Engine lock: streams, tones, context counters.
  mutable std::mutex mutex_;
  std::vector<std::shared_ptr<Stream>> streams_;
  uint32_t next_stream_id_ = 1;
  ToneGenerator tones_;

  // Media thread buffers (one period each), touched only by the media thread.
  std::vector<int16_t> capture_;
  std::vector<int16_t> playback_;
  std::vector<int32_t> mix_;
  bool capture_failed_ = false;
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
  int wake_fd_ = -1;
  std::thread media_thread_;
  std::thread network_thread_;
};

}  // namespace offhook::engine

#endif  // OFFHOOK_ENGINE_ENGINE_H
