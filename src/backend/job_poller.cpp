// job_poller.cpp — the poller's cycle (see job_poller.h).
//
// Thread rules: as job_poller.h. mu_ is taken only around the two small maps,
// never across a remote call or a JobStore call.
#include "backend/job_poller.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

#include "backend/sweep_status.h"
#include "common/log.h"
#include "launch/sbatch_script.h"

namespace mmcfs::backend {
namespace {

// SLURM states in which the batch script has begun (or began) to run.
bool has_started_state(const std::string& state) {
  static const std::set<std::string> kStarted = {"RUNNING",  "COMPLETING", "SUSPENDED", "STAGE_OUT",
                                                 "SIGNALING", "STOPPED",   "RESIZING"};
  return kStarted.count(state) > 0;
}

std::string first_line(const std::string& text) {
  std::string line = text.substr(0, text.find('\n'));
  if (line.size() > 200) line = line.substr(0, 200) + "...";
  return line;
}

std::string command_failure(const char* what, const CommandResult& r) {
  return fmt::format("{} exited {}: {}", what, r.exit_code, first_line(r.err.empty() ? r.out : r.err));
}

bool same_update(const JobRecord& j, const JobUpdate& u) {
  return j.state == u.state && j.reason == u.reason && j.started_at == u.started_at && j.ended_at == u.ended_at &&
         j.exit_code == u.exit_code;
}

// The first answer in `rows` (indexed by id) that is the record's job.
const SlurmJobStatus* find_answer(const std::multimap<std::string, const SlurmJobStatus*>& rows,
                                  const JobRecord& job) {
  auto [begin, end] = rows.equal_range(job.slurm_id);
  for (auto it = begin; it != end; ++it) {
    if (same_job(job, *it->second)) return it->second;
  }
  return nullptr;
}

std::multimap<std::string, const SlurmJobStatus*> index_by_id(const std::vector<SlurmJobStatus>& rows) {
  std::multimap<std::string, const SlurmJobStatus*> by_id;
  for (const SlurmJobStatus& row : rows) by_id.emplace(row.slurm_id, &row);
  return by_id;
}

// Where a job's started and exit_status files are: its job directory, or a
// sweep run's run-<n> inside its sweep's.
std::string marker_dir(const config::ClusterConfig& cluster, const JobRecord& job) {
  if (is_sweep_run(job)) return launch::run_dir(cluster.workspace, slurm_token(job), run_number(job.id));
  return launch::job_dir(cluster.workspace, job.token);
}

JobUpdate unchanged(const JobRecord& j) { return {j.state, j.reason, j.started_at, j.ended_at, j.exit_code}; }

}  // namespace

bool same_job(const JobRecord& record, const SlurmJobStatus& s) {
  if (s.slurm_id != record.slurm_id) return false;
  if (!s.comment.empty()) return s.comment == slurm_token(record);
  if (!s.submit_time) return true;
  auto skew = *s.submit_time - record.submitted_at;
  if (skew < decltype(skew)::zero()) skew = -skew;
  return skew <= JobPoller::kSubmitTimeTolerance;
}

JobUpdate update_from_slurm(const JobRecord& record, const SlurmJobStatus& s, WallTime now) {
  JobUpdate u = unchanged(record);
  u.state = s.state;
  u.reason = s.reason;
  if (!job_state::is_final(s.state)) {
    if (has_started_state(s.state) && s.start_time) u.started_at = s.start_time;
    return u;
  }
  // A job cancelled while pending: SLURM sets StartTime = EndTime = the
  // cancel time and exit code 0 (tests/data/alpha-squeue-poll.txt, job 258).
  bool never_started = s.state == job_state::kCancelled && !record.started_at &&
                       (!s.start_time || (s.end_time && *s.start_time >= *s.end_time)) &&
                       s.exit_code.value_or(0) == 0;
  u.ended_at = s.end_time ? s.end_time : std::optional<WallTime>(now);
  if (never_started) {
    u.reason = "cancelled before it started";
    u.exit_code = std::nullopt;
    return u;
  }
  if (s.start_time) u.started_at = s.start_time;
  u.exit_code = s.exit_code;
  if (s.state == job_state::kCompleted || s.state == job_state::kCancelled) u.reason.clear();
  return u;
}

bool JobPoller::accounting_disabled(const std::string& cluster) const {
  std::lock_guard lock(mu_);
  auto it = accounting_disabled_.find(cluster);
  return it != accounting_disabled_.end() && it->second;
}

std::vector<JobRecord> JobPoller::active_jobs(const std::string& cluster, Sweeps& sweeps) const {
  // Summaries (no texts): modify_batch() applies the outcome to the current
  // record at write time.
  // Copies only the active records and the sweeps' runs (final ones too:
  // a sweep's summary counts them), never the whole store.
  std::vector<JobRecord> candidates;
  for (const JobSummaryRef& summary : jobs_.summaries(/*include_archived=*/true)) {
    const JobRecord& j = summary->record;
    if (j.cluster != cluster) continue;
    if (is_sweep_run(j)) sweeps.runs[sweep_of(j.id)].push_back(j);
    if (!j.slurm_id.empty() && !job_state::is_final(j.state) && j.state != job_state::kUnknown) {
      candidates.push_back(j);
    }
  }
  std::vector<JobRecord> active;
  for (JobRecord& j : candidates) {
    if (sweeps.runs.contains(j.id)) {
      sweeps.open.push_back(std::move(j));  // summarised from its runs, never asked about
    } else {
      active.push_back(std::move(j));
    }
  }
  return active;
}

void JobPoller::summarize_sweeps(const Sweeps& sweeps, Outcomes& out) {
  if (sweeps.open.empty()) return;
  std::map<std::string, const Outcome*> by_id;
  for (const Outcome& o : out) by_id.emplace(o.snapshot.id, &o);
  WallTime now = clock_.now();
  Outcomes summaries;
  for (const JobRecord& sweep : sweeps.open) {
    auto runs = sweeps.runs.at(sweep.id);
    bool confirmed = false;
    for (JobRecord& run : runs) {  // each run as this cycle left it
      auto it = by_id.find(run.id);
      if (it == by_id.end()) continue;
      const JobUpdate& u = it->second->update;
      run.state = u.state;
      run.started_at = u.started_at;
      run.ended_at = u.ended_at;
      confirmed = confirmed || it->second->confirmed;
    }
    summaries.push_back({sweep, summarize_sweep(runs, now), confirmed});
  }
  for (Outcome& o : summaries) out.push_back(std::move(o));
}

std::vector<JobRecord> JobPoller::settle(const std::vector<SlurmJobStatus>& rows, std::vector<JobRecord> jobs,
                                         bool final_only, Outcomes& out) {
  auto by_id = index_by_id(rows);
  WallTime now = clock_.now();
  std::vector<JobRecord> unresolved;
  for (JobRecord& job : jobs) {
    const SlurmJobStatus* answer = find_answer(by_id, job);
    if (answer == nullptr || (final_only && !job_state::is_final(answer->state))) {
      unresolved.push_back(std::move(job));
      continue;
    }
    forget_missing(job.id);
    JobUpdate u = update_from_slurm(job, *answer, now);
    out.push_back({std::move(job), std::move(u), true});
  }
  return unresolved;
}

void JobPoller::write(const Outcomes& outcomes, WallTime now, PollStats& stats) {
  if (outcomes.empty()) return;
  std::vector<std::pair<std::string, JobStore::Modifier>> modifiers;
  modifiers.reserve(outcomes.size());
  int confirmed = 0;
  for (const Outcome& o : outcomes) {
    modifiers.emplace_back(o.snapshot.id, [&o, now, &confirmed](JobRecord& current) {
      // The record may have changed while the remote answered.
      if (job_state::is_final(current.state) || current.state == job_state::kUnknown ||
          current.slurm_id != o.snapshot.slurm_id) {
        return JobStore::Modified::kNothing;
      }
      if (o.confirmed) {
        current.confirmed_at = now;
        ++confirmed;
      }
      if (same_update(current, o.update)) {
        return o.confirmed ? JobStore::Modified::kConfirmedOnly : JobStore::Modified::kNothing;
      }
      current.state = o.update.state;
      current.reason = o.update.reason;
      current.started_at = o.update.started_at;
      current.ended_at = o.update.ended_at;
      current.exit_code = o.update.exit_code;
      return JobStore::Modified::kRecord;
    });
  }
  auto changed = jobs_.modify_batch(modifiers);
  if (!changed.ok()) {
    log::warn("job states of this cycle not saved: {}", changed.error().describe());
    return;
  }
  stats.jobs_confirmed += confirmed;
  stats.jobs_updated += static_cast<int>(changed->size());
  for (const std::string& id : *changed) {
    if (auto s = jobs_.summary(id); s && (job_state::is_final(s->record.state) || s->record.state == job_state::kUnknown)) {
      const JobRecord* j = &s->record;
      log::info("{}: SLURM job {} on {} is {}", j->id, j->slurm_id, j->cluster, j->state);
    }
  }
  stats.changed_ids.insert(stats.changed_ids.end(), changed->begin(), changed->end());
}

WallTime JobPoller::missing_since(const std::string& job_id, WallTime now) {
  std::lock_guard lock(mu_);
  return missing_since_.try_emplace(job_id, now).first->second;
}

void JobPoller::forget_missing(const std::string& job_id) {
  std::lock_guard lock(mu_);
  missing_since_.erase(job_id);
}

PollStats JobPoller::poll(Remote& remote, const config::ClusterConfig& cluster) {
  PollStats stats;
  Sweeps sweeps;
  std::vector<JobRecord> active = active_jobs(cluster.name, sweeps);
  stats.active_jobs = static_cast<int>(active.size());
  if (active.empty()) {
    // Sweeps whose runs all ended earlier still need their summary (no remote call).
    Outcomes outcomes;
    summarize_sweeps(sweeps, outcomes);
    write(outcomes, clock_.now(), stats);
    return stats;
  }

  ++stats.squeue_calls;
  auto queue = remote.run(kSqueuePollArgv, cluster.command_timeout);
  if (!queue.ok()) {
    stats.error = "squeue: " + queue.error().describe();
    return stats;
  }
  if (queue->exit_code != 0) {
    stats.error = command_failure("squeue", *queue);
    return stats;
  }
  auto rows = parse_squeue_poll(queue->out);
  if (!rows.ok()) {
    stats.error = rows.error().describe();
    return stats;
  }
  Outcomes outcomes;
  outcomes.reserve(active.size());
  std::vector<JobRecord> vanished = settle(*rows, std::move(active), /*final_only=*/false, outcomes);

  bool sacct_failed = false;
  if (!vanished.empty()) {
    vanished = resolve_by_sacct(remote, cluster, std::move(vanished), sacct_failed, stats, outcomes);
  }
  if (!vanished.empty() && stats.error.empty()) {
    vanished = resolve_by_scontrol(remote, cluster, std::move(vanished), stats, outcomes);
  }
  if (!vanished.empty() && stats.error.empty()) {
    // Without a working sacct the poller still reads markers, but does not
    // give up on a job while accounting might still know it.
    resolve_by_markers(remote, cluster, vanished, /*may_give_up=*/!sacct_failed, stats, outcomes);
  }
  summarize_sweeps(sweeps, outcomes);
  write(outcomes, clock_.now(), stats);
  return stats;
}

std::vector<JobRecord> JobPoller::resolve_by_sacct(Remote& remote, const config::ClusterConfig& cluster,
                                                   std::vector<JobRecord> vanished, bool& sacct_failed,
                                                   PollStats& stats, Outcomes& out) {
  if (accounting_disabled(cluster.name)) return vanished;
  std::vector<std::string> ids;
  for (const JobRecord& j : vanished) ids.push_back(j.slurm_id);
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());

  ++stats.sacct_calls;
  auto r = remote.run(sacct_argv(ids), cluster.command_timeout);
  if (!r.ok()) {
    stats.error = "sacct: " + r.error().describe();
    return {};
  }
  if (sacct_accounting_disabled(r->err)) {
    log::info("{}: SLURM accounting is disabled; finished jobs are resolved from their exit_status files",
              cluster.name);
    std::lock_guard lock(mu_);
    accounting_disabled_[cluster.name] = true;
    return vanished;
  }
  if (r->exit_code != 0) {
    log::warn("{}: {}; trying the exit_status files", cluster.name, command_failure("sacct", *r));
    sacct_failed = true;
    return vanished;
  }
  auto rows = parse_sacct(r->out);
  if (!rows.ok()) {
    log::warn("{}: {}; trying the exit_status files", cluster.name, rows.error().describe());
    sacct_failed = true;
    return vanished;
  }
  return settle(*rows, std::move(vanished), /*final_only=*/true, out);
}

std::vector<JobRecord> JobPoller::resolve_by_scontrol(Remote& remote, const config::ClusterConfig& cluster,
                                                      std::vector<JobRecord> vanished, PollStats& stats,
                                                      Outcomes& out) {
  std::vector<std::string> ids;
  for (const JobRecord& j : vanished) ids.push_back(j.slurm_id);
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());

  ++stats.scontrol_calls;
  auto r = remote.run_with_input(kScontrolJobsArgv, scontrol_ids_input(ids), cluster.command_timeout);
  if (!r.ok()) {
    stats.error = "scontrol show job: " + r.error().describe();
    return {};
  }
  if (r->exit_code != 0) {
    log::warn("{}: {}; trying the exit_status files", cluster.name, command_failure("scontrol show job", *r));
    return vanished;
  }
  auto rows = parse_scontrol_jobs(r->out);
  if (!rows.ok()) {
    log::warn("{}: {}; trying the exit_status files", cluster.name, rows.error().describe());
    return vanished;
  }
  // The controller holds it: its answer is SLURM's, final or not.
  return settle(*rows, std::move(vanished), /*final_only=*/false, out);
}

void JobPoller::resolve_by_markers(Remote& remote, const config::ClusterConfig& cluster,
                                   const std::vector<JobRecord>& vanished, bool may_give_up, PollStats& stats,
                                   Outcomes& out) {
  std::vector<JobDirRef> refs;
  for (const JobRecord& j : vanished) refs.push_back({j.token, marker_dir(cluster, j)});

  ++stats.marker_calls;
  auto r = remote.run_with_input(kMarkerArgv, marker_input(refs), cluster.command_timeout);
  if (!r.ok()) {
    stats.error = "exit_status markers: " + r.error().describe();
    return;
  }
  if (r->exit_code != 0) {
    stats.error = command_failure("exit_status markers", *r);
    return;
  }
  auto markers = parse_markers(r->out);
  if (!markers.ok()) {
    stats.error = markers.error().describe();
    return;
  }
  std::map<std::string, const JobMarker*> by_token;
  for (const JobMarker& m : *markers) by_token.emplace(m.token, &m);

  WallTime now = clock_.now();
  for (const JobRecord& job : vanished) {
    auto it = by_token.find(job.token);
    const JobMarker* marker = it == by_token.end() ? nullptr : it->second;
    JobUpdate u = unchanged(job);
    bool confirmed = false;
    if (!u.started_at && marker != nullptr) u.started_at = marker->started_at;
    if (marker != nullptr && marker->exit_status) {
      confirmed = true;
      int status = *marker->exit_status;
      u.state = status == 0 ? job_state::kCompleted : job_state::kFailed;
      u.exit_code = status;
      u.ended_at = now;  // when it was found; SLURM no longer says when it ended
      u.reason = status == 0 ? "" : fmt::format("exit status {} (from the job's exit_status file)", status);
      forget_missing(job.id);
    } else {
      WallTime since = missing_since(job.id, now);
      if (may_give_up && now - since >= kUnknownAfter) {
        u.state = job_state::kUnknown;
        u.ended_at = since;
        u.reason = fmt::format(
            "outcome could not be determined: SLURM job {} left the queue, the controller no longer holds it, "
            "SLURM {}, and the job {} no exit_status file in {}{}",
            job.slurm_id, accounting_disabled(cluster.name) ? "keeps no accounting" : "accounting has no record of it",
            u.started_at ? "started but left" : "never started and left",
            marker_dir(cluster, job),
            u.started_at ? " (killed by SIGKILL, out of memory or a node failure?)" : " (cancelled while pending?)");
        forget_missing(job.id);
      }
    }
    out.push_back({job, std::move(u), confirmed});
  }
}

}  // namespace mmcfs::backend
