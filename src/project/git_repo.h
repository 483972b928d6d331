// git_repo.h — what a local git repository says right now: remote, branch,
// HEAD, dirtiness; revisions resolved to commits; whether a commit is on a
// remote branch the cluster can clone.
//
// Read through libgit2, fresh on every call: nothing is cached, so a commit
// or push made a second ago shows at once. Nothing here writes to the
// repository (no index refresh, no fetch) and nothing touches the network:
// "on a remote branch" means the remote-tracking refs (refs/remotes/*) as of
// the last fetch or push.
//
// `path` is the repository's top directory (its work tree); a path inside a
// work tree, a .git directory or a bare repository is refused with a message
// saying what to point at instead.
//
// Thread rules: safe to call from any number of threads at once. libgit2 is
// initialised once per process (std::call_once) on first use and never shut
// down; each call opens its own git_repository and frees every libgit2
// object before it returns, on error paths too.
#pragma once

#include <string>

#include "common/result.h"
#include "project/project_model.h"

namespace mmcfs::project {

// The repository's remote ("origin" if present, else the first by name) with
// its URL as configured (`git config remote.<name>.url`; url.*.insteadOf is
// not applied), current branch, HEAD commit and whether anything is
// uncommitted (modified or staged tracked files, or untracked files that are
// not ignored).
// kNotFound: nothing at `path`. kInvalidArgument: not a repository's top.
Result<RepoInfo> inspect_repo(const std::string& path);

// The full 40-hex SHA of the commit `rev` names: "" (HEAD), a full or
// abbreviated SHA, a branch, a tag (annotated tags are peeled), or anything
// else `git rev-parse` accepts. kInvalidArgument naming `rev` when it names
// nothing, is ambiguous, or names something that is not a commit.
Result<std::string> resolve_commit(const std::string& path, const std::string& rev);

// A remote-tracking branch ("origin/main") whose tip is the commit `sha`
// (any revision resolve_commit accepts) or a descendant of it, so that a
// clone of the remote contains the commit. Only branches of the remote
// inspect_repo reports (or of another remote with the same URL) count: that
// is the one the cluster clones. Preference: the current branch's upstream
// (branch.<b>.remote/merge), then <remote>/<current branch>, then the
// remote's default branch (<remote>/HEAD), then the chosen remote's other
// branches, then those of same-URL remotes, each group in name order.
// kNotFound with a message saying how to push (or add a remote) when none.
Result<std::string> remote_branch_containing(const std::string& path, const std::string& sha);

}  // namespace mmcfs::project
