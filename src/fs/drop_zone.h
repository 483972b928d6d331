// drop_zone.h — projects/<p>/new/: a scratch directory where a complete
// launch file becomes a job.
//
// It behaves like a directory on disk (it IS one: a per-project directory
// under the state dir, so nothing written is lost if mmcfs stops): editors may
// create swap files, backups, probe files and temporaries and rename them.
// Only a launch name (*.yaml or *.yml, not hidden, not an editor backup or
// autosave) triggers a launch, when it is
//   - closed or fsync'ed after being written (the close()/fsync() returns
//     the launch's outcome: EINVAL for an invalid spec, EHOSTUNREACH/EIO/
//     ETIMEDOUT for the cluster), or
//   - renamed into place (the rename() returns the outcome).
// On failure the file stays exactly as written and `<name>.error` beside it
// explains everything; saving again retries. On success the file leaves new/
// (the job keeps it as jobs/<id>/launch.yaml) and `<name>.submitted` says
// which job it became.
//
// Thread rules: safe from any FUSE thread. mu_ guards the set of launches in
// progress only; no lock is held while a launch runs.
#pragma once

#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "fs/node.h"

namespace mmcfs::fs {

// What the drop zone calls to launch a file (app::LaunchService in production).
class LaunchTrigger {
 public:
  struct Outcome {
    std::string job_id;    // the job the file became
    std::string receipt;   // text for <name>.submitted
    bool in_doubt = false; // recorded, but the cluster did not confirm (see message)
    std::string message;   // for in_doubt: the full explanation
  };
  virtual ~LaunchTrigger() = default;
  // `file_name` is the name in new/; `text` the file's bytes. Errors carry the
  // complete explanation (for <name>.error) and the errno-bearing code.
  virtual Result<Outcome> launch(const std::string& file_name, const std::string& text) = 0;
};

class DropZoneDir final : public DirNode, public std::enable_shared_from_this<DropZoneDir> {
 public:
  // `backing_dir` is created if missing.
  static Result<std::shared_ptr<DropZoneDir>> open(std::string backing_dir, std::shared_ptr<LaunchTrigger> trigger);

  std::vector<Child> children() const override;
  Result<std::shared_ptr<Node>> child(std::string_view name) const override;
  WallTime mtime() const override;
  std::uint32_t mode() const override { return 0755; }
  std::chrono::milliseconds attr_ttl() const override { return std::chrono::milliseconds(200); }

  Result<std::shared_ptr<Node>> create_file(std::string_view name, std::uint32_t mode) override;
  Status unlink(std::string_view name) override;
  Status make_directory(std::string_view name) override;
  Status rename(std::string_view name, DirNode& to, std::string_view new_name) override;

  // True for names that trigger a launch.
  static bool is_launch_name(std::string_view name);
  // Launches the file now (used on close/fsync/rename).
  Status launch_file(const std::string& name);

  const std::string& backing_dir() const { return dir_; }

 private:
  DropZoneDir(std::string dir, std::shared_ptr<LaunchTrigger> trigger)
      : dir_(std::move(dir)), trigger_(std::move(trigger)) {}
  std::string path(std::string_view name) const { return dir_ + "/" + std::string(name); }
  Result<std::shared_ptr<Node>> file_node(std::string_view name) const;

  const std::string dir_;
  const std::shared_ptr<LaunchTrigger> trigger_;
  std::mutex mu_;
  std::set<std::string> launching_;  // GUARDED_BY(mu_)
};

}  // namespace mmcfs::fs
