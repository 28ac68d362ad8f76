// The audio backend registry and the `null` backend (silence in, speaker output discarded).
#include <array>

#include "engine/audio-backend.h"

namespace offhook::engine {
namespace {

class NullBackend final : public AudioBackend {
 public:
  const char* name() const noexcept override { return "null"; }
  bool defers_ticks() const noexcept override { return true; }
  bool open(const AudioBackendOptions& /*options*/, AudioError& /*error*/) override { return true; }
  bool read(int16_t* pcm, size_t frames, AudioError& /*error*/) noexcept override {
    for (size_t i = 0; i < frames; ++i) pcm[i] = 0;
    return true;
  }
  bool write(const int16_t* /*pcm*/, size_t /*frames*/, AudioError& /*error*/) noexcept override { return true; }
  bool close(AudioError& /*error*/) noexcept override { return true; }
};

const std::array<AudioBackendInfo, 4> kBackends = {{
    {"alsa", make_alsa_backend},
    {"external", make_external_backend},
    {"file", make_file_backend},
    {"null", make_null_backend},
}};

}  // namespace

std::unique_ptr<AudioBackend> make_null_backend() { return std::make_unique<NullBackend>(); }

const AudioBackendInfo* find_audio_backend(std::string_view name) noexcept {
  for (const AudioBackendInfo& b : kBackends) {
    if (name == b.name) return &b;
  }
  return nullptr;
}

std::vector<std::string> audio_backend_name_list() {
  std::vector<std::string> names;
  for (const AudioBackendInfo& b : kBackends) names.emplace_back(b.name);
  return names;
}

std::string audio_backend_names() {
  std::string names;
  for (const AudioBackendInfo& b : kBackends) names += std::string(names.empty() ? "" : ", ") + b.name;
  return names;
}

}  // namespace offhook::engine
