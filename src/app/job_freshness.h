// job_freshness.h — how old a job's status may be, in words for its status
// file: while the job's cluster cannot be polled, an active job's status
// still reads at once from the job store, followed by a note such as
// "alpha unreachable since 12:03:04; state as of 5 min ago".
//
// Pure functions of their arguments (the caller passes the injected clock's
// "now"); the outage comes from the cluster's JobPollLoop (its failed
// cycles) and ClusterMonitor (its health checks), whichever noticed first.
//
// Thread rules: pure; safe from any thread.
#pragma once

#include <optional>
#include <string>

#include "app/job_poll_loop.h"
#include "backend/cluster_snapshot.h"
#include "backend/job_store.h"
#include "common/clock.h"

namespace mmcfs::app {

struct ClusterOutage {
  WallTime since;  // when polling or health checks first failed
};

// The cluster's outage, if its poll loop is failing or its monitor says it
// is down (the earlier of the two times); nullopt if neither.
std::optional<ClusterOutage> cluster_outage(const PollHealth& poll, const backend::ClusterHealth& health);

// "<cluster> unreachable since HH:MM:SS; state as of <age> ago" for a job
// that is still active (not final, not UNKNOWN, known to SLURM) while its
// cluster is out; "" otherwise. The age is measured from
// backend::status_time(job), the last time SLURM confirmed the state.
std::string job_staleness_note(const backend::JobRecord& job, const std::optional<ClusterOutage>& outage,
                               WallTime now);

}  // namespace mmcfs::app
