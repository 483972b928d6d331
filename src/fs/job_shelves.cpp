// job_shelves.cpp — jobs/ and archive/ and the mv between them (see job_shelves.h).
#include "fs/job_shelves.h"

#include <fmt/format.h>

namespace mmcfs::fs {
namespace {

// A job's directory with ctl added.
class JobDirWithCtl final : public DirNode {
 public:
  JobDirWithCtl(std::shared_ptr<DirNode> inner, JobController& controller, std::string id, WallTime mounted_at)
      : inner_(std::move(inner)), controller_(controller), id_(std::move(id)), mounted_at_(mounted_at) {}
  std::vector<Child> children() const override {
    auto out = inner_->children();
    out.emplace_back("ctl", make_job_ctl_file(controller_, id_, mounted_at_));
    return out;
  }
  Result<std::shared_ptr<Node>> child(std::string_view name) const override {
    if (name == "ctl") return std::shared_ptr<Node>(make_job_ctl_file(controller_, id_, mounted_at_));
    return inner_->child(name);
  }
  WallTime mtime() const override { return inner_->mtime(); }
  std::chrono::milliseconds attr_ttl() const override { return inner_->attr_ttl(); }

 private:
  const std::shared_ptr<DirNode> inner_;
  JobController& controller_;
  const std::string id_;
  const WallTime mounted_at_;
};

class JobShelf final : public DirNode {
 public:
  // `jobs_dir` set: the jobs/ shelf over it; null: the archive/ shelf.
  JobShelf(std::shared_ptr<DirNode> jobs_dir, JobSource& source, JobController& controller, WallTime mounted_at)
      : jobs_dir_(std::move(jobs_dir)), source_(source), controller_(controller), mounted_at_(mounted_at) {}

  bool is_archive() const { return jobs_dir_ == nullptr; }
  const char* shelf_name() const { return is_archive() ? "archive" : "jobs"; }

  std::vector<Child> children() const override {
    std::vector<Child> out;
    if (!is_archive()) {
      for (auto& [name, node] : jobs_dir_->children()) out.emplace_back(name, with_ctl(name, node));
      return out;
    }
    for (const auto& id : controller_.archived_jobs()) {
      out.emplace_back(id, with_ctl(id, make_job_dir(source_, id)));
    }
    return out;
  }

  Result<std::shared_ptr<Node>> child(std::string_view name) const override {
    if (!is_archive()) {
      auto node = jobs_dir_->child(name);
      if (!node.ok()) return node.error();
      return with_ctl(std::string(name), *node);
    }
    auto job = source_.job(std::string(name));
    if (!job || !job->archived) return make_error(Errc::kNotFound, "no archived job " + std::string(name));
    return with_ctl(job->id, make_job_dir(source_, job->id));
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
  std::shared_ptr<Node> with_ctl(const std::string& id, std::shared_ptr<Node> node) const {
    auto dir = std::dynamic_pointer_cast<DirNode>(node);
    if (!dir) return node;
    return std::make_shared<JobDirWithCtl>(std::move(dir), controller_, id, mounted_at_);
  }

  const std::shared_ptr<DirNode> jobs_dir_;
  JobSource& source_;
  JobController& controller_;
  const WallTime mounted_at_;
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
