// RFC 3550 Appendix A.1 (sequence validation), A.3 (loss), A.8 (jitter), written from the RFC text.
#include "engine/reception.h"

#include <algorithm>
#include <cstdlib>

namespace offhook::engine {

void ReceptionStats::reset(uint16_t seq) noexcept {
  *this = ReceptionStats{};
  started_ = true;
  max_seq_ = seq;
  base_seq_ = seq;
  bad_seq_ = kRtpSeqMod + 1;
  probation_ = kMinSequential;
}

bool ReceptionStats::update(uint16_t seq, uint32_t rtp_timestamp, uint32_t arrival_ts) noexcept {
  if (!started_) {
    // A.1 init_seq() for the first packet, then probation: max_seq is seq - 1 so that the first
    // packet itself counts as "in sequence".
    reset(seq);
    max_seq_ = static_cast<uint16_t>(seq - 1);
  }
  const uint16_t udelta = static_cast<uint16_t>(seq - max_seq_);
  if (probation_ > 0) {
    // A.1: a source is not valid until kMinSequential packets with consecutive numbers arrived.
    if (seq == static_cast<uint16_t>(max_seq_ + 1)) {
      --probation_;
      max_seq_ = seq;
      if (probation_ == 0) {
        // init_seq(seq) then count this packet.
        base_seq_ = seq;
        cycles_ = 0;
        received_ = 0;
        received_prior_ = 0;
        expected_prior_ = 0;
        valid_ = true;
      } else {
        return false;
      }
    } else {
      probation_ = kMinSequential - 1;
      max_seq_ = seq;
      return false;
    }
  } else if (udelta < kMaxDropout) {
    if (udelta == 0) {
      ++out_of_order_;  // a duplicate
    } else {
      if (seq < max_seq_) cycles_ += kRtpSeqMod;  // wrapped
      count_transitions(udelta);
      max_seq_ = seq;
    }
  } else if (udelta <= kRtpSeqMod - kMaxMisorder) {
    // A large jump: accept it only if the next packet follows it (the sender restarted).
    if (seq == bad_seq_) {
      reset(seq);
      valid_ = true;
      probation_ = 0;
      base_seq_ = seq;
    } else {
      bad_seq_ = (seq + 1U) & (kRtpSeqMod - 1);
      return false;
    }
  } else {
    ++out_of_order_;  // reordered (or a duplicate of an older packet)
  }
  ++received_;

  // A.8: J += (|D| - J) / 16 with D the difference of relative transit times, in timestamp units.
  const int64_t transit = static_cast<int64_t>(static_cast<int32_t>(arrival_ts - rtp_timestamp));
  if (have_transit_) {
    int64_t d = transit - transit_;
    if (d < 0) d = -d;
    jitter_ += (static_cast<double>(d) - jitter_) / 16.0;
  }
  transit_ = transit;
  have_transit_ = true;
  return true;
}

void ReceptionStats::count_transitions(uint32_t gap) noexcept {
  if (gap == 1) {
    ++rr_;
    return;
  }
  // gap - 1 packets were lost between the previous highest and this one.
  ++rl_;
  ll_ += gap - 2;
  ++lr_;
}

double ReceptionStats::burst_ratio() const noexcept {
  const double from_received = static_cast<double>(rr_ + rl_);
  const double from_lost = static_cast<double>(ll_ + lr_);
  if (from_received == 0 || from_lost == 0) return 1.0;
  const double p = static_cast<double>(rl_) / from_received;
  const double q = static_cast<double>(lr_) / from_lost;
  return p + q > 0 ? std::max(1.0, 1.0 / (p + q)) : 1.0;
}

int64_t ReceptionStats::expected() const noexcept {
  if (!valid_) return 0;
  return static_cast<int64_t>(extended_max()) - static_cast<int64_t>(base_seq_) + 1;
}

ReportBlockValues ReceptionStats::make_report() noexcept {
  ReportBlockValues r;
  if (!valid_) return r;
  const int64_t expected_now = expected();
  const int64_t lost = expected_now - static_cast<int64_t>(received_);
  // §6.4.1: cumulative lost is a 24-bit signed number; clamp rather than wrap.
  r.cumulative_lost = static_cast<int32_t>(std::clamp<int64_t>(lost, -0x800000, 0x7FFFFF));
  const int64_t expected_interval = expected_now - expected_prior_;
  const int64_t received_interval = static_cast<int64_t>(received_ - received_prior_);
  expected_prior_ = expected_now;
  received_prior_ = received_;
  const int64_t lost_interval = expected_interval - received_interval;
  // A.3: fraction = (lost_interval << 8) / expected_interval, 0 when nothing was lost (or duplicates).
  r.fraction_lost = (expected_interval == 0 || lost_interval <= 0)
                        ? 0
                        : static_cast<uint8_t>(std::min<int64_t>(255, (lost_interval << 8) / expected_interval));
  r.extended_highest_seq = extended_max();
  r.jitter = static_cast<uint32_t>(jitter_);
  return r;
}

}  // namespace offhook::engine
