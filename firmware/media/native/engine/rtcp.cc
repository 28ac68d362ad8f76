// RTCP packet building and parsing (RFC 3550 §6.4.1, §6.4.2, §6.5, §6.6) and the interval of §6.3.
#include "engine/rtcp.h"

#include <algorithm>
#include <cmath>

#include "engine/rtp.h"

namespace offhook::engine::rtcp {
namespace {

constexpr uint8_t kCnameItem = 1;

/// Common header (§6.4.1): V=2, P=0, count, packet type, length in 32-bit words minus one.
void put_header(std::vector<uint8_t>& out, size_t start, uint8_t count, uint8_t type) {
  const size_t words = (out.size() - start) / 4 - 1;
  out[start] = static_cast<uint8_t>(0x80 | (count & 0x1F));
  out[start + 1] = type;
  rtp::write_u16(&out[start + 2], static_cast<uint16_t>(words));
}

void append_u32(std::vector<uint8_t>& out, uint32_t v) {
  const size_t at = out.size();
  out.resize(at + 4);
  rtp::write_u32(&out[at], v);
}

void append_block(std::vector<uint8_t>& out, const Outgoing& p) {
  append_u32(out, p.block_ssrc);
  // fraction lost (8 bits) | cumulative number of packets lost (24 bits, two's complement)
  const uint32_t cumulative = static_cast<uint32_t>(p.block.cumulative_lost) & 0xFFFFFF;
  append_u32(out, (static_cast<uint32_t>(p.block.fraction_lost) << 24) | cumulative);
  append_u32(out, p.block.extended_highest_seq);
  append_u32(out, p.block.jitter);
  append_u32(out, p.lsr);
  append_u32(out, p.dlsr);
}

ReportBlockValues read_block(const uint8_t* b, uint32_t& lsr, uint32_t& dlsr) noexcept {
  ReportBlockValues v;
  v.fraction_lost = b[4];
  uint32_t cumulative = (static_cast<uint32_t>(b[5]) << 16) | (static_cast<uint32_t>(b[6]) << 8) | b[7];
  if ((cumulative & 0x800000) != 0) cumulative |= 0xFF000000;  // sign-extend the 24-bit value
  v.cumulative_lost = static_cast<int32_t>(cumulative);
  v.extended_highest_seq = rtp::read_u32(b + 8);
  v.jitter = rtp::read_u32(b + 12);
  lsr = rtp::read_u32(b + 16);
  dlsr = rtp::read_u32(b + 20);
  return v;
}

}  // namespace

void build(const Outgoing& p, std::vector<uint8_t>& out) {
  const size_t report = out.size();
  out.resize(report + 4);  // header, filled in below
  append_u32(out, p.ssrc);
  if (p.sender) {
    // §6.4.1 sender info: NTP timestamp, RTP timestamp of the same instant, packet and octet counts.
    append_u32(out, static_cast<uint32_t>(p.ntp >> 32));
    append_u32(out, static_cast<uint32_t>(p.ntp));
    append_u32(out, p.rtp_timestamp);
    append_u32(out, p.packets_sent);
    append_u32(out, p.octets_sent);
  }
  if (p.has_block) append_block(out, p);
  put_header(out, report, p.has_block ? 1 : 0, p.sender ? kSenderReport : kReceiverReport);

  // §6.5: SDES with one chunk: SSRC, CNAME item, a null item ending the list, padded to 32 bits.
  const size_t sdes = out.size();
  out.resize(sdes + 4);
  append_u32(out, p.ssrc);
  const size_t cname_len = std::min<size_t>(p.cname.size(), 255);
  out.push_back(kCnameItem);
  out.push_back(static_cast<uint8_t>(cname_len));
  out.insert(out.end(), p.cname.begin(), p.cname.begin() + static_cast<std::ptrdiff_t>(cname_len));
  do {
    out.push_back(0);  // at least one null octet ends the item list (§6.5)
  } while ((out.size() - sdes) % 4 != 0);
  put_header(out, sdes, 1, kSourceDescription);

  if (p.bye) {
    // §6.6: BYE with our SSRC, no reason.
    const size_t bye = out.size();
    out.resize(bye + 4);
    append_u32(out, p.ssrc);
    put_header(out, bye, 1, kBye);
  }
}

bool parse(const uint8_t* data, size_t size, uint32_t our_ssrc, Incoming& out) noexcept {
  size_t offset = 0;
  bool first = true;
  while (offset + 4 <= size) {
    const uint8_t* p = data + offset;
    if ((p[0] >> 6) != 2) return false;
    const uint8_t count = p[0] & 0x1F;
    const uint8_t type = p[1];
    const size_t length = (size_t{rtp::read_u16(p + 2)} + 1) * 4;
    if (offset + length > size) return false;
    if (first && type != kSenderReport && type != kReceiverReport && type != kSourceDescription && type != kBye) {
      return false;
    }
    first = false;
    size_t blocks_at = 0;
    if (type == kSenderReport && length >= 28) {
      out.has_sender_info = true;
      out.sender_ssrc = rtp::read_u32(p + 4);
      out.ntp = (static_cast<uint64_t>(rtp::read_u32(p + 8)) << 32) | rtp::read_u32(p + 12);
      out.rtp_timestamp = rtp::read_u32(p + 16);
      out.sender_packets = rtp::read_u32(p + 20);
      out.sender_octets = rtp::read_u32(p + 24);
      blocks_at = 28;
    } else if (type == kReceiverReport && length >= 8) {
      out.sender_ssrc = rtp::read_u32(p + 4);
      blocks_at = 8;
    }
    if (blocks_at != 0) {
      for (uint8_t i = 0; i < count && blocks_at + 24 * (i + size_t{1}) <= length; ++i) {
        const uint8_t* b = p + blocks_at + 24 * size_t{i};
        if (rtp::read_u32(b) != our_ssrc) continue;
        out.has_block_for_us = true;
        out.block.reporter_ssrc = out.sender_ssrc;
        out.block.values = read_block(b, out.block.lsr, out.block.dlsr);
      }
    } else if (type == kSourceDescription && length >= 8) {
      // First chunk only: its SSRC, then items until a null type octet.
      size_t at = 8;
      while (at + 2 <= length && p[at] != 0) {
        const size_t item_len = p[at + 1];
        if (at + 2 + item_len > length) break;
        if (p[at] == kCnameItem) out.cname.assign(reinterpret_cast<const char*>(p + at + 2), item_len);
        at += 2 + item_len;
      }
    } else if (type == kBye) {
      out.bye = true;
      for (uint8_t i = 0; i < count && 4 + 4 * (i + size_t{1}) <= length; ++i) {
        out.bye_ssrcs.push_back(rtp::read_u32(p + 4 + 4 * size_t{i}));
      }
    }
    offset += length;
  }
  return offset == size && !first;
}

int64_t interval_us(const IntervalInput& in, Random& random) noexcept {
  // A.7, with RTCP_MIN_TIME configurable (§6.2 allows a smaller minimum than 5 s) and halved for the
  // first report (§6.2: "the initial RTCP packet ... with half the minimum").
  double min_s = static_cast<double>(in.min_interval_us) / 1e6;
  if (in.initial) min_s /= 2;
  double n = in.members;
  double bandwidth = in.rtcp_bandwidth_bytes_per_s;
  // §6.2: a quarter of the RTCP bandwidth to senders when they are at most a quarter of the members.
  if (in.senders <= in.members * 0.25) {
    if (in.we_sent) {
      bandwidth *= 0.25;
      n = in.senders;
    } else {
      bandwidth *= 0.75;
      n -= in.senders;
    }
  }
  double t = bandwidth > 0 ? in.avg_rtcp_size_bytes * n / bandwidth : min_s;
  if (t < min_s) t = min_s;
  t *= random.uniform() + 0.5;       // randomized to [0.5, 1.5] × (A.7)
  t /= std::exp(1.0) - 1.5;          // COMPENSATION = e − 3/2 = 1.21828 (A.7)
  return static_cast<int64_t>(t * 1e6);
}

}  // namespace offhook::engine::rtcp
