// drop_zone_test.cpp — the launch drop zone through the Namespace, with a
// fake launch trigger: which saves launch, what close/fsync/rename report,
// and that nothing the user wrote is lost.
#include "fs/drop_zone.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "fs/namespace.h"

namespace mmcfs::fs {
namespace {

class FakeTrigger final : public LaunchTrigger {
 public:
  Result<Outcome> launch(const std::string& file_name, const std::string& text) override {
    launches.emplace_back(file_name, text);
    if (text.find("invalid") != std::string::npos) {
      return make_error(Errc::kInvalidArgument, "new/" + file_name + ":1:1: unknown key 'invalid'");
    }
    if (text.find("unreachable") != std::string::npos) {
      return make_error(Errc::kUnreachable, "cannot connect to alpha");
    }
    if (text.find("doubt") != std::string::npos) {
      return Outcome{"00007-x", "", true, "recorded as jobs/00007-x; the cluster did not confirm"};
    }
    return Outcome{"00001-ok", "jobs/00001-ok\n", false, ""};
  }
  std::vector<std::pair<std::string, std::string>> launches;
};

class DropZoneTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("mmcfs-dropzone-" + std::to_string(::getpid()) + "-" +
                                                     ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    trigger_ = std::make_shared<FakeTrigger>();
    auto zone = DropZoneDir::open(dir_.string(), trigger_);
    ASSERT_TRUE(zone.ok());
    ns_ = std::make_unique<Namespace>(std::make_shared<StaticDir>(
        std::vector<DirNode::Child>{{"new", *zone}}, WallTime{}));
    new_ = ns_->lookup(kRootInode, "new")->ino;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Like `cat > new/NAME`: create, write, close. Returns close()'s status.
  Status save(const std::string& name, const std::string& text) {
    auto created = ns_->create(new_, name, 0644, OpenRequest{true, true, false});
    if (!created.ok()) return created.error();
    HandleId h = created->second.handle;
    auto written = ns_->write(h, 0, text);
    EXPECT_TRUE(written.ok());
    Status closed = ns_->flush(h);
    ns_->release(h);
    return closed;
  }
  std::string disk(const std::string& name) {
    std::ifstream in(dir_ / name);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  bool exists(const std::string& name) { return std::filesystem::exists(dir_ / name); }

  std::filesystem::path dir_;
  std::shared_ptr<FakeTrigger> trigger_;
  std::unique_ptr<Namespace> ns_;
  InodeId new_ = 0;
};

TEST_F(DropZoneTest, LaunchNames) {
  EXPECT_TRUE(DropZoneDir::is_launch_name("launch.yaml"));
  EXPECT_TRUE(DropZoneDir::is_launch_name("sweep.yml"));
  EXPECT_FALSE(DropZoneDir::is_launch_name(".launch.yaml.swp"));
  EXPECT_FALSE(DropZoneDir::is_launch_name(".launch.yaml"));
  EXPECT_FALSE(DropZoneDir::is_launch_name("launch.yaml~"));
  EXPECT_FALSE(DropZoneDir::is_launch_name("#launch.yaml#"));
  EXPECT_FALSE(DropZoneDir::is_launch_name("4913"));
  EXPECT_FALSE(DropZoneDir::is_launch_name("launch.yaml.error"));
  EXPECT_FALSE(DropZoneDir::is_launch_name("launch.yaml.bak"));
}

TEST_F(DropZoneTest, ASavedLaunchFileLaunchesOnceAndLeaves) {
  ASSERT_TRUE(save("launch.yaml", "name: ok\n").ok());
  ASSERT_EQ(trigger_->launches.size(), 1u);
  EXPECT_EQ(trigger_->launches[0], std::make_pair(std::string("launch.yaml"), std::string("name: ok\n")));
  EXPECT_FALSE(exists("launch.yaml")) << "the job keeps it";
  EXPECT_EQ(disk("launch.yaml.submitted"), "jobs/00001-ok\n");
  EXPECT_FALSE(ns_->lookup(new_, "launch.yaml").ok());
}

TEST_F(DropZoneTest, AnInvalidLaunchFailsCloseKeepsTheFileAndExplains) {
  Status closed = save("launch.yaml", "invalid: 1\n");
  ASSERT_FALSE(closed.ok());
  EXPECT_EQ(closed.error().code, Errc::kInvalidArgument);
  EXPECT_EQ(disk("launch.yaml"), "invalid: 1\n") << "exactly as written";
  EXPECT_NE(disk("launch.yaml.error").find("new/launch.yaml:1:1: unknown key 'invalid'"), std::string::npos);
  EXPECT_NE(disk("launch.yaml.error").find("save it again to retry"), std::string::npos);
  // Fixing and saving again retries, and clears the explanation.
  ASSERT_TRUE(save("launch.yaml", "name: ok\n").ok());
  EXPECT_EQ(trigger_->launches.size(), 2u);
  EXPECT_FALSE(exists("launch.yaml.error"));
}

TEST_F(DropZoneTest, AnUnreachableClusterFailsWithItsOwnCode) {
  Status closed = save("run.yaml", "unreachable\n");
  ASSERT_FALSE(closed.ok());
  EXPECT_EQ(closed.error().code, Errc::kUnreachable);
  EXPECT_TRUE(exists("run.yaml"));
}

TEST_F(DropZoneTest, FsyncLaunchesAndTheFollowingCloseReportsTheSameOutcome) {
  auto created = ns_->create(new_, "launch.yaml", 0644, OpenRequest{true, true, false});
  ASSERT_TRUE(created.ok());
  HandleId h = created->second.handle;
  ASSERT_TRUE(ns_->write(h, 0, "invalid: 1\n").ok());
  Status synced = ns_->fsync(h);
  Status closed = ns_->flush(h);
  ns_->release(h);
  EXPECT_FALSE(synced.ok());
  EXPECT_FALSE(closed.ok()) << "close() fails too";
  EXPECT_EQ(trigger_->launches.size(), 1u) << "but it launched only once";
}

TEST_F(DropZoneTest, EditorScratchFilesNeverLaunch) {
  ASSERT_TRUE(save(".launch.yaml.swp", "swap").ok());
  ASSERT_TRUE(save("4913", "").ok());
  ASSERT_TRUE(save("launch.yaml~", "backup").ok());
  ASSERT_TRUE(save("notes.txt", "hello").ok());
  EXPECT_TRUE(trigger_->launches.empty());
  EXPECT_TRUE(ns_->unlink(new_, "4913").ok());
  auto listing = ns_->readdir(new_);
  ASSERT_TRUE(listing.ok());
  EXPECT_EQ(listing->size(), 3u);
}

TEST_F(DropZoneTest, OpeningWithoutWritingDoesNotLaunch) {
  auto created = ns_->create(new_, "launch.yaml", 0644, OpenRequest{true, false, false});
  ASSERT_TRUE(created.ok());
  EXPECT_TRUE(ns_->flush(created->second.handle).ok());
  ns_->release(created->second.handle);
  EXPECT_TRUE(trigger_->launches.empty()) << "touch does not launch";
}

TEST_F(DropZoneTest, WriteToTempThenRenameLaunchesOnRename) {
  ASSERT_TRUE(save(".launch.yaml.tmp123", "name: ok\n").ok());
  EXPECT_TRUE(trigger_->launches.empty());
  auto tmp_ino = ns_->lookup(new_, ".launch.yaml.tmp123");
  ASSERT_TRUE(tmp_ino.ok());
  ASSERT_TRUE(ns_->rename(new_, ".launch.yaml.tmp123", new_, "launch.yaml").ok());
  ASSERT_EQ(trigger_->launches.size(), 1u);
  EXPECT_EQ(trigger_->launches[0].first, "launch.yaml");
}

TEST_F(DropZoneTest, AFailedRenameLaunchKeepsTheFileUnderItsNewName) {
  ASSERT_TRUE(save("tmp", "invalid\n").ok());
  Status renamed = ns_->rename(new_, "tmp", new_, "launch.yaml");
  ASSERT_FALSE(renamed.ok());
  EXPECT_EQ(renamed.error().code, Errc::kInvalidArgument);
  EXPECT_EQ(disk("launch.yaml"), "invalid\n");
  EXPECT_TRUE(ns_->lookup(new_, "launch.yaml").ok());
  EXPECT_FALSE(ns_->lookup(new_, "tmp").ok());
}

TEST_F(DropZoneTest, RenamingAnOpenFileLaunchesUnderItsCurrentName) {
  auto created = ns_->create(new_, "draft", 0644, OpenRequest{true, true, false});
  ASSERT_TRUE(created.ok());
  ASSERT_TRUE(ns_->write(created->second.handle, 0, "name: ok\n").ok());
  ASSERT_TRUE(ns_->rename(new_, "draft", new_, "final.yaml").ok());  // empty yet: launches the empty file
  Status closed = ns_->flush(created->second.handle);
  ns_->release(created->second.handle);
  EXPECT_TRUE(closed.ok());
  ASSERT_GE(trigger_->launches.size(), 1u);
  EXPECT_EQ(trigger_->launches.back().first, "final.yaml");
}

TEST_F(DropZoneTest, InDoubtLaunchesLeaveAndExplain) {
  Status closed = save("launch.yaml", "doubt\n");
  ASSERT_FALSE(closed.ok());
  EXPECT_EQ(closed.error().code, Errc::kIo);
  EXPECT_FALSE(exists("launch.yaml")) << "the recorded job holds it; saving again would duplicate";
  EXPECT_NE(disk("launch.yaml.error").find("did not confirm"), std::string::npos);
}

TEST_F(DropZoneTest, DirectoriesAreRefused) {
  Status made = ns_->mkdir(new_, "sub");
  ASSERT_FALSE(made.ok());
  EXPECT_EQ(made.error().code, Errc::kPermissionDenied);
}

TEST_F(DropZoneTest, TruncateAndAttributesWork) {
  ASSERT_TRUE(save("notes.txt", "hello world").ok());
  auto ino = ns_->lookup(new_, "notes.txt");
  ASSERT_TRUE(ino.ok());
  EXPECT_EQ(ino->size, 11u);
  EXPECT_EQ(ino->mode, 0644u);
  auto changed = ns_->setattr(ino->ino, AttrChange{5, 0600, std::nullopt}, std::nullopt);
  ASSERT_TRUE(changed.ok()) << changed.error().describe();
  EXPECT_EQ(changed->size, 5u);
  EXPECT_EQ(changed->mode, 0600u);
  EXPECT_EQ(disk("notes.txt"), "hello");
}

}  // namespace
}  // namespace mmcfs::fs
