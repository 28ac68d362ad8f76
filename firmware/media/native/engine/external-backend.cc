// The `external` audio backend: the microphone is PCM that JS pushes (a bounded buffer with a pre-roll), the speaker's output is handed to JS in batches; the engine's clock paces both.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "engine/audio-backend.h"

namespace offhook::engine {
namespace {

/// How long the capture buffer's lowest fill is watched before a standing surplus is dropped.
constexpr size_t kTrimWindowPeriods = 300;  // 3 s of 10 ms periods

/// Options (ExternalAudioBackendOptions in firmware/media/media-engine.ts), all in ms of audio:
///   capturePrerollMs      queued before the microphone starts, and again after it ran dry (default 40):
///                         the cushion for the sender's jitter (a WebSocket, a browser's main thread)
///   captureBufferMs       the most that is queued (default 300); a push beyond it drops the oldest
///   playbackBatchMs       the speaker's output goes to JS in batches of this much (default 20; whole periods)
///   playbackMaxPendingMs  batches not yet taken by JS beyond this much are dropped (default 200), so
///                         that a stalled event loop never makes the media thread queue without bound
///
/// The buffer is a ring guarded by its own mutex: push_capture() (JS thread) and read() (media thread)
/// hold it for a copy of a few hundred samples, never across anything that waits.
class ExternalBackend final : public AudioBackend, public ExternalAudio {
 public:
  const char* name() const noexcept override { return "external"; }
  bool defers_ticks() const noexcept override { return true; }
  ExternalAudio* external() noexcept override { return this; }

  bool open(const AudioBackendOptions& options, AudioError& error) override {
    rate_ = options.sample_rate_hz;
    period_ = options.period_frames;
    const auto ms = [&](const char* key, double fallback, double min, double max, double& out) {
      const double* v = options.number(key);
      out = v != nullptr ? *v : fallback;
      if (!(out >= min && out <= max)) {
        error = {0, std::string(key) + " must be from " + std::to_string(static_cast<int>(min)) + " to " + std::to_string(static_cast<int>(max)) + " ms", ""};
        return false;
      }
      return true;
    };
    double preroll_ms = 0;
    double buffer_ms = 0;
    double batch_ms = 0;
    double pending_ms = 0;
    if (!ms("capturePrerollMs", 40, 0, 1000, preroll_ms) || !ms("captureBufferMs", 300, 20, 5000, buffer_ms) ||
        !ms("playbackBatchMs", 20, 10, 200, batch_ms) || !ms("playbackMaxPendingMs", 200, 10, 5000, pending_ms)) {
      return false;
    }
    preroll_ = frames_of(preroll_ms);
    const size_t capacity = frames_of(buffer_ms);
    if (capacity < preroll_ + 2 * period_) {
      error = {0, "captureBufferMs must exceed capturePrerollMs by 2 periods (20 ms) at least", ""};
      return false;
    }
    // Whole periods: write() adds one period at a time.
    batch_frames_ = std::max<size_t>(1, (frames_of(batch_ms) + period_ - 1) / period_) * period_;
    max_pending_ = std::max<size_t>(1, static_cast<size_t>(std::lround(pending_ms / batch_ms)));
    ring_.assign(capacity, 0);
    batch_.reserve(batch_frames_);
    return true;
  }

  bool read(int16_t* pcm, size_t frames, AudioError& /*error*/) noexcept override {
    std::lock_guard<std::mutex> guard(mutex_);
    if (priming_) {
      if (size_ < std::max(preroll_, frames)) {
        std::fill(pcm, pcm + frames, int16_t{0});
        return true;
      }
      priming_ = false;
      window_min_ = size_;
      window_periods_ = 0;
    }
    const size_t n = pop(pcm, frames);
    if (n < frames) {
      // Ran dry: silence, and the pre-roll again before the microphone comes back.
      std::fill(pcm + n, pcm + frames, int16_t{0});
      ++stats_.capture_underruns;
      priming_ = true;
      return true;
    }
    // A surplus that never drains (the sender's clock is faster, or a burst after a stall) is latency
    // for nothing: when even the lowest fill of the last window stayed 2 periods above the pre-roll,
    // the excess is dropped at once (one skip) instead of being carried for the rest of the call.
    window_min_ = std::min(window_min_, size_);
    if (++window_periods_ >= kTrimWindowPeriods) {
      if (window_min_ > preroll_ + 2 * period_) {
        const size_t excess = window_min_ - preroll_;
        drop(excess);
        stats_.capture_trimmed_frames += excess;
      }
      window_min_ = size_;
      window_periods_ = 0;
    }
    return true;
  }

  bool write(const int16_t* pcm, size_t frames, AudioError& /*error*/) noexcept override {
    const size_t n = std::min(frames, batch_frames_ - std::min(batch_frames_, batch_.size()));
    batch_.insert(batch_.end(), pcm, pcm + n);  // within the reserved capacity: no allocation
    return true;
  }

  bool close(AudioError& /*error*/) noexcept override { return true; }

  uint64_t capture_xruns() const noexcept override {
    std::lock_guard<std::mutex> guard(mutex_);
    return stats_.capture_underruns + stats_.capture_overflows;
  }
  uint64_t playback_xruns() const noexcept override { return playback_drops_.load(std::memory_order_relaxed); }

  // ExternalAudio

  void push_capture(const int16_t* pcm, size_t frames) noexcept override {
    std::lock_guard<std::mutex> guard(mutex_);
    stats_.capture_pushed_frames += frames;
    const size_t capacity = ring_.size();
    if (frames > capacity) {
      // More than the whole buffer in one push: only its newest part can be kept.
      stats_.capture_overflow_frames += frames - capacity;
      pcm += frames - capacity;
      frames = capacity;
    }
    if (size_ + frames > capacity) {
      const size_t excess = size_ + frames - capacity;
      drop(excess);
      ++stats_.capture_overflows;
      stats_.capture_overflow_frames += excess;
    }
    size_t tail = (head_ + size_) % capacity;
    size_t left = frames;
    while (left > 0) {
      const size_t n = std::min(left, capacity - tail);
      std::memcpy(ring_.data() + tail, pcm, n * sizeof(int16_t));
      pcm += n;
      left -= n;
      size_ += n;
      tail = (tail + n) % capacity;
    }
  }

  bool take_playback(std::vector<int16_t>& out) noexcept override {
    if (batch_.size() < batch_frames_) return false;
    if (out.capacity() < batch_.size()) return false;  // the caller reserves a batch (no allocation here)
    out.assign(batch_.begin(), batch_.end());
    batch_.clear();
    playback_taken_.fetch_add(out.size(), std::memory_order_relaxed);
    return true;
  }

  void playback_dropped(size_t frames) noexcept override {
    playback_drops_.fetch_add(1, std::memory_order_relaxed);
    playback_dropped_frames_.fetch_add(frames, std::memory_order_relaxed);
  }

  size_t max_pending_batches() const noexcept override { return max_pending_; }
  size_t playback_batch_frames() const noexcept override { return batch_frames_; }

  ExternalAudioStats stats() const noexcept override {
    ExternalAudioStats s;
    {
      std::lock_guard<std::mutex> guard(mutex_);
      s = stats_;
      s.capture_queued_frames = size_;
    }
    s.playback_drops = playback_drops_.load(std::memory_order_relaxed);
    s.playback_dropped_frames = playback_dropped_frames_.load(std::memory_order_relaxed);
    s.playback_delivered_frames = playback_taken_.load(std::memory_order_relaxed) - s.playback_dropped_frames;
    return s;
  }

 private:
  size_t frames_of(double ms) const noexcept { return static_cast<size_t>(std::lround(ms * rate_ / 1000.0)); }

  /// Copies up to `frames` from the front of the ring; returns how many. Lock held.
  size_t pop(int16_t* out, size_t frames) noexcept {
    const size_t capacity = ring_.size();
    const size_t n = std::min(frames, size_);
    size_t done = 0;
    while (done < n) {
      const size_t k = std::min(n - done, capacity - head_);
      std::memcpy(out + done, ring_.data() + head_, k * sizeof(int16_t));
      done += k;
      head_ = (head_ + k) % capacity;
    }
    size_ -= n;
    return n;
  }

  /// Drops the `frames` oldest samples. Lock held.
  void drop(size_t frames) noexcept {
    const size_t n = std::min(frames, size_);
    head_ = (head_ + n) % ring_.size();
    size_ -= n;
  }

  int rate_ = 16000;
  size_t period_ = 160;
  size_t preroll_ = 0;
  size_t batch_frames_ = 320;
  size_t max_pending_ = 10;

  // Capture ring (mutex_).
  mutable std::mutex mutex_;
  std::vector<int16_t> ring_;
  size_t head_ = 0;
  size_t size_ = 0;
  bool priming_ = true;
  size_t window_min_ = 0;
  size_t window_periods_ = 0;
  ExternalAudioStats stats_;

  // Playback (media thread; the counters are read by any thread).
  std::vector<int16_t> batch_;
  std::atomic<uint64_t> playback_taken_{0};
  std::atomic<uint64_t> playback_drops_{0};
  std::atomic<uint64_t> playback_dropped_frames_{0};
};

}  // namespace

std::unique_ptr<AudioBackend> make_external_backend() { return std::make_unique<ExternalBackend>(); }

}  // namespace offhook::engine
