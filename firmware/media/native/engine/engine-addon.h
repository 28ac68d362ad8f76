// The `engine` part of the addon's exports: engine.create(options, onEvent) → a NativeMediaEngine handle.
#ifndef OFFHOOK_ENGINE_ENGINE_ADDON_H
#define OFFHOOK_ENGINE_ENGINE_ADDON_H

#include <napi.h>

namespace offhook::engine {

/// A frozen object { create, codecs, audioBackends } (firmware/media/native-addon.ts, NativeEngine).
/// Per-environment state only: the class constructor lives in a reference freed by a cleanup hook.
Napi::Object make_exports(Napi::Env env);

}  // namespace offhook::engine

#endif  // OFFHOOK_ENGINE_ENGINE_ADDON_H
