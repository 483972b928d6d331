// fuse_adapter.h — the thin skin between the kernel (libfuse low-level API)
// and the Namespace core. Each callback is one Namespace call and one reply;
// Errors become errno through errno_map.h only, and are logged once with the
// operation's name (ENOENT quietly).
//
// Kernel cache invalidations are queued and sent by the adapter's own thread
// (invalidation_queue.h), never on the caller's: a notification sent from
// inside a FUSE request handler would deadlock the kernel.
//
// Thread rules: run() blocks the calling thread in libfuse's multi-threaded
// loop. invalidate() and invalidate_entry() may be called from any thread at
// any time, FUSE handlers included; they only queue (before the mount and
// after unmount they do nothing).
#pragma once

#include <functional>
#include <memory>
#include <shared_mutex>
#include <string>

#include "fs/invalidation_queue.h"
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
  explicit FuseAdapter(Namespace& ns);

  // Mounts; on success calls `on_mounted` (after daemonising, so threads may
  // start there), serves until unmounted or SIGINT/SIGTERM/SIGHUP, unmounts.
  // Returns a process exit code.
  int run(const FuseOptions& options, const std::function<void()>& on_mounted);

  // Drops the kernel's cached attributes and data of an inode (queued).
  void invalidate(InodeId ino);
  // Drops the kernel's cached entry `name` of directory `parent` (queued).
  void invalidate_entry(InodeId parent, std::string name);
  // Puts a whole small file's bytes in the kernel's page cache (sent at once,
  // from an OPEN handler before its reply: see op_open).
  void prefill(InodeId ino, const std::string& bytes);

  Namespace& ns() { return ns_; }

 private:
  // Sends one queued invalidation (on the queue's thread).
  void send(const Invalidation& what);

  Namespace& ns_;
  std::shared_mutex session_mu_;
  fuse_session* session_ = nullptr;  // GUARDED_BY(session_mu_); set while mounted
  InvalidationQueue invalidations_;  // last: stopped (joined) before the rest goes
};

}  // namespace mmcfs::fs
