// JS errors for failed system calls, in the shape of Node's own (code = errno name, errno, syscall, path).
#ifndef OFFHOOK_ERRNO_ERROR_H
#define OFFHOOK_ERRNO_ERROR_H

#include <napi.h>

#include <string>

namespace offhook {

/// "ENOENT", "ENOTTY", ... for an errno value; "UNKNOWN" when the C library has no name for it.
const char* errno_name(int err) noexcept;

/// A JS Error "ENOENT: No such file or directory, open '/dev/gpiochip99'" with code, errno (negative,
/// as Node's system errors), syscall and path. Returns nullptr if the error could not be created.
/// Usable where C++ exceptions must not escape (thread-safe function callbacks).
napi_value make_errno_error(napi_env env, int err, const char* syscall, const std::string& path) noexcept;

/// The same, as an exception to throw from a Node-API call.
Napi::Error errno_error(Napi::Env env, int err, const char* syscall, const std::string& path);

}  // namespace offhook

#endif  // OFFHOOK_ERRNO_ERROR_H
