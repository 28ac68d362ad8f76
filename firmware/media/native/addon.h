// The addon's per-environment instance (Node-API instance data): what its parts share, and no globals.
#ifndef OFFHOOK_ADDON_H
#define OFFHOOK_ADDON_H

#include <napi.h>

namespace offhook {

/// Bumped whenever the exports change shape; native-addon.ts refuses a build with another value,
/// so a stale build/Release from older sources fails with "rebuild" instead of a TypeError later.
/// 2: stream options take `srtp` (an older build would ignore it and send plain RTP).
/// 3: engine handles have setGains() and setMuted() (volume and microphone mute).
/// 4: the `external` audio backend: pushCapture(), 'playback' events, AudioStats.external;
///    engine.createResampler().
/// 5: stream statistics carry stretchedMs (time-stretching play-out).
inline constexpr int kApiVersion = 5;

/// One instance per Node environment (main thread, each worker), created by NODE_API_ADDON.
class Addon : public Napi::Addon<Addon> {
 public:
  Addon(Napi::Env env, Napi::Object exports);

  /// Classes whose instances are only made by the addon (gpio.openChip, GpioChip.requestLines).
  Napi::FunctionReference gpio_chip_class;
  Napi::FunctionReference gpio_line_request_class;

 private:
  Napi::Value G711Encode(const Napi::CallbackInfo& info);
  Napi::Value G711Decode(const Napi::CallbackInfo& info);
  Napi::Value GpioOpenChip(const Napi::CallbackInfo& info);
  Napi::Value GpioLoopbackRequest(const Napi::CallbackInfo& info);
};

}  // namespace offhook

#endif  // OFFHOOK_ADDON_H
