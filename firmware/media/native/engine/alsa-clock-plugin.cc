// `offhook_clock`: an ALSA PCM (alsa-lib ioplug) with a real clock and no hardware: capture gives silence, playback discards, both run on CLOCK_MONOTONIC and overrun / underrun like a sound card when nobody reads or writes in time.
//
// alsa-lib's own plugins without hardware (null, file over null) have no clock: they never block and
// never xrun, so the `alsa` backend's recovery (snd_pcm_recover, both directions restarted) could not
// run without a sound card. This PCM is the missing piece, built from alsa-lib's external-plugin API
// (pcm_ioplug.h) and living in the addon itself: the `alsa` backend declares it in every engine's
// configuration (`pcm_type.offhook_clock`, see alsa-backend.cc), so that `alsaConfig` can say
//
//   pcm.clock_in { type offhook_clock }
//   pcm.mic { type file; slave.pcm clock_in; infile "mic.raw"; file "/dev/null"; format raw }
//
// and get alsa-lib's file plugin (a microphone reading a raw file) paced by a real clock.
//
// The clock: from snd_pcm_start, the hardware pointer advances by `rate` frames per second of
// CLOCK_MONOTONIC. Capture overruns when the application is more than a buffer behind it, playback
// underruns when it has played everything written; the pointer callback then returns -EPIPE and
// alsa-lib puts the PCM in the XRUN state, as the kernel does for a card. A blocking read or write
// waits on a timerfd that fires once per period.
//
// One test-only option makes the application late for real: `stall_after_ms N stall_ms M` makes the
// capture transfer (the caller's thread: the engine's media thread) sleep M ms once, N ms after the
// first start, while the clock runs on.
#include <alsa/asoundlib.h>
#include <alsa/pcm_external.h>
#include <dlfcn.h>
#include <poll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <new>
#include <string>

#include "engine/alsa-clock-plugin.h"

namespace offhook::engine {
namespace {

int64_t monotonic_ns() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

struct ClockPcm {
  snd_pcm_ioplug_t io{};
  int timer_fd = -1;
  bool running = false;
  int64_t start_ns = 0;
  /// Frames the application read or wrote since the last prepare (the application pointer).
  uint64_t transferred = 0;
  // Test knob: one stall of the capture caller.
  int64_t stall_after_ns = -1;
  int64_t stall_ns = 0;
  int64_t first_start_ns = -1;
  bool stalled = false;

  static ClockPcm* of(snd_pcm_ioplug_t* io) noexcept { return static_cast<ClockPcm*>(io->private_data); }

  bool capture() const noexcept { return io.stream == SND_PCM_STREAM_CAPTURE; }

  /// Frames the clock has moved since the start.
  uint64_t elapsed() const noexcept {
    if (!running) return 0;
    const int64_t ns = monotonic_ns() - start_ns;
    if (ns <= 0) return 0;
    const uint64_t seconds = static_cast<uint64_t>(ns / 1'000'000'000);
    const uint64_t rest_ns = static_cast<uint64_t>(ns % 1'000'000'000);
    return seconds * io.rate + rest_ns * io.rate / 1'000'000'000;
  }

  void arm(bool on) noexcept {
    itimerspec spec{};
    if (on && io.rate > 0) {
      const int64_t period_ns = static_cast<int64_t>(io.period_size) * 1'000'000'000 / io.rate;
      const int64_t first = start_ns + period_ns;
      spec.it_value = {static_cast<time_t>(first / 1'000'000'000), static_cast<long>(first % 1'000'000'000)};
      spec.it_interval = {static_cast<time_t>(period_ns / 1'000'000'000), static_cast<long>(period_ns % 1'000'000'000)};
    }
    timerfd_settime(timer_fd, on ? TFD_TIMER_ABSTIME : 0, &spec, nullptr);
  }
};

int clock_start(snd_pcm_ioplug_t* io) {
  ClockPcm* p = ClockPcm::of(io);
  p->start_ns = monotonic_ns();
  if (p->first_start_ns < 0) p->first_start_ns = p->start_ns;
  p->running = true;
  p->arm(true);
  return 0;
}

int clock_stop(snd_pcm_ioplug_t* io) {
  ClockPcm* p = ClockPcm::of(io);
  p->running = false;
  p->arm(false);
  return 0;
}

int clock_prepare(snd_pcm_ioplug_t* io) {
  ClockPcm* p = ClockPcm::of(io);
  p->running = false;
  p->transferred = 0;
  p->arm(false);
  return 0;
}

snd_pcm_sframes_t clock_pointer(snd_pcm_ioplug_t* io) {
  ClockPcm* p = ClockPcm::of(io);
  const uint64_t hw = p->elapsed();
  // The kernel's rules for a card: capture overruns when the buffer is full and more comes,
  // playback underruns when everything written was played.
  if (p->capture() ? hw > p->transferred + io->buffer_size : hw > p->transferred) return -EPIPE;
  return static_cast<snd_pcm_sframes_t>(hw % io->buffer_size);
}

snd_pcm_sframes_t clock_transfer(snd_pcm_ioplug_t* io, const snd_pcm_channel_area_t* areas, snd_pcm_uframes_t offset, snd_pcm_uframes_t size) {
  ClockPcm* p = ClockPcm::of(io);
  if (p->capture()) {
    if (p->stall_after_ns >= 0 && !p->stalled && p->running && monotonic_ns() - p->first_start_ns >= p->stall_after_ns) {
      p->stalled = true;
      const timespec pause = {static_cast<time_t>(p->stall_ns / 1'000'000'000), static_cast<long>(p->stall_ns % 1'000'000'000)};
      nanosleep(&pause, nullptr);
    }
    snd_pcm_areas_silence(areas, offset, io->channels, size, io->format);
  }
  p->transferred += size;
  return static_cast<snd_pcm_sframes_t>(size);
}

int clock_poll_revents(snd_pcm_ioplug_t* io, struct pollfd* pfd, unsigned int nfds, unsigned short* revents) {
  ClockPcm* p = ClockPcm::of(io);
  uint64_t expirations = 0;
  const ssize_t n = read(p->timer_fd, &expirations, sizeof expirations);  // clears it (non-blocking)
  (void)n;
  const bool fired = nfds > 0 && (pfd[0].revents & POLLIN) != 0;
  // Not running: nothing will fire, and alsa-lib checks the available frames itself anyway.
  *revents = fired || !p->running ? static_cast<unsigned short>(p->capture() ? POLLIN : POLLOUT) : 0;
  return 0;
}

int clock_close(snd_pcm_ioplug_t* io) {
  ClockPcm* p = ClockPcm::of(io);
  if (p->timer_fd >= 0) close(p->timer_fd);
  delete p;
  return 0;
}

const snd_pcm_ioplug_callback_t kCallbacks = [] {
  snd_pcm_ioplug_callback_t c{};
  c.start = clock_start;
  c.stop = clock_stop;
  c.pointer = clock_pointer;
  c.transfer = clock_transfer;
  c.close = clock_close;
  c.prepare = clock_prepare;
  c.poll_revents = clock_poll_revents;
  return c;
}();

int constrain(snd_pcm_ioplug_t* io) {
  static const unsigned int access[] = {SND_PCM_ACCESS_RW_INTERLEAVED};
  static const unsigned int formats[] = {SND_PCM_FORMAT_S16_LE, SND_PCM_FORMAT_S32_LE, SND_PCM_FORMAT_S24_3LE, SND_PCM_FORMAT_FLOAT_LE};
  int err = 0;
  if ((err = snd_pcm_ioplug_set_param_list(io, SND_PCM_IOPLUG_HW_ACCESS, 1, access)) < 0) return err;
  if ((err = snd_pcm_ioplug_set_param_list(io, SND_PCM_IOPLUG_HW_FORMAT, 4, formats)) < 0) return err;
  if ((err = snd_pcm_ioplug_set_param_minmax(io, SND_PCM_IOPLUG_HW_CHANNELS, 1, 8)) < 0) return err;
  if ((err = snd_pcm_ioplug_set_param_minmax(io, SND_PCM_IOPLUG_HW_RATE, 8000, 192000)) < 0) return err;
  if ((err = snd_pcm_ioplug_set_param_minmax(io, SND_PCM_IOPLUG_HW_PERIOD_BYTES, 64, 1 << 20)) < 0) return err;
  return snd_pcm_ioplug_set_param_minmax(io, SND_PCM_IOPLUG_HW_PERIODS, 2, 64);
}

/// Reads an integer option (ms); false if the node is not an integer from 0 to an hour.
bool option_ms(snd_config_t* node, int64_t& out_ns) noexcept {
  long value = 0;
  if (snd_config_get_integer(node, &value) < 0 || value < 0 || value > 3'600'000) return false;
  out_ns = static_cast<int64_t>(value) * 1'000'000;
  return true;
}

}  // namespace

std::string clock_plugin_library() {
  Dl_info info{};
  if (dladdr(reinterpret_cast<const void*>(&clock_pointer), &info) == 0 || info.dli_fname == nullptr) return "";
  return info.dli_fname;
}

}  // namespace offhook::engine

using offhook::engine::ClockPcm;

// The entry point alsa-lib looks up (dlsym) in the library that pcm_type.offhook_clock names, with
// its version symbol: C linkage, visible outside the addon.
extern "C" {
#pragma GCC visibility push(default)
SND_PCM_PLUGIN_DEFINE_FUNC(offhook_clock) {
  (void)root;
  int64_t stall_after_ns = -1;
  int64_t stall_ns = 0;
  snd_config_iterator_t i, next;
  snd_config_for_each(i, next, conf) {
    snd_config_t* node = snd_config_iterator_entry(i);
    const char* id = nullptr;
    if (snd_config_get_id(node, &id) < 0) continue;
    if (std::strcmp(id, "comment") == 0 || std::strcmp(id, "type") == 0 || std::strcmp(id, "hint") == 0) continue;
    if (std::strcmp(id, "stall_after_ms") == 0 && offhook::engine::option_ms(node, stall_after_ns)) continue;
    if (std::strcmp(id, "stall_ms") == 0 && offhook::engine::option_ms(node, stall_ns)) continue;
    SNDERR("offhook_clock: unknown or invalid field %s", id);
    return -EINVAL;
  }
  auto* p = new (std::nothrow) ClockPcm;
  if (p == nullptr) return -ENOMEM;
  p->stall_after_ns = stall_after_ns;
  p->stall_ns = stall_ns;
  p->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (p->timer_fd < 0) {
    const int err = errno;
    delete p;
    return -err;
  }
  p->io.version = SND_PCM_IOPLUG_VERSION;
  p->io.name = "offhook clock";
  p->io.callback = &offhook::engine::kCallbacks;
  p->io.private_data = p;
  p->io.poll_fd = p->timer_fd;
  p->io.poll_events = POLLIN;
  p->io.mmap_rw = 0;
  int err = snd_pcm_ioplug_create(&p->io, name, stream, mode);
  if (err < 0) {
    close(p->timer_fd);
    delete p;
    return err;
  }
  if ((err = offhook::engine::constrain(&p->io)) < 0) {
    snd_pcm_ioplug_delete(&p->io);  // calls clock_close
    return err;
  }
  *pcmp = p->io.pcm;
  return 0;
}
// SND_PCM_PLUGIN_SYMBOL's dynamic-build form (alsa/global.h picks it only when PIC is defined, which
// node-gyp does not do): the symbol whose presence tells alsa-lib the entry point speaks PCM API 001.
char __snd_pcm_offhook_clock_open_dlsym_pcm_001;
#pragma GCC visibility pop
}
