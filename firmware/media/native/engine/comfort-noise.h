// RFC 3389 comfort noise on the receive side: the level of a CN payload, rendered as white noise.
#ifndef OFFHOOK_ENGINE_COMFORT_NOISE_H
#define OFFHOOK_ENGINE_COMFORT_NOISE_H

#include <cstddef>
#include <cstdint>

#include "engine/random.h"

namespace offhook::engine {

/// RFC 3389 §3: the first octet is the noise level in −dBov (0–127); the spectral coefficients that
/// may follow are ignored (§4: a receiver may), so the noise is white.
class ComfortNoise {
 public:
  /// Takes a CN payload; false if it is empty.
  bool set_from_payload(const uint8_t* payload, size_t size) noexcept;
  void set_level_dbov(int level) noexcept;
  int level_dbov() const noexcept { return level_; }
  /// Writes `samples` samples of noise at the signalled level.
  void render(int16_t* out, size_t samples, Random& random) noexcept;

 private:
  int level_ = 127;
  double rms_ = 0;
};

}  // namespace offhook::engine

#endif  // OFFHOOK_ENGINE_COMFORT_NOISE_H
