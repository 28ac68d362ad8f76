// speexdsp resampler wrapper and the sample FIFO.
#include "engine/resampler.h"

#include <speex/speex_resampler.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace offhook::engine {

Resampler::Resampler(int in_rate_hz, int out_rate_hz, int quality) : in_rate_(in_rate_hz), out_rate_(out_rate_hz) {
  if (in_rate_ == out_rate_) return;
  int err = RESAMPLER_ERR_SUCCESS;
  state_ = speex_resampler_init(1, static_cast<spx_uint32_t>(in_rate_), static_cast<spx_uint32_t>(out_rate_), quality, &err);
  if (state_ == nullptr || err != RESAMPLER_ERR_SUCCESS) {
    throw std::runtime_error(std::string("speex_resampler_init: ") + speex_resampler_strerror(err));
  }
  // Drop the filter's leading zeros so that the first output samples are signal, not delay.
  speex_resampler_skip_zeros(state_);
}

Resampler::~Resampler() {
  if (state_ != nullptr) speex_resampler_destroy(state_);
}

void Resampler::process(const int16_t* in, size_t count, std::vector<int16_t>& out) {
  if (state_ == nullptr) {
    out.insert(out.end(), in, in + count);
    return;
  }
  while (count > 0) {
    const size_t room = count * static_cast<size_t>(out_rate_) / static_cast<size_t>(in_rate_) + 64;
    const size_t at = out.size();
    out.resize(at + room);
    spx_uint32_t in_len = static_cast<spx_uint32_t>(count);
    spx_uint32_t out_len = static_cast<spx_uint32_t>(room);
    speex_resampler_process_int(state_, 0, in, &in_len, out.data() + at, &out_len);
    out.resize(at + out_len);
    if (in_len == 0 && out_len == 0) break;  // nothing consumed: avoid spinning
    in += in_len;
    count -= in_len;
  }
}

void Resampler::reset() noexcept {
  if (state_ != nullptr) {
    speex_resampler_reset_mem(state_);
    speex_resampler_skip_zeros(state_);
  }
}

size_t SampleFifo::pop(int16_t* out, size_t count) noexcept {
  const size_t n = std::min(count, size());
  std::memcpy(out, data_.data() + head_, n * sizeof(int16_t));
  head_ += n;
  return n;
}

void SampleFifo::drop(size_t count) noexcept { head_ += std::min(count, size()); }

void SampleFifo::compact() noexcept {
  if (head_ == 0) return;
  const size_t n = size();
  if (n > 0) std::memmove(data_.data(), data_.data() + head_, n * sizeof(int16_t));
  data_.resize(n);
  head_ = 0;
}

}  // namespace offhook::engine
