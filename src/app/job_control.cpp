// job_control.cpp — refresh, cancel, archive (see job_control.h).
#include "app/job_control.h"

#include <fmt/format.h>

#include <algorithm>
#include <thread>

#include "backend/scancel.h"
#include "common/log.h"
#include "fs/jobs_tree.h"

namespace mmcfs::app {
namespace {

bool has_ended(const backend::JobRecord& job) {
  return backend::job_state::is_final(job.state) || job.state == backend::job_state::kUnknown;
}

std::string one_line(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

}  // namespace

JobControl::JobControl(backend::JobStore& jobs, const Clock& clock, std::map<std::string, Cluster> clusters,
                       OnChanged on_changed, std::chrono::milliseconds refresh_bound)
    : jobs_(jobs),
      clock_(clock),
      clusters_(std::move(clusters)),
      on_changed_(std::move(on_changed)),
      refresh_bound_(refresh_bound) {}

Status JobControl::control(const std::string& job_id, const std::string& word) {
  auto summary = jobs_.summary(job_id);  // refresh and cancel need no texts
  if (!summary) return make_error(Errc::kNotFound, "no job " + job_id);
  const backend::JobRecord* job = &summary->record;
  auto cluster = clusters_.find(job->cluster);
  if (cluster == clusters_.end()) {
    return refused(job_id, word,
                   make_error(Errc::kInvalidArgument, "the job's cluster '" + job->cluster +
                                                          "' is no longer in clusters.yaml; add it back to act on it"));
  }
  if (word == "refresh") return refresh(*job, cluster->second);
  if (word == "cancel") return cancel(*job, cluster->second);
  return refused(job_id, word, make_error(Errc::kInvalidArgument, "unknown word '" + word + "'"));
}

std::string JobControl::wait_for_cycle(const Cluster& cluster, std::chrono::milliseconds max_wait) {
  if (cluster.poller == nullptr) return "no poller runs for " + cluster.config.name;
  auto stats = cluster.poller->poll_now_and_wait(max_wait);
  if (!stats) {
    return fmt::format("{} did not answer within {} s; the poller keeps asking, so `cat status` will show it",
                       cluster.config.name, std::chrono::duration_cast<std::chrono::seconds>(max_wait).count());
  }
  if (!stats->error.empty()) return cluster.config.name + ": " + stats->error;
  return "";
}

std::string JobControl::state_of(const std::string& job_id) const {
  auto job = jobs_.summary(job_id);
  return job ? one_line(fs::render_job_status(job->record)) : "gone";
}

Status JobControl::refresh(const backend::JobRecord& job, const Cluster& cluster) {
  if (has_ended(job)) {
    return done(job.id, "refresh", "the job already ended (" + state_of(job.id) + "); nothing to poll");
  }
  if (job.slurm_id.empty()) {
    return refused(job.id, "refresh",
                   make_error(Errc::kBusy, "the job has no SLURM id yet (its launch is still being confirmed); "
                                           "try again in a moment"));
  }
  std::string why = wait_for_cycle(cluster, refresh_bound_);
  if (!why.empty()) {
    return refused(job.id, "refresh", make_error(Errc::kTimeout, why + " (status: " + state_of(job.id) + ")"));
  }
  return done(job.id, "refresh", "polled " + cluster.config.name + "; status: " + state_of(job.id));
}

Status JobControl::cancel(const backend::JobRecord& job, const Cluster& cluster) {
  if (has_ended(job)) {
    return done(job.id, "cancel", "the job already ended (" + state_of(job.id) + "); nothing to cancel");
  }
  if (job.slurm_id.empty()) {
    return refused(job.id, "cancel",
                   make_error(Errc::kBusy, "the job has no SLURM id yet (its launch is still being confirmed); "
                                           "try again in a moment"));
  }
  auto bound = std::min<std::chrono::milliseconds>(cluster.config.command_timeout, kScancelBound);
  auto result = cluster.remote->run(backend::scancel_argv(job.slurm_id), bound);
  if (!result.ok()) {
    Error e = result.error();
    e.message = "scancel " + job.slurm_id + " on " + cluster.config.name + ": " + e.message;
    return refused(job.id, "cancel", e);
  }
  auto outcome = backend::classify_scancel(*result);
  std::string said;
  switch (outcome.verdict) {
    case backend::ScancelVerdict::kSignalled:
      said = fmt::format("SLURM job {} on {} cancelled", job.slurm_id, cluster.config.name);
      break;
    case backend::ScancelVerdict::kAlreadyEnded:
      said = fmt::format("SLURM job {} had already ended ({})", job.slurm_id, outcome.detail);
      break;
    case backend::ScancelVerdict::kUnknownJob:
      said = fmt::format("SLURM no longer knows job {}: it ended earlier ({})", job.slurm_id, outcome.detail);
      break;
    case backend::ScancelVerdict::kFailed:
      return refused(job.id, "cancel",
                     make_error(Errc::kRemoteFailed, fmt::format("scancel {} on {} refused: {}", job.slurm_id,
                                                                 cluster.config.name, outcome.detail)));
  }
  log::info("{}: cancel: {}", job.id, said);
  // Let the poller record the outcome now rather than at its next cycle. A
  // running job is COMPLETING for a moment (its batch script's TERM trap):
  // poll again, a little apart, until it ended or the bound is spent.
  using Steady = std::chrono::steady_clock;
  auto deadline = Steady::now() + refresh_bound_;
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Steady::now());
    std::string why = wait_for_cycle(cluster, std::max(left, std::chrono::milliseconds(0)));
    if (!why.empty()) {
      said += "; the status is not confirmed yet: " + why;
      break;
    }
    auto now = jobs_.summary(job.id);
    if (!now || has_ended(now->record)) break;
    if (Steady::now() + kCancelRecheck >= deadline) {
      said += "; SLURM is still ending it (echo refresh > ctl later shows the end)";
      break;
    }
    std::this_thread::sleep_for(kCancelRecheck);
  }
  return done(job.id, "cancel", said + "; status: " + state_of(job.id));
}

Status JobControl::set_archived(const std::string& job_id, bool archived) {
  std::string request = archived ? "mv jobs/" + job_id + " archive/" : "mv archive/" + job_id + " jobs/";
  auto job = jobs_.get(job_id);
  if (!job) return make_error(Errc::kNotFound, "no job " + job_id);
  if (job->archived != archived) {
    job->archived = archived;
    if (Status s = jobs_.update(*job); !s.ok()) return refused(job_id, request, s.error());
    log::info("{}: {}", job_id, archived ? "archived" : "back in jobs/");
  }
  Status s = done(job_id, request,
                  archived ? "archived: listed in archive/ only, every file kept (back: mv archive/" + job_id + " jobs/)"
                           : "back in jobs/");
  if (on_changed_) on_changed_(job_id, /*moved=*/true);
  return s;
}

void JobControl::note_refusal(const std::string& job_id, const std::string& request, const Error& why) {
  (void)refused(job_id, request, why);
}

std::vector<fs::ControlOutcome> JobControl::recent_outcomes(const std::string& job_id) const {
  std::lock_guard lock(mu_);
  auto it = outcomes_.find(job_id);
  if (it == outcomes_.end()) return {};
  return {it->second.begin(), it->second.end()};
}

std::vector<std::string> JobControl::archived_jobs() const {
  std::vector<std::string> ids;
  for (const auto& job : jobs_.summaries(/*include_archived=*/true)) {
    if (job->record.archived) ids.push_back(job->record.id);
  }
  return ids;
}

Status JobControl::done(const std::string& job_id, const std::string& request, std::string message) {
  remember(job_id, fs::ControlOutcome{clock_.now(), request, true, std::move(message)});
  return Status::Ok();
}

Status JobControl::refused(const std::string& job_id, const std::string& request, Error why) {
  log::info("{}: {} refused: {}", job_id, request, why.message);
  remember(job_id, fs::ControlOutcome{clock_.now(), request, false, why.message});
  return why;
}

void JobControl::remember(const std::string& job_id, fs::ControlOutcome outcome) {
  {
    std::lock_guard lock(mu_);
    auto& recent = outcomes_[job_id];
    recent.push_back(std::move(outcome));
    while (recent.size() > kRecentOutcomes) recent.pop_front();
  }
  if (on_changed_) on_changed_(job_id, /*moved=*/false);
}

}  // namespace mmcfs::app
