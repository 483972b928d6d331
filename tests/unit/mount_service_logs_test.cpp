// mount_service_logs_test.cpp — jobs/<id>/log, links and info.json through
// the Namespace of a whole MountService (fake remotes, no FUSE): stat size
// equals the bytes read, open refreshes, an open reader sees the log grow,
// the follower invalidates exactly the job's files, links appear in `links`
// and info.json, a stat never reaches the network, sixteen readers racing
// the follower always read clean prefixes, and a big log comes over the
// extra sessions (counted in .mmcfs/stats) while small ones do not touch them.
//
// Thread rules: one test runs reader threads and a follower thread of its own.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "app/mount_service.h"
#include "fakes/fake_remote.h"
#include "fakes/slurm_answers.h"

namespace mmcfs::app {
namespace {

using fs::kRootInode;

class MountServiceLogsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    state_dir_ = std::filesystem::temp_directory_path() / ("mmcfs-service-logs-test-" + std::to_string(::getpid()));
    std::filesystem::remove_all(state_dir_);
    config::ClusterConfig alpha;
    alpha.name = "alpha";
    alpha.user = "u";
    alpha.hostname = "127.0.0.1";
    alpha.workspace = "~/ws";
    alpha.allowed_partitions = {"general"};
    alpha.allowed_gpu_types = {"A6000", "A100"};
    config_.path = "/etc/test/clusters.yaml";
    config_.clusters = {alpha};
    testing::answer_as_alpha(*remote_);
    auto service = MountService::create(config_, MountOptions{state_dir_.string(), "#!/bin/bash\n"}, clock_,
                                        [this](const config::ClusterConfig&) -> std::shared_ptr<backend::Remote> {
                                          // The first remote is the cluster's main one; the
                                          // others are the log fetch's extra sessions.
                                          if (remotes_made_++ == 0) return remote_;
                                          extra_.push_back(std::make_shared<testing::FakeRemote>());
                                          return extra_.back();
                                        });
    ASSERT_TRUE(service.ok()) << service.error().describe();
    service_ = std::move(*service);
    service_->set_invalidator([this](fs::InodeId ino) { invalidated_.push_back(*service_->ns().path_of(ino)); });
    backend::JobRecord job;
    job.project = "example";
    job.cluster = "alpha";
    auto inserted = service_->job_store().insert(job, "train");
    ASSERT_TRUE(inserted.ok());
    job_ = *inserted;
    job_.slurm_id = "4242";
    job_.state = backend::job_state::kRunning;
    ASSERT_TRUE(service_->job_store().update(job_).ok());
    log_path_ = backend::LogCache::remote_log_path(job_, config_.clusters[0]);
  }
  void TearDown() override {
    service_.reset();
    std::filesystem::remove_all(state_dir_);
  }

  fs::InodeId ino(const std::string& path) {
    fs::InodeId at = kRootInode;
    std::size_t start = 0;
    while (start < path.size()) {
      std::size_t end = path.find('/', start);
      if (end == std::string::npos) end = path.size();
      auto attr = service_->ns().lookup(at, path.substr(start, end - start));
      EXPECT_TRUE(attr.ok()) << path;
      if (!attr.ok()) return 0;
      at = attr->ino;
      start = end + 1;
    }
    return at;
  }
  std::string read_all(fs::HandleId h) {
    std::string out;
    for (;;) {
      auto bytes = service_->ns().read(h, out.size(), 4096);
      EXPECT_TRUE(bytes.ok());
      if (!bytes.ok() || bytes->empty()) return out;
      out += *bytes;
    }
  }
  std::string cat(const std::string& path) {
    auto h = service_->ns().open(ino(path), fs::OpenRequest{});
    EXPECT_TRUE(h.ok());
    std::string out = read_all(h->handle);
    service_->ns().release(h->handle);
    return out;
  }
  std::string log_dir() const { return "jobs/" + job_.id; }

  std::filesystem::path state_dir_;
  config::Config config_;
  FakeClock clock_;
  std::shared_ptr<testing::FakeRemote> remote_ = std::make_shared<testing::FakeRemote>();
  int remotes_made_ = 0;
  std::vector<std::shared_ptr<testing::FakeRemote>> extra_;  // bulk log sessions
  std::unique_ptr<MountService> service_;
  backend::JobRecord job_;
  std::string log_path_;
  std::vector<std::string> invalidated_;
};

TEST_F(MountServiceLogsTest, StatNeverFetchesAndAlwaysMatchesTheBytesRead) {
  remote_->set_file(log_path_, "header\nstep 1\n");
  const fs::InodeId log = ino(log_dir() + "/log");
  auto attr = service_->ns().getattr(log);
  ASSERT_TRUE(attr.ok());
  EXPECT_EQ(attr->size, 0u);  // nothing fetched yet, and stat does not fetch
  EXPECT_TRUE(remote_->read_calls().empty());
  EXPECT_EQ(attr->ttl.count(), 0);  // may grow: the kernel must ask each time

  EXPECT_EQ(cat(log_dir() + "/log"), "header\nstep 1\n");  // open refreshed
  EXPECT_EQ(service_->ns().getattr(log)->size, 14u);
  EXPECT_EQ(remote_->read_calls().size(), 1u);
}

TEST_F(MountServiceLogsTest, AnOpenReaderSeesTheLogGrowWithoutDroppingTheKernelsPages) {
  remote_->set_file(log_path_, "line 1\n");
  auto h = service_->ns().open(ino(log_dir() + "/log"), fs::OpenRequest{});
  ASSERT_TRUE(h.ok());
  EXPECT_TRUE(h->keep_cache);  // it only grew: the kernel drops pages itself on a new size
  EXPECT_FALSE(h->direct_io);
  EXPECT_EQ(read_all(h->handle), "line 1\n");
  remote_->set_file(log_path_, "line 1\nline 2\n");
  invalidated_.clear();
  service_->log_follower("alpha")->tick();
  // Only grown: nothing to drop (lifetime 0, and the kernel drops the pages
  // itself when it sees the new size), so a second reader keeps them.
  EXPECT_TRUE(invalidated_.empty());
  EXPECT_EQ(service_->ns().getattr(ino(log_dir() + "/log"))->size, 14u);
  EXPECT_EQ(service_->ns().getattr(ino(log_dir() + "/log"))->ttl.count(), 0);
  auto rest = service_->ns().read(h->handle, 7, 4096);
  ASSERT_TRUE(rest.ok());
  EXPECT_EQ(*rest, "line 2\n");
  service_->ns().release(h->handle);
  EXPECT_EQ(remote_->read_calls().back().offset, 7u);  // only the new bytes
}

TEST_F(MountServiceLogsTest, ALogRewrittenOnTheClusterIsOpenedWithoutTheKernelsPages) {
  // The kernel drops a file's pages when it sees a new size, but not when a
  // log is rewritten at the same size: after any refetch, opens drop them.
  remote_->set_file(log_path_, "epoch 1 loss 0.9\n");
  EXPECT_EQ(cat(log_dir() + "/log"), "epoch 1 loss 0.9\n");
  remote_->set_file(log_path_, "rerun\n");  // shorter: refetched from 0 by the next open
  auto h = service_->ns().open(ino(log_dir() + "/log"), fs::OpenRequest{});
  ASSERT_TRUE(h.ok());
  EXPECT_FALSE(h->keep_cache);
  EXPECT_EQ(read_all(h->handle), "rerun\n");
  invalidated_.clear();
  service_->log_follower("alpha")->tick();  // and the follower drops the pages of readers already in
  EXPECT_EQ(invalidated_, (std::vector<std::string>{log_dir() + "/log"}));
  service_->ns().release(h->handle);
  remote_->set_file(log_path_, "rerun\nepoch 1 loss 0.8\n");
  h = service_->ns().open(ino(log_dir() + "/log"), fs::OpenRequest{});
  ASSERT_TRUE(h.ok());
  EXPECT_FALSE(h->keep_cache);  // for the rest of the run
  EXPECT_EQ(read_all(h->handle), "rerun\nepoch 1 loss 0.8\n");
  service_->ns().release(h->handle);
}

TEST_F(MountServiceLogsTest, LinksShowInTheLinksFileAndInfoJson) {
  remote_->set_file(log_path_,
                    "wandb: ⭐️ View project at https://wandb.ai/lab/sft\n"
                    "wandb: 🚀 View run at https://wandb.ai/lab/sft/runs/3k9x2m1p\n");
  EXPECT_EQ(cat(log_dir() + "/links"), "");
  const fs::InodeId info = ino(log_dir() + "/info.json");
  const std::uint64_t size_before = service_->ns().getattr(info)->size;  // sized (and kept) without links
  std::string before = cat(log_dir() + "/info.json");
  EXPECT_NE(before.find("\"links\": {}"), std::string::npos);
  EXPECT_EQ(size_before, before.size());
  cat(log_dir() + "/log");
  invalidated_.clear();
  service_->log_follower("alpha")->tick();
  std::sort(invalidated_.begin(), invalidated_.end());
  EXPECT_EQ(invalidated_, (std::vector<std::string>{log_dir() + "/info.json", log_dir() + "/links", log_dir() + "/log"}));
  EXPECT_EQ(cat(log_dir() + "/links"),
            "wandb_project https://wandb.ai/lab/sft\n"
            "wandb_run https://wandb.ai/lab/sft/runs/3k9x2m1p\n"
            "wandb_logs https://wandb.ai/lab/sft/runs/3k9x2m1p/logs\n");
  EXPECT_NE(cat(log_dir() + "/info.json")
                .find("  \"links\": {\n    \"wandb_project\": \"https://wandb.ai/lab/sft\",\n"
                      "    \"wandb_run\": \"https://wandb.ai/lab/sft/runs/3k9x2m1p\",\n"),
            std::string::npos)
      << cat(log_dir() + "/info.json");
  // The record did not change, the links did: stat follows them.
  EXPECT_EQ(service_->ns().getattr(info)->size, cat(log_dir() + "/info.json").size());
  EXPECT_GT(service_->ns().getattr(info)->size, size_before);
}

TEST_F(MountServiceLogsTest, AFinishedJobsInfoJsonIsNotStableWhileItsLogMayStillGainLinks) {
  job_.state = backend::job_state::kCompleted;
  ASSERT_TRUE(service_->job_store().update(job_).ok());
  EXPECT_TRUE(service_->ns().stable(ino(log_dir() + "/status")));
  EXPECT_FALSE(service_->ns().stable(ino(log_dir() + "/info.json")));  // log not complete yet
  EXPECT_EQ(service_->ns().getattr(ino(log_dir() + "/info.json"))->ttl, fs::kDefaultAttrTtl);
}

TEST_F(MountServiceLogsTest, ACompleteLogKeepsTheKernelCacheAndALongLifetime) {
  remote_->set_file(log_path_, "done\n");
  job_.state = backend::job_state::kCompleted;
  ASSERT_TRUE(service_->job_store().update(job_).ok());
  service_->log_follower("alpha")->jobs_changed();
  service_->log_follower("alpha")->tick();
  const fs::InodeId log = ino(log_dir() + "/log");
  EXPECT_EQ(service_->ns().getattr(log)->ttl, fs::kStaticAttrTtl);
  // Final with its log complete: info.json (links no longer change) and the
  // job's directory are stable; ctl never is.
  EXPECT_TRUE(service_->ns().stable(ino(log_dir() + "/info.json")));
  EXPECT_TRUE(service_->ns().stable(ino(log_dir())));
  EXPECT_FALSE(service_->ns().stable(ino(log_dir() + "/ctl")));
  EXPECT_FALSE(service_->ns().stable(log));  // its pages are kept by the open file's own say (below)
  auto h = service_->ns().open(log, fs::OpenRequest{});
  ASSERT_TRUE(h.ok());
  EXPECT_TRUE(h->keep_cache);
  EXPECT_EQ(read_all(h->handle), "done\n");
  service_->ns().release(h->handle);
  EXPECT_EQ(remote_->read_calls().size(), 1u);
}

TEST_F(MountServiceLogsTest, SixteenReadersWhileTheLogGrowsSeeCleanPrefixes) {
  // The whole log as it will end; the cluster's copy grows through it.
  std::string full;
  for (int i = 1; i <= 400; ++i) full += "step " + std::to_string(i) + " loss 0." + std::to_string(1000 - i) + "\n";
  remote_->set_file(log_path_, full.substr(0, 20));
  const fs::InodeId log = ino(log_dir() + "/log");
  std::atomic<bool> done{false};
  std::atomic<int> bad{0};
  std::atomic<int> reads{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < 16; ++r) {
    readers.emplace_back([&] {
      while (!done) {
        auto before = service_->ns().getattr(log);
        auto h = service_->ns().open(log, fs::OpenRequest{});
        if (!before.ok() || !h.ok()) {
          ++bad;
          continue;
        }
        std::string data;
        for (;;) {
          auto bytes = service_->ns().read(h->handle, data.size(), 512);
          if (!bytes.ok()) ++bad;
          if (!bytes.ok() || bytes->empty()) break;
          data += *bytes;
        }
        service_->ns().release(h->handle);
        auto after = service_->ns().getattr(log);
        // Never fewer bytes than stat showed before, never more than after,
        // and always a prefix of the log (no torn or rewritten bytes).
        if (data.size() < before->size || !after.ok() || data.size() > after->size ||
            full.compare(0, data.size(), data) != 0) {
          ++bad;
        }
        ++reads;
      }
    });
  }
  std::thread follower([&] {
    // Each growth step waits (bounded) until the readers have read again, so
    // reads and appends interleave however the threads are scheduled.
    int step = 0;
    for (std::size_t end = 20; end <= full.size(); end += 97) {
      remote_->set_file(log_path_, full.substr(0, end));
      service_->log_follower("alpha")->tick();
      const int want = 4 * ++step;
      auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
      while (reads < want && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
    }
    remote_->set_file(log_path_, full);
    service_->log_follower("alpha")->tick();
    done = true;
  });
  follower.join();
  for (auto& t : readers) t.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_GT(reads.load(), 16);
  EXPECT_EQ(cat(log_dir() + "/log"), full);
  EXPECT_EQ(service_->ns().getattr(log)->size, full.size());
  EXPECT_EQ(service_->ns().open_handles(), 0u);
}

TEST_F(MountServiceLogsTest, ABigLogComesOverTheExtraSessionsAndIsCounted) {
  ASSERT_EQ(extra_.size(), static_cast<std::size_t>(kLogFetchSessions));
  // A small log: the main session only, the extra ones never connect.
  remote_->set_file(log_path_, "header\n");
  EXPECT_EQ(cat(log_dir() + "/log"), "header\n");
  for (const auto& extra : extra_) {
    EXPECT_TRUE(extra->read_calls().empty());
    EXPECT_EQ(extra->connect_count(), 0);
  }

  // A big backlog: the first chunk on the main session, the rest shared.
  std::string content = "header\n";
  while (content.size() < 5 * backend::kLogChunkBytes + 11) content += "epoch 1 step 000123 loss 0.123456\n";
  remote_->set_file(log_path_, content);
  for (const auto& extra : extra_) extra->set_file(log_path_, content);
  const std::string read = cat(log_dir() + "/log");
  EXPECT_EQ(read.size(), content.size());
  EXPECT_TRUE(read == content);
  EXPECT_EQ(remote_->read_calls().size(), 2u);  // the small log's read, the first chunk
  std::size_t extra_reads = 0;
  for (const auto& extra : extra_) extra_reads += extra->read_calls().size();
  const std::size_t chunks = (content.size() - 7 + backend::kLogChunkBytes - 1) / backend::kLogChunkBytes;
  EXPECT_EQ(extra_reads, chunks - 1);
  // .mmcfs/stats counts every ranged read and byte, whichever session it took.
  const std::string stats = cat(".mmcfs/stats");
  EXPECT_NE(stats.find("mmcfs_remote_commands_total{cluster=\"alpha\",kind=\"sftp-read\"} " +
                       std::to_string(2 + extra_reads) + "\n"),
            std::string::npos)
      << stats;
  EXPECT_NE(stats.find("mmcfs_sftp_read_bytes_total{cluster=\"alpha\"} " + std::to_string(content.size()) + "\n"),
            std::string::npos)
      << stats;
}

TEST_F(MountServiceLogsTest, TheLogIsReadOnly) {
  auto h = service_->ns().open(ino(log_dir() + "/log"), fs::OpenRequest{true, false, false});
  ASSERT_FALSE(h.ok());
  EXPECT_EQ(h.error().code, Errc::kReadOnly);
}

}  // namespace
}  // namespace mmcfs::app
