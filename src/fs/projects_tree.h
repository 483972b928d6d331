// projects_tree.h — projects/ and each project's files:
//
//   projects/<p>/info               path, remote URL, branch, HEAD, dirty (fresh from libgit2)
//   projects/<p>/mlops-config.yaml  the project's .mlops-config.yaml (or the defaults)
//   projects/<p>/launch.yaml        a ready-to-edit template with the last-used values
//   projects/<p>/hydra/             the Hydra config directory as files (hydra_tree.h),
//                                   present when the project has one
//   projects/<p>/new/               the drop zone (drop_zone.h)
//   projects/<p>/jobs/<id>          links to ../../../jobs/<id>
//   projects/<p>/last               link to the project's newest job
//
// `ln -s /path/to/repo projects/NAME` adds a project (kept across restarts);
// `rmdir projects/NAME` forgets it (never the repository, never its jobs).
//
// Thread rules: nodes are safe from any FUSE thread if the source is.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "backend/job_store.h"
#include "backend/project_store.h"
#include "fs/drop_zone.h"
#include "fs/node.h"

namespace mmcfs::fs {

class ProjectSource {
 public:
  virtual ~ProjectSource() = default;
  virtual std::vector<backend::ProjectEntry> projects() const = 0;
  // `target` is what `ln -s TARGET` was given: a repository path.
  virtual Status add_project(const std::string& name, const std::string& target) = 0;
  virtual Status remove_project(const std::string& name) = 0;
  virtual std::string launch_template(const std::string& project) const = 0;
  // projects/<p>/hydra/<config>/launch.yaml: the template remembered for that config.
  virtual std::string launch_template(const std::string& project, const std::string& config_name) const = 0;
  // The project's jobs (summaries), not archived, in id order.
  virtual std::vector<backend::JobSummaryRef> project_jobs(const std::string& project) const = 0;
  // The project's drop zone (one node per project, kept).
  virtual Result<std::shared_ptr<DropZoneDir>> drop_zone(const std::string& project) = 0;
};

std::shared_ptr<DirNode> make_projects_dir(ProjectSource& source, WallTime mounted_at);

// projects/<p>/info
std::string render_project_info(const backend::ProjectEntry& project);

}  // namespace mmcfs::fs
