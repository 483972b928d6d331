// cluster_monitor_test.cpp — checks, health, backoff, persistence, the thread.
#include "backend/cluster_monitor.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>

#include "backend/failing_remote.h"
#include "fakes/fake_remote.h"
#include "fakes/slurm_answers.h"

namespace mmcfs::backend {
namespace {

using testing::FakeRemote;

using testing::alpha_config;

int free_a100(const ClusterSnapshot& snap) {
  int free = 0;
  for (const auto& n : snap.inventory->nodes) {
    if (!n.schedulable()) continue;
    for (const auto& g : n.gpus) {
      if (g.type != "a100") continue;
      free += g.count;
      for (const auto& u : n.gpus_used) {
        if (u.type == "a100") free -= u.count;
      }
    }
  }
  return free;
}

TEST(ClusterMonitorTest, AHealthyCheckPublishesInventoryAndVersion) {
  auto remote = std::make_shared<FakeRemote>();
  testing::answer_as_alpha(*remote);
  FakeClock clock;
  ClusterMonitor monitor(alpha_config(), remote, clock, nullptr);
  EXPECT_EQ(monitor.snapshot().health.state, Health::kChecking);
  int notified = 0;
  monitor.set_listener([&](const std::string& name) {
    EXPECT_EQ(name, "alpha");
    ++notified;
  });
  ClusterSnapshot snap = monitor.check_once();
  EXPECT_EQ(snap.health.state, Health::kUp) << snap.health.reason;
  EXPECT_EQ(snap.health.slurm_version, "22.05.8");
  EXPECT_EQ(snap.health.checked_at, clock.now());
  ASSERT_TRUE(snap.inventory);
  EXPECT_EQ(snap.inventory->nodes.size(), 2u);
  EXPECT_EQ(snap.inventory->partitions.size(), 2u);
  EXPECT_EQ(free_a100(snap), 2);
  EXPECT_EQ(notified, 1);
  EXPECT_EQ(remote->calls().size(), 5u) << "version, nodes, partitions, pending, the user's queue: one command each";
}

TEST(ClusterMonitorTest, ConnectFailureIsDownWithTheReasonAndNoInventory) {
  auto remote = std::make_shared<FakeRemote>();
  remote->set_connect_result(make_error(Errc::kHostKey, "host key for [127.0.0.1]:2201 CHANGED"));
  FakeClock clock;
  ClusterMonitor monitor(alpha_config(), remote, clock, nullptr);
  ClusterSnapshot snap = monitor.check_once();
  EXPECT_EQ(snap.health.state, Health::kDown);
  EXPECT_EQ(snap.health.error, Errc::kHostKey);
  EXPECT_EQ(snap.health.reason, "host key for [127.0.0.1]:2201 CHANGED");
  EXPECT_FALSE(snap.inventory);
  EXPECT_TRUE(remote->calls().empty()) << "nothing runs without a trusted connection";
}

TEST(ClusterMonitorTest, GoingDownKeepsTheLastFiguresAndRecordsWhen) {
  auto remote = std::make_shared<FakeRemote>();
  testing::answer_as_alpha(*remote);
  FakeClock clock;
  ClusterMonitor monitor(alpha_config(), remote, clock, nullptr);
  ASSERT_EQ(monitor.check_once().health.state, Health::kUp);
  WallTime fetched = clock.now();
  clock.advance(std::chrono::seconds(60));
  remote->set_connect_result(make_error(Errc::kUnreachable, "connection refused by 127.0.0.1:2201"));
  remote->disconnect();  // the server went away
  ClusterSnapshot down = monitor.check_once();
  EXPECT_EQ(down.health.state, Health::kDown);
  EXPECT_EQ(down.health.since, clock.now());
  ASSERT_TRUE(down.inventory) << "the last good figures stay readable";
  EXPECT_EQ(down.inventory->fetched_at, fetched);
  clock.advance(std::chrono::seconds(5));
  EXPECT_EQ(monitor.check_once().health.since, down.health.since) << "still down since the first failure";
}

TEST(ClusterMonitorTest, ASlurmErrorIsDownAndQuotesSlurm) {
  auto remote = std::make_shared<FakeRemote>();
  testing::answer_as_alpha(*remote);
  remote->answer(kScontrolShowNodesArgv,
                 CommandResult{1, "", "slurm_load_node error: Unable to contact slurm controller (connect failure)\n"});
  FakeClock clock;
  ClusterMonitor monitor(alpha_config(), remote, clock, nullptr);
  ClusterSnapshot snap = monitor.check_once();
  EXPECT_EQ(snap.health.state, Health::kDown);
  EXPECT_EQ(snap.health.error, Errc::kRemoteFailed);
  EXPECT_NE(snap.health.reason.find("Unable to contact slurm controller"), std::string::npos) << snap.health.reason;
  EXPECT_NE(snap.health.reason.find("exited with 1"), std::string::npos) << snap.health.reason;
}

TEST(ClusterMonitorTest, ABrokenConnectionIsRetriedOnceBeforeGivingUp) {
  auto fake = std::make_shared<FakeRemote>();
  testing::answer_as_alpha(*fake);
  auto failing = std::make_shared<FailingRemote>(*fake);
  failing->fail_call(1, make_error(Errc::kIo, "connection reset"));
  FakeClock clock;
  ClusterMonitor monitor(alpha_config(), failing, clock, nullptr);
  EXPECT_EQ(monitor.check_once().health.state, Health::kUp);
}

TEST(ClusterMonitorTest, BackoffGrowsWhileDownAndIsCapped) {
  auto remote = std::make_shared<FakeRemote>();
  FakeClock clock;
  auto cfg = alpha_config();
  ClusterMonitor monitor(cfg, remote, clock, nullptr);
  using std::chrono::milliseconds;
  using std::chrono::seconds;
  EXPECT_EQ(monitor.next_delay(0), milliseconds(seconds(60)));
  EXPECT_EQ(monitor.next_delay(1), milliseconds(seconds(1)));
  EXPECT_EQ(monitor.next_delay(2), milliseconds(seconds(2)));
  EXPECT_EQ(monitor.next_delay(4), milliseconds(seconds(8)));
  EXPECT_EQ(monitor.next_delay(20), milliseconds(seconds(30)));
  cfg.gpu_cache_ttl = seconds(5);
  ClusterMonitor fast(cfg, remote, clock, nullptr);
  EXPECT_EQ(fast.next_delay(20), milliseconds(seconds(5))) << "never slower than the TTL";
}

TEST(ClusterMonitorTest, SavedFiguresAreServedAfterARestart) {
  auto dir = std::filesystem::temp_directory_path() / ("mmcfs-monitor-test-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  auto store = StateStore::open(dir.string());
  ASSERT_TRUE(store.ok());
  FakeClock clock;
  {
    auto remote = std::make_shared<FakeRemote>();
    testing::answer_as_alpha(*remote, 1);
    ClusterMonitor monitor(alpha_config(), remote, clock, store->get());
    ASSERT_EQ(monitor.check_once().health.state, Health::kUp);
  }
  auto dead = std::make_shared<FakeRemote>();
  dead->set_connect_result(make_error(Errc::kUnreachable, "no route"));
  ClusterMonitor restarted(alpha_config(), dead, clock, store->get());
  ClusterSnapshot snap = restarted.snapshot();
  EXPECT_EQ(snap.health.state, Health::kChecking);
  ASSERT_TRUE(snap.inventory);
  EXPECT_EQ(free_a100(snap), 1);
  std::filesystem::remove_all(dir);
}

TEST(ClusterMonitorTest, TheThreadChecksAtStartAndOnRequest) {
  auto remote = std::make_shared<FakeRemote>();
  testing::answer_as_alpha(*remote);
  FakeClock clock;
  ClusterMonitor monitor(alpha_config(), remote, clock, nullptr);
  std::atomic<int> checks{0};
  monitor.set_listener([&](const std::string&) { ++checks; });
  monitor.start();
  EXPECT_EQ(monitor.wait_first_check(std::chrono::seconds(10)).health.state, Health::kUp);
  testing::answer_as_alpha(*remote, 2);
  monitor.refresh_now();
  for (int i = 0; i < 500 && free_a100(monitor.snapshot()) != 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(free_a100(monitor.snapshot()), 0);
  monitor.stop();
  int after_stop = checks.load();
  EXPECT_GE(after_stop, 2);
  monitor.stop();  // idempotent
  EXPECT_EQ(checks.load(), after_stop);
}

}  // namespace
}  // namespace mmcfs::backend
