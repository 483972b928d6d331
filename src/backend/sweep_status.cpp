// sweep_status.cpp — summarize_sweep (see sweep_status.h).
//
// Thread rules: a pure function.
#include "backend/sweep_status.h"

#include <fmt/format.h>

#include <map>

namespace mmcfs::backend {

JobUpdate summarize_sweep(const std::vector<JobRecord>& runs, WallTime now) {
  JobUpdate u;
  std::map<std::string, int> counts;
  std::size_t done = 0;
  bool any_started = false, all_submitting = !runs.empty(), all_completed = true, any_failed = false,
       any_cancelled = false;
  std::optional<WallTime> latest_end;
  for (const JobRecord& run : runs) {
    ++counts[run.state];
    const bool finished = job_state::is_final(run.state) || run.state == job_state::kUnknown;
    if (finished) ++done;
    if (run.state != job_state::kSubmitting) all_submitting = false;
    if (run.state != job_state::kCompleted) all_completed = false;
    if (run.state == job_state::kCancelled) any_cancelled = true;
    if (job_state::is_final(run.state) && run.state != job_state::kCompleted && run.state != job_state::kCancelled) {
      any_failed = true;
    }
    if (run.started_at) {
      any_started = true;
      if (!u.started_at || *run.started_at < *u.started_at) u.started_at = run.started_at;
    }
    if (run.state == job_state::kRunning || (finished && run.started_at)) any_started = true;
    if (run.ended_at && (!latest_end || *run.ended_at > *latest_end)) latest_end = run.ended_at;
  }
  std::string tally;
  for (const auto& [state, n] : counts) tally += fmt::format("{}{} {}", tally.empty() ? "" : ", ", state, n);
  u.reason = fmt::format("{}/{} finished: {}", done, runs.size(), tally);
  if (!runs.empty() && done == runs.size()) {
    u.state = all_completed ? job_state::kCompleted
              : any_failed  ? job_state::kFailed
              : any_cancelled ? job_state::kCancelled
                              : job_state::kUnknown;
    u.ended_at = latest_end ? latest_end : std::optional<WallTime>(now);
  } else {
    u.state = any_started ? job_state::kRunning : all_submitting ? job_state::kSubmitting : job_state::kPending;
  }
  return u;
}

}  // namespace mmcfs::backend
