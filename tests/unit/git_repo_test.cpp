// git_repo_test.cpp — inspect_repo, resolve_commit and remote_branch_containing
// against real repositories built with the git CLI in a temporary directory:
// a work tree with a bare "origin" it pushes to, dirty in each way, detached,
// empty, without a remote, with unpushed and pushed commits.
//
// Each test points HOME at its own temporary directory and sets
// GIT_CONFIG_NOSYSTEM=1, so neither the user's nor the system's git config
// (default branch, hooks, signing) leaks in; every git command passes
// user.name/user.email with -c.
//
// Thread rules: the fixture sets environment variables, so tests run on one
// thread; ConcurrentCallsAgree then calls the library from several threads.
#include "project/git_repo.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace mmcfs::project {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

class GitRepoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::random_device random;
    root_ = fs::temp_directory_path() / ("mmcfs-git-test-" + std::to_string(random()));
    fs::create_directories(root_ / "home");
    save_and_set("HOME", (root_ / "home").string());
    save_and_set("GIT_CONFIG_NOSYSTEM", "1");
    for (const char* name : {"GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"}) save_and_unset(name);
    work_ = (root_ / "work").string();
    origin_ = (root_ / "origin.git").string();
  }

  void TearDown() override {
    for (const auto& [name, value] : saved_env_) {
      if (value) {
        setenv(name.c_str(), value->c_str(), 1);
      } else {
        unsetenv(name.c_str());
      }
    }
    std::error_code ignored;
    fs::remove_all(root_, ignored);
  }

  void save_and_set(const std::string& name, const std::string& value) {
    save(name);
    setenv(name.c_str(), value.c_str(), 1);
  }
  void save_and_unset(const std::string& name) {
    save(name);
    unsetenv(name.c_str());
  }
  void save(const std::string& name) {
    const char* value = std::getenv(name.c_str());
    saved_env_.emplace_back(name, value ? std::optional<std::string>(value) : std::nullopt);
  }

  // Runs git in `dir`, returning its stdout with the trailing newline removed.
  static std::string git(const std::string& dir, const std::string& args) {
    const std::string command = "git -C '" + dir +
                                "' -c user.name=t -c user.email=t@t -c commit.gpgsign=false "
                                "-c tag.gpgsign=false " +
                                args + " 2>&1";
    std::string output;
    FILE* pipe = popen(command.c_str(), "r");
    if (pipe == nullptr) {
      ADD_FAILURE() << "cannot run: " << command;
      return output;
    }
    std::array<char, 512> buffer{};
    while (fgets(buffer.data(), buffer.size(), pipe) != nullptr) output += buffer.data();
    const int status = pclose(pipe);
    EXPECT_EQ(status, 0) << command << "\n" << output;
    while (!output.empty() && output.back() == '\n') output.pop_back();
    return output;
  }

  static void write_file(const fs::path& path, const std::string& text) {
    fs::create_directories(path.parent_path());
    std::ofstream(path) << text;
  }

  // An empty work tree on branch main.
  void init_work() {
    fs::create_directories(work_);
    git(work_, "init -q -b main");
  }

  // Writes `file` and commits it; returns the new HEAD SHA.
  std::string commit(const std::string& file, const std::string& text) {
    write_file(fs::path(work_) / file, text);
    git(work_, "add -- '" + file + "'");
    git(work_, "commit -q -m 'change " + file + "'");
    return git(work_, "rev-parse HEAD");
  }

  // A work tree with one commit on main, pushed to a bare "origin".
  std::string init_pushed() {
    init_work();
    const std::string sha = commit("train.py", "print('hi')\n");
    git(root_.string(), "init -q --bare -b main '" + origin_ + "'");
    git(work_, "remote add origin '" + origin_ + "'");
    git(work_, "push -q -u origin main");
    return sha;
  }

  fs::path root_;
  std::string work_;
  std::string origin_;
  std::vector<std::pair<std::string, std::optional<std::string>>> saved_env_;
};

// -- inspect_repo -----------------------------------------------------------------

TEST_F(GitRepoTest, CleanRepoWithPushedOrigin) {
  const std::string sha = init_pushed();
  Result<RepoInfo> info = inspect_repo(work_);
  ASSERT_TRUE(info.ok()) << info.error().describe();
  EXPECT_EQ(info->path, work_);
  EXPECT_EQ(info->remote_name, "origin");
  EXPECT_EQ(info->remote_url, origin_);
  EXPECT_EQ(info->branch, "main");
  EXPECT_EQ(info->head_commit, sha);
  EXPECT_EQ(info->head_commit.size(), 40u);
  EXPECT_FALSE(info->dirty);
}

TEST_F(GitRepoTest, ModifiedTrackedFileIsDirty) {
  init_pushed();
  write_file(fs::path(work_) / "train.py", "print('changed')\n");
  Result<RepoInfo> info = inspect_repo(work_);
  ASSERT_TRUE(info.ok()) << info.error().describe();
  EXPECT_TRUE(info->dirty);
}

TEST_F(GitRepoTest, StagedFileIsDirty) {
  init_pushed();
  write_file(fs::path(work_) / "model.py", "x = 1\n");
  git(work_, "add model.py");
  Result<RepoInfo> info = inspect_repo(work_);
  ASSERT_TRUE(info.ok()) << info.error().describe();
  EXPECT_TRUE(info->dirty);
}

TEST_F(GitRepoTest, UntrackedFileIsDirty) {
  init_pushed();
  write_file(fs::path(work_) / "notes" / "todo.txt", "later\n");
  Result<RepoInfo> info = inspect_repo(work_);
  ASSERT_TRUE(info.ok()) << info.error().describe();
  EXPECT_TRUE(info->dirty);
}

TEST_F(GitRepoTest, IgnoredFileDoesNotCount) {
  init_pushed();
  commit(".gitignore", "outputs/\n*.ckpt\n");
  git(work_, "push -q");
  write_file(fs::path(work_) / "outputs" / "run1" / "log.txt", "loss 1.0\n");
  write_file(fs::path(work_) / "model.ckpt", "weights\n");
  Result<RepoInfo> info = inspect_repo(work_);
  ASSERT_TRUE(info.ok()) << info.error().describe();
  EXPECT_FALSE(info->dirty);
}

TEST_F(GitRepoTest, DetachedHeadHasNoBranch) {
  const std::string first = init_pushed();
  commit("model.py", "x = 1\n");
  git(work_, "checkout -q --detach " + first);
  Result<RepoInfo> info = inspect_repo(work_);
  ASSERT_TRUE(info.ok()) << info.error().describe();
  EXPECT_EQ(info->branch, "");
  EXPECT_EQ(info->head_commit, first);
  EXPECT_FALSE(info->dirty);
}

TEST_F(GitRepoTest, EmptyRepositoryHasNoCommit) {
  init_work();
  Result<RepoInfo> info = inspect_repo(work_);
  ASSERT_TRUE(info.ok()) << info.error().describe();
  EXPECT_EQ(info->branch, "main");
  EXPECT_EQ(info->head_commit, "");
  EXPECT_EQ(info->remote_name, "");
  EXPECT_EQ(info->remote_url, "");
  EXPECT_FALSE(info->dirty);

  write_file(fs::path(work_) / "train.py", "print('hi')\n");
  info = inspect_repo(work_);
  ASSERT_TRUE(info.ok()) << info.error().describe();
  EXPECT_TRUE(info->dirty);
}

TEST_F(GitRepoTest, NoRemote) {
  init_work();
  commit("train.py", "print('hi')\n");
  Result<RepoInfo> info = inspect_repo(work_);
  ASSERT_TRUE(info.ok()) << info.error().describe();
  EXPECT_EQ(info->remote_name, "");
  EXPECT_EQ(info->remote_url, "");
}

TEST_F(GitRepoTest, FirstRemoteWhenThereIsNoOrigin) {
  init_work();
  commit("train.py", "print('hi')\n");
  git(work_, "remote add upstream https://example.org/lab/project.git");
  Result<RepoInfo> info = inspect_repo(work_);
  ASSERT_TRUE(info.ok()) << info.error().describe();
  EXPECT_EQ(info->remote_name, "upstream");
  EXPECT_EQ(info->remote_url, "https://example.org/lab/project.git");
}

TEST_F(GitRepoTest, OriginIsPreferredOverOtherRemotes) {
  init_work();
  git(work_, "remote add aaa https://example.org/a.git");
  git(work_, "remote add origin https://example.org/o.git");
  Result<RepoInfo> info = inspect_repo(work_);
  ASSERT_TRUE(info.ok()) << info.error().describe();
  EXPECT_EQ(info->remote_name, "origin");
  EXPECT_EQ(info->remote_url, "https://example.org/o.git");
}

TEST_F(GitRepoTest, RemoteNamesWithDotsAndPushUrlOnly) {
  init_work();
  git(work_, "remote add team.lab https://example.org/lab.git");
  git(work_, "config remote.backup.pushurl https://example.org/backup.git");
  Result<RepoInfo> info = inspect_repo(work_);
  ASSERT_TRUE(info.ok()) << info.error().describe();
  EXPECT_EQ(info->remote_name, "backup");  // first by name; it has no fetch URL
  EXPECT_EQ(info->remote_url, "");
  git(work_, "config --unset remote.backup.pushurl");
  info = inspect_repo(work_);
  ASSERT_TRUE(info.ok()) << info.error().describe();
  EXPECT_EQ(info->remote_name, "team.lab");
  EXPECT_EQ(info->remote_url, "https://example.org/lab.git");
}

// -- what is not a repository's top ------------------------------------------------

TEST_F(GitRepoTest, MissingPathIsNotFound) {
  Result<RepoInfo> info = inspect_repo((root_ / "nowhere").string());
  ASSERT_FALSE(info.ok());
  EXPECT_EQ(info.error().code, Errc::kNotFound);
  EXPECT_THAT(info.error().message, HasSubstr("does not exist"));
}

TEST_F(GitRepoTest, PlainDirectoryIsNotARepository) {
  fs::create_directories(root_ / "plain");
  Result<RepoInfo> info = inspect_repo((root_ / "plain").string());
  ASSERT_FALSE(info.ok());
  EXPECT_EQ(info.error().code, Errc::kInvalidArgument);
  EXPECT_THAT(info.error().message,
              HasSubstr("is not a git repository (git init, or point at the repository's top "
                        "directory)"));
}

TEST_F(GitRepoTest, FileIsNotARepository) {
  write_file(root_ / "file.txt", "x\n");
  Result<RepoInfo> info = inspect_repo((root_ / "file.txt").string());
  ASSERT_FALSE(info.ok());
  EXPECT_EQ(info.error().code, Errc::kInvalidArgument);
}

TEST_F(GitRepoTest, SubdirectoryPointsAtTheTop) {
  init_pushed();
  fs::create_directories(fs::path(work_) / "src");
  Result<RepoInfo> info = inspect_repo(work_ + "/src");
  ASSERT_FALSE(info.ok());
  EXPECT_EQ(info.error().code, Errc::kInvalidArgument);
  EXPECT_THAT(info.error().message, HasSubstr("point at '" + fs::canonical(work_).string() + "'"));
}

TEST_F(GitRepoTest, GitDirectoryAndBareRepositoryAreRefused) {
  init_pushed();
  Result<RepoInfo> dot_git = inspect_repo(work_ + "/.git");
  ASSERT_FALSE(dot_git.ok());
  EXPECT_EQ(dot_git.error().code, Errc::kInvalidArgument);
  Result<RepoInfo> bare = inspect_repo(origin_);
  ASSERT_FALSE(bare.ok());
  EXPECT_THAT(bare.error().message, HasSubstr("bare"));
}

// -- resolve_commit ----------------------------------------------------------------

TEST_F(GitRepoTest, ResolvesHeadShortShaBranchAndTags) {
  const std::string first = init_pushed();
  git(work_, "tag v1");
  git(work_, "tag -a v1-annotated -m 'release'");
  git(work_, "checkout -q -b feature");
  const std::string second = commit("model.py", "x = 1\n");
  git(work_, "checkout -q main");

  EXPECT_EQ(resolve_commit(work_, "").value(), first);
  EXPECT_EQ(resolve_commit(work_, "HEAD").value(), first);
  EXPECT_EQ(resolve_commit(work_, first).value(), first);
  EXPECT_EQ(resolve_commit(work_, first.substr(0, 7)).value(), first);
  EXPECT_EQ(resolve_commit(work_, "feature").value(), second);
  EXPECT_EQ(resolve_commit(work_, "origin/main").value(), first);
  EXPECT_EQ(resolve_commit(work_, "v1").value(), first);
  EXPECT_EQ(resolve_commit(work_, "v1-annotated").value(), first);
}

TEST_F(GitRepoTest, UnknownRevisionIsNamed) {
  init_pushed();
  for (const std::string rev : {"garbage", "no-such-branch", "deadbeefdeadbeef", "HEAD~5"}) {
    Result<std::string> sha = resolve_commit(work_, rev);
    ASSERT_FALSE(sha.ok()) << rev;
    EXPECT_EQ(sha.error().code, Errc::kInvalidArgument);
    EXPECT_THAT(sha.error().message, HasSubstr("'" + rev + "' names no commit"));
  }
}

TEST_F(GitRepoTest, TreeIsNotACommit) {
  init_pushed();
  const std::string tree = git(work_, "rev-parse HEAD^{tree}");
  Result<std::string> sha = resolve_commit(work_, tree);
  ASSERT_FALSE(sha.ok());
  EXPECT_THAT(sha.error().message, HasSubstr("names a tree, not a commit"));
}

TEST_F(GitRepoTest, EmptyRepositoryHasNothingToResolve) {
  init_work();
  Result<std::string> sha = resolve_commit(work_, "");
  ASSERT_FALSE(sha.ok());
  EXPECT_EQ(sha.error().code, Errc::kInvalidArgument);
  EXPECT_THAT(sha.error().message, HasSubstr("has no commits yet"));
}

// -- remote_branch_containing ------------------------------------------------------

TEST_F(GitRepoTest, PushedCommitIsFound) {
  const std::string sha = init_pushed();
  Result<std::string> branch = remote_branch_containing(work_, sha);
  ASSERT_TRUE(branch.ok()) << branch.error().describe();
  EXPECT_EQ(*branch, "origin/main");
}

TEST_F(GitRepoTest, AncestorOfPushedBranchIsFound) {
  const std::string first = init_pushed();
  commit("model.py", "x = 1\n");
  commit("data.py", "y = 2\n");
  git(work_, "push -q");
  Result<std::string> branch = remote_branch_containing(work_, first.substr(0, 10));
  ASSERT_TRUE(branch.ok()) << branch.error().describe();
  EXPECT_EQ(*branch, "origin/main");
}

TEST_F(GitRepoTest, LocalOnlyCommitSaysHowToPush) {
  init_pushed();
  const std::string local = commit("model.py", "x = 1\n");
  Result<std::string> branch = remote_branch_containing(work_, local);
  ASSERT_FALSE(branch.ok());
  EXPECT_EQ(branch.error().code, Errc::kNotFound);
  EXPECT_EQ(branch.error().message,
            "commit " + local.substr(0, 7) + " is not on any remote branch of '" + work_ +
                "'; push it first (git push origin main) — the cluster clones from " + origin_);
}

TEST_F(GitRepoTest, LocalOnlyCommitOnDetachedHead) {
  init_pushed();
  git(work_, "checkout -q --detach");
  const std::string local = commit("model.py", "x = 1\n");
  Result<std::string> branch = remote_branch_containing(work_, "");
  ASSERT_FALSE(branch.ok());
  EXPECT_THAT(branch.error().message,
              HasSubstr("git push origin " + local.substr(0, 7) + ":refs/heads/<new-branch>"));
}

TEST_F(GitRepoTest, NoRemoteSaysHowToAddOne) {
  init_work();
  const std::string sha = commit("train.py", "print('hi')\n");
  Result<std::string> branch = remote_branch_containing(work_, sha);
  ASSERT_FALSE(branch.ok());
  EXPECT_EQ(branch.error().code, Errc::kNotFound);
  EXPECT_THAT(branch.error().message, HasSubstr("commit " + sha.substr(0, 7)));
  EXPECT_THAT(branch.error().message, HasSubstr("has no remote"));
  EXPECT_THAT(branch.error().message, HasSubstr("git remote add origin <url>"));
  EXPECT_THAT(branch.error().message, HasSubstr("git push -u origin main"));
}

TEST_F(GitRepoTest, PrefersTheCurrentBranchCounterpart) {
  const std::string sha = init_pushed();
  git(work_, "push -q origin main:aaa");
  git(work_, "checkout -q -b zzz");
  git(work_, "push -q origin zzz");  // no upstream set: matched by name
  EXPECT_EQ(remote_branch_containing(work_, sha).value(), "origin/zzz");
  git(work_, "checkout -q main");  // upstream origin/main
  EXPECT_EQ(remote_branch_containing(work_, sha).value(), "origin/main");
}

TEST_F(GitRepoTest, DetachedPrefersTheRemoteDefaultBranch) {
  const std::string sha = init_pushed();
  git(work_, "push -q origin main:aaa");
  git(work_, "remote set-head origin main");
  git(work_, "checkout -q --detach");
  EXPECT_EQ(remote_branch_containing(work_, sha).value(), "origin/main");
  git(work_, "remote set-head origin -d");
  EXPECT_EQ(remote_branch_containing(work_, sha).value(), "origin/aaa");  // name order
}

TEST_F(GitRepoTest, BranchOfAnotherRemoteIsNotEnough) {
  init_pushed();
  const std::string fork = (root_ / "fork.git").string();
  git(root_.string(), "init -q --bare -b main '" + fork + "'");
  git(work_, "remote add fork '" + fork + "'");
  const std::string local = commit("model.py", "x = 1\n");
  git(work_, "push -q fork main");
  Result<std::string> branch = remote_branch_containing(work_, local);
  ASSERT_FALSE(branch.ok());
  EXPECT_THAT(branch.error().message, HasSubstr("it is on fork/main"));
  EXPECT_THAT(branch.error().message, HasSubstr("the cluster clones from " + origin_));
}

TEST_F(GitRepoTest, RemoteWithTheSameUrlCounts) {
  init_pushed();
  git(work_, "remote add mirror '" + origin_ + "'");
  const std::string local = commit("model.py", "x = 1\n");
  git(work_, "push -q mirror main:mirrored");
  EXPECT_EQ(remote_branch_containing(work_, local).value(), "mirror/mirrored");
}

TEST_F(GitRepoTest, UnknownCommitIsInvalid) {
  init_pushed();
  Result<std::string> branch = remote_branch_containing(work_, "garbage");
  ASSERT_FALSE(branch.ok());
  EXPECT_EQ(branch.error().code, Errc::kInvalidArgument);
  EXPECT_THAT(branch.error().message, HasSubstr("'garbage'"));
}

// -- threads -----------------------------------------------------------------------

TEST_F(GitRepoTest, ConcurrentCallsAgree) {
  const std::string sha = init_pushed();
  std::vector<std::thread> threads;
  std::vector<int> failures(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10; ++i) {
        Result<RepoInfo> info = inspect_repo(work_);
        Result<std::string> branch = remote_branch_containing(work_, sha);
        Result<std::string> bad = resolve_commit(work_, "garbage");
        if (!info.ok() || info->head_commit != sha || !branch.ok() || bad.ok()) ++failures[t];
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_THAT(failures, ::testing::Each(0));
}

}  // namespace
}  // namespace mmcfs::project
