// job_freshness.cpp — the staleness note of a job's status (see job_freshness.h).
#include "app/job_freshness.h"

#include <fmt/format.h>

#include "common/text.h"

namespace mmcfs::app {

std::optional<ClusterOutage> cluster_outage(const PollHealth& poll, const backend::ClusterHealth& health) {
  std::optional<WallTime> since = poll.failing_since;
  if (health.state == backend::Health::kDown) {
    WallTime down = health.since;
    if (!since || down < *since) since = down;
  }
  if (!since) return std::nullopt;
  return ClusterOutage{*since};
}

std::string job_staleness_note(const backend::JobRecord& job, const std::optional<ClusterOutage>& outage,
                               WallTime now) {
  if (!outage || job.slurm_id.empty() || backend::job_state::is_final(job.state) ||
      job.state == backend::job_state::kUnknown) {
    return "";
  }
  return fmt::format("{} unreachable since {}; state as of {} ago", job.cluster, clock_time_local(outage->since),
                     format_age(now - backend::status_time(job)));
}

}  // namespace mmcfs::app
