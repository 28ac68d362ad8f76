// UDP sockets of the RTP/RTCP path, IPv4 and IPv6 (literal addresses only: the SIP layer resolved names).
#ifndef OFFHOOK_ENGINE_UDP_H
#define OFFHOOK_ENGINE_UDP_H

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace offhook::engine {

/// A socket address (IPv4 or IPv6) with its port.
struct SocketAddress {
  sockaddr_storage storage{};
  socklen_t length = 0;

  bool valid() const noexcept { return length != 0; }
  int family() const noexcept { return storage.ss_family; }
  uint16_t port() const noexcept;
  void set_port(uint16_t port) noexcept;
  /// "192.0.2.1" or "2001:db8::1" (IPv4-mapped IPv6 shown as IPv4).
  std::string ip() const;
  bool operator==(const SocketAddress& other) const noexcept;
  bool operator!=(const SocketAddress& other) const noexcept { return !(*this == other); }

  /// Parses a literal address; false if it is not one.
  static bool parse(const std::string& ip, uint16_t port, SocketAddress& out) noexcept;
  /// The same address as an IPv4-mapped IPv6 address (::ffff:a.b.c.d), for a dual-stack socket.
  SocketAddress mapped_to_v6() const noexcept;
};

/// A non-blocking UDP socket. Owns its descriptor.
class UdpSocket {
 public:
  UdpSocket() = default;
  ~UdpSocket() { close(); }
  UdpSocket(const UdpSocket&) = delete;
  UdpSocket& operator=(const UdpSocket&) = delete;

  /// Binds to address:port (port 0 = the kernel picks). An IPv6 wildcard socket also takes IPv4
  /// (IPV6_V6ONLY off). `dscp` marks outgoing packets (RFC 4594: EF = 46 for telephony). Returns 0 or
  /// an errno; `syscall` says which call failed.
  int open(const SocketAddress& local, int dscp, const char*& syscall) noexcept;
  void close() noexcept;
  bool is_open() const noexcept { return fd_ >= 0; }
  int fd() const noexcept { return fd_; }
  uint16_t local_port() const noexcept { return local_.port(); }
  const SocketAddress& local() const noexcept { return local_; }

  /// Sends one datagram; returns 0 or an errno (EAGAIN means the send buffer is full: a drop).
  int send_to(const uint8_t* data, size_t size, const SocketAddress& to) noexcept;
  /// Receives one datagram; returns its size, or -1 with errno (EAGAIN when none is waiting).
  /// `kernel_ns`: when the kernel took the datagram in (SO_TIMESTAMPNS, CLOCK_REALTIME, ns), 0 if unknown.
  ssize_t receive(uint8_t* buffer, size_t capacity, SocketAddress& from, int64_t& kernel_ns) noexcept;
  /// What address to send to for a remote of possibly another family; false if unreachable from here.
  bool adapt(const SocketAddress& remote, SocketAddress& out) const noexcept;

 private:
  int fd_ = -1;
  SocketAddress local_;
  bool dual_stack_ = false;
};

}  // namespace offhook::engine

#endif  // OFFHOOK_ENGINE_UDP_H
