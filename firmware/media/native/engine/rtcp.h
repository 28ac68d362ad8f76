// RTCP (RFC 3550 §6): compound SR/RR + SDES CNAME (+ BYE) packets, their parsing, and the report interval of §6.3 / A.7.
#ifndef OFFHOOK_ENGINE_RTCP_H
#define OFFHOOK_ENGINE_RTCP_H

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "engine/random.h"
#include "engine/reception.h"

namespace offhook::engine::rtcp {

inline constexpr uint8_t kSenderReport = 200;
inline constexpr uint8_t kReceiverReport = 201;
inline constexpr uint8_t kSourceDescription = 202;
inline constexpr uint8_t kBye = 203;

/// What goes into one compound packet we send.
struct Outgoing {
  uint32_t ssrc = 0;
  /// An SR when we sent RTP since the last report (§6.4: "SR ... if the site has sent any data packets
  /// during the interval since issuing the last report or the previous one"), else an RR.
  bool sender = false;
  uint64_t ntp = 0;  ///< NTP timestamp (§4): seconds since 1900 in the upper 32 bits, fraction below
  uint32_t rtp_timestamp = 0;
  uint32_t packets_sent = 0;
  uint32_t octets_sent = 0;
  /// One report block when we receive a source.
  bool has_block = false;
  uint32_t block_ssrc = 0;
  ReportBlockValues block;
  uint32_t lsr = 0;   ///< middle 32 bits of the last SR's NTP time from that source, 0 if none
  uint32_t dlsr = 0;  ///< delay since that SR, in 1/65536 s
  std::string cname;
  bool bye = false;
};

/// Appends the compound packet (§6.1: SR or RR first, then SDES with CNAME, then BYE) to `out`.
void build(const Outgoing& packet, std::vector<uint8_t>& out);

/// A report block about one of our own streams, as the peer sent it.
struct ReceivedBlock {
  uint32_t reporter_ssrc = 0;
  ReportBlockValues values;
  uint32_t lsr = 0;
  uint32_t dlsr = 0;
};

/// What a compound packet told us.
struct Incoming {
  bool has_sender_info = false;
  uint32_t sender_ssrc = 0;
  uint64_t ntp = 0;
  uint32_t rtp_timestamp = 0;
  uint32_t sender_packets = 0;
  uint32_t sender_octets = 0;
  bool has_block_for_us = false;
  ReceivedBlock block;
  bool bye = false;
  std::vector<uint32_t> bye_ssrcs;
  std::string cname;
};

/// Parses a compound packet; false when it is not valid RTCP (§6.1: version 2, lengths adding up,
/// first packet SR or RR — RFC 5506 reduced-size packets are accepted too).
bool parse(const uint8_t* data, size_t size, uint32_t our_ssrc, Incoming& out) noexcept;

/// Middle 32 bits of an NTP timestamp: the LSR / DLSR unit of §6.4.1 (1/65536 s).
inline uint32_t ntp_middle(uint64_t ntp) noexcept { return static_cast<uint32_t>(ntp >> 16); }

/// §6.3 / A.7 rtcp_interval(): the deterministic interval scaled by a random factor in [0.5, 1.5] and
/// divided by e - 3/2 (the compensation for timer reconsideration), in microseconds.
struct IntervalInput {
  int members = 2;
  int senders = 1;
  double rtcp_bandwidth_bytes_per_s = 500;
  bool we_sent = false;
  double avg_rtcp_size_bytes = 100;
  bool initial = false;
  int64_t min_interval_us = 5'000'000;
};
int64_t interval_us(const IntervalInput& in, Random& random) noexcept;

}  // namespace offhook::engine::rtcp

#endif  // OFFHOOK_ENGINE_RTCP_H
