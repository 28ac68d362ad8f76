// The `offhook_clock` ALSA PCM type (alsa-clock-plugin.cc): a clocked PCM without hardware, declared in every engine's ALSA configuration.
#ifndef OFFHOOK_ENGINE_ALSA_CLOCK_PLUGIN_H
#define OFFHOOK_ENGINE_ALSA_CLOCK_PLUGIN_H

#include <string>

namespace offhook::engine {

/// The PCM type name, as `alsaConfig` uses it: `pcm.x { type offhook_clock }`.
inline constexpr const char* kClockPluginType = "offhook_clock";

/// The path of the shared object holding the plugin (this addon), for `pcm_type.offhook_clock.lib`;
/// empty when the dynamic linker cannot say.
std::string clock_plugin_library();

}  // namespace offhook::engine

#endif  // OFFHOOK_ENGINE_ALSA_CLOCK_PLUGIN_H
