// The socket audit sink (tcp, udp, unix stream). Every wait is bounded by the
// write timeout: a peer that stops reading makes requests fail at the timeout
// instead of hanging the server, and the next request reconnects.

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "vault/audit/audit_sink.h"

namespace coffer::audit {
namespace {

int remaining_ms(std::chrono::steady_clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  return left.count() > 0 ? static_cast<int>(left.count()) : 0;
}

class SocketSink final : public AuditSink {
 public:
  SocketSink(std::string type, std::string address, std::chrono::milliseconds timeout)
      : type_(std::move(type)), address_(std::move(address)), timeout_(timeout) {}
  ~SocketSink() override { disconnect(); }

  Status write_line(std::string_view line) override {
    const auto deadline = std::chrono::steady_clock::now() + timeout_;
    if (fd_ < 0) {
      if (Status s = connect(deadline); !s.ok()) return s;
    }
    std::string framed;
    framed.reserve(line.size() + 1);
    framed.append(line).push_back('\n');
    std::string_view rest = framed;
    while (!rest.empty()) {
      const ssize_t n = ::send(fd_, rest.data(), rest.size(), MSG_NOSIGNAL);
      if (n > 0) {
        rest.remove_prefix(static_cast<std::size_t>(n));
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        pollfd p{fd_, POLLOUT, 0};
        const int wait = remaining_ms(deadline);
        if (wait > 0 && ::poll(&p, 1, wait) > 0 && (p.revents & POLLOUT) != 0) continue;
        disconnect();
        return unavailable("audit socket " + address_ + " did not accept the entry in time");
      }
      disconnect();
      return unavailable("audit socket " + address_ + " write failed: " + std::strerror(errno));
    }
    return ok_status();
  }

  Status connect(std::chrono::steady_clock::time_point deadline) {
    if (type_ == "unix") {
      sockaddr_un addr{};
      addr.sun_family = AF_UNIX;
      if (address_.size() >= sizeof(addr.sun_path)) {
        return invalid_argument("audit socket path is too long");
      }
      std::memcpy(addr.sun_path, address_.c_str(), address_.size() + 1);
      return connect_to(AF_UNIX, SOCK_STREAM, reinterpret_cast<const sockaddr*>(&addr),
                        sizeof(addr), deadline);
    }
    const auto colon = address_.rfind(':');
    if (colon == std::string::npos) return invalid_argument("audit socket address needs host:port");
    std::string host = address_.substr(0, colon);
    if (host.size() >= 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
    const std::string port = address_.substr(colon + 1);
    addrinfo hints{};
    hints.ai_socktype = type_ == "udp" ? SOCK_DGRAM : SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    addrinfo* found = nullptr;
    if (::getaddrinfo(host.c_str(), port.c_str(), &hints, &found) != 0 || found == nullptr) {
      return unavailable("cannot resolve audit socket address " + address_);
    }
    Status s = connect_to(found->ai_family, found->ai_socktype, found->ai_addr, found->ai_addrlen,
                          deadline);
    ::freeaddrinfo(found);
    return s;
  }

 private:
  Status connect_to(int family, int type, const sockaddr* addr, socklen_t length,
                    std::chrono::steady_clock::time_point deadline) {
    const int fd = ::socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return unavailable(std::string("audit socket: ") + std::strerror(errno));
    if (::connect(fd, addr, length) != 0 && errno != EINPROGRESS) {
      const std::string why = std::strerror(errno);
      ::close(fd);
      return unavailable("cannot connect to audit socket " + address_ + ": " + why);
    }
    pollfd p{fd, POLLOUT, 0};
    int error = 0;
    socklen_t error_length = sizeof(error);
    if (::poll(&p, 1, remaining_ms(deadline)) <= 0 ||
        ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &error_length) != 0 || error != 0) {
      ::close(fd);
      return unavailable("cannot connect to audit socket " + address_);
    }
    fd_ = fd;
    return ok_status();
  }

  void disconnect() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  const std::string type_;
  const std::string address_;
  const std::chrono::milliseconds timeout_;
  int fd_ = -1;
};

}  // namespace

Result<std::unique_ptr<AuditSink>> open_socket_sink(const std::string& socket_type,
                                                    const std::string& address,
                                                    std::chrono::milliseconds write_timeout,
                                                    bool open_now) {
  if (socket_type != "tcp" && socket_type != "udp" && socket_type != "unix") {
    return fail(invalid_argument("socket_type must be tcp, udp or unix"));
  }
  if (address.empty()) return fail(invalid_argument("address is required"));
  auto sink = std::make_unique<SocketSink>(socket_type, address, write_timeout);
  // Vault refuses to enable a socket device it cannot reach.
  if (open_now) COFFER_TRY(sink->connect(std::chrono::steady_clock::now() + write_timeout));
  return std::unique_ptr<AuditSink>(std::move(sink));
}

}  // namespace coffer::audit
