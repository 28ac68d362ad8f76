// One-splice time-stretching of a decoded frame to an exact length (see time-stretch.h).
#include "time-stretch.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace offhook::jitter {

namespace {

/// Similarity of a[0, len) and b[0, len), in [−1, 1]: 2·Σab / (Σa² + Σb²), with a floor on the
/// energy so that two near-silent stretches count as alike (cutting there is inaudible).
double similarity(const int16_t* a, const int16_t* b, size_t len, size_t stride) {
  double ab = 0, aa = 0, bb = 0;
  for (size_t i = 0; i < len; i += stride) {
    const double x = a[i], y = b[i];
    ab += x * y;
    aa += x * x;
    bb += y * y;
  }
  const double floor = 64.0 * 64.0 * static_cast<double>(len / stride + 1);  // ~ −54 dBFS
  return (2.0 * ab + floor) / (aa + bb + floor);
}

struct Splice {
  size_t p = 0;
  size_t d = 0;
};

/// The lag d in [d_lo, d_hi] and the point p in [0, n − d − len] where x[p, p+len) and
/// x[p+d, p+d+len) are most alike; a lag away from `want` pays a little. The search is capped: a
/// coarse pass on a 4 kHz grid (every candidate's similarity on every `step`-th sample, at most
/// kMaxPoints positions of p), then d and p refined one after the other to the sample, never the
/// full (d, p) square at the full rate (a 48 kHz frame would cost millions of products).
constexpr size_t kMaxPoints = 48;

Splice best_splice(const int16_t* x, size_t n, size_t want, size_t d_lo, size_t d_hi, size_t len, int sample_rate_hz) {
  const size_t step = static_cast<size_t>(std::max(1, sample_rate_hz / 4000));
  auto score_at = [&](size_t p, size_t d, size_t stride) {
    const double off = std::abs(static_cast<double>(d) - static_cast<double>(want)) / static_cast<double>(std::max<size_t>(1, want));
    return similarity(x + p, x + p + d, len, stride) - 0.05 * off;
  };
  Splice best{0, want};
  double best_score = -1e9;
  for (size_t d = d_lo; d <= d_hi && d + len <= n; d += step) {
    const size_t span = n - d - len;  // p in [0, span]
    const size_t p_step = std::max(step, (span + kMaxPoints - 1) / kMaxPoints);
    for (size_t p = 0; p <= span; p += p_step) {
      const double s = score_at(p, d, step);
      if (s > best_score) {
        best_score = s;
        best = {p, d};
      }
    }
  }
  if (step > 1) {
    // Refine the lag at full resolution (the pitch period to the sample), then the point.
    const Splice coarse = best;
    best_score = -1e9;
    for (size_t d = coarse.d > d_lo + step ? coarse.d - step + 1 : d_lo; d <= std::min(d_hi, coarse.d + step - 1); ++d) {
      if (coarse.p + d + len > n) break;
      const double s = score_at(coarse.p, d, 1);
      if (s > best_score) {
        best_score = s;
        best = {coarse.p, d};
      }
    }
    const size_t d = best.d;
    const size_t p0 = best.p;
    for (size_t p = p0 >= step ? p0 - step + 1 : 0; p <= p0 + step - 1 && p + d + len <= n; p += std::max<size_t>(1, step / 4)) {
      if (p == p0) continue;
      const double s = score_at(p, d, 1);
      if (s > best_score) {
        best_score = s;
        best = {p, d};
      }
    }
  }
  return best;
}

int16_t mix(int16_t a, int16_t b, double w) {
  const double v = a * (1.0 - w) + b * w;
  return static_cast<int16_t>(std::clamp(std::lround(v), -32768L, 32767L));
}

}  // namespace

size_t time_stretch(int16_t* pcm, size_t n, size_t m, size_t capacity, int sample_rate_hz, bool exact) noexcept {
  if (pcm == nullptr || m == n || m == 0) return n;
  m = std::min(m, capacity);
  if (m == n) return n;
  const bool longer = m > n;
  const size_t want = longer ? m - n : n - m;
  // Cross-fade: 2.5 ms, longer for a longer splice (up to 5 ms), never more than the frame allows.
  const size_t rate_ms = static_cast<size_t>(std::max(1, sample_rate_hz / 1000));
  size_t len = std::clamp(want, rate_ms * 5 / 2, rate_ms * 5);
  len = std::min({len, kMaxStretchOverlap, n / 4});
  if (len == 0 || want > n / 2 || want + len > n) return n;
  // A change under a millisecond is not worth a splice (the buffer asks again when it has grown).
  if (!exact && want < rate_ms) return n;
  size_t d_lo = exact ? want : std::max<size_t>(1, want / 2);
  size_t d_hi = exact ? want : std::min({2 * want, n / 2, n - len});
  if (longer) d_hi = std::min(d_hi, capacity - n);
  if (d_hi < d_lo) return n;
  const Splice splice = best_splice(pcm, n, want, d_lo, d_hi, len, sample_rate_hz);
  const size_t p = splice.p;
  const size_t d = splice.d;
  m = longer ? n + d : n - d;
  if (m < n) {
    // Shorten: y = x[0, p) + fade(x[p, p+len) → x[p+d, p+d+len)) + x[p+d+len, n).
    for (size_t i = 0; i < len; ++i) {
      const double w = (static_cast<double>(i) + 0.5) / static_cast<double>(len);
      pcm[p + i] = mix(pcm[p + i], pcm[p + d + i], w);  // reads ahead of every write (d >= 1)
    }
    std::memmove(pcm + p + len, pcm + p + d + len, (n - p - d - len) * sizeof(int16_t));
    return m;
  }
  // Lengthen: y = x[0, q) + fade(x[q, q+len) → x[p, p+len)) + x[p+len, n), with q = p + d. The move
  // writes only from q+len on; x[q, q+len) is kept aside because the fade overwrites it while x[p+i]
  // may lie inside it (when len > d).
  int16_t head[kMaxStretchOverlap];
  const size_t q = p + d;
  std::memcpy(head, pcm + q, len * sizeof(int16_t));
  std::memmove(pcm + q + len, pcm + p + len, (n - p - len) * sizeof(int16_t));
  for (size_t i = 0; i < len; ++i) {
    const double w = (static_cast<double>(i) + 0.5) / static_cast<double>(len);
    const int16_t from = p + i >= q ? head[p + i - q] : pcm[p + i];
    pcm[q + i] = mix(head[i], from, w);
  }
  return m;
}

}  // namespace offhook::jitter
