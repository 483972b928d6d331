// node.h — the building blocks of the mounted tree, independent of FUSE.
//
// A Node is a directory, a file or a symbolic link. Most files render their
// bytes from local state (caches filled by background threads); directories
// list their children from local state. A plain stat/read/readdir never
// touches the network. Mutations are refused by default (kReadOnly); nodes
// that accept them (the launch drop zone, the projects/ directory) override
// the hooks below. Explicit actions (submitting a launch on close, fetching
// log bytes on open) may reach the network, always bounded in time.
//
// Thread rules: nodes are called concurrently from FUSE worker threads; an
// implementation guards its own state and never holds a lock while blocking.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/result.h"

namespace mmcfs::fs {

using InodeId = std::uint64_t;
constexpr InodeId kRootInode = 1;

enum class NodeKind { kDirectory, kFile, kSymlink };

// The kernel may cache attributes and directory entries this long. Short for
// things that change; never zero by accident (see STYLE.md, "TTLs").
constexpr std::chrono::milliseconds kDefaultAttrTtl{1000};
constexpr std::chrono::milliseconds kStaticAttrTtl{60'000};

// What a rendered file shows right now.
struct FileContent {
  std::string data;
  WallTime mtime;
};

// What stat shows of a file.
struct FileStat {
  std::uint64_t size = 0;
  WallTime mtime;
  std::uint32_t mode = 0444;  // permission bits
};

// Attribute changes requested by setattr (chmod, truncate, touch).
struct AttrChange {
  std::optional<std::uint64_t> size;
  std::optional<std::uint32_t> mode;
  std::optional<WallTime> mtime;
};

// How a file is opened.
struct OpenRequest {
  bool write = false;     // O_WRONLY or O_RDWR
  bool truncate = false;  // O_TRUNC
  bool append = false;    // O_APPEND
};

// An open file: what FUSE calls a file handle.
class OpenFile {
 public:
  virtual ~OpenFile() = default;
  virtual Result<std::string> read(std::uint64_t offset, std::size_t size) = 0;
  virtual Result<std::size_t> write(std::uint64_t /*offset*/, std::string_view /*data*/) {
    return make_error(Errc::kReadOnly, "this file is read-only");
  }
  // close() of one descriptor; its error is what close() returns.
  virtual Status flush() { return Status::Ok(); }
  virtual Status fsync() { return Status::Ok(); }
  virtual Status truncate(std::uint64_t /*size*/) {
    return make_error(Errc::kReadOnly, "this file is read-only");
  }
  // The kernel must not cache this file's pages or trust its cached size
  // (contents fetched at open that may differ from the last stat).
  virtual bool direct_io() const { return false; }
  // The kernel may keep this file's cached pages from an earlier open (the
  // bytes can never change: a complete job log).
  virtual bool keep_cache() const { return false; }
  // The whole file is small and fixed at open (at most kPrefillMaxBytes):
  // when the kernel may keep its pages, the adapter hands them over with
  // the open, so that reading costs no READ round trip.
  virtual bool prefill() const { return false; }
};

inline constexpr std::size_t kPrefillMaxBytes = 64 * 1024;

// An OpenFile over bytes fixed at open time.
class SnapshotOpenFile final : public OpenFile {
 public:
  explicit SnapshotOpenFile(std::string bytes, bool direct = false)
      : bytes_(std::move(bytes)), direct_(direct) {}
  Result<std::string> read(std::uint64_t offset, std::size_t size) override;
  bool direct_io() const override { return direct_; }
  bool prefill() const override { return !direct_ && !bytes_.empty() && bytes_.size() <= kPrefillMaxBytes; }

 private:
  const std::string bytes_;
  const bool direct_;
};

class Node {
 public:
  virtual ~Node() = default;
  virtual NodeKind kind() const = 0;
  // How long the kernel may cache this node's attributes and name.
  virtual std::chrono::milliseconds attr_ttl() const { return kDefaultAttrTtl; }
  // True when this node's bytes (a file) or listing (a directory) no longer
  // change (a finished job's): the kernel may then keep them across opens.
  // Default: rendered afresh for every open.
  virtual bool stable() const { return false; }
};

class FileNode : public Node {
 public:
  NodeKind kind() const final { return NodeKind::kFile; }
  // Renders the file from local state. May wait (bounded) for a first
  // background result, never for the network itself.
  virtual Result<FileContent> content() const = 0;
  // Default: from content().
  virtual Result<FileStat> stat() const;
  // Default: a snapshot of content(); writing is refused.
  virtual Result<std::unique_ptr<OpenFile>> open(const OpenRequest& request) const;
  virtual Status change_attributes(const AttrChange& change);
};

class SymlinkNode : public Node {
 public:
  NodeKind kind() const final { return NodeKind::kSymlink; }
  // Must not block: the Namespace compares targets under its lock (a link
  // whose target changed gets a new inode).
  virtual std::string target() const = 0;
  virtual WallTime mtime() const = 0;
};

class DirNode : public Node {
 public:
  using Child = std::pair<std::string, std::shared_ptr<Node>>;
  NodeKind kind() const final { return NodeKind::kDirectory; }
  // The current children, in listing order.
  virtual std::vector<Child> children() const = 0;
  // One child by name; the default searches children(). Override when a
  // directory is large or can match names more loosely.
  virtual Result<std::shared_ptr<Node>> child(std::string_view name) const;
  virtual WallTime mtime() const = 0;
  virtual std::uint32_t mode() const { return 0555; }

  // Mutations; each refuses with kReadOnly unless overridden. `path` names
  // the directory in messages.
  virtual Result<std::shared_ptr<Node>> create_file(std::string_view name, std::uint32_t mode);
  virtual Status unlink(std::string_view name);
  virtual Status make_directory(std::string_view name);
  virtual Status remove_directory(std::string_view name);
  virtual Status make_symlink(std::string_view name, std::string_view target);
  // Renames `name` in this directory to `new_name` in `to` (which may be this).
  virtual Status rename(std::string_view name, DirNode& to, std::string_view new_name);
};

// A file whose bytes never change (README, a cluster's config as loaded).
class StaticFile final : public FileNode {
 public:
  StaticFile(std::string data, WallTime mtime) : content_{std::move(data), mtime} {}
  Result<FileContent> content() const override { return content_; }
  std::chrono::milliseconds attr_ttl() const override { return kStaticAttrTtl; }

 private:
  FileContent content_;
};

// A file rendered on demand by a function of local state.
class GeneratedFile final : public FileNode {
 public:
  using Render = std::function<Result<FileContent>()>;
  explicit GeneratedFile(Render render, std::chrono::milliseconds ttl = kDefaultAttrTtl)
      : render_(std::move(render)), ttl_(ttl) {}
  Result<FileContent> content() const override { return render_(); }
  std::chrono::milliseconds attr_ttl() const override { return ttl_; }

 private:
  Render render_;
  std::chrono::milliseconds ttl_;
};

// A symbolic link with a fixed target.
class StaticSymlink final : public SymlinkNode {
 public:
  StaticSymlink(std::string target, WallTime mtime, std::chrono::milliseconds ttl = kDefaultAttrTtl)
      : target_(std::move(target)), mtime_(mtime), ttl_(ttl) {}
  std::string target() const override { return target_; }
  WallTime mtime() const override { return mtime_; }
  std::chrono::milliseconds attr_ttl() const override { return ttl_; }

 private:
  std::string target_;
  WallTime mtime_;
  std::chrono::milliseconds ttl_;
};

// A directory with a fixed set of children, fixed at construction.
class StaticDir final : public DirNode {
 public:
  StaticDir(std::vector<Child> children, WallTime mtime)
      : children_(std::move(children)), mtime_(mtime) {}
  std::vector<Child> children() const override { return children_; }
  // Searches in place: children() copies, and a directory may hold thousands
  // (projects/<p>/jobs/).
  Result<std::shared_ptr<Node>> child(std::string_view name) const override;
  WallTime mtime() const override { return mtime_; }
  std::chrono::milliseconds attr_ttl() const override { return kStaticAttrTtl; }

 private:
  std::vector<Child> children_;
  WallTime mtime_;
};

// A directory whose children are computed on demand from local state.
class GeneratedDir final : public DirNode {
 public:
  using List = std::function<std::vector<Child>()>;
  using Find = std::function<Result<std::shared_ptr<Node>>(std::string_view)>;
  GeneratedDir(List list, Find find, std::function<WallTime()> mtime)
      : list_(std::move(list)), find_(std::move(find)), mtime_(std::move(mtime)) {}
  std::vector<Child> children() const override { return list_(); }
  Result<std::shared_ptr<Node>> child(std::string_view name) const override;
  WallTime mtime() const override { return mtime_(); }

 private:
  List list_;
  Find find_;  // may be empty: then children() is searched
  std::function<WallTime()> mtime_;
};

}  // namespace mmcfs::fs
