// slurm_answers.h — scripts a FakeRemote to answer like a small SLURM cluster
// (the shapes of the test cluster alpha's real output; see tests/data/).
#pragma once

#include <string>

#include "backend/slurm_parsers.h"
#include "backend/user_queue.h"
#include "config/cluster_config.h"
#include "fakes/fake_remote.h"

namespace mmcfs::testing {

// The test cluster alpha's configuration, as the answers below describe it.
inline config::ClusterConfig alpha_config() {
  config::ClusterConfig c;
  c.name = "alpha";
  c.user = "mmcfsuser";
  c.hostname = "127.0.0.1";
  c.port = 2201;
  c.allowed_partitions = {"general", "preempt"};
  c.allowed_gpu_types = {"A6000", "A100"};
  c.gpu_cache_ttl = std::chrono::seconds(60);
  return c;
}

inline std::string node_line(const std::string& name, const std::string& state, const std::string& gres,
                             const std::string& used, const std::string& partitions = "general,preempt") {
  return "NodeName=" + name + " Arch=x86_64 CoresPerSocket=1 CPUAlloc=0 CPUEfctv=2 CPUTot=2 CPULoad=0.00 "
         "AvailableFeatures=(null) ActiveFeatures=(null) Gres=" + gres + " GresDrain=N/A GresUsed=" + used +
         " NodeAddr=127.0.0.1 NodeHostName=" + name + " Version=22.05.8 OS=Linux 6.1.0-28-amd64 #1 SMP "
         "RealMemory=4000 AllocMem=0 FreeMem=3000 Sockets=2 Boards=1 State=" + state +
         " ThreadsPerCore=1 TmpDisk=0 Weight=1 Owner=N/A MCS_label=N/A Partitions=" + partitions +
         " BootTime=2026-11-23T10:00:00 SlurmdStartTime=2026-11-23T21:00:00 CfgTRES=cpu=2,mem=4000M "
         "AllocTRES= CapWatts=n/a CurrentWatts=0 AveWatts=0 ExtSensorsJoules=n/s ExtSensorsWatts=0 "
         "ExtSensorsTemp=n/s\n";
}

inline std::string alpha_partitions() {
  return "PartitionName=general AllowGroups=ALL AllowAccounts=ALL AllowQos=ALL AllocNodes=ALL Default=YES "
         "QoS=N/A DefaultTime=NONE DisableRootJobs=NO ExclusiveUser=NO GraceTime=0 Hidden=NO MaxNodes=UNLIMITED "
         "MaxTime=UNLIMITED MinNodes=0 LLN=NO MaxCPUsPerNode=UNLIMITED Nodes=alpha-n[1-2] PriorityJobFactor=1 "
         "PriorityTier=1 RootOnly=NO ReqResv=NO OverSubscribe=NO OverTimeLimit=NONE PreemptMode=OFF State=UP "
         "TotalCPUs=4 TotalNodes=2 SelectTypeParameters=NONE JobDefaults=(null) DefMemPerNode=UNLIMITED "
         "MaxMemPerNode=UNLIMITED\n"
         "PartitionName=preempt AllowGroups=ALL AllowAccounts=ALL AllowQos=ALL AllocNodes=ALL Default=NO "
         "QoS=N/A DefaultTime=NONE DisableRootJobs=NO ExclusiveUser=NO GraceTime=0 Hidden=NO MaxNodes=UNLIMITED "
         "MaxTime=1-00:00:00 MinNodes=0 LLN=NO MaxCPUsPerNode=UNLIMITED Nodes=alpha-n[1-2] PriorityJobFactor=1 "
         "PriorityTier=1 RootOnly=NO ReqResv=NO OverSubscribe=NO OverTimeLimit=NONE PreemptMode=OFF State=UP "
         "TotalCPUs=4 TotalNodes=2 SelectTypeParameters=NONE JobDefaults=(null) DefMemPerNode=UNLIMITED "
         "MaxMemPerNode=UNLIMITED\n";
}

// Scripts `remote` to answer as alpha with `a100_used` A100s in use on alpha-n1.
inline void answer_as_alpha(FakeRemote& remote, int a100_used = 0) {
  std::string used = "gpu:a6000:0(IDX:N/A),gpu:a100:" + std::to_string(a100_used) +
                     (a100_used ? "(IDX:2)" : "(IDX:N/A)");
  remote.answer_ok(backend::kScontrolVersionArgv, "slurm 22.05.8\n");
  remote.answer_ok(backend::kScontrolShowNodesArgv,
                   node_line("alpha-n1", a100_used ? "MIXED" : "IDLE", "gpu:a6000:2,gpu:a100:2", used) +
                       node_line("alpha-n2", "DOWN+DRAIN", "gpu:a100:2", "gpu:a100:0(IDX:N/A)"));
  remote.answer_ok(backend::kScontrolShowPartitionsArgv, alpha_partitions());
  remote.answer_ok(backend::kSqueuePendingArgv, "");
  remote.answer_ok(backend::kSqueueMineArgv, "");
}

}  // namespace mmcfs::testing
