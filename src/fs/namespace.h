// namespace.h — the filesystem core: stable inode ids over a tree of Nodes.
//
// Namespace answers the calls a kernel filesystem needs (lookup, getattr,
// readdir, readlink, open/read/write/flush/fsync/release, create, setattr,
// unlink, mkdir, rmdir, symlink, rename) by delegating to Nodes, and returns
// typed Errors. It knows nothing of FUSE: src/fs/fuse_adapter.cpp turns
// requests into these calls and Errors into errno. Unit tests drive it
// directly.
//
// Inode ids are stable for the life of the mount: the same path always gets
// the same id (entries are keyed by parent id and name), so `find` and `ls -i`
// behave; a rename moves the id with the name, as on a disk filesystem. A
// symlink whose target changed gets a new id (as `ln -sf` replaces a link
// on disk), so the kernel never serves a target it cached for the old one.
// Entries are never reused for another path; the table grows with the number
// of distinct names seen (kernel FORGETs are not needed to bound it: the tree
// is small, and jobs/ entries are long-lived anyway).
//
// Reads of rendered files are consistent per open: open() renders once and
// every read() of that handle returns slices of the same bytes.
//
// Thread rules: every method may be called from any FUSE worker thread. mu_
// guards the tables only; node calls happen outside the lock.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "fs/node.h"

namespace mmcfs::fs {

struct Attr {
  InodeId ino = 0;
  NodeKind kind = NodeKind::kFile;
  std::uint64_t size = 0;
  WallTime mtime;
  std::uint32_t mode = 0;   // permission bits only
  std::uint32_t nlink = 1;
  std::chrono::milliseconds ttl = kDefaultAttrTtl;
};

struct DirEntry {
  std::string name;
  InodeId ino = 0;
  NodeKind kind = NodeKind::kFile;
};

using HandleId = std::uint64_t;

struct Opened {
  HandleId handle = 0;
  bool direct_io = false;
  // The node is stable() or the file says so (OpenFile::keep_cache): cached
  // pages stay valid across opens.
  bool keep_cache = false;
  // keep_cache, and the file's bytes are small and fixed (OpenFile::prefill):
  // the FUSE layer may put them in the kernel's page cache with the open.
  bool prefill = false;
};

class Namespace {
 public:
  explicit Namespace(std::shared_ptr<DirNode> root);
  Namespace(const Namespace&) = delete;  // ids_ hashes through entries_
  Namespace& operator=(const Namespace&) = delete;

  Result<Attr> lookup(InodeId parent, std::string_view name);
  Result<Attr> getattr(InodeId ino);
  Result<std::vector<DirEntry>> readdir(InodeId dir);
  Result<std::string> readlink(InodeId ino);
  // Node::stable() of an inode (false if unknown).
  bool stable(InodeId ino) const;

  Result<Opened> open(InodeId ino, const OpenRequest& request);
  Result<std::string> read(HandleId handle, std::uint64_t offset, std::size_t size);
  Result<std::size_t> write(HandleId handle, std::uint64_t offset, std::string_view data);
  Status flush(HandleId handle);
  Status fsync(HandleId handle);
  void release(HandleId handle);

  // Creates and opens a file.
  Result<std::pair<Attr, Opened>> create(InodeId parent, std::string_view name, std::uint32_t mode,
                                         const OpenRequest& request);
  // With `handle`, a size change goes through the open file (ftruncate).
  Result<Attr> setattr(InodeId ino, const AttrChange& change, std::optional<HandleId> handle);
  Status unlink(InodeId parent, std::string_view name);
  Status mkdir(InodeId parent, std::string_view name);
  Status rmdir(InodeId parent, std::string_view name);
  Result<Attr> symlink(InodeId parent, std::string_view name, std::string_view target);
  Status rename(InodeId parent, std::string_view name, InodeId new_parent, std::string_view new_name);

  // "clusters/alpha/gpus" for an inode; "" for the root. kNotFound if unknown.
  Result<std::string> path_of(InodeId ino) const;
  // Inode ids already handed out whose path equals `prefix` or lies below it.
  std::vector<InodeId> known_inodes_under(std::string_view prefix) const;
  // The inode id already handed out for exactly `path` ("jobs/J/log"), if any.
  std::optional<InodeId> known_inode(std::string_view path) const;

  std::size_t open_handles() const;

 private:
  // One inode: its name in its parent (the path is computed from the chain
  // of parents when asked for, not kept: a mount walked with 10,000 jobs has
  // 100,000 inodes, so an entry is kept small). Entries live in a deque
  // indexed by inode id (ids are handed out in order and never reused); the
  // children found so far of an entry are linked through first_child and
  // next_sibling, so a subtree is walked without searching the table.
  struct Entry {
    InodeId parent = 0;
    std::uint32_t first_child = 0;   // index of a child entry; 0: none
    std::uint32_t next_sibling = 0;  // index of the next child of `parent`; 0: none
    std::string name;
    std::shared_ptr<Node> node;      // null: an id handed out without an entry (symlink())
    bool named = false;              // found by (parent, name): in ids_ and its parent's list
  };
  // (parent, name) -> inode id, hashing the entry an id names: the set holds
  // only the ids (no second copy of the names).
  struct NameKey {
    InodeId parent;
    std::string_view name;
  };
  struct ByName {
    using is_transparent = void;
    const std::deque<Entry>* entries;
    std::size_t operator()(const NameKey& k) const noexcept;
    std::size_t operator()(InodeId ino) const noexcept;
    bool operator()(InodeId a, InodeId b) const noexcept { return a == b; }
    bool operator()(const NameKey& k, InodeId ino) const noexcept;
    bool operator()(InodeId ino, const NameKey& k) const noexcept { return (*this)(k, ino); }
  };

  Result<std::shared_ptr<Node>> node_of(InodeId ino) const;
  Result<std::shared_ptr<DirNode>> dir_of(InodeId ino) const;
  Result<std::shared_ptr<OpenFile>> handle_of(HandleId handle) const;
  InodeId remember(InodeId parent, std::string_view name, std::shared_ptr<Node> node);
  void forget_name(InodeId parent, std::string_view name);
  Result<Attr> attr_of(InodeId ino, const Node& node) const;
  std::string path_locked(InodeId ino) const;  // REQUIRES(mu_); ino known
  Opened keep(std::unique_ptr<OpenFile> file);
  // "path: message" for errors from a mutation of `name` in `parent`.
  Error annotate(Error error, InodeId parent, std::string_view name) const;
  // All REQUIRES(mu_).
  Entry* entry_locked(InodeId ino);              // null if never handed out
  const Entry* entry_locked(InodeId ino) const;
  std::optional<InodeId> find_locked(InodeId parent, std::string_view name) const;
  void link_locked(InodeId ino);                 // into ids_ and its parent's list
  void unlink_locked(InodeId ino);               // out of both
  InodeId new_id_locked();                       // an id with an unnamed, empty entry
  std::optional<InodeId> known_inode_locked(std::string_view path) const;

  mutable std::mutex mu_;
  std::deque<Entry> entries_;                                          // GUARDED_BY(mu_); [ino - kRootInode]
  std::unordered_set<InodeId, ByName, ByName> ids_;                   // GUARDED_BY(mu_)
  std::unordered_map<HandleId, std::shared_ptr<OpenFile>> handles_;   // GUARDED_BY(mu_)
  HandleId next_handle_ = 1;                                           // GUARDED_BY(mu_)
};

}  // namespace mmcfs::fs
