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

/// The stream's jitter buffer bounds (DEFAULT_JITTER in media-options.ts, which always sends them).
struct JitterOptions {
  int min_delay_ms = 0;
  int max_delay_ms = 300;
  int initial_delay_ms = 40;
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

/// When received datagrams arrived, on the engine clock. The media thread reads the sockets once per
/// tick: on the realtime clock a datagram's arrival is the kernel's receive timestamp (CLOCK_REALTIME)
/// carried over to the engine clock, both clocks read once when the reading starts; on the virtual
/// clock (and when the kernel gave no timestamp) it is `now_us`.
struct ArrivalClock {
  /// The tick that reads: when what it reads becomes available to play-out (the jitter buffer's
  /// arrival time, see Stream::on_rtp). Every pull of that tick is for a time within its period.
  int64_t tick_us = 0;
  int64_t now_us = 0;
  /// CLOCK_REALTIME at now_us, ns; 0 = every datagram arrives at now_us.
  int64_t realtime_ns = 0;
  /// A datagram that arrived after this (the tick's own time, plus its wake-up latency) is left for
  /// the next tick: a tick that runs late sees what it would have seen on time.
  int64_t cutoff_us = INT64_MAX;
  int64_t arrival_us(int64_t kernel_ns) const noexcept;
};

/// All methods are called with the engine lock held: control methods on the JS thread, the media
/// methods and receive() on the media thread.
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
  /// Whether the next tick sends a packet: the one thing a tick does that nothing can redo later.
  /// Everything else (capture from a file, pulls from the jitter buffer with what had arrived by the
  /// tick's time, timers, the speaker file) comes out the same when the tick runs a period late.
  bool due() const noexcept;
  /// Realtime: whether to read the sockets in the tick at `now_us`. RTP: every tick while the stream
  /// plays what it receives (the tick that reads a packet is when it becomes available to play-out:
  /// Stream::on_rtp), else every other period; RTCP every kRtcpReadUs (reports come every few
  /// seconds, with the kernel's arrival time).
  bool reads_rtp(int64_t now_us) const noexcept;
  bool reads_rtcp(int64_t now_us) const noexcept;

  // ---- network (media thread, each tick): reads everything waiting on the socket with that fd.
  void receive(int fd, const ArrivalClock& clock) noexcept;
  /// Realtime, when a stopped stream starts: reads and drops everything waiting on its sockets. It
  /// arrived before start() and is not the started stream's; the kernel's arrival stamp cannot say
  /// so on its own (the first datagrams after a system's first timestamping socket opens are stamped
  /// when read, as the kernel enables receive timestamps in deferred work).
  void discard_waiting() noexcept;

 private:
  void configure_media(const StreamMedia& media);
  void resolve_remote();
  void send_frame(const int16_t* frame, int64_t now_us) noexcept;
  void send_rtp(bool marker, uint8_t pt, uint32_t timestamp, const uint8_t* payload, size_t size) noexcept;
  /// SRTP / SRTCP check of a received packet in place; false (counted) when it must be dropped.
  bool unprotect(uint8_t* data, size_t& size, bool rtcp) noexcept;
  /// arrival_us: the kernel's receive time (statistics, RTCP); tick_us: the tick that reads it.
  void handle_datagram(uint8_t* buffer, size_t size, const SocketAddress& from, int64_t arrival_us, int64_t tick_us,
                       bool rtcp_socket) noexcept;
  void on_rtp(const uint8_t* data, size_t size, const SocketAddress& from, int64_t arrival_us, int64_t tick_us) noexcept;
  void on_rtcp(const uint8_t* data, size_t size, const SocketAddress& from, int64_t arrival_us) noexcept;
  void send_rtcp(int64_t now_us, bool bye) noexcept;
  void schedule_rtcp(int64_t now_us, bool initial) noexcept;
  void pull_frame(int64_t now_us);
  /// After a pull: the buffer's delay against its target (statistics, and play-out alignment).
  void track_delay(int64_t now_us) noexcept;
  /// Whether the rest of the last frame (`rest` samples, at most a period) should be skipped so that
  /// the next frame plays a period sooner.
  bool realign_due(size_t rest, int64_t now_us) const noexcept;
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
  int64_t started_at_us_ = 0;  // datagrams that arrived before it are dropped (handle_datagram)
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
  uint64_t stretched_samples_ = 0;   // at the codec rate: |played − decoded| of time-stretched frames
  uint64_t fec_recovered_ = 0;
  double max_buffer_delay_ms_ = 0;
  // Play-out alignment (render): frames are pulled on the engine's period grid, and where a frame
  // starts on that grid is the engine's choice, not the jitter buffer's (see render()).
  bool playing_ = false;            // a frame or a concealment was pulled since start()
  int64_t surplus_since_us_ = -1;   // since when the buffer has held a period more than its target
  int64_t last_realign_us_ = 0;
  int64_t last_rtp_read_us_ = 0;
  int64_t last_rtcp_read_us_ = 0;
  /// Per socket, a datagram read in a tick it arrived after (ArrivalClock::cutoff_us), for the next.
  struct HeldDatagram {
    std::vector<uint8_t> data;  // 2048 bytes, allocated with the stream
    size_t size = 0;            // 0: none
    SocketAddress from;
    int64_t arrival_us = 0;
  };
  HeldDatagram held_rtp_;
  HeldDatagram held_rtcp_;
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
