// job_shelves.cpp — jobs/ and archive/ and the mv between them (see job_shelves.h).
#include "fs/job_shelves.h"

#include <fmt/format.h>

#include <map>
#include <mutex>

namespace mmcfs::fs {
namespace {

class JobShelf final : public DirNode {
 public:
  // `jobs_dir` set: the jobs/ shelf over it; null: the archive/ shelf.
  JobShelf(std::shared_ptr<DirNode> jobs_dir, JobSource& source, JobController& controller, WallTime mounted_at)
      : jobs_dir_(std::move(jobs_dir)), source_(source), controller_(controller), mounted_at_(mounted_at) {}

  bool is_archive() const { return jobs_dir_ == nullptr; }
  const char* shelf_name() const { return is_archive() ? "archive" : "jobs"; }

  // jobs/ is the jobs tree's directory (its job directories have ctl);
  // archive/ lists the archived jobs. The controller is asked before taking
  // mu_ (which guards only dirs_).
  std::vector<Child> children() const override {
    if (!is_archive()) return jobs_dir_->children();
    std::vector<std::string> archived = controller_.archived_jobs();
    std::vector<Child> out;
    out.reserve(archived.size());
    std::lock_guard lock(mu_);
    std::map<std::string, std::shared_ptr<DirNode>, std::less<>> listed;  // the next dirs_
    for (const auto& id : archived) {
      auto dir = archived_dir_locked(id);
      listed.emplace(id, dir);
      out.emplace_back(id, std::move(dir));
    }
    dirs_ = std::move(listed);  // jobs that left archive/: forget their nodes
    return out;
  }

  Result<std::shared_ptr<Node>> child(std::string_view name) const override {
    if (!is_archive()) return jobs_dir_->child(name);
    auto job = source_.job(std::string(name));
    if (!job || !job->record.archived) return make_error(Errc::kNotFound, "no archived job " + std::string(name));
    std::lock_guard lock(mu_);
    return std::shared_ptr<Node>(archived_dir_locked(job->record.id));
  }

  WallTime mtime() const override { return is_archive() ? mounted_at_ : jobs_dir_->mtime(); }

  Status rename(std::string_view name, DirNode& to, std::string_view new_name) override {
    std::string id(name);
    auto* target = dynamic_cast<JobShelf*>(&to);
    std::string request = fmt::format("mv {}/{} {}", shelf_name(), id,
                                      target ? std::string(target->shelf_name()) + "/" + std::string(new_name)
                                             : std::string(new_name));
    if (!child(name).ok()) return make_error(Errc::kNotFound, fmt::format("no job {} in {}/", id, shelf_name()));
    Error why{Errc::kNotSupported, ""};
    if (target == nullptr) {
      why.message = fmt::format("a job moves only between jobs/ and archive/ (mv {0}/{1} {2}/); "
                                "to copy its files, use cp -r",
                                shelf_name(), id, is_archive() ? "jobs" : "archive");
    } else if (target == this) {
      why.message = fmt::format("job ids cannot be renamed ('{}' stays '{}'); to archive it: mv jobs/{} archive/",
                                id, id, id);
    } else if (new_name != name) {
      why.message = fmt::format("a job keeps its id when it moves: mv {}/{} {}/ (not {}/{})", shelf_name(), id,
                                target->shelf_name(), target->shelf_name(), new_name);
    } else {
      return controller_.set_archived(id, target->is_archive());
    }
    controller_.note_refusal(id, request, why);
    return why;
  }

 private:
  // An archived job's directory (with ctl), made once and kept while the
  // job stays archived (so that a listing or lookup allocates nothing).
  std::shared_ptr<DirNode> archived_dir_locked(const std::string& id) const {
    auto it = dirs_.find(id);
    if (it != dirs_.end()) return it->second;
    auto made = make_job_dir(source_, id, &controller_, mounted_at_);
    dirs_[id] = made;
    return made;
  }

  const std::shared_ptr<DirNode> jobs_dir_;
  JobSource& source_;
  JobController& controller_;
  const WallTime mounted_at_;
  mutable std::mutex mu_;
  mutable std::map<std::string, std::shared_ptr<DirNode>, std::less<>> dirs_;  // GUARDED_BY(mu_): archive/ only
};

}  // namespace

std::shared_ptr<DirNode> make_jobs_shelf(JobSource& source, JobController& controller, WallTime mounted_at) {
  return std::make_shared<JobShelf>(make_jobs_dir(source, mounted_at, &controller), source, controller, mounted_at);
}

std::shared_ptr<DirNode> make_archive_shelf(JobSource& source, JobController& controller, WallTime mounted_at) {
  return std::make_shared<JobShelf>(nullptr, source, controller, mounted_at);
}

}  // namespace mmcfs::fs
