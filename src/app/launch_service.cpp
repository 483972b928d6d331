// launch_service.cpp — validate, record, submit idempotently, reconcile.
#include "app/launch_service.h"

#include <fmt/format.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "common/log.h"
#include "common/quote.h"
#include "common/text.h"
#include "hydra/conf_source.h"
#include "launch/sbatch_script.h"
#include "launch/sweep.h"
#include "project/git_repo.h"
#include "project/project_config.h"

namespace mmcfs::app {
namespace {

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

std::string first_lines(const std::string& text, int n) {
  std::string out;
  std::istringstream in(text);
  std::string line;
  for (int i = 0; i < n && std::getline(in, line); ++i) out += (out.empty() ? "" : "\n") + line;
  return out;
}

bool connection_never_made(Errc code) {
  return code == Errc::kUnreachable || code == Errc::kHostKey || code == Errc::kAuthFailed;
}

}  // namespace

LaunchService::LaunchService(const config::Config& config, backend::ProjectStore& projects, backend::JobStore& jobs,
                             std::map<std::string, std::shared_ptr<backend::Remote>> remotes,
                             std::string dropzone_root, std::string sbatch_template)
    : config_(config),
      projects_(projects),
      jobs_(jobs),
      remotes_(std::move(remotes)),
      dropzone_root_(std::move(dropzone_root)),
      template_(std::move(sbatch_template)) {}

namespace {
// The JobStore key of a project's last launch with one config name: a
// project name never holds '/', so it cannot clash with a project's own key.
// "" is the default config, which is `config` (conf/config.yaml) whenever
// there is a Hydra directory to check against.
std::string per_config_key(const std::string& project, const std::string& config_name) {
  return project + "/config/" + (config_name.empty() ? std::string("config") : config_name);
}
}  // namespace

std::optional<launch::LaunchSpec> LaunchService::last_launch(const std::string& project,
                                                             const std::string& config_name) const {
  return parse_last(project, jobs_.last_launch(per_config_key(project, config_name)));
}

std::optional<launch::LaunchSpec> LaunchService::last_launch(const std::string& project) const {
  return parse_last(project, jobs_.last_launch(project));
}

void LaunchService::remember_launch(const backend::JobRecord& job) {
  if (auto s = jobs_.set_last_launch(job.project, job.spec_yaml); !s.ok()) log::warn("{}", s.error().message);
  launch::ParseContext ctx{"(job " + job.id + ")", &config_.clusters, {}};
  auto spec = launch::parse_launch(job.spec_yaml, ctx);
  if (!spec.ok()) return;
  if (auto s = jobs_.set_last_launch(per_config_key(job.project, spec->config_name), job.spec_yaml); !s.ok()) {
    log::warn("{}", s.error().message);
  }
}

std::optional<launch::LaunchSpec> LaunchService::parse_last(const std::string& project, const std::string& yaml) const {
  if (yaml.empty()) return std::nullopt;
  launch::ParseContext ctx{"(last launch of " + project + ")", &config_.clusters, {}};
  auto spec = launch::parse_launch(yaml, ctx);
  if (!spec.ok()) return std::nullopt;  // the config changed since: no defaults
  return *spec;
}

std::string LaunchService::launch_template(const std::string& project) const {
  return render_template(project, last_launch(project), std::nullopt);
}

std::string LaunchService::launch_template(const std::string& project, const std::string& config_name) const {
  return render_template(project, last_launch(project, config_name), config_name);
}

std::string LaunchService::render_template(const std::string& project, const std::optional<launch::LaunchSpec>& last,
                                           const std::optional<std::string>& config_name) const {
  launch::LaunchSpec spec;
  if (!last && config_name) {
    if (auto overall = last_launch(project)) {  // resources from the last launch, Hydra values fresh
      spec = *overall;
      spec.params.clear();
      spec.groups.clear();
      spec.overrides.clear();
      spec.name = config_name->empty() ? project + "-run" : *config_name;
      spec.description.clear();
      spec.commit.clear();
      spec.sweep.clear();  // a sweep is never a default
    }
  }
  if (last) {
    spec = *last;
    spec.name = last->name;
    // An experiment_suffix filled from the description goes with it.
    std::erase_if(spec.params, [&last](const launch::LaunchSpec::Param& p) {
      return p.key == "experiment_suffix" && p.value == last->description;
    });
    spec.description.clear();
    spec.commit.clear();
    spec.sweep.clear();  // a sweep is never a default
  } else if (spec.cluster.empty()) {
    spec.name = project + "-run";
    if (!config_.clusters.empty()) {
      const auto& c = config_.clusters.front();
      spec.cluster = c.name;
      if (!c.allowed_partitions.empty()) spec.partition = c.allowed_partitions.front();
    }
  }
  std::string header = fmt::format(
      "launch.yaml for project {} — {}\n"
      "Copy it, edit it, and save it into projects/{}/new/ to launch:\n"
      "  cp launch.yaml /tmp/l.yaml && $EDITOR /tmp/l.yaml && cp /tmp/l.yaml new/\n"
      "commit: leave it out to run at the current HEAD (it must be pushed).",
      project,
      last ? (config_name ? "prefilled with your last launch of this config" : "prefilled with your last launch")
      : !spec.cluster.empty() && config_name ? "no launch of this config yet: resources from your last launch"
                                             : "no launch yet: defaults",
      project);
  if (config_name) spec.config_name = *config_name;
  return launch::to_launch_yaml(spec, header);
}

Result<fs::LaunchTrigger::Outcome> LaunchService::launch(const std::string& project, const std::string& file_name,
                                                        const std::string& text) {
  auto entry = projects_.get(project);
  if (!entry) return make_error(Errc::kNotFound, "project '" + project + "' is not known");
  auto project_config = project::load_project_config(entry->path);
  if (!project_config.ok()) return project_config.error();

  launch::LaunchDefaults defaults{last_launch(project), [this, &project](const std::string& config_name) {
                                    return last_launch(project, config_name);
                                  }};
  launch::ParseContext ctx{"projects/" + project + "/new/" + file_name, &config_.clusters, defaults};
  // First without Hydra checks, for the commit; then again against the
  // Hydra config directory as of that commit (what the job will run).
  auto spec = launch::parse_launch(text, ctx);
  if (!spec.ok()) return spec.error();
  const config::ClusterConfig* cluster = config_.find(spec->cluster);
  if (cluster == nullptr) return make_error(Errc::kInternal, "validated cluster '" + spec->cluster + "' vanished");

  auto repo = project::inspect_repo(entry->path);
  if (!repo.ok()) return repo.error();
  auto commit = project::resolve_commit(entry->path, spec->commit);
  if (!commit.ok()) return make_error(Errc::kInvalidArgument, ctx.file_name + ": commit: " + commit.error().message);
  auto pushed = project::remote_branch_containing(entry->path, *commit);
  if (!pushed.ok()) return make_error(Errc::kInvalidArgument, ctx.file_name + ": " + pushed.error().message);
  const hydra::GitConfSource conf(entry->path, *commit, project_config->hydra_config_dir);
  ctx.hydra_conf = &conf;
  spec = launch::parse_launch(text, ctx);
  if (!spec.ok()) return spec.error();

  backend::JobRecord record;
  record.project = project;
  record.cluster = cluster->name;
  record.launch_text = text;
  record.spec_yaml = launch::to_launch_yaml(*spec);
  record.commit = *commit;
  record.source_file = file_name;
  auto inserted = jobs_.insert(std::move(record), spec->name);
  if (!inserted.ok()) return inserted.error();
  backend::JobRecord job = std::move(*inserted);

  launch::ScriptInputs inputs{*spec, *project_config, project, repo->remote_url, *commit, job.id, job.token,
                              cluster->workspace};
  auto script = launch::render_script(template_, inputs);
  if (!script.ok()) {
    remove_with_runs(job.id);
    return script.error();
  }
  job.script = *script;
  job.command = shell_join(launch::training_argv(*spec, *project_config));
  if (!spec->sweep.empty()) {
    // One record per run, before anything reaches the cluster (job_store.h).
    const std::size_t runs = launch::sweep_run_count(*spec);
    job.command.clear();
    for (std::size_t n = 0; n < runs; ++n) {
      const launch::LaunchSpec run_spec = launch::sweep_run_spec(*spec, n);
      backend::JobRecord run;
      run.project = project;
      run.cluster = cluster->name;
      run.launch_text = text;
      run.spec_yaml = launch::to_launch_yaml(run_spec);
      run.commit = *commit;
      run.script = job.script;
      run.command = shell_join(launch::training_argv(run_spec, *project_config));
      run.reason = "run " + std::to_string(n) + " of sweep " + job.id;
      job.command += (n ? "\n" : "") + run.command;
      auto inserted_run = jobs_.insert_run(job, static_cast<int>(n), std::move(run));
      if (!inserted_run.ok()) {
        remove_with_runs(job.id);
        return inserted_run.error();
      }
    }
    job.reason = fmt::format("sweep of {} runs", runs);
  }
  if (auto s = jobs_.update(job); !s.ok()) return s.error();

  Error error{Errc::kInternal, ""};
  switch (submit(job, *cluster, &error)) {
    case SubmitResult::kConfirmed:
      remember_launch(job);
      return fs::LaunchTrigger::Outcome{job.id, receipt(job), false, ""};
    case SubmitResult::kNotSent:
    case SubmitResult::kRefused:
      remove_with_runs(job.id);
      return error;
    case SubmitResult::kInDoubt:
      return fs::LaunchTrigger::Outcome{
          job.id, "", true,
          fmt::format("{} was recorded as job {} but {} did not confirm the submission ({}).\n"
                      "mmcfs finishes it exactly once: when {} answers, it checks whether SLURM already has "
                      "the job (token {}) and submits it only if not.\n"
                      "Do not save the file again; watch jobs/{}/status.",
                      file_name, job.id, cluster->name, error.message, cluster->name, job.token, job.id)};
  }
  return make_error(Errc::kInternal, "unreachable");
}

LaunchService::SubmitResult LaunchService::submit(backend::JobRecord& job, const config::ClusterConfig& cluster,
                                                  Error* error) {
  auto remote = remotes_.find(cluster.name);
  if (remote == remotes_.end()) {
    *error = make_error(Errc::kInternal, "no connection for cluster " + cluster.name);
    return SubmitResult::kNotSent;
  }
  auto result = remote->second->run_with_input(launch::submit_argv(cluster.workspace, job.token), job.script,
                                               cluster.command_timeout);
  if (!result.ok()) {
    if (connection_never_made(result.error().code)) {
      *error = make_error(result.error().code, "cluster " + cluster.name + " is not reachable, nothing was "
                                                   "submitted: " + result.error().message);
      return SubmitResult::kNotSent;
    }
    *error = result.error();
    job.reason = "in doubt: " + result.error().message;
    (void)jobs_.update(job);
    return SubmitResult::kInDoubt;
  }
  if (result->exit_code != 0) {
    std::string why = trim(result->err.empty() ? result->out : result->err);
    *error = make_error(Errc::kRemoteFailed, "sbatch on " + cluster.name + " refused the job (exit " +
                                                 std::to_string(result->exit_code) + "):\n" + first_lines(why, 20));
    return SubmitResult::kRefused;
  }
  std::string id = trim(result->out);
  // sbatch --parsable prints "<id>" or "<id>;<cluster>".
  if (!is_decimal_integer(id.substr(0, id.find(';'))) || id.front() == '-') {
    *error = make_error(Errc::kRemoteFailed, "sbatch printed no job id: '" + first_lines(id, 3) + "'");
    job.reason = "in doubt: " + error->message;
    (void)jobs_.update(job);
    return SubmitResult::kInDoubt;
  }
  job.slurm_id = id.substr(0, id.find(';'));
  job.state = backend::job_state::kPending;
  job.reason.clear();
  if (auto s = jobs_.update(job); !s.ok()) {
    *error = s.error();
    return SubmitResult::kInDoubt;
  }
  log::info("{}: submitted as SLURM job {} on {}", job.id, job.slurm_id, cluster.name);
  // A sweep's runs are its array's tasks: "<array id>_<n>".
  for (backend::JobRecord run : jobs_.runs_of(job.id)) {
    if (!run.slurm_id.empty()) continue;
    run.slurm_id = backend::array_task_id(job.slurm_id, backend::run_number(run.id));
    run.state = backend::job_state::kPending;
    if (auto s = jobs_.update(run); !s.ok()) log::warn("{}: {}", run.id, s.error().message);
  }
  return SubmitResult::kConfirmed;
}

int LaunchService::reconcile(const std::string& cluster_name) {
  int confirmed = 0;
  for (auto job : jobs_.in_state(backend::job_state::kSubmitting)) {
    if (!cluster_name.empty() && job.cluster != cluster_name) continue;
    if (backend::is_sweep_run(job)) continue;  // submitted with its sweep
    const config::ClusterConfig* cluster = config_.find(job.cluster);
    if (cluster == nullptr || job.script.empty()) continue;
    Error error{Errc::kInternal, ""};
    switch (submit(job, *cluster, &error)) {
      case SubmitResult::kConfirmed:
        ++confirmed;
        remember_launch(job);
        finish_source_file(job);
        break;
      case SubmitResult::kRefused:
        job.state = backend::job_state::kFailed;
        job.reason = "submission failed: " + error.message;
        (void)jobs_.update(job);
        for (backend::JobRecord run : jobs_.runs_of(job.id)) {
          run.state = backend::job_state::kFailed;
          run.reason = "submission of sweep " + job.id + " failed";
          (void)jobs_.update(run);
        }
        break;
      case SubmitResult::kNotSent:
      case SubmitResult::kInDoubt:
        log::info("{}: still in doubt ({})", job.id, error.message);
        if (connection_never_made(error.code)) return confirmed;  // the cluster is down: try later
        break;
    }
  }
  return confirmed;
}

void LaunchService::remove_with_runs(const std::string& id) {
  for (const backend::JobRecord& run : jobs_.runs_of(id)) (void)jobs_.remove(run.id);
  (void)jobs_.remove(id);
}

// After a crash between sbatch and recording, the launch file may still sit
// in new/: once the job is confirmed, it leaves, as after a normal launch.
void LaunchService::finish_source_file(const backend::JobRecord& job) {
  if (job.source_file.empty()) return;
  std::string path = dropzone_dir(job.project) + "/" + job.source_file;
  std::ifstream in(path, std::ios::binary);
  if (!in) return;
  std::string text((std::istreambuf_iterator<char>(in)), {});
  if (text != job.launch_text) return;  // the user has changed it since: theirs now
  ::unlink(path.c_str());
  ::unlink((path + ".error").c_str());
  std::ofstream(path + ".submitted") << receipt(job);
}

std::string LaunchService::receipt(const backend::JobRecord& job) const {
  std::string text = fmt::format(
      "{} became job {}\n  SLURM job {} on {}, commit {}\n  files: jobs/{}/  (also projects/{}/last)\n",
      job.source_file, job.id, job.slurm_id, job.cluster, job.commit.substr(0, 12), job.id, job.project);
  if (auto runs = jobs_.runs_of(job.id); !runs.empty()) {
    text += fmt::format("  a sweep of {} runs (SLURM job array {}): jobs/{}.0/ .. jobs/{}.{}/\n", runs.size(),
                        job.slurm_id, job.id, job.id, runs.size() - 1);
  }
  return text;
}

}  // namespace mmcfs::app
