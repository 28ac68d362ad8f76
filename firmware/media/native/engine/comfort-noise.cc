// Comfort noise generation from an RFC 3389 level.
#include "engine/comfort-noise.h"

#include <cmath>

namespace offhook::engine {

bool ComfortNoise::set_from_payload(const uint8_t* payload, size_t size) noexcept {
  if (size < 1) return false;
  set_level_dbov(payload[0] & 0x7F);
  return true;
}

void ComfortNoise::set_level_dbov(int level) noexcept {
  level_ = level;
  // 0 dBov is the overload point (RFC 3389 §3), 32767 at 16 bits; the level is the noise's RMS.
  rms_ = level >= 127 ? 0 : 32767.0 * std::pow(10.0, -level / 20.0);
}

void ComfortNoise::render(int16_t* out, size_t samples, Random& random) noexcept {
  // Sum of 4 uniforms: close enough to Gaussian, variance 4/12 before scaling.
  const double scale = rms_ / std::sqrt(4.0 / 12.0);
  for (size_t i = 0; i < samples; ++i) {
    const double u = random.uniform() + random.uniform() + random.uniform() + random.uniform() - 2.0;
    double v = u * scale;
    if (v > 32767) v = 32767;
    if (v < -32768) v = -32768;
    out[i] = static_cast<int16_t>(std::lround(v));
  }
}

}  // namespace offhook::engine
