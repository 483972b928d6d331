// mount_stats.h — .mmcfs/stats: the mount's counters in the Prometheus text
// exposition format (version 0.0.4), so `cat .mmcfs/stats` is readable and
// a node_exporter textfile collector or a script can scrape it:
//
//   mmcfs_remote_commands_total{cluster,kind}        remote commands run
//   mmcfs_remote_command_errors_total{cluster,kind}  of those, ended in an error
//                                                    (unreachable, timeout...)
//   mmcfs_sftp_read_bytes_total{cluster}             bytes read by ranged reads
//   mmcfs_poll_cycles_total{cluster}                 job poller cycles
//   mmcfs_poll_last_duration_seconds{cluster}        the last cycle's wall time
//   mmcfs_poll_duration_seconds_total{cluster}       all cycles' wall time
//   mmcfs_poll_last_remote_commands{cluster}         commands in the last cycle
//   mmcfs_poll_last_active_jobs{cluster}             jobs it asked about
//   mmcfs_jobs{state}                                jobs in the store by state
//   mmcfs_jobs_archived                              of those, archived
// Kinds: squeue, sacct, scontrol, scancel, sbatch, sftp-read, other
// (counting_remote.h). Counters start at zero with each mmcfs process.
//
// Thread rules: a pure function of its arguments.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "app/job_poll_loop.h"
#include "backend/counting_remote.h"

namespace mmcfs::app {

struct StatsInput {
  std::map<backend::RemoteCounters::Key, backend::RemoteCount> commands;
  std::map<std::string, std::uint64_t> read_bytes;    // by cluster
  std::map<std::string, PollLoopStats> polls;         // by cluster
  std::map<std::string, int> jobs_by_state;
  int jobs_archived = 0;
};

std::string render_stats(const StatsInput& in);

}  // namespace mmcfs::app
