// JS binding of the media engine: options parsing, the handle class, events through one thread-safe function per engine.
#include "engine/engine-addon.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "engine/engine-error.h"
#include "engine/engine.h"
#include "engine/resampler.h"
#include "errno-error.h"

namespace offhook::engine {
namespace {

// ---------------------------------------------------------------------------------------------------
// Option reading: every failure names the field (TypeError for a wrong type, RangeError for a value).

class Reader {
 public:
  Reader(Napi::Object object, std::string prefix) : object_(object), prefix_(std::move(prefix)) {}

  bool has(const char* key) const { return !object_.Get(key).IsUndefined(); }

  double number(const char* key, double fallback, double min, double max, bool integer = true) const {
    const Napi::Value v = object_.Get(key);
    if (v.IsUndefined()) return fallback;
    if (!v.IsNumber()) throw Napi::TypeError::New(object_.Env(), field(key) + " must be a number");
    const double n = v.As<Napi::Number>().DoubleValue();
    if (!(n >= min && n <= max) || (integer && n != std::floor(n))) {
      throw Napi::RangeError::New(object_.Env(), field(key) + " must be " + (integer ? "an integer " : "") + "from " +
                                                     format(min) + " to " + format(max));
    }
    return n;
  }
  int integer(const char* key, int fallback, int min, int max) const { return static_cast<int>(number(key, fallback, min, max)); }

  std::string string(const char* key, const char* fallback) const {
    const Napi::Value v = object_.Get(key);
    if (v.IsUndefined() && fallback != nullptr) return fallback;
    if (!v.IsString()) throw Napi::TypeError::New(object_.Env(), field(key) + " must be a string");
    return v.As<Napi::String>().Utf8Value();
  }

  bool boolean(const char* key, bool fallback) const {
    const Napi::Value v = object_.Get(key);
    if (v.IsUndefined()) return fallback;
    if (!v.IsBoolean()) throw Napi::TypeError::New(object_.Env(), field(key) + " must be a boolean");
    return v.As<Napi::Boolean>().Value();
  }

  Reader object(const char* key) const {
    const Napi::Value v = object_.Get(key);
    if (!v.IsObject()) throw Napi::TypeError::New(object_.Env(), field(key) + " must be an object");
    return Reader(v.As<Napi::Object>(), field(key));
  }

  std::string field(const char* key) const { return prefix_.empty() ? key : prefix_ + "." + key; }
  Napi::Object raw() const { return object_; }

 private:
  static std::string format(double n) {
    if (n == std::floor(n) && std::fabs(n) < 1e15) return std::to_string(static_cast<long long>(n));
    return std::to_string(n);
  }
  Napi::Object object_;
  std::string prefix_;
};

Direction parse_direction(const Reader& r) {
  const std::string d = r.string("direction", "sendrecv");
  if (d == "sendrecv") return Direction::kSendRecv;
  if (d == "sendonly") return Direction::kSendOnly;
  if (d == "recvonly") return Direction::kRecvOnly;
  if (d == "inactive") return Direction::kInactive;
  throw Napi::TypeError::New(r.raw().Env(), r.field("direction") + " must be 'sendrecv', 'sendonly', 'recvonly' or 'inactive'");
}

/// NativeSrtpParams in native-addon.ts: the suite's RFC 4568 §6.2 name and two 30-octet key-salts.
srtp::Params parse_srtp(const Reader& r) {
  Napi::Env env = r.raw().Env();
  srtp::Params p;
  const std::string suite = r.string("suite", nullptr);
  if (suite == "AES_CM_128_HMAC_SHA1_80") {
    p.suite = srtp::Suite::kAesCm128HmacSha1_80;
  } else if (suite == "AES_CM_128_HMAC_SHA1_32") {
    p.suite = srtp::Suite::kAesCm128HmacSha1_32;
  } else {
    throw Napi::TypeError::New(env, r.field("suite") + " must be 'AES_CM_128_HMAC_SHA1_80' or 'AES_CM_128_HMAC_SHA1_32'");
  }
  auto key = [&](const char* name, srtp::KeySalt& out) {
    const Napi::Value v = r.raw().Get(name);
    if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
      throw Napi::TypeError::New(env, r.field(name) + " must be a Uint8Array");
    }
    const Napi::Uint8Array bytes = v.As<Napi::Uint8Array>();
    if (bytes.ByteLength() != srtp::kKeySaltBytes) {
      throw Napi::RangeError::New(env, r.field(name) + " must hold 30 octets (RFC 4568 §6.2.1: 128-bit master key + 112-bit salt)");
    }
    std::memcpy(out.bytes.data(), bytes.Data(), srtp::kKeySaltBytes);
  };
  key("localKey", p.local_key);
  key("remoteKey", p.remote_key);
  return p;
}

/// NativeStreamMedia in native-addon.ts.
StreamMedia parse_media(const Reader& r) {
  StreamMedia m;
  m.direction = parse_direction(r);
  if (r.has("remoteAddress")) {
    m.has_remote = true;
    m.remote_address = r.string("remoteAddress", nullptr);
    m.remote_port = static_cast<uint16_t>(r.integer("remotePort", 0, 1, 65535));
    m.remote_rtcp_port = static_cast<uint16_t>(r.integer("remoteRtcpPort", 0, 0, 65535));
    if (!r.has("remotePort")) throw Napi::TypeError::New(r.raw().Env(), r.field("remotePort") + " is required with remoteAddress");
  }
  const Reader c = r.object("codec");
  m.codec.name = c.string("name", nullptr);
  m.codec.payload_type = c.integer("payloadType", 0, 0, 127);
  m.codec.rtp_clock_hz = c.integer("clockRateHz", 8000, 8000, 48000);
  m.codec.sample_rate_hz = c.integer("sampleRateHz", m.codec.rtp_clock_hz, 8000, 48000);
  m.codec.ptime_ms = c.integer("ptimeMs", 20, 10, 200);
  m.codec.fec = c.boolean("fec", false);
  m.codec.dtx = c.boolean("dtx", false);
  m.codec.bitrate_bps = c.integer("bitrateBps", 0, 0, 510000);
  m.codec.expected_loss_percent = c.integer("expectedLossPercent", 10, 0, 100);
  m.codec.complexity = c.integer("complexity", 5, 0, 10);
  m.telephone_event_pt = r.integer("telephoneEventPayloadType", -1, -1, 127);
  m.comfort_noise_pt = r.integer("comfortNoisePayloadType", -1, -1, 127);
  m.rtp_timeout_ms = r.integer("rtpTimeoutMs", 0, 0, 3'600'000);
  if (r.has("jitter")) {
    const Reader j = r.object("jitter");
    m.jitter.min_delay_ms = j.integer("minDelayMs", m.jitter.min_delay_ms, 0, 2000);
    m.jitter.max_delay_ms = j.integer("maxDelayMs", m.jitter.max_delay_ms, 0, 5000);
    m.jitter.initial_delay_ms = j.integer("initialDelayMs", m.jitter.initial_delay_ms, 0, 5000);
  }
  if (r.has("srtp")) m.srtp = parse_srtp(r.object("srtp"));
  return m;
}

/// NativeStreamOptions in native-addon.ts.
StreamConfig parse_stream(const Reader& r) {
  StreamConfig s;
  s.local_address = r.string("localAddress", "0.0.0.0");
  s.local_port = static_cast<uint16_t>(r.integer("localPort", 0, 0, 65535));
  s.local_rtcp_port = static_cast<uint16_t>(r.integer("localRtcpPort", 0, 0, 65535));
  s.rtcp_mux = r.boolean("rtcpMux", false);
  s.latching = r.boolean("latching", false);
  s.rtcp_min_interval_ms = r.integer("rtcpMinIntervalMs", 5000, 100, 60000);
  s.cname = r.string("cname", "offhook");
  s.dscp = r.integer("dscp", 46, 0, 63);
  s.media = parse_media(r);
  return s;
}

/// NativeToneSpec in native-addon.ts.
ToneSpec parse_tone(const Reader& r, int sample_rate_hz) {
  Napi::Env env = r.raw().Env();
  ToneSpec spec;
  spec.repeat = r.boolean("repeat", true);
  const Napi::Value list = r.raw().Get("segments");
  if (!list.IsArray()) throw Napi::TypeError::New(env, "tone.segments must be an array");
  Napi::Array segments = list.As<Napi::Array>();
  if (segments.Length() == 0 || segments.Length() > 64) throw Napi::RangeError::New(env, "tone.segments must hold 1 to 64 segments");
  for (uint32_t i = 0; i < segments.Length(); ++i) {
    const Napi::Value v = segments.Get(i);
    if (!v.IsObject()) throw Napi::TypeError::New(env, "tone.segments[" + std::to_string(i) + "] must be an object");
    const Reader s(v.As<Napi::Object>(), "tone.segments[" + std::to_string(i) + "]");
    ToneSegment seg;
    seg.duration_ms = s.integer("durationMs", 0, 0, 600000);
    seg.modulation_hz = s.number("modulationHz", 0, 0, 1000, false);
    seg.level_dbm0 = s.number("levelDbm0", -13, -60, 3, false);
    seg.alternate_ms = s.integer("alternateMs", 0, 0, 10000);
    const Napi::Value f = v.As<Napi::Object>().Get("frequenciesHz");
    if (!f.IsArray()) throw Napi::TypeError::New(env, s.field("frequenciesHz") + " must be an array");
    Napi::Array freqs = f.As<Napi::Array>();
    if (freqs.Length() > 4) throw Napi::RangeError::New(env, s.field("frequenciesHz") + " must hold at most 4 frequencies");
    for (uint32_t k = 0; k < freqs.Length(); ++k) {
      const Napi::Value hz = freqs.Get(k);
      const double n = hz.IsNumber() ? hz.As<Napi::Number>().DoubleValue() : -1;
      if (!(n > 0 && n < sample_rate_hz / 2.0)) {
        throw Napi::RangeError::New(env, s.field("frequenciesHz") + " must be above 0 and below half the engine rate");
      }
      seg.frequencies_hz.push_back(n);
    }
    if (seg.duration_ms == 0 && i + 1 != segments.Length()) {
      throw Napi::RangeError::New(env, "only the last tone segment may last until stopped (durationMs 0)");
    }
    spec.segments.push_back(std::move(seg));
  }
  return spec;
}

AudioPath parse_path(const Reader& r, const char* key) {
  AudioPath path = AudioPath::kHandset;
  if (!parse_audio_path(r.string(key, nullptr), path)) {
    throw Napi::TypeError::New(r.raw().Env(), r.field(key) + " must be 'handset', 'speaker' or 'headset'");
  }
  return path;
}

/// NativeEngineOptions in native-addon.ts.
EngineOptions parse_engine(const Reader& r) {
  Napi::Env env = r.raw().Env();
  EngineOptions o;
  const std::string clock = r.string("clock", "realtime");
  if (clock == "realtime") {
    o.clock = ClockMode::kRealtime;
  } else if (clock == "virtual") {
    o.clock = ClockMode::kVirtual;
  } else {
    throw Napi::TypeError::New(env, "clock must be 'realtime' or 'virtual'");
  }
  o.sample_rate_hz = r.integer("sampleRateHz", 16000, 8000, 48000);
  o.stats_interval_us = static_cast<int64_t>(r.integer("statsIntervalMs", 1000, 0, 3'600'000)) * 1000;
  if (r.has("randomSeed")) {
    o.has_seed = true;
    o.seed = static_cast<uint64_t>(r.number("randomSeed", 0, 0, 9007199254740991.0));
  }
  if (r.has("audioPath")) o.processing.path = parse_path(r, "audioPath");
  if (r.has("audioProcessing")) {
    const Reader all = r.object("audioProcessing");
    for (size_t i = 0; i < kAudioPathCount; ++i) {
      const char* name = audio_path_name(static_cast<AudioPath>(i));
      if (!all.has(name)) continue;
      const Reader p = all.object(name);
      PathProcessing& settings = o.processing.paths[i];
      settings.aec = p.boolean("aec", settings.aec);
      settings.aec_tail_ms = p.integer("aecTailMs", settings.aec_tail_ms, 10, 1000);
      settings.noise_suppression_db = p.integer("noiseSuppressionDb", settings.noise_suppression_db, -60, 0);
      settings.agc = p.boolean("agc", settings.agc);
      settings.agc_level_dbfs = p.number("agcLevelDbfs", settings.agc_level_dbfs, -60, 0, false);
    }
  }
  const Reader audio = r.object("audio");
  o.audio.name = audio.string("backend", nullptr);
  Napi::Array keys = audio.raw().GetPropertyNames();
  for (uint32_t i = 0; i < keys.Length(); ++i) {
    const std::string key = keys.Get(i).As<Napi::String>().Utf8Value();
    if (key == "backend") continue;
    const Napi::Value v = audio.raw().Get(key);
    if (v.IsString()) {
      o.audio.strings[key] = v.As<Napi::String>().Utf8Value();
    } else if (v.IsNumber()) {
      o.audio.numbers[key] = v.As<Napi::Number>().DoubleValue();
    } else if (v.IsBoolean()) {
      o.audio.numbers[key] = v.As<Napi::Boolean>().Value() ? 1 : 0;
    } else if (!v.IsUndefined()) {
      throw Napi::TypeError::New(env, "audio." + key + " must be a string, a number or a boolean");
    }
  }
  return o;
}

// ---------------------------------------------------------------------------------------------------
// Errors and events to JS

Napi::Error to_js_error(Napi::Env env, const EngineError& e) {
  Napi::Error error = Napi::Error::New(env, e.what());
  error.Set("code", Napi::String::New(env, e.code));
  if (e.err != 0) {
    error.Set("errno", Napi::Number::New(env, -e.err));
    error.Set("systemCode", Napi::String::New(env, errno_name(e.err)));
  }
  if (!e.syscall.empty()) error.Set("syscall", Napi::String::New(env, e.syscall));
  if (!e.address.empty()) error.Set("address", Napi::String::New(env, e.address));
  return error;
}

Napi::Object stats_object(Napi::Env env, const StreamStats& s) {
  Napi::Object o = Napi::Object::New(env);
  auto num = [&](const char* key, double value) { o.Set(key, Napi::Number::New(env, value)); };
  num("streamId", s.stream_id);
  num("timeMs", s.engine_time_ms);
  num("localSsrc", s.local_ssrc);
  o.Set("remoteSsrc", s.has_remote_ssrc ? Napi::Value(Napi::Number::New(env, s.remote_ssrc)) : env.Null());
  num("packetsSent", static_cast<double>(s.packets_sent));
  num("bytesSent", static_cast<double>(s.bytes_sent));
  num("dtmfEventsSent", static_cast<double>(s.dtmf_events_sent));
  num("sendErrors", static_cast<double>(s.send_errors));
  num("packetsReceived", static_cast<double>(s.packets_received));
  num("bytesReceived", static_cast<double>(s.bytes_received));
  num("packetsExpected", static_cast<double>(s.packets_expected));
  num("packetsLost", static_cast<double>(s.packets_lost));
  num("lateDropped", static_cast<double>(s.late_dropped));
  num("duplicates", static_cast<double>(s.duplicates));
  num("reordered", static_cast<double>(s.reordered));
  num("concealedMs", static_cast<double>(s.concealed_ms));
  num("fecRecoveredFrames", static_cast<double>(s.fec_recovered_frames));
  num("comfortNoiseMs", static_cast<double>(s.comfort_noise_ms));
  num("stretchedMs", static_cast<double>(s.stretched_ms));
  num("invalidPackets", static_cast<double>(s.invalid_packets));
  num("srtpAuthFailures", static_cast<double>(s.srtp_auth_failures));
  num("srtpReplayDropped", static_cast<double>(s.srtp_replay_dropped));
  num("unknownPayloadType", static_cast<double>(s.unknown_payload_type));
  num("ssrcChanges", static_cast<double>(s.ssrc_changes));
  num("jitterMs", s.jitter_ms);
  num("burstRatio", s.burst_ratio);
  num("bufferDelayMs", s.buffer_delay_ms);
  num("bufferTargetMs", s.buffer_target_ms);
  num("bufferMaxDelayMs", s.buffer_max_delay_ms);
  num("captureXruns", static_cast<double>(s.capture_xruns));
  num("playbackXruns", static_cast<double>(s.playback_xruns));
  num("lateTicks", static_cast<double>(s.late_ticks));
  num("rtcpSent", static_cast<double>(s.rtcp_sent));
  num("rtcpReceived", static_cast<double>(s.rtcp_received));
  o.Set("rttMs", s.rtt_ms >= 0 ? Napi::Value(Napi::Number::New(env, s.rtt_ms)) : env.Null());
  if (s.has_remote_report) {
    Napi::Object remote = Napi::Object::New(env);
    remote.Set("fractionLost", Napi::Number::New(env, s.remote_fraction_lost));
    remote.Set("cumulativeLost", Napi::Number::New(env, static_cast<double>(s.remote_cumulative_lost)));
    remote.Set("jitterMs", Napi::Number::New(env, s.remote_jitter_ms));
    remote.Set("highestSeq", Napi::Number::New(env, s.remote_highest_seq));
    o.Set("remote", remote);
  } else {
    o.Set("remote", env.Null());
  }
  num("oneWayDelayMs", s.one_way_delay_ms);
  num("effectiveLossPercent", s.effective_loss_percent);
  num("rFactor", s.r_factor);
  num("mos", s.mos);
  return o;
}

Napi::Object setup_object(Napi::Env env, const AudioDeviceSetup& s) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("device", Napi::String::New(env, s.device));
  o.Set("format", Napi::String::New(env, s.format));
  o.Set("channels", Napi::Number::New(env, s.channels));
  o.Set("rateHz", Napi::Number::New(env, s.rate_hz));
  o.Set("periodFrames", Napi::Number::New(env, static_cast<double>(s.period_frames)));
  o.Set("bufferFrames", Napi::Number::New(env, static_cast<double>(s.buffer_frames)));
  return o;
}

/// AudioStats in media-engine.ts.
Napi::Object audio_stats_object(Napi::Env env, const AudioStats& a) {
  Napi::Object o = Napi::Object::New(env);
  auto num = [&](const char* key, double value) { o.Set(key, Napi::Number::New(env, value)); };
  o.Set("backend", Napi::String::New(env, a.backend));
  o.Set("path", Napi::String::New(env, audio_path_name(a.path)));
  o.Set("deviceOk", Napi::Boolean::New(env, a.device_ok));
  if (a.has_device_info) {
    Napi::Object device = Napi::Object::New(env);
    device.Set("capture", setup_object(env, a.device_info.capture));
    device.Set("playback", setup_object(env, a.device_info.playback));
    device.Set("linked", Napi::Boolean::New(env, a.device_info.linked));
    device.Set("realtime", Napi::Boolean::New(env, a.device_info.realtime));
    o.Set("device", device);
  } else {
    o.Set("device", env.Null());
  }
  num("captureXruns", static_cast<double>(a.capture_xruns));
  num("playbackXruns", static_cast<double>(a.playback_xruns));
  num("lateTicks", static_cast<double>(a.late_ticks));
  num("deviceErrors", static_cast<double>(a.device_errors));
  num("deviceRecoveries", static_cast<double>(a.device_recoveries));
  Napi::Array conference = Napi::Array::New(env, a.conference.size());
  for (uint32_t i = 0; i < a.conference.size(); ++i) conference.Set(i, Napi::Number::New(env, a.conference[i]));
  o.Set("conference", conference);
  if (a.has_external) {
    const ExternalAudioStats& x = a.external;
    Napi::Object external = Napi::Object::New(env);
    auto ext = [&](const char* key, double value) { external.Set(key, Napi::Number::New(env, value)); };
    ext("capturePushedFrames", static_cast<double>(x.capture_pushed_frames));
    ext("captureQueuedFrames", static_cast<double>(x.capture_queued_frames));
    ext("captureUnderruns", static_cast<double>(x.capture_underruns));
    ext("captureOverflows", static_cast<double>(x.capture_overflows));
    ext("captureOverflowFrames", static_cast<double>(x.capture_overflow_frames));
    ext("captureTrimmedFrames", static_cast<double>(x.capture_trimmed_frames));
    ext("playbackDeliveredFrames", static_cast<double>(x.playback_delivered_frames));
    ext("playbackDrops", static_cast<double>(x.playback_drops));
    ext("playbackDroppedFrames", static_cast<double>(x.playback_dropped_frames));
    o.Set("external", external);
  } else {
    o.Set("external", env.Null());
  }
  return o;
}

Napi::Object event_object(Napi::Env env, const Event& e) {
  Napi::Object o = Napi::Object::New(env);
  auto str = [&](const char* key, const std::string& value) { o.Set(key, Napi::String::New(env, value)); };
  auto num = [&](const char* key, double value) { o.Set(key, Napi::Number::New(env, value)); };
  switch (e.kind) {
    case Event::Kind::kDtmf:
      str("type", "dtmf");
      num("streamId", e.stream_id);
      str("digit", std::string(1, e.digit));
      str("phase", e.dtmf_end ? "end" : "begin");
      num("durationMs", e.duration_ms);
      break;
    case Event::Kind::kStats:
      str("type", "stats");
      num("streamId", e.stream_id);
      o.Set("stats", stats_object(env, e.stats));
      break;
    case Event::Kind::kRtpTimeout:
      str("type", "rtpTimeout");
      num("streamId", e.stream_id);
      num("silentMs", e.silent_ms);
      break;
    case Event::Kind::kDeviceError:
      str("type", "deviceError");
      str("message", e.message);
      str("device", e.device);
      num("errno", -e.err);
      str("systemCode", e.err != 0 ? errno_name(e.err) : "");
      break;
    case Event::Kind::kSsrcChanged:
      str("type", "ssrcChanged");
      num("streamId", e.stream_id);
      num("ssrc", e.ssrc);
      num("previousSsrc", e.previous_ssrc);
      break;
    case Event::Kind::kRemoteLatched:
      str("type", "remoteLatched");
      num("streamId", e.stream_id);
      str("address", e.address);
      num("port", e.port);
      o.Set("rtcp", Napi::Boolean::New(env, e.rtcp));
      break;
    case Event::Kind::kRtcpBye:
      str("type", "rtcpBye");
      num("streamId", e.stream_id);
      num("ssrc", e.ssrc);
      break;
    case Event::Kind::kDeviceRecovered:
      str("type", "deviceRecovered");
      str("device", e.device);
      num("downMs", e.down_ms);
      break;
    case Event::Kind::kDeviceOpened:
      str("type", "deviceOpened");
      o.Set("capture", setup_object(env, e.device_info.capture));
      o.Set("playback", setup_object(env, e.device_info.playback));
      o.Set("linked", Napi::Boolean::New(env, e.device_info.linked));
      o.Set("realtime", Napi::Boolean::New(env, e.device_info.realtime));
      num("realtimePriority", e.device_info.realtime_priority);
      str("realtimeError", e.device_info.realtime_err != 0 ? errno_name(e.device_info.realtime_err) : "");
      break;
    case Event::Kind::kToneEnded:
      str("type", "toneEnded");
      break;
    case Event::Kind::kFlushed:
      str("type", "flushed");
      num("token", e.token);
      break;
    case Event::Kind::kPlayback: {
      str("type", "playback");
      num("sampleRateHz", e.sample_rate_hz);
      Napi::Int16Array pcm = Napi::Int16Array::New(env, e.pcm.size());
      if (!e.pcm.empty()) std::memcpy(pcm.Data(), e.pcm.data(), e.pcm.size() * sizeof(int16_t));
      o.Set("pcm", pcm);
      break;
    }
  }
  num("timeMs", e.engine_time_ms);
  return o;
}

// ---------------------------------------------------------------------------------------------------
// The handle

/// Posts events onto the engine's thread-safe function; the handle is cleared (on the JS thread,
/// after the engine's threads were joined) before the function is released, so no post follows.
class TsfnSink final : public EventSink {
 public:
  void post(std::unique_ptr<Event> event) noexcept override {
    if (tsfn == nullptr) return;
    if (napi_call_threadsafe_function(tsfn, event.get(), napi_tsfn_nonblocking) == napi_ok) event.release();
  }
  napi_threadsafe_function tsfn = nullptr;
};

/// What the JS handle and the thread-safe function's context share.
struct Shared {
  TsfnSink sink;
  std::unique_ptr<Engine> engine;
  bool closed = false;
  bool tsfn_finalized = false;
};

void call_js(napi_env env, napi_value callback, void* context, void* data) noexcept {
  std::unique_ptr<Event> event(static_cast<Event*>(data));
  if (env == nullptr || callback == nullptr) return;  // torn down with events queued: only free them
  auto& shared = *static_cast<std::shared_ptr<Shared>*>(context);
  if (shared->closed) return;
  napi_value object = nullptr;
  try {
    object = event_object(Napi::Env(env), *event);
  } catch (...) {
    return;
  }
  napi_value undefined = nullptr;
  napi_get_undefined(env, &undefined);
  if (napi_call_function(env, undefined, callback, 1, &object, nullptr) == napi_pending_exception) {
    // A listener threw: make it an uncaught exception, as gpio-cdev.cc does (not a DEP0168 warning).
    napi_value exception = nullptr;
    if (napi_get_and_clear_last_exception(env, &exception) == napi_ok) napi_fatal_exception(env, exception);
  }
}

/// The environment is going away (or close() released the function): the threads must end first.
void finalize_tsfn(napi_env /*env*/, void* /*data*/, void* hint) noexcept {
  auto* shared = static_cast<std::shared_ptr<Shared>*>(hint);
  AudioError ignored;
  if ((*shared)->engine) (*shared)->engine->shutdown(ignored);
  (*shared)->sink.tsfn = nullptr;
  (*shared)->tsfn_finalized = true;
  delete shared;
}

class MediaEngineHandle : public Napi::ObjectWrap<MediaEngineHandle> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "NativeMediaEngine",
                       {
                           InstanceAccessor<&MediaEngineHandle::Closed>("closed", napi_enumerable),
                           InstanceAccessor<&MediaEngineHandle::Clock>("clock", napi_enumerable),
                           InstanceAccessor<&MediaEngineHandle::SampleRate>("sampleRateHz", napi_enumerable),
                           InstanceMethod<&MediaEngineHandle::CreateStream>("createStream"),
                           InstanceMethod<&MediaEngineHandle::UpdateStream>("updateStream"),
                           InstanceMethod<&MediaEngineHandle::StartStream>("startStream"),
                           InstanceMethod<&MediaEngineHandle::StopStream>("stopStream"),
                           InstanceMethod<&MediaEngineHandle::CloseStream>("closeStream"),
                           InstanceMethod<&MediaEngineHandle::SendDtmf>("sendDtmf"),
                           InstanceMethod<&MediaEngineHandle::GetStats>("getStats"),
                           InstanceMethod<&MediaEngineHandle::PlayTone>("playTone"),
                           InstanceMethod<&MediaEngineHandle::StopTone>("stopTone"),
                           InstanceMethod<&MediaEngineHandle::RingTone>("ringTone"),
                           InstanceMethod<&MediaEngineHandle::RingWav>("ringWav"),
                           InstanceMethod<&MediaEngineHandle::StopRing>("stopRing"),
                           InstanceMethod<&MediaEngineHandle::JoinConference>("joinConference"),
                           InstanceMethod<&MediaEngineHandle::SplitConference>("splitConference"),
                           InstanceMethod<&MediaEngineHandle::SetAudioPath>("setAudioPath"),
                           InstanceMethod<&MediaEngineHandle::SetGains>("setGains"),
                           InstanceMethod<&MediaEngineHandle::SetMuted>("setMuted"),
                           InstanceMethod<&MediaEngineHandle::GetAudioStats>("getAudioStats"),
                           InstanceMethod<&MediaEngineHandle::PushCapture>("pushCapture"),
                           InstanceMethod<&MediaEngineHandle::Advance>("advance"),
                           InstanceMethod<&MediaEngineHandle::NowMs>("nowMs"),
                           InstanceMethod<&MediaEngineHandle::FlushEvents>("flushEvents"),
                           InstanceMethod<&MediaEngineHandle::Ref>("ref"),
                           InstanceMethod<&MediaEngineHandle::Unref>("unref"),
                           InstanceMethod<&MediaEngineHandle::Close>("close"),
                       });
  }

  // new NativeMediaEngine(options, onEvent): only through engine.create().
  explicit MediaEngineHandle(const Napi::CallbackInfo& info) : Napi::ObjectWrap<MediaEngineHandle>(info) {
    Napi::Env env = info.Env();
    if (!info[0].IsObject()) throw Napi::TypeError::New(env, "options must be an object");
    if (!info[1].IsFunction()) throw Napi::TypeError::New(env, "onEvent must be a function");
    const EngineOptions options = parse_engine(Reader(info[0].As<Napi::Object>(), ""));
    shared_ = std::make_shared<Shared>();
    auto* context = new std::shared_ptr<Shared>(shared_);
    napi_value name = Napi::String::New(env, "offhook media engine events");
    if (napi_create_threadsafe_function(env, info[1], nullptr, name, 0, 1, context, finalize_tsfn, context, call_js, &tsfn_) != napi_ok) {
      delete context;
      throw Napi::Error::New(env, "napi_create_threadsafe_function failed");
    }
    shared_->sink.tsfn = tsfn_;
    try {
      shared_->engine = std::make_unique<Engine>(options, shared_->sink);
    } catch (const EngineError& e) {
      Shutdown();
      throw to_js_error(env, e);
    }
  }

  ~MediaEngineHandle() override { Shutdown(); }

 private:
  /// Stops the engine (joining its threads), then releases the function: no event after this.
  bool Shutdown(AudioError* error = nullptr) noexcept {
    if (!shared_ || shared_->closed) return true;
    shared_->closed = true;
    AudioError local;
    bool ok = true;
    if (shared_->engine) ok = shared_->engine->shutdown(error != nullptr ? *error : local);
    shared_->sink.tsfn = nullptr;
    if (!shared_->tsfn_finalized) napi_release_threadsafe_function(tsfn_, napi_tsfn_abort);
    return ok;
  }

  Engine& engine(Napi::Env env) const {
    if (shared_->closed || !shared_->engine) {
      Napi::Error error = Napi::Error::New(env, "the media engine is closed");
      error.Set("code", Napi::String::New(env, "ERR_MEDIA_CLOSED"));
      throw error;
    }
    return *shared_->engine;
  }

  static uint32_t stream_id(const Napi::CallbackInfo& info) {
    if (!info[0].IsNumber()) throw Napi::TypeError::New(info.Env(), "streamId must be a number");
    return info[0].As<Napi::Number>().Uint32Value();
  }

  /// Runs an engine call, turning EngineError into a JS error with its code.
  template <typename F>
  static auto guarded(Napi::Env env, F&& f) -> decltype(f()) {
    try {
      return f();
    } catch (const EngineError& e) {
      throw to_js_error(env, e);
    }
  }

  Napi::Value Closed(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), !shared_ || shared_->closed); }
  Napi::Value Clock(const Napi::CallbackInfo& info) {
    const bool virt = shared_->engine && shared_->engine->clock() == ClockMode::kVirtual;
    return Napi::String::New(info.Env(), virt ? "virtual" : "realtime");
  }
  Napi::Value SampleRate(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), shared_->engine ? shared_->engine->sample_rate_hz() : 0);
  }

  // createStream(options: NativeStreamOptions): { id, localRtpPort, localRtcpPort, localSsrc }
  Napi::Value CreateStream(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Engine& e = engine(env);
    if (!info[0].IsObject()) throw Napi::TypeError::New(env, "options must be an object");
    const StreamConfig config = parse_stream(Reader(info[0].As<Napi::Object>(), ""));
    const StreamInfo s = guarded(env, [&] { return e.create_stream(config); });
    Napi::Object result = Napi::Object::New(env);
    result.Set("id", Napi::Number::New(env, s.id));
    result.Set("localRtpPort", Napi::Number::New(env, s.local_rtp_port));
    result.Set("localRtcpPort", Napi::Number::New(env, s.local_rtcp_port));
    result.Set("localSsrc", Napi::Number::New(env, s.local_ssrc));
    return result;
  }

  // updateStream(id, media: NativeStreamMedia)
  Napi::Value UpdateStream(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Engine& e = engine(env);
    const uint32_t id = stream_id(info);
    if (!info[1].IsObject()) throw Napi::TypeError::New(env, "media must be an object");
    const StreamMedia media = parse_media(Reader(info[1].As<Napi::Object>(), ""));
    guarded(env, [&] { e.update_stream(id, media); });
    return env.Undefined();
  }

  Napi::Value StartStream(const Napi::CallbackInfo& info) {
    Engine& e = engine(info.Env());
    const uint32_t id = stream_id(info);
    guarded(info.Env(), [&] { e.start_stream(id); });
    return info.Env().Undefined();
  }

  Napi::Value StopStream(const Napi::CallbackInfo& info) {
    Engine& e = engine(info.Env());
    const uint32_t id = stream_id(info);
    guarded(info.Env(), [&] { e.stop_stream(id); });
    return info.Env().Undefined();
  }

  Napi::Value CloseStream(const Napi::CallbackInfo& info) {
    Engine& e = engine(info.Env());
    const uint32_t id = stream_id(info);
    guarded(info.Env(), [&] { e.close_stream(id); });
    return info.Env().Undefined();
  }

  // sendDtmf(id, { digits, durationMs, gapMs, volumeDbm0 })
  Napi::Value SendDtmf(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Engine& e = engine(env);
    const uint32_t id = stream_id(info);
    if (!info[1].IsObject()) throw Napi::TypeError::New(env, "dtmf must be an object");
    const Reader r(info[1].As<Napi::Object>(), "dtmf");
    const std::string digits = r.string("digits", nullptr);
    const int duration = r.integer("durationMs", 100, 0, 100000);
    const int gap = r.integer("gapMs", 60, 0, 100000);
    const int volume = r.integer("volumeDbm0", -10, -100, 100);
    guarded(env, [&] { e.send_dtmf(id, digits, duration, gap, volume); });
    return env.Undefined();
  }

  Napi::Value GetStats(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Engine& e = engine(env);
    const uint32_t id = stream_id(info);
    const StreamStats s = guarded(env, [&] { return e.stream_stats(id); });
    return stats_object(env, s);
  }

  // playTone(spec: NativeToneSpec)
  Napi::Value PlayTone(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Engine& e = engine(env);
    if (!info[0].IsObject()) throw Napi::TypeError::New(env, "tone must be an object");
    ToneSpec spec = parse_tone(Reader(info[0].As<Napi::Object>(), "tone"), e.sample_rate_hz());
    guarded(env, [&] { e.play_tone(std::move(spec)); });
    return env.Undefined();
  }

  // ringTone(spec: NativeToneSpec): the ringer's cadence.
  Napi::Value RingTone(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Engine& e = engine(env);
    if (!info[0].IsObject()) throw Napi::TypeError::New(env, "ring must be an object");
    ToneSpec spec = parse_tone(Reader(info[0].As<Napi::Object>(), "ring"), e.sample_rate_hz());
    guarded(env, [&] { e.ring_tone(std::move(spec)); });
    return env.Undefined();
  }

  // ringWav({ path, loop, gainDb })
  Napi::Value RingWav(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Engine& e = engine(env);
    if (!info[0].IsObject()) throw Napi::TypeError::New(env, "ring must be an object");
    const Reader r(info[0].As<Napi::Object>(), "ring");
    const std::string path = r.string("path", nullptr);
    const bool loop = r.boolean("loop", true);
    const double gain_db = r.number("gainDb", 0, -60, 20, false);
    guarded(env, [&] { e.ring_wav(path, loop, gain_db); });
    return env.Undefined();
  }

  Napi::Value StopRing(const Napi::CallbackInfo& info) {
    engine(info.Env()).stop_ring();
    return info.Env().Undefined();
  }

  // joinConference(streamIds: number[])
  Napi::Value JoinConference(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Engine& e = engine(env);
    if (!info[0].IsArray()) throw Napi::TypeError::New(env, "streamIds must be an array");
    Napi::Array list = info[0].As<Napi::Array>();
    std::vector<uint32_t> ids;
    for (uint32_t i = 0; i < list.Length(); ++i) {
      const Napi::Value v = list.Get(i);
      if (!v.IsNumber()) throw Napi::TypeError::New(env, "streamIds[" + std::to_string(i) + "] must be a number");
      ids.push_back(v.As<Napi::Number>().Uint32Value());
    }
    guarded(env, [&] { e.join_conference(ids); });
    return env.Undefined();
  }

  Napi::Value SplitConference(const Napi::CallbackInfo& info) {
    engine(info.Env()).split_conference();
    return info.Env().Undefined();
  }

  // setAudioPath('handset' | 'speaker' | 'headset')
  Napi::Value SetAudioPath(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Engine& e = engine(env);
    AudioPath path = AudioPath::kHandset;
    if (!info[0].IsString() || !parse_audio_path(info[0].As<Napi::String>().Utf8Value(), path)) {
      throw Napi::TypeError::New(env, "path must be 'handset', 'speaker' or 'headset'");
    }
    guarded(env, [&] { e.set_audio_path(path); });
    return env.Undefined();
  }

  // setGains({ path, micGainDb?, speakerGainDb? }): dB, clamped by the engine to −40..+20.
  Napi::Value SetGains(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Engine& e = engine(env);
    if (!info[0].IsObject()) throw Napi::TypeError::New(env, "gains must be an object");
    const Reader r(info[0].As<Napi::Object>(), "gains");
    const AudioPath path = parse_path(r, "path");
    const auto gain = [&](const char* key) -> std::optional<double> {
      if (!r.has(key)) return std::nullopt;
      return r.number(key, 0, -1e6, 1e6, false);
    };
    const std::optional<double> mic = gain("micGainDb");
    const std::optional<double> speaker = gain("speakerGainDb");
    guarded(env, [&] { e.set_gains(path, mic, speaker); });
    return env.Undefined();
  }

  // setMuted(muted: boolean)
  Napi::Value SetMuted(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Engine& e = engine(env);
    if (!info[0].IsBoolean()) throw Napi::TypeError::New(env, "muted must be a boolean");
    const bool muted = info[0].As<Napi::Boolean>().Value();
    guarded(env, [&] { e.set_muted(muted); });
    return env.Undefined();
  }

  Napi::Value GetAudioStats(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    return audio_stats_object(env, engine(env).audio_stats());
  }

  // pushCapture(pcm: Int16Array): microphone samples at the engine rate (`external` backend).
  Napi::Value PushCapture(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Engine& e = engine(env);
    if (!info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_int16_array) {
      throw Napi::TypeError::New(env, "pcm must be an Int16Array");
    }
    const Napi::Int16Array pcm = info[0].As<Napi::Int16Array>();
    guarded(env, [&] { e.push_capture(pcm.Data(), pcm.ElementLength()); });
    return env.Undefined();
  }

  Napi::Value StopTone(const Napi::CallbackInfo& info) {
    Engine& e = engine(info.Env());
    e.stop_tone();
    return info.Env().Undefined();
  }

  // advance(ms): virtual clock only; returns once the ticks of those ms have run.
  Napi::Value Advance(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Engine& e = engine(env);
    if (!info[0].IsNumber()) throw Napi::TypeError::New(env, "ms must be a number");
    const double ms = info[0].As<Napi::Number>().DoubleValue();
    if (!(ms >= 0 && ms <= 86'400'000)) throw Napi::RangeError::New(env, "ms must be from 0 to 86400000");
    guarded(env, [&] { e.advance(static_cast<int64_t>(std::llround(ms * 1000))); });
    return env.Undefined();
  }

  Napi::Value NowMs(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(engine(info.Env()).now_us()) / 1000.0);
  }

  // flushEvents(token): queues a marker behind every event posted so far; it comes back as
  // { type: 'flushed', token } once they were all delivered (the function's queue is FIFO).
  Napi::Value FlushEvents(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    engine(env);
    if (!info[0].IsNumber()) throw Napi::TypeError::New(env, "token must be a number");
    auto e = std::make_unique<Event>();
    e->kind = Event::Kind::kFlushed;
    e->token = info[0].As<Napi::Number>().DoubleValue();
    shared_->sink.post(std::move(e));
    return env.Undefined();
  }

  // ref() / unref(): whether the engine keeps the event loop alive (a new engine does, like a socket).
  Napi::Value Ref(const Napi::CallbackInfo& info) {
    if (!shared_->closed && !shared_->tsfn_finalized) napi_ref_threadsafe_function(info.Env(), tsfn_);
    return info.Env().Undefined();
  }
  Napi::Value Unref(const Napi::CallbackInfo& info) {
    if (!shared_->closed && !shared_->tsfn_finalized) napi_unref_threadsafe_function(info.Env(), tsfn_);
    return info.Env().Undefined();
  }

  // close(): joins the threads, sends RTCP BYE, closes sockets and the device; no event after it.
  // Throws (ERR_MEDIA_DEVICE) when the device could not be closed cleanly, after closing the rest.
  Napi::Value Close(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    AudioError error;
    if (!Shutdown(&error)) {
      throw to_js_error(env, EngineError("ERR_MEDIA_DEVICE", error.message, error.err, "close", error.device));
    }
    return env.Undefined();
  }

  std::shared_ptr<Shared> shared_;
  napi_threadsafe_function tsfn_ = nullptr;
};

/// A speexdsp sample-rate converter for JS (resampler.h): audio that crosses pushCapture() and the
/// playback events at another rate (a browser's AudioContext runs at 44.1 or 48 kHz).
class ResamplerHandle : public Napi::ObjectWrap<ResamplerHandle> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Resampler",
                       {
                           InstanceAccessor<&ResamplerHandle::InRate>("inRateHz", napi_enumerable),
                           InstanceAccessor<&ResamplerHandle::OutRate>("outRateHz", napi_enumerable),
                           InstanceMethod<&ResamplerHandle::Process>("process"),
                           InstanceMethod<&ResamplerHandle::Reset>("reset"),
                       });
  }

  // new Resampler({ inRateHz, outRateHz, quality }): only through engine.createResampler().
  explicit ResamplerHandle(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ResamplerHandle>(info) {
    Napi::Env env = info.Env();
    if (!info[0].IsObject()) throw Napi::TypeError::New(env, "options must be an object");
    const Reader r(info[0].As<Napi::Object>(), "");
    const int in = r.integer("inRateHz", 0, 1000, 384000);
    const int out = r.integer("outRateHz", 0, 1000, 384000);
    const int quality = r.integer("quality", 5, 0, 10);
    try {
      resampler_ = std::make_unique<Resampler>(in, out, quality);
    } catch (const std::exception& e) {
      throw Napi::Error::New(env, e.what());
    }
  }

 private:
  Napi::Value InRate(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), resampler_->in_rate()); }
  Napi::Value OutRate(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), resampler_->out_rate()); }

  // process(pcm: Int16Array): Int16Array, the converted samples (the filter's state carries over).
  Napi::Value Process(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_int16_array) {
      throw Napi::TypeError::New(env, "pcm must be an Int16Array");
    }
    const Napi::Int16Array pcm = info[0].As<Napi::Int16Array>();
    scratch_.clear();
    resampler_->process(pcm.Data(), pcm.ElementLength(), scratch_);
    Napi::Int16Array out = Napi::Int16Array::New(env, scratch_.size());
    if (!scratch_.empty()) std::memcpy(out.Data(), scratch_.data(), scratch_.size() * sizeof(int16_t));
    return out;
  }

  Napi::Value Reset(const Napi::CallbackInfo& info) {
    resampler_->reset();
    return info.Env().Undefined();
  }

  std::unique_ptr<Resampler> resampler_;
  std::vector<int16_t> scratch_;
};

struct Exports {
  Napi::FunctionReference constructor;
  Napi::FunctionReference resampler;
};

// engine.create(options, onEvent)
Napi::Value Create(const Napi::CallbackInfo& info) {
  auto* exports = static_cast<Exports*>(info.Data());
  return exports->constructor.New({info[0], info[1]});
}

// engine.codecs() / engine.audioBackends(): the registries' names.
Napi::Value names_array(Napi::Env env, const std::vector<std::string>& names) {
  Napi::Array array = Napi::Array::New(env, names.size());
  for (uint32_t i = 0; i < names.size(); ++i) array.Set(i, Napi::String::New(env, names[i]));
  return array;
}

// engine.createResampler({ inRateHz, outRateHz, quality })
Napi::Value CreateResampler(const Napi::CallbackInfo& info) {
  auto* exports = static_cast<Exports*>(info.Data());
  return exports->resampler.New({info[0]});
}

Napi::Value Codecs(const Napi::CallbackInfo& info) { return names_array(info.Env(), codec_name_list()); }

Napi::Value AudioBackends(const Napi::CallbackInfo& info) { return names_array(info.Env(), audio_backend_name_list()); }

}  // namespace

Napi::Object make_exports(Napi::Env env) {
  auto* exports = new Exports{Napi::Persistent(MediaEngineHandle::Define(env)), Napi::Persistent(ResamplerHandle::Define(env))};
  env.AddCleanupHook([exports]() { delete exports; });
  Napi::Object part = Napi::Object::New(env);
  part.DefineProperties({
      Napi::PropertyDescriptor::Value("create", Napi::Function::New(env, Create, "create", exports), napi_enumerable),
      Napi::PropertyDescriptor::Value("createResampler", Napi::Function::New(env, CreateResampler, "createResampler", exports), napi_enumerable),
      Napi::PropertyDescriptor::Value("codecs", Napi::Function::New(env, Codecs, "codecs"), napi_enumerable),
      Napi::PropertyDescriptor::Value("audioBackends", Napi::Function::New(env, AudioBackends, "audioBackends"), napi_enumerable),
  });
  part.Freeze();
  return part;
}

}  // namespace offhook::engine
