// project_model.h — plain values describing an ML project: its git state and
// its .mlops-config.yaml.
//
// Thread rules: plain values.
#pragma once

#include <string>
#include <vector>

namespace mmcfs::project {

// What libgit2 says about a local repository right now (see git_repo.h).
struct RepoInfo {
  std::string path;          // absolute path of the work tree
  std::string remote_name;   // "origin" if present, else the first remote; "" if none
  std::string remote_url;    // that remote's URL; "" if none
  std::string branch;        // current branch short name; "" when HEAD is detached
  std::string head_commit;   // full 40-hex SHA of HEAD; "" in an empty repository
  bool dirty = false;        // tracked files modified/staged, or untracked files present
};

// A project's .mlops-config.yaml (see project_config.h for defaults).
struct ProjectConfig {
  std::string conda_env;               // "" = do not activate a conda env
  std::string train_script = "train.py";  // relative to the repository root
  std::string python = "python3";      // interpreter used to run train_script
  std::vector<std::string> env_setup;  // shell lines run before training (module load ...)
  std::string hydra_config_dir = "conf";  // Hydra config directory, relative to the root
  bool from_file = false;              // false: the file is missing, defaults apply
};

}  // namespace mmcfs::project
