// RTP header parsing and writing (RFC 3550 §5.1, §5.3.1).
#include "engine/rtp.h"

namespace offhook::engine::rtp {

ParseResult parse(const uint8_t* data, size_t size, Header& out) noexcept {
  if (size < kHeaderBytes) return ParseResult::kTooShort;
  if ((data[0] >> 6) != 2) return ParseResult::kBadVersion;  // §5.1: V = 2
  const bool padding = (data[0] & 0x20) != 0;
  out.has_extension = (data[0] & 0x10) != 0;
  out.csrc_count = data[0] & 0x0F;
  out.marker = (data[1] & 0x80) != 0;
  out.payload_type = data[1] & 0x7F;
  out.seq = read_u16(data + 2);
  out.timestamp = read_u32(data + 4);
  out.ssrc = read_u32(data + 8);
  size_t offset = kHeaderBytes + size_t{out.csrc_count} * 4;
  if (offset > size) return ParseResult::kTooShort;
  if (out.has_extension) {
    if (offset + 4 > size) return ParseResult::kBadExtension;
    const size_t words = read_u16(data + offset + 2);
    offset += 4 + words * 4;
    if (offset > size) return ParseResult::kBadExtension;
  }
  size_t end = size;
  if (padding) {
    // §5.1: the last octet is the padding count, including itself; 0 or more than the payload is invalid.
    const size_t pad = data[size - 1];
    if (pad == 0 || pad > size - offset) return ParseResult::kBadPadding;
    end -= pad;
  }
  out.payload_offset = offset;
  out.payload_size = end - offset;
  return ParseResult::kOk;
}

void write_header(uint8_t* out, bool marker, uint8_t payload_type, uint16_t seq, uint32_t timestamp,
                  uint32_t ssrc) noexcept {
  out[0] = 0x80;  // V = 2, no padding, no extension, CC = 0
  out[1] = static_cast<uint8_t>((marker ? 0x80 : 0x00) | (payload_type & 0x7F));
  write_u16(out + 2, seq);
  write_u32(out + 4, timestamp);
  write_u32(out + 8, ssrc);
}

}  // namespace offhook::engine::rtp
