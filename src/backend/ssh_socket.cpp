// ssh_socket.cpp — bounded DNS resolution and TCP connect (see ssh_socket.h).
#include "backend/ssh_socket.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace mmcfs::backend {
namespace {

using std::chrono::milliseconds;

struct Address {
  sockaddr_storage storage;
  socklen_t length;
  int family;
};

// getaddrinfo cannot be bounded, so a name (not a numeric address) is
// resolved on a detached helper thread that we stop waiting for at the deadline.
Result<std::vector<Address>> resolve(const SshOptions& o, SshDeadline deadline) {
  struct Lookup {
    std::mutex mu;
    std::condition_variable done_cv;
    bool done = false;
    int rc = 0;
    std::vector<Address> addresses;
  };
  auto lookup = std::make_shared<Lookup>();
  auto run_lookup = [lookup, host = o.hostname, port = std::to_string(o.port)](int flags) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = flags;
    addrinfo* list = nullptr;
    int rc = getaddrinfo(host.c_str(), port.c_str(), &hints, &list);
    std::lock_guard lock(lookup->mu);
    lookup->rc = rc;
    for (addrinfo* ai = list; rc == 0 && ai != nullptr; ai = ai->ai_next) {
      Address a{};
      std::memcpy(&a.storage, ai->ai_addr, ai->ai_addrlen);
      a.length = ai->ai_addrlen;
      a.family = ai->ai_family;
      lookup->addresses.push_back(a);
    }
    if (list != nullptr) freeaddrinfo(list);
    lookup->done = true;
    lookup->done_cv.notify_all();
  };

  run_lookup(AI_NUMERICHOST);  // instant, no DNS
  if (lookup->rc == EAI_NONAME) {
    lookup->done = false;
    std::thread(run_lookup, 0).detach();
    std::unique_lock lock(lookup->mu);
    if (!lookup->done_cv.wait_until(lock, deadline, [&] { return lookup->done; })) {
      return ssh_error(o, Errc::kTimeout,
                       "could not resolve host name " + o.hostname + " in time (DNS not answering?)");
    }
  }
  std::lock_guard lock(lookup->mu);
  if (lookup->rc != 0 || lookup->addresses.empty()) {
    return ssh_error(o, Errc::kUnreachable,
                     "cannot resolve host name " + o.hostname + ": " + gai_strerror(lookup->rc) +
                         " (check host in clusters.yaml; VPN connected?)");
  }
  return lookup->addresses;
}

std::string describe_connect_errno(int err) {
  switch (err) {
    case ECONNREFUSED: return "connection refused (is sshd running there, on that port?)";
    case EHOSTUNREACH: return "no route to host (network down, or VPN not connected?)";
    case ENETUNREACH: return "network unreachable (network down, or VPN not connected?)";
    default: return std::strerror(err);
  }
}

}  // namespace

Result<int> tcp_connect(const SshOptions& o, SshDeadline deadline, milliseconds bound) {
  auto addresses = resolve(o, deadline);
  if (!addresses.ok()) return addresses.error();
  int last_errno = 0;
  for (const Address& a : *addresses) {
    int fd = socket(a.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      last_errno = errno;
      continue;
    }
    // SSH is request/response: without TCP_NODELAY, Nagle's algorithm holds
    // our small packets until the server's delayed ACK (~40 ms a command).
    // OpenSSH sets it for interactive sessions too.
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    int rc = ::connect(fd, reinterpret_cast<const sockaddr*>(&a.storage), a.length);
    if (rc != 0 && errno == EINPROGRESS) {
      pollfd p{fd, POLLOUT, 0};
      do {
        milliseconds left = time_left(deadline);
        rc = left.count() <= 0 ? 0 : poll(&p, 1, static_cast<int>(left.count()));
      } while (rc < 0 && errno == EINTR);
      if (rc == 0) {
        close(fd);
        return ssh_error(o, Errc::kTimeout,
                         "no TCP connection to " + o.hostname + ":" + std::to_string(o.port) +
                             " within " + describe_duration(bound) +
                             " (host down, firewalled, or VPN not connected?)");
      }
      socklen_t len = sizeof rc;
      if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &rc, &len) != 0) rc = errno;
      errno = rc;
      rc = rc == 0 ? 0 : -1;
    }
    if (rc == 0) return fd;
    last_errno = errno;
    close(fd);
  }
  return ssh_error(o, Errc::kUnreachable,
                   "cannot connect to " + o.hostname + ":" + std::to_string(o.port) + ": " +
                       describe_connect_errno(last_errno));
}

}  // namespace mmcfs::backend
