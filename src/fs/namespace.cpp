// namespace.cpp — inode table, attributes, handles.
#include "fs/namespace.h"

#include <algorithm>

namespace mmcfs::fs {

Namespace::Namespace(std::shared_ptr<DirNode> root) {
  entries_[kRootInode] = Entry{kRootInode, "", std::move(root)};
}

Result<std::shared_ptr<Node>> Namespace::node_of(InodeId ino) const {
  std::lock_guard lock(mu_);
  auto it = entries_.find(ino);
  if (it == entries_.end()) return make_error(Errc::kNotFound, "no inode " + std::to_string(ino));
  return it->second.node;
}

InodeId Namespace::remember(InodeId parent, std::string_view name, std::shared_ptr<Node> node) {
  std::lock_guard lock(mu_);
  auto key = std::make_pair(parent, std::string(name));
  if (auto it = ids_.find(key); it != ids_.end()) {
    entries_[it->second].node = std::move(node);  // same path, possibly a fresh node object
    return it->second;
  }
  const std::string& parent_path = entries_[parent].path;
  std::string path = parent_path.empty() ? std::string(name) : parent_path + "/" + std::string(name);
  InodeId ino = next_ino_++;
  entries_[ino] = Entry{parent, std::move(path), std::move(node)};
  ids_.emplace(std::move(key), ino);
  return ino;
}

Result<Attr> Namespace::attr_of(InodeId ino, const Node& node) const {
  Attr attr;
  attr.ino = ino;
  attr.kind = node.kind();
  attr.ttl = node.attr_ttl();
  if (node.kind() == NodeKind::kDirectory) {
    const auto& dir = static_cast<const DirNode&>(node);
    attr.mode = 0555;
    attr.nlink = 2;
    attr.mtime = dir.mtime();
    return attr;
  }
  auto content = static_cast<const FileNode&>(node).content();
  if (!content.ok()) return content.error();
  attr.mode = 0444;
  attr.nlink = 1;
  attr.size = content->data.size();
  attr.mtime = content->mtime;
  return attr;
}

Result<Attr> Namespace::lookup(InodeId parent, std::string_view name) {
  auto parent_node = node_of(parent);
  if (!parent_node.ok()) return parent_node.error();
  if ((*parent_node)->kind() != NodeKind::kDirectory) {
    return make_error(Errc::kNotDirectory, "not a directory");
  }
  auto child = static_cast<const DirNode&>(**parent_node).child(name);
  if (!child.ok()) return child.error();
  std::shared_ptr<Node> node = *child;
  InodeId ino = remember(parent, name, node);
  return attr_of(ino, *node);
}

Result<Attr> Namespace::getattr(InodeId ino) {
  auto node = node_of(ino);
  if (!node.ok()) return node.error();
  return attr_of(ino, **node);
}

Result<std::vector<DirEntry>> Namespace::readdir(InodeId dir) {
  auto node = node_of(dir);
  if (!node.ok()) return node.error();
  if ((*node)->kind() != NodeKind::kDirectory) {
    return make_error(Errc::kNotDirectory, "not a directory");
  }
  std::vector<DirEntry> out;
  for (auto& [name, child] : static_cast<const DirNode&>(**node).children()) {
    NodeKind kind = child->kind();
    InodeId ino = remember(dir, name, std::move(child));
    out.push_back(DirEntry{name, ino, kind});
  }
  return out;
}

Result<HandleId> Namespace::open(InodeId ino, OpenMode mode) {
  auto node = node_of(ino);
  if (!node.ok()) return node.error();
  if ((*node)->kind() == NodeKind::kDirectory) {
    return make_error(Errc::kIsDirectory, "is a directory");
  }
  if (mode == OpenMode::kWrite) {
    return refuse_mutation(ino, "", "write to");
  }
  auto content = static_cast<const FileNode&>(**node).content();
  if (!content.ok()) return content.error();
  auto bytes = std::make_shared<const std::string>(std::move(content->data));
  std::lock_guard lock(mu_);
  HandleId handle = next_handle_++;
  handles_.emplace(handle, std::move(bytes));
  return handle;
}

Result<std::string> Namespace::read(HandleId handle, std::uint64_t offset, std::size_t size) const {
  std::shared_ptr<const std::string> bytes;
  {
    std::lock_guard lock(mu_);
    auto it = handles_.find(handle);
    if (it == handles_.end()) return make_error(Errc::kInternal, "read of an unknown file handle");
    bytes = it->second;
  }
  if (offset >= bytes->size()) return std::string();
  return bytes->substr(offset, std::min<std::uint64_t>(size, bytes->size() - offset));
}

void Namespace::release(HandleId handle) {
  std::lock_guard lock(mu_);
  handles_.erase(handle);
}

std::size_t Namespace::open_handles() const {
  std::lock_guard lock(mu_);
  return handles_.size();
}

Error Namespace::refuse_mutation(InodeId ino, std::string_view name, std::string_view what) const {
  std::string path = path_of(ino).ok() ? path_of(ino).value() : std::string("?");
  if (!name.empty()) path = path.empty() ? std::string(name) : path + "/" + std::string(name);
  return make_error(Errc::kReadOnly, std::string("cannot ") + std::string(what) + " '" + path +
                                         "': this part of the mount is read-only");
}

Result<std::string> Namespace::path_of(InodeId ino) const {
  std::lock_guard lock(mu_);
  auto it = entries_.find(ino);
  if (it == entries_.end()) return make_error(Errc::kNotFound, "no inode " + std::to_string(ino));
  return it->second.path;
}

std::vector<InodeId> Namespace::known_inodes_under(std::string_view prefix) const {
  std::vector<InodeId> out;
  std::lock_guard lock(mu_);
  for (const auto& [ino, entry] : entries_) {
    std::string_view path = entry.path;
    if (path == prefix ||
        (path.size() > prefix.size() && path.substr(0, prefix.size()) == prefix &&
         path[prefix.size()] == '/')) {
      out.push_back(ino);
    }
  }
  return out;
}

}  // namespace mmcfs::fs
