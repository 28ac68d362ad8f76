// One RTP stream of the engine: its sockets, send path (encoder → RTP), receive path (RTP → jitter buffer → decoder), RTCP.
#ifndef OFFHOOK_ENGINE_STREAM_H
#define OFFHOOK_ENGINE_STREAM_H

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/codec.h"
#include "engine/comfort-noise.h"
#include "engine/dtmf.h"
#include "engine/events.h"
#include "engine/random.h"
#include "engine/reception.h"
#include "engine/resampler.h"
#include "engine/srtp.h"
#include "engine/udp.h"
#include "jitter/jitter-buffer.h"

namespace offhook::engine {

/// RFC 3264 §5.1 / RFC 4566 §6 media directions.
enum class Direction { kSendRecv, kSendOnly, kRecvOnly, kInactive };
inline bool sends(Direction d) noexcept { return d == Direction::kSendRecv || d == Direction::kSendOnly; }
inline bool receives(Direction d) noexcept { return d == Direction::kSendRecv || d == Direction::kRecvOnly; }

struct JitterOptions {
  int min_delay_ms = 20;
  int max_delay_ms = 300;
  int initial_delay_ms = 60;
};

/// What a re-INVITE can change (StreamUpdate in the binding).
struct StreamMedia {
  Direction direction = Direction::kSendRecv;
  bool has_remote = false;
  std::string remote_address;
  uint16_t remote_port = 0;
  /// 0: the RTP port + 1 (RFC 3550 §11), or the RTP port with rtcp-mux.
  uint16_t remote_rtcp_port = 0;
  CodecParams codec;
  int telephone_event_pt = -1;
  int comfort_noise_pt = -1;
  /// 0 = off.
  int rtp_timeout_ms = 0;
  JitterOptions jitter;
  /// SRTP (RFC 3711) with SDES keys (RFC 4568); absent = plain RTP. A re-INVITE may re-key.
  std::optional<srtp::Params> srtp;
};

struct StreamConfig {
  std::string local_address = "0.0.0.0";
  uint16_t local_port = 0;
  /// 0: local_port + 1 (without rtcp-mux).
  uint16_t local_rtcp_port = 0;
  bool rtcp_mux = false;
  /// Symmetric RTP with latching: send to where the peer's packets come from (behind a NAT).
  bool latching = false;
  int rtcp_min_interval_ms = 5000;
  std::string cname;
  int dscp = 46;
  StreamMedia media;
};

/// Engine-wide things a stream uses; owned by the engine, outliving its streams.
struct EngineContext {
  int sample_rate_hz = 16000;
  size_t period_frames = 160;
  int64_t stats_interval_us = 1'000'000;
  /// NTP time (RFC 3550 §4) at the start of engine time; engine time runs from 0.
  uint64_t ntp_epoch = 0;
  Random* random = nullptr;
  EventSink* events = nullptr;
  /// Device counters, updated by the media thread under the engine lock.
  uint64_t capture_xruns = 0;
  uint64_t playback_xruns = 0;
  uint64_t late_ticks = 0;

  uint64_t ntp_at(int64_t engine_us) const noexcept;
};

/// All methods are called with the engine lock held: control methods on the JS thread, the media
/// methods on the media thread, receive() on the network thread (or the media thread, virtual clock).
class Stream {
 public:
  /// Opens the sockets (throws EngineError) and builds the codec (throws EngineError).
  Stream(uint32_t id, const StreamConfig& config, EngineContext& context);
  ~Stream();
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;

  uint32_t id() const noexcept { return id_; }
  uint16_t local_rtp_port() const noexcept { return rtp_socket_.local_port(); }
  uint16_t local_rtcp_port() const noexcept { return config_.rtcp_mux ? rtp_socket_.local_port() : rtcp_socket_.local_port(); }
  uint32_t local_ssrc() const noexcept { return ssrc_; }
  bool started() const noexcept { return started_; }
  int rtp_fd() const noexcept { return rtp_socket_.fd(); }
  int rtcp_fd() const noexcept { return rtcp_socket_.is_open() ? rtcp_socket_.fd() : -1; }

  // ---- control (JS thread)
  void update(const StreamMedia& media, int64_t now_us);
  void start(int64_t now_us);
  /// Sends an RTCP BYE (RFC 3550 §6.6) and stops sending and playing; start() resumes.
  void stop(int64_t now_us) noexcept;
  /// Queues RFC 4733 events; throws EngineError without a negotiated telephone-event payload type.
  void send_dtmf(const std::string& digits, int duration_ms, int gap_ms, int volume_dbm0);
  StreamStats stats(int64_t now_us) const;

  // ---- media thread, once per period
  void on_capture(const int16_t* pcm, size_t frames, int64_t now_us) noexcept;
  void render(int32_t* mix, size_t frames, int64_t now_us) noexcept;
  void on_timers(int64_t now_us) noexcept;

  // ---- network: reads everything waiting on the socket with that fd; arrival times from `clock`.
  void receive(int fd, int64_t (*clock)(const void*), const void* clock_arg) noexcept;

 private:
  void configure_media(const StreamMedia& media);
  void resolve_remote();
  void send_frame(const int16_t* frame, int64_t now_us) noexcept;
  void send_rtp(bool marker, uint8_t pt, uint32_t timestamp, const uint8_t* payload, size_t size) noexcept;
  /// SRTP / SRTCP check of a received packet in place; false (counted) when it must be dropped.
  bool unprotect(uint8_t* data, size_t& size, bool rtcp) noexcept;
  void on_rtp(const uint8_t* data, size_t size, const SocketAddress& from, int64_t arrival_us) noexcept;
  void on_rtcp(const uint8_t* data, size_t size, const SocketAddress& from, int64_t arrival_us) noexcept;
  void send_rtcp(int64_t now_us, bool bye) noexcept;
  void schedule_rtcp(int64_t now_us, bool initial) noexcept;
  void pull_frame(int64_t now_us);
  void post(std::unique_ptr<Event> event, int64_t now_us) const noexcept;
  uint32_t rtp_timestamp_at(int64_t now_us) const noexcept;

  const uint32_t id_;
  StreamConfig config_;
  EngineContext& ctx_;
  const CodecInfo* codec_ = nullptr;
  CodecQuality quality_;

  UdpSocket rtp_socket_;
  UdpSocket rtcp_socket_;
  SocketAddress remote_rtp_;
  SocketAddress remote_rtcp_;

  bool started_ = false;
  uint32_t ssrc_ = 0;

  // SRTP (null: plain RTP). Wraps send_rtp / send_rtcp and the start of receive.
  std::unique_ptr<srtp::StreamCrypto> srtp_;
  uint64_t srtp_auth_failures_ = 0;
  uint64_t srtp_replay_dropped_ = 0;

  // Send path.
  std::unique_ptr<Encoder> encoder_;
  std::unique_ptr<Resampler> tx_resampler_;
  std::vector<int16_t> tx_pending_;  // codec-rate samples waiting for a full packet
  std::vector<uint8_t> tx_packet_;
  size_t frame_samples_ = 0;         // per packet, at the codec rate
  uint32_t frame_ts_ = 0;            // per packet, in timestamp units
  uint16_t tx_seq_ = 0;
  uint32_t tx_ts_ = 0;               // timestamp of the next frame
  int64_t tx_ts_origin_us_ = 0;      // engine time at which tx_ts_origin_ was the media clock
  uint32_t tx_ts_origin_ = 0;
  bool talkspurt_start_ = true;
  dtmf::Sender dtmf_sender_;
  uint64_t packets_sent_ = 0;
  uint64_t bytes_sent_ = 0;
  uint64_t dtmf_events_sent_ = 0;
  uint64_t send_errors_ = 0;
  bool sent_since_report_ = false;
  bool sent_before_last_report_ = false;

  // Receive path.
  std::unique_ptr<Decoder> decoder_;
  std::unique_ptr<jitter::JitterBuffer> jitter_;
  std::unique_ptr<Resampler> rx_resampler_;
  SampleFifo playout_;
  std::vector<int16_t> decode_buffer_;
  std::vector<int16_t> resampled_;
  jitter::Pulled pulled_;
  ComfortNoise comfort_noise_;
  bool comfort_noise_active_ = false;
  bool comfort_noise_pending_ = false;  // a CN packet arrived; its level applies from its timestamp on
  uint32_t comfort_noise_pending_ts_ = 0;
  dtmf::Receiver dtmf_receiver_;
  ReceptionStats reception_;
  bool has_remote_ssrc_ = false;
  uint32_t remote_ssrc_ = 0;
  bool has_previous_ssrc_ = false;
  uint32_t previous_ssrc_ = 0;
  uint64_t packets_received_ = 0;
  uint64_t bytes_received_ = 0;
  uint64_t invalid_packets_ = 0;
  uint64_t unknown_payload_type_ = 0;
  uint64_t ssrc_changes_ = 0;
  uint64_t concealed_samples_ = 0;   // at the codec rate
  uint64_t comfort_noise_samples_ = 0;
  uint64_t fec_recovered_ = 0;
  double max_buffer_delay_ms_ = 0;
  int64_t last_rtp_us_ = 0;
  bool timeout_reported_ = false;

  // RTCP.
  int64_t next_rtcp_us_ = 0;
  double avg_rtcp_size_ = 128;
  bool peer_seen_ = false;
  bool peer_sent_ = false;
  uint32_t last_sr_middle_ = 0;
  int64_t last_sr_arrival_us_ = -1;
  uint64_t rtcp_sent_ = 0;
  uint64_t rtcp_received_ = 0;
  double rtt_ms_ = -1;
  bool has_remote_report_ = false;
  ReportBlockValues remote_report_;
  std::vector<uint8_t> rtcp_packet_;

  int64_t next_stats_us_ = 0;
};

}  // namespace offhook::engine

#endif  // OFFHOOK_ENGINE_STREAM_H
