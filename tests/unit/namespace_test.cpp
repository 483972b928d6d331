// namespace_test.cpp — the filesystem core without FUSE.
#include "fs/namespace.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <thread>

namespace mmcfs::fs {
namespace {

WallTime T(int s) { return WallTime(std::chrono::seconds(s)); }

struct Tree {
  std::shared_ptr<std::string> dynamic_text = std::make_shared<std::string>("v1\n");
  std::shared_ptr<std::vector<std::string>> dynamic_names =
      std::make_shared<std::vector<std::string>>(std::vector<std::string>{"a", "b"});

  std::shared_ptr<DirNode> root() {
    auto text = dynamic_text;
    auto names = dynamic_names;
    auto gen_file = std::make_shared<GeneratedFile>([text]() -> Result<FileContent> {
      return FileContent{*text, T(200)};
    });
    auto gen_dir = std::make_shared<GeneratedDir>(
        [names]() {
          std::vector<DirNode::Child> out;
          for (auto& n : *names) out.emplace_back(n, std::make_shared<StaticFile>(n + "\n", T(5)));
          return out;
        },
        nullptr, [] { return T(7); });
    auto sub = std::make_shared<StaticDir>(
        std::vector<DirNode::Child>{{"status", gen_file}}, T(100));
    return std::make_shared<StaticDir>(
        std::vector<DirNode::Child>{{"README", std::make_shared<StaticFile>("hello\n", T(1))},
                                    {"sub", sub},
                                    {"dyn", gen_dir}},
        T(1));
  }
};

TEST(NamespaceTest, LookupGivesStableIdsAndAttributes) {
  Tree tree;
  Namespace ns(tree.root());
  auto readme = ns.lookup(kRootInode, "README");
  ASSERT_TRUE(readme.ok());
  EXPECT_EQ(readme->kind, NodeKind::kFile);
  EXPECT_EQ(readme->size, 6u);
  EXPECT_EQ(readme->mode, 0444u);
  EXPECT_EQ(readme->mtime, T(1));
  auto again = ns.lookup(kRootInode, "README");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->ino, readme->ino);

  auto sub = ns.lookup(kRootInode, "sub");
  ASSERT_TRUE(sub.ok());
  EXPECT_EQ(sub->kind, NodeKind::kDirectory);
  EXPECT_EQ(sub->mode, 0555u);
  EXPECT_NE(sub->ino, readme->ino);
  auto status = ns.lookup(sub->ino, "status");
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(ns.path_of(status->ino).value(), "sub/status");
}

TEST(NamespaceTest, MissingNamesAreNotFound) {
  Tree tree;
  Namespace ns(tree.root());
  auto missing = ns.lookup(kRootInode, "nope");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, Errc::kNotFound);
  auto readme = ns.lookup(kRootInode, "README");
  auto under_file = ns.lookup(readme->ino, "x");
  ASSERT_FALSE(under_file.ok());
  EXPECT_EQ(under_file.error().code, Errc::kNotDirectory);
  EXPECT_EQ(ns.getattr(9999).error().code, Errc::kNotFound);
}

TEST(NamespaceTest, ReaddirListsChildrenWithTheSameIdsAsLookup) {
  Tree tree;
  Namespace ns(tree.root());
  auto entries = ns.readdir(kRootInode);
  ASSERT_TRUE(entries.ok());
  ASSERT_EQ(entries->size(), 3u);
  EXPECT_EQ((*entries)[0].name, "README");
  EXPECT_EQ((*entries)[1].name, "sub");
  EXPECT_EQ((*entries)[1].kind, NodeKind::kDirectory);
  EXPECT_EQ(ns.lookup(kRootInode, "sub")->ino, (*entries)[1].ino);
  auto readme = ns.lookup(kRootInode, "README");
  EXPECT_EQ(ns.readdir(readme->ino).error().code, Errc::kNotDirectory);
}

TEST(NamespaceTest, GeneratedDirectoryFollowsItsSource) {
  Tree tree;
  Namespace ns(tree.root());
  auto dyn = ns.lookup(kRootInode, "dyn");
  ASSERT_TRUE(dyn.ok());
  EXPECT_EQ(ns.readdir(dyn->ino)->size(), 2u);
  InodeId a = ns.lookup(dyn->ino, "a")->ino;
  tree.dynamic_names->push_back("c");
  EXPECT_EQ(ns.readdir(dyn->ino)->size(), 3u);
  EXPECT_TRUE(ns.lookup(dyn->ino, "c").ok());
  EXPECT_EQ(ns.lookup(dyn->ino, "a")->ino, a) << "ids survive a change of the listing";
  tree.dynamic_names->erase(tree.dynamic_names->begin());
  EXPECT_EQ(ns.lookup(dyn->ino, "a").error().code, Errc::kNotFound);
}

TEST(NamespaceTest, StatSizeMatchesReadAndHandlesAreConsistent) {
  Tree tree;
  Namespace ns(tree.root());
  auto sub = ns.lookup(kRootInode, "sub");
  auto status = ns.lookup(sub->ino, "status");
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->size, 3u);
  auto handle = ns.open(status->ino, OpenRequest{});
  ASSERT_TRUE(handle.ok());
  *tree.dynamic_text = "version two\n";
  EXPECT_EQ(ns.getattr(status->ino)->size, 12u) << "stat shows the current rendering";
  EXPECT_EQ(ns.read(handle->handle, 0, 100).value(), "v1\n") << "an open handle keeps its rendering";
  EXPECT_EQ(ns.read(handle->handle, 1, 1).value(), "1");
  EXPECT_EQ(ns.read(handle->handle, 3, 10).value(), "");
  EXPECT_EQ(ns.read(handle->handle, 99, 10).value(), "");
  ns.release(handle->handle);
  EXPECT_EQ(ns.open_handles(), 0u);
  auto fresh = ns.open(status->ino, OpenRequest{});
  EXPECT_EQ(ns.read(fresh->handle, 0, 100).value(), "version two\n");
  ns.release(fresh->handle);
}

TEST(NamespaceTest, WritesAndDirectoryOpensAreRefused) {
  Tree tree;
  Namespace ns(tree.root());
  auto readme = ns.lookup(kRootInode, "README");
  auto write = ns.open(readme->ino, OpenRequest{true, false, false});
  ASSERT_FALSE(write.ok());
  EXPECT_EQ(write.error().code, Errc::kReadOnly);
  EXPECT_NE(write.error().message.find("'README'"), std::string::npos);
  auto sub = ns.lookup(kRootInode, "sub");
  EXPECT_EQ(ns.open(sub->ino, OpenRequest{}).error().code, Errc::kIsDirectory);
  auto created = ns.create(sub->ino, "new.txt", 0644, OpenRequest{true, false, false});
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.error().code, Errc::kReadOnly);
  EXPECT_NE(created.error().message.find("'sub/new.txt'"), std::string::npos) << created.error().message;
  EXPECT_EQ(ns.unlink(kRootInode, "README").error().code, Errc::kReadOnly);
  EXPECT_EQ(ns.mkdir(kRootInode, "x").error().code, Errc::kReadOnly);
  EXPECT_EQ(ns.rmdir(kRootInode, "sub").error().code, Errc::kReadOnly);
  EXPECT_EQ(ns.rename(kRootInode, "README", kRootInode, "R").error().code, Errc::kReadOnly);
  EXPECT_EQ(ns.symlink(kRootInode, "l", "/x").error().code, Errc::kReadOnly);
  EXPECT_EQ(ns.setattr(readme->ino, AttrChange{0, std::nullopt, std::nullopt}, std::nullopt).error().code,
            Errc::kReadOnly);
  EXPECT_TRUE(ns.lookup(kRootInode, "README").ok()) << "nothing was removed";
}

TEST(NamespaceTest, KnownInodesUnderAPrefix) {
  Tree tree;
  Namespace ns(tree.root());
  auto sub = ns.lookup(kRootInode, "sub");
  auto status = ns.lookup(sub->ino, "status");
  ASSERT_TRUE(ns.lookup(kRootInode, "README").ok());
  auto under = ns.known_inodes_under("sub");
  EXPECT_EQ(under.size(), 2u);
  EXPECT_TRUE(std::find(under.begin(), under.end(), status->ino) != under.end());
  EXPECT_TRUE(ns.known_inodes_under("su").empty()) << "prefixes match whole components";
}

// Two shelves a directory moves between (jobs/ and archive/ in the mount),
// and a file that can be removed from a shelf.
class Shelf final : public DirNode {
 public:
  std::map<std::string, std::shared_ptr<Node>, std::less<>> items;
  std::vector<Child> children() const override { return {items.begin(), items.end()}; }
  Status rename(std::string_view name, DirNode& to, std::string_view new_name) override {
    auto it = items.find(name);
    if (it == items.end()) return make_error(Errc::kNotFound, std::string(name));
    static_cast<Shelf&>(to).items[std::string(new_name)] = it->second;
    items.erase(it);
    return Status::Ok();
  }
  Status unlink(std::string_view name) override {
    if (items.erase(std::string(name)) == 0) return make_error(Errc::kNotFound, std::string(name));
    return Status::Ok();
  }
  WallTime mtime() const override { return T(1); }
};

TEST(NamespaceTest, RenameMovesTheIdAndTheKnownSubtree) {
  auto jobs = std::make_shared<Shelf>();
  auto archive = std::make_shared<Shelf>();
  jobs->items["j1"] = std::make_shared<StaticDir>(
      std::vector<DirNode::Child>{{"status", std::make_shared<StaticFile>("DONE\n", T(2))}}, T(2));
  jobs->items["j2"] = std::make_shared<StaticFile>("x\n", T(2));
  jobs->items["j3"] = std::make_shared<StaticFile>("y\n", T(2));
  Namespace ns(std::make_shared<StaticDir>(std::vector<DirNode::Child>{{"jobs", jobs}, {"archive", archive}}, T(1)));
  auto jobs_ino = ns.lookup(kRootInode, "jobs")->ino;
  auto archive_ino = ns.lookup(kRootInode, "archive")->ino;
  ASSERT_TRUE(ns.readdir(jobs_ino).ok());
  auto j1 = ns.lookup(jobs_ino, "j1")->ino;
  auto status = ns.lookup(j1, "status")->ino;
  EXPECT_EQ(ns.known_inodes_under("jobs").size(), 5u) << "jobs, j1, j1/status, j2, j3";

  ASSERT_TRUE(ns.rename(jobs_ino, "j1", archive_ino, "j1").ok());
  EXPECT_EQ(ns.path_of(j1).value(), "archive/j1") << "the id moved with the name";
  EXPECT_EQ(ns.path_of(status).value(), "archive/j1/status");
  EXPECT_EQ(ns.known_inode("archive/j1/status"), status);
  EXPECT_FALSE(ns.known_inode("jobs/j1").has_value());
  auto under_jobs = ns.known_inodes_under("jobs");
  EXPECT_EQ(under_jobs.size(), 3u) << "jobs, j2, j3";
  EXPECT_TRUE(std::find(under_jobs.begin(), under_jobs.end(), j1) == under_jobs.end());
  EXPECT_EQ(ns.known_inodes_under("archive/j1").size(), 2u);
  EXPECT_EQ(ns.lookup(archive_ino, "j1")->ino, j1);

  // Removing a name hides it from lookups by name and from the subtree; a
  // name seen again later gets a fresh id (ids are never reused).
  auto j2 = ns.lookup(jobs_ino, "j2")->ino;
  ASSERT_TRUE(ns.unlink(jobs_ino, "j2").ok());
  EXPECT_FALSE(ns.known_inode("jobs/j2").has_value());
  EXPECT_EQ(ns.known_inodes_under("jobs").size(), 2u) << "jobs, j3";
  EXPECT_EQ(ns.known_inode("jobs/j3"), ns.lookup(jobs_ino, "j3")->ino) << "its sibling is still found";
  jobs->items["j2"] = std::make_shared<StaticFile>("again\n", T(3));
  auto again = ns.lookup(jobs_ino, "j2");
  ASSERT_TRUE(again.ok());
  EXPECT_NE(again->ino, j2);
  EXPECT_EQ(again->size, 6u);
}

TEST(NamespaceTest, ASymlinkWithANewTargetGetsANewInode) {
  auto target = std::make_shared<std::string>("../../jobs/00001");
  auto dir = std::make_shared<GeneratedDir>(
      [target] {
        return std::vector<DirNode::Child>{{"last", std::make_shared<StaticSymlink>(*target, T(1))}};
      },
      nullptr, [] { return T(1); });
  Namespace ns(std::make_shared<StaticDir>(std::vector<DirNode::Child>{{"p", dir}}, T(1)));
  auto p = ns.lookup(kRootInode, "p")->ino;
  auto first = ns.lookup(p, "last");
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(ns.lookup(p, "last")->ino, first->ino) << "same target: same inode";
  *target = "../../jobs/00002";
  auto second = ns.lookup(p, "last");
  ASSERT_TRUE(second.ok());
  EXPECT_NE(second->ino, first->ino) << "the kernel may cache a link's target per inode";
  EXPECT_EQ(ns.readlink(second->ino).value(), "../../jobs/00002");
  EXPECT_EQ(ns.known_inode("p/last"), second->ino);
  auto listed = ns.readdir(p);
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed->at(0).ino, second->ino) << "a listing hands out the same new inode";
}

// A file whose stable() is switchable (a job that finishes).
class SettlingFile final : public FileNode {
 public:
  explicit SettlingFile(std::shared_ptr<bool> final, std::string done = "DONE\n")
      : final_(std::move(final)), done_(std::move(done)) {}
  Result<FileContent> content() const override { return FileContent{*final_ ? done_ : "RUNNING\n", T(3)}; }
  bool stable() const override { return *final_; }

 private:
  std::shared_ptr<bool> final_;
  std::string done_;
};

TEST(NamespaceTest, OnlyStableNodesKeepTheKernelsCacheAcrossOpens) {
  auto final = std::make_shared<bool>(false);
  auto file = std::make_shared<SettlingFile>(final);
  Namespace ns(std::make_shared<StaticDir>(std::vector<DirNode::Child>{{"status", file}}, T(1)));
  auto status = ns.lookup(kRootInode, "status");
  ASSERT_TRUE(status.ok());
  auto running = ns.open(status->ino, OpenRequest{});
  ASSERT_TRUE(running.ok());
  EXPECT_FALSE(running->keep_cache) << "rendered afresh for every open while it may change";
  EXPECT_FALSE(ns.stable(status->ino));
  *final = true;
  auto done = ns.open(status->ino, OpenRequest{});
  ASSERT_TRUE(done.ok());
  EXPECT_TRUE(done->keep_cache);
  EXPECT_TRUE(ns.stable(status->ino));
  EXPECT_FALSE(ns.stable(9999)) << "unknown inode";
  ns.release(running->handle);
  ns.release(done->handle);
}

TEST(NamespaceTest, OnlySmallStableReadOnlyFilesArePrefilled) {
  auto final = std::make_shared<bool>(false);
  auto settling = std::make_shared<SettlingFile>(final);
  *final = true;
  auto big = std::make_shared<SettlingFile>(final, std::string(kPrefillMaxBytes + 1, 'x'));
  *final = false;
  Namespace ns(std::make_shared<StaticDir>(std::vector<DirNode::Child>{{"status", settling}, {"big", big}}, T(1)));
  auto status = ns.lookup(kRootInode, "status")->ino;
  auto running = ns.open(status, OpenRequest{});
  ASSERT_TRUE(running.ok());
  EXPECT_FALSE(running->prefill) << "pages the kernel drops at the next open are not worth sending";
  *final = true;
  auto done = ns.open(status, OpenRequest{});
  ASSERT_TRUE(done.ok());
  EXPECT_TRUE(done->keep_cache);
  EXPECT_TRUE(done->prefill) << "small, fixed and kept: sent with the open";
  auto large = ns.open(ns.lookup(kRootInode, "big")->ino, OpenRequest{});
  ASSERT_TRUE(large.ok());
  EXPECT_TRUE(large->keep_cache);
  EXPECT_FALSE(large->prefill) << "over kPrefillMaxBytes: read as usual";
  for (const auto& opened : {*running, *done, *large}) ns.release(opened.handle);
}

TEST(NamespaceTest, PathsAreComputedFromTheNamesOfParents) {
  Tree tree;
  Namespace ns(tree.root());
  auto sub = ns.lookup(kRootInode, "sub");
  auto status = ns.lookup(sub->ino, "status");
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(ns.path_of(status->ino).value(), "sub/status");
  EXPECT_EQ(ns.path_of(kRootInode).value(), "");
  EXPECT_EQ(ns.known_inodes_under("").size(), 3u) << "root, sub, sub/status";
  EXPECT_FALSE(ns.path_of(4242).ok());
}

TEST(NamespaceTest, ConcurrentReadersSeeWholeRenderings) {
  Tree tree;
  Namespace ns(tree.root());
  auto sub = ns.lookup(kRootInode, "sub");
  InodeId status = ns.lookup(sub->ino, "status")->ino;
  std::atomic<int> bad{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 500; ++i) {
        auto h = ns.open(status, OpenRequest{});
        if (!h.ok()) { ++bad; continue; }
        auto text = ns.read(h->handle, 0, 4096);
        if (!text.ok() || text->empty() || text->back() != '\n') ++bad;
        ns.release(h->handle);
        if (!ns.lookup(kRootInode, "dyn").ok()) ++bad;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_EQ(ns.open_handles(), 0u);
}

}  // namespace
}  // namespace mmcfs::fs
