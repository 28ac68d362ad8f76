// The engine core: construction (device, threads), the media tick, the network thread, control calls, shutdown.
#include "engine/engine.h"

#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <random>
#include <system_error>

#include "engine/engine-error.h"

namespace offhook::engine {
namespace {

/// Seconds from the NTP epoch (1900) to the Unix epoch (1970), RFC 868 / RFC 3550 §4.
constexpr uint64_t kNtpUnixOffset = 2208988800ULL;
/// A tick that starts more than this many periods late makes the clock skip ahead instead of
/// bursting through the backlog (after a suspend, or a debugger stop).
constexpr int64_t kMaxLatePeriods = 5;

class PassThroughEchoCanceller final : public EchoCanceller {
 public:
  void process(int16_t* /*capture*/, const int16_t* /*playback*/, size_t /*frames*/) noexcept override {}
};

uint64_t ntp_now() {
  const auto since_epoch = std::chrono::system_clock::now().time_since_epoch();
  const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(since_epoch).count();
  const uint64_t seconds = static_cast<uint64_t>(micros / 1'000'000) + kNtpUnixOffset;
  const uint64_t fraction = (static_cast<uint64_t>(micros % 1'000'000) << 32) / 1'000'000;
  return (seconds << 32) | fraction;
}

uint64_t random_seed() {
  std::random_device device;
  return (static_cast<uint64_t>(device()) << 32) ^ device();
}

}  // namespace

Engine::Engine(const EngineOptions& options, EventSink& events)
    : clock_(options.clock),
      events_(events),
      random_(options.has_seed ? options.seed : random_seed()),
      origin_(std::chrono::steady_clock::now()),
      tones_(options.sample_rate_hz) {
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

  const AudioBackendInfo* info = find_audio_backend(options.audio.name);
  if (info == nullptr) {
    throw EngineError("ERR_MEDIA_CONFIG", "unknown audio backend '" + options.audio.name + "' (the engine has " + audio_backend_names() + ")");
  }
  backend_ = info->create();
  AudioBackendOptions audio = options.audio;
  audio.sample_rate_hz = rate;
  audio.period_frames = context_.period_frames;
  AudioError error;
  if (!backend_->open(audio, error)) {
    throw EngineError("ERR_MEDIA_DEVICE", std::string(backend_->name()) + " audio backend: " + error.message +
                                              (error.err != 0 ? std::string(" (") + std::strerror(error.err) + ")" : ""),
                      error.err, "open", error.device);
  }
  echo_ = std::make_unique<PassThroughEchoCanceller>();

  wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake_fd_ < 0) {
    const int err = errno;
    AudioError ignored;
    backend_->close(ignored);
    throw EngineError("ERR_MEDIA_SYSTEM", std::string("eventfd: ") + std::strerror(err), err, "eventfd");
  }
  try {
    if (clock_ == ClockMode::kRealtime) {
      media_thread_ = std::thread([this] { media_loop_realtime(); });
      network_thread_ = std::thread([this] { network_loop(); });
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
  int64_t next = now_us();
  std::unique_lock<std::mutex> lock(clock_mutex_);
  while (!stop_) {
    if (!backend_->paces_itself()) {
      clock_cv_.wait_until(lock, origin_ + std::chrono::microseconds(next), [this] { return stop_.load(); });
      if (stop_) break;
    }
    lock.unlock();
    const int64_t actual = now_us();
    if (backend_->paces_itself()) next = actual;
    if (actual - next > period_us_) {
      std::lock_guard<std::mutex> guard(mutex_);
      ++context_.late_ticks;
    }
    if (actual - next > kMaxLatePeriods * period_us_) next = actual;
    tick(next);
    next += period_us_;
    lock.lock();
  }
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

void Engine::network_loop() noexcept {
  pthread_setname_np(pthread_self(), "offhook-rtp-rx");
  std::vector<pollfd> fds;
  std::vector<std::shared_ptr<Stream>> owners;  // keeps each polled stream (and its fds) alive
  auto clock = [](const void* self) { return static_cast<const Engine*>(self)->now_us(); };
  while (!stop_) {
    {
      std::lock_guard<std::mutex> guard(mutex_);
      fds.clear();
      owners.clear();
      fds.push_back({wake_fd_, POLLIN, 0});
      owners.push_back(nullptr);
      for (const auto& s : streams_) {
        fds.push_back({s->rtp_fd(), POLLIN, 0});
        owners.push_back(s);
        if (s->rtcp_fd() >= 0) {
          fds.push_back({s->rtcp_fd(), POLLIN, 0});
          owners.push_back(s);
        }
      }
    }
    if (::poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      break;  // only EFAULT / ENOMEM: nothing sensible left to do
    }
    if (fds[0].revents != 0) {
      uint64_t value = 0;
      const ssize_t n = ::read(wake_fd_, &value, sizeof value);
      (void)n;  // a wake-up only asks for the fd list to be rebuilt (or to stop)
      continue;
    }
    std::lock_guard<std::mutex> guard(mutex_);
    for (size_t i = 1; i < fds.size(); ++i) {
      if ((fds[i].revents & POLLIN) != 0) owners[i]->receive(fds[i].fd, clock, this);
    }
  }
  std::lock_guard<std::mutex> guard(mutex_);
  owners.clear();  // a closed stream's sockets are closed here, under the lock like everywhere
}

void Engine::tick(int64_t now) noexcept {
  const size_t frames = context_.period_frames;
  AudioError error;
  if (!backend_->read(capture_.data(), frames, error)) {
    std::fill(capture_.begin(), capture_.end(), int16_t{0});
    if (!capture_failed_) device_error(error, true, now);
    capture_failed_ = true;
  } else {
    capture_failed_ = false;
  }
  {
    std::lock_guard<std::mutex> guard(mutex_);
    if (clock_ == ClockMode::kVirtual) {
      // Arrival time = this tick's time (the virtual clock has no time between ticks).
      auto at = [](const void* t) { return *static_cast<const int64_t*>(t); };
      for (const auto& s : streams_) {
        s->receive(s->rtp_fd(), at, &now);
        if (s->rtcp_fd() >= 0) s->receive(s->rtcp_fd(), at, &now);
      }
    }
    context_.capture_xruns = backend_->capture_xruns();
    context_.playback_xruns = backend_->playback_xruns();
    // The echo canceller sees the microphone and what the speaker played in the previous period.
    echo_->process(capture_.data(), playback_.data(), frames);
    for (const auto& s : streams_) s->on_capture(capture_.data(), frames, now);
    std::fill(mix_.begin(), mix_.end(), 0);
    for (const auto& s : streams_) s->render(mix_.data(), frames, now);
    if (tones_.render(mix_.data(), frames)) {
      try {
        auto e = std::make_unique<Event>();
        e->kind = Event::Kind::kToneEnded;
        e->engine_time_ms = static_cast<double>(now) / 1000.0;
        events_.post(std::move(e));
      } catch (const std::bad_alloc&) {
      }
    }
    for (size_t i = 0; i < frames; ++i) playback_[i] = static_cast<int16_t>(std::clamp(mix_[i], -32768, 32767));
    for (const auto& s : streams_) s->on_timers(now);
  }
  if (!backend_->write(playback_.data(), frames, error)) {
    if (!playback_failed_) device_error(error, false, now);
    playback_failed_ = true;
  } else {
    playback_failed_ = false;
  }
}

void Engine::device_error(const AudioError& error, bool capture, int64_t now) noexcept {
  try {
    auto e = std::make_unique<Event>();
    e->kind = Event::Kind::kDeviceError;
    e->engine_time_ms = static_cast<double>(now) / 1000.0;
    e->err = error.err;
    e->message = std::string(backend_->name()) + (capture ? " capture: " : " playback: ") + error.message;
    e->device = error.device;
    events_.post(std::move(e));
  } catch (const std::bad_alloc&) {
  }
}

void Engine::wake_network() noexcept {
  if (wake_fd_ < 0) return;
  const uint64_t one = 1;
  const ssize_t n = ::write(wake_fd_, &one, sizeof one);
  (void)n;  // only fails when the counter is about to overflow, and then it is readable anyway
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
  streams_.push_back(stream);
  wake_network();
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
  find(id)->start(now_us());
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
  wake_network();
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
  wake_network();
  if (media_thread_.joinable()) media_thread_.join();
  if (network_thread_.joinable()) network_thread_.join();
  {
    std::lock_guard<std::mutex> guard(mutex_);
    const int64_t now = now_us();
    for (const auto& s : streams_) s->stop(now);  // RTCP BYE (RFC 3550 §6.6)
    streams_.clear();
  }
  if (wake_fd_ >= 0) ::close(wake_fd_);
  wake_fd_ = -1;
  return backend_ ? backend_->close(error) : true;
}

}  // namespace offhook::engine
