// WAV reading (PCM 16-bit, mono or stereo, any rate) and writing (mono 16-bit).
#include "engine/wav.h"

#include <cerrno>
#include <cstring>
#include <memory>

namespace offhook::engine::wav {
namespace {

constexpr uint16_t kFormatPcm = 1;
constexpr uint16_t kFormatExtensible = 0xFFFE;
/// The data chunk may be at most this large: WAV sizes are 32-bit, and we load the file into memory.
constexpr uint32_t kMaxDataBytes = 64U << 20;

uint16_t le16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }
uint32_t le32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) | (static_cast<uint32_t>(p[2]) << 16) |
         (static_cast<uint32_t>(p[3]) << 24);
}
void put16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v);
  p[1] = static_cast<uint8_t>(v >> 8);
}
void put32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}

struct FileCloser {
  void operator()(std::FILE* f) const noexcept { std::fclose(f); }
};

}  // namespace

bool read(const std::string& path, Audio& out, std::string& error, int& err) {
  err = 0;
  std::unique_ptr<std::FILE, FileCloser> file(std::fopen(path.c_str(), "rb"));
  if (!file) {
    err = errno;
    error = std::string("cannot open: ") + std::strerror(err);
    return false;
  }
  uint8_t riff[12];
  if (std::fread(riff, 1, sizeof riff, file.get()) != sizeof riff || std::memcmp(riff, "RIFF", 4) != 0 ||
      std::memcmp(riff + 8, "WAVE", 4) != 0) {
    error = "not a RIFF/WAVE file";
    return false;
  }
  uint16_t channels = 0, bits = 0, format = 0;
  uint32_t rate = 0;
  for (;;) {
    uint8_t chunk[8];
    if (std::fread(chunk, 1, sizeof chunk, file.get()) != sizeof chunk) {
      error = "no data chunk";
      return false;
    }
    const uint32_t size = le32(chunk + 4);
    if (std::memcmp(chunk, "fmt ", 4) == 0) {
      uint8_t fmt[16];
      if (size < 16 || std::fread(fmt, 1, 16, file.get()) != 16) {
        error = "short fmt chunk";
        return false;
      }
      format = le16(fmt);
      channels = le16(fmt + 2);
      rate = le32(fmt + 4);
      bits = le16(fmt + 14);
      if (std::fseek(file.get(), static_cast<long>(size - 16 + (size & 1)), SEEK_CUR) != 0) {
        error = "truncated fmt chunk";
        return false;
      }
    } else if (std::memcmp(chunk, "data", 4) == 0) {
      if ((format != kFormatPcm && format != kFormatExtensible) || bits != 16 || (channels != 1 && channels != 2) ||
          rate < 8000 || rate > 192000) {
        error = "only 16-bit PCM, mono or stereo, 8 to 192 kHz is supported";
        return false;
      }
      // A writer that died before fixing the header leaves 0 or 0xFFFFFFFF: read to the end then.
      uint32_t bytes = size == 0 || size == 0xFFFFFFFF ? kMaxDataBytes : size;
      if (bytes > kMaxDataBytes) {
        error = "data chunk larger than 64 MiB";
        return false;
      }
      std::vector<uint8_t> raw(bytes);
      raw.resize(std::fread(raw.data(), 1, raw.size(), file.get()));
      const size_t frame_bytes = size_t{2} * channels;
      const size_t frames = raw.size() / frame_bytes;
      out.sample_rate_hz = static_cast<int>(rate);
      out.samples.resize(frames);
      for (size_t i = 0; i < frames; ++i) {
        const uint8_t* f = raw.data() + i * frame_bytes;
        int value = static_cast<int16_t>(le16(f));
        if (channels == 2) value = (value + static_cast<int16_t>(le16(f + 2))) / 2;
        out.samples[i] = static_cast<int16_t>(value);
      }
      return true;
    } else if (std::fseek(file.get(), static_cast<long>(size + (size & 1)), SEEK_CUR) != 0) {
      error = "truncated chunk";
      return false;
    }
  }
}

int Writer::open(const std::string& path, int sample_rate_hz) {
  close();
  file_ = std::fopen(path.c_str(), "wb");
  if (file_ == nullptr) return errno;
  uint8_t header[44] = {};
  std::memcpy(header, "RIFF", 4);
  put32(header + 4, 36);  // fixed by close()
  std::memcpy(header + 8, "WAVEfmt ", 8);
  put32(header + 16, 16);
  put16(header + 20, kFormatPcm);
  put16(header + 22, 1);
  put32(header + 24, static_cast<uint32_t>(sample_rate_hz));
  put32(header + 28, static_cast<uint32_t>(sample_rate_hz) * 2);
  put16(header + 32, 2);
  put16(header + 34, 16);
  std::memcpy(header + 36, "data", 4);
  put32(header + 40, 0);
  data_bytes_ = 0;
  if (std::fwrite(header, 1, sizeof header, file_) != sizeof header) {
    const int err = errno;
    std::fclose(file_);
    file_ = nullptr;
    return err != 0 ? err : EIO;
  }
  return 0;
}

int Writer::write(const int16_t* samples, size_t count) noexcept {
  if (file_ == nullptr) return EBADF;
  uint8_t buffer[2 * 960];
  while (count > 0) {
    const size_t n = count < 960 ? count : 960;
    for (size_t i = 0; i < n; ++i) put16(buffer + 2 * i, static_cast<uint16_t>(samples[i]));
    if (std::fwrite(buffer, 2, n, file_) != n) return errno != 0 ? errno : EIO;
    data_bytes_ += 2 * n;
    samples += n;
    count -= n;
  }
  return 0;
}

int Writer::close() noexcept {
  if (file_ == nullptr) return 0;
  int err = 0;
  const uint32_t data = data_bytes_ > 0xFFFFFFF0ULL ? 0xFFFFFFF0U : static_cast<uint32_t>(data_bytes_);
  uint8_t size[4];
  put32(size, data + 36);
  if (std::fseek(file_, 4, SEEK_SET) != 0 || std::fwrite(size, 1, 4, file_) != 4) err = errno;
  put32(size, data);
  if (err == 0 && (std::fseek(file_, 40, SEEK_SET) != 0 || std::fwrite(size, 1, 4, file_) != 4)) err = errno;
  if (std::fclose(file_) != 0 && err == 0) err = errno;
  file_ = nullptr;
  return err;
}

}  // namespace offhook::engine::wav
