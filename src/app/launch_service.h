// launch_service.h — turning a launch file into exactly one SLURM job.
//
// launch() validates the file against the configured clusters and the
// project's last launch, resolves the commit and checks that it is pushed,
// records the job (SUBMITTING, with a unique token) BEFORE anything reaches
// the cluster, renders the script, and runs one idempotent remote command
// that uploads the script into the job's own directory and runs sbatch only
// if that directory holds no SLURM id yet. The outcome:
//   - refused before the cluster (invalid file, unpushed commit): the record
//     is dropped, kInvalidArgument;
//   - the cluster was not reached (connect failed) or sbatch refused: the
//     record is dropped, kUnreachable/kHostKey/kAuthFailed/kRemoteFailed;
//   - the cluster did not confirm (timeout, link dropped after sending): the
//     record stays SUBMITTING, "in doubt";
//   - confirmed: the SLURM id is recorded, state PENDING.
// A launch with `sweep:` becomes one job array: the sweep's record and one
// record per run are written before submission (backend/job_store.h); once
// sbatch answers, each run gets slurm_id "<array id>_<n>" and PENDING.
// reconcile() finishes in-doubt jobs by running the same idempotent command
// again: it returns the id SLURM already gave, or submits if sbatch never
// ran. So a launch is never lost and never run twice, even if mmcfs dies
// between sbatch and recording the id.
//
// Thread rules: launch() and reconcile() may run on any thread, concurrently;
// they hold no lock across remote calls (the stores lock internally).
#pragma once

#include <map>
#include <memory>
#include <string>

#include "backend/job_store.h"
#include "backend/project_store.h"
#include "backend/remote.h"
#include "common/clock.h"
#include "config/cluster_config.h"
#include "fs/drop_zone.h"
#include "launch/launch_spec.h"

namespace mmcfs::app {

class LaunchService {
 public:
  LaunchService(const config::Config& config, backend::ProjectStore& projects, backend::JobStore& jobs,
                std::map<std::string, std::shared_ptr<backend::Remote>> remotes, std::string dropzone_root,
                std::string sbatch_template);

  Result<fs::LaunchTrigger::Outcome> launch(const std::string& project, const std::string& file_name,
                                           const std::string& text);

  // Tries to finish every SUBMITTING job of `cluster` ("" = all clusters).
  // Returns how many were confirmed.
  int reconcile(const std::string& cluster);

  // The project's last launch as a spec, if any (for defaults and templates).
  std::optional<launch::LaunchSpec> last_launch(const std::string& project) const;
  // The project's last launch with `config_name` ("" = the default config).
  std::optional<launch::LaunchSpec> last_launch(const std::string& project, const std::string& config_name) const;
  // projects/<p>/launch.yaml: a ready-to-edit template.
  std::string launch_template(const std::string& project) const;
  // projects/<p>/hydra/<config>/launch.yaml: the same, remembered per config name.
  std::string launch_template(const std::string& project, const std::string& config_name) const;
  // Where a project's drop zone keeps its files.
  std::string dropzone_dir(const std::string& project) const { return dropzone_root_ + "/" + project; }

 private:
  enum class SubmitResult { kConfirmed, kNotSent, kRefused, kInDoubt };
  SubmitResult submit(backend::JobRecord& job, const config::ClusterConfig& cluster, Error* error);
  void finish_source_file(const backend::JobRecord& job);
  // Forgets a job and, for a sweep, its runs (a launch that never reached SLURM).
  void remove_with_runs(const std::string& id);
  // Records a confirmed launch as the project's last, and as its last with that config name.
  void remember_launch(const backend::JobRecord& job);
  std::optional<launch::LaunchSpec> parse_last(const std::string& project, const std::string& yaml) const;
  std::string render_template(const std::string& project, const std::optional<launch::LaunchSpec>& last,
                              const std::optional<std::string>& config_name) const;
  std::string receipt(const backend::JobRecord& job) const;

  const config::Config& config_;
  backend::ProjectStore& projects_;
  backend::JobStore& jobs_;
  const std::map<std::string, std::shared_ptr<backend::Remote>> remotes_;
  const std::string dropzone_root_;
  const std::string template_;
};

// A project's drop-zone trigger: calls LaunchService::launch for that project.
class ProjectLaunchTrigger final : public fs::LaunchTrigger {
 public:
  ProjectLaunchTrigger(LaunchService& service, std::string project)
      : service_(service), project_(std::move(project)) {}
  Result<Outcome> launch(const std::string& file_name, const std::string& text) override {
    return service_.launch(project_, file_name, text);
  }

 private:
  LaunchService& service_;
  std::string project_;
};

}  // namespace mmcfs::app
