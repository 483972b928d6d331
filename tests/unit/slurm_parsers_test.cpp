// slurm_parsers_test.cpp — the SLURM output parsers over captured real output.
//
// Inline strings cover corner cases; the *Captured tests read files from
// tests/data/ (their commands are listed in tests/data/README.md).
#include "backend/slurm_parsers.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

namespace mmcfs::backend {
namespace {

// A 22.05 `scontrol show node -d -o` line, with an OS= and a Reason= that
// contain spaces.
constexpr const char* kDrainedNode =
    "NodeName=gpu2 Arch=x86_64 CoresPerSocket=1 CPUAlloc=0 CPUEfctv=2 CPUTot=2 CPULoad=0.08 "
    "AvailableFeatures=(null) ActiveFeatures=(null) Gres=gpu:a100:2(S:0-1) GresDrain=N/A "
    "GresUsed=gpu:a100:0(IDX:N/A) NodeAddr=gpu2 NodeHostName=gpu2 Version=22.05.8 "
    "OS=Linux 6.1.0-13-amd64 #1 SMP PREEMPT_DYNAMIC Debian 6.1.55-1 (2023-09-29)  "
    "RealMemory=8000 AllocMem=0 FreeMem=6000 Sockets=2 Boards=1 State=DOWN*+DRAIN "
    "ThreadsPerCore=1 TmpDisk=0 Weight=1 Owner=N/A MCS_label=N/A Partitions=gpu,debug "
    "BootTime=2026-11-23T09:00:00 SlurmdStartTime=2026-11-23T09:01:00 "
    "LastBusyTime=2026-11-23T09:01:00 CfgTRES=cpu=2,mem=8000M,billing=2,gres/gpu=2 "
    "AllocTRES= CapWatts=n/a CurrentWatts=0 AveWatts=0 ExtSensorsJoules=n/s "
    "ExtSensorsWatts=0 ExtSensorsTemp=n/s Reason=Not responding [slurm@2026-11-23T10:00:00]\n";

TEST(SplitScontrolLine, ValuesRunUntilTheNextKey) {
  std::vector<KeyValue> kvs;
  ASSERT_TRUE(split_scontrol_line(
      "NodeName=n1 OS=Linux 6.1.0 #1 SMP x=y  State=IDLE Reason=disk bad [root@t]", kvs));
  ASSERT_EQ(kvs.size(), 4u);
  EXPECT_EQ(kvs[0].key, "NodeName");
  EXPECT_EQ(kvs[1].key, "OS");
  EXPECT_EQ(kvs[1].value, "Linux 6.1.0 #1 SMP x=y");  // lower-case "x=" is not a key
  EXPECT_EQ(kvs[2].value, "IDLE");
  EXPECT_EQ(kvs[3].value, "disk bad [root@t]");
}

TEST(SplitScontrolLine, EmptyValuesAndEqualsInsideValues) {
  std::vector<KeyValue> kvs;
  ASSERT_TRUE(split_scontrol_line("A=cpu=2,mem=1M B= C=x", kvs));
  ASSERT_EQ(kvs.size(), 3u);
  EXPECT_EQ(kvs[0].value, "cpu=2,mem=1M");
  EXPECT_EQ(kvs[1].value, "");
  EXPECT_EQ(kvs[2].value, "x");
  EXPECT_FALSE(split_scontrol_line("garbage here", kvs));
}

TEST(ParseGresGpus, AllSpellings) {
  std::vector<GpuCount> g;
  ASSERT_TRUE(parse_gres_gpus("gpu:a6000:2,gpu:a100:2", g));
  EXPECT_EQ(g, (std::vector<GpuCount>{{"a6000", 2}, {"a100", 2}}));
  ASSERT_TRUE(parse_gres_gpus("gpu:a100:2(S:0-1)", g));
  EXPECT_EQ(g, (std::vector<GpuCount>{{"a100", 2}}));
  ASSERT_TRUE(parse_gres_gpus("gpu:2", g));
  EXPECT_EQ(g, (std::vector<GpuCount>{{"", 2}}));
  ASSERT_TRUE(parse_gres_gpus("gpu:a6000:0(IDX:N/A),gpu:a100:2(IDX:2-3)", g));
  EXPECT_EQ(g, (std::vector<GpuCount>{{"a6000", 0}, {"a100", 2}}));
  ASSERT_TRUE(parse_gres_gpus("gpu:A100:2(IDX:0,2),mps:200,gpu:(null):1(IDX:4)", g));
  EXPECT_EQ(g, (std::vector<GpuCount>{{"a100", 2}, {"", 1}}));
  ASSERT_TRUE(parse_gres_gpus("(null)", g));
  EXPECT_TRUE(g.empty());
  EXPECT_FALSE(parse_gres_gpus("gpu:a100:lots", g));
}

TEST(ParseTresGpus, The2205SpellingsAndLaterOnes) {
  std::vector<GpuCount> g;
  ASSERT_TRUE(parse_tres_gpus("gres:gpu:a100:2", g));
  EXPECT_EQ(g, (std::vector<GpuCount>{{"a100", 2}}));
  ASSERT_TRUE(parse_tres_gpus("gres/gpu:a100=2", g));
  EXPECT_EQ(g, (std::vector<GpuCount>{{"a100", 2}}));
  ASSERT_TRUE(parse_tres_gpus("gres/gpu=3", g));
  EXPECT_EQ(g, (std::vector<GpuCount>{{"", 3}}));
  ASSERT_TRUE(parse_tres_gpus("gpu:2", g));
  EXPECT_EQ(g, (std::vector<GpuCount>{{"", 2}}));
  ASSERT_TRUE(parse_tres_gpus("gres:gpu", g));
  EXPECT_EQ(g, (std::vector<GpuCount>{{"", 1}}));
  ASSERT_TRUE(parse_tres_gpus("gres:shard:2,gres:gpu:a6000:1", g));
  EXPECT_EQ(g, (std::vector<GpuCount>{{"a6000", 1}}));
  for (const char* none : {"N/A", "(null)", "", "   "}) {
    ASSERT_TRUE(parse_tres_gpus(none, g)) << none;
    EXPECT_TRUE(g.empty()) << none;
  }
}

TEST(ParseScontrolNodes, FieldsWithSpaces) {
  auto nodes = parse_scontrol_nodes(kDrainedNode);
  ASSERT_TRUE(nodes.ok()) << nodes.error().describe();
  ASSERT_EQ(nodes->size(), 1u);
  const SlurmNode& n = nodes->front();
  EXPECT_EQ(n.name, "gpu2");
  EXPECT_EQ(n.state, "DOWN*+DRAIN");
  EXPECT_EQ(n.reason, "Not responding [slurm@2026-11-23T10:00:00]");
  EXPECT_EQ(n.partitions, (std::vector<std::string>{"gpu", "debug"}));
  EXPECT_EQ(n.gpus, (std::vector<GpuCount>{{"a100", 2}}));
  EXPECT_EQ(n.gpus_used, (std::vector<GpuCount>{{"a100", 0}}));
  EXPECT_FALSE(n.schedulable());
}

TEST(ParseScontrolNodes, EmptyOutputIsNoNodes) {
  for (const char* empty : {"", "\n", "No nodes in the system\n"}) {
    auto nodes = parse_scontrol_nodes(empty);
    ASSERT_TRUE(nodes.ok()) << empty;
    EXPECT_TRUE(nodes->empty());
  }
}

TEST(ParseScontrolNodes, GarbageAndTruncatedLinesAreErrorsQuotingTheLine) {
  auto garbage = parse_scontrol_nodes("slurm_load_node error: Unable to contact slurm controller");
  ASSERT_FALSE(garbage.ok());
  EXPECT_EQ(garbage.error().code, Errc::kRemoteFailed);
  EXPECT_NE(garbage.error().message.find("slurm_load_node error"), std::string::npos);

  std::string truncated = std::string(kDrainedNode).substr(0, 150);
  auto cut = parse_scontrol_nodes(truncated);
  ASSERT_FALSE(cut.ok());
  EXPECT_EQ(cut.error().code, Errc::kRemoteFailed);
  EXPECT_NE(cut.error().message.find("NodeName=gpu2"), std::string::npos);

  std::string long_line = "NodeName=x " + std::string(1000, 'y');
  auto shortened = parse_scontrol_nodes(long_line);
  ASSERT_FALSE(shortened.ok());
  EXPECT_LT(shortened.error().message.size(), 250u);
}

TEST(Schedulable, StatesAndFlags) {
  auto node = [](const char* state) {
    SlurmNode n;
    n.state = state;
    return n.schedulable();
  };
  for (const char* ok : {"IDLE", "MIXED", "ALLOCATED", "IDLE+COMPLETING", "MIXED+PLANNED",
                         "IDLE+CLOUD", "idle", "IDLE+POWERING_UP", "IDLE+SOMETHING_NEW"}) {
    EXPECT_TRUE(node(ok)) << ok;
  }
  for (const char* bad :
       {"DOWN", "DOWN*", "IDLE*", "IDLE+DRAIN", "MIXED+DRAIN", "DOWN*+DRAIN", "DRAINED",
        "DRAINING", "FAIL", "MIXED+FAIL", "IDLE+MAINT", "IDLE+NOT_RESPONDING",
        "IDLE+CLOUD+POWERED_DOWN", "IDLE~", "IDLE+POWERING_DOWN", "IDLE+POWER_DOWN",
        "IDLE+REBOOT_REQUESTED", "MIXED+REBOOT_ISSUED", "FUTURE", "UNKNOWN", "UNKNOWN*",
        "IDLE+INVALID_REG", "IDLE+RESERVED", "ERROR", "",
        // Seen on the test cluster (tests/data/README.md):
        "DOWN+DRAIN+NOT_RESPONDING", "DOWN+DRAIN", "DOWN+NOT_RESPONDING", "drained*"}) {
    EXPECT_FALSE(node(bad)) << bad;
  }
}

TEST(ParseScontrolPartitions, OneLine) {
  auto parts = parse_scontrol_partitions(
      "PartitionName=gpu AllowGroups=ALL AllowAccounts=ALL AllowQos=ALL AllocNodes=ALL "
      "Default=YES QoS=N/A DefaultTime=NONE DisableRootJobs=NO ExclusiveUser=NO GraceTime=0 "
      "Hidden=NO MaxNodes=UNLIMITED MaxTime=1-00:00:00 MinNodes=0 LLN=NO "
      "MaxCPUsPerNode=UNLIMITED Nodes=gpu[1-2] PriorityJobFactor=1 PriorityTier=1 RootOnly=NO "
      "ReqResv=NO OverSubscribe=NO OverTimeLimit=NONE PreemptMode=OFF State=UP TotalCPUs=4 "
      "TotalNodes=2 SelectTypeParameters=NONE JobDefaults=(null) DefMemPerNode=UNLIMITED "
      "MaxMemPerNode=UNLIMITED TRES=cpu=4,mem=16000M,node=2,billing=4,gres/gpu=4\n"
      "PartitionName=empty AllowGroups=ALL Default=NO MaxTime=UNLIMITED Nodes=(null) "
      "State=INACTIVE TotalCPUs=0 TotalNodes=0\n");
  ASSERT_TRUE(parts.ok()) << parts.error().describe();
  ASSERT_EQ(parts->size(), 2u);
  EXPECT_EQ((*parts)[0].name, "gpu");
  EXPECT_EQ((*parts)[0].state, "UP");
  EXPECT_TRUE((*parts)[0].is_default);
  EXPECT_EQ((*parts)[0].total_nodes, 2);
  EXPECT_EQ((*parts)[0].max_time, "1-00:00:00");
  EXPECT_EQ((*parts)[0].nodes, "gpu[1-2]");
  EXPECT_FALSE((*parts)[1].is_default);
  EXPECT_EQ((*parts)[1].nodes, "");
  EXPECT_FALSE(parse_scontrol_partitions("PartitionName=x Default=NO").ok());  // no State
  EXPECT_TRUE(parse_scontrol_partitions("No partitions in the system\n")->empty());
}

TEST(ParseSqueuePending, MultipliesPerNodeRequestsAndSkipsJobsWithoutGpus) {
  auto pending = parse_squeue_pending(
      "12|gpu|2|gres:gpu:a100:2|Resources\n"
      "13|gpu|1|N/A|Priority\n"
      "14|gpu,debug|1|gres/gpu:a6000=1|Nodes required for job are DOWN, DRAINED or x|y\n"
      "15|debug|3|gpu:2|Priority\n"
      "16_[1-4,7,10-20:5%2]|gpu|1|gres:gpu:a100:1|JobArrayTaskLimit\n");
  ASSERT_TRUE(pending.ok()) << pending.error().describe();
  ASSERT_EQ(pending->size(), 4u);
  auto at = [&](size_t i) { return (*pending)[i]; };
  EXPECT_EQ(at(0).partition, "gpu");
  EXPECT_EQ(at(0).type, "a100");
  EXPECT_EQ(at(0).count, 4);
  EXPECT_EQ(at(0).job_id, "12");
  EXPECT_EQ(at(0).reason, "Resources");
  EXPECT_EQ(at(1).partition, "gpu,debug");
  EXPECT_EQ(at(1).type, "a6000");
  EXPECT_EQ(at(1).count, 1);
  EXPECT_EQ(at(1).reason, "Nodes required for job are DOWN, DRAINED or x|y");  // last field
  EXPECT_EQ(at(2).type, "");
  EXPECT_EQ(at(2).count, 6);
  EXPECT_EQ(at(3).count, 8);  // array elements 1-4, 7, 10, 15, 20
}

TEST(ParseSqueuePending, BadLines) {
  EXPECT_TRUE(parse_squeue_pending("")->empty());
  auto bad = parse_squeue_pending("squeue: error: Invalid user: nobody\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, Errc::kRemoteFailed);
  EXPECT_NE(bad.error().message.find("Invalid user"), std::string::npos);
  EXPECT_FALSE(parse_squeue_pending("12|gpu|two|N/A|Priority").ok());
  EXPECT_FALSE(parse_squeue_pending("12|gpu|1|gres:gpu:a100:x|Priority").ok());
  EXPECT_FALSE(parse_squeue_pending("12|gpu|1").ok());  // truncated
}

TEST(ParseSlurmVersion, Spellings) {
  EXPECT_EQ(*parse_slurm_version("slurm 22.05.8\n"), "22.05.8");
  EXPECT_EQ(*parse_slurm_version("slurm-wlm 22.05.8\n"), "22.05.8");
  EXPECT_FALSE(parse_slurm_version("").ok());
  EXPECT_FALSE(parse_slurm_version("bash: scontrol: command not found").ok());
}

TEST(ArgvConstants, AreTheCommandsTheParsersExpect) {
  EXPECT_EQ(kScontrolShowNodesArgv,
            (std::vector<std::string>{"scontrol", "show", "node", "-d", "-o"}));
  EXPECT_EQ(kScontrolShowPartitionsArgv,
            (std::vector<std::string>{"scontrol", "show", "partition", "-o"}));
  EXPECT_EQ(kScontrolVersionArgv, (std::vector<std::string>{"scontrol", "--version"}));
  EXPECT_EQ(kSqueuePendingArgv,
            (std::vector<std::string>{"squeue", "-h", "-t", "PENDING", "-O",
                                      "JobID:|,Partition:|,NumNodes:|,tres-per-node:|,Reason:"}));
}

// ---- Output captured on the test clusters (tests/data/README.md) ----

std::string read_data(const std::string& name) {
  std::ifstream in(std::string(MMCFS_TEST_DATA_DIR) + "/" + name, std::ios::binary);
  EXPECT_TRUE(in.good()) << "missing test data " << name;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

const SlurmNode* find_node(const std::vector<SlurmNode>& nodes, const std::string& name) {
  for (const SlurmNode& n : nodes) {
    if (n.name == name) return &n;
  }
  return nullptr;
}

TEST(Captured, AlphaNodesIdle) {
  auto nodes = parse_scontrol_nodes(read_data("alpha-scontrol-show-node-idle.txt"));
  ASSERT_TRUE(nodes.ok()) << nodes.error().describe();
  ASSERT_EQ(nodes->size(), 2u);
  const SlurmNode* n1 = find_node(*nodes, "alpha-n1");
  ASSERT_NE(n1, nullptr);
  EXPECT_EQ(n1->state, "IDLE");
  EXPECT_TRUE(n1->schedulable());
  EXPECT_EQ(n1->reason, "");
  EXPECT_EQ(n1->partitions, (std::vector<std::string>{"general", "preempt"}));
  EXPECT_EQ(n1->gpus, (std::vector<GpuCount>{{"a6000", 2}, {"a100", 2}}));
  EXPECT_EQ(n1->gpus_used, (std::vector<GpuCount>{{"a6000", 0}, {"a100", 0}}));

  const SlurmNode* n2 = find_node(*nodes, "alpha-n2");
  ASSERT_NE(n2, nullptr);
  EXPECT_EQ(n2->state, "DOWN+DRAIN+NOT_RESPONDING");
  EXPECT_FALSE(n2->schedulable());
  EXPECT_TRUE(n2->reason.starts_with("test: never free [root@")) << n2->reason;
  EXPECT_EQ(n2->gpus, (std::vector<GpuCount>{{"a100", 2}}));
  EXPECT_EQ(n2->gpus_used, (std::vector<GpuCount>{{"a100", 0}}));  // no (IDX:...) here
}

TEST(Captured, AlphaNodesBusy) {
  auto nodes = parse_scontrol_nodes(read_data("alpha-scontrol-show-node-busy.txt"));
  ASSERT_TRUE(nodes.ok()) << nodes.error().describe();
  const SlurmNode* n1 = find_node(*nodes, "alpha-n1");
  ASSERT_NE(n1, nullptr);
  EXPECT_TRUE(n1->schedulable());
  EXPECT_EQ(n1->gpus_used, (std::vector<GpuCount>{{"a6000", 2}, {"a100", 1}}));
}

TEST(Captured, BetaNodes) {
  auto idle = parse_scontrol_nodes(read_data("beta-scontrol-show-node-idle.txt"));
  auto busy = parse_scontrol_nodes(read_data("beta-scontrol-show-node-busy.txt"));
  ASSERT_TRUE(idle.ok()) << idle.error().describe();
  ASSERT_TRUE(busy.ok()) << busy.error().describe();
  ASSERT_EQ(idle->size(), 1u);
  ASSERT_EQ(busy->size(), 1u);
  EXPECT_EQ(idle->front().name, "beta-n1");
  EXPECT_EQ(idle->front().partitions, (std::vector<std::string>{"general"}));
  EXPECT_EQ(idle->front().gpus, (std::vector<GpuCount>{{"h100", 2}}));
  EXPECT_EQ(busy->front().state, "MIXED");
  EXPECT_TRUE(busy->front().schedulable());
  EXPECT_EQ(busy->front().gpus_used, (std::vector<GpuCount>{{"h100", 1}}));
}

TEST(Captured, Partitions) {
  auto alpha = parse_scontrol_partitions(read_data("alpha-scontrol-show-partition.txt"));
  ASSERT_TRUE(alpha.ok()) << alpha.error().describe();
  ASSERT_EQ(alpha->size(), 2u);
  EXPECT_EQ((*alpha)[0].name, "general");
  EXPECT_TRUE((*alpha)[0].is_default);
  EXPECT_EQ((*alpha)[0].state, "UP");
  EXPECT_EQ((*alpha)[0].total_nodes, 2);
  EXPECT_EQ((*alpha)[0].max_time, "UNLIMITED");
  EXPECT_EQ((*alpha)[0].nodes, "alpha-n[1-2]");
  EXPECT_EQ((*alpha)[1].name, "preempt");
  EXPECT_FALSE((*alpha)[1].is_default);

  auto beta = parse_scontrol_partitions(read_data("beta-scontrol-show-partition.txt"));
  ASSERT_TRUE(beta.ok()) << beta.error().describe();
  ASSERT_EQ(beta->size(), 1u);
  EXPECT_EQ(beta->front().nodes, "beta-n1");
  EXPECT_EQ(beta->front().total_nodes, 1);
}

// Sum of pending GPUs by partition and type.
int pending_sum(const std::vector<PendingGpuRequest>& reqs, const std::string& partition,
                const std::string& type) {
  int sum = 0;
  for (const auto& r : reqs) {
    if (r.partition == partition && r.type == type) sum += r.count;
  }
  return sum;
}

TEST(Captured, AlphaPending) {
  auto pending = parse_squeue_pending(read_data("alpha-squeue-pending-O.txt"));
  ASSERT_TRUE(pending.ok()) << pending.error().describe();
  // a100x2 (first), a100x2 (second), 2 nodes x a100:1, a6000:1 (held),
  // preempt a100x2; --gpus=a100:2 and the job without GPUs are not here.
  EXPECT_EQ(pending->size(), 5u);
  EXPECT_EQ(pending_sum(*pending, "general", "a100"), 6);
  EXPECT_EQ(pending_sum(*pending, "general", "a6000"), 1);
  EXPECT_EQ(pending_sum(*pending, "preempt", "a100"), 2);
  bool saw_held = false;
  for (const auto& r : *pending) saw_held = saw_held || r.reason == "JobHeldUser";
  EXPECT_TRUE(saw_held);

  // `squeue -o '%i|%P|%D|%b|%r'` prints the same fields the same way.
  auto with_o = parse_squeue_pending(read_data("alpha-squeue-pending-o.txt"));
  ASSERT_TRUE(with_o.ok()) << with_o.error().describe();
  EXPECT_EQ(pending_sum(*with_o, "general", "a100"), 6);

  auto beta = parse_squeue_pending(read_data("beta-squeue-pending-O.txt"));
  ASSERT_TRUE(beta.ok()) << beta.error().describe();
  EXPECT_EQ(pending_sum(*beta, "general", "h100"), 2);
}

// Output cut anywhere (a dropped connection) is either parsed or refused as
// kRemoteFailed, never a crash (run under -fsanitize=address,undefined).
TEST(Captured, EveryPrefixIsParsedOrRefused) {
  for (const char* file : {"alpha-scontrol-show-node-busy.txt", "alpha-scontrol-show-partition.txt",
                           "alpha-squeue-pending-O.txt", "scontrol-version.txt"}) {
    std::string text = read_data(file);
    for (size_t len = 0; len <= text.size(); ++len) {
      std::string_view cut(text.data(), len);
      auto check = [&](const auto& result) {
        if (!result.ok()) {
          EXPECT_EQ(result.error().code, Errc::kRemoteFailed) << file << " cut at " << len;
        }
      };
      check(parse_scontrol_nodes(cut));
      check(parse_scontrol_partitions(cut));
      check(parse_squeue_pending(cut));
      check(parse_slurm_version(cut));
    }
  }
}

TEST(Captured, Version) {
  EXPECT_EQ(*parse_slurm_version(read_data("scontrol-version.txt")), "22.05.8");
}

}  // namespace
}  // namespace mmcfs::backend
