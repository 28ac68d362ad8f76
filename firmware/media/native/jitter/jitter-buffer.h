// Adaptive jitter buffer of the RTP receive path (delay in milliseconds): the API the media engine calls.
//
// Threads: one thread calls put() (network), one calls pull() (audio); every public method takes one
// small mutex, and neither put() nor pull(now, out) allocates after construction (packets are copied
// into preallocated slots; a payload larger than Config::max_payload_bytes is refused and counted).
// Time is always passed in (arrival_us, now_us), never read inside: tests and benchmarks drive it on a
// virtual clock (CONVENTIONS.md #9). Both clocks must be the same monotonic clock, in microseconds.
#ifndef OFFHOOK_JITTER_JITTER_BUFFER_H
#define OFFHOOK_JITTER_JITTER_BUFFER_H

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace offhook::jitter {

/// One received RTP packet (RFC 3550 §5.1 fields), as the engine's receive path hands it over.
/// The payload is copied during put(); the caller keeps ownership of its buffer.
struct Packet {
  uint32_t ssrc = 0;
  uint16_t seq = 0;
  uint32_t timestamp = 0;
  /// RFC 3551 §4.1: set on the first packet of a talkspurt (after silence suppression / DTX).
  bool marker = false;
  /// When the packet arrived, on the same clock as pull()'s now_us: from when a pull can find it. A
  /// caller that takes packets in batches (the engine reads its sockets once per tick) gives the time
  /// of the batch, not an earlier time a packet reached the host: the buffer counts a packet with
  /// arrival_us <= now_us as there for the pull at now_us, and waits or conceals by that.
  int64_t arrival_us = 0;
  const uint8_t* payload = nullptr;
  size_t size = 0;
  /// Samples (timestamp units) this packet covers; 0 = unknown: derived from the next timestamp.
  uint32_t duration_ts = 0;
  /// Comfort noise (RFC 3389 CN payload, or an Opus DTX frame of <= 2 bytes): the sender is silent.
  /// Such a packet is still a frame to play (the engine renders it as comfort noise), but the gap
  /// after it is silence, not loss, and it is where the buffer prefers to add or drop time.
  bool comfort_noise = false;
};

/// Tuning. Delays are in milliseconds of audio, whatever the packet size or clock rate.
struct Config {
  int clock_rate_hz = 8000;
  /// The buffer adds at least this above the median transit delay...
  int min_delay_ms = 10;
  /// ...and at most this above the fastest packets (the 1 % quantile of the transit delay).
  int max_delay_ms = 500;
  /// Target until 50 packets of history (after an SSRC change or a jump: the previous target).
  int initial_delay_ms = 40;
  /// Frame duration assumed until packets tell (silence and concealment are returned in this size).
  int ptime_ms = 20;
  /// Slots preallocated: a flood never makes the buffer hold more (oldest-first eviction).
  int max_packets = 64;
  /// Bytes per slot (Opus at 510 kbit/s and 20 ms is 1275 bytes).
  size_t max_payload_bytes = 1500;
  /// What one percent of late packets is worth in milliseconds of delay: the target offset minimises
  /// delay + late_cost_ms · (percent of packets that would arrive after it), over the delay histogram.
  /// A tight distribution thus gets a low late share (covering its tail is cheap) and a heavy-tailed
  /// one accepts more late packets rather than chasing rare spikes. 60 sits between the E-model's
  /// prices (ITU-T G.107 with G.711 + PLC: ~150 ms per % below 177 ms of mouth-to-ear delay, ~28 above).
  double late_cost_ms = 60.0;
  /// Hard bound on that share: the target never accepts more late packets than this.
  double late_share = 0.05;
  /// Half-life of the delay histogram, in packets: how long a jitter burst is remembered.
  int histogram_half_life_packets = 500;
  /// Extra delay above the chosen offset, in ms (absorbs jitter of the audio clock's pull times).
  int margin_ms = 0;
  /// For a codec with in-band FEC (Opus, RFC 7587 §3.2: a lost frame is rebuilt from the next
  /// packet): the offset stays at least this far above the delay that all but late_share of the
  /// packets arrive by, so that when a frame is lost the next packet has usually arrived by the time
  /// the lost one is due. A floor in the delay's upper range, not above its median: the time-stretching
  /// buffer sits low and waits for the late ones, and a frame's successor must be there at once. 0 =
  /// off; the engine sets the packet time when FEC is on.
  int fec_hold_ms = 0;
  /// How fast the delay may shrink while audio plays (dropping voiced frames): ms of delay per second.
  /// In silence (CN, DTX, between talkspurts) it shrinks at once.
  int max_shrink_ms_per_s = 10;
  /// A timestamp step larger than this (forwards or backwards) starts a new timeline (like a new
  /// SSRC) instead of being treated as loss; the marker bit starts a new talkspurt on the same one.
  int max_timestamp_jump_ms = 2000;
  /// Frames missing with nothing after them are concealed for this long, then the gap is taken for
  /// silence (a sender in DTX without CN): no concealment storm.
  int max_conceal_ms = 60;
  /// The offset moves by k frames only when that lowers the cost by more than k times this many ms.
  int hysteresis_ms = 8;
  /// Time-stretching play-out: the offset follows the target continuously instead of in whole frames.
  /// A frame may be played shorter or longer than it is (Pulled::playout_ts; the engine stretches the
  /// decoded audio with time_stretch()), silence and the wait for a late frame come in pieces of less
  /// than a frame, and a frame that is missing in speech is waited for, in 2.5 ms steps of
  /// concealment, while the delay history says it may still come. Off: the whole-frame lattice above.
  bool time_stretch = false;
  /// With time_stretch: the longest wait for one missing frame before it is given up (concealed whole
  /// and counted late if it comes); also the span the target's cost model lets late packets be waited
  /// for.
  int max_wait_ms = 100;
};

/// What pull() hands the engine for the next frame of play-out.
enum class Play {
  kFrame,    ///< decode payload (a real packet, possibly comfort noise)
  kConceal,  ///< the frame to play is missing: Opus PLC/FEC or G.711 PLC (Appendix I)
  kSilence,  ///< nothing to play: DTX/CN gap, between talkspurts, or not started yet
  kDropped,  ///< internal: a frame discarded to shrink the delay (never returned by pull)
};

struct Pulled {
  Play kind = Play::kSilence;
  /// kFrame: the packet's payload. kConceal with fec_available: the payload of the NEXT packet, which
  /// stays in the buffer (it is returned as kFrame by the following pull); decode it with Opus in-band
  /// FEC (RFC 7587 §3.2) to rebuild the missing frame. Otherwise empty.
  std::vector<uint8_t> payload;
  /// RTP timestamp of the frame this pull stands for (also for kConceal and kSilence).
  uint32_t timestamp = 0;
  /// Samples (timestamp units) of the stream this pull covers: for kFrame the packet's duration; for a
  /// kConceal or kSilence of time-stretching play-out it may be less than a frame.
  uint32_t duration_ts = 0;
  /// How long this pull plays, in timestamp units: the next pull is due that much later. Equal to
  /// duration_ts except for a kFrame under time-stretching, which is to be played this long (the
  /// engine decodes it and calls time_stretch() to this length).
  uint32_t playout_ts = 0;
  /// kConceal only: the next packet (timestamp + duration_ts) is in the buffer.
  bool fec_available = false;
  /// kFrame: the packet was comfort noise (Packet::comfort_noise).
  bool comfort_noise = false;
  /// kFrame: first frame after a reset, an SSRC change or a timestamp jump: decoder state is stale.
  bool discontinuity = false;
  /// kFrame: RTP sequence number and arrival time of the packet played (for statistics upstream).
  uint16_t seq = 0;
  int64_t arrival_us = 0;
};

struct Stats {
  /// Packets given to put() (duplicates and refused ones included).
  uint64_t received = 0;
  /// Packets that arrived after their play-out time had passed (not played).
  uint64_t late = 0;
  uint64_t duplicates = 0;
  /// Packets that arrived with a sequence number below the highest seen (and were still in time).
  uint64_t reordered = 0;
  uint64_t concealed_frames = 0;
  /// Frames discarded to bring the delay down: voiced frames (at a bounded rate) and skipped frames of
  /// silence.
  uint64_t dropped_for_shrink = 0;
  /// The delay the buffer currently adds to the fastest packets (play-out offset minus the 1 %
  /// quantile of the transit delay); a packet of median delay waits correspondingly less.
  double current_delay_ms = 0;
  /// The same for the offset it steers to (before rounding to whole frames).
  double target_delay_ms = 0;
  /// Config::max_delay_ms.
  double max_delay_ms = 0;
  // ---- beyond the original shape
  uint64_t played_frames = 0;
  uint64_t silence_frames = 0;
  /// Frames inserted to grow the delay (silence before a talkspurt, concealment inside one).
  uint64_t inserted_for_growth = 0;
  /// Packets evicted because every slot was taken (a flood), or refused (payload too large).
  uint64_t overflow_dropped = 0;
  /// Timeline restarts: new SSRC, timestamp jump, reset().
  uint64_t resets = 0;
  uint64_t talkspurts = 0;
  /// Packets held now, and the most ever held at once.
  uint32_t packets_held = 0;
  uint32_t packets_held_max = 0;
  /// Estimated sender clock skew against ours, parts per million (positive: the sender is fast).
  double drift_ppm = 0;
  // ---- time-stretching play-out (Config::time_stretch)
  /// Frames played shorter or longer than they are, and the audio thereby removed and added.
  uint64_t stretched_frames = 0;
  double stretch_removed_ms = 0;
  double stretch_added_ms = 0;
  /// Concealment played while waiting for a missing frame that might still come, and how many of
  /// those waits ended with the frame arriving in time.
  double wait_ms = 0;
  uint64_t waits_rescued = 0;
  /// Packets that came after their frame had been concealed, with nothing but concealment played
  /// since the last frame: played after all, the concealment counting as inserted delay.
  uint64_t rewinds = 0;
};

/// A Config field out of range: thrown by the constructor (never by put/pull), with the field's name.
class ConfigError : public std::invalid_argument {
 public:
  ConfigError(std::string field, const std::string& message)
      : std::invalid_argument(field + " " + message), field_(std::move(field)) {}
  /// Config member name in camelCase as the JS side spells it, e.g. "minDelayMs".
  const std::string& field() const noexcept { return field_; }

 private:
  std::string field_;
};

/// Checks every field; throws ConfigError naming the first bad one.
void validate(const Config& config);

class JitterBuffer {
 public:
  /// Throws ConfigError. Allocates every slot here, once.
  explicit JitterBuffer(const Config& config);
  ~JitterBuffer();
  JitterBuffer(const JitterBuffer&) = delete;
  JitterBuffer& operator=(const JitterBuffer&) = delete;

  /// Network thread. Never blocks on anything but the buffer's mutex, never allocates.
  void put(const Packet& packet);
  /// Audio thread, once per frame of play-out: the next pull is expected duration_ts later.
  Pulled pull(int64_t now_us);
  /// Same, reusing out.payload's capacity (no allocation once it has grown to the largest frame).
  void pull(int64_t now_us, Pulled& out);
  Stats stats() const;
  /// Forgets every packet and the delay history (keeps the configuration).
  void reset();
  const Config& config() const { return config_; }

 private:
  struct State;
  const Config config_;
  mutable std::mutex mutex_;
  std::unique_ptr<State> state_;
};

}  // namespace offhook::jitter

#endif  // OFFHOOK_JITTER_JITTER_BUFFER_H
