// The benchmark's reference buffers: speexdsp's JitterBuffer (linked, driven per its manual) and a
// fixed-delay buffer, both behind the same put/pull/stats/reset as ours.
#include "reference-buffers.h"

#include <speex/speex_jitter.h>

#include <algorithm>
#include <cstring>
#include <new>

namespace offhook::jitter {

namespace {

/// Serial-number comparison of 32-bit RTP timestamps (RFC 1982 style, as RFC 3550 uses them).
int32_t ts_diff(uint32_t a, uint32_t b) { return static_cast<int32_t>(a - b); }

void clear_out(Pulled& out, uint32_t frame_ts) {
  out.kind = Play::kSilence;
  out.payload.clear();
  out.timestamp = 0;
  out.duration_ts = frame_ts;
  out.fec_available = false;
  out.comfort_noise = false;
  out.discontinuity = false;
  out.seq = 0;
  out.arrival_us = 0;
}

}  // namespace

// ---------------------------------------------------------------------------------------------------
// speexdsp

SpeexJitterTwin::SpeexJitterTwin(const Config& config)
    : config_((validate(config), config)),
      frame_ts_(std::max(1, config.ptime_ms * config.clock_rate_hz / 1000)),
      jb_(jitter_buffer_init(frame_ts_)),
      scratch_(config.max_payload_bytes, 0) {
  if (jb_ == nullptr) throw std::bad_alloc();
  stats_.max_delay_ms = config.max_delay_ms;
}

SpeexJitterTwin::~SpeexJitterTwin() { jitter_buffer_destroy(jb_); }

void SpeexJitterTwin::put(const Packet& p) {
  std::lock_guard<std::mutex> lock(mutex_);
  ++stats_.received;
  if (p.size > config_.max_payload_bytes) {
    ++stats_.overflow_dropped;
    return;
  }
  if (have_ssrc_ && p.ssrc != ssrc_) {
    // speexdsp knows no SSRC: the application resets it for a new source.
    jitter_buffer_reset(jb_);
    synced_ = false;
    leftover_ts_ = 0;
    ++stats_.resets;
  }
  have_ssrc_ = true;
  ssrc_ = p.ssrc;
  JitterBufferPacket packet{};
  // speexdsp copies `len` bytes (no destroy callback is set); a payload-less benchmark packet is zeros.
  if (p.payload != nullptr) {
    packet.data = const_cast<char*>(reinterpret_cast<const char*>(p.payload));
  } else {
    std::fill(scratch_.begin(), scratch_.begin() + static_cast<std::ptrdiff_t>(p.size), 0);
    packet.data = scratch_.data();
  }
  packet.len = static_cast<spx_uint32_t>(p.size);
  packet.timestamp = p.timestamp;
  packet.span = p.duration_ts != 0 ? p.duration_ts : static_cast<spx_uint32_t>(frame_ts_);
  packet.sequence = p.seq;
  packet.user_data = p.comfort_noise ? 1U : 0U;
  jitter_buffer_put(jb_, &packet);
}

void SpeexJitterTwin::pull(int64_t /*now_us: speexdsp counts ticks*/, Pulled& out) {
  std::lock_guard<std::mutex> lock(mutex_);
  clear_out(out, static_cast<uint32_t>(frame_ts_));
  if (leftover_ts_ > 0) {
    // The rest of a chunk longer than a period: no get() now, only the timing update.
    out.kind = leftover_kind_;
    out.timestamp = leftover_timestamp_;
    leftover_timestamp_ += static_cast<uint32_t>(frame_ts_);
    leftover_ts_ = std::max(0, leftover_ts_ - frame_ts_);
    if (out.kind == Play::kConceal) ++stats_.inserted_for_growth;
    jitter_buffer_remaining_span(jb_, static_cast<spx_uint32_t>(leftover_ts_));
    return;
  }
  JitterBufferPacket packet{};
  packet.data = scratch_.data();
  packet.len = static_cast<spx_uint32_t>(scratch_.size());
  spx_int32_t start_offset = 0;
  const int result = jitter_buffer_get(jb_, &packet, frame_ts_, &start_offset);
  int32_t span = frame_ts_;
  if (result == JITTER_BUFFER_OK) {
    synced_ = true;
    out.kind = Play::kFrame;
    out.timestamp = packet.timestamp;
    out.seq = packet.sequence;
    out.comfort_noise = (packet.user_data & 1U) != 0;
    out.payload.assign(scratch_.data(), scratch_.data() + packet.len);
    span = static_cast<int32_t>(packet.span);
    ++stats_.played_frames;
  } else if (result == JITTER_BUFFER_INSERTION) {
    // speexdsp asks for a made-up chunk of `span` to grow its delay.
    out.kind = Play::kConceal;
    out.timestamp = packet.timestamp;
    span = static_cast<int32_t>(packet.span);
    ++stats_.inserted_for_growth;
  } else if (result == JITTER_BUFFER_MISSING && synced_) {
    out.kind = Play::kConceal;
    out.timestamp = packet.timestamp;
    ++stats_.concealed_frames;
  } else {
    ++stats_.silence_frames;  // not synchronised yet: nothing was ever returned
  }
  out.duration_ts = static_cast<uint32_t>(frame_ts_);
  leftover_ts_ = std::max(0, span - frame_ts_);
  if (leftover_ts_ > 0) {
    leftover_kind_ = out.kind == Play::kFrame ? Play::kFrame : Play::kConceal;
    leftover_timestamp_ = out.timestamp + static_cast<uint32_t>(frame_ts_);
    jitter_buffer_remaining_span(jb_, static_cast<spx_uint32_t>(leftover_ts_));
  } else {
    jitter_buffer_tick(jb_);
  }
}

Stats SpeexJitterTwin::stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  Stats out = stats_;
  spx_int32_t available = 0;
  jitter_buffer_ctl(jb_, JITTER_BUFFER_GET_AVAILABLE_COUNT, &available);
  out.packets_held = static_cast<uint32_t>(available);
  // speexdsp exposes no delay figure; what it holds ahead of its pointer is the closest one.
  out.current_delay_ms = static_cast<double>(available) * config_.ptime_ms;
  return out;
}

void SpeexJitterTwin::reset() {
  std::lock_guard<std::mutex> lock(mutex_);
  jitter_buffer_reset(jb_);
  have_ssrc_ = false;
  synced_ = false;
  leftover_ts_ = 0;
  stats_ = Stats{};
  stats_.max_delay_ms = config_.max_delay_ms;
}

// ---------------------------------------------------------------------------------------------------
// Fixed delay

FixedDelayBuffer::FixedDelayBuffer(const Config& config, int delay_ms)
    : config_((validate(config), config)),
      delay_ms_(delay_ms),
      frame_ts_(static_cast<uint32_t>(std::max(1, config.ptime_ms * config.clock_rate_hz / 1000))),
      slots_(static_cast<size_t>(config.max_packets)),
      bytes_(static_cast<size_t>(config.max_packets) * config.max_payload_bytes) {
  if (delay_ms < 0 || delay_ms > 5000) throw ConfigError("delayMs", "must be from 0 to 5000");
  stats_.max_delay_ms = delay_ms;
  stats_.target_delay_ms = delay_ms;
}

FixedDelayBuffer::Slot* FixedDelayBuffer::find(uint32_t ts) {
  for (Slot& s : slots_) {
    if (s.used && s.ts == ts) return &s;
  }
  return nullptr;
}

FixedDelayBuffer::Slot* FixedDelayBuffer::earliest() {
  Slot* best = nullptr;
  for (Slot& s : slots_) {
    if (s.used && (best == nullptr || ts_diff(s.ts, best->ts) < 0)) best = &s;
  }
  return best;
}

void FixedDelayBuffer::put(const Packet& p) {
  std::lock_guard<std::mutex> lock(mutex_);
  ++stats_.received;
  if (p.size > config_.max_payload_bytes) {
    ++stats_.overflow_dropped;
    return;
  }
  if (have_ssrc_ && p.ssrc != ssrc_) {
    for (Slot& s : slots_) s.used = false;
    anchored_ = false;
    in_silence_ = true;
    ++stats_.resets;
  }
  have_ssrc_ = true;
  ssrc_ = p.ssrc;
  if (find(p.timestamp) != nullptr) {
    ++stats_.duplicates;
    return;
  }
  if (anchored_ && !in_silence_ && ts_diff(p.timestamp, play_ts_) < 0) {
    ++stats_.late;
    return;
  }
  Slot* slot = nullptr;
  for (Slot& s : slots_) {
    if (!s.used) {
      slot = &s;
      break;
    }
  }
  if (slot == nullptr) {
    slot = &slots_[0];
    for (Slot& s : slots_) {
      if (ts_diff(s.ts, slot->ts) < 0) slot = &s;
    }
    ++stats_.overflow_dropped;
  }
  *slot = Slot{true, p.marker, p.comfort_noise, p.seq, p.timestamp, p.duration_ts != 0 ? p.duration_ts : frame_ts_,
               static_cast<uint32_t>(p.size), p.arrival_us};
  const size_t offset = static_cast<size_t>(slot - slots_.data()) * config_.max_payload_bytes;
  if (p.payload != nullptr) {
    std::memcpy(&bytes_[offset], p.payload, p.size);
  } else {
    std::memset(&bytes_[offset], 0, p.size);
  }
}

void FixedDelayBuffer::pull(int64_t now_us, Pulled& out) {
  std::lock_guard<std::mutex> lock(mutex_);
  clear_out(out, frame_ts_);
  if (!anchored_ || in_silence_) {
    // Between talkspurts whatever is buffered starts the next one: it plays delay_ms after it arrived,
    // unless it simply continues the schedule (a CN frame followed by speech on time).
    Slot* first = earliest();
    if (first == nullptr || (!(anchored_ && first->ts == play_ts_) && now_us < first->arrival_us + int64_t{delay_ms_} * 1000)) {
      out.timestamp = play_ts_;
      ++stats_.silence_frames;
      if (anchored_ && (first == nullptr || ts_diff(first->ts, play_ts_ + frame_ts_) >= 0)) play_ts_ += frame_ts_;
      return;
    }
    play_ts_ = first->ts;
    anchored_ = true;
    in_silence_ = false;
  }
  for (Slot& s : slots_) {
    if (s.used && ts_diff(s.ts, play_ts_) < 0) s.used = false;
  }
  Slot* p = find(play_ts_);
  out.timestamp = play_ts_;
  if (p != nullptr) {
    out.kind = Play::kFrame;
    out.duration_ts = p->duration_ts;
    out.seq = p->seq;
    out.arrival_us = p->arrival_us;
    out.comfort_noise = p->comfort_noise;
    const size_t offset = static_cast<size_t>(p - slots_.data()) * config_.max_payload_bytes;
    out.payload.assign(&bytes_[offset], &bytes_[offset] + p->size);
    play_ts_ += p->duration_ts;
    in_silence_ = p->comfort_noise;
    p->used = false;
    ++stats_.played_frames;
    return;
  }
  Slot* next = earliest();
  if (next != nullptr && next->marker) {
    in_silence_ = true;  // the sender says the gap was silence
    ++stats_.silence_frames;
  } else {
    out.kind = Play::kConceal;
    ++stats_.concealed_frames;
  }
  play_ts_ += frame_ts_;
}

Stats FixedDelayBuffer::stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  Stats out = stats_;
  out.packets_held = static_cast<uint32_t>(std::count_if(slots_.begin(), slots_.end(), [](const Slot& s) { return s.used; }));
  return out;
}

void FixedDelayBuffer::reset() {
  std::lock_guard<std::mutex> lock(mutex_);
  for (Slot& s : slots_) s.used = false;
  have_ssrc_ = false;
  anchored_ = false;
  in_silence_ = true;
  stats_ = Stats{};
  stats_.max_delay_ms = delay_ms_;
  stats_.target_delay_ms = delay_ms_;
}

}  // namespace offhook::jitter
