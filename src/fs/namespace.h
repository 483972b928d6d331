// namespace.h — the filesystem core: stable inode ids over a tree of Nodes.
//
// Namespace answers lookup, getattr, readdir, open, read and release the way a
// kernel filesystem needs them, and refuses mutations with a typed Error. It
// knows nothing of FUSE: src/fs/fuse_adapter.cpp turns requests into these
// calls and Errors into errno. Unit tests drive it directly.
//
// Inode ids are stable for the life of the mount: the same path always gets
// the same id (entries are keyed by parent id and name), so `find` and `ls -i`
// behave. Entries are never reused for another path; the table grows with the
// number of distinct names looked up, which is bounded by the tree's size.
//
// Reads are consistent per open: open() renders the file once and every
// read() of that handle returns slices of the same bytes, so a reader never
// sees a torn mix of two renderings.
//
// Thread rules: every method may be called from any FUSE worker thread. mu_
// guards the tables only; node rendering happens outside the lock.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "fs/node.h"

namespace mmcfs::fs {

struct Attr {
  InodeId ino = 0;
  NodeKind kind = NodeKind::kFile;
  std::uint64_t size = 0;
  WallTime mtime;
  std::uint32_t mode = 0;   // permission bits only (0444 / 0555)
  std::uint32_t nlink = 1;
  std::chrono::milliseconds ttl = kDefaultAttrTtl;
};

struct DirEntry {
  std::string name;
  InodeId ino = 0;
  NodeKind kind = NodeKind::kFile;
};

using HandleId = std::uint64_t;

enum class OpenMode { kRead, kWrite };

class Namespace {
 public:
  explicit Namespace(std::shared_ptr<DirNode> root);

  Result<Attr> lookup(InodeId parent, std::string_view name);
  Result<Attr> getattr(InodeId ino);
  Result<std::vector<DirEntry>> readdir(InodeId dir);

  Result<HandleId> open(InodeId ino, OpenMode mode);
  Result<std::string> read(HandleId handle, std::uint64_t offset, std::size_t size) const;
  void release(HandleId handle);

  // Every mutation of this tree (create, mkdir, unlink, rmdir, rename,
  // truncate, symlink, link, chmod, setxattr) is refused with kReadOnly and a
  // message naming the path.
  Error refuse_mutation(InodeId ino, std::string_view name, std::string_view what) const;

  // "clusters/alpha/gpus" for an inode; "" for the root. kNotFound if unknown.
  Result<std::string> path_of(InodeId ino) const;
  // Inode ids already handed out whose path equals `prefix` or lies below it.
  std::vector<InodeId> known_inodes_under(std::string_view prefix) const;

  std::size_t open_handles() const;

 private:
  struct Entry {
    InodeId parent = 0;
    std::string path;
    std::shared_ptr<Node> node;
  };

  Result<std::shared_ptr<Node>> node_of(InodeId ino) const;
  InodeId remember(InodeId parent, std::string_view name, std::shared_ptr<Node> node);
  Result<Attr> attr_of(InodeId ino, const Node& node) const;

  mutable std::mutex mu_;
  std::unordered_map<InodeId, Entry> entries_;                 // GUARDED_BY(mu_)
  std::map<std::pair<InodeId, std::string>, InodeId, std::less<>> ids_;  // GUARDED_BY(mu_)
  InodeId next_ino_ = kRootInode + 1;                           // GUARDED_BY(mu_)
  std::unordered_map<HandleId, std::shared_ptr<const std::string>> handles_;  // GUARDED_BY(mu_)
  HandleId next_handle_ = 1;                                    // GUARDED_BY(mu_)
};

}  // namespace mmcfs::fs
