// job_shelves.cpp — jobs/ and archive/ and the mv between them (see job_shelves.h).
#include "fs/job_shelves.h"

#include <fmt/format.h>

#include <map>
#include <mutex>

namespace mmcfs::fs {
namespace {

// A job's directory with ctl added; ctl is made once, with it.
class JobDirWithCtl final : public DirNode {
 public:
  JobDirWithCtl(std::shared_ptr<DirNode> inner, JobController& controller, const std::string& id, WallTime mounted_at)
      : inner_(std::move(inner)), ctl_(make_job_ctl_file(controller, id, mounted_at)) {}
  std::vector<Child> children() const override {
    auto out = inner_->children();
    out.emplace_back("ctl", ctl_);
    return out;
  }
  Result<std::shared_ptr<Node>> child(std::string_view name) const override {
    if (name == "ctl") return ctl_;
    return inner_->child(name);
  }
  WallTime mtime() const override { return inner_->mtime(); }
  std::chrono::milliseconds attr_ttl() const override { return inner_->attr_ttl(); }
  // The listing (the inner one plus ctl) is as stable as the inner one; ctl
  // itself never is (its bytes change with every request).
  bool stable() const override { return inner_->stable(); }
  const DirNode* inner() const { return inner_.get(); }

 private:
  const std::shared_ptr<DirNode> inner_;
  const std::shared_ptr<Node> ctl_;
};

class JobShelf final : public DirNode {
 public:
  // `jobs_dir` set: the jobs/ shelf over it; null: the archive/ shelf.
  JobShelf(std::shared_ptr<DirNode> jobs_dir, JobSource& source, JobController& controller, WallTime mounted_at)
      : jobs_dir_(std::move(jobs_dir)), source_(source), controller_(controller), mounted_at_(mounted_at) {}

  bool is_archive() const { return jobs_dir_ == nullptr; }
  const char* shelf_name() const { return is_archive() ? "archive" : "jobs"; }

  // The listings are asked for before taking mu_ (which guards only dirs_).
  std::vector<Child> children() const override {
    std::vector<Child> inner;
    std::vector<std::string> archived;
    if (is_archive()) {
      archived = controller_.archived_jobs();
    } else {
      inner = jobs_dir_->children();
    }
    std::vector<Child> out;
    std::lock_guard lock(mu_);
    std::map<std::string, std::shared_ptr<JobDirWithCtl>, std::less<>> listed;  // the next dirs_
    if (is_archive()) {
      for (const auto& id : archived) {
        auto dir = wrap_locked(id, nullptr);
        listed.emplace(id, dir);
        out.emplace_back(id, std::move(dir));
      }
    } else {
      for (auto& [name, node] : inner) {
        auto dir = std::dynamic_pointer_cast<DirNode>(node);
        if (!dir) {
          out.emplace_back(name, std::move(node));
          continue;
        }
        auto wrapped = wrap_locked(name, std::move(dir));
        listed.emplace(name, wrapped);
        out.emplace_back(name, std::move(wrapped));
      }
    }
    dirs_ = std::move(listed);  // jobs that left this shelf: forget their nodes
    return out;
  }

  Result<std::shared_ptr<Node>> child(std::string_view name) const override {
    if (!is_archive()) {
      auto node = jobs_dir_->child(name);
      if (!node.ok()) return node.error();
      auto dir = std::dynamic_pointer_cast<DirNode>(*node);
      if (!dir) return *node;
      std::lock_guard lock(mu_);
      return std::shared_ptr<Node>(wrap_locked(std::string(name), std::move(dir)));
    }
    auto job = source_.job(std::string(name));
    if (!job || !job->record.archived) return make_error(Errc::kNotFound, "no archived job " + std::string(name));
    std::lock_guard lock(mu_);
    return std::shared_ptr<Node>(wrap_locked(job->record.id, nullptr));
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
  // The job's directory with ctl, made once and kept (so that a lookup or
  // listing allocates nothing, and the kernel-facing nodes stay the same).
  // jobs/: over `inner`, the jobs tree's directory (it keeps one per job);
  // kept while the jobs tree hands out that same node. archive/ (`inner`
  // null): over a job directory made here, kept while the job stays archived.
  std::shared_ptr<JobDirWithCtl> wrap_locked(const std::string& id, std::shared_ptr<DirNode> inner) const {
    auto it = dirs_.find(id);
    if (it != dirs_.end() && (inner == nullptr || it->second->inner() == inner.get())) return it->second;
    if (inner == nullptr) inner = make_job_dir(source_, id);
    auto made = std::make_shared<JobDirWithCtl>(std::move(inner), controller_, id, mounted_at_);
    dirs_[id] = made;
    return made;
  }

  const std::shared_ptr<DirNode> jobs_dir_;
  JobSource& source_;
  JobController& controller_;
  const WallTime mounted_at_;
  mutable std::mutex mu_;
  mutable std::map<std::string, std::shared_ptr<JobDirWithCtl>, std::less<>> dirs_;  // GUARDED_BY(mu_), by id
};

}  // namespace

std::shared_ptr<DirNode> make_jobs_shelf(std::shared_ptr<DirNode> jobs_dir, JobSource& source,
                                         JobController& controller, WallTime mounted_at) {
  return std::make_shared<JobShelf>(std::move(jobs_dir), source, controller, mounted_at);
}

std::shared_ptr<DirNode> make_archive_shelf(JobSource& source, JobController& controller, WallTime mounted_at) {
  return std::make_shared<JobShelf>(nullptr, source, controller, mounted_at);
}

}  // namespace mmcfs::fs
