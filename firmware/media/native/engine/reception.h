// Receiver statistics of one RTP source (RFC 3550 §6.4.1, Appendix A.1, A.3, A.8): what an RTCP report block says.
#ifndef OFFHOOK_ENGINE_RECEPTION_H
#define OFFHOOK_ENGINE_RECEPTION_H

#include <cstdint>

namespace offhook::engine {

/// The fields of one report block (RFC 3550 §6.4.1) about the source we receive.
struct ReportBlockValues {
  uint8_t fraction_lost = 0;   ///< since the previous report, in 1/256
  int32_t cumulative_lost = 0; ///< 24-bit signed on the wire (duplicates can make it negative)
  uint32_t extended_highest_seq = 0;
  uint32_t jitter = 0;         ///< timestamp units
};

/// Sequence-number bookkeeping of RFC 3550 Appendix A.1 (with probation and wrap-around), the loss
/// counts of A.3, the interarrival jitter of A.8, and the loss/receive transitions the E-model's
/// BurstR needs (ITU-T G.107 §7.5: a two-state Markov model of the loss process).
class ReceptionStats {
 public:
  /// A.1: a source is valid after this many packets in sequence.
  static constexpr int kMinSequential = 2;
  /// A.1: a forward jump larger than this, or a backward one larger than kMaxMisorder, is suspicious.
  static constexpr uint32_t kMaxDropout = 3000;
  static constexpr uint32_t kMaxMisorder = 100;

  /// Forgets everything: a new SSRC is a new source (§8.2).
  void reset(uint16_t seq) noexcept;

  /// A.1 update_seq(): false when the packet should not count (probation not passed, or a jump that
  /// is not yet confirmed by the next packet). `arrival_ts` is the arrival time in timestamp units.
  bool update(uint16_t seq, uint32_t rtp_timestamp, uint32_t arrival_ts) noexcept;

  /// A.3: values for a report block, and starts the next reporting interval (fraction lost).
  ReportBlockValues make_report() noexcept;

  bool valid() const noexcept { return valid_; }
  uint64_t received() const noexcept { return received_; }
  /// Packets expected from the first to the highest sequence number seen (A.3).
  int64_t expected() const noexcept;
  int64_t lost() const noexcept { return expected() - static_cast<int64_t>(received_); }
  /// Interarrival jitter estimate (A.8), in timestamp units.
  double jitter_ts() const noexcept { return jitter_; }
  uint32_t extended_max() const noexcept { return cycles_ + max_seq_; }
  /// Packets that came with a sequence number below the highest seen (out of order or duplicated).
  uint64_t out_of_order() const noexcept { return out_of_order_; }
  /// G.107 §7.5 BurstR = 1 / (p + q), p = P(loss | previous received), q = P(received | previous lost);
  /// 1 for random loss, > 1 for bursty loss.
  double burst_ratio() const noexcept;

 private:
  void count_transitions(uint32_t gap) noexcept;

  uint16_t max_seq_ = 0;
  uint32_t cycles_ = 0;  // shifted count of wraps (A.1: cycles << 16)
  uint32_t base_seq_ = 0;
  uint32_t bad_seq_ = kRtpSeqMod + 1;
  int probation_ = kMinSequential;
  bool valid_ = false;
  bool started_ = false;
  uint64_t received_ = 0;
  int64_t expected_prior_ = 0;
  uint64_t received_prior_ = 0;
  // A.8
  bool have_transit_ = false;
  int64_t transit_ = 0;
  double jitter_ = 0;
  uint64_t out_of_order_ = 0;
  // Markov transition counts: received→received, received→lost, lost→lost, lost→received.
  uint64_t rr_ = 0, rl_ = 0, ll_ = 0, lr_ = 0;

  static constexpr uint32_t kRtpSeqMod = 1U << 16;
};

}  // namespace offhook::engine

#endif  // OFFHOOK_ENGINE_RECEPTION_H
