// ssh_socket.h — the TCP part of an SSH connection: name resolution and a
// non-blocking connect, both bounded by a deadline (SshSession's internals).
//
// Thread rules: free functions with no shared state; resolving a name starts
// a short-lived detached thread (getaddrinfo cannot be bounded otherwise)
// which owns everything it touches.
#pragma once

#include <chrono>

#include "backend/ssh_remote.h"
#include "backend/ssh_session.h"
#include "common/result.h"

namespace mmcfs::backend {

// Connects to options.hostname:options.port (each resolved address in turn)
// and returns the connected non-blocking socket. `bound` is the whole connect
// budget, for messages. Errors: kUnreachable (DNS failure, refused, no
// route), kTimeout (deadline passed).
Result<int> tcp_connect(const SshOptions& options, SshDeadline deadline,
                        std::chrono::milliseconds bound);

}  // namespace mmcfs::backend
