// The `jitter` part of the addon's exports: our jitter buffer and the benchmark's reference buffers.
#ifndef OFFHOOK_JITTER_JITTER_ADDON_H
#define OFFHOOK_JITTER_JITTER_ADDON_H

#include <napi.h>

namespace offhook::jitter {

/// A frozen object { create, createSpeex, createFixed }, each returning a NativeJitterBuffer
/// (firmware/media/native-addon.ts declares it). Per-environment state only: the class constructor
/// lives in a reference owned by the functions and freed by an environment cleanup hook.
Napi::Object make_exports(Napi::Env env);

}  // namespace offhook::jitter

#endif  // OFFHOOK_JITTER_JITTER_ADDON_H
