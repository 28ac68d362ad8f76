// Sample-rate conversion between the engine rate and a codec's or a file's rate (speexdsp resampler).
#ifndef OFFHOOK_ENGINE_RESAMPLER_H
#define OFFHOOK_ENGINE_RESAMPLER_H

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

struct SpeexResamplerState_;

namespace offhook::engine {

/// Mono 16-bit conversion; a pass-through copy when the rates are equal.
class Resampler {
 public:
  /// Throws std::runtime_error when speexdsp refuses the rates.
  Resampler(int in_rate_hz, int out_rate_hz, int quality = 5);
  ~Resampler();
  Resampler(const Resampler&) = delete;
  Resampler& operator=(const Resampler&) = delete;

  /// Converts `count` samples and appends the result to `out`.
  void process(const int16_t* in, size_t count, std::vector<int16_t>& out);
  void reset() noexcept;
  int in_rate() const noexcept { return in_rate_; }
  int out_rate() const noexcept { return out_rate_; }

 private:
  int in_rate_;
  int out_rate_;
  SpeexResamplerState_* state_ = nullptr;
};

/// A FIFO of samples: appended at the back, consumed from the front. Its storage grows to the largest
/// amount ever held and is then reused (no allocation in steady state).
class SampleFifo {
 public:
  size_t size() const noexcept { return data_.size() - head_; }
  std::vector<int16_t>& back_buffer() noexcept { compact(); return data_; }
  void push(const int16_t* samples, size_t count) { compact(); data_.insert(data_.end(), samples, samples + count); }
  void push_silence(size_t count) { compact(); data_.resize(data_.size() + count, 0); }
  /// Copies up to `count` samples out; returns how many.
  size_t pop(int16_t* out, size_t count) noexcept;
  const int16_t* front() const noexcept { return data_.data() + head_; }
  void drop(size_t count) noexcept;
  void clear() noexcept { data_.clear(); head_ = 0; }

 private:
  void compact() noexcept;
  std::vector<int16_t> data_;
  size_t head_ = 0;
};

}  // namespace offhook::engine

#endif  // OFFHOOK_ENGINE_RESAMPLER_H
