// gpu_inventory_test.cpp — per-type GPU summary rules, on parsed values and
// on output captured from the test clusters (tests/data/).
#include "backend/gpu_inventory.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "backend/slurm_parsers.h"

namespace mmcfs::backend {
namespace {

SlurmNode make_node(std::string name, std::string state, std::vector<GpuCount> gpus,
                    std::vector<GpuCount> used, std::vector<std::string> partitions = {"gpu"}) {
  SlurmNode n;
  n.name = std::move(name);
  n.state = std::move(state);
  n.gpus = std::move(gpus);
  n.gpus_used = std::move(used);
  n.partitions = std::move(partitions);
  return n;
}

config::ClusterConfig cluster(std::vector<std::string> partitions,
                              std::vector<std::string> types) {
  config::ClusterConfig c;
  c.name = "alpha";
  c.allowed_partitions = std::move(partitions);
  c.allowed_gpu_types = std::move(types);
  return c;
}

TEST(SummarizeGpus, UsedFreeUnavailableAndPending) {
  std::vector<SlurmNode> nodes = {
      make_node("n10", "MIXED", {{"a100", 4}}, {{"a100", 1}}),
      make_node("n2", "IDLE", {{"a100", 2}, {"a6000", 2}}, {{"a100", 0}, {"a6000", 0}}),
      make_node("n3", "MIXED+DRAIN", {{"a100", 4}}, {{"a100", 3}}),
      make_node("n4", "DOWN*", {{"a100", 2}}, {{"a100", 0}}),
  };
  std::vector<PendingGpuRequest> pending = {
      {"gpu", "a100", 4}, {"gpu", "A100", 1}, {"other", "a100", 8}, {"gpu", "", 2}};
  auto rows = summarize_gpus(nodes, pending, cluster({"gpu"}, {"A6000", "A100", "H100"}));
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].type, "A100");  // sorted by name
  EXPECT_EQ(rows[1].type, "A6000");
  EXPECT_EQ(rows[2].type, "H100");

  const GpuTypeSummary& a100 = rows[0];
  EXPECT_EQ(a100.slurm_type, "a100");
  EXPECT_EQ(a100.total, 12);
  EXPECT_EQ(a100.used, 4);
  EXPECT_EQ(a100.free, 5);         // n10: 3, n2: 2; never the drained or down node
  EXPECT_EQ(a100.unavailable, 3);  // n3: 1 idle on a draining node, n4: 2
  EXPECT_EQ(a100.pending, 5);      // "other" is not an allowed partition
  EXPECT_EQ(a100.free_on,
            (std::vector<std::pair<std::string, int>>{{"n2", 2}, {"n10", 3}}));  // natural order
  EXPECT_EQ(a100.total, a100.used + a100.free + a100.unavailable);

  EXPECT_EQ(rows[1].total, 2);
  EXPECT_EQ(rows[1].free, 2);
  // A configured type the cluster lacks still shows, with zeros.
  EXPECT_EQ(rows[2].total, 0);
  EXPECT_EQ(rows[2].free, 0);
  EXPECT_TRUE(rows[2].free_on.empty());

  EXPECT_EQ(count_untyped_pending(pending, cluster({"gpu"}, {})), 2);
}

TEST(SummarizeGpus, PartitionFilterAndUnlistedTypes) {
  std::vector<SlurmNode> nodes = {
      make_node("a", "IDLE", {{"a100", 2}}, {}, {"gpu", "debug"}),
      make_node("b", "IDLE", {{"a100", 2}}, {}, {"private"}),
      make_node("c", "IDLE", {{"v100", 2}}, {}, {"gpu"}),
      make_node("d", "IDLE", {{"a100", 2}}, {}, {}),  // in no partition
  };
  auto rows = summarize_gpus(nodes, {}, cluster({"debug"}, {"a100"}));
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].type, "a100");
  EXPECT_EQ(rows[0].total, 2);  // only node a is in an allowed partition

  auto all = summarize_gpus(nodes, {}, cluster({}, {}));
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].type, "a100");  // SLURM spelling when every type is allowed
  EXPECT_EQ(all[0].total, 4);
  EXPECT_EQ(all[1].type, "v100");
}

TEST(SummarizeGpus, UntypedGpusAndOverReportedUse) {
  std::vector<SlurmNode> nodes = {
      make_node("u", "IDLE", {{"", 2}}, {{"", 5}}),
      make_node("v", "ALLOCATED", {{"A100", 1}}, {{"a100", 1}}),
  };
  auto all = summarize_gpus(nodes, {{"gpu", "", 1}}, cluster({}, {}));
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].type, "A100");
  EXPECT_EQ(all[0].used, 1);
  EXPECT_EQ(all[1].type, kUntypedGpuName);
  EXPECT_EQ(all[1].used, 2);  // clamped to the node's total
  EXPECT_EQ(all[1].free, 0);
  EXPECT_EQ(all[1].pending, 0);  // untyped pending is counted apart
  auto typed_only = summarize_gpus(nodes, {}, cluster({}, {"a100"}));
  ASSERT_EQ(typed_only.size(), 1u);
  EXPECT_EQ(typed_only[0].slurm_type, "A100");
}

// ---- Output captured on the test clusters (tests/data/README.md) ----

std::string read_data(const std::string& name) {
  std::ifstream in(std::string(MMCFS_TEST_DATA_DIR) + "/" + name, std::ios::binary);
  EXPECT_TRUE(in.good()) << "missing test data " << name;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<SlurmNode> nodes_from(const std::string& file) {
  auto nodes = parse_scontrol_nodes(read_data(file));
  EXPECT_TRUE(nodes.ok()) << nodes.error().describe();
  return nodes.ok() ? *nodes : std::vector<SlurmNode>{};
}

std::vector<PendingGpuRequest> pending_from(const std::string& file) {
  auto pending = parse_squeue_pending(read_data(file));
  EXPECT_TRUE(pending.ok()) << pending.error().describe();
  return pending.ok() ? *pending : std::vector<PendingGpuRequest>{};
}

using FreeOn = std::vector<std::pair<std::string, int>>;

// alpha: alpha-n1 has a6000:2 + a100:2; alpha-n2 (a100:2) is down and drained.
TEST(CapturedInventory, AlphaIdle) {
  auto rows = summarize_gpus(nodes_from("alpha-scontrol-show-node-idle.txt"), {},
                             cluster({"general", "preempt"}, {"A6000", "A100", "H100"}));
  ASSERT_EQ(rows.size(), 3u);
  const GpuTypeSummary& a100 = rows[0];
  EXPECT_EQ(a100.type, "A100");
  EXPECT_EQ(a100.slurm_type, "a100");
  EXPECT_EQ(a100.total, 4);
  EXPECT_EQ(a100.used, 0);
  EXPECT_EQ(a100.free, 2);
  EXPECT_EQ(a100.unavailable, 2);  // the drained, down node's GPUs are never free
  EXPECT_EQ(a100.free_on, (FreeOn{{"alpha-n1", 2}}));
  const GpuTypeSummary& a6000 = rows[1];
  EXPECT_EQ(a6000.type, "A6000");
  EXPECT_EQ(a6000.total, 2);
  EXPECT_EQ(a6000.free, 2);
  EXPECT_EQ(a6000.unavailable, 0);
  EXPECT_EQ(a6000.free_on, (FreeOn{{"alpha-n1", 2}}));
  const GpuTypeSummary& h100 = rows[2];  // configured, absent: "H100 0 0 0"
  EXPECT_EQ(h100.type, "H100");
  EXPECT_EQ(h100.total + h100.used + h100.free + h100.pending + h100.unavailable, 0);
}

TEST(CapturedInventory, AlphaBusy) {
  auto nodes = nodes_from("alpha-scontrol-show-node-busy.txt");
  auto pending = pending_from("alpha-squeue-pending-O.txt");
  auto rows = summarize_gpus(nodes, pending, cluster({}, {}));
  ASSERT_EQ(rows.size(), 2u);
  const GpuTypeSummary& a100 = rows[0];
  EXPECT_EQ(a100.type, "a100");  // SLURM spelling when every type is allowed
  EXPECT_EQ(a100.total, 4);
  EXPECT_EQ(a100.used, 1);
  EXPECT_EQ(a100.free, 1);
  EXPECT_EQ(a100.unavailable, 2);
  EXPECT_EQ(a100.pending, 8);  // 2 + 2 + 2 nodes x 1 (general) + 2 (preempt)
  EXPECT_EQ(a100.free_on, (FreeOn{{"alpha-n1", 1}}));
  const GpuTypeSummary& a6000 = rows[1];
  EXPECT_EQ(a6000.total, 2);
  EXPECT_EQ(a6000.used, 2);
  EXPECT_EQ(a6000.free, 0);
  EXPECT_EQ(a6000.pending, 1);  // the held job
  EXPECT_TRUE(a6000.free_on.empty());

  // Only "general" allowed: the preempt job's GPUs are not pending here.
  auto general = summarize_gpus(nodes, pending, cluster({"general"}, {"a100"}));
  ASSERT_EQ(general.size(), 1u);
  EXPECT_EQ(general[0].type, "a100");
  EXPECT_EQ(general[0].pending, 6);
  EXPECT_EQ(general[0].free, 1);
  EXPECT_EQ(count_untyped_pending(pending, cluster({}, {})), 0);
}

TEST(CapturedInventory, BetaBusy) {
  auto rows = summarize_gpus(nodes_from("beta-scontrol-show-node-busy.txt"),
                             pending_from("beta-squeue-pending-O.txt"),
                             cluster({"general"}, {"H100", "A100"}));
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].type, "A100");
  EXPECT_EQ(rows[0].total, 0);
  EXPECT_EQ(rows[1].type, "H100");
  EXPECT_EQ(rows[1].slurm_type, "h100");
  EXPECT_EQ(rows[1].total, 2);
  EXPECT_EQ(rows[1].used, 1);
  EXPECT_EQ(rows[1].free, 1);
  EXPECT_EQ(rows[1].pending, 2);
  EXPECT_EQ(rows[1].free_on, (FreeOn{{"beta-n1", 1}}));
}

TEST(CapturedInventory, PartitionNotOnCluster) {
  auto rows = summarize_gpus(nodes_from("beta-scontrol-show-node-idle.txt"), {},
                             cluster({"nosuch"}, {}));
  EXPECT_TRUE(rows.empty());
}

}  // namespace
}  // namespace mmcfs::backend
