// namespace.cpp — inode table, attributes, handles, and mutation dispatch.
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

Result<std::shared_ptr<DirNode>> Namespace::dir_of(InodeId ino) const {
  auto node = node_of(ino);
  if (!node.ok()) return node.error();
  if ((*node)->kind() != NodeKind::kDirectory) return make_error(Errc::kNotDirectory, "not a directory");
  return std::static_pointer_cast<DirNode>(*node);
}

Result<std::shared_ptr<OpenFile>> Namespace::handle_of(HandleId handle) const {
  std::lock_guard lock(mu_);
  auto it = handles_.find(handle);
  if (it == handles_.end()) return make_error(Errc::kInternal, "unknown file handle " + std::to_string(handle));
  return it->second;
}

InodeId Namespace::remember(InodeId parent, std::string_view name, std::shared_ptr<Node> node) {
  std::lock_guard lock(mu_);
  auto key = std::make_pair(parent, std::string(name));
  if (auto it = ids_.find(key); it != ids_.end()) {
    entries_[it->second].node = std::move(node);  // same path, possibly a fresh node object
    return it->second;
  }
  InodeId ino = next_ino_++;
  entries_[ino] = Entry{parent, std::string(name), std::move(node)};
  ids_.emplace(std::move(key), ino);
  return ino;
}

void Namespace::forget_name(InodeId parent, std::string_view name) {
  std::lock_guard lock(mu_);
  auto it = ids_.find(std::make_pair(parent, std::string(name)));
  if (it != ids_.end()) ids_.erase(it);
}

Result<Attr> Namespace::attr_of(InodeId ino, const Node& node) const {
  Attr attr;
  attr.ino = ino;
  attr.kind = node.kind();
  attr.ttl = node.attr_ttl();
  switch (node.kind()) {
    case NodeKind::kDirectory: {
      const auto& dir = static_cast<const DirNode&>(node);
      attr.mode = dir.mode();
      attr.nlink = 2;
      attr.mtime = dir.mtime();
      return attr;
    }
    case NodeKind::kSymlink: {
      const auto& link = static_cast<const SymlinkNode&>(node);
      attr.mode = 0777;
      attr.size = link.target().size();
      attr.mtime = link.mtime();
      return attr;
    }
    case NodeKind::kFile: {
      auto st = static_cast<const FileNode&>(node).stat();
      if (!st.ok()) return st.error();
      attr.mode = st->mode;
      attr.size = st->size;
      attr.mtime = st->mtime;
      return attr;
    }
  }
  return make_error(Errc::kInternal, "unknown node kind");
}

Error Namespace::annotate(Error error, InodeId parent, std::string_view name) const {
  auto parent_path = path_of(parent);
  std::string path = parent_path.ok() ? *parent_path : "?";
  if (!name.empty()) path = path.empty() ? std::string(name) : path + "/" + std::string(name);
  error.message = "'" + path + "': " + error.message;
  return error;
}

Result<Attr> Namespace::lookup(InodeId parent, std::string_view name) {
  auto dir = dir_of(parent);
  if (!dir.ok()) return dir.error();
  auto child = (*dir)->child(name);
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

Result<std::vector<DirEntry>> Namespace::readdir(InodeId ino) {
  auto dir = dir_of(ino);
  if (!dir.ok()) return dir.error();
  std::vector<DirEntry> out;
  for (auto& [name, child] : (*dir)->children()) {
    NodeKind kind = child->kind();
    InodeId child_ino = remember(ino, name, std::move(child));
    out.push_back(DirEntry{name, child_ino, kind});
  }
  return out;
}

Result<std::string> Namespace::readlink(InodeId ino) {
  auto node = node_of(ino);
  if (!node.ok()) return node.error();
  if ((*node)->kind() != NodeKind::kSymlink) return make_error(Errc::kInvalidArgument, "not a symbolic link");
  return static_cast<const SymlinkNode&>(**node).target();
}

Opened Namespace::keep(std::unique_ptr<OpenFile> file) {
  bool direct = file->direct_io();
  bool keep_cache = file->keep_cache();
  std::lock_guard lock(mu_);
  HandleId handle = next_handle_++;
  handles_.emplace(handle, std::shared_ptr<OpenFile>(std::move(file)));
  return Opened{handle, direct, keep_cache};
}

Result<Opened> Namespace::open(InodeId ino, const OpenRequest& request) {
  auto node = node_of(ino);
  if (!node.ok()) return node.error();
  if ((*node)->kind() == NodeKind::kDirectory) return make_error(Errc::kIsDirectory, "is a directory");
  if ((*node)->kind() != NodeKind::kFile) return make_error(Errc::kInvalidArgument, "not a regular file");
  auto file = static_cast<const FileNode&>(**node).open(request);
  if (!file.ok()) {
    auto path = path_of(ino);
    Error e = file.error();
    e.message = "'" + (path.ok() ? *path : std::string("?")) + "': " + e.message;
    return e;
  }
  Opened opened = keep(std::move(*file));
  // The file's own say (a complete log), or a stable node's bytes.
  opened.keep_cache = opened.keep_cache || (!opened.direct_io && !request.write && (*node)->stable());
  return opened;
}

bool Namespace::stable(InodeId ino) const {
  auto node = node_of(ino);
  return node.ok() && (*node)->stable();
}

Result<std::string> Namespace::read(HandleId handle, std::uint64_t offset, std::size_t size) {
  auto file = handle_of(handle);
  if (!file.ok()) return file.error();
  return (*file)->read(offset, size);
}

Result<std::size_t> Namespace::write(HandleId handle, std::uint64_t offset, std::string_view data) {
  auto file = handle_of(handle);
  if (!file.ok()) return file.error();
  return (*file)->write(offset, data);
}

Status Namespace::flush(HandleId handle) {
  auto file = handle_of(handle);
  if (!file.ok()) return file.error();
  return (*file)->flush();
}

Status Namespace::fsync(HandleId handle) {
  auto file = handle_of(handle);
  if (!file.ok()) return file.error();
  return (*file)->fsync();
}

void Namespace::release(HandleId handle) {
  std::shared_ptr<OpenFile> file;  // destroyed outside the lock
  std::lock_guard lock(mu_);
  auto it = handles_.find(handle);
  if (it == handles_.end()) return;
  file = std::move(it->second);
  handles_.erase(it);
}

std::size_t Namespace::open_handles() const {
  std::lock_guard lock(mu_);
  return handles_.size();
}

Result<std::pair<Attr, Opened>> Namespace::create(InodeId parent, std::string_view name, std::uint32_t mode,
                                                  const OpenRequest& request) {
  auto dir = dir_of(parent);
  if (!dir.ok()) return dir.error();
  auto node = (*dir)->create_file(name, mode);
  if (!node.ok()) return annotate(node.error(), parent, name);
  InodeId ino = remember(parent, name, *node);
  auto attr = attr_of(ino, **node);
  if (!attr.ok()) return attr.error();
  if ((*node)->kind() != NodeKind::kFile) return make_error(Errc::kInternal, "create made a non-file");
  auto file = static_cast<const FileNode&>(**node).open(request);
  if (!file.ok()) return annotate(file.error(), parent, name);
  return std::make_pair(*attr, keep(std::move(*file)));
}

Result<Attr> Namespace::setattr(InodeId ino, const AttrChange& change, std::optional<HandleId> handle) {
  auto node = node_of(ino);
  if (!node.ok()) return node.error();
  if ((*node)->kind() != NodeKind::kFile) {
    auto path = path_of(ino);
    return make_error(Errc::kReadOnly, "'" + (path.ok() ? *path : std::string("?")) +
                                           "': cannot change attributes: this part of the mount is read-only");
  }
  AttrChange rest = change;
  if (change.size && handle) {
    auto file = handle_of(*handle);
    if (!file.ok()) return file.error();
    if (auto s = (*file)->truncate(*change.size); !s.ok()) return s.error();
    rest.size.reset();
  }
  if (rest.size || rest.mode || rest.mtime) {
    if (auto s = static_cast<FileNode&>(**node).change_attributes(rest); !s.ok()) {
      auto path = path_of(ino);
      Error e = s.error();
      e.message = "'" + (path.ok() ? *path : std::string("?")) + "': " + e.message;
      return e;
    }
  }
  return attr_of(ino, **node);
}

Status Namespace::unlink(InodeId parent, std::string_view name) {
  auto dir = dir_of(parent);
  if (!dir.ok()) return dir.error();
  if (auto s = (*dir)->unlink(name); !s.ok()) return annotate(s.error(), parent, name);
  forget_name(parent, name);
  return Status::Ok();
}

Status Namespace::mkdir(InodeId parent, std::string_view name) {
  auto dir = dir_of(parent);
  if (!dir.ok()) return dir.error();
  if (auto s = (*dir)->make_directory(name); !s.ok()) return annotate(s.error(), parent, name);
  return Status::Ok();
}

Status Namespace::rmdir(InodeId parent, std::string_view name) {
  auto dir = dir_of(parent);
  if (!dir.ok()) return dir.error();
  if (auto s = (*dir)->remove_directory(name); !s.ok()) return annotate(s.error(), parent, name);
  forget_name(parent, name);
  return Status::Ok();
}

Result<Attr> Namespace::symlink(InodeId parent, std::string_view name, std::string_view target) {
  auto dir = dir_of(parent);
  if (!dir.ok()) return dir.error();
  if (auto s = (*dir)->make_symlink(name, target); !s.ok()) return annotate(s.error(), parent, name);
  // The kernel insists on a symlink in reply to SYMLINK, but a directory
  // may interpret the gesture (projects/: `ln -s REPO NAME` adds a project
  // that then shows as a directory). Reply with a one-off symlink inode the
  // kernel must not cache (TTL 0, deliberately), so the next lookup shows
  // what NAME really is now.
  Attr attr;
  {
    std::lock_guard lock(mu_);
    attr.ino = next_ino_++;
  }
  attr.kind = NodeKind::kSymlink;
  attr.mode = 0777;
  attr.size = target.size();
  attr.ttl = std::chrono::milliseconds(0);
  return attr;
}

Status Namespace::rename(InodeId parent, std::string_view name, InodeId new_parent, std::string_view new_name) {
  auto from = dir_of(parent);
  if (!from.ok()) return from.error();
  auto to = dir_of(new_parent);
  if (!to.ok()) return to.error();
  Status renamed = (*from)->rename(name, **to, new_name);
  // The name moved even when the rename reports a later failure (a launch
  // that failed after the file was renamed into place): follow the disk.
  auto moved = (*to)->child(new_name);
  auto left = (*from)->child(name);
  if (moved.ok() && !left.ok()) {
    std::lock_guard lock(mu_);
    auto it = ids_.find(std::make_pair(parent, std::string(name)));
    if (it != ids_.end()) {
      InodeId ino = it->second;
      ids_.erase(it);
      ids_.erase(std::make_pair(new_parent, std::string(new_name)));
      ids_.emplace(std::make_pair(new_parent, std::string(new_name)), ino);
      entries_[ino].parent = new_parent;
      entries_[ino].name = std::string(new_name);
      entries_[ino].node = *moved;
    }
  }
  if (!renamed.ok()) return annotate(renamed.error(), parent, name);
  return Status::Ok();
}

std::string Namespace::path_locked(InodeId ino) const {
  std::vector<const std::string*> names;
  for (InodeId at = ino; at != kRootInode;) {
    auto it = entries_.find(at);
    if (it == entries_.end()) break;
    names.push_back(&it->second.name);
    at = it->second.parent;
  }
  std::string path;
  for (auto n = names.rbegin(); n != names.rend(); ++n) {
    if (!path.empty()) path += '/';
    path += **n;
  }
  return path;
}

Result<std::string> Namespace::path_of(InodeId ino) const {
  std::lock_guard lock(mu_);
  if (entries_.find(ino) == entries_.end()) return make_error(Errc::kNotFound, "no inode " + std::to_string(ino));
  return path_locked(ino);
}

std::optional<InodeId> Namespace::known_inode(std::string_view path) const {
  std::lock_guard lock(mu_);
  InodeId ino = kRootInode;
  std::size_t start = 0;
  while (start < path.size()) {
    std::size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    auto it = ids_.find(std::make_pair(ino, std::string(path.substr(start, end - start))));
    if (it == ids_.end()) return std::nullopt;
    ino = it->second;
    start = end + 1;
  }
  return ino;
}

std::vector<InodeId> Namespace::known_inodes_under(std::string_view prefix) const {
  std::vector<InodeId> out;
  std::lock_guard lock(mu_);
  // The inode of `prefix`, by names from the root (as looked up so far).
  InodeId top = kRootInode;
  std::size_t start = 0;
  while (start < prefix.size()) {
    std::size_t end = prefix.find('/', start);
    if (end == std::string_view::npos) end = prefix.size();
    auto it = ids_.find(std::make_pair(top, std::string(prefix.substr(start, end - start))));
    if (it == ids_.end()) return out;  // never looked up: nothing below it is known either
    top = it->second;
    start = end + 1;
  }
  // Breadth first through ids_, ordered by (parent, name): each inode's
  // children are one range, so this costs the subtree, not every inode
  // known (a poll cycle invalidates job by job).
  if (entries_.count(top) != 0) out.push_back(top);
  std::vector<InodeId> parents{top};
  while (!parents.empty()) {
    InodeId parent = parents.back();
    parents.pop_back();
    for (auto it = ids_.lower_bound(std::make_pair(parent, std::string())); it != ids_.end() && it->first.first == parent;
         ++it) {
      out.push_back(it->second);
      parents.push_back(it->second);
    }
  }
  return out;
}

}  // namespace mmcfs::fs
