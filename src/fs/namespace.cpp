// namespace.cpp — inode table, attributes, handles, and mutation dispatch.
#include "fs/namespace.h"

#include <algorithm>

namespace mmcfs::fs {

Namespace::Namespace(std::shared_ptr<DirNode> root)
    : ids_(0, ByName{&entries_}, ByName{&entries_}) {
  entries_.push_back(Entry{kRootInode, 0, 0, "", std::move(root), false});
}

namespace {
std::size_t hash_name(InodeId parent, std::string_view name) noexcept {
  return std::hash<std::string_view>{}(name) ^ (std::hash<InodeId>{}(parent) * 0x9e3779b97f4a7c15ULL);
}
}  // namespace

std::size_t Namespace::ByName::operator()(const NameKey& k) const noexcept { return hash_name(k.parent, k.name); }
std::size_t Namespace::ByName::operator()(InodeId ino) const noexcept {
  const Entry& e = (*entries)[ino - kRootInode];
  return hash_name(e.parent, e.name);
}
bool Namespace::ByName::operator()(const NameKey& k, InodeId ino) const noexcept {
  const Entry& e = (*entries)[ino - kRootInode];
  return e.parent == k.parent && e.name == k.name;
}

Namespace::Entry* Namespace::entry_locked(InodeId ino) {
  if (ino < kRootInode || ino - kRootInode >= entries_.size()) return nullptr;
  return &entries_[ino - kRootInode];
}
const Namespace::Entry* Namespace::entry_locked(InodeId ino) const {
  if (ino < kRootInode || ino - kRootInode >= entries_.size()) return nullptr;
  return &entries_[ino - kRootInode];
}

std::optional<InodeId> Namespace::find_locked(InodeId parent, std::string_view name) const {
  auto it = ids_.find(NameKey{parent, name});
  if (it == ids_.end()) return std::nullopt;
  return *it;
}

InodeId Namespace::new_id_locked() {
  entries_.emplace_back();
  return kRootInode + entries_.size() - 1;
}

// Sibling links are 32-bit indexes: a mount would need four billion
// distinct names to outgrow them.
void Namespace::link_locked(InodeId ino) {
  Entry& e = entries_[ino - kRootInode];
  Entry& parent = entries_[e.parent - kRootInode];
  e.next_sibling = parent.first_child;
  parent.first_child = static_cast<std::uint32_t>(ino - kRootInode);
  e.named = true;
  ids_.insert(ino);
}

void Namespace::unlink_locked(InodeId ino) {
  Entry& e = entries_[ino - kRootInode];
  if (!e.named) return;
  ids_.erase(ino);  // while (parent, name) still hash as they did
  const auto index = static_cast<std::uint32_t>(ino - kRootInode);
  Entry& parent = entries_[e.parent - kRootInode];
  if (parent.first_child == index) {
    parent.first_child = e.next_sibling;
  } else {
    for (std::uint32_t at = parent.first_child; at != 0; at = entries_[at].next_sibling) {
      if (entries_[at].next_sibling == index) {
        entries_[at].next_sibling = e.next_sibling;
        break;
      }
    }
  }
  e.next_sibling = 0;
  e.named = false;
}

Result<std::shared_ptr<Node>> Namespace::node_of(InodeId ino) const {
  std::lock_guard lock(mu_);
  const Entry* e = entry_locked(ino);
  if (e == nullptr || e->node == nullptr) return make_error(Errc::kNotFound, "no inode " + std::to_string(ino));
  return e->node;
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

// A symlink whose target changed (projects/<p>/last after a launch) gets a
// new inode, as `ln -sf` makes on a disk: the kernel may cache a link's
// target for as long as it keeps the inode (FUSE_CAP_CACHE_SYMLINKS), and a
// lookup answering with a new id makes it drop the old one at once.
// SymlinkNode::target() must not block (it is called under mu_).
InodeId Namespace::remember(InodeId parent, std::string_view name, std::shared_ptr<Node> node) {
  std::shared_ptr<Node> replaced;  // destroyed outside the lock
  std::lock_guard lock(mu_);
  if (auto known = find_locked(parent, name)) {
    Entry& entry = entries_[*known - kRootInode];
    const bool retargeted = node->kind() == NodeKind::kSymlink && entry.node != nullptr &&
                            entry.node->kind() == NodeKind::kSymlink &&
                            static_cast<const SymlinkNode&>(*entry.node).target() !=
                                static_cast<const SymlinkNode&>(*node).target();
    if (!retargeted) {
      replaced = std::exchange(entry.node, std::move(node));  // same path, maybe a fresh node object
      return *known;
    }
    unlink_locked(*known);
  }
  InodeId ino = new_id_locked();
  Entry& e = entries_.back();
  e.parent = parent;
  e.name = std::string(name);
  e.node = std::move(node);
  link_locked(ino);
  return ino;
}

void Namespace::forget_name(InodeId parent, std::string_view name) {
  std::lock_guard lock(mu_);
  if (auto known = find_locked(parent, name)) unlink_locked(*known);
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
  const bool small_and_fixed = (*file)->prefill();
  Opened opened = keep(std::move(*file));
  // The file's own say (a complete log), or a stable node's bytes.
  opened.keep_cache = opened.keep_cache || (!opened.direct_io && !request.write && (*node)->stable());
  opened.prefill = opened.keep_cache && small_and_fixed && !request.write;
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
    attr.ino = new_id_locked();
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
    std::shared_ptr<Node> replaced;  // destroyed outside the lock
    std::lock_guard lock(mu_);
    if (auto known = find_locked(parent, name)) {
      const InodeId ino = *known;
      if (auto taken = find_locked(new_parent, new_name)) unlink_locked(*taken);
      unlink_locked(ino);
      Entry& e = entries_[ino - kRootInode];
      e.parent = new_parent;
      e.name = std::string(new_name);
      replaced = std::exchange(e.node, *moved);
      link_locked(ino);
    }
  }
  if (!renamed.ok()) return annotate(renamed.error(), parent, name);
  return Status::Ok();
}

std::string Namespace::path_locked(InodeId ino) const {
  std::vector<const std::string*> names;
  for (InodeId at = ino; at != kRootInode;) {
    const Entry* e = entry_locked(at);
    if (e == nullptr) break;
    names.push_back(&e->name);
    at = e->parent;
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
  const Entry* e = entry_locked(ino);
  if (e == nullptr || e->node == nullptr) return make_error(Errc::kNotFound, "no inode " + std::to_string(ino));
  return path_locked(ino);
}

std::optional<InodeId> Namespace::known_inode(std::string_view path) const {
  std::lock_guard lock(mu_);
  return known_inode_locked(path);
}

std::optional<InodeId> Namespace::known_inode_locked(std::string_view path) const {
  InodeId ino = kRootInode;
  std::size_t start = 0;
  while (start < path.size()) {
    std::size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    auto next = find_locked(ino, path.substr(start, end - start));
    if (!next) return std::nullopt;
    ino = *next;
    start = end + 1;
  }
  return ino;
}

std::vector<InodeId> Namespace::known_inodes_under(std::string_view prefix) const {
  std::vector<InodeId> out;
  std::lock_guard lock(mu_);
  // The inode of `prefix`, by names from the root (as looked up so far).
  auto top = known_inode_locked(prefix);
  if (!top) return out;  // never looked up: nothing below it is known either
  // Through each entry's list of children: this costs the subtree, not
  // every inode known (a poll cycle invalidates job by job).
  out.push_back(*top);
  std::vector<InodeId> parents{*top};
  while (!parents.empty()) {
    const Entry& parent = entries_[parents.back() - kRootInode];
    parents.pop_back();
    for (std::uint32_t at = parent.first_child; at != 0; at = entries_[at].next_sibling) {
      out.push_back(kRootInode + at);
      parents.push_back(kRootInode + at);
    }
  }
  return out;
}

}  // namespace mmcfs::fs
