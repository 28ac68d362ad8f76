// GPIO character device (Linux uAPI v2): the GpioChip and GpioLineRequest classes, and the edge-event
// thread that hands kernel events to JS through one thread-safe function per line request.
#include "gpio-cdev.h"

#include <fcntl.h>
#include <linux/gpio.h>
#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "addon.h"
#include "errno-error.h"

namespace offhook::gpio {
namespace {

/// Default consumer label, shown by gpioinfo when the caller gives none.
constexpr const char* kDefaultConsumer = "offhook";
/// Batches of events waiting for the JS thread; beyond this the thread drops a batch rather than
/// block (blocking would deadlock a release() that joins the thread). The kernel's seqno fields
/// show any gap to JS, as they do for the kernel's own buffer overflowing.
constexpr size_t kMaxQueuedBatches = 1024;
/// Events taken per read(); the kernel hands out whole gpio_v2_line_event records.
constexpr size_t kEventsPerRead = 16;

/// Owns a file descriptor and closes it exactly once.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) noexcept : fd_(fd) {}
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) {
      reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  ~UniqueFd() { reset(); }

  int get() const noexcept { return fd_; }
  bool valid() const noexcept { return fd_ >= 0; }
  void reset() noexcept {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

int ioctl_retry(int fd, unsigned long request, void* arg) noexcept {
  int r = 0;
  do {
    r = ::ioctl(fd, request, arg);
  } while (r < 0 && errno == EINTR);
  return r;
}

/// Bitmap of the first `count` lines of a request (uAPI v2 bitmaps are indexed by request position).
uint64_t mask_of(size_t count) noexcept { return count >= 64 ? ~uint64_t{0} : (uint64_t{1} << count) - 1; }

/// Copies a JS string into a fixed kernel buffer; the kernel takes at most GPIO_MAX_NAME_SIZE - 1 bytes.
void copy_label(char (&dst)[GPIO_MAX_NAME_SIZE], const std::string& src) noexcept {
  std::memset(dst, 0, sizeof dst);
  std::memcpy(dst, src.data(), std::min(src.size(), sizeof dst - 1));
}

std::string label_string(const char (&src)[GPIO_MAX_NAME_SIZE]) { return std::string(src, strnlen(src, sizeof src)); }

// ---------------------------------------------------------------------------------------------------
// Events: thread → JS

/// What the event thread hands to the JS thread: events read in one go, or the error that stopped it.
struct EventBatch {
  std::vector<gpio_v2_line_event> events;
  int error = 0;
  const char* syscall = nullptr;
};

/// The event thread of one line request: poll() on the line fd and on an eventfd that Stop() writes,
/// read events, queue them on the thread-safe function. Everything here except Run() is called on
/// the JS thread.
class EventPump {
 public:
  EventPump(int line_fd, std::string device, UniqueFd wake_fd) noexcept
      : line_fd_(line_fd), device_(std::move(device)), wake_fd_(std::move(wake_fd)) {}
  EventPump(const EventPump&) = delete;
  EventPump& operator=(const EventPump&) = delete;
  ~EventPump() { Stop(); }

  const std::string& device() const noexcept { return device_; }
  napi_threadsafe_function tsfn() const noexcept { return tsfn_; }

  /// Starts the thread; throws std::system_error if it cannot be created.
  void Start(napi_threadsafe_function tsfn) {
    tsfn_ = tsfn;
    thread_ = std::thread([this] { Run(); });
  }

  /// Wakes the thread and waits for it. Idempotent. After Stop() the thread never touches the
  /// thread-safe function again, so the function may be finalized.
  void Stop() noexcept {
    if (stopped_) return;
    stopped_ = true;
    if (thread_.joinable()) {
      const uint64_t one = 1;
      const ssize_t written = ::write(wake_fd_.get(), &one, sizeof one);
      (void)written;  // an eventfd write only fails on counter overflow, which leaves it readable anyway
      thread_.join();
    }
  }

  /// Set by the thread-safe function's finalizer (JS thread): the handle is gone, do not touch it.
  bool tsfn_finalized = false;
  /// Set by release() (JS thread): a batch being delivered stops there, even if a listener released.
  bool released = false;

 private:
  void Run() noexcept {
    pthread_setname_np(pthread_self(), "offhook-gpio");  // what `top -H` and gdb show
    for (;;) {
      pollfd fds[2] = {{line_fd_, POLLIN, 0}, {wake_fd_.get(), POLLIN, 0}};
      if (::poll(fds, 2, -1) < 0) {
        if (errno == EINTR) continue;
        Report(errno, "poll");
        return;
      }
      if (fds[1].revents != 0) return;  // Stop()
      if ((fds[0].revents & POLLIN) != 0) {
        if (!ReadEvents()) return;
      } else if ((fds[0].revents & (POLLHUP | POLLERR | POLLNVAL)) != 0) {
        // The kernel reports EPOLLHUP | EPOLLERR once the chip is gone (device unbound); a loopback's
        // writer closing looks the same.
        Report(ENODEV, "poll");
        return;
      }
    }
  }

  /// Reads what is buffered and queues it; false when the thread must end.
  bool ReadEvents() noexcept {
    gpio_v2_line_event buffer[kEventsPerRead];
    const ssize_t n = ::read(line_fd_, buffer, sizeof buffer);
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) return true;
      Report(errno, "read");
      return false;
    }
    if (n == 0) {  // end of file: only a loopback whose writer closed
      Report(ENODEV, "read");
      return false;
    }
    const size_t count = static_cast<size_t>(n) / sizeof(gpio_v2_line_event);
    if (count == 0) return true;
    try {
      auto batch = std::make_unique<EventBatch>();
      batch->events.assign(buffer, buffer + count);
      return Queue(std::move(batch));
    } catch (const std::bad_alloc&) {
      return true;  // dropped; the seqno gap shows it
    }
  }

  void Report(int err, const char* syscall) noexcept {
    try {
      auto batch = std::make_unique<EventBatch>();
      batch->error = err;
      batch->syscall = syscall;
      Queue(std::move(batch));
    } catch (const std::bad_alloc&) {
    }
  }

  /// False once the function is closing (released, or the environment is shutting down).
  bool Queue(std::unique_ptr<EventBatch> batch) noexcept {
    const napi_status status = napi_call_threadsafe_function(tsfn_, batch.get(), napi_tsfn_nonblocking);
    if (status == napi_ok) {
      batch.release();  // owned by CallJs now
      return true;
    }
    return status != napi_closing;  // napi_queue_full: dropped, keep going
  }

  const int line_fd_;  // owned by the line request, which closes it only after Stop()
  const std::string device_;
  UniqueFd wake_fd_;
  napi_threadsafe_function tsfn_ = nullptr;
  std::thread thread_;
  bool stopped_ = false;
};

napi_value string_value(napi_env env, const char* s) {
  napi_value v = nullptr;
  napi_create_string_utf8(env, s, NAPI_AUTO_LENGTH, &v);
  return v;
}

napi_value uint_value(napi_env env, uint32_t n) {
  napi_value v = nullptr;
  napi_create_uint32(env, n, &v);
  return v;
}

/// { kind: 'edge', offset, edge, timestampNs, seqno, lineSeqno } (see NativeGpioEvent in native-addon.ts).
napi_value edge_event_object(napi_env env, const gpio_v2_line_event& e) {
  napi_value object = nullptr;
  napi_value timestamp = nullptr;
  if (napi_create_object(env, &object) != napi_ok) return nullptr;
  if (napi_create_bigint_uint64(env, e.timestamp_ns, &timestamp) != napi_ok) return nullptr;
  const char* edge = e.id == GPIO_V2_LINE_EVENT_RISING_EDGE ? "rising" : "falling";
  if (napi_set_named_property(env, object, "kind", string_value(env, "edge")) != napi_ok ||
      napi_set_named_property(env, object, "offset", uint_value(env, e.offset)) != napi_ok ||
      napi_set_named_property(env, object, "edge", string_value(env, edge)) != napi_ok ||
      napi_set_named_property(env, object, "timestampNs", timestamp) != napi_ok ||
      napi_set_named_property(env, object, "seqno", uint_value(env, e.seqno)) != napi_ok ||
      napi_set_named_property(env, object, "lineSeqno", uint_value(env, e.line_seqno)) != napi_ok) {
    return nullptr;
  }
  return object;
}

/// { kind: 'error', error } when the thread stopped.
napi_value error_event_object(napi_env env, const EventBatch& batch, const std::string& device) {
  napi_value object = nullptr;
  napi_value error = make_errno_error(env, batch.error, batch.syscall, device);
  if (error == nullptr || napi_create_object(env, &object) != napi_ok) return nullptr;
  if (napi_set_named_property(env, object, "kind", string_value(env, "error")) != napi_ok ||
      napi_set_named_property(env, object, "error", error) != napi_ok) {
    return nullptr;
  }
  return object;
}

/// Runs on the JS thread for each queued batch; env is null when the function is being torn down
/// with batches still queued (after abort), and then the batch is only freed. `context` may already
/// be freed in that case, so it is only read when env is set.
void call_js(napi_env env, napi_value callback, void* context, void* data) noexcept {
  std::unique_ptr<EventBatch> batch(static_cast<EventBatch*>(data));
  if (env == nullptr || callback == nullptr) return;
  auto& pump = *static_cast<std::shared_ptr<EventPump>*>(context);
  napi_value undefined = nullptr;
  napi_get_undefined(env, &undefined);
  try {
    if (pump->released) return;
    if (batch->error != 0) {
      // The thread has ended: nothing more will come, so the request must not hold the loop open.
      if (!pump->tsfn_finalized) napi_unref_threadsafe_function(env, pump->tsfn());
      napi_value event = error_event_object(env, *batch, pump->device());
      if (event != nullptr) napi_call_function(env, undefined, callback, 1, &event, nullptr);
      return;
    }
    for (const auto& e : batch->events) {
      if (pump->released) return;
      napi_value event = edge_event_object(env, e);
      if (event == nullptr) return;
      if (napi_call_function(env, undefined, callback, 1, &event, nullptr) == napi_pending_exception) {
        // A listener threw. Left pending, Node 20 would only print a deprecation warning (DEP0168) for
        // Node-API callbacks; raise it as an uncaught exception, as any other event listener's would be.
        napi_value exception = nullptr;
        if (napi_get_and_clear_last_exception(env, &exception) == napi_ok) napi_fatal_exception(env, exception);
      }
    }
  } catch (const std::bad_alloc&) {
  }
}

/// Runs on the JS thread once the function is gone: after release() aborted it, or when the
/// environment shuts down with the request still open. Either way the thread must end first.
void finalize_tsfn(napi_env /*env*/, void* /*data*/, void* hint) noexcept {
  auto* pump = static_cast<std::shared_ptr<EventPump>*>(hint);
  (*pump)->Stop();
  (*pump)->tsfn_finalized = true;
  delete pump;
}

// ---------------------------------------------------------------------------------------------------
// Line requests

/// Marks the External that carries a LineRequestInit, so that `new (request.constructor)(x)` from JS
/// with some other addon's External is refused instead of being read as ours (Node-API type tags).
constexpr napi_type_tag kLineRequestInitTag = {0x6f6666686f6f6b2dULL, 0x6770696f2d6c7231ULL};

/// What a chip (or the loopback) hands to a new GpioLineRequest through an External.
struct LineRequestInit {
  UniqueFd fd;
  UniqueFd inject_fd;
  std::vector<uint32_t> offsets;
  std::string device;
  Napi::Function on_event;  // empty when the request has no edge detection
};

class LineRequest : public Napi::ObjectWrap<LineRequest> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "GpioLineRequest",
                       {
                           InstanceAccessor<&LineRequest::Offsets>("offsets", napi_enumerable),
                           InstanceAccessor<&LineRequest::Released>("released", napi_enumerable),
                           InstanceMethod<&LineRequest::GetValues>("getValues"),
                           InstanceMethod<&LineRequest::SetValues>("setValues"),
                           InstanceMethod<&LineRequest::Ref>("ref"),
                           InstanceMethod<&LineRequest::Unref>("unref"),
                           InstanceMethod<&LineRequest::Release>("release"),
                           InstanceMethod<&LineRequest::Inject>("inject"),
                           InstanceMethod<&LineRequest::InjectHangUp>("injectHangUp"),
                       });
  }

  explicit LineRequest(const Napi::CallbackInfo& info) : Napi::ObjectWrap<LineRequest>(info) {
    Napi::Env env = info.Env();
    if (info.Length() != 1 || !info[0].IsExternal() ||
        !info[0].As<Napi::External<LineRequestInit>>().CheckTypeTag(&kLineRequestInitTag)) {
      throw Napi::TypeError::New(env, "GpioLineRequest is created by GpioChip.requestLines()");
    }
    LineRequestInit& init = *info[0].As<Napi::External<LineRequestInit>>().Data();
    fd_ = std::move(init.fd);
    inject_fd_ = std::move(init.inject_fd);
    offsets_ = std::move(init.offsets);
    device_ = std::move(init.device);
    if (!init.on_event.IsEmpty()) StartEvents(env, init.on_event);
  }

  ~LineRequest() override { Shutdown(); }

 private:
  void StartEvents(Napi::Env env, Napi::Function on_event) {
    UniqueFd wake_fd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (!wake_fd.valid()) throw errno_error(env, errno, "eventfd", device_);
    pump_ = std::make_shared<EventPump>(fd_.get(), device_, std::move(wake_fd));
    auto* context = new std::shared_ptr<EventPump>(pump_);
    napi_status status = napi_create_threadsafe_function(
        env, on_event, nullptr, Napi::String::New(env, "offhook:gpio-events"), kMaxQueuedBatches, 1, nullptr,
        finalize_tsfn, context, call_js, &tsfn_);
    if (status != napi_ok) {
      delete context;
      throw Napi::Error::New(env, "napi_create_threadsafe_function failed");
    }
    tsfn_live_ = true;
    try {
      pump_->Start(tsfn_);
    } catch (const std::system_error& e) {
      Shutdown();
      throw errno_error(env, e.code().value(), "pthread_create", device_);
    }
  }

  /// Stops the thread, then lets go of the function, then closes the line: in this order, so the
  /// thread never polls a closed fd nor calls a finalized function. Safe to call more than once.
  void Shutdown() noexcept {
    if (pump_) {
      pump_->released = true;
      pump_->Stop();
    }
    if (tsfn_live_ && !pump_->tsfn_finalized) napi_release_threadsafe_function(tsfn_, napi_tsfn_abort);
    tsfn_live_ = false;
    fd_.reset();
    inject_fd_.reset();
  }

  bool TsfnUsable() const noexcept { return tsfn_live_ && !pump_->tsfn_finalized; }

  void CheckOpen(Napi::Env env) const {
    if (!fd_.valid()) {
      Napi::Error error = Napi::Error::New(env, "GPIO line request on " + device_ + " was released");
      error.Set("code", Napi::String::New(env, "ERR_GPIO_RELEASED"));
      throw error;
    }
  }

  Napi::Value Offsets(const Napi::CallbackInfo& info) {
    Napi::Array result = Napi::Array::New(info.Env(), offsets_.size());
    for (uint32_t i = 0; i < offsets_.size(); ++i) result.Set(i, Napi::Number::New(info.Env(), offsets_[i]));
    return result;
  }

  Napi::Value Released(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), !fd_.valid()); }

  // getValues(): (0 | 1)[] in request order. GPIO_V2_LINE_GET_VALUES_IOCTL.
  Napi::Value GetValues(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    CheckOpen(env);
    gpio_v2_line_values values{};
    values.mask = mask_of(offsets_.size());
    if (ioctl_retry(fd_.get(), GPIO_V2_LINE_GET_VALUES_IOCTL, &values) < 0) {
      throw errno_error(env, errno, "ioctl(GPIO_V2_LINE_GET_VALUES_IOCTL)", device_);
    }
    Napi::Array result = Napi::Array::New(env, offsets_.size());
    for (uint32_t i = 0; i < offsets_.size(); ++i) {
      result.Set(i, Napi::Number::New(env, static_cast<double>((values.bits >> i) & 1U)));
    }
    return result;
  }

  // setValues(values: (0 | 1)[]): one value per requested line. GPIO_V2_LINE_SET_VALUES_IOCTL.
  Napi::Value SetValues(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    CheckOpen(env);
    if (!info[0].IsArray()) throw Napi::TypeError::New(env, "values must be an array of 0 | 1");
    Napi::Array array = info[0].As<Napi::Array>();
    if (array.Length() != offsets_.size()) throw Napi::RangeError::New(env, "values must have one entry per requested line");
    gpio_v2_line_values values{};
    values.mask = mask_of(offsets_.size());
    for (uint32_t i = 0; i < array.Length(); ++i) {
      Napi::Value v = array.Get(i);
      if (!v.IsNumber()) throw Napi::TypeError::New(env, "values must be an array of 0 | 1");
      const double level = v.As<Napi::Number>().DoubleValue();
      if (level != 0 && level != 1) throw Napi::RangeError::New(env, "values must be an array of 0 | 1");
      if (level == 1) values.bits |= uint64_t{1} << i;
    }
    if (ioctl_retry(fd_.get(), GPIO_V2_LINE_SET_VALUES_IOCTL, &values) < 0) {
      throw errno_error(env, errno, "ioctl(GPIO_V2_LINE_SET_VALUES_IOCTL)", device_);
    }
    return env.Undefined();
  }

  // ref() / unref(): whether pending edge events keep the event loop alive (as for a socket).
  // A new request with edge detection is referenced.
  Napi::Value Ref(const Napi::CallbackInfo& info) {
    if (TsfnUsable()) napi_ref_threadsafe_function(info.Env(), tsfn_);
    return info.Env().Undefined();
  }

  Napi::Value Unref(const Napi::CallbackInfo& info) {
    if (TsfnUsable()) napi_unref_threadsafe_function(info.Env(), tsfn_);
    return info.Env().Undefined();
  }

  // release(): stops the event thread, drops queued events (none is delivered after this returns),
  // and gives the lines back to the kernel. Idempotent.
  Napi::Value Release(const Napi::CallbackInfo& info) {
    Shutdown();
    return info.Env().Undefined();
  }

  // inject({ offset, edge, timestampNs, seqno?, lineSeqno? }): loopback only; writes one
  // gpio_v2_line_event record where the kernel would.
  Napi::Value Inject(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!inject_fd_.valid()) {
      CheckOpen(env);
      throw Napi::TypeError::New(env, "inject() is only available on an open loopback request");
    }
    if (!info[0].IsObject()) throw Napi::TypeError::New(env, "event must be an object");
    Napi::Object e = info[0].As<Napi::Object>();
    gpio_v2_line_event event{};
    const Napi::Value offset = e.Get("offset");
    const Napi::Value edge = e.Get("edge");
    const Napi::Value timestamp = e.Get("timestampNs");
    if (!offset.IsNumber()) throw Napi::TypeError::New(env, "event.offset must be a number");
    if (!edge.IsString()) throw Napi::TypeError::New(env, "event.edge must be 'rising' or 'falling'");
    if (!timestamp.IsBigInt()) throw Napi::TypeError::New(env, "event.timestampNs must be a bigint");
    const std::string edge_name = edge.As<Napi::String>().Utf8Value();
    if (edge_name != "rising" && edge_name != "falling") throw Napi::TypeError::New(env, "event.edge must be 'rising' or 'falling'");
    bool lossless = false;
    event.timestamp_ns = timestamp.As<Napi::BigInt>().Uint64Value(&lossless);
    event.offset = offset.As<Napi::Number>().Uint32Value();
    event.id = edge_name == "rising" ? GPIO_V2_LINE_EVENT_RISING_EDGE : GPIO_V2_LINE_EVENT_FALLING_EDGE;
    const Napi::Value seqno = e.Get("seqno");
    const Napi::Value line_seqno = e.Get("lineSeqno");
    event.seqno = seqno.IsNumber() ? seqno.As<Napi::Number>().Uint32Value() : 0;
    event.line_seqno = line_seqno.IsNumber() ? line_seqno.As<Napi::Number>().Uint32Value() : 0;
    // One record is far below PIPE_BUF, so the write is atomic and the thread reads whole records.
    if (::write(inject_fd_.get(), &event, sizeof event) != static_cast<ssize_t>(sizeof event)) {
      throw errno_error(env, errno, "write", device_);
    }
    return env.Undefined();
  }

  // injectHangUp(): loopback only; closes the writer, which the event thread sees as the chip
  // going away (an ENODEV error event).
  Napi::Value InjectHangUp(const Napi::CallbackInfo& info) {
    inject_fd_.reset();
    return info.Env().Undefined();
  }

  UniqueFd fd_;
  UniqueFd inject_fd_;
  std::vector<uint32_t> offsets_;
  std::string device_;
  std::shared_ptr<EventPump> pump_;
  napi_threadsafe_function tsfn_ = nullptr;
  bool tsfn_live_ = false;
};

Napi::Object new_line_request(Napi::Env env, Napi::FunctionReference& line_request_class, LineRequestInit& init) {
  auto external = Napi::External<LineRequestInit>::New(env, &init);
  external.TypeTag(&kLineRequestInitTag);
  return line_request_class.New({external});
}

// ---------------------------------------------------------------------------------------------------
// Request configuration (NativeGpioRequestConfig in native-addon.ts)

struct Choice {
  const char* name;
  uint64_t flags;
};

constexpr Choice kBiasChoices[] = {
    {"as-is", 0},
    {"pull-up", GPIO_V2_LINE_FLAG_BIAS_PULL_UP},
    {"pull-down", GPIO_V2_LINE_FLAG_BIAS_PULL_DOWN},
    {"disabled", GPIO_V2_LINE_FLAG_BIAS_DISABLED},
};
constexpr Choice kEdgeChoices[] = {
    {"none", 0},
    {"rising", GPIO_V2_LINE_FLAG_EDGE_RISING},
    {"falling", GPIO_V2_LINE_FLAG_EDGE_FALLING},
    {"both", GPIO_V2_LINE_FLAG_EDGE_RISING | GPIO_V2_LINE_FLAG_EDGE_FALLING},
};
constexpr Choice kDriveChoices[] = {
    {"push-pull", 0},
    {"open-drain", GPIO_V2_LINE_FLAG_OPEN_DRAIN},
    {"open-source", GPIO_V2_LINE_FLAG_OPEN_SOURCE},
};

template <size_t N>
uint64_t choose(const Napi::Object& config, const char* key, const Choice (&choices)[N]) {
  const Napi::Value value = config.Get(key);
  if (value.IsUndefined()) return 0;
  if (value.IsString()) {
    const std::string name = value.As<Napi::String>().Utf8Value();
    for (const Choice& c : choices) {
      if (name == c.name) return c.flags;
    }
  }
  std::string expected;
  for (const Choice& c : choices) expected += std::string(expected.empty() ? "'" : ", '") + c.name + "'";
  throw Napi::TypeError::New(config.Env(), std::string("config.") + key + " must be one of " + expected);
}

bool has(const Napi::Object& config, const char* key) { return !config.Get(key).IsUndefined(); }

uint32_t uint32_property(const Napi::Object& config, const char* key, uint32_t fallback) {
  const Napi::Value value = config.Get(key);
  if (value.IsUndefined()) return fallback;
  if (!value.IsNumber()) throw Napi::TypeError::New(config.Env(), std::string("config.") + key + " must be a number");
  const double n = value.As<Napi::Number>().DoubleValue();
  if (!(n >= 0 && n <= 4294967295.0) || n != static_cast<double>(static_cast<uint32_t>(n))) {
    throw Napi::RangeError::New(config.Env(), std::string("config.") + key + " must be an integer from 0 to 2^32 - 1");
  }
  return static_cast<uint32_t>(n);
}

std::vector<uint32_t> parse_offsets(const Napi::Object& config, uint32_t chip_lines) {
  Napi::Env env = config.Env();
  const Napi::Value value = config.Get("offsets");
  if (!value.IsArray()) throw Napi::TypeError::New(env, "config.offsets must be an array of line offsets");
  Napi::Array array = value.As<Napi::Array>();
  if (array.Length() == 0 || array.Length() > GPIO_V2_LINES_MAX) {
    throw Napi::RangeError::New(env, "config.offsets must hold 1 to 64 offsets");
  }
  std::vector<uint32_t> offsets;
  for (uint32_t i = 0; i < array.Length(); ++i) {
    const Napi::Value v = array.Get(i);
    const double n = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : -1;
    if (!(n >= 0 && n < chip_lines) || n != static_cast<double>(static_cast<uint32_t>(n))) {
      throw Napi::RangeError::New(env, "config.offsets[" + std::to_string(i) + "] is not a line of this chip (0 to " +
                                           std::to_string(chip_lines - 1) + ")");
    }
    for (uint32_t seen : offsets) {
      if (seen == static_cast<uint32_t>(n)) throw Napi::RangeError::New(env, "config.offsets lists a line twice");
    }
    offsets.push_back(static_cast<uint32_t>(n));
  }
  return offsets;
}

/// Builds the uAPI v2 request from the JS config. Why each rule: the kernel rejects edge detection
/// and debounce on outputs, and drive modes on inputs, with a bare EINVAL (gpio_v2_line_flags_validate);
/// saying which field is wrong is kinder.
void fill_request(const Napi::Object& config, uint32_t chip_lines, gpio_v2_line_request& request,
                  std::vector<uint32_t>& offsets) {
  Napi::Env env = config.Env();
  offsets = parse_offsets(config, chip_lines);
  for (size_t i = 0; i < offsets.size(); ++i) request.offsets[i] = offsets[i];
  request.num_lines = static_cast<uint32_t>(offsets.size());

  const Napi::Value consumer = config.Get("consumer");
  if (!consumer.IsUndefined() && !consumer.IsString()) throw Napi::TypeError::New(env, "config.consumer must be a string");
  copy_label(request.consumer, consumer.IsString() ? consumer.As<Napi::String>().Utf8Value() : kDefaultConsumer);

  const Napi::Value direction = config.Get("direction");
  const std::string dir = direction.IsString() ? direction.As<Napi::String>().Utf8Value() : "";
  if (dir != "input" && dir != "output") throw Napi::TypeError::New(env, "config.direction must be 'input' or 'output'");
  const bool output = dir == "output";

  uint64_t flags = output ? GPIO_V2_LINE_FLAG_OUTPUT : GPIO_V2_LINE_FLAG_INPUT;
  flags |= choose(config, "bias", kBiasChoices);
  gpio_v2_line_config& lc = request.config;
  if (output) {
    if (has(config, "edge") || has(config, "debouncePeriodUs")) {
      throw Napi::TypeError::New(env, "config.edge and config.debouncePeriodUs apply to inputs only");
    }
    flags |= choose(config, "drive", kDriveChoices);
    // Initial levels as an attribute, so the line never glitches through another level (uAPI v2
    // GPIO_V2_LINE_ATTR_ID_OUTPUT_VALUES, applied with the request).
    uint64_t bits = 0;
    const Napi::Value values = config.Get("outputValues");
    if (!values.IsUndefined()) {
      if (!values.IsArray() || values.As<Napi::Array>().Length() != offsets.size()) {
        throw Napi::TypeError::New(env, "config.outputValues must hold one 0 | 1 per offset");
      }
      Napi::Array array = values.As<Napi::Array>();
      for (uint32_t i = 0; i < array.Length(); ++i) {
        const Napi::Value v = array.Get(i);
        const double level = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : -1;
        if (level != 0 && level != 1) throw Napi::TypeError::New(env, "config.outputValues must hold one 0 | 1 per offset");
        if (level == 1) bits |= uint64_t{1} << i;
      }
    }
    gpio_v2_line_config_attribute& attr = lc.attrs[lc.num_attrs++];
    attr.attr.id = GPIO_V2_LINE_ATTR_ID_OUTPUT_VALUES;
    attr.attr.values = bits;
    attr.mask = mask_of(offsets.size());
  } else {
    if (has(config, "drive") || has(config, "outputValues")) {
      throw Napi::TypeError::New(env, "config.drive and config.outputValues apply to outputs only");
    }
    flags |= choose(config, "edge", kEdgeChoices);
    // Kernel debounce is a per-line attribute in v2 (GPIO_V2_LINE_ATTR_ID_DEBOUNCE); 0 means none.
    const uint32_t debounce_us = uint32_property(config, "debouncePeriodUs", 0);
    if (debounce_us > 0) {
      gpio_v2_line_config_attribute& attr = lc.attrs[lc.num_attrs++];
      attr.attr.id = GPIO_V2_LINE_ATTR_ID_DEBOUNCE;
      attr.attr.debounce_period_us = debounce_us;
      attr.mask = mask_of(offsets.size());
    }
  }
  lc.flags = flags;
  request.event_buffer_size = uint32_property(config, "eventBufferSize", 0);
}

// ---------------------------------------------------------------------------------------------------
// Chips

const char* bias_name(uint64_t flags) {
  if ((flags & GPIO_V2_LINE_FLAG_BIAS_PULL_UP) != 0) return "pull-up";
  if ((flags & GPIO_V2_LINE_FLAG_BIAS_PULL_DOWN) != 0) return "pull-down";
  if ((flags & GPIO_V2_LINE_FLAG_BIAS_DISABLED) != 0) return "disabled";
  return "as-is";
}

const char* edge_name(uint64_t flags) {
  const bool rising = (flags & GPIO_V2_LINE_FLAG_EDGE_RISING) != 0;
  const bool falling = (flags & GPIO_V2_LINE_FLAG_EDGE_FALLING) != 0;
  if (rising && falling) return "both";
  if (rising) return "rising";
  if (falling) return "falling";
  return "none";
}

const char* drive_name(uint64_t flags) {
  if ((flags & GPIO_V2_LINE_FLAG_OPEN_DRAIN) != 0) return "open-drain";
  if ((flags & GPIO_V2_LINE_FLAG_OPEN_SOURCE) != 0) return "open-source";
  return "push-pull";
}

class Chip : public Napi::ObjectWrap<Chip> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "GpioChip",
                       {
                           InstanceAccessor<&Chip::Path>("path", napi_enumerable),
                           InstanceAccessor<&Chip::Name>("name", napi_enumerable),
                           InstanceAccessor<&Chip::Label>("label", napi_enumerable),
                           InstanceAccessor<&Chip::Lines>("lines", napi_enumerable),
                           InstanceMethod<&Chip::LineInfo>("lineInfo"),
                           InstanceMethod<&Chip::RequestLines>("requestLines"),
                           InstanceMethod<&Chip::Close>("close"),
                       });
  }

  // new GpioChip(path): open + GPIO_GET_CHIPINFO_IOCTL. A file that is not a chip (/dev/null)
  // fails the ioctl with ENOTTY.
  explicit Chip(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Chip>(info) {
    Napi::Env env = info.Env();
    if (!info[0].IsString()) throw Napi::TypeError::New(env, "path must be a string");
    path_ = info[0].As<Napi::String>().Utf8Value();
    UniqueFd fd(::open(path_.c_str(), O_RDWR | O_CLOEXEC));
    if (!fd.valid()) throw errno_error(env, errno, "open", path_);
    gpiochip_info chip_info{};
    if (ioctl_retry(fd.get(), GPIO_GET_CHIPINFO_IOCTL, &chip_info) < 0) {
      throw errno_error(env, errno, "ioctl(GPIO_GET_CHIPINFO_IOCTL)", path_);
    }
    name_ = label_string(chip_info.name);
    label_ = label_string(chip_info.label);
    lines_ = chip_info.lines;
    fd_ = std::move(fd);
  }

 private:
  void CheckOpen(Napi::Env env) const {
    if (!fd_.valid()) {
      Napi::Error error = Napi::Error::New(env, "GPIO chip " + path_ + " was closed");
      error.Set("code", Napi::String::New(env, "ERR_GPIO_CLOSED"));
      throw error;
    }
  }

  Napi::Value Path(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), path_); }
  Napi::Value Name(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), name_); }
  Napi::Value Label(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), label_); }
  Napi::Value Lines(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), lines_); }

  // lineInfo(offset): GPIO_V2_GET_LINEINFO_IOCTL, e.g. to name who holds a busy line.
  Napi::Value LineInfo(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    CheckOpen(env);
    const double n = info[0].IsNumber() ? info[0].As<Napi::Number>().DoubleValue() : -1;
    if (!(n >= 0 && n < lines_) || n != static_cast<double>(static_cast<uint32_t>(n))) {
      throw Napi::RangeError::New(env, "offset is not a line of " + path_);
    }
    gpio_v2_line_info line{};
    line.offset = static_cast<uint32_t>(n);
    if (ioctl_retry(fd_.get(), GPIO_V2_GET_LINEINFO_IOCTL, &line) < 0) {
      throw errno_error(env, errno, "ioctl(GPIO_V2_GET_LINEINFO_IOCTL)", path_);
    }
    uint32_t debounce_us = 0;
    for (uint32_t i = 0; i < line.num_attrs && i < GPIO_V2_LINE_NUM_ATTRS_MAX; ++i) {
      if (line.attrs[i].id == GPIO_V2_LINE_ATTR_ID_DEBOUNCE) debounce_us = line.attrs[i].debounce_period_us;
    }
    Napi::Object result = Napi::Object::New(env);
    result.Set("offset", Napi::Number::New(env, line.offset));
    result.Set("name", Napi::String::New(env, label_string(line.name)));
    result.Set("consumer", Napi::String::New(env, label_string(line.consumer)));
    result.Set("used", Napi::Boolean::New(env, (line.flags & GPIO_V2_LINE_FLAG_USED) != 0));
    result.Set("direction", Napi::String::New(env, (line.flags & GPIO_V2_LINE_FLAG_OUTPUT) != 0 ? "output" : "input"));
    result.Set("activeLow", Napi::Boolean::New(env, (line.flags & GPIO_V2_LINE_FLAG_ACTIVE_LOW) != 0));
    result.Set("bias", Napi::String::New(env, bias_name(line.flags)));
    result.Set("edge", Napi::String::New(env, edge_name(line.flags)));
    result.Set("drive", Napi::String::New(env, drive_name(line.flags)));
    result.Set("debouncePeriodUs", Napi::Number::New(env, debounce_us));
    return result;
  }

  // requestLines(config, onEvent?): GPIO_V2_GET_LINE_IOCTL. onEvent is required exactly when
  // config.edge asks for events; each request with events gets its own thread and function.
  Napi::Value RequestLines(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    CheckOpen(env);
    if (!info[0].IsObject()) throw Napi::TypeError::New(env, "config must be an object");
    Napi::Object config = info[0].As<Napi::Object>();
    gpio_v2_line_request request{};
    LineRequestInit init;
    fill_request(config, lines_, request, init.offsets);
    const bool edges = (request.config.flags & (GPIO_V2_LINE_FLAG_EDGE_RISING | GPIO_V2_LINE_FLAG_EDGE_FALLING)) != 0;
    if (edges != info[1].IsFunction()) {
      throw Napi::TypeError::New(env, edges ? "onEvent is required when config.edge asks for events"
                                            : "onEvent is only taken with config.edge 'rising', 'falling' or 'both'");
    }
    if (ioctl_retry(fd_.get(), GPIO_V2_GET_LINE_IOCTL, &request) < 0) {
      throw errno_error(env, errno, "ioctl(GPIO_V2_GET_LINE_IOCTL)", path_);
    }
    init.fd = UniqueFd(request.fd);
    // The event thread must never block in read(): poll() said readable, but be sure.
    const int fl = ::fcntl(init.fd.get(), F_GETFL);
    if (fl < 0 || ::fcntl(init.fd.get(), F_SETFL, fl | O_NONBLOCK) < 0) throw errno_error(env, errno, "fcntl", path_);
    init.device = path_;
    if (edges) init.on_event = info[1].As<Napi::Function>();
    return new_line_request(env, env.GetInstanceData<Addon>()->gpio_line_request_class, init);
  }

  // close(): the chip fd only; line requests stay valid until released (the kernel keeps the device).
  Napi::Value Close(const Napi::CallbackInfo& info) {
    fd_.reset();
    return info.Env().Undefined();
  }

  UniqueFd fd_;
  std::string path_;
  std::string name_;
  std::string label_;
  uint32_t lines_ = 0;
};

}  // namespace

Napi::Function define_chip_class(Napi::Env env) { return Chip::Define(env); }

Napi::Function define_line_request_class(Napi::Env env) { return LineRequest::Define(env); }

Napi::Value loopback_request(const Napi::CallbackInfo& info, Napi::FunctionReference& line_request_class) {
  Napi::Env env = info.Env();
  if (!info[0].IsObject()) throw Napi::TypeError::New(env, "options must be an object");
  if (!info[1].IsFunction()) throw Napi::TypeError::New(env, "onEvent must be a function");
  LineRequestInit init;
  init.offsets = parse_offsets(info[0].As<Napi::Object>(), GPIO_V2_LINES_MAX);
  int fds[2] = {-1, -1};
  if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) < 0) throw errno_error(env, errno, "pipe2", "loopback");
  init.fd = UniqueFd(fds[0]);
  init.inject_fd = UniqueFd(fds[1]);
  init.device = "loopback";
  init.on_event = info[1].As<Napi::Function>();
  return new_line_request(env, line_request_class, init);
}

}  // namespace offhook::gpio
