// Non-blocking UDP sockets for RTP and RTCP (IPv4, IPv6, IPv4-mapped on dual-stack sockets).
#include "engine/udp.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/ip.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>

namespace offhook::engine {

uint16_t SocketAddress::port() const noexcept {
  if (family() == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in*>(&storage)->sin_port);
  if (family() == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6*>(&storage)->sin6_port);
  return 0;
}

void SocketAddress::set_port(uint16_t port) noexcept {
  if (family() == AF_INET) reinterpret_cast<sockaddr_in*>(&storage)->sin_port = htons(port);
  if (family() == AF_INET6) reinterpret_cast<sockaddr_in6*>(&storage)->sin6_port = htons(port);
}

std::string SocketAddress::ip() const {
  char text[INET6_ADDRSTRLEN] = {};
  if (family() == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&storage)->sin_addr, text, sizeof text);
  } else if (family() == AF_INET6) {
    const in6_addr& a = reinterpret_cast<const sockaddr_in6*>(&storage)->sin6_addr;
    if (IN6_IS_ADDR_V4MAPPED(&a)) {
      inet_ntop(AF_INET, a.s6_addr + 12, text, sizeof text);
    } else {
      inet_ntop(AF_INET6, &a, text, sizeof text);
    }
  }
  return text;
}

bool SocketAddress::operator==(const SocketAddress& other) const noexcept {
  if (family() != other.family() || port() != other.port()) return false;
  if (family() == AF_INET) {
    return reinterpret_cast<const sockaddr_in*>(&storage)->sin_addr.s_addr ==
           reinterpret_cast<const sockaddr_in*>(&other.storage)->sin_addr.s_addr;
  }
  if (family() == AF_INET6) {
    return std::memcmp(&reinterpret_cast<const sockaddr_in6*>(&storage)->sin6_addr,
                       &reinterpret_cast<const sockaddr_in6*>(&other.storage)->sin6_addr, sizeof(in6_addr)) == 0;
  }
  return false;
}

bool SocketAddress::parse(const std::string& ip, uint16_t port, SocketAddress& out) noexcept {
  out = SocketAddress{};
  auto* v4 = reinterpret_cast<sockaddr_in*>(&out.storage);
  if (inet_pton(AF_INET, ip.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    out.length = sizeof(sockaddr_in);
    return true;
  }
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&out.storage);
  if (inet_pton(AF_INET6, ip.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    out.length = sizeof(sockaddr_in6);
    return true;
  }
  out = SocketAddress{};
  return false;
}

SocketAddress SocketAddress::mapped_to_v6() const noexcept {
  if (family() != AF_INET) return *this;
  SocketAddress out;
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&out.storage);
  v6->sin6_family = AF_INET6;
  v6->sin6_port = reinterpret_cast<const sockaddr_in*>(&storage)->sin_port;
  v6->sin6_addr.s6_addr[10] = 0xFF;
  v6->sin6_addr.s6_addr[11] = 0xFF;
  std::memcpy(v6->sin6_addr.s6_addr + 12, &reinterpret_cast<const sockaddr_in*>(&storage)->sin_addr, 4);
  out.length = sizeof(sockaddr_in6);
  return out;
}

int UdpSocket::open(const SocketAddress& local, int dscp, const char*& syscall) noexcept {
  close();
  syscall = "socket";
  fd_ = ::socket(local.family(), SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0) return errno;
  if (local.family() == AF_INET6) {
    const in6_addr& a = reinterpret_cast<const sockaddr_in6*>(&local.storage)->sin6_addr;
    dual_stack_ = IN6_IS_ADDR_UNSPECIFIED(&a);
    const int v6only = dual_stack_ ? 0 : 1;
    setsockopt(fd_, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof v6only);
  }
  if (dscp > 0) {
    // DSCP in the upper 6 bits of the TOS / traffic class octet (RFC 2474 §3). Best effort: an
    // unprivileged process may set EF, and a failure only costs the marking.
    const int tos = dscp << 2;
    if (local.family() == AF_INET) {
      setsockopt(fd_, IPPROTO_IP, IP_TOS, &tos, sizeof tos);
    } else {
      setsockopt(fd_, IPPROTO_IPV6, IPV6_TCLASS, &tos, sizeof tos);
    }
  }
  // Receive timestamps: the media thread reads the sockets once per tick, and the kernel's time of
  // arrival keeps the jitter statistics as exact as a thread woken for every packet would (socket(7)).
  const int on = 1;
  setsockopt(fd_, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on);
  syscall = "bind";
  if (::bind(fd_, reinterpret_cast<const sockaddr*>(&local.storage), local.length) < 0) {
    const int err = errno;
    close();
    return err;
  }
  local_ = SocketAddress{};
  local_.length = sizeof local_.storage;
  syscall = "getsockname";
  if (::getsockname(fd_, reinterpret_cast<sockaddr*>(&local_.storage), &local_.length) < 0) {
    const int err = errno;
    close();
    return err;
  }
  return 0;
}

void UdpSocket::close() noexcept {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

bool UdpSocket::adapt(const SocketAddress& remote, SocketAddress& out) const noexcept {
  if (remote.family() == local_.family()) {
    out = remote;
    return true;
  }
  if (remote.family() == AF_INET && dual_stack_) {
    out = remote.mapped_to_v6();
    return true;
  }
  return false;
}

int UdpSocket::send_to(const uint8_t* data, size_t size, const SocketAddress& to) noexcept {
  const ssize_t n = ::sendto(fd_, data, size, MSG_DONTWAIT | MSG_NOSIGNAL, reinterpret_cast<const sockaddr*>(&to.storage), to.length);
  return n < 0 ? errno : 0;
}

ssize_t UdpSocket::receive(uint8_t* buffer, size_t capacity, SocketAddress& from, int64_t& kernel_ns) noexcept {
  iovec iov{buffer, capacity};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(timespec))];
  msghdr msg{};
  msg.msg_name = &from.storage;
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  ssize_t n = 0;
  do {
    msg.msg_namelen = sizeof from.storage;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    n = ::recvmsg(fd_, &msg, MSG_DONTWAIT);
  } while (n < 0 && errno == EINTR);
  kernel_ns = 0;
  if (n < 0) {
    from.length = 0;
    return n;
  }
  from.length = msg.msg_namelen;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
      timespec ts;
      std::memcpy(&ts, CMSG_DATA(c), sizeof ts);
      kernel_ns = static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
    }
  }
  return n;
}

}  // namespace offhook::engine
