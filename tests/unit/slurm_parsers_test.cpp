// slurm_parsers_test.cpp — the SLURM output parsers over captured real output.
//
// Inline strings cover corner cases; the *Captured tests read files from
// tests/data/ (their commands are listed in tests/data/README.md).
#include "backend/slurm_parsers.h"

#include <gtest/gtest.h>

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
        "IDLE+INVALID_REG", "IDLE+RESERVED", "ERROR", ""}) {
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
      "12                  |gpu      |2         |gres:gpu:a100:2    |N/A      |\n"
      "13                  |gpu      |1         |N/A                 |N/A      |\n"
      "14                  |gpu,debug|1         |gres/gpu:a6000=1    |N/A      |\n"
      "15                  |debug    |3         |gpu:2               |N/A      |\n"
      "16                  |gpu      |2         |N/A                 |gres:gpu:a100:3|\n");
  ASSERT_TRUE(pending.ok()) << pending.error().describe();
  EXPECT_EQ(pending->size(), 4u);
  auto at = [&](size_t i) { return (*pending)[i]; };
  EXPECT_EQ(at(0).partition, "gpu");
  EXPECT_EQ(at(0).type, "a100");
  EXPECT_EQ(at(0).count, 4);
  EXPECT_EQ(at(1).partition, "gpu,debug");
  EXPECT_EQ(at(1).type, "a6000");
  EXPECT_EQ(at(1).count, 1);
  EXPECT_EQ(at(2).type, "");
  EXPECT_EQ(at(2).count, 6);
  EXPECT_EQ(at(3).count, 3);  // per job: not multiplied
}

TEST(ParseSqueuePending, BadLines) {
  EXPECT_TRUE(parse_squeue_pending("")->empty());
  auto bad = parse_squeue_pending("squeue: error: Invalid user: nobody\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, Errc::kRemoteFailed);
  EXPECT_NE(bad.error().message.find("Invalid user"), std::string::npos);
  EXPECT_FALSE(parse_squeue_pending("12|gpu|two|N/A|N/A|").ok());
  EXPECT_FALSE(parse_squeue_pending("12|gpu|1|gres:gpu:a100:x|N/A|").ok());
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
  EXPECT_EQ(kSqueuePendingArgv.front(), "squeue");
}

}  // namespace
}  // namespace mmcfs::backend
