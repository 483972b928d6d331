// git_repo.cpp — libgit2 reads of a local repository (see git_repo.h).
//
// Every libgit2 object lives in a unique_ptr with its git_*_free deleter, so
// an early return on any error path frees what was made. Remotes and
// upstreams are read from a config snapshot (see RepoConfig below for why).
// libgit2 error text is per thread (git_error_last), so messages built here
// never mix threads.
//
// Thread rules: the only process-wide state is the std::call_once flag that
// guards git_libgit2_init(); everything else is local to one call.
#include "project/git_repo.h"

#include <fmt/format.h>
#include <git2.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace mmcfs::project {
namespace {

namespace fs = std::filesystem;

// -- RAII -----------------------------------------------------------------------

template <typename T, void (*Free)(T*)>
struct GitFree {
  void operator()(T* object) const {
    if (object != nullptr) Free(object);
  }
};

using RepoPtr = std::unique_ptr<git_repository, GitFree<git_repository, git_repository_free>>;
using RefPtr = std::unique_ptr<git_reference, GitFree<git_reference, git_reference_free>>;
using ObjectPtr = std::unique_ptr<git_object, GitFree<git_object, git_object_free>>;
using ConfigPtr = std::unique_ptr<git_config, GitFree<git_config, git_config_free>>;
using ConfigIterPtr =
    std::unique_ptr<git_config_iterator, GitFree<git_config_iterator, git_config_iterator_free>>;
using StatusListPtr =
    std::unique_ptr<git_status_list, GitFree<git_status_list, git_status_list_free>>;
using BranchIterPtr =
    std::unique_ptr<git_branch_iterator, GitFree<git_branch_iterator, git_branch_iterator_free>>;

// -- small helpers ----------------------------------------------------------------

void ensure_libgit2() {
  static std::once_flag once;  // the one process-wide state of this file
  std::call_once(once, [] { git_libgit2_init(); });
}

// libgit2's message for the last error on this thread.
std::string git_message() {
  const git_error* error = git_error_last();
  return error != nullptr && error->message != nullptr ? error->message : "unknown libgit2 error";
}

std::string to_hex(const git_oid& oid) {
  char hex[GIT_OID_HEXSZ + 1] = {};
  git_oid_tostr(hex, sizeof hex, &oid);
  return hex;
}

std::string short_sha(const git_oid& oid) { return to_hex(oid).substr(0, 7); }

std::string strip_prefix(std::string_view text, std::string_view prefix) {
  if (text.starts_with(prefix)) text.remove_prefix(prefix.size());
  return std::string(text);
}

// `path` as an absolute path without a trailing slash.
std::string absolute_path(const std::string& path) {
  std::error_code ignored;
  std::string text = fs::absolute(path, ignored).lexically_normal().string();
  while (text.size() > 1 && text.back() == '/') text.pop_back();
  return text;
}

// -- opening ----------------------------------------------------------------------

// Why `path` (an existing directory that is not a repository's top) is refused.
Error not_a_top(const std::string& path) {
  git_repository* raw = nullptr;
  const int rc = git_repository_open_ext(&raw, path.c_str(), 0, nullptr);  // search upward
  const RepoPtr enclosing(raw);
  if (rc == 0 && git_repository_workdir(enclosing.get()) != nullptr) {
    return make_error(Errc::kInvalidArgument,
                      fmt::format("'{}' is inside a git repository, not its top directory — "
                                  "point at '{}'",
                                  path, absolute_path(git_repository_workdir(enclosing.get()))));
  }
  return make_error(Errc::kInvalidArgument,
                    fmt::format("'{}' is not a git repository (git init, or point at the "
                                "repository's top directory)",
                                path));
}

Status check_directory(const std::string& path) {
  std::error_code error;
  const fs::file_status status = fs::status(path, error);
  if (status.type() == fs::file_type::not_found) {
    return make_error(Errc::kNotFound,
                      fmt::format("'{}' does not exist — point at the project's git repository "
                                  "(its top directory)",
                                  path));
  }
  if (error) {
    return make_error(Errc::kIo, fmt::format("cannot look at '{}': {}", path, error.message()));
  }
  if (!fs::is_directory(status)) {
    return make_error(Errc::kInvalidArgument,
                      fmt::format("'{}' is a file, not a git repository (point at the "
                                  "repository's top directory)",
                                  path));
  }
  return Status::Ok();
}

Error open_failure(const std::string& path, int rc) {
  if (rc == GIT_ENOTFOUND) return not_a_top(path);
  if (rc == GIT_EOWNER) {
    return make_error(Errc::kPermissionDenied,
                      fmt::format("git refuses the repository '{}': it is owned by another user "
                                  "(run mmcfs as the owner, or `git config --global --add "
                                  "safe.directory {}`)",
                                  path, absolute_path(path)));
  }
  return make_error(Errc::kIo,
                    fmt::format("cannot open the git repository '{}': {}", path, git_message()));
}

// Opens the repository whose work tree's top directory is `path`.
Result<RepoPtr> open_top(const std::string& path) {
  ensure_libgit2();
  if (Status ok = check_directory(path); !ok) return ok.error();
  git_repository* raw = nullptr;
  const int rc =
      git_repository_open_ext(&raw, path.c_str(), GIT_REPOSITORY_OPEN_NO_SEARCH, nullptr);
  RepoPtr repo(raw);
  if (rc < 0) return open_failure(path, rc);
  const char* workdir = git_repository_workdir(repo.get());
  if (workdir == nullptr) {
    return make_error(Errc::kInvalidArgument,
                      fmt::format("'{}' is a bare git repository — point at a clone of it that "
                                  "has a work tree",
                                  path));
  }
  std::error_code error;
  if (!fs::equivalent(workdir, path, error)) {
    return make_error(Errc::kInvalidArgument,
                      fmt::format("'{}' is not the top directory of its repository's work "
                                  "tree — point at '{}'",
                                  path, absolute_path(workdir)));
  }
  return repo;
}

// -- remotes and branch config ------------------------------------------------------
//
// Read from a config snapshot with exact-key lookups and a plain iterator,
// never with git_remote_list / git_remote_lookup / git_branch_upstream: in
// libgit2 1.5 those match config entries against a PCRE2 regex and leak
// ~20 KB per non-matching entry on every call (libgit2 PR #6382, fixed in
// 1.6), which a long-running mount cannot afford. URLs are as configured
// (`git config remote.<name>.url`), without url.*.insteadOf rewriting.

// The repository's configuration as of this call, for remote.* / branch.*.
class RepoConfig {
 public:
  explicit RepoConfig(git_repository* repo) {
    git_config* raw = nullptr;
    if (git_repository_config_snapshot(&raw, repo) == 0) config_.reset(raw);
    read_remote_names();
  }

  // Remote names in name order (as git_remote_list gives them).
  const std::vector<std::string>& remotes() const { return remotes_; }

  // "origin" if present, else the first remote; "" if there is none.
  std::string chosen_remote() const {
    if (std::find(remotes_.begin(), remotes_.end(), "origin") != remotes_.end()) return "origin";
    return remotes_.empty() ? "" : remotes_.front();
  }

  std::string remote_url(const std::string& remote) const {
    return get("remote." + remote + ".url");
  }

  // The branch's upstream as a remote-tracking name ("origin/main"), or "".
  std::string upstream_of(const std::string& branch) const {
    if (branch.empty()) return "";
    const std::string remote = get("branch." + branch + ".remote");
    const std::string merge = get("branch." + branch + ".merge");
    if (remote.empty() || remote == "." || !merge.starts_with("refs/heads/")) return "";
    return remote + "/" + strip_prefix(merge, "refs/heads/");
  }

 private:
  // One value by exact key (the last one wins, as in git); "" if unset.
  std::string get(const std::string& key) const {
    const char* value = nullptr;
    if (!config_ || git_config_get_string(&value, config_.get(), key.c_str()) < 0) return "";
    return value != nullptr ? value : "";
  }

  // Names from remote.<name>.url and remote.<name>.pushurl entries.
  void read_remote_names() {
    git_config_iterator* raw = nullptr;
    if (!config_ || git_config_iterator_new(&raw, config_.get()) < 0) return;
    const ConfigIterPtr iter(raw);
    git_config_entry* entry = nullptr;
    while (git_config_next(&entry, iter.get()) == 0) {
      if (std::optional<std::string> name = remote_name_of(entry->name)) remotes_.push_back(*name);
    }
    std::sort(remotes_.begin(), remotes_.end());
    remotes_.erase(std::unique(remotes_.begin(), remotes_.end()), remotes_.end());
  }

  static std::optional<std::string> remote_name_of(std::string_view key) {
    if (!key.starts_with("remote.")) return std::nullopt;
    key.remove_prefix(std::string_view("remote.").size());
    for (std::string_view suffix : {".url", ".pushurl"}) {
      if (key.size() > suffix.size() && key.ends_with(suffix)) {
        return std::string(key.substr(0, key.size() - suffix.size()));
      }
    }
    return std::nullopt;
  }

  ConfigPtr config_;
  std::vector<std::string> remotes_;
};

// -- HEAD and status --------------------------------------------------------------

// The short name of the branch HEAD points at (born or not); "" when detached.
std::string current_branch(git_repository* repo) {
  git_reference* raw = nullptr;
  const int rc = git_reference_lookup(&raw, repo, "HEAD");
  const RefPtr head(raw);
  if (rc < 0 || git_reference_type(head.get()) != GIT_REFERENCE_SYMBOLIC) return "";
  return strip_prefix(git_reference_symbolic_target(head.get()), "refs/heads/");
}

// HEAD's commit; nullopt in a repository without commits.
Result<std::optional<git_oid>> head_commit(git_repository* repo) {
  git_oid oid{};
  const int rc = git_reference_name_to_id(&oid, repo, "HEAD");
  if (rc == 0) return std::optional<git_oid>(oid);
  if (rc == GIT_ENOTFOUND || rc == GIT_EUNBORNBRANCH) return std::optional<git_oid>();
  return make_error(Errc::kIo, "cannot read HEAD: " + git_message());
}

bool counts_as_dirty(const git_status_entry& entry) {
  return entry.status != GIT_STATUS_CURRENT && (entry.status & GIT_STATUS_IGNORED) == 0;
}

// Staged or unstaged changes to tracked files, or untracked non-ignored files.
Result<bool> is_dirty(git_repository* repo) {
  git_status_options options{};
  git_status_options_init(&options, GIT_STATUS_OPTIONS_VERSION);
  options.show = GIT_STATUS_SHOW_INDEX_AND_WORKDIR;
  options.flags = GIT_STATUS_OPT_INCLUDE_UNTRACKED;  // not ignored; never writes the index
  git_status_list* raw = nullptr;
  const int rc = git_status_list_new(&raw, repo, &options);
  const StatusListPtr list(raw);
  if (rc < 0) return make_error(Errc::kIo, "cannot read git status: " + git_message());
  const std::size_t count = git_status_list_entrycount(list.get());
  for (std::size_t i = 0; i < count; ++i) {
    const git_status_entry* entry = git_status_byindex(list.get(), i);
    if (entry != nullptr && counts_as_dirty(*entry)) return true;
  }
  return false;
}

// -- revisions --------------------------------------------------------------------

Error unknown_revision(const std::string& path, const std::string& rev, int rc) {
  if (rc == GIT_EAMBIGUOUS) {
    return make_error(Errc::kInvalidArgument,
                      fmt::format("revision '{}' is ambiguous in '{}': several objects start "
                                  "with it — give more characters of the SHA",
                                  rev, path));
  }
  return make_error(Errc::kInvalidArgument,
                    fmt::format("'{}' names no commit, branch or tag in '{}' — check the "
                                "spelling (git log --oneline), or git fetch if it is on a remote",
                                rev, path));
}

Result<git_oid> resolve_in(git_repository* repo, const std::string& path, const std::string& rev) {
  const std::string spec = rev.empty() ? "HEAD" : rev;
  if (spec == "HEAD" && git_repository_head_unborn(repo) == 1) {
    return make_error(Errc::kInvalidArgument,
                      fmt::format("'{}' has no commits yet — commit first (git commit)", path));
  }
  git_object* raw = nullptr;
  const int rc = git_revparse_single(&raw, repo, spec.c_str());
  const ObjectPtr object(raw);
  if (rc < 0) return unknown_revision(path, spec, rc);
  git_object* peeled_raw = nullptr;
  const int peel_rc = git_object_peel(&peeled_raw, object.get(), GIT_OBJECT_COMMIT);
  const ObjectPtr commit(peeled_raw);
  if (peel_rc < 0) {
    return make_error(
        Errc::kInvalidArgument,
        fmt::format("'{}' in '{}' names a {}, not a commit — give a commit SHA, "
                    "branch or tag",
                    spec, path, git_object_type2string(git_object_type(object.get()))));
  }
  return *git_object_id(commit.get());
}

// -- remote branches --------------------------------------------------------------

bool tip_contains(git_repository* repo, const git_oid& tip, const git_oid& commit) {
  return git_oid_equal(&tip, &commit) != 0 || git_graph_descendant_of(repo, &tip, &commit) == 1;
}

// The remotes the cluster's clone could come from: the chosen one and any
// other with the same URL.
std::vector<std::string> eligible_remotes(const RepoConfig& config) {
  const std::string chosen = config.chosen_remote();
  const std::string url = config.remote_url(chosen);
  std::vector<std::string> result{chosen};
  for (const std::string& name : config.remotes()) {
    if (name != chosen && !url.empty() && config.remote_url(name) == url) result.push_back(name);
  }
  return result;
}

std::string remote_of(const std::string& branch, const std::vector<std::string>& remotes) {
  for (const std::string& remote : remotes) {
    if (branch.starts_with(remote + "/")) return remote;
  }
  return "";
}

struct RemoteBranch {
  std::string name;  // "origin/main"
  bool contains = false;
};

// Every direct remote-tracking branch, and whether its tip contains `commit`.
std::vector<RemoteBranch> remote_branches(git_repository* repo, const git_oid& commit) {
  std::vector<RemoteBranch> result;
  git_branch_iterator* raw_iter = nullptr;
  if (git_branch_iterator_new(&raw_iter, repo, GIT_BRANCH_REMOTE) < 0) return result;
  const BranchIterPtr iter(raw_iter);
  git_reference* raw_ref = nullptr;
  git_branch_t type{};
  while (git_branch_next(&raw_ref, &type, iter.get()) == 0) {
    const RefPtr ref(raw_ref);
    const git_oid* tip = git_reference_target(ref.get());  // null for origin/HEAD
    if (tip == nullptr) continue;
    result.push_back(
        RemoteBranch{git_reference_shorthand(ref.get()), tip_contains(repo, *tip, commit)});
  }
  return result;
}

// "origin/main" for refs/remotes/origin/HEAD -> refs/remotes/origin/main, or "".
std::string remote_default_branch(git_repository* repo, const std::string& remote) {
  git_reference* raw = nullptr;
  const std::string name = "refs/remotes/" + remote + "/HEAD";
  if (git_reference_lookup(&raw, repo, name.c_str()) < 0) return "";
  const RefPtr head(raw);
  if (git_reference_type(head.get()) != GIT_REFERENCE_SYMBOLIC) return "";
  return strip_prefix(git_reference_symbolic_target(head.get()), "refs/remotes/");
}

// The best containing branch of an eligible remote, in git_repo.h's order.
std::optional<std::string> pick_branch(git_repository* repo, const RepoConfig& config,
                                       std::vector<RemoteBranch> branches) {
  const std::vector<std::string> remotes = eligible_remotes(config);
  std::erase_if(branches, [&](const RemoteBranch& b) {
    return !b.contains || remote_of(b.name, remotes).empty();
  });
  const std::string branch = current_branch(repo);
  const std::vector<std::string> preferred = {config.upstream_of(branch),
                                              branch.empty() ? "" : remotes.front() + "/" + branch,
                                              remote_default_branch(repo, remotes.front())};
  for (const std::string& want : preferred) {
    const auto hit = std::find_if(branches.begin(), branches.end(),
                                  [&](const RemoteBranch& b) { return b.name == want; });
    if (!want.empty() && hit != branches.end()) return want;
  }
  std::sort(branches.begin(), branches.end(), [&](const RemoteBranch& a, const RemoteBranch& b) {
    const bool a_chosen = remote_of(a.name, remotes) == remotes.front();
    const bool b_chosen = remote_of(b.name, remotes) == remotes.front();
    return a_chosen != b_chosen ? a_chosen : a.name < b.name;
  });
  if (branches.empty()) return std::nullopt;
  return branches.front().name;
}

Error no_remote(const std::string& path, const git_oid& commit, const std::string& branch) {
  return make_error(
      Errc::kNotFound,
      fmt::format("commit {} is not on any remote branch of '{}': the repository has no remote "
                  "— add one and push (git remote add origin <url>, then git push -u origin {}); "
                  "the cluster clones the project from its remote",
                  short_sha(commit), path, branch.empty() ? "<branch>" : branch));
}

std::string push_command(const std::string& remote, const std::string& branch,
                         const git_oid& commit) {
  if (branch.empty()) {
    return fmt::format("git push {} {}:refs/heads/<new-branch>", remote, short_sha(commit));
  }
  return fmt::format("git push {} {}", remote, branch);
}

Error not_pushed(git_repository* repo, const RepoConfig& config, const std::string& path,
                 const git_oid& commit, const std::vector<RemoteBranch>& branches) {
  const std::string remote = config.chosen_remote();
  const std::string url = config.remote_url(remote);
  std::string where = url.empty() ? fmt::format(
                                        "remote '{}', which has no URL (git remote "
                                        "set-url {} <url>)",
                                        remote, remote)
                                  : url;
  std::string elsewhere;
  for (const RemoteBranch& b : branches) {
    if (b.contains) {
      elsewhere =
          fmt::format(" (it is on {}, but that remote is not the one the cluster uses)", b.name);
      break;
    }
  }
  return make_error(
      Errc::kNotFound,
      fmt::format("commit {} is not on any remote branch of '{}'{}; push it first ({}) — the "
                  "cluster clones from {}",
                  short_sha(commit), path, elsewhere,
                  push_command(remote, current_branch(repo), commit), where));
}

}  // namespace

Result<RepoInfo> inspect_repo(const std::string& path) {
  Result<RepoPtr> repo = open_top(path);
  if (!repo) return repo.error();
  git_repository* r = repo->get();
  RepoInfo info;
  info.path = absolute_path(path);
  const RepoConfig config(r);
  info.remote_name = config.chosen_remote();
  if (!info.remote_name.empty()) info.remote_url = config.remote_url(info.remote_name);
  info.branch = current_branch(r);
  Result<std::optional<git_oid>> head = head_commit(r);
  if (!head) return head.error();
  if (head->has_value()) info.head_commit = to_hex(**head);
  Result<bool> dirty = is_dirty(r);
  if (!dirty) return dirty.error();
  info.dirty = *dirty;
  return info;
}

Result<std::string> resolve_commit(const std::string& path, const std::string& rev) {
  Result<RepoPtr> repo = open_top(path);
  if (!repo) return repo.error();
  Result<git_oid> oid = resolve_in(repo->get(), path, rev);
  if (!oid) return oid.error();
  return to_hex(*oid);
}

Result<std::string> remote_branch_containing(const std::string& path, const std::string& sha) {
  Result<RepoPtr> repo = open_top(path);
  if (!repo) return repo.error();
  git_repository* r = repo->get();
  Result<git_oid> commit = resolve_in(r, path, sha);
  if (!commit) return commit.error();
  const RepoConfig config(r);
  if (config.chosen_remote().empty()) return no_remote(path, *commit, current_branch(r));
  std::vector<RemoteBranch> branches = remote_branches(r, *commit);
  if (std::optional<std::string> found = pick_branch(r, config, branches)) return *found;
  return not_pushed(r, config, path, *commit, branches);
}

}  // namespace mmcfs::project
