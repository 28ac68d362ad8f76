// Exponentially decaying histogram of packet transit delays, for the jitter buffer's quantile estimates.
//
// Each packet adds its relative transit delay d = arrival − timestamp/rate (RFC 3550 §6.4.1 "relative
// transit time"; the unknown clock offset cancels because only differences and quantiles are used).
// Old packets fade with a half-life counted in packets, so a jitter burst shows in the upper quantile
// after a few packets and leaves it slowly, the "forgetting factor" histogram of WebRTC NetEQ's
// DelayManager and of Ramjee et al., "Adaptive playout mechanisms for packetized audio applications in
// wide-area networks" (INFOCOM 1994), here over delays in µs rather than inter-arrival times in packets.
// For the time-stretching buffer it also keeps the first two moments of the tail above each bin, so
// that the expected cost of waiting for packets later than a candidate offset is O(1) per candidate.
// Fixed storage: no allocation after construction.
#ifndef OFFHOOK_JITTER_DELAY_HISTOGRAM_H
#define OFFHOOK_JITTER_DELAY_HISTOGRAM_H

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>

namespace offhook::jitter {

class DelayHistogram {
 public:
  static constexpr int kBins = 2048;

  /// Bins of 0.5 ms over 1.024 s (finer than any frame), or wider when the delays to cover are:
  /// the range is at least twice max_delay_us.
  DelayHistogram(int half_life_packets, double max_delay_us)
      : bin_us_(std::max(500.0, 2.0 * max_delay_us / kBins)), range_us_(kBins * bin_us_) {
    set_half_life(half_life_packets);
  }

  void set_half_life(int half_life_packets) {
    // Adding a growing increment instead of scaling every bin keeps add() O(1); a renormalisation
    // every ~40 half-lives keeps the numbers finite.
    growth_ = std::exp2(1.0 / std::max(1, half_life_packets));
  }

  void clear() {
    bins_.fill(0.0);
    tails_.fill(0.0);
    tails1_.fill(0.0);
    tails2_.fill(0.0);
    total_ = 0.0;
    increment_ = 1.0;
    have_ref_ = false;
    samples_ = 0;
  }

  /// Decayed weight, in units of the newest sample's.
  double weight() const { return total_ / increment_; }

  bool empty() const { return samples_ == 0; }

  /// Adds one packet's delay with a weight in [0, 1] (1 for a packet that counts fully).
  void add(double d_us, double weight = 1.0) {
    if (!have_ref_) {
      // A quarter of the range below the first value: later packets may be faster than the first.
      ref_us_ = d_us - range_us_ / 4;
      have_ref_ = true;
    }
    if (d_us < ref_us_) {
      shift_up(static_cast<int>(std::ceil((ref_us_ - d_us) / bin_us_)) + kBins / 8);
    } else if (d_us >= ref_us_ + range_us_) {
      // The delay moved up for good (a route change, a slow sender clock): slide the window, but only
      // over bins that hold (almost) nothing, so that one wild outlier cannot erase the history.
      const int need = static_cast<int>((d_us - ref_us_ - range_us_) / bin_us_) + 1 + kBins / 8;
      if (mass_below(need) <= 1e-3 * total_) shift_down(need);
    }
    const int bin = std::clamp(static_cast<int>((d_us - ref_us_) / bin_us_), 0, kBins - 1);
    bins_[static_cast<size_t>(bin)] += increment_ * weight;
    total_ += increment_ * weight;
    ++samples_;
    increment_ *= growth_;
    if (increment_ > 1e100) renormalise();
  }

  /// The delay below which a share p of the (decayed) mass lies, interpolated inside the bin.
  /// Walks from the side nearer to p. Returns 0 when empty.
  double quantile(double p) const {
    if (total_ <= 0.0) return 0.0;
    p = std::clamp(p, 0.0, 1.0);
    if (p >= 0.5) {
      const double above_wanted = (1.0 - p) * total_;
      double above = 0.0;
      for (int i = kBins - 1; i >= 0; --i) {
        const double w = bins_[static_cast<size_t>(i)];
        if (above + w >= above_wanted && w > 0.0) {
          const double inside = (above_wanted - above) / w;  // share of this bin that lies above
          return ref_us_ + (i + 1 - inside) * bin_us_;
        }
        above += w;
      }
      return ref_us_;
    }
    const double below_wanted = p * total_;
    double below = 0.0;
    for (int i = 0; i < kBins; ++i) {
      const double w = bins_[static_cast<size_t>(i)];
      if (below + w >= below_wanted && w > 0.0) {
        const double inside = (below_wanted - below) / w;
        return ref_us_ + (i + inside) * bin_us_;
      }
      below += w;
    }
    return ref_us_ + range_us_;
  }

  /// Share of the (decayed) mass above x, interpolated inside x's bin: the share of packets that
  /// would be late with a play-out offset of x. Needs prepare_tails() after the last add().
  double tail_above(double x_us) const {
    if (total_ <= 0.0) return 0.0;
    const double pos = (x_us - ref_us_) / bin_us_;
    if (pos < 0) return 1.0;
    if (pos >= kBins) return 0.0;
    const int i = static_cast<int>(pos);
    const double frac = pos - i;
    const double above = (i + 1 < kBins ? tails_[static_cast<size_t>(i + 1)] : 0.0) + bins_[static_cast<size_t>(i)] * (1.0 - frac);
    return above / total_;
  }

  /// Recomputes the running sums tail_above() and wait_moments() read (O(bins), once after a batch
  /// of add()).
  void prepare_tails() {
    double above = 0.0, above1 = 0.0, above2 = 0.0;
    for (int i = kBins - 1; i >= 0; --i) {
      const double w = bins_[static_cast<size_t>(i)];
      const double c = (i + 0.5) * bin_us_;  // bin centre, relative to ref_us_
      above += w;
      above1 += w * c;
      above2 += w * c * c;
      tails_[static_cast<size_t>(i)] = above;
      tails1_[static_cast<size_t>(i)] = above1;
      tails2_[static_cast<size_t>(i)] = above2;
    }
  }

  /// For the packets with x < d <= x + span (bin resolution): their share of the mass, and the means
  /// over all packets of (d − x)·[x < d <= x + span] and of (d − x)²·[…]. Needs prepare_tails().
  struct Moments {
    double share = 0, mean1 = 0, mean2 = 0;
  };
  Moments wait_moments(double x_us, double span_us) const {
    Moments m;
    if (total_ <= 0.0) return m;
    const int a = std::clamp(static_cast<int>(std::ceil(bin_of(x_us))), 0, kBins);
    const int b = std::clamp(static_cast<int>(std::floor(bin_of(x_us + span_us))) + 1, a, kBins);
    auto at = [](const std::array<double, kBins>& t, int i) { return i < kBins ? t[static_cast<size_t>(i)] : 0.0; };
    const double m0 = at(tails_, a) - at(tails_, b);
    const double m1 = at(tails1_, a) - at(tails1_, b);
    const double m2 = at(tails2_, a) - at(tails2_, b);
    const double xr = x_us - ref_us_;
    m.share = m0 / total_;
    m.mean1 = std::max(0.0, m1 - xr * m0) / total_;
    m.mean2 = std::max(0.0, m2 - 2.0 * xr * m1 + xr * xr * m0) / total_;
    return m;
  }

  /// Lower edge of bin i, and the (fractional) bin a delay falls in, for scans over candidate offsets.
  double bin_start(int i) const { return ref_us_ + i * bin_us_; }
  double bin_of(double x_us) const { return (x_us - ref_us_) / bin_us_; }

 private:
  void renormalise() {
    for (double& b : bins_) b /= increment_;
    total_ /= increment_;
    increment_ = 1.0;
  }

  double mass_below(int n) const {
    double m = 0.0;
    for (int i = 0; i < std::min(n, kBins); ++i) m += bins_[static_cast<size_t>(i)];
    return m;
  }

  /// The window moves down by n bins (values move up in index); the top n bins merge into the last.
  void shift_up(int n) {
    n = std::min(n, kBins - 1);
    double spill = 0.0;
    for (int i = kBins - n; i < kBins; ++i) spill += bins_[static_cast<size_t>(i)];
    for (int i = kBins - 1; i >= n; --i) bins_[static_cast<size_t>(i)] = bins_[static_cast<size_t>(i - n)];
    for (int i = 0; i < n; ++i) bins_[static_cast<size_t>(i)] = 0.0;
    bins_[kBins - 1] += spill;
    ref_us_ -= n * bin_us_;
  }

  /// The window moves up by n bins; the bottom n bins merge into the first.
  void shift_down(int n) {
    n = std::min(n, kBins - 1);
    double spill = 0.0;
    for (int i = 0; i < n; ++i) spill += bins_[static_cast<size_t>(i)];
    for (int i = 0; i < kBins - n; ++i) bins_[static_cast<size_t>(i)] = bins_[static_cast<size_t>(i + n)];
    for (int i = kBins - n; i < kBins; ++i) bins_[static_cast<size_t>(i)] = 0.0;
    bins_[0] += spill;
    ref_us_ += n * bin_us_;
  }

  const double bin_us_;
  const double range_us_;
  std::array<double, kBins> bins_{};
  std::array<double, kBins> tails_{};   // tails_[i] = mass in bins i and above (prepare_tails)
  std::array<double, kBins> tails1_{};  // ... times the bin centre (relative to ref_us_)
  std::array<double, kBins> tails2_{};  // ... times its square
  double total_ = 0.0;
  double increment_ = 1.0;
  double growth_ = 1.0;
  double ref_us_ = 0.0;
  bool have_ref_ = false;
  long samples_ = 0;
};

}  // namespace offhook::jitter

#endif  // OFFHOOK_JITTER_DELAY_HISTOGRAM_H
