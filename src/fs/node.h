// node.h — the building blocks of the mounted tree, independent of FUSE.
//
// A Node is a directory or a file. Files render their bytes from local state
// (caches filled by background threads); directories list their children from
// local state. Neither ever touches the network: a plain stat/read/readdir of
// the mount is answered from memory. Writes are refused by default; nodes that
// accept writes (later: launch drop zones, ctl files) override the write hooks.
//
// Thread rules: nodes are called concurrently from FUSE worker threads; an
// implementation guards its own state and never holds a lock while blocking.
#pragma once

#include <chrono>
#include <functional>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/result.h"

namespace mmcfs::fs {

using InodeId = std::uint64_t;
constexpr InodeId kRootInode = 1;

enum class NodeKind { kDirectory, kFile };

// The kernel may cache attributes and directory entries this long. Short for
// things that change; never zero by accident (see STYLE.md, "TTLs").
constexpr std::chrono::milliseconds kDefaultAttrTtl{1000};
constexpr std::chrono::milliseconds kStaticAttrTtl{60'000};

// What a file shows right now.
struct FileContent {
  std::string data;
  WallTime mtime;
};

class Node {
 public:
  virtual ~Node() = default;
  virtual NodeKind kind() const = 0;
  // How long the kernel may cache this node's attributes and name.
  virtual std::chrono::milliseconds attr_ttl() const { return kDefaultAttrTtl; }
};

class FileNode : public Node {
 public:
  NodeKind kind() const final { return NodeKind::kFile; }
  // Renders the file from local state. May wait (bounded) for a first
  // background result, never for the network itself.
  virtual Result<FileContent> content() const = 0;
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
  explicit GeneratedFile(Render render) : render_(std::move(render)) {}
  Result<FileContent> content() const override { return render_(); }

 private:
  Render render_;
};

// A directory with a fixed set of children, fixed at construction.
class StaticDir final : public DirNode {
 public:
  StaticDir(std::vector<Child> children, WallTime mtime)
      : children_(std::move(children)), mtime_(mtime) {}
  std::vector<Child> children() const override { return children_; }
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
