// Module init of offhook_native: exports G.711 and the GPIO character-device backend to TypeScript.
// The one declaration of these exports on the TS side is firmware/media/native-addon.ts (keep in step).
#include "addon.h"

#include <string>

#include "g711.h"
#include "gpio-cdev.h"
#include "engine/engine-addon.h"
#include "jitter/jitter-addon.h"

namespace offhook {

namespace {

enum class Law { kPcmu, kPcma };

Law parse_law(const Napi::Value& value) {
  if (value.IsString()) {
    const std::string law = value.As<Napi::String>().Utf8Value();
    if (law == "PCMU") return Law::kPcmu;
    if (law == "PCMA") return Law::kPcma;
  }
  throw Napi::TypeError::New(value.Env(), "law must be 'PCMU' or 'PCMA'");
}

bool is_typed_array_of(const Napi::Value& value, napi_typedarray_type type) {
  return value.IsTypedArray() && value.As<Napi::TypedArray>().TypedArrayType() == type;
}

}  // namespace

Addon::Addon(Napi::Env env, Napi::Object exports) {
  gpio_chip_class = Napi::Persistent(gpio::define_chip_class(env));
  gpio_line_request_class = Napi::Persistent(gpio::define_line_request_class(env));
  // One object per part, so that a part can be handed on alone (firmware/main.ts gives `gpio` to the
  // hal's cdev backend, which may not import this addon).
  Napi::Object g711 = DefineProperties(Napi::Object::New(env), {
                                                                   InstanceMethod<&Addon::G711Encode>("encode", napi_enumerable),
                                                                   InstanceMethod<&Addon::G711Decode>("decode", napi_enumerable),
                                                               });
  Napi::Object gpio = DefineProperties(Napi::Object::New(env), {
                                                                   InstanceMethod<&Addon::GpioOpenChip>("openChip", napi_enumerable),
                                                                   InstanceMethod<&Addon::GpioLoopbackRequest>("loopbackRequest", napi_enumerable),
                                                               });
  g711.Freeze();
  gpio.Freeze();
  DefineAddon(exports, {
                           InstanceValue("apiVersion", Napi::Number::New(env, kApiVersion), napi_enumerable),
                           InstanceValue("g711", g711, napi_enumerable),
                           InstanceValue("gpio", gpio, napi_enumerable),
                           InstanceValue("jitter", jitter::make_exports(env), napi_enumerable),
                           InstanceValue("engine", engine::make_exports(env), napi_enumerable),
                       });
}

// g711.encode(law, pcm: Int16Array, out?: Uint8Array): Uint8Array
Napi::Value Addon::G711Encode(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const Law law = parse_law(info[0]);
  if (!is_typed_array_of(info[1], napi_int16_array)) throw Napi::TypeError::New(env, "pcm must be an Int16Array");
  auto pcm = info[1].As<Napi::Int16Array>();
  Napi::Uint8Array out;
  if (info[2].IsUndefined()) {
    out = Napi::Uint8Array::New(env, pcm.ElementLength());
  } else {
    if (!is_typed_array_of(info[2], napi_uint8_array)) throw Napi::TypeError::New(env, "out must be a Uint8Array");
    out = info[2].As<Napi::Uint8Array>();
    if (out.ElementLength() != pcm.ElementLength()) throw Napi::RangeError::New(env, "out must have one byte per sample");
  }
  if (law == Law::kPcmu) {
    g711::ulaw_encode_block(pcm.Data(), out.Data(), pcm.ElementLength());
  } else {
    g711::alaw_encode_block(pcm.Data(), out.Data(), pcm.ElementLength());
  }
  return out;
}

// g711.decode(law, codes: Uint8Array, out?: Int16Array): Int16Array
Napi::Value Addon::G711Decode(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const Law law = parse_law(info[0]);
  if (!is_typed_array_of(info[1], napi_uint8_array)) throw Napi::TypeError::New(env, "codes must be a Uint8Array");
  auto codes = info[1].As<Napi::Uint8Array>();
  Napi::Int16Array out;
  if (info[2].IsUndefined()) {
    out = Napi::Int16Array::New(env, codes.ElementLength());
  } else {
    if (!is_typed_array_of(info[2], napi_int16_array)) throw Napi::TypeError::New(env, "out must be an Int16Array");
    out = info[2].As<Napi::Int16Array>();
    if (out.ElementLength() != codes.ElementLength()) throw Napi::RangeError::New(env, "out must have one sample per code");
  }
  if (law == Law::kPcmu) {
    g711::ulaw_decode_block(codes.Data(), out.Data(), codes.ElementLength());
  } else {
    g711::alaw_decode_block(codes.Data(), out.Data(), codes.ElementLength());
  }
  return out;
}

// gpio.openChip(path): GpioChip
Napi::Value Addon::GpioOpenChip(const Napi::CallbackInfo& info) {
  if (!info[0].IsString()) throw Napi::TypeError::New(info.Env(), "path must be a string");
  return gpio_chip_class.New({info[0]});
}

// gpio.loopbackRequest({ offsets }, onEvent): GpioLineRequest fed from a pipe (test support)
Napi::Value Addon::GpioLoopbackRequest(const Napi::CallbackInfo& info) {
  return gpio::loopback_request(info, gpio_line_request_class);
}

}  // namespace offhook

// The macro pastes the class name into an identifier, so it needs one without a namespace.
using OffhookAddon = offhook::Addon;
NODE_API_ADDON(OffhookAddon)
