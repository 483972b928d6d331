// sbatch_script.h — the batch script a launch becomes, and the training
// command line inside it.
//
// The script is rendered from a template (config/sbatch_template.sh, which
// users may copy and change) by replacing {{PLACEHOLDER}} tokens. Every value
// that came from the user reaches the script as data: either as a word that
// is POSIX-quoted (shell_quote) or, on #SBATCH lines, as a value restricted
// to a safe character set by validation. Nothing the user wrote is ever
// interpreted by a shell.
//
// Thread rules: pure functions over their arguments.
#pragma once

#include <string>
#include <vector>

#include "common/result.h"
#include "launch/launch_spec.h"
#include "project/project_model.h"

namespace mmcfs::launch {

struct ScriptInputs {
  LaunchSpec spec;
  project::ProjectConfig project_config;
  std::string project_name;
  std::string repo_url;      // the remote the cluster clones from
  std::string commit;        // full 40-hex SHA the job runs at
  std::string job_id;        // mmcfs's job name, e.g. "00042-lr-sweep"
  std::string job_token;     // unique token; also the SLURM --comment
  std::string workspace;     // the cluster's workspace ("/abs" or "~/rel")
};

// Remote paths used by a job, relative to nothing: workspace-based, with a
// leading "~/" meaning the remote home. (The script resolves them itself.)
std::string job_dir(const std::string& workspace, const std::string& job_token);
std::string mirror_dir(const std::string& workspace, const std::string& project_name);
// A sweep run's own directory inside its sweep's job directory: <job dir>/run-<n>.
std::string run_dir(const std::string& workspace, const std::string& sweep_token, int run);

// The training command as an argument vector:
//   python train_script [--config-name X] group=option... key=value... overrides...
// (values written by hydra/override_writer.h; overrides verbatim, last, so
// that they win).
std::vector<std::string> training_argv(const LaunchSpec& spec, const project::ProjectConfig& config);

// One Hydra override "key=value" for a launch.yaml param, with the value
// written in Hydra's override grammar (quoted where Hydra would otherwise
// read it differently).
std::string hydra_override(const LaunchSpec::Param& param);

// The template shipped with mmcfs: config/sbatch_template.sh, built into
// the binary (sbatch_template.cpp) so that mmcfs needs no source tree.
const std::string& default_sbatch_template();

// A launch with a `sweep:` (launch/sweep.h) renders ONE script for the whole
// job array: section SWEEP is on, SBATCH_ARRAY is 0-<runs-1>, and
// SWEEP_SELECT is a bash `case` on $SLURM_ARRAY_TASK_ID whose branch n sets
// mmcfs_args to run n's training_argv (pre-quoted words) and MMCFS_RUN_DIR to
// <job dir>/run-<n>, where run n's markers (started, exit_status) and
// checkout live; its log is <job dir>/slurm-<array id>_<n>.out.
//
// Renders `template_text`: {{NAME}} placeholders (documented at the top of
// config/sbatch_template.sh) are replaced in one pass, and the lines of
// {{#GPUS}} / {{#MULTI_NODE}} sections ({{^NAME}}: inverted) kept or dropped.
// Values for #SBATCH lines must be made of safe characters, and every other
// value becomes one shell-quoted word on one line; errors
// (kInvalidArgument): unknown placeholders or sections (all named), values
// that fail those checks, a commit that is not a full SHA, NUL bytes, a
// sweep with a template lacking {{SWEEP_SELECT}} or {{SBATCH_ARRAY}}.
Result<std::string> render_script(const std::string& template_text, const ScriptInputs& inputs);

// The argv that uploads and submits the script idempotently, as one remote
// command reading the script on stdin (Remote::run_with_input): in the job's
// directory it writes script.sh, and runs `sbatch --parsable` only if no
// slurm_job_id file exists yet, then prints the SLURM job id as sbatch gave
// it ("123" or "123;cluster"). Running it twice never submits twice, and a
// retry that overlaps a slow first attempt waits for it (flock). The job
// directory travels as an argument, never inside the script text.
// A non-zero exit with sbatch's message on stderr means nothing was submitted.
std::vector<std::string> submit_argv(const std::string& workspace, const std::string& job_token);

}  // namespace mmcfs::launch
