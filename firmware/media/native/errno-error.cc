// Errno → JS error conversion shared by every part of the addon that makes system calls.
#include "errno-error.h"

#include <cerrno>
#include <cstring>

namespace offhook {

namespace {

// glibc >= 2.32 names every errno and describes it without a shared buffer (strerror_r is not needed);
// older or other C libraries fall back to the names this addon is expected to meet.
const char* describe(int err) noexcept {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 32))
  const char* d = strerrordesc_np(err);
  return d != nullptr ? d : "Unknown error";
#else
  return std::strerror(err);
#endif
}

bool set_property(napi_env env, napi_value object, const char* key, napi_value value) noexcept {
  return value != nullptr && napi_set_named_property(env, object, key, value) == napi_ok;
}

}  // namespace

const char* errno_name(int err) noexcept {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 32))
  const char* name = strerrorname_np(err);
  if (name != nullptr) return name;
#endif
  switch (err) {
    case ENOENT: return "ENOENT";
    case ENOTTY: return "ENOTTY";
    case EBUSY: return "EBUSY";
    case EACCES: return "EACCES";
    case EPERM: return "EPERM";
    case EINVAL: return "EINVAL";
    case ENODEV: return "ENODEV";
    case ENXIO: return "ENXIO";
    case EIO: return "EIO";
    case EAGAIN: return "EAGAIN";
    case EISDIR: return "EISDIR";
    case ENOTDIR: return "ENOTDIR";
    case EMFILE: return "EMFILE";
    case ENOMEM: return "ENOMEM";
    case EBADF: return "EBADF";
    default: return "UNKNOWN";
  }
}

napi_value make_errno_error(napi_env env, int err, const char* syscall, const std::string& path) noexcept {
  try {
    const char* name = errno_name(err);
    const std::string message = std::string(name) + ": " + describe(err) + ", " + syscall + " '" + path + "'";
    napi_value code = nullptr;
    napi_value msg = nullptr;
    napi_value error = nullptr;
    if (napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &code) != napi_ok) return nullptr;
    if (napi_create_string_utf8(env, message.c_str(), message.size(), &msg) != napi_ok) return nullptr;
    if (napi_create_error(env, code, msg, &error) != napi_ok) return nullptr;
    napi_value errno_value = nullptr;
    napi_value syscall_value = nullptr;
    napi_value path_value = nullptr;
    napi_create_int32(env, -err, &errno_value);
    napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &syscall_value);
    napi_create_string_utf8(env, path.c_str(), path.size(), &path_value);
    if (!set_property(env, error, "errno", errno_value) || !set_property(env, error, "syscall", syscall_value) ||
        !set_property(env, error, "path", path_value)) {
      return nullptr;
    }
    return error;
  } catch (...) {  // std::bad_alloc from the message: no error object rather than an escaping exception
    return nullptr;
  }
}

Napi::Error errno_error(Napi::Env env, int err, const char* syscall, const std::string& path) {
  napi_value error = make_errno_error(env, err, syscall, path);
  if (error == nullptr) return Napi::Error::New(env, std::string(errno_name(err)) + ", " + syscall + " '" + path + "'");
  return Napi::Error(env, error);
}

}  // namespace offhook
