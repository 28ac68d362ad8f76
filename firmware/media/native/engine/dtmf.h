// RFC 4733 telephone-event: the sender (start, updates, end ×3) and the receiver (deduplicated DTMF events).
#ifndef OFFHOOK_ENGINE_DTMF_H
#define OFFHOOK_ENGINE_DTMF_H

#include <cstddef>
#include <cstdint>
#include <deque>

namespace offhook::engine::dtmf {

/// RFC 4733 §3.2: events 0–9, * (10), # (11), A–D (12–15). -1 for anything else.
int event_of(char digit) noexcept;
/// The inverse; 0 for events that are not DTMF digits.
char digit_of(int event) noexcept;

/// The 4-octet payload (RFC 4733 §2.3): event, E | R | volume, duration.
struct Payload {
  uint8_t event = 0;
  bool end = false;
  uint8_t volume = 10;  ///< −dBm0, 0..63
  uint16_t duration = 0;
};
void write_payload(const Payload& p, uint8_t out[4]) noexcept;
bool read_payload(const uint8_t* data, size_t size, Payload& out) noexcept;

/// One queued digit.
struct Digit {
  uint8_t event = 0;
  uint32_t duration_ts = 0;  ///< tone length, in RTP timestamp units
  uint32_t gap_ts = 0;       ///< pause after it before the next digit
  uint8_t volume = 10;
};

/// What the sender wants sent in place of (or besides) the audio packet of one packet interval.
struct SendAction {
  bool send = false;        ///< send an event packet
  bool marker = false;      ///< RFC 4733 §2.5.1.1: the first packet of an event
  uint32_t timestamp = 0;   ///< the event's start timestamp (the same for all its packets, §2.5.1.2)
  Payload payload;
  bool suppress_audio = false;  ///< no audio packet this interval (§2.5.1.1 allows, §2.6 recommends)
};

/// Sends queued digits at the packet interval: a start packet with the marker bit, an update per
/// interval with the growing duration (§2.5.1.2), and the final packet with the E bit three times
/// (§2.5.1.4 "SHOULD be retransmitted"; we send them one interval apart, which survives a short
/// loss burst better than back to back), all with the same timestamp; then the gap.
class Sender {
 public:
  void enqueue(const Digit& digit) { queue_.push_back(digit); }
  void clear() noexcept;
  bool busy() const noexcept { return state_ != State::kIdle || !queue_.empty(); }
  size_t queued() const noexcept { return queue_.size(); }

  /// Called once per packet interval with the timestamp the audio frame of this interval would get
  /// and the interval length in timestamp units.
  SendAction next(uint32_t frame_timestamp, uint32_t frame_ts) noexcept;

  /// Final packets sent per event.
  static constexpr int kEndRepeats = 3;

 private:
  enum class State { kIdle, kTone, kEnd, kGap };
  State state_ = State::kIdle;
  std::deque<Digit> queue_;
  Digit current_;
  uint32_t start_ts_ = 0;
  uint32_t elapsed_ts_ = 0;
  int end_sent_ = 0;
  uint32_t gap_left_ts_ = 0;
};

/// What the receiver reports.
struct Notification {
  enum class Kind { kBegin, kEnd } kind = Kind::kBegin;
  uint8_t event = 0;
  uint32_t duration_ts = 0;  ///< kEnd: the event's final duration
};

/// Turns received telephone-event packets into one kBegin and one kEnd per event, whatever was lost,
/// repeated or reordered (§2.5.2): an event is identified by its timestamp; updates and the repeated
/// end packets of a known event are ignored; a packet of an older event is ignored; a new event
/// ends the previous one if its end was lost.
class Receiver {
 public:
  /// Returns how many notifications were written to out (at most 3).
  int on_packet(uint32_t timestamp, const Payload& payload, Notification out[3]) noexcept;
  /// A new source (SSRC change): forget the last event.
  void reset() noexcept { have_last_ = false; }
  /// True when a new event starts with this timestamp (the engine then marks the gap as silence).
  bool is_new(uint32_t timestamp) const noexcept;

 private:
  bool have_last_ = false;
  uint32_t last_ts_ = 0;
  uint8_t last_event_ = 0;
  uint32_t last_duration_ = 0;
  bool last_ended_ = false;
};

}  // namespace offhook::engine::dtmf

#endif  // OFFHOOK_ENGINE_DTMF_H
