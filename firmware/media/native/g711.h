// G.711 µ-law (PCMU) and A-law (PCMA) companding of 16-bit linear PCM, written from ITU-T G.711 (11/88).
#ifndef OFFHOOK_G711_H
#define OFFHOOK_G711_H

#include <cstddef>
#include <cstdint>

namespace offhook::g711 {

// The standard defines µ-law on 14-bit and A-law on 13-bit signed linear values (G.711 Tables 1 and 2).
// We take 16-bit samples, so every decision and output value of the tables is scaled by 4 (µ-law)
// or 8 (A-law). Negative samples are encoded from their magnitude, so that encode(-x) differs from
// encode(x) only in the sign bit, as the tables are symmetric (−32768 saturates like −32767).

/// µ-law bias: 33 in 14-bit units (Table 2a's segment ends 31, 95, 223 ... 8159 are 2^k·32 − 33), × 4.
inline constexpr int kUlawBias = 0x84;
/// Largest magnitude whose biased value stays in segment 7; everything above the last decision value
/// (7903 × 4) already gives the top code, so clipping here changes no code.
inline constexpr int kUlawClip = 0x7FFF - kUlawBias;
/// A-law transmits every even bit inverted (G.711 §3, "the even bits ... are inverted").
inline constexpr int kAlawEvenBits = 0x55;

/// Index of the highest set bit of a non-zero value.
constexpr int highest_bit(uint32_t v) noexcept { return 31 - __builtin_clz(v); }

/// µ-law: the biased magnitude lies in [128·2^s, 256·2^s) for segment s; the 4 bits below the leading
/// one are the quantization step. The character is sign (1 = positive) | segment | step, all 8 bits
/// inverted (G.711 Table 2a, note on the character signal), so +0 is 0xFF and −0 is 0x7F.
constexpr uint8_t ulaw_encode(int16_t sample) noexcept {
  const int negative = sample < 0 ? 0x80 : 0x00;
  int mag = sample < 0 ? -static_cast<int>(sample) : static_cast<int>(sample);
  if (mag > kUlawClip) mag = kUlawClip;
  mag += kUlawBias;  // 132 ... 32767: bit 7 is the lowest possible leading one
  const int segment = highest_bit(static_cast<uint32_t>(mag)) - 7;
  const int step = (mag >> (segment + 3)) & 0x0F;
  return static_cast<uint8_t>(~(negative | (segment << 4) | step));
}

/// µ-law decode: the output value of Table 2a is the middle of the decision interval,
/// ((2·step + 33) · 2^segment − 33) in 14-bit units.
constexpr int16_t ulaw_decode(uint8_t code) noexcept {
  const int v = ~code & 0xFF;
  const int segment = (v >> 4) & 0x07;
  const int step = v & 0x0F;
  const int mag = (((step << 3) + kUlawBias) << segment) - kUlawBias;
  return static_cast<int16_t>((v & 0x80) != 0 ? -mag : mag);
}

/// A-law: segments 0 and 1 both have steps of 2 (13-bit units), then each segment doubles
/// (G.711 Table 1a). The character is sign (1 = positive) | segment | step, even bits inverted.
constexpr uint8_t alaw_encode(int16_t sample) noexcept {
  const int positive = sample < 0 ? 0x00 : 0x80;
  int mag = sample < 0 ? -static_cast<int>(sample) : static_cast<int>(sample);
  if (mag > 0x7FFF) mag = 0x7FFF;
  int segment = 0;
  int step = 0;
  if (mag < 256) {  // 32 in 13-bit units: the linear first segment
    step = mag >> 4;
  } else {
    segment = highest_bit(static_cast<uint32_t>(mag)) - 7;
    step = (mag >> (segment + 3)) & 0x0F;
  }
  return static_cast<uint8_t>((positive | (segment << 4) | step) ^ kAlawEvenBits);
}

/// A-law decode: output values are interval middles, 2·step + 1 in segment 0 and
/// (2·step + 33) · 2^(segment − 1) above, in 13-bit units. A-law has no zero output (±8 at 16 bits).
constexpr int16_t alaw_decode(uint8_t code) noexcept {
  const int v = code ^ kAlawEvenBits;
  const int segment = (v >> 4) & 0x07;
  const int step = v & 0x0F;
  const int mag = segment == 0 ? (step << 4) + 8 : ((step << 4) + 264) << (segment - 1);
  return static_cast<int16_t>((v & 0x80) != 0 ? mag : -mag);
}

/// Block forms for the media path; decode goes through a 256-entry table built at compile time.
void ulaw_encode_block(const int16_t* pcm, uint8_t* out, size_t count) noexcept;
void ulaw_decode_block(const uint8_t* codes, int16_t* out, size_t count) noexcept;
void alaw_encode_block(const int16_t* pcm, uint8_t* out, size_t count) noexcept;
void alaw_decode_block(const uint8_t* codes, int16_t* out, size_t count) noexcept;

}  // namespace offhook::g711

#endif  // OFFHOOK_G711_H
