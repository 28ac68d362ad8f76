// The engine core: construction (device, media thread), the media tick (audio, RTP in and out), control calls, shutdown.
#include "engine/engine.h"

#include <pthread.h>
#include <time.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <random>
#include <system_error>

#include "engine/engine-error.h"
#include "engine/resampler.h"
#include "engine/wav.h"

namespace offhook::engine {
namespace {

/// Seconds from the NTP epoch (1900) to the Unix epoch (1970), RFC 868 / RFC 3550 §4.
constexpr uint64_t kNtpUnixOffset = 2208988800ULL;
/// A tick that starts more than this many periods late makes the clock skip ahead instead of
/// bursting through the backlog (after a suspend, or a debugger stop).
constexpr int64_t kMaxLatePeriods = 5;
/// A tick takes the datagrams that arrived up to this long after its time (its own wake-up latency),
/// never later ones: run late (deferred, or on a loaded machine), it sees what it would have on time.
constexpr int64_t kArrivalGraceUs = 1000;

uint64_t ntp_now() {
  const auto since_epoch = std::chrono::system_clock::now().time_since_epoch();
  const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(since_epoch).count();
  const uint64_t seconds = static_cast<uint64_t>(micros / 1'000'000) + kNtpUnixOffset;
  const uint64_t fraction = (static_cast<uint64_t>(micros % 1'000'000) << 32) / 1'000'000;
  return (seconds << 32) | fraction;
}

/// Scales a period by a gain going linearly from `from` (first sample) to `to` (last): a change of
/// volume or the mute without a step in the waveform (a click). Unity throughout leaves it untouched.
template <typename Sample>
void ramp_gain(Sample* samples, size_t frames, double from, double to, int32_t lo, int32_t hi) noexcept {
  if (from == 1.0 && to == 1.0) return;
  const double step = frames > 1 ? (to - from) / static_cast<double>(frames - 1) : 0.0;
  for (size_t i = 0; i < frames; ++i) {
    const double g = frames > 1 ? from + step * static_cast<double>(i) : to;
    const double v = std::lround(static_cast<double>(samples[i]) * g);
    samples[i] = static_cast<Sample>(std::clamp(v, static_cast<double>(lo), static_cast<double>(hi)));
  }
}

double db_to_linear(double db) noexcept { return std::pow(10.0, db / 20.0); }

uint64_t random_seed() {
  std::random_device device;
  return (static_cast<uint64_t>(device()) << 32) ^ device();
}

}  // namespace

Engine::Engine(const EngineOptions& options, EventSink& events)
    : clock_(options.clock),
      events_(events),
      random_(options.has_seed ? options.seed : random_seed()),
      processing_options_(options.processing),
      origin_(std::chrono::steady_clock::now()),
      tones_(options.sample_rate_hz),
      ring_(options.sample_rate_hz),
      processor_(options.sample_rate_hz, static_cast<size_t>(std::max(options.sample_rate_hz, 100) / 100)),
      path_(options.processing.path) {
  const int rate = options.sample_rate_hz;
  if (rate != 8000 && rate != 16000 && rate != 32000 && rate != 48000) {
    throw EngineError("ERR_MEDIA_CONFIG", "sampleRateHz must be 8000, 16000, 32000 or 48000");
  }
  context_.sample_rate_hz = rate;
  context_.period_frames = static_cast<size_t>(rate / 100);
  context_.stats_interval_us = options.stats_interval_us;
  context_.ntp_epoch = ntp_now();
  context_.random = &random_;
  context_.events = &events_;
  capture_.assign(context_.period_frames, 0);
  playback_.assign(context_.period_frames, 0);
  mix_.assign(context_.period_frames, 0);
  leg_send_.assign(context_.period_frames, 0);
  conference_sum_.assign(context_.period_frames, 0);
  try {
    processor_.configure(processing_options_.paths[static_cast<size_t>(path_)]);
  } catch (const std::exception& e) {
    throw EngineError("ERR_MEDIA_CONFIG", std::string("audio processing (speexdsp): ") + e.what());
  }

  const AudioBackendInfo* info = find_audio_backend(options.audio.name);
  if (info == nullptr) {
    throw EngineError("ERR_MEDIA_CONFIG", "unknown audio backend '" + options.audio.name + "' (the engine has " + audio_backend_names() + ")");
  }
  backend_ = info->create();
  AudioBackendOptions audio = options.audio;
  audio.sample_rate_hz = rate;
  audio.period_frames = context_.period_frames;
  audio.virtual_clock = clock_ == ClockMode::kVirtual;
  AudioError error;
  if (!backend_->open(audio, error)) {
    throw EngineError("ERR_MEDIA_DEVICE", std::string(backend_->name()) + " audio backend: " + error.message +
                                              (error.err != 0 ? std::string(" (") + std::strerror(error.err) + ")" : ""),
                      error.err, "open", error.device);
  }
  external_ = backend_->external();
  if (external_ != nullptr) playback_batch_.reserve(external_->playback_batch_frames());

  try {
    if (clock_ == ClockMode::kRealtime) {
      media_thread_ = std::thread([this] { media_loop_realtime(); });
    } else {
      media_thread_ = std::thread([this] { media_loop_virtual(); });
    }
  } catch (const std::system_error& e) {
    AudioError ignored;
    shutdown(ignored);
    throw EngineError("ERR_MEDIA_SYSTEM", std::string("cannot start the engine's threads: ") + e.what(), e.code().value(), "pthread_create");
  }
}

Engine::~Engine() {
  AudioError ignored;
  shutdown(ignored);
}

int64_t Engine::now_us() const noexcept {
  if (clock_ == ClockMode::kVirtual) return virtual_now_.load();
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - origin_).count();
}

// ---------------------------------------------------------------------------------------------------
// Threads

void Engine::media_loop_realtime() noexcept {
  pthread_setname_np(pthread_self(), "offhook-media");
  const int64_t origin_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(origin_.time_since_epoch()).count();
  int64_t next = now_us();  // the tick to run next (engine time)
  int64_t wake = next;      // when to run it: later than `next` when it was deferred
  while (!stop_) {
    const bool device_clock = backend_->paces_itself();
    if (!device_clock) {
      // steady_clock is CLOCK_MONOTONIC: sleep to an absolute time, one system call per wake-up.
      const int64_t at_ns = origin_ns + wake * 1000;
      const timespec at = {static_cast<time_t>(at_ns / 1'000'000'000), static_cast<long>(at_ns % 1'000'000'000)};
      while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &at, nullptr) == EINTR) {
      }
      if (stop_) break;
    }
    const int64_t actual = now_us();
    if (device_clock) next = wake = actual;
    if (actual - wake > period_us_) {
      std::lock_guard<std::mutex> guard(mutex_);
      ++context_.late_ticks;
    }
    if (actual - wake > kMaxLatePeriods * period_us_) next = wake = actual;
    // The deferred tick first (its period's audio and no time-critical work), then the one due now.
    while (next <= wake) {
      tick(next);
      next += period_us_;
    }
    wake = next;
    // On a backend without a device clock (file, null), a period in which no packet is sent runs
    // together with the next one, under its own time: one wake-up instead of two (Stream::due).
    if (!device_clock && backend_->defers_ticks() && !tick_due()) wake = next + period_us_;
  }
}

bool Engine::tick_due() noexcept {
  std::lock_guard<std::mutex> guard(mutex_);
  for (const auto& s : streams_) {
    if (s->due()) return true;
  }
  return false;
}

void Engine::media_loop_virtual() noexcept {
  pthread_setname_np(pthread_self(), "offhook-media");
  std::unique_lock<std::mutex> lock(clock_mutex_);
  for (;;) {
    clock_cv_.wait(lock, [this] { return stop_.load() || next_tick_us_ < target_us_; });
    if (stop_) break;
    while (!stop_ && next_tick_us_ < target_us_) {
      const int64_t t = next_tick_us_;
      lock.unlock();
      virtual_now_ = t;
      tick(t);
      lock.lock();
      next_tick_us_ += period_us_;
    }
    done_cv_.notify_all();
  }
  done_cv_.notify_all();
}

void Engine::receive_all(int64_t now) noexcept {
  ArrivalClock clock;
  clock.tick_us = now;
  if (clock_ == ClockMode::kVirtual) {
    clock.now_us = now;  // the virtual clock has no time between ticks
  } else {
    timespec wall{};
    clock_gettime(CLOCK_REALTIME, &wall);
    clock.now_us = now_us();
    clock.realtime_ns = static_cast<int64_t>(wall.tv_sec) * 1'000'000'000 + wall.tv_nsec;
    clock.cutoff_us = now + kArrivalGraceUs;
  }
  const bool virtual_clock = clock_ == ClockMode::kVirtual;
  for (const auto& s : streams_) {
    if (virtual_clock || s->reads_rtp(now)) s->receive(s->rtp_fd(), clock);
    if (s->rtcp_fd() >= 0 && (virtual_clock || s->reads_rtcp(now))) s->receive(s->rtcp_fd(), clock);
  }
}

void Engine::tick(int64_t now) noexcept {
  const size_t frames = context_.period_frames;
  AudioError error;
  const bool captured = backend_->read(capture_.data(), frames, error);
  if (!captured) {
    std::fill(capture_.begin(), capture_.end(), int16_t{0});
    if (!capture_failed_) device_error(error, true, now);
    capture_failed_ = true;
  } else {
    capture_failed_ = false;
  }
  {
    std::lock_guard<std::mutex> guard(mutex_);
    // What arrived since the last tick (after the capture read, which may have blocked on the device).
    receive_all(now);
    context_.capture_xruns = backend_->capture_xruns();
    context_.playback_xruns = backend_->playback_xruns();
    // The echo canceller sees the microphone and what the speaker played in the previous period
    // (plus the device's own output latency); then noise suppression and AGC (audio-processing.h).
    if (captured) processor_.process(capture_.data(), playback_.data(), frames, backend_->echo_delay_frames());
    // The path's microphone gain (or the mute) on the processed capture: what every stream and the
    // conference legs get. The echo canceller above saw the microphone as it is.
    const PathGains& gains = gains_[static_cast<size_t>(path_)];
    const double mic_target = muted_ ? 0.0 : db_to_linear(gains.mic_db);
    ramp_gain(capture_.data(), frames, mic_gain_, mic_target, -32768, 32767);
    mic_gain_ = mic_target;
    mix_streams(now);
    if (tones_.render(mix_.data(), frames)) {
      try {
        auto e = std::make_unique<Event>();
        e->kind = Event::Kind::kToneEnded;
        post_event(std::move(e), now);
      } catch (const std::bad_alloc&) {
      }
    }
    // The listening volume: the far ends and the tones; the ringer, mixed in after it, has its own level.
    const double speaker_target = db_to_linear(gains.speaker_db);
    ramp_gain(mix_.data(), frames, speaker_gain_, speaker_target, -(1 << 30), 1 << 30);
    speaker_gain_ = speaker_target;
    ring_.render(mix_.data(), frames);
    for (size_t i = 0; i < frames; ++i) playback_[i] = static_cast<int16_t>(std::clamp(mix_[i], -32768, 32767));
    for (const auto& s : streams_) s->on_timers(now);
  }
  const bool played = backend_->write(playback_.data(), frames, error);
  if (!played) {
    if (!playback_failed_) device_error(error, false, now);
    playback_failed_ = true;
  } else {
    playback_failed_ = false;
  }
  if (external_ != nullptr) deliver_playback(now);
  device_events(captured && played, now);
}

void Engine::deliver_playback(int64_t now) noexcept {
  if (!external_->take_playback(playback_batch_)) return;
  // JS takes batches as its event loop runs; while it is stalled they are dropped, not queued up.
  if (playback_pending_->load() >= static_cast<int>(external_->max_pending_batches())) {
    external_->playback_dropped(playback_batch_.size());
    return;
  }
  try {
    auto e = std::make_unique<Event>();
    e->kind = Event::Kind::kPlayback;
    e->pcm.assign(playback_batch_.begin(), playback_batch_.end());
    e->sample_rate_hz = context_.sample_rate_hz;
    e->pending = PendingToken(playback_pending_);
    post_event(std::move(e), now);
  } catch (const std::bad_alloc&) {
    external_->playback_dropped(playback_batch_.size());
  }
}

void Engine::mix_streams(int64_t now) noexcept {
  const size_t frames = context_.period_frames;
  const size_t legs = std::min(streams_.size(), legs_.size());
  std::fill(mix_.begin(), mix_.end(), 0);
  std::fill(conference_sum_.begin(), conference_sum_.end(), 0);
  // Play-out first, each stream into its own buffer: a conference leg sends what the others play.
  for (size_t i = 0; i < legs; ++i) {
    std::vector<int32_t>& leg = legs_[i];
    std::fill(leg.begin(), leg.end(), 0);
    streams_[i]->render(leg.data(), frames, now);
    in_conference_[i] = std::find(conference_.begin(), conference_.end(), streams_[i]->id()) != conference_.end();
    for (size_t k = 0; k < frames; ++k) mix_[k] += leg[k];
    if (in_conference_[i]) {
      for (size_t k = 0; k < frames; ++k) conference_sum_[k] += leg[k];
    }
  }
  for (size_t i = 0; i < streams_.size(); ++i) {
    if (i >= legs || !in_conference_[i]) {
      streams_[i]->on_capture(capture_.data(), frames, now);
      continue;
    }
    // Mix-minus: the local phone is the mixer of RFC 7667's Topo-Mixer, and each leg gets the
    // microphone plus every other leg, never its own audio (which its talker would hear as an echo).
    const std::vector<int32_t>& own = legs_[i];
    for (size_t k = 0; k < frames; ++k) {
      leg_send_[k] = static_cast<int16_t>(std::clamp(capture_[k] + conference_sum_[k] - own[k], -32768, 32767));
    }
    streams_[i]->on_capture(leg_send_.data(), frames, now);
  }
}

void Engine::post_event(std::unique_ptr<Event> event, int64_t now) noexcept {
  event->engine_time_ms = static_cast<double>(now) / 1000.0;
  events_.post(std::move(event));
}

void Engine::device_error(const AudioError& error, bool capture, int64_t now) noexcept {
  try {
    auto e = std::make_unique<Event>();
    e->kind = Event::Kind::kDeviceError;
    e->err = error.err;
    e->message = std::string(backend_->name()) + (capture ? " capture: " : " playback: ") + error.message;
    e->device = error.device;
    last_error_device_ = error.device;
    post_event(std::move(e), now);
  } catch (const std::bad_alloc&) {
  }
}

void Engine::device_events(bool ok, int64_t now) noexcept {
  AudioDeviceInfo info;
  bool opened = false;
  try {
    opened = backend_->take_opened(info);
  } catch (const std::bad_alloc&) {
  }
  std::lock_guard<std::mutex> guard(mutex_);
  try {
    if (opened) {
      has_device_info_ = true;
      device_info_ = info;
      auto e = std::make_unique<Event>();
      e->kind = Event::Kind::kDeviceOpened;
      e->device_info = std::move(info);
      post_event(std::move(e), now);
    }
    if (!ok && device_ok_) {
      device_ok_ = false;
      device_down_since_us_ = now;
      ++device_errors_;
    } else if (ok && !device_ok_) {
      device_ok_ = true;
      ++device_recoveries_;
      auto e = std::make_unique<Event>();
      e->kind = Event::Kind::kDeviceRecovered;
      e->device = last_error_device_;
      e->down_ms = static_cast<double>(now - device_down_since_us_) / 1000.0;
      post_event(std::move(e), now);
    }
  } catch (const std::bad_alloc&) {
  }
}

// ---------------------------------------------------------------------------------------------------
// Control (JS thread)

void Engine::check_open() const {
  if (stop_) throw EngineError("ERR_MEDIA_CLOSED", "the media engine is closed");
}

std::shared_ptr<Stream> Engine::find(uint32_t id) const {
  for (const auto& s : streams_) {
    if (s->id() == id) return s;
  }
  throw EngineError("ERR_MEDIA_NO_STREAM", "no stream " + std::to_string(id) + " (closed, or never created)");
}

StreamInfo Engine::create_stream(const StreamConfig& config) {
  check_open();
  std::lock_guard<std::mutex> guard(mutex_);
  auto stream = std::make_shared<Stream>(next_stream_id_, config, context_);
  ++next_stream_id_;
  legs_.reserve(streams_.size() + 1);
  in_conference_.reserve(streams_.size() + 1);
  streams_.reserve(streams_.size() + 1);
  legs_.emplace_back(context_.period_frames, 0);
  in_conference_.push_back(false);
  streams_.push_back(stream);
  return {stream->id(), stream->local_rtp_port(), stream->local_rtcp_port(), stream->local_ssrc()};
}

void Engine::update_stream(uint32_t id, const StreamMedia& media) {
  check_open();
  std::lock_guard<std::mutex> guard(mutex_);
  find(id)->update(media, now_us());
}

void Engine::start_stream(uint32_t id) {
  check_open();
  std::lock_guard<std::mutex> guard(mutex_);
  const std::shared_ptr<Stream> stream = find(id);
  // The virtual clock reads every socket in every tick: nothing of before start() is left waiting.
  if (!stream->started() && clock_ != ClockMode::kVirtual) stream->discard_waiting();
  stream->start(now_us());
}

void Engine::stop_stream(uint32_t id) {
  check_open();
  std::lock_guard<std::mutex> guard(mutex_);
  find(id)->stop(now_us());
}

void Engine::close_stream(uint32_t id) {
  check_open();
  std::lock_guard<std::mutex> guard(mutex_);
  auto stream = find(id);
  stream->stop(now_us());
  streams_.erase(std::remove(streams_.begin(), streams_.end(), stream), streams_.end());
  legs_.resize(streams_.size());
  in_conference_.resize(streams_.size());
  conference_.erase(std::remove(conference_.begin(), conference_.end(), id), conference_.end());
  if (conference_.size() < 2) conference_.clear();  // one leg left is a plain call
}

void Engine::send_dtmf(uint32_t id, const std::string& digits, int duration_ms, int gap_ms, int volume_dbm0) {
  check_open();
  std::lock_guard<std::mutex> guard(mutex_);
  find(id)->send_dtmf(digits, duration_ms, gap_ms, volume_dbm0);
}

StreamStats Engine::stream_stats(uint32_t id) {
  std::lock_guard<std::mutex> guard(mutex_);
  return find(id)->stats(now_us());
}

void Engine::play_tone(ToneSpec spec) {
  check_open();
  std::lock_guard<std::mutex> guard(mutex_);
  tones_.play(std::move(spec));
}

void Engine::stop_tone() {
  std::lock_guard<std::mutex> guard(mutex_);
  tones_.stop();
}

void Engine::ring_tone(ToneSpec spec) {
  check_open();
  std::lock_guard<std::mutex> guard(mutex_);
  ring_.play_tone(std::move(spec));
}

void Engine::ring_samples(std::vector<int16_t> samples, bool loop, double gain) {
  check_open();
  std::lock_guard<std::mutex> guard(mutex_);
  ring_.play_samples(std::move(samples), loop, gain);
}

void Engine::ring_wav(const std::string& path, bool loop, double gain_db) {
  check_open();
  wav::Audio audio;
  std::string message;
  int err = 0;
  if (!wav::read(path, audio, message, err)) {
    throw EngineError(err != 0 ? "ERR_MEDIA_SYSTEM" : "ERR_MEDIA_CONFIG", "ring wav " + path + ": " + message, err, "open", path);
  }
  std::vector<int16_t> samples;
  if (audio.sample_rate_hz != context_.sample_rate_hz) {
    Resampler resampler(audio.sample_rate_hz, context_.sample_rate_hz);
    resampler.process(audio.samples.data(), audio.samples.size(), samples);
  } else {
    samples = std::move(audio.samples);
  }
  if (samples.empty()) throw EngineError("ERR_MEDIA_CONFIG", "ring wav " + path + ": no samples");
  ring_samples(std::move(samples), loop, std::pow(10.0, gain_db / 20.0));
}

void Engine::stop_ring() {
  std::lock_guard<std::mutex> guard(mutex_);
  ring_.stop();
}

void Engine::join_conference(const std::vector<uint32_t>& ids) {
  check_open();
  if (ids.size() < 2) throw EngineError("ERR_MEDIA_CONFIG", "a conference needs at least 2 streams");
  std::lock_guard<std::mutex> guard(mutex_);
  for (size_t i = 0; i < ids.size(); ++i) {
    find(ids[i]);
    if (std::find(ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(i), ids[i]) != ids.begin() + static_cast<std::ptrdiff_t>(i)) {
      throw EngineError("ERR_MEDIA_CONFIG", "stream " + std::to_string(ids[i]) + " is named twice in the conference");
    }
  }
  conference_ = ids;
}

void Engine::split_conference() {
  std::lock_guard<std::mutex> guard(mutex_);
  conference_.clear();
}

void Engine::set_audio_path(AudioPath path) {
  check_open();
  std::lock_guard<std::mutex> guard(mutex_);
  try {
    processor_.configure(processing_options_.paths[static_cast<size_t>(path)]);
  } catch (const std::exception& e) {
    throw EngineError("ERR_MEDIA_SYSTEM", std::string("audio processing (speexdsp): ") + e.what());
  }
  path_ = path;
}

void Engine::set_gains(AudioPath path, std::optional<double> mic_db, std::optional<double> speaker_db) {
  check_open();
  const auto clamp_db = [](double db) { return std::isfinite(db) ? std::clamp(db, kMinGainDb, kMaxGainDb) : 0.0; };
  std::lock_guard<std::mutex> guard(mutex_);
  PathGains& g = gains_[static_cast<size_t>(path)];
  if (mic_db) g.mic_db = clamp_db(*mic_db);
  if (speaker_db) g.speaker_db = clamp_db(*speaker_db);
}

void Engine::set_muted(bool muted) {
  check_open();
  std::lock_guard<std::mutex> guard(mutex_);
  muted_ = muted;
}

AudioStats Engine::audio_stats() const {
  std::lock_guard<std::mutex> guard(mutex_);
  AudioStats a;
  a.backend = backend_->name();
  a.path = path_;
  a.device_ok = device_ok_;
  a.has_device_info = has_device_info_;
  a.device_info = device_info_;
  a.capture_xruns = context_.capture_xruns;
  a.playback_xruns = context_.playback_xruns;
  a.late_ticks = context_.late_ticks;
  a.device_errors = device_errors_;
  a.device_recoveries = device_recoveries_;
  a.conference = conference_;
  if (external_ != nullptr) {
    a.has_external = true;
    a.external = external_->stats();
  }
  return a;
}

void Engine::push_capture(const int16_t* pcm, size_t frames) {
  check_open();
  if (external_ == nullptr) {
    throw EngineError("ERR_MEDIA_STATE", std::string("pushCapture() needs the 'external' audio backend (this engine has '") + backend_->name() + "')");
  }
  external_->push_capture(pcm, frames);
}

void Engine::advance(int64_t us) {
  if (clock_ != ClockMode::kVirtual) throw EngineError("ERR_MEDIA_STATE", "advance() needs an engine created with clock: 'virtual'");
  if (us < 0) throw EngineError("ERR_MEDIA_CONFIG", "advance() takes a duration of 0 ms or more");
  check_open();
  std::unique_lock<std::mutex> lock(clock_mutex_);
  target_us_ += us;
  clock_cv_.notify_all();
  done_cv_.wait(lock, [this] { return stop_.load() || next_tick_us_ >= target_us_; });
  virtual_now_ = target_us_;
}

bool Engine::shutdown(AudioError& error) noexcept {
  if (shut_down_) return true;
  shut_down_ = true;
  {
    std::lock_guard<std::mutex> lock(clock_mutex_);
    stop_ = true;
  }
  clock_cv_.notify_all();
  done_cv_.notify_all();
  if (media_thread_.joinable()) media_thread_.join();
  {
    std::lock_guard<std::mutex> guard(mutex_);
    const int64_t now = now_us();
    for (const auto& s : streams_) s->stop(now);  // RTCP BYE (RFC 3550 §6.6)
    streams_.clear();
  }
  return backend_ ? backend_->close(error) : true;
}

}  // namespace offhook::engine
