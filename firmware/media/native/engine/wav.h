// WAV (RIFF, 16-bit PCM) reading into memory and streaming writing, for the file audio backend.
#ifndef OFFHOOK_ENGINE_WAV_H
#define OFFHOOK_ENGINE_WAV_H

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace offhook::engine::wav {

struct Audio {
  int sample_rate_hz = 0;
  /// Mono (stereo files are averaged to mono on reading).
  std::vector<int16_t> samples;
};

/// Reads a 16-bit PCM WAV file; on failure returns false with `error` (and `err` an errno, or 0 when
/// the file is readable but not a WAV we take).
bool read(const std::string& path, Audio& out, std::string& error, int& err);

/// Writes mono 16-bit PCM: the header first with sizes to be fixed by close(), samples as they come.
class Writer {
 public:
  Writer() = default;
  ~Writer() { close(); }
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  /// Returns 0 or an errno.
  int open(const std::string& path, int sample_rate_hz);
  /// Returns 0 or an errno.
  int write(const int16_t* samples, size_t count) noexcept;
  /// Fixes the RIFF and data sizes and closes; returns 0 or an errno. Idempotent.
  int close() noexcept;
  bool is_open() const noexcept { return file_ != nullptr; }

 private:
  std::FILE* file_ = nullptr;
  uint64_t data_bytes_ = 0;
};

}  // namespace offhook::engine::wav

#endif  // OFFHOOK_ENGINE_WAV_H
