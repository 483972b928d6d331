// project_store.h — which projects the mount shows.
//
// Projects come from two places: the `projects:` list of clusters.yaml
// (fixed while mounted) and projects added from the shell with
// `ln -s /path/to/repo MOUNT/projects/NAME`, kept in the state database.
// `rmdir MOUNT/projects/NAME` forgets an added project: never the repository
// and never its jobs.
//
// Thread rules: safe from any thread; mu_ guards the list.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "backend/state_store.h"
#include "common/clock.h"
#include "common/result.h"

namespace mmcfs::backend {

struct ProjectEntry {
  std::string name;
  std::string path;         // absolute path of the repository's work tree
  bool from_config = false; // defined in clusters.yaml (cannot be removed from the shell)
};

class ProjectStore {
 public:
  static Result<std::unique_ptr<ProjectStore>> open(StateStore& db, const Clock& clock,
                                                     std::vector<ProjectEntry> from_config);

  std::vector<ProjectEntry> list() const;  // sorted by name
  std::optional<ProjectEntry> get(const std::string& name) const;
  // Errors: kExists (name taken), kInvalidArgument (bad name).
  Status add(const std::string& name, const std::string& path);
  // Errors: kNotFound, kPermissionDenied (defined in clusters.yaml).
  Status remove(const std::string& name);

  // Project names: [A-Za-z0-9][A-Za-z0-9_.-]*, at most 64 characters.
  static bool valid_name(const std::string& name);

 private:
  ProjectStore(StateStore& db, const Clock& clock) : db_(db), clock_(clock) {}

  StateStore& db_;
  const Clock& clock_;
  mutable std::mutex mu_;
  std::vector<ProjectEntry> projects_;  // GUARDED_BY(mu_)
};

}  // namespace mmcfs::backend
