// RFC 4733 telephone-event sender and receiver state machines.
#include "engine/dtmf.h"

#include "engine/rtp.h"

namespace offhook::engine::dtmf {

int event_of(char digit) noexcept {
  if (digit >= '0' && digit <= '9') return digit - '0';
  if (digit == '*') return 10;
  if (digit == '#') return 11;
  if (digit >= 'A' && digit <= 'D') return 12 + (digit - 'A');
  if (digit >= 'a' && digit <= 'd') return 12 + (digit - 'a');
  return -1;
}

char digit_of(int event) noexcept {
  static constexpr char kDigits[] = "0123456789*#ABCD";
  return event >= 0 && event < 16 ? kDigits[event] : '\0';
}

void write_payload(const Payload& p, uint8_t out[4]) noexcept {
  out[0] = p.event;
  out[1] = static_cast<uint8_t>((p.end ? 0x80 : 0x00) | (p.volume & 0x3F));  // R bit 0
  rtp::write_u16(out + 2, p.duration);
}

bool read_payload(const uint8_t* data, size_t size, Payload& out) noexcept {
  if (size < 4) return false;  // §2.3: 4 octets (more may follow in multi-event packets; ignored)
  out.event = data[0];
  out.end = (data[1] & 0x80) != 0;
  out.volume = data[1] & 0x3F;
  out.duration = rtp::read_u16(data + 2);
  return true;
}

void Sender::clear() noexcept {
  queue_.clear();
  state_ = State::kIdle;
}

SendAction Sender::next(uint32_t frame_timestamp, uint32_t frame_ts) noexcept {
  SendAction action;
  if (state_ == State::kGap) {
    if (gap_left_ts_ > frame_ts) {
      gap_left_ts_ -= frame_ts;
      return action;
    }
    state_ = State::kIdle;
  }
  if (state_ == State::kIdle) {
    if (queue_.empty()) return action;
    current_ = queue_.front();
    queue_.pop_front();
    state_ = State::kTone;
    start_ts_ = frame_timestamp;
    elapsed_ts_ = 0;
    end_sent_ = 0;
    action.marker = true;
  }
  action.send = true;
  action.suppress_audio = true;
  action.timestamp = start_ts_;
  action.payload.event = current_.event;
  action.payload.volume = current_.volume;
  if (state_ == State::kTone) {
    // §2.5.1.2: the duration counts from the event's timestamp to the end of this packet's interval.
    elapsed_ts_ += frame_ts;
    if (elapsed_ts_ >= current_.duration_ts) state_ = State::kEnd;
    if (elapsed_ts_ > 0xFFFF) elapsed_ts_ = 0xFFFF;  // callers keep durations below this
    action.payload.duration = static_cast<uint16_t>(elapsed_ts_);
    action.payload.end = state_ == State::kEnd;
    if (action.payload.end) end_sent_ = 1;
    if (end_sent_ < kEndRepeats) return action;
  } else {  // kEnd: a retransmission of the final packet, same duration
    action.payload.duration = static_cast<uint16_t>(elapsed_ts_);
    action.payload.end = true;
    ++end_sent_;
  }
  if (end_sent_ >= kEndRepeats) {
    state_ = State::kGap;
    gap_left_ts_ = current_.gap_ts;
  }
  return action;
}

bool Receiver::is_new(uint32_t timestamp) const noexcept {
  return !have_last_ || static_cast<int32_t>(timestamp - last_ts_) > 0;
}

int Receiver::on_packet(uint32_t timestamp, const Payload& payload, Notification out[3]) noexcept {
  int n = 0;
  if (have_last_ && timestamp == last_ts_) {
    if (payload.duration > last_duration_) last_duration_ = payload.duration;
    if (payload.end && !last_ended_) {
      last_ended_ = true;
      out[n++] = {Notification::Kind::kEnd, last_event_, last_duration_};
    }
    return n;
  }
  if (!is_new(timestamp)) return 0;  // a late packet of an event that is already over
  if (have_last_ && !last_ended_) {
    // The previous event's end packets were all lost: end it now with what we know (§2.5.2.1).
    out[n++] = {Notification::Kind::kEnd, last_event_, last_duration_};
  }
  have_last_ = true;
  last_ts_ = timestamp;
  last_event_ = payload.event;
  last_duration_ = payload.duration;
  last_ended_ = payload.end;
  out[n++] = {Notification::Kind::kBegin, payload.event, 0};
  if (payload.end) out[n++] = {Notification::Kind::kEnd, payload.event, payload.duration};
  return n;
}

}  // namespace offhook::engine::dtmf
