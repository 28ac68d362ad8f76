// offhook_sdnotify.node: sends one sd_notify(3) datagram to $NOTIFY_SOCKET (Node has no AF_UNIX datagrams).
// A second, tiny Node-API addon beside offhook_native: it has nothing to do with real time, loads in
// microseconds, and stays out of the media addon's exports and API version. Declared on the TS side
// in firmware/systemd/sd-notify.ts.
#define _GNU_SOURCE
#include <errno.h>
#include <node_api.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define MAX_MESSAGE 4096

// Throws an Error shaped like Node's system errors: code 'ENOENT', errno -2, syscall 'sendto', path.
static void throw_errno(napi_env env, int err, const char* syscall, const char* path) {
  const char* name = strerrorname_np(err);
  char text[512];
  snprintf(text, sizeof text, "%s %s: %s", syscall, path, strerror(err));
  napi_value message, code, error, value;
  napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &message);
  napi_create_string_utf8(env, name != NULL ? name : "EUNKNOWN", NAPI_AUTO_LENGTH, &code);
  napi_create_error(env, code, message, &error);
  napi_set_named_property(env, error, "code", code);
  napi_create_int32(env, -err, &value);
  napi_set_named_property(env, error, "errno", value);
  napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &value);
  napi_set_named_property(env, error, "syscall", value);
  napi_create_string_utf8(env, path, NAPI_AUTO_LENGTH, &value);
  napi_set_named_property(env, error, "path", value);
  napi_throw(env, error);
}

// notify(socketPath, message): one datagram; '@' at the start of the path is the abstract namespace.
static napi_value Notify(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  char path[sizeof(((struct sockaddr_un*)0)->sun_path) + 1];
  char message[MAX_MESSAGE + 1];
  size_t path_len = 0, message_len = 0;
  if (argc < 2 || napi_get_value_string_utf8(env, argv[0], path, sizeof path, &path_len) != napi_ok ||
      napi_get_value_string_utf8(env, argv[1], message, sizeof message, &message_len) != napi_ok) {
    napi_throw_type_error(env, NULL, "notify(socketPath: string, message: string)");
    return NULL;
  }
  struct sockaddr_un address;
  memset(&address, 0, sizeof address);
  address.sun_family = AF_UNIX;
  if (path_len == 0 || path_len >= sizeof address.sun_path || (path[0] != '/' && path[0] != '@')) {
    napi_throw_range_error(env, NULL, "the socket path must be absolute or abstract (@...) and shorter than 108 bytes");
    return NULL;
  }
  if (message_len == 0 || message_len >= MAX_MESSAGE) {
    napi_throw_range_error(env, NULL, "the message must have 1 to 4095 bytes");
    return NULL;
  }
  memcpy(address.sun_path, path, path_len);
  if (path[0] == '@') address.sun_path[0] = '\0';
  const socklen_t address_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + path_len + (path[0] == '@' ? 0 : 1));

  const int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    throw_errno(env, errno, "socket", path);
    return NULL;
  }
  const ssize_t sent = sendto(fd, message, message_len, MSG_NOSIGNAL, (const struct sockaddr*)&address, address_len);
  const int err = errno;
  close(fd);
  if (sent < 0) {
    throw_errno(env, err, "sendto", path);
    return NULL;
  }
  return NULL;
}

NAPI_MODULE_INIT(/* napi_env env, napi_value exports */) {
  napi_value fn;
  napi_create_function(env, "notify", NAPI_AUTO_LENGTH, Notify, NULL, &fn);
  napi_set_named_property(env, exports, "notify", fn);
  return exports;
}
