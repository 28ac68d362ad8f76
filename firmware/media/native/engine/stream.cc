// One RTP stream: sockets, the send path (resample → encode → RTP, RFC 4733 events), the receive path
// (RTP → statistics → jitter buffer → decode / conceal / comfort noise → resample), RTCP and timers.
#include "engine/stream.h"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "engine/emodel.h"
#include "engine/engine-error.h"
#include "engine/rtcp.h"
#include "engine/rtp.h"
#include "jitter/time-stretch.h"

namespace offhook::engine {
namespace {

/// IPv4 + UDP + RTP header octets, for the session bandwidth (RFC 3550 §6.2 counts lower layers).
constexpr double kRtpOverheadBytes = 20 + 8 + 12;
/// IPv4 + UDP octets added to an RTCP packet's size for avg_rtcp_size (RFC 3550 §6.3.3).
constexpr double kRtcpOverheadBytes = 28;
/// Largest decoded frame: 120 ms (Opus' limit, RFC 6716 §3.2.5).
constexpr int kMaxDecodeMs = 120;
/// Datagrams taken from one socket per wake-up, so that a flooding peer cannot starve the others.
constexpr int kMaxDatagramsPerRead = 256;
/// Mouth-to-ear delay added by the audio device, for the E-model: two 10 ms periods.
constexpr double kDeviceDelayMs = 20;
/// The part of the RTCP bandwidth in the session bandwidth (RFC 3550 §6.2: 5 %).
constexpr double kRtcpShare = 0.05;
/// Oldest arrival a kernel timestamp may give a datagram read now (beyond: a wall-clock step).
constexpr int64_t kMaxArrivalAgeUs = 2'000'000;
/// Play-out alignment (Stream::render): the buffer's delay must have exceeded its target by a period
/// for this long before the rest of a frame is skipped (longer than a buffer that shrinks by itself,
/// dropping frames or time-stretching, takes to do so), and skips are at least this far apart ...
constexpr int64_t kRealignHoldUs = 3'000'000;
constexpr int64_t kRealignGapUs = 3'000'000;
/// ... preferably where the skipped samples are quiet (below −30 dBFS), or anyway after this long.
constexpr int kQuietPeak = 1024;
constexpr int64_t kRealignForceUs = 5'000'000;
/// Packets of history before the buffer's target is trusted (its warm-up is 50).
constexpr uint64_t kRealignMinPackets = 50;
/// How often a realtime tick reads the RTCP socket (reports come every few seconds; their arrival
/// time is the kernel's).
constexpr int64_t kRtcpReadUs = 100'000;

[[noreturn]] void config_error(const std::string& message) { throw EngineError("ERR_MEDIA_CONFIG", message); }

bool same_codec(const CodecParams& a, const CodecParams& b) {
  return a.name == b.name && a.payload_type == b.payload_type && a.rtp_clock_hz == b.rtp_clock_hz &&
         a.sample_rate_hz == b.sample_rate_hz && a.ptime_ms == b.ptime_ms && a.fec == b.fec && a.dtx == b.dtx &&
         a.bitrate_bps == b.bitrate_bps && a.expected_loss_percent == b.expected_loss_percent && a.complexity == b.complexity;
}

bool same_jitter(const JitterOptions& a, const JitterOptions& b) {
  return a.min_delay_ms == b.min_delay_ms && a.max_delay_ms == b.max_delay_ms && a.initial_delay_ms == b.initial_delay_ms;
}

void check_payload_type(int pt, const char* field, bool rtcp_mux) {
  if (pt < 0 || pt > 127) config_error(std::string(field) + " must be from 0 to 127 (RFC 3550 §5.1)");
  // RFC 5761 §4: with rtcp-mux, payload types 64–95 would be taken for RTCP packet types 192–223.
  if (rtcp_mux && pt >= 64 && pt <= 95) config_error(std::string(field) + " must not be 64 to 95 with rtcp-mux (RFC 5761 §4)");
}

}  // namespace

uint64_t EngineContext::ntp_at(int64_t engine_us) const noexcept {
  // NTP fraction = µs × 2^32 / 10^6.
  const uint64_t seconds = static_cast<uint64_t>(engine_us / 1'000'000);
  const uint64_t micros = static_cast<uint64_t>(engine_us % 1'000'000);
  return ntp_epoch + (seconds << 32) + ((micros << 32) / 1'000'000);
}

Stream::Stream(uint32_t id, const StreamConfig& config, EngineContext& context) : id_(id), config_(config), ctx_(context) {
  // RFC 3550 §5.1 and §8.1: random SSRC, initial sequence number and timestamp.
  ssrc_ = ctx_.random->next_u32();
  tx_seq_ = static_cast<uint16_t>(ctx_.random->next_u32());
  tx_ts_ = ctx_.random->next_u32();
  if (config_.cname.empty()) config_.cname = "offhook";

  SocketAddress local;
  if (!SocketAddress::parse(config_.local_address, config_.local_port, local)) {
    config_error("localAddress must be a literal IPv4 or IPv6 address, not '" + config_.local_address + "'");
  }
  const char* syscall = "";
  auto fail = [&](int err, uint16_t port) {
    throw EngineError("ERR_MEDIA_SOCKET", std::string(std::strerror(err)) + ", " + syscall + " " + config_.local_address + " port " +
                                              std::to_string(port), err, syscall, config_.local_address);
  };
  if (config_.rtcp_mux) {
    if (const int err = rtp_socket_.open(local, config_.dscp, syscall)) fail(err, config_.local_port);
  } else if (config_.local_port != 0) {
    if (const int err = rtp_socket_.open(local, config_.dscp, syscall)) fail(err, config_.local_port);
    SocketAddress rtcp_local = local;
    const uint16_t rtcp_port = config_.local_rtcp_port != 0 ? config_.local_rtcp_port : static_cast<uint16_t>(config_.local_port + 1);
    rtcp_local.set_port(rtcp_port);
    if (const int err = rtcp_socket_.open(rtcp_local, config_.dscp, syscall)) fail(err, rtcp_port);
  } else {
    // RFC 3550 §11: RTP on an even port, RTCP on the next odd one. The kernel picks ports at random,
    // so a few tries find an even one whose neighbour is free.
    int err = 0;
    for (int attempt = 0; attempt < 64; ++attempt) {
      err = rtp_socket_.open(local, config_.dscp, syscall);
      if (err != 0) fail(err, 0);
      const uint16_t port = rtp_socket_.local_port();
      if (port % 2 != 0 || port == 65534) {
        rtp_socket_.close();
        continue;
      }
      SocketAddress rtcp_local = local;
      rtcp_local.set_port(static_cast<uint16_t>(port + 1));
      err = rtcp_socket_.open(rtcp_local, config_.dscp, syscall);
      if (err == 0) break;
      rtp_socket_.close();
      if (err != EADDRINUSE) fail(err, static_cast<uint16_t>(port + 1));
    }
    if (!rtcp_socket_.is_open()) fail(err != 0 ? err : EADDRINUSE, 0);
  }
  configure_media(config_.media);
  tx_packet_.reserve(rtp::kHeaderBytes + 1500 + srtp::kMaxTrailerBytes);
  held_rtp_.data.resize(2048);
  held_rtcp_.data.resize(2048);
}

Stream::~Stream() = default;

void Stream::configure_media(const StreamMedia& media) {
  const CodecInfo* codec = find_codec(media.codec.name);
  if (codec == nullptr) config_error("unknown codec '" + media.codec.name + "' (the engine has " + codec_names() + ")");
  CodecParams params = media.codec;
  params.name = codec->name;
  if (const std::string why = codec->check(params); !why.empty()) config_error(why);
  check_payload_type(params.payload_type, "payloadType", config_.rtcp_mux);
  if (media.telephone_event_pt >= 0) {
    check_payload_type(media.telephone_event_pt, "telephoneEvent.payloadType", config_.rtcp_mux);
    if (media.telephone_event_pt == params.payload_type) config_error("telephoneEvent.payloadType must differ from the codec's");
  }
  if (media.comfort_noise_pt >= 0) {
    check_payload_type(media.comfort_noise_pt, "comfortNoise.payloadType", config_.rtcp_mux);
    if (media.comfort_noise_pt == params.payload_type) config_error("comfortNoise.payloadType must differ from the codec's");
  }
  if (media.rtp_timeout_ms < 0) config_error("rtpTimeoutMs must not be negative");

  // The remote first: nothing is changed if it is wrong.
  SocketAddress remote_rtp, remote_rtcp;
  if (media.has_remote) {
    SocketAddress parsed;
    if (!SocketAddress::parse(media.remote_address, media.remote_port, parsed) || media.remote_port == 0) {
      config_error("remote address must be a literal IPv4 or IPv6 address with a port, not '" + media.remote_address + "'");
    }
    if (!rtp_socket_.adapt(parsed, remote_rtp)) {
      config_error("remote " + media.remote_address + " is not reachable from local address " + config_.local_address +
                   " (another address family)");
    }
    remote_rtcp = remote_rtp;
    if (!config_.rtcp_mux) {
      remote_rtcp.set_port(media.remote_rtcp_port != 0 ? media.remote_rtcp_port : static_cast<uint16_t>(media.remote_port + 1));
    }
  }

  // SRTP sessions before anything is committed: a key libsrtp refuses leaves the stream as it was.
  std::unique_ptr<srtp::StreamCrypto> crypto;
  if (media.srtp) crypto = std::make_unique<srtp::StreamCrypto>(*media.srtp, srtp_.get());

  const bool rebuild = codec_ == nullptr || !same_codec(params, config_.media.codec) || !same_jitter(media.jitter, config_.media.jitter);
  if (rebuild) {
    std::string error;
    auto encoder = codec->make_encoder(params, error);
    if (!encoder) config_error(error);
    auto decoder = codec->make_decoder(params, error);
    if (!decoder) config_error(error);
    jitter::Config jc;
    jc.clock_rate_hz = params.rtp_clock_hz;
    jc.ptime_ms = params.ptime_ms;
    jc.min_delay_ms = media.jitter.min_delay_ms;
    jc.max_delay_ms = media.jitter.max_delay_ms;
    jc.initial_delay_ms = media.jitter.initial_delay_ms;
    // Time-stretching play-out: the delay follows the buffer's target to the sample instead of in
    // whole frames, and a frame a little late is waited for in 2.5 ms steps rather than lost
    // (jitter-buffer.h). On the jitter traces (scripts/bench/jitter.ts) it adds 0.19-0.71x speexdsp's
    // mean delay at equal or lower late loss, meeting the target (0.8x) on 10 of 10 traces; whole
    // frames meet it on 2. It relies on the arrival times on_rtp gives the buffer (the tick that read
    // the packet): with the kernel's receive times it counted on packets not yet read, and a clean
    // real-time call concealed ~1.1 s in 6 s and stretched nearly every frame.
    jc.time_stretch = true;
    // Opus in-band FEC rebuilds a lost frame from the next packet, which must then be there: the
    // buffer holds a packet more than the delays it has seen ask for (jitter::Config::fec_hold_ms).
    jc.fec_hold_ms = params.fec ? params.ptime_ms : 0;
    std::unique_ptr<jitter::JitterBuffer> jitter;
    try {
      jitter = std::make_unique<jitter::JitterBuffer>(jc);
    } catch (const jitter::ConfigError& e) {
      config_error(std::string("jitter.") + e.what());
    }
    auto tx = std::make_unique<Resampler>(ctx_.sample_rate_hz, params.sample_rate_hz);
    auto rx = std::make_unique<Resampler>(params.sample_rate_hz, ctx_.sample_rate_hz);
    // Committed from here on: nothing below throws but allocation.
    codec_ = codec;
    encoder_ = std::move(encoder);
    decoder_ = std::move(decoder);
    jitter_ = std::move(jitter);
    tx_resampler_ = std::move(tx);
    rx_resampler_ = std::move(rx);
    frame_samples_ = static_cast<size_t>(params.sample_rate_hz) * static_cast<size_t>(params.ptime_ms) / 1000;
    frame_ts_ = static_cast<uint32_t>(params.rtp_clock_hz / 1000 * params.ptime_ms);
    tx_pending_.clear();
    tx_pending_.reserve(frame_samples_ * 2 + ctx_.period_frames * 2);
    playout_.clear();
    playing_ = false;
    surplus_since_us_ = -1;
    decode_buffer_.assign(static_cast<size_t>(params.sample_rate_hz / 1000 * kMaxDecodeMs), 0);
    resampled_.reserve(static_cast<size_t>(ctx_.sample_rate_hz / 1000 * kMaxDecodeMs) + 64);
    comfort_noise_active_ = false;
    talkspurt_start_ = true;
    dtmf_sender_.clear();
    quality_ = codec->quality(params);
  }
  config_.media = media;
  config_.media.codec = params;
  remote_rtp_ = remote_rtp;
  remote_rtcp_ = remote_rtcp;
  srtp_ = std::move(crypto);
}

void Stream::update(const StreamMedia& media, int64_t now_us) {
  const Direction before = config_.media.direction;
  const int old_clock = config_.media.codec.rtp_clock_hz;
  configure_media(media);
  if (config_.media.codec.rtp_clock_hz != old_clock) {
    tx_ts_origin_ = tx_ts_;
    tx_ts_origin_us_ = now_us;
  }
  if (!receives(before) && receives(config_.media.direction)) {
    last_rtp_us_ = now_us;  // RTP timeout counts from when we started expecting packets again
    timeout_reported_ = false;
  }
  if (!sends(config_.media.direction)) {
    dtmf_sender_.clear();
    talkspurt_start_ = true;
  }
}

void Stream::start(int64_t now_us) {
  if (started_) return;
  started_ = true;
  started_at_us_ = now_us;
  tx_ts_origin_ = tx_ts_;
  tx_ts_origin_us_ = now_us;
  talkspurt_start_ = true;
  last_rtp_us_ = now_us;
  timeout_reported_ = false;
  schedule_rtcp(now_us, true);
  next_stats_us_ = now_us + ctx_.stats_interval_us;
}

void Stream::stop(int64_t now_us) noexcept {
  if (!started_) return;
  send_rtcp(now_us, true);  // RFC 3550 §6.6: BYE when leaving the session
  started_ = false;
  tx_pending_.clear();
  playout_.clear();
  dtmf_sender_.clear();
  jitter_->reset();
  decoder_->reset();
  comfort_noise_active_ = false;
  playing_ = false;
  surplus_since_us_ = -1;
}

void Stream::send_dtmf(const std::string& digits, int duration_ms, int gap_ms, int volume_dbm0) {
  const StreamMedia& m = config_.media;
  if (m.telephone_event_pt < 0) {
    throw EngineError("ERR_MEDIA_STATE", "no telephone-event payload type (RFC 4733) was configured for stream " + std::to_string(id_));
  }
  if (!sends(m.direction)) throw EngineError("ERR_MEDIA_STATE", "stream " + std::to_string(id_) + " does not send (direction)");
  if (!started_) throw EngineError("ERR_MEDIA_STATE", "stream " + std::to_string(id_) + " is not started");
  if (duration_ms < 40 || duration_ms > 1000) config_error("durationMs must be from 40 to 1000");
  if (gap_ms < 0 || gap_ms > 5000) config_error("gapMs must be from 0 to 5000");
  if (volume_dbm0 > 0 || volume_dbm0 < -63) config_error("volumeDbm0 must be from -63 to 0 (RFC 4733 §2.3.4)");
  std::vector<dtmf::Digit> queued;
  for (char c : digits) {
    const int event = dtmf::event_of(c);
    if (event < 0) config_error(std::string("'") + c + "' is not a DTMF digit (0-9, *, #, A-D)");
    dtmf::Digit d;
    d.event = static_cast<uint8_t>(event);
    // The duration field is 16 bits (§2.5.1.3): 1000 ms at 48 kHz is 48000, within it.
    d.duration_ts = static_cast<uint32_t>(static_cast<int64_t>(duration_ms) * m.codec.rtp_clock_hz / 1000);
    d.gap_ts = static_cast<uint32_t>(static_cast<int64_t>(gap_ms) * m.codec.rtp_clock_hz / 1000);
    d.volume = static_cast<uint8_t>(-volume_dbm0);
    queued.push_back(d);
  }
  for (const dtmf::Digit& d : queued) dtmf_sender_.enqueue(d);
}

uint32_t Stream::rtp_timestamp_at(int64_t now_us) const noexcept {
  const int64_t elapsed = now_us - tx_ts_origin_us_;
  return tx_ts_origin_ + static_cast<uint32_t>(elapsed * config_.media.codec.rtp_clock_hz / 1'000'000);
}

// ---------------------------------------------------------------------------------------------------
// Send path

void Stream::on_capture(const int16_t* pcm, size_t frames, int64_t now_us) noexcept {
  if (!started_) return;
  try {
    tx_resampler_->process(pcm, frames, tx_pending_);
  } catch (const std::bad_alloc&) {
    return;
  }
  size_t offset = 0;
  while (tx_pending_.size() - offset >= frame_samples_) {
    send_frame(tx_pending_.data() + offset, now_us);
    offset += frame_samples_;
  }
  tx_pending_.erase(tx_pending_.begin(), tx_pending_.begin() + static_cast<std::ptrdiff_t>(offset));
}

void Stream::send_frame(const int16_t* frame, int64_t /*now_us*/) noexcept {
  const StreamMedia& m = config_.media;
  if (!sends(m.direction) || !remote_rtp_.valid()) {
    // Not sending: the media clock still runs (RFC 3550 §5.1: the timestamp reflects sampling time).
    dtmf_sender_.clear();
    talkspurt_start_ = true;
    tx_ts_ += frame_ts_;
    return;
  }
  dtmf::SendAction action;
  if (m.telephone_event_pt >= 0) action = dtmf_sender_.next(tx_ts_, frame_ts_);
  if (action.send) {
    uint8_t payload[4];
    dtmf::write_payload(action.payload, payload);
    send_rtp(action.marker, static_cast<uint8_t>(m.telephone_event_pt), action.timestamp, payload, sizeof payload);
    if (action.marker) ++dtmf_events_sent_;
  }
  if (!action.suppress_audio) {
    uint8_t encoded[1500];
    const int n = encoder_->encode(frame, frame_samples_, encoded, sizeof encoded);
    if (n > 0) {
      // RFC 3551 §4.1: the marker bit on the first packet of a talkspurt (after DTX or a pause).
      send_rtp(talkspurt_start_, static_cast<uint8_t>(m.codec.payload_type), tx_ts_, encoded, static_cast<size_t>(n));
      talkspurt_start_ = false;
    } else if (n == 0) {
      talkspurt_start_ = true;  // DTX: silent, the next packet starts a talkspurt
    }
  }
  tx_ts_ += frame_ts_;
}

void Stream::send_rtp(bool marker, uint8_t pt, uint32_t timestamp, const uint8_t* payload, size_t size) noexcept {
  tx_packet_.resize(rtp::kHeaderBytes + size);
  rtp::write_header(tx_packet_.data(), marker, pt, tx_seq_, timestamp, ssrc_);
  std::memcpy(tx_packet_.data() + rtp::kHeaderBytes, payload, size);
  ++tx_seq_;  // a packet the kernel refused is a lost packet: its number is used up all the same
  size_t length = tx_packet_.size();
  if (srtp_) {
    // RFC 3711 §3.3: encrypt the payload, append the tag. Within the reserved capacity: no allocation.
    tx_packet_.resize(length + srtp::kMaxTrailerBytes);
    length = srtp_->protect_rtp(tx_packet_.data(), length, tx_packet_.size());
    if (length == 0) {
      ++send_errors_;
      return;
    }
  }
  // Symmetric RTP (RFC 4961): sent from the socket we receive on.
  if (rtp_socket_.send_to(tx_packet_.data(), length, remote_rtp_) != 0) {
    ++send_errors_;
    return;
  }
  ++packets_sent_;
  bytes_sent_ += size;
  sent_since_report_ = true;
}

// ---------------------------------------------------------------------------------------------------
// Receive path

int64_t ArrivalClock::arrival_us(int64_t kernel_ns) const noexcept {
  if (realtime_ns == 0 || kernel_ns == 0) return now_us;
  // A wall-clock step between the datagram and the read would make its age absurd: keep it within
  // what a socket buffer can hold, and never in the future.
  const int64_t age_us = std::clamp<int64_t>((realtime_ns - kernel_ns) / 1000, 0, kMaxArrivalAgeUs);
  return now_us - age_us;
}

bool Stream::reads_rtp(int64_t now_us) const noexcept {
  if (started_ && receives(config_.media.direction)) return true;
  const int64_t period_us = static_cast<int64_t>(ctx_.period_frames) * 1'000'000 / ctx_.sample_rate_hz;
  return now_us - last_rtp_read_us_ >= 2 * period_us;
}

bool Stream::reads_rtcp(int64_t now_us) const noexcept { return now_us - last_rtcp_read_us_ >= kRtcpReadUs; }

void Stream::receive(int fd, const ArrivalClock& clock) noexcept {
  const bool rtcp_socket = rtcp_socket_.is_open() && fd == rtcp_socket_.fd();
  (rtcp_socket ? last_rtcp_read_us_ : last_rtp_read_us_) = clock.now_us;
  UdpSocket& socket = rtcp_socket ? rtcp_socket_ : rtp_socket_;
  if (!socket.is_open()) return;
  HeldDatagram& held = rtcp_socket ? held_rtcp_ : held_rtp_;
  if (held.size > 0) {
    if (held.arrival_us > clock.cutoff_us) return;  // still after this tick's time
    const size_t size = held.size;
    held.size = 0;
    handle_datagram(held.data.data(), size, held.from, held.arrival_us, clock.tick_us, rtcp_socket);
  }
  alignas(8) uint8_t buffer[2048];  // libsrtp works on 32-bit aligned packets
  SocketAddress from;
  for (int i = 0; i < kMaxDatagramsPerRead; ++i) {
    int64_t kernel_ns = 0;
    const ssize_t n = socket.receive(buffer, sizeof buffer, from, kernel_ns);
    if (n < 0) break;
    const int64_t arrival_us = clock.arrival_us(kernel_ns);
    if (arrival_us > clock.cutoff_us && held.data.size() >= static_cast<size_t>(n)) {
      // Arrived after this tick's time (the tick runs late: deferred, or a loaded machine): it is
      // the next tick's, as it would have been on time. Kept here; the rest waits in the socket.
      std::memcpy(held.data.data(), buffer, static_cast<size_t>(n));
      held.size = static_cast<size_t>(n);
      held.from = from;
      held.arrival_us = arrival_us;
      return;
    }
    handle_datagram(buffer, static_cast<size_t>(n), from, arrival_us, clock.tick_us, rtcp_socket);
  }
}

void Stream::discard_waiting() noexcept {
  held_rtp_.size = 0;
  held_rtcp_.size = 0;
  alignas(8) uint8_t buffer[2048];
  SocketAddress from;
  for (UdpSocket* socket : {&rtp_socket_, &rtcp_socket_}) {
    if (!socket->is_open()) continue;
    int64_t kernel_ns = 0;
    // Bounded: a flood cannot hold the engine's lock (what is left is dropped by arrival time).
    for (int i = 0; i < 4 * kMaxDatagramsPerRead; ++i) {
      if (socket->receive(buffer, sizeof buffer, from, kernel_ns) < 0) break;
    }
  }
}

void Stream::handle_datagram(uint8_t* buffer, size_t size, const SocketAddress& from, int64_t arrival_us, int64_t tick_us,
                             bool rtcp_socket) noexcept {
  // A stopped stream drops what arrives, by the datagram's time of arrival, not of reading: the
  // sockets are read in the media tick (a stopped stream's RTCP socket only every kRtcpReadUs), so
  // what a peer sent before start() (baresip's APP "PING" that opens the NAT pinhole) may still be
  // waiting in the socket when the stream starts. It was never ours to count (invalid_packets_) or
  // to latch on, as it was not when a network thread drained the sockets all the time.
  if (!started_ || arrival_us < started_at_us_) return;
  // RFC 5761 §4 demultiplexing; applied on the RTP socket even without rtcp-mux, since RTP never
  // uses payload types 72–76 and some peers mux without saying so. SRTP and SRTCP leave the
  // first octets in clear (RFC 3711 §3.1, §3.4), so this works before unprotecting.
  const bool rtcp = rtcp_socket || rtp::looks_like_rtcp(buffer, size);
  if (srtp_ && !unprotect(buffer, size, rtcp)) return;
  if (rtcp) {
    on_rtcp(buffer, size, from, arrival_us);
  } else {
    on_rtp(buffer, size, from, arrival_us, tick_us);
  }
}

bool Stream::unprotect(uint8_t* data, size_t& size, bool rtcp) noexcept {
  switch (srtp_->unprotect(data, size, rtcp)) {
    case srtp::Unprotected::kOk:
      return true;
    case srtp::Unprotected::kAuthFailure:
      // RFC 3711 §3.3 step 5: a packet whose tag fails is dropped unseen: never decoded into noise,
      // never taken for the peer (no latching, no RTP-timeout reset, no RTCP statistics).
      ++srtp_auth_failures_;
      return false;
    case srtp::Unprotected::kReplay:
      ++srtp_replay_dropped_;  // RFC 3711 §3.3.2: a replayed (or duplicated) packet
      return false;
    case srtp::Unprotected::kInvalid:
      break;
  }
  ++invalid_packets_;
  return false;
}

void Stream::on_rtp(const uint8_t* data, size_t size, const SocketAddress& from, int64_t arrival_us, int64_t tick_us) noexcept {
  rtp::Header h;
  if (rtp::parse(data, size, h) != rtp::ParseResult::kOk) {
    ++invalid_packets_;
    return;
  }
  const StreamMedia& m = config_.media;
  const bool audio = h.payload_type == m.codec.payload_type;
  const bool event = m.telephone_event_pt >= 0 && h.payload_type == m.telephone_event_pt;
  const bool cn = m.comfort_noise_pt >= 0 && h.payload_type == m.comfort_noise_pt;
  if (!audio && !event && !cn) {
    ++unknown_payload_type_;
    return;
  }
  if (!receives(m.direction)) return;  // RFC 3264 §5.1: sendonly / inactive: not expected, not played

  if (!has_remote_ssrc_) {
    has_remote_ssrc_ = true;
    remote_ssrc_ = h.ssrc;
  } else if (h.ssrc != remote_ssrc_) {
    if (has_previous_ssrc_ && h.ssrc == previous_ssrc_) return;  // a straggler of the source that was replaced
    // RFC 3550 §8.2: a new SSRC is a new source: new statistics, new DTMF state, no LSR of the old one.
    // The jitter buffer restarts its timeline by itself and flags the first frame as a discontinuity.
    auto changed = std::make_unique<Event>();
    changed->kind = Event::Kind::kSsrcChanged;
    changed->ssrc = h.ssrc;
    changed->previous_ssrc = remote_ssrc_;
    previous_ssrc_ = remote_ssrc_;
    has_previous_ssrc_ = true;
    remote_ssrc_ = h.ssrc;
    ++ssrc_changes_;
    reception_ = ReceptionStats{};
    dtmf_receiver_.reset();
    last_sr_middle_ = 0;
    last_sr_arrival_us_ = -1;
    post(std::move(changed), arrival_us);
  }

  const uint32_t arrival_ts = static_cast<uint32_t>(arrival_us * m.codec.rtp_clock_hz / 1'000'000);
  const bool valid = reception_.update(h.seq, h.timestamp, arrival_ts);
  ++packets_received_;
  bytes_received_ += h.payload_size;
  last_rtp_us_ = arrival_us;
  timeout_reported_ = false;

  // Latching (RFC 7362 §4.1): answer where a validated source (RFC 3550 A.1 probation passed) really
  // sends from, which is the NAT's public side when the peer is behind one.
  if (config_.latching && valid && from != remote_rtp_) {
    remote_rtp_ = from;
    if (config_.rtcp_mux) remote_rtcp_ = from;
    auto latched = std::make_unique<Event>();
    latched->kind = Event::Kind::kRemoteLatched;
    latched->address = from.ip();
    latched->port = from.port();
    post(std::move(latched), arrival_us);
  }

  const uint8_t* payload = data + h.payload_offset;
  jitter::Packet packet;
  packet.ssrc = h.ssrc;
  packet.seq = h.seq;
  packet.timestamp = h.timestamp;
  packet.marker = h.marker;
  // The jitter buffer gets the time the packet became available to play-out: the tick that read it,
  // not the kernel's arrival (kept above for the RFC 3550 jitter, the RTP timeout and the events).
  // A pull is for the time its audio starts to play, within the tick's period: after the rest of the
  // previous frame, which under time-stretching is any length. A packet the kernel received before
  // that time but after this tick's read is not in the buffer; stamped with its kernel time, it would
  // look in time (d <= offset) and the buffer would count on it, find it missing, conceal a whole
  // frame, rewind when it comes, and stretch the inserted concealment out again: over and over, on a
  // clean path. Stamped with the reading tick, "in time" is what the pull actually finds: read by
  // this tick (stamp <= every pull time of it) or by a later one (stamp > every pull time of this).
  // The delays the buffer learns lie on the tick grid, as play-out does; the socket is read in every
  // tick while the stream receives (reads_rtp), so a stamp is at most a period after the arrival.
  packet.arrival_us = tick_us;
  packet.payload = payload;
  packet.size = h.payload_size;
  if (audio) {
    packet.duration_ts = codec_->packet_duration_ts(payload, h.payload_size, m.codec);
    // An Opus DTX frame (≤ 2 octets, RFC 7587 §3.1.3) means the sender went silent.
    packet.comfort_noise = codec_ == &kOpusCodec && h.payload_size <= 2;
    jitter_->put(packet);
  } else if (cn) {
    // RFC 3389: a level (and spectrum) until the next audio packet. A CN packet says nothing about its
    // duration; one packet interval is what the sender's frames last.
    packet.comfort_noise = true;
    packet.duration_ts = frame_ts_;
    jitter_->put(packet);
    // The jitter buffer may drop the CN frame itself to shrink its delay (silence is where it does
    // that); the level must still reach play-out, so it is also kept here, keyed by its timestamp.
    if (comfort_noise_.set_from_payload(payload, h.payload_size)) {
      comfort_noise_pending_ = true;
      comfort_noise_pending_ts_ = h.timestamp;
    }
  } else {
    dtmf::Payload p;
    if (!dtmf::read_payload(payload, h.payload_size, p)) {
      ++invalid_packets_;
      return;
    }
    if (dtmf_receiver_.is_new(h.timestamp)) {
      // The sender stops audio during an event (RFC 4733 §2.6): tell the jitter buffer that the gap
      // is silence, not loss, with an empty comfort-noise packet at the event's timestamp.
      packet.payload = nullptr;
      packet.size = 0;
      packet.comfort_noise = true;
      packet.duration_ts = frame_ts_;
      jitter_->put(packet);
    }
    dtmf::Notification notes[3];
    const int n = dtmf_receiver_.on_packet(h.timestamp, p, notes);
    for (int i = 0; i < n; ++i) {
      const char digit = dtmf::digit_of(notes[i].event);
      if (digit == '\0') continue;  // events 16+ (flash, tones): not DTMF
      auto e = std::make_unique<Event>();
      e->kind = Event::Kind::kDtmf;
      e->digit = digit;
      e->dtmf_end = notes[i].kind == dtmf::Notification::Kind::kEnd;
      e->duration_ms = static_cast<double>(notes[i].duration_ts) * 1000.0 / m.codec.rtp_clock_hz;
      post(std::move(e), arrival_us);
    }
  }
}

void Stream::on_rtcp(const uint8_t* data, size_t size, const SocketAddress& from, int64_t arrival_us) noexcept {
  rtcp::Incoming in;
  bool ok = false;
  try {
    ok = rtcp::parse(data, size, ssrc_, in);
  } catch (const std::bad_alloc&) {
    ok = false;
  }
  if (!ok) {
    ++invalid_packets_;
    return;
  }
  ++rtcp_received_;
  peer_seen_ = true;
  avg_rtcp_size_ = (static_cast<double>(size) + kRtcpOverheadBytes) / 16.0 + avg_rtcp_size_ * 15.0 / 16.0;  // A.7
  if (config_.latching && !config_.rtcp_mux && from != remote_rtcp_) {
    remote_rtcp_ = from;
    auto latched = std::make_unique<Event>();
    latched->kind = Event::Kind::kRemoteLatched;
    latched->address = from.ip();
    latched->port = from.port();
    latched->rtcp = true;
    post(std::move(latched), arrival_us);
  }
  if (in.has_sender_info && (!has_remote_ssrc_ || in.sender_ssrc == remote_ssrc_)) {
    peer_sent_ = true;
    last_sr_middle_ = rtcp::ntp_middle(in.ntp);  // echoed back as LSR in our next report (§6.4.1)
    last_sr_arrival_us_ = arrival_us;
  }
  if (in.has_block_for_us) {
    has_remote_report_ = true;
    remote_report_ = in.block.values;
    if (in.block.lsr != 0) {
      // §6.4.1: RTT = A − LSR − DLSR, all in 1/65536 s, A being the arrival time of this report.
      const uint32_t a = rtcp::ntp_middle(ctx_.ntp_at(arrival_us));
      const uint32_t rtt = a - in.block.lsr - in.block.dlsr;
      if (static_cast<int32_t>(rtt) >= 0) rtt_ms_ = static_cast<double>(rtt) * 1000.0 / 65536.0;
    }
  }
  if (in.bye && has_remote_ssrc_ && std::find(in.bye_ssrcs.begin(), in.bye_ssrcs.end(), remote_ssrc_) != in.bye_ssrcs.end()) {
    auto bye = std::make_unique<Event>();
    bye->kind = Event::Kind::kRtcpBye;
    bye->ssrc = remote_ssrc_;
    post(std::move(bye), arrival_us);
  }
}

// ---------------------------------------------------------------------------------------------------
// Play-out

// The jitter buffer moves its play-out offset by whole frames, and a 20 ms frame spans two 10 ms
// periods: which period a frame starts in would otherwise be fixed by when play-out began, and cost
// up to a period of needless delay. Two things make it the engine's choice instead. Before the first
// frame, the buffer's silence is taken one period at a time, so that play-out can start in any
// period, as soon as the buffer says so. Later, when the buffer's delay has exceeded its own target by
// at least a period for a while (kRealignHoldUs), the rest of the current frame (one period) is
// skipped, preferably when it is quiet, and the next frame is pulled a period sooner: the buffer sees
// the earlier pull time, hence an offset a period smaller and still at or above its target. (A buffer
// that time-stretches gets within a frame of its target by itself; the skip is then rarely needed.)
void Stream::render(int32_t* mix, size_t frames, int64_t now_us) noexcept {
  if (!started_ || !receives(config_.media.direction)) return;
  try {
    if (playout_.size() > 0 && playout_.size() <= frames && realign_due(playout_.size(), now_us)) {
      playout_.clear();
      last_realign_us_ = now_us;
      surplus_since_us_ = -1;
    }
    while (playout_.size() < frames) {
      const size_t before = playout_.size();
      // What is pulled plays after what is still queued: the buffer gets that time, to the sample.
      pull_frame(now_us + static_cast<int64_t>(playout_.size()) * 1'000'000 / ctx_.sample_rate_hz);
      track_delay(now_us);
      if (playout_.size() == before) break;
    }
    // Not playing yet: the buffer returns silence without moving on; ask it again next period.
    if (!playing_ && playout_.size() > frames) playout_.drop(playout_.size() - frames);
  } catch (const std::bad_alloc&) {
  }
  const int16_t* pcm = playout_.front();
  const size_t n = std::min(frames, playout_.size());
  for (size_t i = 0; i < n; ++i) mix[i] += pcm[i];
  playout_.drop(n);
}

void Stream::track_delay(int64_t now_us) noexcept {
  if (!playing_) return;
  const jitter::Stats js = jitter_->stats();
  if (js.current_delay_ms > max_buffer_delay_ms_) max_buffer_delay_ms_ = js.current_delay_ms;
  const double period_ms = 1000.0 * static_cast<double>(ctx_.period_frames) / ctx_.sample_rate_hz;
  if (js.current_delay_ms - js.target_delay_ms >= period_ms) {
    if (surplus_since_us_ < 0) surplus_since_us_ = now_us;
  } else {
    surplus_since_us_ = -1;
  }
}

bool Stream::realign_due(size_t rest, int64_t now_us) const noexcept {
  if (!playing_ || surplus_since_us_ < 0 || packets_received_ < kRealignMinPackets) return false;
  if (now_us - surplus_since_us_ < kRealignHoldUs || now_us - last_realign_us_ < kRealignGapUs) return false;
  if (now_us - surplus_since_us_ >= kRealignForceUs) return true;
  const int16_t* pcm = playout_.front();
  for (size_t i = 0; i < rest; ++i) {
    if (pcm[i] >= kQuietPeak || pcm[i] <= -kQuietPeak) return false;
  }
  return true;
}

void Stream::pull_frame(int64_t now_us) {
  const CodecParams& c = config_.media.codec;
  jitter_->pull(now_us, pulled_);
  if (pulled_.kind == jitter::Play::kFrame || pulled_.kind == jitter::Play::kConceal) playing_ = true;
  size_t samples = static_cast<size_t>(static_cast<uint64_t>(pulled_.playout_ts) * static_cast<uint64_t>(c.sample_rate_hz) /
                                       static_cast<uint64_t>(c.rtp_clock_hz));
  if (samples == 0) samples = frame_samples_;
  samples = std::min(samples, decode_buffer_.size());
  int16_t* pcm = decode_buffer_.data();
  size_t produced = samples;
  const bool opus = codec_ == &kOpusCodec;
  if (comfort_noise_pending_ && pulled_.kind != jitter::Play::kFrame &&
      static_cast<int32_t>(pulled_.timestamp - comfort_noise_pending_ts_) >= 0) {
    comfort_noise_active_ = true;  // the CN packet's time has come, even if its frame was dropped
    comfort_noise_pending_ = false;
  }
  switch (pulled_.kind) {
    case jitter::Play::kFrame:
      if (pulled_.discontinuity) {
        decoder_->reset();
        comfort_noise_active_ = false;
      }
      if (pulled_.comfort_noise && !opus) {
        if (!pulled_.payload.empty() && comfort_noise_.set_from_payload(pulled_.payload.data(), pulled_.payload.size())) {
          comfort_noise_active_ = true;
          comfort_noise_pending_ = false;
          comfort_noise_.render(pcm, samples, *ctx_.random);
          comfort_noise_samples_ += samples;
        } else {
          comfort_noise_active_ = false;  // the silence while an RFC 4733 event plays
          std::fill(pcm, pcm + samples, int16_t{0});
        }
      } else {
        comfort_noise_active_ = false;
        if (static_cast<int32_t>(pulled_.timestamp - comfort_noise_pending_ts_) >= 0) comfort_noise_pending_ = false;
        const int n = pulled_.payload.empty() ? -1
                                              : decoder_->decode(pulled_.payload.data(), pulled_.payload.size(), pcm, decode_buffer_.size());
        if (n >= 0) {
          produced = static_cast<size_t>(n);
          if (pulled_.playout_ts != pulled_.duration_ts && pulled_.duration_ts > 0) {
            // The buffer asks for this frame to play shorter or longer (time-stretching play-out).
            const size_t target = static_cast<size_t>(static_cast<uint64_t>(produced) * pulled_.playout_ts / pulled_.duration_ts);
            const size_t decoded = produced;
            produced = jitter::time_stretch(pcm, produced, target, decode_buffer_.size(), c.sample_rate_hz);
            stretched_samples_ += produced > decoded ? produced - decoded : decoded - produced;
          }
        } else {
          produced = static_cast<size_t>(decoder_->conceal(pcm, samples));
          concealed_samples_ += produced;
        }
      }
      break;
    case jitter::Play::kConceal: {
      if (comfort_noise_active_) {
        comfort_noise_.render(pcm, samples, *ctx_.random);
        comfort_noise_samples_ += samples;
        break;
      }
      int n = 0;
      if (pulled_.fec_available && !pulled_.payload.empty()) {
        n = decoder_->decode_fec(pulled_.payload.data(), pulled_.payload.size(), pcm, samples);
        if (n > 0) ++fec_recovered_;
      }
      if (n <= 0) {
        n = decoder_->conceal(pcm, samples);
        concealed_samples_ += static_cast<uint64_t>(n);
      }
      produced = static_cast<size_t>(n);
      break;
    }
    case jitter::Play::kSilence:
    case jitter::Play::kDropped:
      if (comfort_noise_active_) {
        comfort_noise_.render(pcm, samples, *ctx_.random);
        comfort_noise_samples_ += samples;
      } else {
        std::fill(pcm, pcm + samples, int16_t{0});
      }
      break;
  }
  resampled_.clear();
  rx_resampler_->process(pcm, produced, resampled_);
  playout_.push(resampled_.data(), resampled_.size());
}

// ---------------------------------------------------------------------------------------------------
// RTCP and timers

void Stream::schedule_rtcp(int64_t now_us, bool initial) noexcept {
  const CodecParams& c = config_.media.codec;
  const double packets_per_s = 1000.0 / c.ptime_ms;
  double payload_bytes = static_cast<double>(frame_samples_);  // G.711: one octet per sample
  if (codec_ == &kOpusCodec) payload_bytes = (c.bitrate_bps > 0 ? c.bitrate_bps : 32000) / 8.0 / packets_per_s;
  const double session_bytes_per_s = (payload_bytes + kRtpOverheadBytes) * packets_per_s;
  rtcp::IntervalInput in;
  in.members = peer_seen_ || has_remote_ssrc_ ? 2 : 1;
  const bool we_sent = sent_since_report_ || sent_before_last_report_;
  in.senders = (we_sent ? 1 : 0) + (peer_sent_ ? 1 : 0);
  in.rtcp_bandwidth_bytes_per_s = session_bytes_per_s * kRtcpShare;
  in.we_sent = we_sent;
  in.avg_rtcp_size_bytes = avg_rtcp_size_;
  in.initial = initial;
  in.min_interval_us = static_cast<int64_t>(config_.rtcp_min_interval_ms) * 1000;
  next_rtcp_us_ = now_us + rtcp::interval_us(in, *ctx_.random);
}

void Stream::send_rtcp(int64_t now_us, bool bye) noexcept {
  if (!remote_rtcp_.valid()) return;
  rtcp::Outgoing o;
  o.ssrc = ssrc_;
  // §6.4: an SR if we sent RTP since the last report or the one before it.
  o.sender = sent_since_report_ || sent_before_last_report_;
  o.ntp = ctx_.ntp_at(now_us);
  o.rtp_timestamp = rtp_timestamp_at(now_us);
  o.packets_sent = static_cast<uint32_t>(packets_sent_);
  o.octets_sent = static_cast<uint32_t>(bytes_sent_);
  if (has_remote_ssrc_ && reception_.valid()) {
    o.has_block = true;
    o.block_ssrc = remote_ssrc_;
    o.block = reception_.make_report();
    o.lsr = last_sr_middle_;
    // DLSR in 1/65536 s since that SR arrived; 0 without one (§6.4.1).
    o.dlsr = last_sr_arrival_us_ >= 0 ? static_cast<uint32_t>((now_us - last_sr_arrival_us_) * 65536 / 1'000'000) : 0;
  }
  o.cname = config_.cname;
  o.bye = bye;
  try {
    rtcp_packet_.clear();
    rtcp::build(o, rtcp_packet_);
    if (srtp_) {
      // RFC 3711 §3.4: SRTCP encrypts all but the first 8 octets, appends E flag + index and the tag.
      const size_t plain = rtcp_packet_.size();
      rtcp_packet_.resize(plain + srtp::kMaxTrailerBytes);
      const size_t length = srtp_->protect_rtcp(rtcp_packet_.data(), plain, rtcp_packet_.size());
      if (length == 0) return;
      rtcp_packet_.resize(length);
    }
  } catch (const std::bad_alloc&) {
    return;
  }
  sent_before_last_report_ = sent_since_report_;
  sent_since_report_ = false;
  UdpSocket& socket = config_.rtcp_mux ? rtp_socket_ : rtcp_socket_;
  if (socket.send_to(rtcp_packet_.data(), rtcp_packet_.size(), remote_rtcp_) == 0) {
    ++rtcp_sent_;
    avg_rtcp_size_ = (static_cast<double>(rtcp_packet_.size()) + kRtcpOverheadBytes) / 16.0 + avg_rtcp_size_ * 15.0 / 16.0;
  }
}

bool Stream::due() const noexcept {
  const StreamMedia& m = config_.media;
  if (!started_ || !sends(m.direction) || !remote_rtp_.valid()) return false;
  // The next period's capture at the codec rate (+1: the resampler's output varies by a sample).
  const size_t per_period = ctx_.period_frames * static_cast<size_t>(m.codec.sample_rate_hz) / static_cast<size_t>(ctx_.sample_rate_hz) + 1;
  return tx_pending_.size() + per_period >= frame_samples_;
}

void Stream::on_timers(int64_t now_us) noexcept {
  if (!started_) return;
  if (now_us >= next_rtcp_us_) {
    send_rtcp(now_us, false);
    schedule_rtcp(now_us, false);
  }
  const StreamMedia& m = config_.media;
  // "RTP timeout": only while we expect packets (not on hold: sendonly or inactive).
  if (m.rtp_timeout_ms > 0 && receives(m.direction) && !timeout_reported_ &&
      now_us - last_rtp_us_ >= static_cast<int64_t>(m.rtp_timeout_ms) * 1000) {
    timeout_reported_ = true;
    auto e = std::make_unique<Event>();
    e->kind = Event::Kind::kRtpTimeout;
    e->silent_ms = static_cast<double>(now_us - last_rtp_us_) / 1000.0;
    post(std::move(e), now_us);
  }
  if (ctx_.stats_interval_us > 0 && now_us >= next_stats_us_) {
    next_stats_us_ = now_us + ctx_.stats_interval_us;
    auto e = std::make_unique<Event>();
    e->kind = Event::Kind::kStats;
    e->stats = stats(now_us);
    post(std::move(e), now_us);
  }
}

StreamStats Stream::stats(int64_t now_us) const {
  const CodecParams& c = config_.media.codec;
  const jitter::Stats js = jitter_->stats();
  StreamStats s;
  s.stream_id = id_;
  s.local_ssrc = ssrc_;
  s.has_remote_ssrc = has_remote_ssrc_;
  s.remote_ssrc = remote_ssrc_;
  s.engine_time_ms = static_cast<double>(now_us) / 1000.0;
  s.packets_sent = packets_sent_;
  s.bytes_sent = bytes_sent_;
  s.dtmf_events_sent = dtmf_events_sent_;
  s.send_errors = send_errors_;
  s.packets_received = packets_received_;
  s.bytes_received = bytes_received_;
  s.packets_expected = reception_.expected();
  s.packets_lost = reception_.lost();
  s.late_dropped = js.late;
  s.duplicates = js.duplicates;
  s.reordered = js.reordered;
  s.concealed_ms = concealed_samples_ * 1000 / static_cast<uint64_t>(c.sample_rate_hz);
  s.comfort_noise_ms = comfort_noise_samples_ * 1000 / static_cast<uint64_t>(c.sample_rate_hz);
  s.stretched_ms = stretched_samples_ * 1000 / static_cast<uint64_t>(c.sample_rate_hz);
  s.fec_recovered_frames = fec_recovered_;
  s.invalid_packets = invalid_packets_;
  s.srtp_auth_failures = srtp_auth_failures_;
  s.srtp_replay_dropped = srtp_replay_dropped_;
  s.unknown_payload_type = unknown_payload_type_;
  s.ssrc_changes = ssrc_changes_;
  s.jitter_ms = reception_.jitter_ts() * 1000.0 / c.rtp_clock_hz;
  s.burst_ratio = reception_.burst_ratio();
  s.buffer_delay_ms = js.current_delay_ms;
  s.buffer_target_ms = js.target_delay_ms;
  s.buffer_max_delay_ms = max_buffer_delay_ms_;
  s.capture_xruns = ctx_.capture_xruns;
  s.playback_xruns = ctx_.playback_xruns;
  s.late_ticks = ctx_.late_ticks;
  s.rtcp_sent = rtcp_sent_;
  s.rtcp_received = rtcp_received_;
  s.rtt_ms = rtt_ms_;
  s.has_remote_report = has_remote_report_;
  s.remote_fraction_lost = remote_report_.fraction_lost / 256.0;
  s.remote_cumulative_lost = remote_report_.cumulative_lost;
  s.remote_jitter_ms = remote_report_.jitter * 1000.0 / c.rtp_clock_hz;
  s.remote_highest_seq = remote_report_.extended_highest_seq;

  // E-model (G.107): one-way delay = half the RTT (network) + jitter buffer + packetization + codec
  // look-ahead + device; loss = what the decoder missed: lost + late, minus frames FEC rebuilt.
  const double network_ms = rtt_ms_ >= 0 ? rtt_ms_ / 2 : 0;
  s.one_way_delay_ms = network_ms + js.current_delay_ms + c.ptime_ms + quality_.algorithmic_delay_ms + kDeviceDelayMs;
  const double expected = static_cast<double>(std::max<int64_t>(0, s.packets_expected));
  const double missed = static_cast<double>(std::max<int64_t>(0, s.packets_lost)) + static_cast<double>(js.late) -
                        static_cast<double>(fec_recovered_);
  s.effective_loss_percent = expected > 0 ? std::clamp(100.0 * missed / expected, 0.0, 100.0) : 0.0;
  EModelInput in;
  in.delay_ms = s.one_way_delay_ms;
  in.ie = quality_.ie;
  in.bpl = quality_.bpl;
  in.ppl_percent = s.effective_loss_percent;
  in.burst_r = s.burst_ratio;
  const EModelResult r = emodel(in);
  s.r_factor = r.r;
  s.mos = r.mos;
  return s;
}

void Stream::post(std::unique_ptr<Event> event, int64_t now_us) const noexcept {
  event->stream_id = id_;
  event->engine_time_ms = static_cast<double>(now_us) / 1000.0;
  ctx_.events->post(std::move(event));
}

}  // namespace offhook::engine
