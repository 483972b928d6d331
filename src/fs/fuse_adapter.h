// fuse_adapter.h — the thin skin between the kernel (libfuse low-level API)
// and the Namespace core. Each callback is one Namespace call and one reply;
// Errors become errno through errno_map.h only, and are logged once with the
// operation's name (ENOENT quietly).
//
// Thread rules: run() blocks the calling thread in libfuse's multi-threaded
// loop. invalidate() may be called from any thread at any time (before the
// mount and after unmount it does nothing).
#pragma once

#include <functional>
#include <memory>
#include <shared_mutex>
#include <string>

#include "fs/namespace.h"

struct fuse_session;

namespace mmcfs::fs {

struct FuseOptions {
  std::string mountpoint;
  bool foreground = false;
  bool debug = false;        // libfuse's own request trace
  bool allow_other = false;  // let other users see the mount (needs user_allow_other)
};

class FuseAdapter {
 public:
  explicit FuseAdapter(Namespace& ns) : ns_(ns) {}

  // Mounts; on success calls `on_mounted` (after daemonising, so threads may
  // start there), serves until unmounted or SIGINT/SIGTERM/SIGHUP, unmounts.
  // Returns a process exit code.
  int run(const FuseOptions& options, const std::function<void()>& on_mounted);

  // Drops the kernel's cached attributes and data of an inode.
  void invalidate(InodeId ino);

  Namespace& ns() { return ns_; }

 private:
  Namespace& ns_;
  std::shared_mutex session_mu_;
  fuse_session* session_ = nullptr;  // GUARDED_BY(session_mu_); set while mounted
};

}  // namespace mmcfs::fs
