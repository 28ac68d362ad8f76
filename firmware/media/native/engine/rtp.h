// RTP fixed header (RFC 3550 §5.1): parsing of received packets and writing of sent ones.
#ifndef OFFHOOK_ENGINE_RTP_H
#define OFFHOOK_ENGINE_RTP_H

#include <cstddef>
#include <cstdint>

namespace offhook::engine::rtp {

/// Fixed header without CSRCs (RFC 3550 §5.1).
inline constexpr size_t kHeaderBytes = 12;

struct Header {
  bool marker = false;
  uint8_t payload_type = 0;
  uint16_t seq = 0;
  uint32_t timestamp = 0;
  uint32_t ssrc = 0;
  uint8_t csrc_count = 0;
  bool has_extension = false;
  /// Where the payload starts and how long it is, padding removed.
  size_t payload_offset = 0;
  size_t payload_size = 0;
};

enum class ParseResult { kOk, kTooShort, kBadVersion, kBadPadding, kBadExtension };

/// Parses one RTP packet. Skips the CSRC list (§5.1, CC × 4 bytes) and a header extension (§5.3.1:
/// 16-bit profile word, 16-bit length in 32-bit words, then the words), and removes padding (§5.1:
/// the last octet counts the padding octets, itself included).
ParseResult parse(const uint8_t* data, size_t size, Header& out) noexcept;

/// Writes a 12-byte header (no CSRC, no extension, no padding) into `out`, which must hold kHeaderBytes.
void write_header(uint8_t* out, bool marker, uint8_t payload_type, uint16_t seq, uint32_t timestamp,
                  uint32_t ssrc) noexcept;

/// RFC 5761 §4: with rtcp-mux, a packet whose second octet is 192..223 (RTCP packet types 192..223,
/// i.e. payload types 64..95 with the marker bit) is RTCP; everything else is RTP.
inline bool looks_like_rtcp(const uint8_t* data, size_t size) noexcept {
  return size >= 2 && data[1] >= 192 && data[1] <= 223;
}

inline uint16_t read_u16(const uint8_t* p) noexcept { return static_cast<uint16_t>((p[0] << 8) | p[1]); }
inline uint32_t read_u32(const uint8_t* p) noexcept {
  return (static_cast<uint32_t>(p[0]) << 24) | (static_cast<uint32_t>(p[1]) << 16) | (static_cast<uint32_t>(p[2]) << 8) | p[3];
}
inline void write_u16(uint8_t* p, uint16_t v) noexcept {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}
inline void write_u32(uint8_t* p, uint32_t v) noexcept {
  p[0] = static_cast<uint8_t>(v >> 24);
  p[1] = static_cast<uint8_t>(v >> 16);
  p[2] = static_cast<uint8_t>(v >> 8);
  p[3] = static_cast<uint8_t>(v);
}

}  // namespace offhook::engine::rtp

#endif  // OFFHOOK_ENGINE_RTP_H
