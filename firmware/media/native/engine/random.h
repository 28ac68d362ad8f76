// Per-engine pseudo-random numbers (SSRC, initial sequence number and timestamp, RTCP interval jitter, comfort noise).
#ifndef OFFHOOK_ENGINE_RANDOM_H
#define OFFHOOK_ENGINE_RANDOM_H

#include <cstdint>

namespace offhook::engine {

/// xoshiro256** seeded through splitmix64. Not cryptographic: RFC 3550 §5.1 and §8.1 ask for random
/// initial values so that streams are hard to guess and SSRCs rarely collide, which this gives; SRTP
/// keys will come from the kernel's generator, never from here. One instance per engine (injected
/// seed for tests, std::random_device otherwise), so runs with the same seed are reproducible.
class Random {
 public:
  explicit Random(uint64_t seed) noexcept {
    for (uint64_t& word : s_) {
      seed += 0x9E3779B97F4A7C15ULL;  // splitmix64 step: spreads a small seed over all 256 bits
      uint64_t z = seed;
      z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
      z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
      word = z ^ (z >> 31);
    }
  }

  uint64_t next() noexcept {
    const uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

  uint32_t next_u32() noexcept { return static_cast<uint32_t>(next() >> 32); }
  /// Uniform in [0, 1).
  double uniform() noexcept { return static_cast<double>(next() >> 11) * (1.0 / 9007199254740992.0); }

 private:
  static uint64_t rotl(uint64_t x, int k) noexcept { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4]{};
};

}  // namespace offhook::engine

#endif  // OFFHOOK_ENGINE_RANDOM_H
