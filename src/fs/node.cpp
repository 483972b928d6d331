// node.cpp — default behaviour of nodes: lookups, snapshots, refusals.
#include "fs/node.h"

#include <algorithm>

namespace mmcfs::fs {
namespace {
Error read_only(std::string_view what) {
  return make_error(Errc::kReadOnly, std::string("cannot ") + std::string(what) + ": this part of the mount is read-only");
}
}  // namespace

Result<std::string> SnapshotOpenFile::read(std::uint64_t offset, std::size_t size) {
  if (offset >= bytes_.size()) return std::string();
  return bytes_.substr(offset, std::min<std::uint64_t>(size, bytes_.size() - offset));
}

Result<FileStat> FileNode::stat() const {
  auto c = content();
  if (!c.ok()) return c.error();
  return FileStat{c->data.size(), c->mtime, 0444};
}

Result<std::unique_ptr<OpenFile>> FileNode::open(const OpenRequest& request) const {
  if (request.write || request.truncate) return read_only("write");
  auto c = content();
  if (!c.ok()) return c.error();
  return std::unique_ptr<OpenFile>(std::make_unique<SnapshotOpenFile>(std::move(c->data)));
}

Status FileNode::change_attributes(const AttrChange&) { return read_only("change attributes"); }

Result<std::shared_ptr<Node>> DirNode::child(std::string_view name) const {
  for (auto& [child_name, node] : children()) {
    if (child_name == name) return node;
  }
  return make_error(Errc::kNotFound, std::string(name));
}

Result<std::shared_ptr<Node>> DirNode::create_file(std::string_view, std::uint32_t) { return read_only("create"); }
Status DirNode::unlink(std::string_view) { return read_only("remove"); }
Status DirNode::make_directory(std::string_view) { return read_only("create directory"); }
Status DirNode::remove_directory(std::string_view) { return read_only("remove directory"); }
Status DirNode::make_symlink(std::string_view, std::string_view) { return read_only("create link"); }
Status DirNode::rename(std::string_view, DirNode&, std::string_view) { return read_only("rename"); }

Result<std::shared_ptr<Node>> StaticDir::child(std::string_view name) const {
  for (const auto& [child_name, node] : children_) {
    if (child_name == name) return node;
  }
  return make_error(Errc::kNotFound, std::string(name));
}

Result<std::shared_ptr<Node>> GeneratedDir::child(std::string_view name) const {
  if (find_) return find_(name);
  return DirNode::child(name);
}

}  // namespace mmcfs::fs
