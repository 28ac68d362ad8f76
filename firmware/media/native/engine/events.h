// What the engine reports to JS (one queue, delivered through the engine's thread-safe function) and the statistics shape.
#ifndef OFFHOOK_ENGINE_EVENTS_H
#define OFFHOOK_ENGINE_EVENTS_H

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/audio-backend.h"

namespace offhook::engine {

/// Call quality of one stream (RtpStreamStats in firmware/media/media-stats.ts).
struct StreamStats {
  uint32_t stream_id = 0;
  uint32_t local_ssrc = 0;
  bool has_remote_ssrc = false;
  uint32_t remote_ssrc = 0;
  double engine_time_ms = 0;
  // Sent (RFC 3550 §6.4.1 sender info counts: payload octets, not headers).
  uint64_t packets_sent = 0;
  uint64_t bytes_sent = 0;
  uint64_t dtmf_events_sent = 0;
  uint64_t send_errors = 0;
  // Received.
  uint64_t packets_received = 0;
  uint64_t bytes_received = 0;
  int64_t packets_expected = 0;
  int64_t packets_lost = 0;
  uint64_t late_dropped = 0;
  uint64_t duplicates = 0;
  uint64_t reordered = 0;
  uint64_t concealed_ms = 0;
  uint64_t fec_recovered_frames = 0;
  uint64_t comfort_noise_ms = 0;
  uint64_t stretched_ms = 0;  ///< play-out made shorter or longer by time-stretching
  uint64_t invalid_packets = 0;
  uint64_t srtp_auth_failures = 0;   ///< RFC 3711 §3.3: dropped, the tag did not verify
  uint64_t srtp_replay_dropped = 0;  ///< RFC 3711 §3.3.2: dropped as a replay
  uint64_t unknown_payload_type = 0;
  uint64_t ssrc_changes = 0;
  double jitter_ms = 0;
  double burst_ratio = 1;
  // Jitter buffer.
  double buffer_delay_ms = 0;
  double buffer_target_ms = 0;
  double buffer_max_delay_ms = 0;
  // Device (engine-wide).
  uint64_t capture_xruns = 0;
  uint64_t playback_xruns = 0;
  uint64_t late_ticks = 0;
  // RTCP.
  uint64_t rtcp_sent = 0;
  uint64_t rtcp_received = 0;
  double rtt_ms = -1;  ///< -1 until an RR/SR with LSR came back
  bool has_remote_report = false;
  double remote_fraction_lost = 0;  ///< 0..1, what the peer reported about our stream
  int64_t remote_cumulative_lost = 0;
  double remote_jitter_ms = 0;
  uint32_t remote_highest_seq = 0;
  // E-model (ITU-T G.107).
  double one_way_delay_ms = 0;
  double effective_loss_percent = 0;
  double r_factor = 0;
  double mos = 0;
};

/// Counts an event among those still on their way to JS: taken when the event is made, given back
/// when it is destroyed (delivered, dropped by a failed post, or freed at teardown). Move-only.
class PendingToken {
 public:
  PendingToken() = default;
  explicit PendingToken(std::shared_ptr<std::atomic<int>> count) noexcept : count_(std::move(count)) {
    if (count_) count_->fetch_add(1);
  }
  PendingToken(PendingToken&& other) noexcept = default;
  PendingToken& operator=(PendingToken&& other) noexcept {
    if (this != &other) {
      release();
      count_ = std::move(other.count_);
    }
    return *this;
  }
  PendingToken(const PendingToken&) = delete;
  PendingToken& operator=(const PendingToken&) = delete;
  ~PendingToken() { release(); }

 private:
  void release() noexcept {
    if (count_) count_->fetch_sub(1);
    count_.reset();
  }
  std::shared_ptr<std::atomic<int>> count_;
};

struct Event {
  enum class Kind {
    kDtmf,           ///< RFC 4733 event begin / end
    kStats,          ///< periodic StreamStats
    kRtpTimeout,     ///< no RTP for rtpTimeoutMs while receiving
    kDeviceError,    ///< the audio backend failed (once per failure kind)
    kDeviceRecovered,  ///< after a device error, capture and playback work again
    kDeviceOpened,   ///< the device was (re)opened: what the driver set up
    kSsrcChanged,    ///< the peer's SSRC changed (RFC 3550 §8.2 / a B2BUA switching)
    kRemoteLatched,  ///< symmetric RTP: the remote address was taken from received packets
    kRtcpBye,        ///< the peer left (RFC 3550 §6.6)
    kToneEnded,      ///< a non-repeating tone finished
    kFlushed,        ///< the marker of drainEvents(): everything posted before it was delivered
    kPlayback,       ///< `external` backend: a batch of what the speaker played
  };
  Kind kind = Kind::kStats;
  uint32_t stream_id = 0;
  double engine_time_ms = 0;
  // kDtmf
  char digit = 0;
  bool dtmf_end = false;
  double duration_ms = 0;
  // kStats
  StreamStats stats;
  // kRtpTimeout
  double silent_ms = 0;
  // kDeviceError
  int err = 0;
  std::string message;
  std::string device;
  // kDeviceRecovered: how long the device was out
  double down_ms = 0;
  // kDeviceOpened
  AudioDeviceInfo device_info;
  // kSsrcChanged
  uint32_t ssrc = 0;
  uint32_t previous_ssrc = 0;
  // kRemoteLatched
  std::string address;
  uint16_t port = 0;
  bool rtcp = false;
  // kFlushed
  double token = 0;
  // kPlayback: mono samples at the engine rate; the token bounds how many batches wait for JS
  std::vector<int16_t> pcm;
  int sample_rate_hz = 0;
  PendingToken pending;
};

/// Where the engine's threads post events; never blocks, drops on failure.
class EventSink {
 public:
  virtual ~EventSink() = default;
  virtual void post(std::unique_ptr<Event> event) noexcept = 0;
};

}  // namespace offhook::engine

#endif  // OFFHOOK_ENGINE_EVENTS_H
