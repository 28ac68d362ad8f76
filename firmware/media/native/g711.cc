// G.711 block encode/decode (PCMU, PCMA) and compile-time checks against values of the ITU-T tables.
#include "g711.h"

#include <array>

namespace offhook::g711 {
namespace {

using DecodeTable = std::array<int16_t, 256>;

template <int16_t (*Decode)(uint8_t) noexcept>
constexpr DecodeTable make_table() {
  DecodeTable table{};
  for (int code = 0; code < 256; ++code) table[static_cast<size_t>(code)] = Decode(static_cast<uint8_t>(code));
  return table;
}

// Read-only data, computed by the compiler: no state.
constexpr DecodeTable kUlawTable = make_table<ulaw_decode>();
constexpr DecodeTable kAlawTable = make_table<alaw_decode>();

// G.711 Table 2a (µ-law) at 14 bits × 4: the extreme outputs ±8031 and the two zero characters.
static_assert(ulaw_decode(0x00) == -32124 && ulaw_decode(0x80) == 32124);
static_assert(ulaw_decode(0xFF) == 0 && ulaw_decode(0x7F) == 0);
static_assert(ulaw_encode(0) == 0xFF && ulaw_encode(32767) == 0x80 && ulaw_encode(-32768) == 0x00);
// G.711 Table 1a (A-law) at 13 bits × 8: smallest outputs ±1, extremes ±4032.
static_assert(alaw_decode(0xD5) == 8 && alaw_decode(0x55) == -8);
static_assert(alaw_decode(0xAA) == 32256 && alaw_decode(0x2A) == -32256);
static_assert(alaw_encode(0) == 0xD5 && alaw_encode(32767) == 0xAA && alaw_encode(-32768) == 0x2A);

}  // namespace

void ulaw_encode_block(const int16_t* pcm, uint8_t* out, size_t count) noexcept {
  for (size_t i = 0; i < count; ++i) out[i] = ulaw_encode(pcm[i]);
}

void ulaw_decode_block(const uint8_t* codes, int16_t* out, size_t count) noexcept {
  for (size_t i = 0; i < count; ++i) out[i] = kUlawTable[codes[i]];
}

void alaw_encode_block(const int16_t* pcm, uint8_t* out, size_t count) noexcept {
  for (size_t i = 0; i < count; ++i) out[i] = alaw_encode(pcm[i]);
}

void alaw_decode_block(const uint8_t* codes, int16_t* out, size_t count) noexcept {
  for (size_t i = 0; i < count; ++i) out[i] = kAlawTable[codes[i]];
}

}  // namespace offhook::g711
