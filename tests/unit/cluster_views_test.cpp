// cluster_views_test.cpp — the text users read: status, partitions, GPU tables.
#include "fs/cluster_views.h"

#include <gtest/gtest.h>

#include "backend/cluster_snapshot.h"
#include "fakes/slurm_answers.h"

namespace mmcfs::fs {
namespace {

using backend::ClusterSnapshot;
using backend::Health;

const WallTime kNow = WallTime(std::chrono::seconds(1'800'000'000));

config::ClusterConfig alpha() { return testing::alpha_config(); }

std::shared_ptr<const backend::ClusterInventory> alpha_inventory(int a100_used, WallTime at) {
  testing::FakeRemote remote;
  testing::answer_as_alpha(remote, a100_used);
  backend::RawInventory raw;
  raw.fetched_at = at;
  raw.version = "slurm 22.05.8\n";
  raw.nodes = remote.run(backend::kScontrolShowNodesArgv, {})->out;
  raw.partitions = testing::alpha_partitions();
  raw.pending = "";
  auto inv = backend::parse_inventory(raw);
  EXPECT_TRUE(inv.ok()) << inv.error().describe();
  return std::make_shared<const backend::ClusterInventory>(std::move(*inv));
}

ClusterSnapshot up_snapshot(int a100_used = 0) {
  ClusterSnapshot s;
  s.health.state = Health::kUp;
  s.health.round_trip_ms = 12;
  s.health.slurm_version = "22.05.8";
  s.health.checked_at = kNow;
  s.inventory = alpha_inventory(a100_used, kNow);
  return s;
}

ClusterSnapshot down_snapshot(bool with_figures) {
  ClusterSnapshot s;
  s.health.state = Health::kDown;
  s.health.reason = "connection refused by 127.0.0.1:2201";
  s.health.checked_at = kNow;
  if (with_figures) s.inventory = alpha_inventory(0, kNow - std::chrono::minutes(5));
  return s;
}

TEST(ClusterViewsTest, StatusLines) {
  auto cfg = alpha();
  EXPECT_EQ(render_status({&cfg, up_snapshot()}), "up: 12 ms round trip, SLURM 22.05.8\n");
  EXPECT_EQ(render_status({&cfg, down_snapshot(false)}), "down: connection refused by 127.0.0.1:2201\n");
  EXPECT_EQ(render_status({&cfg, ClusterSnapshot{}}),
            "checking: first connection to mmcfsuser@127.0.0.1:2201 in progress\n");
}

TEST(ClusterViewsTest, VpnClustersSayHowToConnectWhenDown) {
  auto cfg = alpha();
  cfg.vpn = {true, "gp", "https://portal-palo.pitt.edu", "user", "BYOD-GATEWAY-CL"};
  std::string text = render_status({&cfg, down_snapshot(false)});
  EXPECT_EQ(text.rfind("down: connection refused", 0), 0u) << text;
  EXPECT_NE(text.find("openconnect --protocol=gp --user=user --authgroup=BYOD-GATEWAY-CL "
                      "https://portal-palo.pitt.edu"),
            std::string::npos)
      << text;
  EXPECT_EQ(render_status({&cfg, up_snapshot()}).find("VPN"), std::string::npos) << "no VPN text when up";
}

TEST(ClusterViewsTest, PartitionsShowOnlyAllowedOnesAndMissingOnes) {
  auto cfg = alpha();
  cfg.allowed_partitions = {"general", "nonexistent"};
  EXPECT_EQ(render_partitions({&cfg, up_snapshot()}, kNow),
            "PARTITION    STATE    NODES  TIMELIMIT  DEFAULT\n"
            "general      up       2      UNLIMITED  yes\n"
            "nonexistent  missing  -      -          -\n");
  cfg.allowed_partitions = {};
  std::string all = render_partitions({&cfg, up_snapshot()}, kNow);
  EXPECT_NE(all.find("preempt    up     2      1-00:00:00  no"), std::string::npos) << all;
}

TEST(ClusterViewsTest, GpuTableCountsDownNodesAsUnavailable) {
  auto cfg = alpha();
  EXPECT_EQ(render_gpus_table({&cfg, up_snapshot(1)}, kNow),
            "TYPE   TOTAL  USED  FREE  PENDING  UNAVAILABLE  FREE_ON\n"
            "A100   4      1     1     0        2            alpha-n1:1\n"
            "A6000  2      0     2     0        0            alpha-n1:2\n");
}

TEST(ClusterViewsTest, StaleFiguresSayWhyAndHowOld) {
  auto cfg = alpha();
  std::string text = render_gpus_table({&cfg, down_snapshot(true)}, kNow);
  EXPECT_EQ(text.rfind("# alpha is down: connection refused by 127.0.0.1:2201\n# figures below are from ", 0), 0u)
      << text;
  EXPECT_NE(text.find("(5 min ago)"), std::string::npos) << text;
  EXPECT_NE(text.find("A6000  2      0     2"), std::string::npos) << text;
  std::string none = render_gpus_table({&cfg, down_snapshot(false)}, kNow);
  EXPECT_EQ(none.rfind("# no figures yet: alpha is down", 0), 0u) << none;
}

TEST(ClusterViewsTest, GpusJson) {
  auto cfg = alpha();
  std::string json = render_gpus_json({&cfg, up_snapshot(1)});
  EXPECT_NE(json.find("\"cluster\": \"alpha\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"status\": \"up\""), std::string::npos);
  EXPECT_NE(json.find("\"stale\": false"), std::string::npos);
  EXPECT_NE(json.find("{\"type\": \"A100\", \"slurm_type\": \"a100\", \"total\": 4, \"used\": 1, \"free\": 1, "
                      "\"pending\": 0, \"unavailable\": 2, \"free_on\": {\"alpha-n1\": 1}}"),
            std::string::npos)
      << json;
  std::string down = render_gpus_json({&cfg, down_snapshot(false)});
  EXPECT_NE(down.find("\"reason\": \"connection refused by 127.0.0.1:2201\""), std::string::npos) << down;
  EXPECT_NE(down.find("\"gpus\": []"), std::string::npos) << down;
}

TEST(ClusterViewsTest, GpuTypeAcrossClusters) {
  auto a = alpha();
  auto b = alpha();
  b.name = "beta";
  b.allowed_gpu_types = {"H100"};
  std::vector<ClusterView> views = {{&a, up_snapshot(1)}, {&b, down_snapshot(false)}};
  EXPECT_EQ(gpu_type_names(views), (std::vector<std::string>{"A100", "A6000", "H100"}));
  EXPECT_EQ(render_gpu_type("A100", views, kNow),
            "CLUSTER  TOTAL  USED  FREE  PENDING  UNAVAILABLE  FREE_ON     STATUS\n"
            "alpha    4      1     1     0        2            alpha-n1:1  up\n");
  EXPECT_EQ(render_gpu_type("H100", views, kNow),
            "CLUSTER  TOTAL  USED  FREE  PENDING  UNAVAILABLE  FREE_ON  STATUS\n"
            "beta     -      -     -     -        -            -        down\n");
}

TEST(ClusterViewsTest, TypeNamesMergeCaseAndIncludeDiscoveredTypesWhenAllAllowed) {
  auto a = alpha();
  auto b = alpha();
  b.name = "beta";
  b.allowed_gpu_types = {"a100"};
  auto c = alpha();
  c.name = "gamma";
  c.allowed_gpu_types = {};
  std::vector<ClusterView> views = {{&a, up_snapshot()}, {&b, up_snapshot()}, {&c, up_snapshot()}};
  EXPECT_EQ(gpu_type_names(views), (std::vector<std::string>{"A100", "A6000"}));
}

}  // namespace
}  // namespace mmcfs::fs
