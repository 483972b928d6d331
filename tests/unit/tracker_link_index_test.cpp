// tracker_link_index_test.cpp — links found incrementally: a scan reads only
// from the last unfinished line on (the offsets asked of the reader are
// asserted), unfinished lines wait for their newline, a complete log's last line counts, a restart
// continues from the sidecar, and a log fetched again shorter is rescanned.
#include "backend/tracker_link_index.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

namespace mmcfs::backend {
namespace {

namespace fs = std::filesystem;

class TrackerLinkIndexTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/mmcfs-links-unit-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    dir_ = dir;
  }
  void TearDown() override {
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }
  // Scans `log` (as it stands) and records every range read.
  Result<bool> scan(TrackerLinkIndex& index, bool complete = false) {
    return index.update("00001-train", log_.size(), complete, [this](std::uint64_t offset, std::size_t n) {
      reads_.emplace_back(offset, n);
      return Result<std::string>(log_.substr(offset, n));
    });
  }

  std::string dir_;
  std::string log_;
  std::vector<std::pair<std::uint64_t, std::size_t>> reads_;
};

TEST_F(TrackerLinkIndexTest, ReadsOnlyNewBytesAndWaitsForWholeLines) {
  TrackerLinkIndex index(dir_);
  log_ = "header\nwandb: 🚀 View run at https://wandb.ai/e/p/ru";
  auto changed = scan(index);
  ASSERT_TRUE(changed.ok());
  EXPECT_FALSE(*changed);  // the URL's line is not finished yet
  EXPECT_EQ(index.scanned("00001-train"), 7u);
  log_ += "ns/abc\nepoch 1\n";
  changed = scan(index);
  ASSERT_TRUE(changed.ok());
  EXPECT_TRUE(*changed);
  EXPECT_EQ(index.links("00001-train"),
            (std::vector<TrackerLink>{{"wandb_run", "https://wandb.ai/e/p/runs/abc"},
                                      {"wandb_logs", "https://wandb.ai/e/p/runs/abc/logs"}}));
  ASSERT_EQ(reads_.size(), 2u);
  EXPECT_EQ(reads_[0].first, 0u);
  EXPECT_EQ(reads_[1].first, 7u);  // from the unfinished line on, not from 0
  // Nothing new: nothing read.
  changed = scan(index);
  ASSERT_TRUE(changed.ok());
  EXPECT_FALSE(*changed);
  EXPECT_EQ(reads_.size(), 2u);
}

TEST_F(TrackerLinkIndexTest, AFinishedLogsLastLineCountsWithoutANewline) {
  TrackerLinkIndex index(dir_);
  log_ = "mlflow run id: 8c2b1f0f2a5d4e8f9e0a1b2c3d4e5f60";
  EXPECT_FALSE(*scan(index, false));
  EXPECT_TRUE(*scan(index, true));
  EXPECT_EQ(index.scanned("00001-train"), log_.size());
  EXPECT_EQ(index.links("00001-train"), (std::vector<TrackerLink>{{"mlflow_run_id", "8c2b1f0f2a5d4e8f9e0a1b2c3d4e5f60"}}));
}

TEST_F(TrackerLinkIndexTest, ARestartContinuesFromTheSidecar) {
  log_ = "wandb: ⭐️ View project at https://wandb.ai/e/p\n" + std::string(3 << 20, 'x') + "\n";
  {
    TrackerLinkIndex index(dir_);
    ASSERT_TRUE(scan(index).ok());
  }
  reads_.clear();
  TrackerLinkIndex again(dir_);
  EXPECT_EQ(again.links("00001-train"), (std::vector<TrackerLink>{{"wandb_project", "https://wandb.ai/e/p"}}));
  EXPECT_EQ(again.scanned("00001-train"), log_.size());
  log_ += "https://wandb.ai/e/p/runs/zz\n";
  EXPECT_TRUE(*scan(again));
  ASSERT_EQ(reads_.size(), 1u);
  EXPECT_EQ(reads_[0].first, log_.size() - 29);  // not from 0
}

TEST_F(TrackerLinkIndexTest, ALongLogIsReadInChunksAndRunawayLinesInPieces) {
  TrackerLinkIndex index(dir_);
  log_ = std::string(kLinkScanChunkBytes * 2 + 10, 'y') + "\nhttps://wandb.ai/e/p/runs/tail\n";
  EXPECT_TRUE(*scan(index));
  EXPECT_EQ(index.scanned("00001-train"), log_.size());
  EXPECT_EQ(reads_.size(), 3u);
}

TEST_F(TrackerLinkIndexTest, AShorterLogIsScannedAgain) {
  TrackerLinkIndex index(dir_);
  log_ = "https://wandb.ai/e/p/runs/old\nmore\n";
  EXPECT_TRUE(*scan(index));
  log_ = "https://wandb.ai/e/p/runs/new\n";  // fetched again: rewritten on the cluster
  EXPECT_TRUE(*scan(index));
  EXPECT_EQ(index.links("00001-train")[0], (TrackerLink{"wandb_run", "https://wandb.ai/e/p/runs/new"}));
}

TEST_F(TrackerLinkIndexTest, AReadErrorKeepsWhatWasScanned) {
  TrackerLinkIndex index(dir_);
  log_ = "a\nb\n";
  auto r = index.update("00001-train", 4, false,
                        [](std::uint64_t, std::size_t) { return Result<std::string>(make_error(Errc::kIo, "disk")); });
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::kIo);
  EXPECT_EQ(index.scanned("00001-train"), 0u);
  EXPECT_FALSE(*scan(index));
  EXPECT_EQ(index.scanned("00001-train"), 4u);
}

}  // namespace
}  // namespace mmcfs::backend
