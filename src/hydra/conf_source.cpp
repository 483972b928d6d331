// conf_source.cpp — the disk, in-memory and git sources of a conf directory
// (see conf_source.h).
//
// Thread rules: no shared state. The git source pairs git_libgit2_init with
// git_libgit2_shutdown in every call (libgit2 counts them) and frees every
// libgit2 object before returning.
#include "hydra/conf_source.h"

#include <git2.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>

namespace mmcfs::hydra {
namespace {

constexpr std::uintmax_t kMaxConfFileBytes = 1 << 20;

std::string join(const std::string& dir, const std::string& name) {
  return dir.empty() ? name : dir + "/" + name;
}

}  // namespace

// ---- DiskConfSource ----------------------------------------------------------

Result<std::vector<ConfEntry>> DiskConfSource::list(const std::string& dir) const {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path path = dir.empty() ? fs::path(root_) : fs::path(root_) / dir;
  if (!fs::exists(path, ec)) return make_error(Errc::kNotFound, path.string() + " does not exist");
  if (!fs::is_directory(path, ec)) return make_error(Errc::kNotDirectory, path.string() + " is not a directory");
  std::vector<ConfEntry> out;
  for (fs::directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec)) {
    out.push_back(ConfEntry{it->path().filename().string(), it->is_directory(ec)});
  }
  if (ec) return make_error(Errc::kIo, "cannot list " + path.string() + ": " + ec.message());
  std::sort(out.begin(), out.end(), [](const ConfEntry& a, const ConfEntry& b) { return a.name < b.name; });
  return out;
}

Result<std::string> DiskConfSource::read(const std::string& path) const {
  namespace fs = std::filesystem;
  const fs::path full = fs::path(root_) / path;
  std::error_code ec;
  if (!fs::is_regular_file(full, ec)) return make_error(Errc::kNotFound, full.string() + " does not exist");
  if (fs::file_size(full, ec) > kMaxConfFileBytes) {
    return make_error(Errc::kInvalidArgument, full.string() + " is larger than 1 MiB: not a Hydra config");
  }
  std::ifstream in(full, std::ios::binary);
  if (!in) return make_error(Errc::kIo, "cannot read " + full.string());
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

// ---- MemoryConfSource --------------------------------------------------------

Result<std::vector<ConfEntry>> MemoryConfSource::list(const std::string& dir) const {
  const std::string prefix = dir.empty() ? "" : dir + "/";
  if (!dir.empty() && files_.contains(dir)) return make_error(Errc::kNotDirectory, dir + " is a file");
  std::set<std::string> files, dirs;
  for (const auto& [path, text] : files_) {
    if (!path.starts_with(prefix)) continue;
    std::string rest = path.substr(prefix.size());
    auto slash = rest.find('/');
    if (slash == std::string::npos) files.insert(rest);
    else dirs.insert(rest.substr(0, slash));
  }
  if (files.empty() && dirs.empty() && !dir.empty()) return make_error(Errc::kNotFound, dir + " does not exist");
  std::vector<ConfEntry> out;
  for (const auto& f : files) out.push_back({f, false});
  for (const auto& d : dirs) out.push_back({d, true});
  std::sort(out.begin(), out.end(), [](const ConfEntry& a, const ConfEntry& b) { return a.name < b.name; });
  return out;
}

Result<std::string> MemoryConfSource::read(const std::string& path) const {
  auto it = files_.find(path);
  if (it == files_.end()) return make_error(Errc::kNotFound, path + " does not exist");
  return it->second;
}

// ---- GitConfSource -----------------------------------------------------------

namespace {

struct Git {
  Git() { git_libgit2_init(); }
  ~Git() { git_libgit2_shutdown(); }
  Git(const Git&) = delete;
  Git& operator=(const Git&) = delete;
};

template <typename T, void (*Free)(T*)>
struct GitFree {
  void operator()(T* p) const { Free(p); }
};
using RepoPtr = std::unique_ptr<git_repository, GitFree<git_repository, git_repository_free>>;
using ObjectPtr = std::unique_ptr<git_object, GitFree<git_object, git_object_free>>;

std::string git_message() {
  const git_error* error = git_error_last();
  return error != nullptr && error->message != nullptr ? error->message : "unknown libgit2 error";
}

// The tree or blob at `path` (relative to the repository root) of commit `sha`.
Result<ObjectPtr> object_at(const std::string& repo_path, const std::string& sha, const std::string& path,
                            RepoPtr& repo) {
  git_repository* raw_repo = nullptr;
  if (git_repository_open_ext(&raw_repo, repo_path.c_str(), GIT_REPOSITORY_OPEN_NO_SEARCH, nullptr) != 0) {
    return make_error(Errc::kNotFound, "cannot open repository " + repo_path + ": " + git_message());
  }
  repo.reset(raw_repo);
  git_object* raw = nullptr;
  if (path.empty()) {
    if (git_revparse_single(&raw, raw_repo, (sha + "^{tree}").c_str()) != 0) {
      return make_error(Errc::kNotFound, "no tree for commit " + sha + ": " + git_message());
    }
  } else if (git_revparse_single(&raw, raw_repo, (sha + ":" + path).c_str()) != 0) {
    return make_error(Errc::kNotFound, path + " does not exist in commit " + sha.substr(0, 12));
  }
  return ObjectPtr(raw);
}

}  // namespace

Result<std::vector<ConfEntry>> GitConfSource::list(const std::string& dir) const {
  Git git;
  RepoPtr repo;
  auto object = object_at(repo_path_, sha_, join(conf_dir_, dir), repo);
  if (!object.ok()) return object.error();
  if (git_object_type(object->get()) != GIT_OBJECT_TREE) {
    return make_error(Errc::kNotDirectory, join(conf_dir_, dir) + " is not a directory");
  }
  auto* tree = reinterpret_cast<git_tree*>(object->get());
  std::vector<ConfEntry> out;
  for (std::size_t i = 0, n = git_tree_entrycount(tree); i < n; ++i) {
    const git_tree_entry* entry = git_tree_entry_byindex(tree, i);
    out.push_back(ConfEntry{git_tree_entry_name(entry), git_tree_entry_type(entry) == GIT_OBJECT_TREE});
  }
  std::sort(out.begin(), out.end(), [](const ConfEntry& a, const ConfEntry& b) { return a.name < b.name; });
  return out;
}

Result<std::string> GitConfSource::read(const std::string& path) const {
  Git git;
  RepoPtr repo;
  auto object = object_at(repo_path_, sha_, join(conf_dir_, path), repo);
  if (!object.ok()) return object.error();
  if (git_object_type(object->get()) != GIT_OBJECT_BLOB) {
    return make_error(Errc::kNotFound, join(conf_dir_, path) + " is not a file");
  }
  auto* blob = reinterpret_cast<git_blob*>(object->get());
  const auto size = static_cast<std::uintmax_t>(git_blob_rawsize(blob));
  if (size > kMaxConfFileBytes) {
    return make_error(Errc::kInvalidArgument, join(conf_dir_, path) + " is larger than 1 MiB: not a Hydra config");
  }
  return std::string(static_cast<const char*>(git_blob_rawcontent(blob)), static_cast<std::size_t>(size));
}

}  // namespace mmcfs::hydra
