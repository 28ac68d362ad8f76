// The adaptive jitter buffer: packet slots, the delay target from a decaying delay histogram, and the
// play-out decisions (play, conceal, grow, shrink) taken once per pulled frame.
//
// The model. For a packet with RTP timestamp ts arriving at a, d = a − ts/rate is its relative transit
// delay (RFC 3550 §6.4.1; the unknown clock offset is a constant). Play-out runs a pointer play_ts that
// advances by one frame per pull, so the pull at `now` plays ts = play_ts and the play-out offset is
// O = now − play_ts/rate: a packet is in time iff d <= O, and the delay the buffer adds to it is O − d.
//
// The target. Over a histogram of d whose weights decay with a half-life in packets, the cost of an
// offset x is x + late_cost · (share of packets with d > x): delay against priced late loss, the
// objective of speexdsp's compute_opt_delay, here in µs rather than in frames. The price makes the
// late share follow the shape of the distribution: a tight one is covered almost fully, a heavy tail
// is not chased. Bounds: min_delay_ms above the median, max_delay_ms above the fastest packets, at
// most late_share late, and the 80th percentile of a short-memory histogram (the burst detector).
//
// The lattice (time_stretch off). O moves only by whole frames, so the decision at each pull compares
// the cost at O + k·frame for small k and moves only when that pays for itself by hysteresis_ms per
// frame. Holding the pointer for one pull (an inserted frame: silence between talkspurts, concealment
// inside one) adds a frame, skipping one removes it. Growing happens at once; shrinking is free in
// silence and rate-limited in speech.
//
// Time-stretching (time_stretch on; pull_stretch). O follows the target continuously: a frame is
// played up to 25 % shorter (50 % when far above the target) or 50 % longer than it is (the engine
// stretches the decoded audio to Pulled::playout_ts, time-stretch.h), silence is cut or lengthened to
// the sample. And a frame missing in speech is waited for, 2.5 ms of concealment at a time, while the
// histogram says a packet that late may still come (the adaptive play-out with time-scale
// modification of Liang, Färber & Girod, "Adaptive playout scheduling and loss concealment for voice
// communication over IP networks", IEEE Trans. Multimedia 2003): a late packet then costs a short
// stretch instead of a loss. The target is priced for that: a packet later than the offset x by w <=
// max_wait is not lost but waited for, adding w to its own offset and, until acceleration has taken it
// out again at r per frame, about w²/2r to the frames after it; only one later than x + max_wait is
// priced as late. So cost(x) = x + E[w] + E[w²]/2r + late_cost · P(d > x + max_wait), over the same
// decaying histogram, the bounds unchanged.
#include "jitter-buffer.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <limits>

#include "delay-histogram.h"

namespace offhook::jitter {

namespace {

/// Low quantile of d taken as the "floor" (the fastest packets): delays are reported above it and
/// min/max_delay_ms bound the target relative to it.
constexpr double kFloorQuantile = 0.01;
/// Until this many packets of a timeline were seen, the target is at least the prior
/// (initial_delay_ms, or the previous stream's target after an SSRC change).
constexpr long kWarmupPackets = 50;
/// Longest frame we derive from timestamp differences (RFC 7587 allows Opus packets up to 120 ms).
constexpr double kMaxFrameMs = 120.0;
/// Sequence numbers remembered for duplicate detection (RFC 3550 Appendix A.1 keeps a similar window).
constexpr size_t kSeenWindow = 512;
/// The surplus must last this long before voiced frames are dropped: a momentary dip of the estimate
/// is no reason to cut audio, and with DTX a pause, where shrinking is free, usually comes sooner.
constexpr int64_t kSurplusHoldUs = 1'000'000;
/// Drift estimate: half-life (s) of the line fitted through per-second delay minima, and the seconds
/// needed before it is reported.
constexpr double kDriftHalfLifeS = 60.0;
constexpr int kDriftMinPoints = 10;
/// Burst detector: a short-memory histogram (half-life in packets) whose 80th percentile, once it has
/// enough weight, is a floor for the target. A jitter burst moves it within a few packets; an i.i.d.
/// tail or a single stall does not (a stall's queued packets arrive clumped and are not counted).
constexpr int kBurstHalfLifePackets = 12;
constexpr double kBurstQuantile = 0.8;
constexpr double kBurstMinWeight = 4.0;
/// Frames looked ahead/back when choosing where to move the play-out offset.
constexpr int kMaxSteps = 12;
/// Time-stretching: a frame plays at most this share shorter (and kFastAccelShare shorter when the
/// offset is more than kFastAccelUs above the target), and at most kExpandShare longer.
constexpr double kAccelShare = 0.25;
constexpr double kFastAccelShare = 0.5;
constexpr double kFastAccelUs = 60'000;
constexpr double kExpandShare = 0.5;
/// Above the target by less than this, or below it by less than kExpandDeadbandUs, a frame plays as it
/// is (no splice for nothing). Below is cheap (a frame that comes late is waited for), and the
/// stretcher cuts whole pitch periods, often more than asked: a wide band below keeps an overshoot
/// from being answered by a splice the other way. Above by 2 ms or less, no splice either: that is
/// less than any pitch period, and a clean path whose play-out sits a little above its target would
/// otherwise pay for a splice (and the search for it) every frame.
constexpr double kStretchDeadbandUs = 2'000;
constexpr double kExpandDeadbandUs = 5'000;
/// The wait for a missing frame goes on in steps of 2.5 ms (a length every codec's concealment can
/// produce: Opus PLC needs multiples of 2.5 ms) while at least this share of packets is later.
constexpr int kWaitGranuleHz = 400;
constexpr double kWaitTail = 0.002;
/// A missing frame with a later packet queued is lost, not late, unless the network reorders: more
/// than this share of recent packets (decaying over kReorderMemory packets) arrived out of order.
constexpr double kReorderShare = 0.002;
constexpr double kReorderMemory = 500;
/// What one wait (concealment inserted, then taken out again by acceleration: an audible artefact,
/// however short) costs in the target's model, in µs of delay of one packet. It keeps the target
/// above the bulk of the delays, so that waits stay rare events and most frames play unstretched.
constexpr double kWaitEventCostUs = 200'000;

enum class Phase { kIdle, kTalk, kSilence };

struct Slot {
  bool used = false;
  bool marker = false;
  bool comfort_noise = false;
  uint16_t seq = 0;
  uint32_t duration_ts = 0;
  uint32_t size = 0;
  int64_t ts = 0;  // extended (unwrapped) timestamp
  int64_t arrival_us = 0;
  size_t offset = 0;  // of its bytes in State::bytes
};

}  // namespace

void validate(const Config& c) {
  auto in = [](auto v, auto lo, auto hi) { return v >= lo && v <= hi; };
  if (!in(c.clock_rate_hz, 1000, 384000)) throw ConfigError("clockRateHz", "must be from 1000 to 384000");
  if (!in(c.min_delay_ms, 0, 5000)) throw ConfigError("minDelayMs", "must be from 0 to 5000");
  if (!in(c.max_delay_ms, c.min_delay_ms, 5000)) throw ConfigError("maxDelayMs", "must be from minDelayMs to 5000");
  if (!in(c.initial_delay_ms, c.min_delay_ms, c.max_delay_ms)) {
    throw ConfigError("initialDelayMs", "must be from minDelayMs to maxDelayMs");
  }
  if (!in(c.ptime_ms, 1, 120)) throw ConfigError("ptimeMs", "must be from 1 to 120");
  if (!in(c.max_packets, 4, 4096)) throw ConfigError("maxPackets", "must be from 4 to 4096");
  if (!in(c.max_payload_bytes, size_t{1}, size_t{65536})) throw ConfigError("maxPayloadBytes", "must be from 1 to 65536");
  if (!(c.late_share > 0.0 && c.late_share < 0.5)) throw ConfigError("lateShare", "must be above 0 and below 0.5");
  if (!(c.late_cost_ms >= 0.0 && c.late_cost_ms <= 10000.0)) throw ConfigError("lateCostMs", "must be from 0 to 10000");
  if (!in(c.histogram_half_life_packets, 1, 1000000)) throw ConfigError("histogramHalfLifePackets", "must be from 1 to 1000000");
  if (!in(c.margin_ms, 0, 1000)) throw ConfigError("marginMs", "must be from 0 to 1000");
  if (!in(c.fec_hold_ms, 0, 1000)) throw ConfigError("fecHoldMs", "must be from 0 to 1000");
  if (!in(c.max_shrink_ms_per_s, 0, 1000)) throw ConfigError("maxShrinkMsPerS", "must be from 0 to 1000");
  if (!in(c.max_timestamp_jump_ms, c.ptime_ms, 3600000)) {
    throw ConfigError("maxTimestampJumpMs", "must be from ptimeMs to 3600000");
  }
  if (!in(c.max_conceal_ms, 0, 10000)) throw ConfigError("maxConcealMs", "must be from 0 to 10000");
  if (!in(c.hysteresis_ms, 0, 1000)) throw ConfigError("hysteresisMs", "must be from 0 to 1000");
  if (!in(c.max_wait_ms, 0, 5000)) throw ConfigError("maxWaitMs", "must be from 0 to 5000");
}

struct JitterBuffer::State {
  explicit State(const Config& c)
      : cfg(c),
        us_per_ts(1e6 / c.clock_rate_hz),
        default_frame_ts(std::max<int64_t>(1, int64_t{c.ptime_ms} * c.clock_rate_hz / 1000)),
        granule_ts(std::max(1, c.clock_rate_hz / kWaitGranuleHz)),
        slots(static_cast<size_t>(c.max_packets)),
        bytes(static_cast<size_t>(c.max_packets) * c.max_payload_bytes),
        hist(c.histogram_half_life_packets, c.max_delay_ms * 1000.0),
        burst_hist(kBurstHalfLifePackets, c.max_delay_ms * 1000.0) {
    for (size_t i = 0; i < slots.size(); ++i) slots[i].offset = i * c.max_payload_bytes;
    stats.max_delay_ms = c.max_delay_ms;
    forget_stream();
    restart(c.initial_delay_ms * 1000.0);
  }

  // ---- configuration, derived
  const Config cfg;
  const double us_per_ts;
  const int64_t default_frame_ts;
  const int64_t granule_ts;

  // ---- storage (allocated once)
  std::vector<Slot> slots;
  std::vector<uint8_t> bytes;
  uint32_t held = 0;
  DelayHistogram hist;
  DelayHistogram burst_hist;
  int64_t last_arrival_us = 0;
  bool have_arrival = false;
  double burst_offset_us = -std::numeric_limits<double>::infinity();

  // ---- the stream being received
  bool have_stream = false;
  uint32_t ssrc = 0;
  bool have_prev_ssrc = false;
  uint32_t prev_ssrc = 0;
  bool have_packet = false;  // in this timeline
  int64_t highest_ts = 0;
  uint32_t highest_ts_raw = 0;
  int64_t highest_seq = 0;
  std::array<int64_t, kSeenWindow> seen_seq{};
  int64_t frame_ts = 0;  // duration of a frame as last seen

  // ---- play-out
  Phase phase = Phase::kIdle;
  int64_t play_ts = 0;
  int conceal_run_ts = 0;
  int64_t last_voiced_drop_us = std::numeric_limits<int64_t>::min() / 2;
  int64_t surplus_since_us = -1;
  bool discontinuity = true;
  double prior_added_us = 0;
  long timeline_packets = 0;
  // time-stretching: how long the frame at play_ts has been waited for; recent out-of-order share
  int64_t wait_ts = 0;
  double reorder_rate = 0;
  // time-stretching: since the last voice frame ended at resume_ts, only concealment (or silence
  // taken for DTX) was played; a packet of that span arriving late is played after all (rewind).
  bool can_rewind = false;
  int64_t resume_ts = 0;

  // ---- target (recomputed lazily after puts)
  bool target_dirty = true;
  double floor_us = 0;
  double median_us = 0;
  double fec_floor_us = -std::numeric_limits<double>::infinity();  // Config::fec_hold_ms
  double target_added_us = 0;
  double target_offset_us = 0;
  const double late_cost_us_per_share = cfg.late_cost_ms * 1000.0 * 100.0;

  // ---- drift estimate (track_drift)
  bool drift_started = false;
  int64_t drift_second = 0;
  int64_t drift_t0 = 0;
  double drift_min = 0;
  double drift_sw = 0, drift_st = 0, drift_sd = 0, drift_stt = 0, drift_std = 0;
  int drift_points = 0;
  double drift_ppm = 0;

  Stats stats;

  double ts_us(int64_t ts) const { return static_cast<double>(ts) * us_per_ts; }
  double frame_us() const { return ts_us(frame_ts); }

  void forget_stream() {
    have_stream = false;
    have_prev_ssrc = false;
  }

  /// A new timeline (first packet, new SSRC, timestamp jump, reset): no packets, no history; the
  /// target starts from prior_added_us until the histogram has seen kWarmupPackets.
  void restart(double prior_us) {
    for (Slot& s : slots) s.used = false;
    held = 0;
    hist.clear();
    burst_hist.clear();
    have_arrival = false;
    last_arrival_us = 0;
    burst_offset_us = -std::numeric_limits<double>::infinity();
    have_packet = false;
    seen_seq.fill(std::numeric_limits<int64_t>::min());
    frame_ts = default_frame_ts;
    phase = Phase::kIdle;
    play_ts = 0;
    conceal_run_ts = 0;
    wait_ts = 0;
    reorder_rate = 0;
    can_rewind = false;
    resume_ts = 0;
    surplus_since_us = -1;
    discontinuity = true;
    prior_added_us = std::clamp(prior_us, cfg.min_delay_ms * 1000.0, cfg.max_delay_ms * 1000.0);
    timeline_packets = 0;
    target_dirty = true;
    target_added_us = prior_added_us;
    fec_floor_us = -std::numeric_limits<double>::infinity();
    drift_started = false;
    drift_sw = drift_st = drift_sd = drift_stt = drift_std = 0;
    drift_points = 0;
    drift_ppm = 0;
  }

  /// Lowest offset allowed: min_delay_ms above the median delay (robust: one early packet must not
  /// let the offset drop, only to force it back up once that packet has faded from the low quantile),
  /// fec_hold_ms above the upper range of the delays, and, while there is little history, the prior
  /// above the fastest packets.
  double lo_offset_us() const {
    double lo = std::max(median_us + cfg.min_delay_ms * 1000.0, fec_floor_us);
    if (timeline_packets < kWarmupPackets) lo = std::max(lo, floor_us + prior_added_us);
    return std::max(lo, burst_offset_us);
  }

  /// The cost of playing with offset x: delay plus the priced share of packets that would be late
  /// (the objective of speexdsp's compute_opt_delay, here in µs over the decayed histogram), with
  /// the bounds as steep walls.
  double cost(double x) const {
    double tail = 0;
    double c = 0;
    if (cfg.time_stretch) {
      // Late by up to max_wait: waited for (its own wait, and the successors' until acceleration has
      // recovered it); later: lost.
      const double span = cfg.max_wait_ms * 1000.0;
      const DelayHistogram::Moments m = hist.wait_moments(x, span);
      tail = hist.tail_above(x + span);
      c = x + m.mean1 + m.mean2 / (2.0 * kAccelShare * frame_us()) + kWaitEventCostUs * m.share + late_cost_us_per_share * tail;
    } else {
      tail = hist.tail_above(x);
      c = x + late_cost_us_per_share * tail;
    }
    const double lo = lo_offset_us();
    const double hi = floor_us + cfg.max_delay_ms * 1000.0;
    if (x < lo) c += 1e3 * (lo - x);
    if (x > hi) c += 1e3 * (x - hi);
    if (tail > cfg.late_share) c += 1e9 * (tail - cfg.late_share);
    return c;
  }

  void update_target() {
    if (!target_dirty) return;
    target_dirty = false;
    if (hist.empty()) {
      target_added_us = prior_added_us;
      return;
    }
    hist.prepare_tails();
    floor_us = hist.quantile(kFloorQuantile);
    // The continuous optimum, over every bin edge between the bounds: where play-out would be if it
    // could move by less than a frame. Used to start, and reported as the target.
    burst_offset_us = burst_hist.weight() >= kBurstMinWeight ? burst_hist.quantile(kBurstQuantile)
                                                             : -std::numeric_limits<double>::infinity();
    median_us = hist.quantile(0.5);
    if (cfg.fec_hold_ms > 0) fec_floor_us = hist.quantile(1.0 - cfg.late_share) + cfg.fec_hold_ms * 1000.0;
    const double hi = floor_us + cfg.max_delay_ms * 1000.0;
    const double lo = std::min(lo_offset_us(), hi);
    double best_x = hi;
    double best_cost = std::numeric_limits<double>::infinity();
    const int first = std::clamp(static_cast<int>(std::floor(hist.bin_of(lo))), 0, DelayHistogram::kBins - 1);
    const int last = std::clamp(static_cast<int>(std::ceil(hist.bin_of(hi))), first, DelayHistogram::kBins - 1);
    for (int i = first; i <= last + 1; ++i) {
      const double x = std::clamp(hist.bin_start(i), lo, hi);
      // cost(x) >= x (delay plus non-negative prices), and x only grows: no offset from here on can
      // beat the best one (on a clean path that ends the scan a few bins above the floor).
      if (x >= best_cost) break;
      const double c = cost(x);
      if (c < best_cost) {
        best_cost = c;
        best_x = x;
      }
    }
    target_offset_us = best_x + cfg.margin_ms * 1000.0;
    target_added_us = target_offset_us - floor_us;
  }

  /// Frames to add (> 0) or remove (< 0) so that the offset lands on the cheapest point it can reach:
  /// play-out moves by whole frames, so only offset + k·frame are candidates.
  int decide_steps(double offset) const {
    if (hist.empty()) return offset < target_offset_us ? 1 : 0;
    const double margin = cfg.margin_ms * 1000.0;
    const double stay = cost(offset - margin);
    int best = 0;
    double best_cost = stay;
    for (int k = -kMaxSteps; k <= kMaxSteps; ++k) {
      if (k == 0) continue;
      const double c = cost(offset + k * frame_us() - margin);
      // A move must pay for itself by a margin per frame: when the cost has two minima of about the
      // same depth (the tail of rare stalls is worth covering, or just not), the offset stays put
      // instead of swinging between them, each swing costing an inserted and a dropped frame.
      const double needed = cfg.hysteresis_ms * 1000.0 * std::abs(k);
      if (c < best_cost && c < stay - needed) {
        best_cost = c;
        best = k;
      }
    }
    return best;
  }

  void track_drift(int64_t arrival_us, double d) {
    // A sender clock off ours by ε makes d drift by −ε µs per second. The least delay of each second
    // is free of queueing spikes; an exponentially weighted least-squares line through those minima
    // (half-life kDriftHalfLifeS) gives the slope.
    const int64_t second = arrival_us / 1'000'000;
    if (!drift_started) {
      drift_started = true;
      drift_second = second;
      drift_t0 = second;
      drift_min = d;
      return;
    }
    if (second == drift_second) {
      drift_min = std::min(drift_min, d);
      return;
    }
    const double forget = std::exp2(-static_cast<double>(second - drift_second) / kDriftHalfLifeS);
    const double t = static_cast<double>(drift_second - drift_t0);
    drift_sw = drift_sw * forget + 1.0;
    drift_st = drift_st * forget + t;
    drift_sd = drift_sd * forget + drift_min;
    drift_stt = drift_stt * forget + t * t;
    drift_std = drift_std * forget + t * drift_min;
    ++drift_points;
    const double det = drift_sw * drift_stt - drift_st * drift_st;
    if (drift_points >= kDriftMinPoints && det > 0) {
      drift_ppm = -(drift_sw * drift_std - drift_st * drift_sd) / det;  // µs per s = ppm
    }
    drift_second = second;
    drift_min = d;
  }

  uint32_t duration_of(const Slot& s) const {
    return static_cast<uint32_t>(s.duration_ts != 0 ? s.duration_ts : frame_ts);
  }

  Slot* find_covering(int64_t ts) {
    Slot* best = nullptr;
    for (Slot& s : slots) {
      if (!s.used) continue;
      if (s.ts == ts) return &s;
      // A packet that starts a little after the pointer (an odd timestamp after a talkspurt or a
      // ptime change) is played now rather than concealed around.
      if (s.ts > ts && s.ts < ts + frame_ts / 2 && (best == nullptr || s.ts < best->ts)) best = &s;
      if (s.ts < ts && s.ts + duration_of(s) > ts && best == nullptr) best = &s;
    }
    return best;
  }

  Slot* earliest_after(int64_t ts) {
    Slot* best = nullptr;
    for (Slot& s : slots) {
      if (s.used && s.ts > ts && (best == nullptr || s.ts < best->ts)) best = &s;
    }
    return best;
  }

  Slot* earliest() {
    Slot* best = nullptr;
    for (Slot& s : slots) {
      if (s.used && (best == nullptr || s.ts < best->ts)) best = &s;
    }
    return best;
  }

  void free_slot(Slot& s) {
    s.used = false;
    --held;
  }

  /// Packets the pointer went past without playing (skipped while shrinking).
  void purge_before(int64_t ts) {
    for (Slot& s : slots) {
      if (s.used && s.ts + duration_of(s) <= ts) {
        free_slot(s);
        ++stats.dropped_for_shrink;
      }
    }
  }

  void start_stream(uint32_t new_ssrc) {
    have_stream = true;
    ssrc = new_ssrc;
  }

  /// Hands the packet in s to the engine (kFrame, played as long as it is) and frees its slot.
  void emit_played(Slot& s, Pulled& out) {
    out.kind = Play::kFrame;
    out.timestamp = static_cast<uint32_t>(s.ts);
    out.duration_ts = duration_of(s);
    out.playout_ts = out.duration_ts;
    ++stats.played_frames;
    out.payload.assign(&bytes[s.offset], &bytes[s.offset] + s.size);
    out.comfort_noise = s.comfort_noise;
    out.discontinuity = discontinuity;
    out.seq = s.seq;
    out.arrival_us = s.arrival_us;
    discontinuity = false;
    conceal_run_ts = 0;
    play_ts = s.ts + duration_of(s);
    phase = s.comfort_noise ? Phase::kSilence : Phase::kTalk;
    can_rewind = !s.comfort_noise;
    resume_ts = play_ts;
    free_slot(s);
  }

  // The frame at play_ts is missing: conceal it, offering the next packet's in-band FEC (RFC 7587
  // §3.2 / RFC 6716 §2.1.7: the next Opus packet may carry it) — or, when nothing has come for
  // max_conceal_ms and nothing is queued, go silent: the sender is silent (DTX without CN), not losing packets.
  template <typename Emit>
  void conceal_missing(const Slot* next, Pulled& out, Emit& emit) {
    if (next == nullptr && ts_us(conceal_run_ts) >= cfg.max_conceal_ms * 1000.0) {
      phase = Phase::kSilence;
      emit(Play::kSilence, play_ts, frame_ts);
      play_ts += frame_ts;
      return;
    }
    ++stats.concealed_frames;
    emit(Play::kConceal, play_ts, frame_ts);
    if (Slot* after = find_covering(play_ts + frame_ts); after != nullptr && after->ts == play_ts + frame_ts) {
      out.fec_available = true;
      out.payload.assign(&bytes[after->offset], &bytes[after->offset] + after->size);
    }
    conceal_run_ts += static_cast<int>(frame_ts);
    play_ts += frame_ts;
  }

  void put(const Packet& p);
  void pull(int64_t now_us, Pulled& out);
  void pull_stretch(int64_t now_us, Pulled& out);
};

void JitterBuffer::State::put(const Packet& p) {
  ++stats.received;
  if (p.size > cfg.max_payload_bytes) {
    ++stats.overflow_dropped;
    return;
  }
  if (!have_stream) {
    start_stream(p.ssrc);
  } else if (p.ssrc != ssrc) {
    // A straggler of the stream that was just replaced must not switch back (RFC 3550 §8.2 allows
    // a new SSRC at any time; the old one is over).
    if (have_prev_ssrc && p.ssrc == prev_ssrc) {
      ++stats.late;
      return;
    }
    prev_ssrc = ssrc;
    have_prev_ssrc = true;
    ++stats.resets;
    restart(target_added_us);
    start_stream(p.ssrc);
  }

  // Unwrap timestamp and sequence number against the highest seen (RFC 3550 Appendix A.1).
  int64_t ts = have_packet ? highest_ts + static_cast<int32_t>(p.timestamp - highest_ts_raw) : int64_t{p.timestamp};
  const int64_t jump_limit = int64_t{cfg.max_timestamp_jump_ms} * cfg.clock_rate_hz / 1000;
  if (have_packet && std::llabs(ts - highest_ts) > jump_limit) {
    // The sender restarted its timeline (or jumped): the old packets and delays mean nothing now.
    ++stats.resets;
    restart(target_added_us);
    ts = p.timestamp;
  }
  int64_t seq = have_packet ? highest_seq + static_cast<int16_t>(p.seq - static_cast<uint16_t>(highest_seq)) : int64_t{p.seq};
  if (!have_packet) {
    have_packet = true;
    highest_ts = ts;
    highest_ts_raw = p.timestamp;
    highest_seq = seq;
    ++stats.talkspurts;
  }

  int64_t& seen = seen_seq[static_cast<size_t>(seq) % kSeenWindow];
  if (seen == seq) {
    ++stats.duplicates;
    return;
  }
  seen = seq;
  reorder_rate += ((seq < highest_seq ? 1.0 : 0.0) - reorder_rate) / kReorderMemory;
  if (seq < highest_seq) {
    ++stats.reordered;
  } else {
    if (seq == highest_seq + 1 && ts > highest_ts && !p.marker && p.duration_ts == 0) {
      // Duration of a frame from consecutive packets, when the sender does not say it.
      const int64_t step = ts - highest_ts;
      if (ts_us(step) <= kMaxFrameMs * 1000.0) frame_ts = step;
    }
    if (p.marker && seq > highest_seq) ++stats.talkspurts;
    highest_seq = seq;
  }
  if (p.duration_ts != 0) frame_ts = p.duration_ts;
  if (ts > highest_ts) {
    highest_ts = ts;
    highest_ts_raw = p.timestamp;
  }

  // Every arrival feeds the delay statistics, the late ones most of all: they are why it grows.
  const double d = static_cast<double>(p.arrival_us) - ts_us(ts);
  hist.add(d);
  // Packets arriving less than half a frame after the previous one are a queue draining after a
  // stall: they say nothing about the jitter to come, so the burst detector does not count them.
  const double gap = have_arrival ? static_cast<double>(p.arrival_us - last_arrival_us) : frame_us();
  burst_hist.add(d, gap >= frame_us() / 2 ? 1.0 : 0.0);
  last_arrival_us = std::max(last_arrival_us, p.arrival_us);
  have_arrival = true;
  ++timeline_packets;
  target_dirty = true;
  update_target();
  track_drift(p.arrival_us, d);

  if (phase != Phase::kIdle && ts < play_ts) {
    if (cfg.time_stretch && can_rewind && ts >= resume_ts && ts_us(play_ts - ts) <= cfg.max_wait_ms * 1000.0) {
      // Since the last voice frame only concealment was played, and this packet belongs to that span:
      // play it after all. The concealment becomes an insertion (the delay grows by it, and the
      // histogram has just learnt why); what was given up for lost is not, after a delay step or a
      // stall.
      play_ts = ts;
      phase = Phase::kTalk;
      wait_ts = 0;
      ++stats.rewinds;
    } else {
      ++stats.late;
      return;
    }
  }

  // A free slot, or the oldest packet makes room: a flood never grows the buffer.
  Slot* slot = nullptr;
  for (Slot& s : slots) {
    if (!s.used) {
      slot = &s;
      break;
    }
  }
  if (slot == nullptr) {
    slot = earliest();
    if (slot->ts > ts) {
      ++stats.overflow_dropped;  // the newcomer is the oldest: it is the one not kept
      return;
    }
    free_slot(*slot);
    ++stats.overflow_dropped;
  }
  slot->used = true;
  slot->marker = p.marker;
  slot->comfort_noise = p.comfort_noise;
  slot->seq = p.seq;
  slot->duration_ts = p.duration_ts;
  slot->size = static_cast<uint32_t>(p.size);
  slot->ts = ts;
  slot->arrival_us = p.arrival_us;
  if (p.size > 0) {
    if (p.payload != nullptr) {
      std::memcpy(&bytes[slot->offset], p.payload, p.size);
    } else {
      std::memset(&bytes[slot->offset], 0, p.size);
    }
  }
  ++held;
  stats.packets_held_max = std::max(stats.packets_held_max, held);
}

void JitterBuffer::State::pull(int64_t now_us, Pulled& out) {
  out.kind = Play::kSilence;
  out.payload.clear();
  out.timestamp = 0;
  out.duration_ts = static_cast<uint32_t>(frame_ts);
  out.playout_ts = static_cast<uint32_t>(frame_ts);
  out.fec_available = false;
  out.comfort_noise = false;
  out.discontinuity = false;
  out.seq = 0;
  out.arrival_us = 0;
  update_target();
  if (cfg.time_stretch) {
    pull_stretch(now_us, out);
    return;
  }

  auto emit = [&](Play kind, int64_t ts, int64_t duration) {
    out.kind = kind;
    out.timestamp = static_cast<uint32_t>(ts);
    out.duration_ts = static_cast<uint32_t>(duration);
    out.playout_ts = static_cast<uint32_t>(duration);
    switch (kind) {
      case Play::kFrame: ++stats.played_frames; break;
      case Play::kConceal: break;  // counted by the caller: concealment or growth
      case Play::kSilence: ++stats.silence_frames; break;
      case Play::kDropped: break;
    }
  };
  auto emit_packet = [&](Slot& s) { emit_played(s, out); };

  if (phase == Phase::kIdle) {
    Slot* first = earliest();
    // Start once the first packet has waited out the target (the prior, until there is history).
    if (first == nullptr || static_cast<double>(now_us) - ts_us(first->ts) < target_offset_us) {
      emit(Play::kSilence, first != nullptr ? first->ts : 0, frame_ts);
      return;
    }
    play_ts = first->ts;
    phase = Phase::kSilence;
  }

  const double max_offset = floor_us + cfg.max_delay_ms * 1000.0;
  // Dropping in speech: one frame per (frame / max_shrink_ms_per_s) seconds at most.
  const double voiced_drop_gap_us =
      cfg.max_shrink_ms_per_s > 0 ? frame_us() * 1000.0 / cfg.max_shrink_ms_per_s : std::numeric_limits<double>::infinity();

  // Each pass either returns a frame or skips one (shrinking); bounded by the slots plus the frames
  // of silence the delay can exceed its target by.
  for (int pass = 0; pass < cfg.max_packets + 64; ++pass) {
    purge_before(play_ts);
    update_target();
    const double offset = static_cast<double>(now_us) - ts_us(play_ts);
    stats.current_delay_ms = (offset - floor_us) / 1000.0;
    const int steps = decide_steps(offset);
    const bool grow = steps > 0;
    const bool can_grow = offset + frame_us() <= max_offset;
    // Beyond the maximum by more than a frame (the lattice cannot land exactly on it): shrink regardless.
    const bool too_long = offset > max_offset + frame_us();
    const bool over = steps < 0 || too_long;
    if (!over) surplus_since_us = -1;
    else if (surplus_since_us < 0) surplus_since_us = now_us;
    // Shrinking inside speech: at the bounded rate, once the surplus has lasted, and not while the
    // history is young (the first delays say little yet).
    auto voiced_drop_ok = [&] {
      return static_cast<double>(now_us - last_voiced_drop_us) >= voiced_drop_gap_us && now_us - surplus_since_us >= kSurplusHoldUs &&
             timeline_packets >= kWarmupPackets;
    };

    Slot* p = find_covering(play_ts);
    if (p != nullptr) {
      if (p->ts > play_ts) play_ts = p->ts;
      const bool starts_talkspurt = phase != Phase::kTalk && !p->comfort_noise;
      if (grow && can_grow) {
        // Grow: before a talkspurt or a CN frame the inserted frame is silence; inside speech it is
        // concealment stretching the previous frame (what the engine's PLC does for a lost one).
        ++stats.inserted_for_growth;
        if (starts_talkspurt || p->comfort_noise || phase == Phase::kSilence) {
          emit(Play::kSilence, play_ts, frame_ts);
        } else {
          emit(Play::kConceal, play_ts, frame_ts);
        }
        return;
      }
      // A CN frame is never dropped (it carries the noise level); the silence after it is where the
      // delay shrinks, for free. A voiced frame may go at the bounded rate.
      if (over && !p->comfort_noise) {
        if (voiced_drop_ok() || too_long) {
          last_voiced_drop_us = now_us;
          ++stats.dropped_for_shrink;
          play_ts = p->ts + duration_of(*p);
          free_slot(*p);
          continue;
        }
      }
      emit_packet(*p);
      return;
    }

    // The frame at play_ts is missing.
    Slot* next = earliest_after(play_ts);
    const bool gap_is_silence = phase == Phase::kSilence || (next != nullptr && next->marker);
    if (gap_is_silence) {
      phase = Phase::kSilence;
      if (grow && can_grow) {
        ++stats.inserted_for_growth;
        emit(Play::kSilence, play_ts, frame_ts);
        return;
      }
      if (over && (next == nullptr || next->ts >= play_ts + 2 * frame_ts)) {
        // Shrinking in silence costs nothing: skip a frame of it, at once.
        ++stats.dropped_for_shrink;
        play_ts += frame_ts;
        continue;
      }
      emit(Play::kSilence, play_ts, frame_ts);
      play_ts += frame_ts;
      return;
    }

    if (grow && can_grow) {
      // The frame may just be late: wait for it one frame longer (this is the growth).
      ++stats.inserted_for_growth;
      emit(Play::kConceal, play_ts, frame_ts);
      return;
    }
    if (over && next != nullptr && (voiced_drop_ok() || too_long)) {
      // A lost frame is the cheapest one to drop: shrinking here discards no audio that arrived.
      last_voiced_drop_us = now_us;
      ++stats.dropped_for_shrink;
      play_ts += frame_ts;
      continue;
    }
    conceal_missing(next, out, emit);
    return;
  }
  // Unreachable in practice (every pass consumes a packet or a frame of silence); stay safe.
  emit(Play::kSilence, play_ts, frame_ts);
  play_ts += frame_ts;
}

void JitterBuffer::State::pull_stretch(int64_t now_us, Pulled& out) {
  const double now = static_cast<double>(now_us);
  auto emit = [&](Play kind, int64_t ts, int64_t duration) {
    out.kind = kind;
    out.timestamp = static_cast<uint32_t>(ts);
    out.duration_ts = static_cast<uint32_t>(std::max<int64_t>(1, duration));
    out.playout_ts = out.duration_ts;
    if (kind == Play::kSilence) ++stats.silence_frames;
  };
  // Timestamp units from µs, rounded up, within [1, frame].
  auto span_of = [&](double us) { return std::clamp<int64_t>(static_cast<int64_t>(std::ceil(us / us_per_ts)), 1, frame_ts); };

  if (phase == Phase::kIdle) {
    Slot* first = earliest();
    const double wait = first != nullptr ? ts_us(first->ts) + target_offset_us - now : 0;
    if (first == nullptr || wait >= us_per_ts) {
      // Start once the first packet has waited out the target, to the sample.
      emit(Play::kSilence, first != nullptr ? first->ts : 0, first != nullptr ? span_of(wait) : frame_ts);
      return;
    }
    play_ts = first->ts;
    phase = Phase::kSilence;
  }

  for (int pass = 0; pass < cfg.max_packets + 64; ++pass) {
    purge_before(play_ts);
    update_target();
    const double offset = now - ts_us(play_ts);
    stats.current_delay_ms = (offset - floor_us) / 1000.0;
    const double max_offset = floor_us + cfg.max_delay_ms * 1000.0;
    const double excess = std::max(offset - target_offset_us, offset - max_offset);

    Slot* p = find_covering(play_ts);
    if (p != nullptr) {
      if (p->ts > play_ts) {
        play_ts = p->ts;  // an odd timestamp just after the pointer: play it now
        continue;
      }
      if (phase != Phase::kTalk && !p->comfort_noise && excess < -us_per_ts) {
        // Before a talkspurt the delay grows in silence, to the sample.
        ++stats.inserted_for_growth;
        emit(Play::kSilence, play_ts, span_of(-excess));
        return;
      }
      const int64_t n = duration_of(*p);
      int64_t m = n;
      const double excess_ts = excess / us_per_ts;
      if (p->comfort_noise) {
        m = std::clamp<int64_t>(std::llround(static_cast<double>(n) - excess_ts), granule_ts, 2 * n);
      } else if (excess > kStretchDeadbandUs || excess < -kExpandDeadbandUs) {
        const double cut = static_cast<double>(n) * (excess > kFastAccelUs ? kFastAccelShare : kAccelShare);
        m = n - std::llround(std::clamp(excess_ts, -static_cast<double>(n) * kExpandShare, cut));
      }
      if (wait_ts > 0) ++stats.waits_rescued;
      wait_ts = 0;
      emit_played(*p, out);
      out.playout_ts = static_cast<uint32_t>(m);
      if (m != n) {
        ++stats.stretched_frames;
        const double ms = std::abs(ts_us(m - n)) / 1000.0;
        (m < n ? stats.stretch_removed_ms : stats.stretch_added_ms) += ms;
      }
      return;
    }

    // The frame at play_ts is missing.
    Slot* next = earliest_after(play_ts);
    if (phase == Phase::kSilence || (next != nullptr && next->marker)) {
      if (next != nullptr && next->marker) can_rewind = false;  // the sender says the gap is silence
      // Silence: the pointer stays on the stream's frame grid (so a packet that comes is late only if
      // it is later than the offset) and the silence played for a frame of it is cut or lengthened to
      // land on the target: skipped when the delay is a frame or more too long, never past the next
      // packet.
      phase = Phase::kSilence;
      wait_ts = 0;
      const int64_t excess_ts = std::llround(excess / us_per_ts);
      const int64_t step = next != nullptr ? std::clamp<int64_t>(next->ts - play_ts, 1, frame_ts) : frame_ts;
      const int64_t len = std::min(step - excess_ts, step + frame_ts);
      if (len < granule_ts && excess_ts > 0) {
        ++stats.dropped_for_shrink;
        play_ts += step;
        continue;
      }
      if (len > step) ++stats.inserted_for_growth;
      emit(Play::kSilence, play_ts, step);
      out.playout_ts = static_cast<uint32_t>(std::max(granule_ts, len));
      play_ts += step;
      return;
    }

    // In speech. Wait for it while it may still come: nothing later is queued (or the network
    // reorders), and the history holds enough packets at least this late.
    const bool may_come = next == nullptr || reorder_rate > kReorderShare;
    if (may_come && ts_us(wait_ts + granule_ts) <= cfg.max_wait_ms * 1000.0 && hist.tail_above(offset) >= kWaitTail &&
        offset + ts_us(granule_ts) <= max_offset) {
      wait_ts += granule_ts;
      stats.wait_ms += ts_us(granule_ts) / 1000.0;
      emit(Play::kConceal, play_ts, granule_ts);
      return;
    }
    wait_ts = 0;
    if (next != nullptr && excess > frame_us() / 2) {
      // Above the target with a lost frame: skipping it shrinks the delay without discarding audio.
      ++stats.dropped_for_shrink;
      play_ts += frame_ts;
      continue;
    }
    conceal_missing(next, out, emit);
    return;
  }
  emit(Play::kSilence, play_ts, frame_ts);
  play_ts += frame_ts;
}

JitterBuffer::JitterBuffer(const Config& config) : config_((validate(config), config)), state_(std::make_unique<State>(config_)) {}

JitterBuffer::~JitterBuffer() = default;

void JitterBuffer::put(const Packet& packet) {
  std::lock_guard<std::mutex> lock(mutex_);
  state_->put(packet);
}

Pulled JitterBuffer::pull(int64_t now_us) {
  Pulled out;
  pull(now_us, out);
  return out;
}

void JitterBuffer::pull(int64_t now_us, Pulled& out) {
  if (out.payload.capacity() < config_.max_payload_bytes) out.payload.reserve(config_.max_payload_bytes);
  std::lock_guard<std::mutex> lock(mutex_);
  state_->pull(now_us, out);
}

Stats JitterBuffer::stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  State& s = *state_;
  s.update_target();
  Stats out = s.stats;
  out.target_delay_ms = s.target_added_us / 1000.0;
  out.max_delay_ms = config_.max_delay_ms;
  out.packets_held = s.held;
  out.drift_ppm = s.drift_ppm;
  return out;
}

void JitterBuffer::reset() {
  std::lock_guard<std::mutex> lock(mutex_);
  State& s = *state_;
  s.stats = Stats{};
  s.stats.max_delay_ms = config_.max_delay_ms;
  s.forget_stream();
  s.restart(config_.initial_delay_ms * 1000.0);
}

}  // namespace offhook::jitter
