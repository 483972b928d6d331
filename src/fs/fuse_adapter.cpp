// fuse_adapter.cpp — libfuse low-level callbacks over the Namespace.
#define FUSE_USE_VERSION 35
#include "fs/fuse_adapter.h"

#include <fuse_lowlevel.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/fs.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <vector>

#include "common/log.h"
#include "fs/errno_map.h"

namespace mmcfs::fs {
namespace {

FuseAdapter& adapter(fuse_req_t req) { return *static_cast<FuseAdapter*>(fuse_req_userdata(req)); }
Namespace& core(fuse_req_t req) { return adapter(req).ns(); }

double seconds(std::chrono::milliseconds ms) { return static_cast<double>(ms.count()) / 1000.0; }

timespec to_timespec(WallTime t) {
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
  return timespec{static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
}

struct stat to_stat(const Attr& attr) {
  struct stat st {};
  st.st_ino = attr.ino;
  mode_t type = attr.kind == NodeKind::kDirectory ? S_IFDIR : attr.kind == NodeKind::kSymlink ? S_IFLNK : S_IFREG;
  st.st_mode = type | attr.mode;
  st.st_nlink = attr.nlink;
  st.st_size = static_cast<off_t>(attr.size);
  st.st_blksize = 4096;
  st.st_blocks = static_cast<blkcnt_t>((attr.size + 511) / 512);
  static const uid_t uid = getuid();  // the mount has one owner: ask once, not per reply
  static const gid_t gid = getgid();
  st.st_uid = uid;
  st.st_gid = gid;
  st.st_mtim = st.st_ctim = st.st_atim = to_timespec(attr.mtime);
  return st;
}

// Logs once and replies with the mapped errno.
void reply_error(fuse_req_t req, const char* op, const Error& error) {
  if (is_routine(error.code)) {
    log::debug("{}: {}", op, error.describe());
  } else {
    log::warn("{}: {}", op, error.describe());
  }
  fuse_reply_err(req, to_errno(error.code));
}

void reply_status(fuse_req_t req, const char* op, const Status& status) {
  if (!status.ok()) return reply_error(req, op, status.error());
  fuse_reply_err(req, 0);
}

fuse_entry_param to_entry(const Attr& attr) {
  fuse_entry_param e{};
  e.ino = attr.ino;
  e.generation = 1;
  e.attr = to_stat(attr);
  e.attr_timeout = seconds(attr.ttl);
  e.entry_timeout = seconds(attr.ttl);
  return e;
}

void reply_entry(fuse_req_t req, const Attr& attr) {
  fuse_entry_param e = to_entry(attr);
  fuse_reply_entry(req, &e);
}

OpenRequest to_request(int flags) {
  OpenRequest r;
  r.write = (flags & O_ACCMODE) != O_RDONLY;
  r.truncate = (flags & O_TRUNC) != 0;
  r.append = (flags & O_APPEND) != 0;
  return r;
}

void set_open_flags(fuse_file_info* fi, const Opened& opened) {
  fi->fh = opened.handle;
  fi->keep_cache = opened.keep_cache ? 1 : 0;  // else rendered per open: never serve stale pages
  fi->direct_io = opened.direct_io ? 1 : 0;
  // close() of a read-only descriptor has nothing to do (only a written
  // launch file acts on close): spare the kernel's FLUSH round trip.
  fi->noflush = (fi->flags & O_ACCMODE) == O_RDONLY ? 1 : 0;
}

// What the mount asks of the kernel at INIT, beyond libfuse's defaults:
//
// No FUSE_CAP_AUTO_INVAL_DATA (libfuse turns it on). With it the kernel asks
// for a file's attributes before EVERY read once they expired, and a log
// that may still grow has lifetime 0: a second `cat` of a 256 MiB log served
// from the page cache made a GETATTR round trip per 128 KiB. Without it the
// kernel still asks on a read past the size it knows (so `tail -f` and a
// growing log read on), still drops a file's pages when a lookup or stat
// shows a new size, and every open without keep_cache drops them too
// (rendered files). What it alone caught — bytes changed at the same size
// and mtime moved — does not happen here without an explicit invalidation:
// logs only grow, and a refetch that rewrote one is invalidated by the log
// follower and opened without keep_cache (job_log_file.h).
//
// READDIRPLUS always, not "auto": the kernel's heuristic answers a listing
// that no stat follows (a shell glob: `cat jobs/*/status`) with plain
// READDIR, so every jobs/<id> in the glob then costs a LOOKUP round trip of
// its own. With readdirplus the listing brings each entry's attributes.
//
// Symlink targets cached in the kernel (FUSE_CAP_CACHE_SYMLINKS): a link's
// target never changes while its name exists (projects/<p>/jobs/<id> ->
// ../../../jobs/<id>), so `ls -l` of 10,000 links needs no READLINK each.
void op_init(void*, fuse_conn_info* conn) {
  conn->want &= ~FUSE_CAP_AUTO_INVAL_DATA;
  if (conn->capable & FUSE_CAP_READDIRPLUS) conn->want &= ~FUSE_CAP_READDIRPLUS_AUTO;
  if (conn->capable & FUSE_CAP_CACHE_SYMLINKS) conn->want |= FUSE_CAP_CACHE_SYMLINKS;
}

void op_lookup(fuse_req_t req, fuse_ino_t parent, const char* name) {
  auto attr = core(req).lookup(parent, name);
  if (!attr.ok()) {
    if (attr.error().code == Errc::kNotFound) {
      // A short negative entry: the kernel may remember "no such name" briefly.
      fuse_entry_param e{};
      e.ino = 0;
      e.entry_timeout = seconds(kDefaultAttrTtl);
      fuse_reply_entry(req, &e);
      return;
    }
    return reply_error(req, "lookup", attr.error());
  }
  reply_entry(req, *attr);
}

void op_getattr(fuse_req_t req, fuse_ino_t ino, fuse_file_info*) {
  auto attr = core(req).getattr(ino);
  if (!attr.ok()) return reply_error(req, "getattr", attr.error());
  struct stat st = to_stat(*attr);
  fuse_reply_attr(req, &st, seconds(attr->ttl));
}

void op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat* st, int to_set, fuse_file_info* fi) {
  AttrChange change;
  if (to_set & FUSE_SET_ATTR_SIZE) change.size = static_cast<std::uint64_t>(st->st_size);
  if (to_set & FUSE_SET_ATTR_MODE) change.mode = st->st_mode & 07777;
  if (to_set & FUSE_SET_ATTR_MTIME_NOW) {
    change.mtime = std::chrono::system_clock::now();
  } else if (to_set & FUSE_SET_ATTR_MTIME) {
    change.mtime = WallTime(std::chrono::duration_cast<WallTime::duration>(
        std::chrono::seconds(st->st_mtim.tv_sec) + std::chrono::nanoseconds(st->st_mtim.tv_nsec)));
  }
  // uid/gid/atime changes are accepted and ignored: the mount has one owner.
  std::optional<HandleId> handle;
  if (fi != nullptr) handle = fi->fh;
  auto attr = core(req).setattr(ino, change, handle);
  if (!attr.ok()) return reply_error(req, "setattr", attr.error());
  struct stat out = to_stat(*attr);
  fuse_reply_attr(req, &out, seconds(attr->ttl));
}

void op_readlink(fuse_req_t req, fuse_ino_t ino) {
  auto target = core(req).readlink(ino);
  if (!target.ok()) return reply_error(req, "readlink", target.error());
  fuse_reply_readlink(req, target->c_str());
}

// A small file whose pages the kernel may keep (a finished job's status,
// launch.yaml, script) is handed over with the open (FUSE's notify_store),
// so that `cat` of it costs LOOKUP and OPEN but no READ round trip, and the
// read leaves no atime to refresh (a READ makes the kernel ask for the
// attributes at the next stat). The kernel keeps the pages: keep_cache.
void prefill_pages(fuse_req_t req, fuse_ino_t ino, HandleId handle) {
  auto bytes = core(req).read(handle, 0, kPrefillMaxBytes);
  if (bytes.ok() && !bytes->empty()) adapter(req).prefill(ino, *bytes);
}

void op_open(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  auto opened = core(req).open(ino, to_request(fi->flags));
  if (!opened.ok()) return reply_error(req, "open", opened.error());
  set_open_flags(fi, *opened);
  if (opened->prefill) prefill_pages(req, ino, opened->handle);
  if (fuse_reply_open(req, fi) == -ENOENT) core(req).release(opened->handle);  // interrupted open
}

void op_create(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode, fuse_file_info* fi) {
  auto created = core(req).create(parent, name, mode & 07777, to_request(fi->flags));
  if (!created.ok()) return reply_error(req, "create", created.error());
  set_open_flags(fi, created->second);
  fuse_entry_param e = to_entry(created->first);
  if (fuse_reply_create(req, &e, fi) == -ENOENT) core(req).release(created->second.handle);
}

void op_read(fuse_req_t req, fuse_ino_t, size_t size, off_t off, fuse_file_info* fi) {
  auto bytes = core(req).read(fi->fh, static_cast<std::uint64_t>(off), size);
  if (!bytes.ok()) return reply_error(req, "read", bytes.error());
  fuse_reply_buf(req, bytes->data(), bytes->size());
}

void op_write(fuse_req_t req, fuse_ino_t, const char* buf, size_t size, off_t off, fuse_file_info* fi) {
  auto written = core(req).write(fi->fh, static_cast<std::uint64_t>(off), std::string_view(buf, size));
  if (!written.ok()) return reply_error(req, "write", written.error());
  fuse_reply_write(req, *written);
}

void op_flush(fuse_req_t req, fuse_ino_t, fuse_file_info* fi) { reply_status(req, "flush", core(req).flush(fi->fh)); }

void op_fsync(fuse_req_t req, fuse_ino_t, int, fuse_file_info* fi) {
  reply_status(req, "fsync", core(req).fsync(fi->fh));
}

void op_release(fuse_req_t req, fuse_ino_t, fuse_file_info* fi) {
  core(req).release(fi->fh);
  fuse_reply_err(req, 0);
}

// A directory handle holds the listing taken at opendir, so that readdir
// with offsets is consistent even if the directory changes meanwhile.
struct DirHandle {
  std::vector<DirEntry> entries;
};

void op_opendir(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  auto entries = core(req).readdir(ino);
  if (!entries.ok()) return reply_error(req, "opendir", entries.error());
  auto* handle = new DirHandle{};
  handle->entries.push_back(DirEntry{".", ino, NodeKind::kDirectory});
  handle->entries.push_back(DirEntry{"..", ino, NodeKind::kDirectory});
  for (auto& e : *entries) handle->entries.push_back(std::move(e));
  fi->fh = reinterpret_cast<std::uint64_t>(handle);
  // A stable directory's listing may stay in the kernel's cache.
  bool stable = core(req).stable(ino);
  fi->cache_readdir = stable ? 1 : 0;
  fi->keep_cache = stable ? 1 : 0;
  if (fuse_reply_open(req, fi) == -ENOENT) delete handle;
}

void op_readdir(fuse_req_t req, fuse_ino_t, size_t size, off_t off, fuse_file_info* fi) {
  auto* handle = reinterpret_cast<DirHandle*>(fi->fh);
  std::vector<char> buf(size);
  size_t used = 0;
  for (size_t i = static_cast<size_t>(off); i < handle->entries.size(); ++i) {
    const DirEntry& e = handle->entries[i];
    struct stat st {};
    st.st_ino = e.ino;
    st.st_mode = e.kind == NodeKind::kDirectory ? S_IFDIR : e.kind == NodeKind::kSymlink ? S_IFLNK : S_IFREG;
    size_t need = fuse_add_direntry(req, buf.data() + used, size - used, e.name.c_str(), &st,
                                    static_cast<off_t>(i + 1));
    if (need > size - used) break;
    used += need;
  }
  fuse_reply_buf(req, buf.data(), used);
}

// As readdir, with each entry's attributes, so that `ls -l` and `find`
// need no LOOKUP per entry (the kernel asks for this when it sees lookups
// following a readdir). An entry whose attributes cannot be had is sent
// without them (ino 0): the kernel then looks it up as usual.
void op_readdirplus(fuse_req_t req, fuse_ino_t, size_t size, off_t off, fuse_file_info* fi) {
  auto* handle = reinterpret_cast<DirHandle*>(fi->fh);
  std::vector<char> buf(size);
  size_t used = 0;
  for (size_t i = static_cast<size_t>(off); i < handle->entries.size(); ++i) {
    const DirEntry& d = handle->entries[i];
    fuse_entry_param e{};
    bool dots = d.name == "." || d.name == "..";
    Result<Attr> attr = dots ? Result<Attr>(make_error(Errc::kNotFound, "")) : core(req).getattr(d.ino);
    if (attr.ok()) {
      e = to_entry(*attr);
    } else {
      e.attr.st_ino = d.ino;
      e.attr.st_mode = d.kind == NodeKind::kDirectory ? S_IFDIR : d.kind == NodeKind::kSymlink ? S_IFLNK : S_IFREG;
    }
    size_t need = fuse_add_direntry_plus(req, buf.data() + used, size - used, d.name.c_str(), &e,
                                         static_cast<off_t>(i + 1));
    if (need > size - used) break;  // not sent: the kernel did not count a lookup
    used += need;
  }
  fuse_reply_buf(req, buf.data(), used);
}

void op_releasedir(fuse_req_t req, fuse_ino_t, fuse_file_info* fi) {
  delete reinterpret_cast<DirHandle*>(fi->fh);
  fuse_reply_err(req, 0);
}

void op_statfs(fuse_req_t req, fuse_ino_t) {
  struct statvfs sv {};
  sv.f_bsize = 4096;
  sv.f_frsize = 4096;
  sv.f_namemax = 255;
  fuse_reply_statfs(req, &sv);
}

void op_mknod(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode, dev_t) {
  if (!S_ISREG(mode)) {
    fuse_reply_err(req, EPERM);
    return;
  }
  auto created = core(req).create(parent, name, mode & 07777, OpenRequest{true, false, false});
  if (!created.ok()) return reply_error(req, "mknod", created.error());
  core(req).release(created->second.handle);
  reply_entry(req, created->first);
}
void op_mkdir(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t) {
  if (auto s = core(req).mkdir(parent, name); !s.ok()) return reply_error(req, "mkdir", s.error());
  auto attr = core(req).lookup(parent, name);
  if (!attr.ok()) return reply_error(req, "mkdir", attr.error());
  reply_entry(req, *attr);
}
void op_unlink(fuse_req_t req, fuse_ino_t parent, const char* name) {
  reply_status(req, "unlink", core(req).unlink(parent, name));
}
void op_rmdir(fuse_req_t req, fuse_ino_t parent, const char* name) {
  reply_status(req, "rmdir", core(req).rmdir(parent, name));
}
void op_symlink(fuse_req_t req, const char* target, fuse_ino_t parent, const char* name) {
  auto attr = core(req).symlink(parent, name, target);
  if (!attr.ok()) return reply_error(req, "symlink", attr.error());
  reply_entry(req, *attr);
}
void op_rename(fuse_req_t req, fuse_ino_t parent, const char* name, fuse_ino_t new_parent, const char* new_name,
               unsigned flags) {
  if (flags & RENAME_EXCHANGE) {
    fuse_reply_err(req, EINVAL);
    return;
  }
  if ((flags & RENAME_NOREPLACE) && core(req).lookup(new_parent, new_name).ok()) {
    fuse_reply_err(req, EEXIST);
    return;
  }
  reply_status(req, "rename", core(req).rename(parent, name, new_parent, new_name));
}
void op_link(fuse_req_t req, fuse_ino_t, fuse_ino_t, const char*) { fuse_reply_err(req, EPERM); }
// No extended attributes: the xattr operations are left unset, so libfuse
// answers ENOSYS once and the kernel then answers EOPNOTSUPP itself, without
// a round trip (`ls -l` asks for security.selinux and the ACLs of every file).

fuse_lowlevel_ops make_ops() {
  fuse_lowlevel_ops ops{};
  ops.init = op_init;
  ops.lookup = op_lookup;
  ops.getattr = op_getattr;
  ops.setattr = op_setattr;
  ops.open = op_open;
  ops.create = op_create;
  ops.write = op_write;
  ops.flush = op_flush;
  ops.fsync = op_fsync;
  ops.readlink = op_readlink;
  ops.read = op_read;
  ops.release = op_release;
  ops.opendir = op_opendir;
  ops.readdir = op_readdir;
  ops.readdirplus = op_readdirplus;
  ops.releasedir = op_releasedir;
  ops.statfs = op_statfs;
  ops.mknod = op_mknod;
  ops.mkdir = op_mkdir;
  ops.unlink = op_unlink;
  ops.rmdir = op_rmdir;
  ops.symlink = op_symlink;
  ops.rename = op_rename;
  ops.link = op_link;
  return ops;
}

}  // namespace

FuseAdapter::FuseAdapter(Namespace& ns)
    : ns_(ns), invalidations_([this](const Invalidation& what) { send(what); }) {}

int FuseAdapter::run(const FuseOptions& options, const std::function<void()>& on_mounted) {
  std::vector<std::string> argv = {"mmcfs", "-o", "fsname=mmcfs,subtype=mmcfs,default_permissions"};
  if (options.allow_other) argv.insert(argv.end(), {"-o", "allow_other"});
  if (options.debug) argv.push_back("-d");
  std::vector<char*> cargv;
  for (auto& a : argv) cargv.push_back(a.data());
  fuse_args args = FUSE_ARGS_INIT(static_cast<int>(cargv.size()), cargv.data());

  fuse_lowlevel_ops ops = make_ops();
  fuse_session* se = fuse_session_new(&args, &ops, sizeof(ops), this);
  fuse_opt_free_args(&args);
  if (se == nullptr) {
    log::error("cannot create the FUSE session");
    return 1;
  }
  if (fuse_set_signal_handlers(se) != 0) {
    fuse_session_destroy(se);
    return 1;
  }
  if (fuse_session_mount(se, options.mountpoint.c_str()) != 0) {
    log::error("cannot mount at {}: is it an existing empty directory, and is /dev/fuse usable?",
               options.mountpoint);
    fuse_remove_signal_handlers(se);
    fuse_session_destroy(se);
    return 1;
  }
  fuse_daemonize(options.foreground ? 1 : 0);
  {
    std::unique_lock lock(session_mu_);
    session_ = se;
  }
  invalidations_.start();
  if (on_mounted) on_mounted();
  log::info("mounted at {}", options.mountpoint);

  fuse_loop_config loop{};
  loop.clone_fd = 0;
  loop.max_idle_threads = 16;
  int rc = fuse_session_loop_mt(se, &loop);

  invalidations_.stop();  // before the session goes: nothing is sent after this
  {
    std::unique_lock lock(session_mu_);
    session_ = nullptr;
  }
  fuse_session_unmount(se);
  fuse_remove_signal_handlers(se);
  fuse_session_destroy(se);
  // libfuse returns the signal number when SIGINT/SIGTERM/SIGHUP ended the
  // loop (a requested, clean shutdown) and a negative errno on failure.
  if (rc < 0) {
    log::error("FUSE loop failed: {}", std::strerror(-rc));
    return 1;
  }
  if (rc > 0) log::info("signal {}: unmounting", rc);
  log::info("unmounted {}", options.mountpoint);
  return 0;
}

void FuseAdapter::invalidate(InodeId ino) { invalidations_.enqueue(Invalidation{ino, {}}); }

void FuseAdapter::invalidate_entry(InodeId parent, std::string name) {
  invalidations_.enqueue(Invalidation{parent, std::move(name)});
}

void FuseAdapter::prefill(InodeId ino, const std::string& bytes) {
  std::shared_lock lock(session_mu_);
  if (session_ == nullptr) return;
  fuse_bufvec buf = FUSE_BUFVEC_INIT(bytes.size());
  buf.buf[0].mem = const_cast<char*>(bytes.data());
  // Failure only costs the READ it would have saved.
  if (int rc = fuse_lowlevel_notify_store(session_, ino, 0, &buf, fuse_buf_copy_flags{}); rc != 0 && rc != -ENOENT) {
    log::debug("prefill {}: {}", ino, std::strerror(-rc));
  }
}

void FuseAdapter::send(const Invalidation& what) {
  std::shared_lock lock(session_mu_);
  if (session_ == nullptr) return;
  int rc = what.name.empty()
               ? fuse_lowlevel_notify_inval_inode(session_, what.ino, 0, 0)
               : fuse_lowlevel_notify_inval_entry(session_, what.ino, what.name.c_str(), what.name.size());
  if (rc != 0 && rc != -ENOENT) {
    log::debug("invalidate {} {}: {}", what.ino, what.name, std::strerror(-rc));
  }
}

}  // namespace mmcfs::fs
