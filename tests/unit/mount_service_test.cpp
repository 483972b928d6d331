// mount_service_test.cpp — the whole mount without FUSE: config -> monitors
// (with fake remotes) -> tree -> Namespace, and cache invalidation.
#include "app/mount_service.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "backend/failing_remote.h"
#include "fakes/fake_remote.h"
#include "common/text.h"
#include "fakes/slurm_answers.h"

namespace mmcfs::app {
namespace {

using fs::kRootInode;

class MountServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    state_dir_ = std::filesystem::temp_directory_path() / ("mmcfs-service-test-" + std::to_string(::getpid()));
    std::filesystem::remove_all(state_dir_);
    config::ClusterConfig alpha;
    alpha.name = "alpha";
    alpha.user = "u";
    alpha.hostname = "127.0.0.1";
    alpha.allowed_partitions = {"general"};
    alpha.allowed_gpu_types = {"A6000", "A100"};
    config::ClusterConfig beta = alpha;
    beta.name = "beta";
    beta.allowed_gpu_types = {"H100"};
    config_.path = "/etc/test/clusters.yaml";
    config_.clusters = {alpha, beta};
    testing::answer_as_alpha(*alpha_remote_);
    beta_remote_->set_connect_result(make_error(Errc::kUnreachable, "connection refused by 127.0.0.1:22"));
  }
  void TearDown() override { std::filesystem::remove_all(state_dir_); }

  std::unique_ptr<MountService> make() {
    auto service = MountService::create(config_, MountOptions{state_dir_.string(), "#!/bin/bash\n"}, clock_,
                                        [this](const config::ClusterConfig& c) -> std::shared_ptr<backend::Remote> {
                                          return c.name == "alpha" ? alpha_remote_ : beta_remote_;
                                        });
    EXPECT_TRUE(service.ok()) << service.error().describe();
    return std::move(*service);
  }

  std::string read(MountService& s, const std::string& path) {
    fs::InodeId ino = kRootInode;
    std::size_t start = 0;
    while (start < path.size()) {
      std::size_t end = path.find('/', start);
      if (end == std::string::npos) end = path.size();
      auto attr = s.ns().lookup(ino, path.substr(start, end - start));
      if (!attr.ok()) return "ERROR " + attr.error().describe();
      ino = attr->ino;
      start = end + 1;
    }
    auto h = s.ns().open(ino, fs::OpenRequest{});
    if (!h.ok()) return "ERROR " + h.error().describe();
    auto text = s.ns().read(h->handle, 0, 1 << 20);
    s.ns().release(h->handle);
    return *text;
  }

  std::filesystem::path state_dir_;
  config::Config config_;
  FakeClock clock_;
  std::shared_ptr<testing::FakeRemote> alpha_remote_ = std::make_shared<testing::FakeRemote>();
  std::shared_ptr<testing::FakeRemote> beta_remote_ = std::make_shared<testing::FakeRemote>();
};

TEST_F(MountServiceTest, TheTreeShowsEveryClusterAndGpuType) {
  auto service = make();
  service->monitor("alpha")->check_once();
  service->monitor("beta")->check_once();
  auto root = service->ns().readdir(kRootInode);
  ASSERT_TRUE(root.ok());
  std::vector<std::string> names;
  for (auto& e : *root) names.push_back(e.name);
  EXPECT_EQ(names,
            (std::vector<std::string>{".mmcfs", "README", "archive", "clusters", "gpus", "jobs", "projects"}));
  EXPECT_EQ(read(*service, "clusters/alpha/status"), "up: 0 ms round trip, SLURM 22.05.8\n");
  EXPECT_EQ(read(*service, "clusters/beta/status"), "down: connection refused by 127.0.0.1:22\n");
  EXPECT_NE(read(*service, "clusters/alpha/gpus").find("A100   4      0     2"), std::string::npos);
  EXPECT_NE(read(*service, "clusters/alpha/config.yaml").find("alpha"), std::string::npos);
  EXPECT_NE(read(*service, "gpus/H100").find("beta     -"), std::string::npos) << read(*service, "gpus/H100");
  EXPECT_NE(read(*service, "README").find("/etc/test/clusters.yaml"), std::string::npos);
  EXPECT_EQ(read(*service, "clusters/gamma"), "ERROR not-found: gamma");
}

TEST_F(MountServiceTest, APublishedChangeInvalidatesTheClustersFilesAndGpus) {
  auto service = make();
  std::vector<fs::InodeId> invalidated;
  service->set_invalidator([&](fs::InodeId ino) { invalidated.push_back(ino); });
  service->monitor("alpha")->check_once();
  read(*service, "clusters/alpha/gpus");
  read(*service, "clusters/beta/gpus");
  read(*service, "gpus/A100");
  invalidated.clear();
  testing::answer_as_alpha(*alpha_remote_, 1);
  service->monitor("alpha")->check_once();
  std::vector<std::string> paths;
  for (auto ino : invalidated) paths.push_back(*service->ns().path_of(ino));
  std::sort(paths.begin(), paths.end());
  EXPECT_EQ(paths, (std::vector<std::string>{"clusters/alpha", "clusters/alpha/gpus", "gpus", "gpus/A100"}));
  EXPECT_NE(read(*service, "clusters/alpha/gpus").find("A100   4      1     1"), std::string::npos);
}

TEST_F(MountServiceTest, ReadsBeforeTheFirstCheckWaitOnceAndBoundedly) {
  config_.clusters[1].connect_timeout = std::chrono::seconds(1);
  auto hanging = std::make_shared<backend::FailingRemote>(*beta_remote_);
  hanging->hang_all(std::chrono::seconds(30));  // beta never answers
  auto service = MountService::create(config_, MountOptions{state_dir_.string(), "#!/bin/bash\n"}, clock_,
                                      [&](const config::ClusterConfig& c) -> std::shared_ptr<backend::Remote> {
                                        if (c.name == "alpha") return alpha_remote_;
                                        return hanging;
                                      });
  ASSERT_TRUE(service.ok());
  (*service)->start();
  auto started = std::chrono::steady_clock::now();
  std::string status = read(**service, "clusters/beta/status");
  auto first = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(status.rfind("checking: ", 0), 0u) << status;
  EXPECT_GE(first, std::chrono::seconds(2)) << "waited for the first check";
  EXPECT_LT(first, std::chrono::milliseconds(4500)) << "but only up to connect timeout + 2 s, once";
  started = std::chrono::steady_clock::now();
  read(**service, "clusters/beta/gpus");
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(500)) << "no second wait";
  EXPECT_EQ(read(**service, "clusters/alpha/status"), "up: 0 ms round trip, SLURM 22.05.8\n");
  hanging->heal();
  (*service)->stop();
}

// A job recorded on `cluster` as SLURM job `slurm_id`, PENDING.
backend::JobRecord add_job(MountService& s, const std::string& cluster, const std::string& slurm_id) {
  backend::JobRecord j;
  j.project = "p";
  j.cluster = cluster;
  backend::JobRecord rec = *s.job_store().insert(j, "job");
  rec.slurm_id = slurm_id;
  rec.state = backend::job_state::kPending;
  EXPECT_TRUE(s.job_store().update(rec).ok());
  return *s.job_store().get(rec.id);
}

std::string squeue_row(const backend::JobRecord& j, const std::string& state, const std::string& reason) {
  auto submit = std::chrono::duration_cast<std::chrono::seconds>(j.submitted_at.time_since_epoch()).count();
  return j.slurm_id + "|" + state + "|" + std::to_string(submit) + "|N/A|N/A|0|" + reason + "|" + j.token + "\n";
}

TEST_F(MountServiceTest, APollerChangeInvalidatesOnlyTheChangedJobsFiles) {
  auto service = make();
  auto one = add_job(*service, "alpha", "101");
  auto two = add_job(*service, "alpha", "102");
  alpha_remote_->answer_ok(backend::kSqueuePollArgv,
                           squeue_row(one, "PENDING", "Priority") + squeue_row(two, "PENDING", "Priority"));
  service->job_poller("alpha")->poll_once();
  EXPECT_EQ(read(*service, "jobs/" + one.id + "/status"), "PENDING (Priority)\n");
  EXPECT_EQ(read(*service, "jobs/" + two.id + "/status"), "PENDING (Priority)\n");
  read(*service, "jobs/" + two.id + "/info.json");
  read(*service, "projects");

  std::vector<fs::InodeId> invalidated;
  service->set_invalidator([&](fs::InodeId ino) { invalidated.push_back(ino); });
  clock_.advance(std::chrono::seconds(30));
  alpha_remote_->answer_ok(backend::kSqueuePollArgv,
                           squeue_row(one, "PENDING", "Priority") + squeue_row(two, "RUNNING", "None"));
  service->job_poller("alpha")->poll_once();
  std::vector<std::string> paths;
  for (auto ino : invalidated) paths.push_back(*service->ns().path_of(ino));
  std::sort(paths.begin(), paths.end());
  EXPECT_EQ(paths, (std::vector<std::string>{"jobs/" + two.id, "jobs/" + two.id + "/info.json",
                                             "jobs/" + two.id + "/status"}));
  EXPECT_EQ(read(*service, "jobs/" + two.id + "/status"), "RUNNING\n");

  // A cycle that only confirms the states invalidates nothing, but moves
  // the status mtime to the time of that confirmation.
  invalidated.clear();
  clock_.advance(std::chrono::seconds(30));
  service->job_poller("alpha")->poll_once();
  EXPECT_TRUE(invalidated.empty());
  auto dir = service->ns().lookup(kRootInode, "jobs");
  auto job_dir = service->ns().lookup(dir->ino, one.id);
  auto status = service->ns().lookup(job_dir->ino, "status");
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->mtime, clock_.now());
  EXPECT_EQ(status->ttl, fs::kDefaultAttrTtl);  // active: short
  auto opened = service->ns().open(status->ino, fs::OpenRequest{});
  ASSERT_TRUE(opened.ok());
  EXPECT_TRUE(opened->direct_io);  // its line may grow: never trimmed to a cached size
  service->ns().release(opened->handle);

  // Final: long lifetimes, page cache allowed.
  alpha_remote_->answer_ok(backend::kSqueuePollArgv,
                           squeue_row(one, "CANCELLED", "None") + squeue_row(two, "RUNNING", "None"));
  service->job_poller("alpha")->poll_once();
  status = service->ns().lookup(job_dir->ino, "status");
  EXPECT_EQ(status->ttl, fs::kStaticAttrTtl);
  opened = service->ns().open(status->ino, fs::OpenRequest{});
  ASSERT_TRUE(opened.ok());
  EXPECT_FALSE(opened->direct_io);
  service->ns().release(opened->handle);
  EXPECT_EQ(read(*service, "jobs/" + one.id + "/status"), "CANCELLED (cancelled before it started)\n");
}

TEST_F(MountServiceTest, AJobOnAnUnreachableClusterReadsFromCacheSayingHowOld) {
  auto service = make();
  auto job = add_job(*service, "beta", "201");  // beta refuses connections
  EXPECT_EQ(read(*service, "jobs/" + job.id + "/status"), "PENDING\n");
  std::vector<fs::InodeId> invalidated;
  service->set_invalidator([&](fs::InodeId ino) { invalidated.push_back(ino); });
  auto stats = service->job_poller("beta")->poll_once();
  EXPECT_FALSE(stats.error.empty());
  WallTime failed_at = clock_.now();
  EXPECT_FALSE(invalidated.empty());  // the status gains its note
  clock_.advance(std::chrono::minutes(5));
  auto started = std::chrono::steady_clock::now();
  std::string status = read(*service, "jobs/" + job.id + "/status");
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(200));
  EXPECT_EQ(status, "PENDING (beta unreachable since " + clock_time_local(failed_at) + "; state as of 5 min ago)\n");
}

}  // namespace
}  // namespace mmcfs::app
