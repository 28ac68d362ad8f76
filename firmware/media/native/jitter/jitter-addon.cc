// Node-API binding of the jitter buffers: argument checking, config parsing, and one wrapper class shared
// by ours, the speexdsp twin and the fixed-delay buffer (the TS declaration is in native-addon.ts).
#include "jitter-addon.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <utility>

#include "jitter-buffer.h"
#include "reference-buffers.h"
#include "time-stretch.h"

namespace offhook::jitter {

namespace {

/// What the wrapper drives; one implementation per kind of buffer.
class Driver {
 public:
  virtual ~Driver() = default;
  virtual void put(const Packet& packet) = 0;
  virtual void pull(int64_t now_us, Pulled& out) = 0;
  virtual Stats stats() const = 0;
  virtual void reset() = 0;
};

template <typename Buffer>
class DriverOf final : public Driver {
 public:
  template <typename... Args>
  explicit DriverOf(Args&&... args) : buffer_(std::forward<Args>(args)...) {}
  void put(const Packet& packet) override { buffer_.put(packet); }
  void pull(int64_t now_us, Pulled& out) override {
    out.playout_ts = 0;
    buffer_.pull(now_us, out);
    if (out.playout_ts == 0) out.playout_ts = out.duration_ts;  // the reference buffers never stretch
  }
  Stats stats() const override { return buffer_.stats(); }
  void reset() override { buffer_.reset(); }

 private:
  Buffer buffer_;
};

// ---- argument helpers: TypeError for a wrong type, RangeError for a wrong value, naming the field.

Napi::Value field(const Napi::Object& object, const char* key) { return object.Get(key); }

double number_field(const Napi::Object& object, const char* where, const char* key, double lo, double hi, bool integer) {
  Napi::Env env = object.Env();
  const Napi::Value value = field(object, key);
  if (!value.IsNumber()) throw Napi::TypeError::New(env, std::string(where) + "." + key + " must be a number");
  const double v = value.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(v) || v < lo || v > hi || (integer && std::floor(v) != v)) {
    throw Napi::RangeError::New(env, std::string(where) + "." + key + " must be " + (integer ? "an integer" : "a number") +
                                         " from " + std::to_string(static_cast<long long>(lo)) + " to " +
                                         std::to_string(static_cast<long long>(hi)));
  }
  return v;
}

template <typename T>
void optional_int(const Napi::Object& object, const char* key, T& target) {
  if (field(object, key).IsUndefined()) return;
  target = static_cast<T>(number_field(object, "config", key, -1e9, 1e9, true));
}

bool bool_field(const Napi::Object& object, const char* where, const char* key, bool fallback) {
  const Napi::Value value = field(object, key);
  if (value.IsUndefined()) return fallback;
  if (!value.IsBoolean()) throw Napi::TypeError::New(object.Env(), std::string(where) + "." + key + " must be a boolean");
  return value.As<Napi::Boolean>().Value();
}

Config parse_config(const Napi::Value& value) {
  Config c;
  if (value.IsUndefined()) return c;
  if (!value.IsObject()) throw Napi::TypeError::New(value.Env(), "config must be an object");
  const Napi::Object o = value.As<Napi::Object>();
  optional_int(o, "clockRateHz", c.clock_rate_hz);
  optional_int(o, "minDelayMs", c.min_delay_ms);
  optional_int(o, "maxDelayMs", c.max_delay_ms);
  optional_int(o, "initialDelayMs", c.initial_delay_ms);
  optional_int(o, "ptimeMs", c.ptime_ms);
  optional_int(o, "maxPackets", c.max_packets);
  optional_int(o, "maxPayloadBytes", c.max_payload_bytes);
  if (!field(o, "lateShare").IsUndefined()) c.late_share = number_field(o, "config", "lateShare", 0, 1, false);
  if (!field(o, "lateCostMs").IsUndefined()) c.late_cost_ms = number_field(o, "config", "lateCostMs", 0, 10000, false);
  optional_int(o, "histogramHalfLifePackets", c.histogram_half_life_packets);
  optional_int(o, "marginMs", c.margin_ms);
  optional_int(o, "fecHoldMs", c.fec_hold_ms);
  optional_int(o, "maxShrinkMsPerS", c.max_shrink_ms_per_s);
  optional_int(o, "maxTimestampJumpMs", c.max_timestamp_jump_ms);
  optional_int(o, "maxConcealMs", c.max_conceal_ms);
  optional_int(o, "hysteresisMs", c.hysteresis_ms);
  c.time_stretch = bool_field(o, "config", "timeStretch", c.time_stretch);
  optional_int(o, "maxWaitMs", c.max_wait_ms);
  return c;
}

/// A ConfigError from the C++ side as a JS RangeError carrying `field`.
[[noreturn]] void throw_config_error(Napi::Env env, const ConfigError& e) {
  Napi::Error error = Napi::RangeError::New(env, std::string("jitter config: ") + e.what());
  error.Set("field", Napi::String::New(env, e.field()));
  throw error;
}

const char* kind_name(Play kind) {
  switch (kind) {
    case Play::kFrame: return "frame";
    case Play::kConceal: return "conceal";
    case Play::kSilence: return "silence";
    case Play::kDropped: return "silence";  // never returned by a pull
  }
  return "silence";
}

constexpr double kMaxSafeInteger = 9007199254740991.0;

class NativeJitterBuffer : public Napi::ObjectWrap<NativeJitterBuffer> {
 public:
  static Napi::Function define(Napi::Env env) {
    return DefineClass(env, "NativeJitterBuffer",
                       {
                           InstanceMethod<&NativeJitterBuffer::Put>("put", napi_enumerable),
                           InstanceMethod<&NativeJitterBuffer::Pull>("pull", napi_enumerable),
                           InstanceMethod<&NativeJitterBuffer::GetStats>("stats", napi_enumerable),
                           InstanceMethod<&NativeJitterBuffer::Reset>("reset", napi_enumerable),
                       });
  }

  explicit NativeJitterBuffer(const Napi::CallbackInfo& info) : Napi::ObjectWrap<NativeJitterBuffer>(info) {
    if (info.Length() != 1 || !info[0].IsExternal()) {
      throw Napi::TypeError::New(info.Env(), "NativeJitterBuffer is created by jitter.create(), createSpeex() or createFixed()");
    }
    driver_.reset(info[0].As<Napi::External<Driver>>().Data());
  }

 private:
  // put({ ssrc, seq, timestamp, marker, arrivalUs, size, durationTs, payload?, comfortNoise? })
  Napi::Value Put(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!info[0].IsObject()) throw Napi::TypeError::New(env, "packet must be an object");
    const Napi::Object o = info[0].As<Napi::Object>();
    Packet p;
    p.ssrc = static_cast<uint32_t>(number_field(o, "packet", "ssrc", 0, 4294967295.0, true));
    p.seq = static_cast<uint16_t>(number_field(o, "packet", "seq", 0, 65535, true));
    p.timestamp = static_cast<uint32_t>(number_field(o, "packet", "timestamp", 0, 4294967295.0, true));
    p.marker = bool_field(o, "packet", "marker", false);
    p.arrival_us = static_cast<int64_t>(std::llround(number_field(o, "packet", "arrivalUs", -kMaxSafeInteger, kMaxSafeInteger, false)));
    p.duration_ts = static_cast<uint32_t>(number_field(o, "packet", "durationTs", 0, 4294967295.0, true));
    p.comfort_noise = bool_field(o, "packet", "comfortNoise", false);
    p.size = static_cast<size_t>(number_field(o, "packet", "size", 0, 65535, true));
    const Napi::Value payload = field(o, "payload");
    Napi::Uint8Array bytes;
    if (!payload.IsUndefined()) {
      if (!payload.IsTypedArray() || payload.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
        throw Napi::TypeError::New(env, "packet.payload must be a Uint8Array");
      }
      bytes = payload.As<Napi::Uint8Array>();
      if (bytes.ElementLength() != p.size) throw Napi::RangeError::New(env, "packet.size must equal packet.payload.length");
      p.payload = bytes.Data();
    }
    driver_->put(p);
    return env.Undefined();
  }

  // pull(nowUs, payloadOut?) → { kind, timestamp, durationTs, playoutTs, size, fecAvailable, seq, arrivalUs, comfortNoise, discontinuity }
  Napi::Value Pull(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!info[0].IsNumber()) throw Napi::TypeError::New(env, "nowUs must be a number");
    const double now = info[0].As<Napi::Number>().DoubleValue();
    if (!std::isfinite(now) || std::fabs(now) > kMaxSafeInteger) throw Napi::RangeError::New(env, "nowUs must be a finite number of microseconds");
    Napi::Uint8Array sink;
    if (!info[1].IsUndefined()) {
      if (!info[1].IsTypedArray() || info[1].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
        throw Napi::TypeError::New(env, "payloadOut must be a Uint8Array");
      }
      sink = info[1].As<Napi::Uint8Array>();
    }
    driver_->pull(static_cast<int64_t>(std::llround(now)), pulled_);
    if (!sink.IsEmpty() && !pulled_.payload.empty()) {
      if (sink.ElementLength() < pulled_.payload.size()) {
        throw Napi::RangeError::New(env, "payloadOut is shorter than the payload (" + std::to_string(pulled_.payload.size()) + " bytes)");
      }
      std::memcpy(sink.Data(), pulled_.payload.data(), pulled_.payload.size());
    }
    Napi::Object result = Napi::Object::New(env);
    result.Set("kind", kind_name(pulled_.kind));
    result.Set("timestamp", static_cast<double>(pulled_.timestamp));
    result.Set("durationTs", static_cast<double>(pulled_.duration_ts));
    result.Set("playoutTs", static_cast<double>(pulled_.playout_ts));
    result.Set("size", static_cast<double>(pulled_.payload.size()));
    result.Set("fecAvailable", pulled_.fec_available);
    result.Set("seq", static_cast<double>(pulled_.seq));
    result.Set("arrivalUs", static_cast<double>(pulled_.arrival_us));
    result.Set("comfortNoise", pulled_.comfort_noise);
    result.Set("discontinuity", pulled_.discontinuity);
    return result;
  }

  Napi::Value GetStats(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const Stats s = driver_->stats();
    Napi::Object o = Napi::Object::New(env);
    auto set = [&](const char* key, double v) { o.Set(key, v); };
    set("received", static_cast<double>(s.received));
    set("late", static_cast<double>(s.late));
    set("duplicates", static_cast<double>(s.duplicates));
    set("reordered", static_cast<double>(s.reordered));
    set("concealedFrames", static_cast<double>(s.concealed_frames));
    set("droppedForShrink", static_cast<double>(s.dropped_for_shrink));
    set("currentDelayMs", s.current_delay_ms);
    set("targetDelayMs", s.target_delay_ms);
    set("maxDelayMs", s.max_delay_ms);
    set("playedFrames", static_cast<double>(s.played_frames));
    set("silenceFrames", static_cast<double>(s.silence_frames));
    set("insertedForGrowth", static_cast<double>(s.inserted_for_growth));
    set("overflowDropped", static_cast<double>(s.overflow_dropped));
    set("resets", static_cast<double>(s.resets));
    set("talkspurts", static_cast<double>(s.talkspurts));
    set("packetsHeld", s.packets_held);
    set("packetsHeldMax", s.packets_held_max);
    set("driftPpm", s.drift_ppm);
    set("stretchedFrames", static_cast<double>(s.stretched_frames));
    set("stretchRemovedMs", s.stretch_removed_ms);
    set("stretchAddedMs", s.stretch_added_ms);
    set("waitMs", s.wait_ms);
    set("waitsRescued", static_cast<double>(s.waits_rescued));
    set("rewinds", static_cast<double>(s.rewinds));
    return o;
  }

  Napi::Value Reset(const Napi::CallbackInfo& info) {
    driver_->reset();
    return info.Env().Undefined();
  }

  std::unique_ptr<Driver> driver_;
  /// Reused by every pull: its payload keeps its capacity, so pulls do not allocate in C++.
  Pulled pulled_;
};

/// Per environment: the class constructor, reachable from the three factories through their data.
struct Shared {
  Napi::FunctionReference constructor;
};

Napi::Value wrap(const Napi::CallbackInfo& info, Driver* driver) {
  std::unique_ptr<Driver> owned(driver);
  auto* shared = static_cast<Shared*>(info.Data());
  Napi::External<Driver> external = Napi::External<Driver>::New(info.Env(), owned.get());
  Napi::Object object = shared->constructor.New({external});
  owned.release();  // the wrapper owns it now
  return object;
}

// jitter.create(config?) and jitter.createSpeex(config?): the same config, another buffer behind it.
template <typename Buffer>
Napi::Value CreateOf(const Napi::CallbackInfo& info) {
  const Config config = parse_config(info[0]);
  try {
    return wrap(info, new DriverOf<Buffer>(config));
  } catch (const ConfigError& e) {
    throw_config_error(info.Env(), e);
  }
}

// jitter.createFixed({ delayMs, ...config })
Napi::Value CreateFixed(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsObject()) throw Napi::TypeError::New(env, "config must be an object with delayMs");
  const Config config = parse_config(info[0]);
  const int delay_ms = static_cast<int>(number_field(info[0].As<Napi::Object>(), "config", "delayMs", 0, 5000, true));
  try {
    return wrap(info, new DriverOf<FixedDelayBuffer>(config, delay_ms));
  } catch (const ConfigError& e) {
    throw_config_error(env, e);
  }
}

// jitter.timeStretch(pcm: Int16Array, length, inputLength, sampleRateHz, exact?) → new length: stretches
// pcm[0, inputLength) in place towards `length` samples (pcm.length is the capacity), as the engine
// does to a decoded frame.
Napi::Value TimeStretch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_int16_array) {
    throw Napi::TypeError::New(env, "pcm must be an Int16Array");
  }
  Napi::Int16Array pcm = info[0].As<Napi::Int16Array>();
  for (size_t i = 1; i <= 3; ++i) {
    if (!info[i].IsNumber()) throw Napi::TypeError::New(env, "length, inputLength and sampleRateHz must be numbers");
  }
  const double m = info[1].As<Napi::Number>().DoubleValue();
  const double n = info[2].As<Napi::Number>().DoubleValue();
  const double rate = info[3].As<Napi::Number>().DoubleValue();
  if (!(m >= 0 && m <= static_cast<double>(pcm.ElementLength()) && n >= 0 && n <= static_cast<double>(pcm.ElementLength()) &&
        rate >= 1000 && rate <= 384000)) {
    throw Napi::RangeError::New(env, "length and inputLength must fit in pcm, sampleRateHz from 1000 to 384000");
  }
  const bool exact = info[4].IsBoolean() && info[4].As<Napi::Boolean>().Value();
  const size_t out = time_stretch(pcm.Data(), static_cast<size_t>(n), static_cast<size_t>(m), pcm.ElementLength(), static_cast<int>(rate), exact);
  return Napi::Number::New(env, static_cast<double>(out));
}

}  // namespace

Napi::Object make_exports(Napi::Env env) {
  auto* shared = new Shared{Napi::Persistent(NativeJitterBuffer::define(env))};
  env.AddCleanupHook([shared]() { delete shared; });
  Napi::Object jitter = Napi::Object::New(env);
  jitter.DefineProperties({
      Napi::PropertyDescriptor::Value("create", Napi::Function::New(env, CreateOf<JitterBuffer>, "create", shared), napi_enumerable),
      Napi::PropertyDescriptor::Value("createSpeex", Napi::Function::New(env, CreateOf<SpeexJitterTwin>, "createSpeex", shared), napi_enumerable),
      Napi::PropertyDescriptor::Value("createFixed", Napi::Function::New(env, CreateFixed, "createFixed", shared), napi_enumerable),
      Napi::PropertyDescriptor::Value("timeStretch", Napi::Function::New(env, TimeStretch, "timeStretch"), napi_enumerable),
  });
  jitter.Freeze();
  return jitter;
}

}  // namespace offhook::jitter
