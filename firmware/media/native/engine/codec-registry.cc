// The codec registry: RTP encoding names to codec entries (G.722 is absent: no Debian library provides it).
#include <array>
#include <cctype>

#include "engine/codec.h"

namespace offhook::engine {
namespace {

// Pointers to constant entries; nothing here changes at run time.
const std::array<const CodecInfo*, 3> kCodecs = {&kPcmuCodec, &kPcmaCodec, &kOpusCodec};

bool equal_ignoring_case(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  }
  return true;
}

}  // namespace

const CodecInfo* find_codec(std::string_view name) noexcept {
  for (const CodecInfo* codec : kCodecs) {
    if (equal_ignoring_case(codec->name, name)) return codec;
  }
  return nullptr;
}

std::vector<std::string> codec_name_list() {
  std::vector<std::string> names;
  for (const CodecInfo* codec : kCodecs) names.emplace_back(codec->name);
  return names;
}

std::string codec_names() {
  std::string names;
  for (const CodecInfo* codec : kCodecs) names += std::string(names.empty() ? "" : ", ") + codec->name;
  return names;
}

}  // namespace offhook::engine
