// project_config.h — a project's .mlops-config.yaml: loaded and validated,
// and rendered back with its effective values (projects/<p>/mlops-config.yaml
// in the mount).
//
// Keys, all optional (config/mlops-config.yaml.example documents them):
//   conda_env         string; conda environment activated before training;
//                     "" = none. A name or an absolute prefix path.
//   train_script      string, default train.py; relative to the repository's
//                     top, inside it (no "..", not absolute).
//   python            string, default python3; an interpreter name looked up on
//                     the cluster's PATH, or an absolute path.
//   env_setup         list of strings; shell lines run, as written, before
//                     training (`module load cuda/12.1`). They are the
//                     project's own code, like train_script: mmcfs does not
//                     quote or check them beyond one command per item.
//   hydra_config_dir  string, default conf; relative, inside the repository.
// A missing file is not an error: the defaults apply (from_file = false).
// Every problem in the file is reported at once, one per line, as
// "path:line:column: what — how to fix"; unknown keys get "did you mean".
// Whether train_script exists is not checked here: the cluster runs the
// pushed commit, not the local work tree.
//
// Thread rules: pure functions over their arguments (load reads one file);
// safe from any thread. yaml-cpp exceptions never leave.
#pragma once

#include <string>

#include "common/result.h"
#include "project/project_model.h"

namespace mmcfs::project {

inline constexpr const char* kProjectConfigFileName = ".mlops-config.yaml";

// Reads <repo_path>/.mlops-config.yaml. kInvalidArgument listing every
// problem; kIo if the file exists but cannot be read.
Result<ProjectConfig> load_project_config(const std::string& repo_path);

// The same from text already read; `path` is only used in messages.
Result<ProjectConfig> parse_project_config(const std::string& text, const std::string& path);

// The effective configuration as YAML that load_project_config accepts, with
// a comment header saying whether it came from the file or is all defaults,
// and a comment documenting each key.
std::string render_project_config(const ProjectConfig& config);

}  // namespace mmcfs::project
