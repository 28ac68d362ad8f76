// The `alsa` audio backend: capture and playback on any ALSA PCM (hw:, plughw:, a plugin chain), any rate, format and channel count, with xrun recovery and reopening.
#include <alsa/asoundlib.h>
#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>
#include <vector>

#include "engine/alsa-clock-plugin.h"
#include "engine/audio-backend.h"
#include "engine/resampler.h"

namespace offhook::engine {
namespace {

/// The sample formats we convert ourselves (little-endian: every board we target is).
struct FormatInfo {
  snd_pcm_format_t alsa;
  const char* name;
  size_t bytes;
};
// Preference order when the options name none: S16_LE needs no conversion; the others are what
// codec chips and USB devices offer (a WM8960 HAT gives S32_LE; some USB devices S24_3LE only).
constexpr FormatInfo kFormats[] = {
    {SND_PCM_FORMAT_S16_LE, "S16_LE", 2},    {SND_PCM_FORMAT_S32_LE, "S32_LE", 4}, {SND_PCM_FORMAT_S24_LE, "S24_LE", 4},
    {SND_PCM_FORMAT_S24_3LE, "S24_3LE", 3},  {SND_PCM_FORMAT_FLOAT_LE, "FLOAT_LE", 4},
};

const FormatInfo* format_by_name(const std::string& name) {
  for (const FormatInfo& f : kFormats) {
    if (name == f.name) return &f;
  }
  return nullptr;
}

/// One device sample, little-endian, to a 16-bit one (rounded, saturated).
int32_t to_s16(const uint8_t* p, snd_pcm_format_t format) noexcept {
  switch (format) {
    case SND_PCM_FORMAT_S16_LE:
      return static_cast<int16_t>(static_cast<uint16_t>(p[0] | (p[1] << 8)));
    case SND_PCM_FORMAT_S32_LE: {
      const int32_t v = static_cast<int32_t>(static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) |
                                             (static_cast<uint32_t>(p[2]) << 16) | (static_cast<uint32_t>(p[3]) << 24));
      return std::min<int32_t>((v >> 16) + ((v >> 15) & 1), 32767);
    }
    case SND_PCM_FORMAT_S24_LE:
    case SND_PCM_FORMAT_S24_3LE: {
      // 24 significant bits in the low three bytes (S24_LE pads a fourth, ignored).
      int32_t v = static_cast<int32_t>(static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) | (static_cast<uint32_t>(p[2]) << 16));
      if ((v & 0x800000) != 0) v -= 0x1000000;
      return std::min<int32_t>((v >> 8) + ((v >> 7) & 1), 32767);
    }
    case SND_PCM_FORMAT_FLOAT_LE: {
      float f;
      std::memcpy(&f, p, sizeof f);
      return static_cast<int32_t>(std::lround(std::clamp(f * 32768.0f, -32768.0f, 32767.0f)));
    }
    default:
      return 0;
  }
}

void from_s16(int16_t s, uint8_t* p, snd_pcm_format_t format) noexcept {
  switch (format) {
    case SND_PCM_FORMAT_S16_LE:
      p[0] = static_cast<uint8_t>(s);
      p[1] = static_cast<uint8_t>(static_cast<uint16_t>(s) >> 8);
      return;
    case SND_PCM_FORMAT_S32_LE: {
      const uint32_t v = static_cast<uint32_t>(static_cast<int32_t>(s) * 65536);
      for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
      return;
    }
    case SND_PCM_FORMAT_S24_LE:
    case SND_PCM_FORMAT_S24_3LE: {
      const uint32_t v = static_cast<uint32_t>(static_cast<int32_t>(s) * 256);
      for (int i = 0; i < 3; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
      if (format == SND_PCM_FORMAT_S24_LE) p[3] = (s < 0) ? 0xFF : 0x00;
      return;
    }
    case SND_PCM_FORMAT_FLOAT_LE: {
      const float f = static_cast<float>(s) / 32768.0f;
      std::memcpy(p, &f, sizeof f);
      return;
    }
    default:
      return;
  }
}

/// One direction of the device: its PCM, what the driver chose, and the conversion to/from the
/// engine's mono 16-bit samples at the engine rate.
struct Direction {
  std::string name;
  snd_pcm_stream_t stream = SND_PCM_STREAM_CAPTURE;
  snd_pcm_t* pcm = nullptr;
  AudioDeviceSetup setup;
  const FormatInfo* format = nullptr;
  size_t frame_bytes = 0;
  /// Device frames per read (capture): one engine period at the device rate, rounded down.
  size_t chunk_frames = 0;
  std::vector<uint8_t> raw;      // interleaved device frames
  std::vector<int16_t> mono;     // mono, device rate
  std::unique_ptr<Resampler> resampler;
  /// Capture: engine-rate samples not yet handed to the engine. Playback: device-rate samples not yet written.
  SampleFifo fifo;
};

/// Options (AlsaAudioBackendOptions in firmware/media/media-engine.ts), flat:
///   captureDevice, playbackDevice  PCM names: hw:CARD=x,DEV=0, plughw:..., default, or one of alsaConfig's
///   periodMs (10), periods (3)     the period asked for, and the buffer in periods
///   format, channels, rateHz       the setup asked for (default: S16_LE or what the device has, 1 channel
///                                  or the fewest it has, the engine rate or the nearest it has)
///   captureChannel                 the microphone's channel (0-based), or -1 to average them all (default)
///   realtimePriority               SCHED_FIFO priority of the media thread (1–99), 0 = leave it (default 40)
///   reopenIntervalMs               after a device error, how often to try opening it again (2000)
///   pacing                         'device' (default): the media thread follows the capture clock;
///                                  'engine': the engine's clock (plugin chains without a clock: file, null)
///   alsaConfig                     asoundrc text loaded over the system's configuration, for this engine only
///
/// Capture and playback are handled as one device: when either fails, both are closed and reopened
/// together. The media thread does the blocking I/O: read() blocks until a period was captured.
class AlsaBackend final : public AudioBackend {
 public:
  AlsaBackend() {
    capture_.stream = SND_PCM_STREAM_CAPTURE;
    playback_.stream = SND_PCM_STREAM_PLAYBACK;
  }
  ~AlsaBackend() override {
    close_devices();
    if (config_ != nullptr) snd_config_delete(config_);
  }
  AlsaBackend(const AlsaBackend&) = delete;
  AlsaBackend& operator=(const AlsaBackend&) = delete;

  const char* name() const noexcept override { return "alsa"; }

  bool open(const AudioBackendOptions& options, AudioError& error) override {
    engine_rate_ = options.sample_rate_hz;
    period_frames_ = options.period_frames;
    virtual_clock_ = options.virtual_clock;
    const std::string* capture = options.string("captureDevice");
    const std::string* playback = options.string("playbackDevice");
    if (capture == nullptr || playback == nullptr || capture->empty() || playback->empty()) {
      error = {0, "captureDevice and playbackDevice are required (ALSA PCM names)", ""};
      return false;
    }
    capture_.name = *capture;
    playback_.name = *playback;
    auto number = [&](const char* key, double fallback, double min, double max, double& out) {
      const double* v = options.number(key);
      out = v != nullptr ? *v : fallback;
      if (!(out >= min && out <= max)) {
        error = {0, std::string(key) + " must be from " + std::to_string(static_cast<int>(min)) + " to " + std::to_string(static_cast<int>(max)), ""};
        return false;
      }
      return true;
    };
    double period_ms = 0, periods = 0, channels = 0, rate = 0, capture_channel = 0, priority = 0, reopen_ms = 0;
    if (!number("periodMs", 10, 1, 100, period_ms) || !number("periods", 3, 2, 16, periods) || !number("channels", 1, 1, 32, channels) ||
        !number("rateHz", engine_rate_, 4000, 768000, rate) || !number("captureChannel", -1, -1, 31, capture_channel) ||
        !number("realtimePriority", 40, 0, 99, priority) || !number("reopenIntervalMs", 2000, 10, 3'600'000, reopen_ms)) {
      return false;
    }
    period_ms_ = period_ms;
    periods_ = static_cast<unsigned>(periods);
    want_channels_ = static_cast<unsigned>(channels);
    want_rate_ = static_cast<unsigned>(rate);
    capture_channel_ = static_cast<int>(capture_channel);
    realtime_priority_ = static_cast<int>(priority);
    reopen_periods_ = std::max<uint64_t>(1, static_cast<uint64_t>(reopen_ms * engine_rate_ / 1000.0) / period_frames_);
    if (const std::string* format = options.string("format")) {
      want_format_ = format_by_name(*format);
      if (want_format_ == nullptr) {
        error = {0, "format must be S16_LE, S32_LE, S24_LE, S24_3LE or FLOAT_LE", ""};
        return false;
      }
    }
    if (const std::string* pacing = options.string("pacing")) {
      if (*pacing != "device" && *pacing != "engine") {
        error = {0, "pacing must be 'device' or 'engine'", ""};
        return false;
      }
      device_pacing_ = *pacing == "device";
    }
    if (const std::string* text = options.string("alsaConfig")) {
      const int err = load_config(*text);
      if (err < 0) {
        error = {-err, std::string("alsaConfig: ") + snd_strerror(err), ""};
        return false;
      }
    }
    // A device that is missing or busy now is a device error, not a failure to create the engine:
    // the engine runs (silence) and the device is tried again every reopenIntervalMs.
    AudioError failure;
    if (!open_devices(failure)) fail(failure);
    return true;
  }

  bool paces_itself() const noexcept override { return device_pacing_ && !virtual_clock_ && open_; }

  bool read(int16_t* pcm, size_t frames, AudioError& error) noexcept override {
    if (!sched_tried_) try_realtime();
    if (!open_ && !reopen()) {
      error = failure_;
      return false;
    }
    Direction& d = capture_;
    int empty_reads = 0;
    while (d.fifo.size() < frames) {
      const snd_pcm_sframes_t n = snd_pcm_readi(d.pcm, d.raw.data(), d.chunk_frames);
      if (n < 0) {
        if (!recover(d, static_cast<int>(n), error)) return false;
        continue;
      }
      if (n == 0) {
        // A file plugin whose input ended: silence, rather than asking again forever.
        if (++empty_reads > 2) {
          push_capture_silence(frames - d.fifo.size());
          break;
        }
        continue;
      }
      decode_capture(static_cast<size_t>(n));
    }
    d.fifo.pop(pcm, frames);
    return true;
  }

  bool write(const int16_t* pcm, size_t frames, AudioError& error) noexcept override {
    if (!open_) {
      error = failure_;
      return false;
    }
    Direction& d = playback_;
    try {
      d.resampler->process(pcm, frames, d.fifo.back_buffer());
    } catch (const std::exception&) {
      return true;  // out of memory: this period is lost, the device carries on
    }
    snd_pcm_sframes_t avail = snd_pcm_avail_update(d.pcm);
    if (avail < 0) {
      if (!recover(d, static_cast<int>(avail), error)) return false;
      avail = snd_pcm_avail_update(d.pcm);
      if (avail < 0) avail = 0;
    }
    // Never block on the speaker: when its clock runs slower than the microphone's (two cards), the
    // buffer fills up, and the surplus is dropped here instead of making the capture overrun.
    size_t n = std::min(d.fifo.size(), static_cast<size_t>(avail));
    if (d.fifo.size() > n) d.fifo.drop(d.fifo.size() - n);
    while (n > 0) {
      const size_t count = std::min(n, d.raw.size() / d.frame_bytes);
      encode_playback(d.fifo.front(), count);
      const snd_pcm_sframes_t written = snd_pcm_writei(d.pcm, d.raw.data(), count);
      if (written < 0) {
        if (!recover(d, static_cast<int>(written), error)) return false;
        d.fifo.clear();  // recovery primed the buffer with silence again
        return true;
      }
      d.fifo.drop(static_cast<size_t>(written));
      n -= static_cast<size_t>(written);
      if (static_cast<size_t>(written) < count) break;
    }
    return true;
  }

  uint64_t capture_xruns() const noexcept override { return capture_xruns_; }
  uint64_t playback_xruns() const noexcept override { return playback_xruns_; }
  size_t echo_delay_frames() const noexcept override { return open_ ? echo_delay_frames_ : 0; }

  bool take_opened(AudioDeviceInfo& info) noexcept override {
    if (!opened_pending_ || !sched_tried_) return false;
    opened_pending_ = false;
    try {
      info = info_;
    } catch (const std::bad_alloc&) {
      return false;
    }
    return true;
  }

  bool close(AudioError& error) noexcept override {
    const int err = close_devices();
    if (err >= 0) return true;
    error = {-err, std::string("snd_pcm_close: ") + snd_strerror(err), capture_.name};
    return false;
  }

 private:
  int load_config(const std::string& text) {
    snd_config_t* top = nullptr;
    int err = snd_config_update_ref(&top);
    if (err < 0) return err;
    err = snd_config_copy(&config_, top);
    snd_config_unref(top);
    if (err < 0) return err;
    // Our clocked PCM without hardware (alsa-clock-plugin.cc), for the text to use by its type name.
    const std::string library = clock_plugin_library();
    if (!library.empty()) {
      std::string quoted;
      for (char c : library) {
        if (c == '"' || c == '\\') quoted += '\\';
        quoted += c;
      }
      err = load_text(std::string("pcm_type.") + kClockPluginType + " { lib \"" + quoted + "\" }");
      if (err < 0) return err;
    }
    return load_text(text);
  }

  int load_text(const std::string& text) noexcept {
    snd_input_t* input = nullptr;
    int err = snd_input_buffer_open(&input, text.c_str(), static_cast<ssize_t>(text.size()));
    if (err < 0) return err;
    err = snd_config_load(config_, input);
    snd_input_close(input);
    return err;
  }

  void fail(const AudioError& failure) noexcept {
    close_devices();
    try {
      failure_ = failure;
    } catch (const std::bad_alloc&) {
    }
    periods_since_attempt_ = 0;
  }

  bool reopen() noexcept {
    if (++periods_since_attempt_ < reopen_periods_) return false;
    periods_since_attempt_ = 0;
    AudioError failure;
    try {
      if (open_devices(failure)) return true;
      failure_ = failure;
    } catch (const std::exception&) {
    }
    return false;
  }

  void try_realtime() noexcept {
    sched_tried_ = true;
    info_.realtime = false;
    info_.realtime_err = 0;
    info_.realtime_priority = realtime_priority_;
    if (virtual_clock_ || realtime_priority_ == 0) return;
    // A blocked media thread is an audible gap: run it before ordinary threads when the system lets
    // us (root, CAP_SYS_NICE, or an rtprio limit in /etc/security/limits.conf). Refused is not fatal.
    sched_param param{};
    param.sched_priority = realtime_priority_;
    const int err = pthread_setschedparam(pthread_self(), SCHED_FIFO, &param);
    info_.realtime = err == 0;
    info_.realtime_err = err;
  }

  /// Opens, sets up and starts both directions; false with `error` (and nothing left open).
  bool open_devices(AudioError& error) {
    for (Direction* d : {&capture_, &playback_}) {
      const int err = open_pcm(*d);
      if (err < 0) {
        error = {-err, std::string("snd_pcm_open: ") + snd_strerror(err), d->name};
        close_devices();
        return false;
      }
      std::string what;
      const int setup_err = setup(*d, what);
      if (setup_err < 0) {
        error = {-setup_err, what + ": " + snd_strerror(setup_err), d->name};
        close_devices();
        return false;
      }
    }
    // One card, one clock: linked, the two start and stop together (and an xrun stops both), so the
    // speaker's latency never drifts against the microphone's (what the echo canceller needs).
    linked_ = false;
    snd_pcm_info_t* ci = nullptr;
    snd_pcm_info_t* pi = nullptr;
    snd_pcm_info_alloca(&ci);
    snd_pcm_info_alloca(&pi);
    if (snd_pcm_info(capture_.pcm, ci) >= 0 && snd_pcm_info(playback_.pcm, pi) >= 0 && snd_pcm_info_get_card(ci) >= 0 &&
        snd_pcm_info_get_card(ci) == snd_pcm_info_get_card(pi)) {
      linked_ = snd_pcm_link(capture_.pcm, playback_.pcm) == 0;
    }
    const int start_err = start();
    if (start_err < 0) {
      error = {-start_err, std::string("snd_pcm_start: ") + snd_strerror(start_err), capture_.name};
      close_devices();
      return false;
    }
    open_ = true;
    opened_pending_ = true;
    info_.capture = capture_.setup;
    info_.playback = playback_.setup;
    info_.linked = linked_;
    return true;
  }

  int open_pcm(Direction& d) {
    // Non-blocking open: a device another program holds fails with EBUSY at once instead of
    // waiting for it; the I/O is blocking (snd_pcm_nonblock 0).
    int err = config_ != nullptr ? snd_pcm_open_lconf(&d.pcm, d.name.c_str(), d.stream, SND_PCM_NONBLOCK, config_)
                                 : snd_pcm_open(&d.pcm, d.name.c_str(), d.stream, SND_PCM_NONBLOCK);
    if (err < 0) {
      d.pcm = nullptr;
      return err;
    }
    err = snd_pcm_nonblock(d.pcm, 0);
    return err;
  }

  /// hw and sw parameters of one direction; reads back what the driver chose.
  int setup(Direction& d, std::string& what) {
    snd_pcm_hw_params_t* hw = nullptr;
    snd_pcm_hw_params_alloca(&hw);
    what = "snd_pcm_hw_params_any";
    int err = snd_pcm_hw_params_any(d.pcm, hw);
    if (err < 0) return err;
    what = "snd_pcm_hw_params_set_access";
    if ((err = snd_pcm_hw_params_set_access(d.pcm, hw, SND_PCM_ACCESS_RW_INTERLEAVED)) < 0) return err;
    // Our resampler (speexdsp) instead of alsa-lib's linear interpolation in plughw.
    snd_pcm_hw_params_set_rate_resample(d.pcm, hw, 0);
    what = "snd_pcm_hw_params_set_format";
    const FormatInfo* format = want_format_;
    if (format == nullptr) {
      for (const FormatInfo& f : kFormats) {
        if (snd_pcm_hw_params_test_format(d.pcm, hw, f.alsa) == 0) {
          format = &f;
          break;
        }
      }
      if (format == nullptr) return -EINVAL;  // the device has none of the formats we convert
    }
    if ((err = snd_pcm_hw_params_set_format(d.pcm, hw, format->alsa)) < 0) return err;
    what = "snd_pcm_hw_params_set_channels_near";
    unsigned channels = want_channels_;
    if ((err = snd_pcm_hw_params_set_channels_near(d.pcm, hw, &channels)) < 0) return err;
    what = "snd_pcm_hw_params_set_rate_near";
    unsigned rate = want_rate_;
    int dir = 0;
    if ((err = snd_pcm_hw_params_set_rate_near(d.pcm, hw, &rate, &dir)) < 0) return err;
    what = "snd_pcm_hw_params_set_period_size_near";
    snd_pcm_uframes_t period = std::max<snd_pcm_uframes_t>(16, static_cast<snd_pcm_uframes_t>(std::lround(rate * period_ms_ / 1000.0)));
    dir = 0;
    if ((err = snd_pcm_hw_params_set_period_size_near(d.pcm, hw, &period, &dir)) < 0) return err;
    what = "snd_pcm_hw_params_set_periods_near";
    unsigned periods = periods_;
    dir = 0;
    if ((err = snd_pcm_hw_params_set_periods_near(d.pcm, hw, &periods, &dir)) < 0) return err;
    what = "snd_pcm_hw_params";
    if ((err = snd_pcm_hw_params(d.pcm, hw)) < 0) return err;

    // What the driver chose (it may round any of these).
    snd_pcm_format_t chosen_format = SND_PCM_FORMAT_UNKNOWN;
    snd_pcm_hw_params_get_format(hw, &chosen_format);
    snd_pcm_hw_params_get_channels(hw, &channels);
    snd_pcm_hw_params_get_rate(hw, &rate, &dir);
    snd_pcm_hw_params_get_period_size(hw, &period, &dir);
    snd_pcm_uframes_t buffer = 0;
    snd_pcm_hw_params_get_buffer_size(hw, &buffer);
    d.format = nullptr;
    for (const FormatInfo& f : kFormats) {
      if (f.alsa == chosen_format) d.format = &f;
    }
    what = "snd_pcm_hw_params_get_format";
    if (d.format == nullptr || channels == 0 || rate == 0 || period == 0 || buffer < period) return -EINVAL;

    snd_pcm_sw_params_t* sw = nullptr;
    snd_pcm_sw_params_alloca(&sw);
    what = "snd_pcm_sw_params";
    if ((err = snd_pcm_sw_params_current(d.pcm, sw)) < 0) return err;
    snd_pcm_uframes_t boundary = 0;
    snd_pcm_sw_params_get_boundary(sw, &boundary);
    // Started by us (start()), both directions at once when linked.
    snd_pcm_sw_params_set_start_threshold(d.pcm, sw, boundary);
    snd_pcm_sw_params_set_avail_min(d.pcm, sw, period);
    if ((err = snd_pcm_sw_params(d.pcm, sw)) < 0) return err;

    d.setup.device = d.name;
    d.setup.format = d.format->name;
    d.setup.channels = static_cast<int>(channels);
    d.setup.rate_hz = static_cast<int>(rate);
    d.setup.period_frames = period;
    d.setup.buffer_frames = buffer;
    d.frame_bytes = d.format->bytes * channels;
    d.chunk_frames = std::max<size_t>(1, static_cast<size_t>(rate) * period_frames_ / static_cast<size_t>(engine_rate_));
    const size_t chunk = std::max<size_t>(d.chunk_frames, period);
    d.raw.assign(chunk * d.frame_bytes, 0);
    d.mono.assign(chunk, 0);
    d.fifo.clear();
    what = "speex_resampler_init";
    try {
      d.resampler = d.stream == SND_PCM_STREAM_CAPTURE ? std::make_unique<Resampler>(static_cast<int>(rate), engine_rate_)
                                                      : std::make_unique<Resampler>(engine_rate_, static_cast<int>(rate));
    } catch (const std::runtime_error&) {
      return -EINVAL;
    }
    if (d.stream == SND_PCM_STREAM_PLAYBACK) {
      // The speaker starts with all but one period of silence queued: room for one period written
      // per tick, and as much margin against an underrun as the buffer allows.
      prefill_frames_ = buffer - std::min<snd_pcm_uframes_t>(period, buffer / 2);
      const double prefill_ms = 1000.0 * static_cast<double>(prefill_frames_) / rate;
      const double beyond_ms = std::max(0.0, prefill_ms - 1000.0 * static_cast<double>(period_frames_) / engine_rate_);
      echo_delay_frames_ = static_cast<size_t>(beyond_ms * engine_rate_ / 1000.0);
    }
    return 0;
  }

  /// Prepares both directions as needed, queues the speaker's silence, and starts.
  int start() noexcept {
    for (Direction* d : {&playback_, &capture_}) {
      const snd_pcm_state_t state = snd_pcm_state(d->pcm);
      if (state != SND_PCM_STATE_PREPARED && state != SND_PCM_STATE_RUNNING) {
        const int err = snd_pcm_prepare(d->pcm);
        if (err < 0) return err;
      }
    }
    if (snd_pcm_state(playback_.pcm) == SND_PCM_STATE_PREPARED) {
      const int err = write_silence(prefill_frames_);
      if (err < 0) return err;
    }
    // Linked, starting one starts both; then the second start finds it running already.
    for (Direction* d : {&capture_, &playback_}) {
      if (snd_pcm_state(d->pcm) == SND_PCM_STATE_PREPARED) {
        const int err = snd_pcm_start(d->pcm);
        if (err < 0) return err;
      }
    }
    return 0;
  }

  int write_silence(size_t frames) noexcept {
    Direction& d = playback_;
    std::fill(d.raw.begin(), d.raw.end(), uint8_t{0});  // silence in every format we take (0.0f is all zero bits)
    while (frames > 0) {
      const size_t count = std::min(frames, d.raw.size() / d.frame_bytes);
      const snd_pcm_sframes_t n = snd_pcm_writei(d.pcm, d.raw.data(), count);
      if (n < 0) return static_cast<int>(n);
      if (n == 0) break;
      frames -= static_cast<size_t>(n);
    }
    return 0;
  }

  /// After an I/O error: an xrun or a suspend is recovered (snd_pcm_recover) and both directions
  /// restarted in step; anything else (ENODEV: unplugged) closes the device for reopening later.
  bool recover(Direction& d, int err, AudioError& error) noexcept {
    if (err == -EPIPE) {
      if (&d == &capture_) {
        ++capture_xruns_;
      } else {
        ++playback_xruns_;
      }
    }
    int result = err;
    if (err == -EPIPE || err == -ESTRPIPE || err == -EINTR) result = snd_pcm_recover(d.pcm, err, 1);
    if (result >= 0) {
      // An xrun of one linked direction stopped both: bring the other one back as well.
      Direction& other = &d == &capture_ ? playback_ : capture_;
      if (snd_pcm_state(other.pcm) == SND_PCM_STATE_XRUN) snd_pcm_recover(other.pcm, -EPIPE, 1);
      playback_.fifo.clear();
      result = start();
    }
    if (result >= 0) return true;
    AudioError failure;
    failure.err = -result;
    failure.message = std::string(&d == &capture_ ? "snd_pcm_readi: " : "snd_pcm_writei: ") + snd_strerror(result);
    failure.device = d.name;
    fail(failure);
    error = failure_;
    return false;
  }

  void decode_capture(size_t frames) noexcept {
    Direction& d = capture_;
    const size_t channels = static_cast<size_t>(d.setup.channels);
    const size_t bytes = d.format->bytes;
    const uint8_t* p = d.raw.data();
    for (size_t i = 0; i < frames; ++i) {
      int32_t value = 0;
      if (capture_channel_ >= 0 && static_cast<size_t>(capture_channel_) < channels) {
        value = to_s16(p + bytes * static_cast<size_t>(capture_channel_), d.format->alsa);
      } else {
        int32_t sum = 0;
        for (size_t c = 0; c < channels; ++c) sum += to_s16(p + bytes * c, d.format->alsa);
        value = sum / static_cast<int32_t>(channels);
      }
      d.mono[i] = static_cast<int16_t>(std::clamp(value, -32768, 32767));
      p += d.frame_bytes;
    }
    try {
      d.resampler->process(d.mono.data(), frames, d.fifo.back_buffer());
    } catch (const std::exception&) {
    }
  }

  void push_capture_silence(size_t frames) noexcept {
    try {
      capture_.fifo.push_silence(frames);
    } catch (const std::bad_alloc&) {
    }
  }

  void encode_playback(const int16_t* pcm, size_t frames) noexcept {
    Direction& d = playback_;
    const size_t channels = static_cast<size_t>(d.setup.channels);
    uint8_t* p = d.raw.data();
    for (size_t i = 0; i < frames; ++i) {
      for (size_t c = 0; c < channels; ++c) from_s16(pcm[i], p + d.format->bytes * c, d.format->alsa);
      p += d.frame_bytes;
    }
  }

  /// Returns 0 or the first negative error of snd_pcm_close.
  int close_devices() noexcept {
    int result = 0;
    if (linked_ && capture_.pcm != nullptr) snd_pcm_unlink(capture_.pcm);
    linked_ = false;
    for (Direction* d : {&capture_, &playback_}) {
      if (d->pcm == nullptr) continue;
      // drop, not drain: a file plugin writes out what it buffered on drop, and nothing waits.
      snd_pcm_drop(d->pcm);
      const int err = snd_pcm_close(d->pcm);
      if (err < 0 && result == 0) result = err;
      d->pcm = nullptr;
    }
    open_ = false;
    return result;
  }

  int engine_rate_ = 16000;
  size_t period_frames_ = 160;
  bool virtual_clock_ = false;
  double period_ms_ = 10;
  unsigned periods_ = 3;
  const FormatInfo* want_format_ = nullptr;
  unsigned want_channels_ = 1;
  unsigned want_rate_ = 16000;
  int capture_channel_ = -1;
  int realtime_priority_ = 0;
  bool device_pacing_ = true;
  uint64_t reopen_periods_ = 200;
  snd_config_t* config_ = nullptr;

  Direction capture_;
  Direction playback_;
  bool open_ = false;
  bool linked_ = false;
  size_t prefill_frames_ = 0;
  size_t echo_delay_frames_ = 0;
  AudioError failure_;
  uint64_t periods_since_attempt_ = 0;
  uint64_t capture_xruns_ = 0;
  uint64_t playback_xruns_ = 0;
  bool sched_tried_ = false;
  bool opened_pending_ = false;
  AudioDeviceInfo info_;
};

}  // namespace

std::unique_ptr<AudioBackend> make_alsa_backend() { return std::make_unique<AlsaBackend>(); }

}  // namespace offhook::engine
