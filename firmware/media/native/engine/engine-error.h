// The C++ exception the engine throws on the JS thread (bad configuration, a socket that cannot bind, a device that cannot open).
#ifndef OFFHOOK_ENGINE_ENGINE_ERROR_H
#define OFFHOOK_ENGINE_ENGINE_ERROR_H

#include <stdexcept>
#include <string>

namespace offhook::engine {

/// Thrown only on the JS thread (engine and stream creation, configuration); the binding turns it
/// into a JS Error with `code` (MediaEngineErrorCode in media-engine.ts) and, for system calls, the
/// errno name, syscall and address. The media and network threads never throw.
class EngineError : public std::runtime_error {
 public:
  EngineError(std::string code, const std::string& message, int err = 0, std::string syscall = {}, std::string address = {})
      : std::runtime_error(message), code(std::move(code)), err(err), syscall(std::move(syscall)), address(std::move(address)) {}
  std::string code;  ///< 'ERR_MEDIA_CONFIG', 'ERR_MEDIA_SOCKET', 'ERR_MEDIA_DEVICE', 'ERR_MEDIA_STATE', 'ERR_MEDIA_NO_STREAM'
  int err;
  std::string syscall;
  std::string address;
};

}  // namespace offhook::engine

#endif  // OFFHOOK_ENGINE_ENGINE_ERROR_H
