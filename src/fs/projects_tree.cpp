// projects_tree.cpp — projects/ as directories, links and the drop zone.
#include "fs/projects_tree.h"

#include <fmt/format.h>

#include <filesystem>
#include <optional>
#include <utility>

#include "fs/hydra_tree.h"

#include "project/git_repo.h"
#include "project/project_config.h"

namespace mmcfs::fs {
namespace {

// The project's Hydra config directory (absolute path, and the label
// messages use), if it exists on disk.
std::optional<std::pair<std::string, std::string>> hydra_conf_dir(const backend::ProjectEntry& project) {
  auto config = project::load_project_config(project.path);
  const std::string relative = config.ok() ? config->hydra_config_dir : project::ProjectConfig{}.hydra_config_dir;
  const std::string path = project.path + "/" + relative;
  std::error_code ec;
  if (!std::filesystem::is_directory(path, ec)) return std::nullopt;
  return std::make_pair(path, relative);
}

class ProjectDir final : public DirNode {
 public:
  ProjectDir(ProjectSource& source, backend::ProjectEntry project, WallTime mounted_at)
      : source_(source), project_(std::move(project)), mounted_at_(mounted_at) {}

  std::vector<Child> children() const override {
    std::vector<Child> out;
    auto project = project_;
    ProjectSource& source = source_;
    WallTime at = mounted_at_;
    out.emplace_back("info", std::make_shared<GeneratedFile>([project, at]() -> Result<FileContent> {
      return FileContent{render_project_info(project), at};
    }));
    out.emplace_back("mlops-config.yaml", std::make_shared<GeneratedFile>([project, at]() -> Result<FileContent> {
      auto config = project::load_project_config(project.path);
      if (!config.ok()) return FileContent{"# " + config.error().message + "\n", at};
      return FileContent{project::render_project_config(*config), at};
    }));
    out.emplace_back("launch.yaml", std::make_shared<GeneratedFile>([&source, project, at]() -> Result<FileContent> {
      return FileContent{source.launch_template(project.name), at};
    }));
    if (auto conf_dir = hydra_conf_dir(project)) {
      out.emplace_back("hydra", make_hydra_dir(conf_dir->first, conf_dir->second,
                                               [&source, project](const std::string& config) {
                                                 return source.launch_template(project.name, config);
                                               },
                                               at));
    }
    if (auto zone = source_.drop_zone(project_.name); zone.ok()) out.emplace_back("new", *zone);
    // jobs/ lists the project's jobs as they are at each call: the kernel
    // may keep this directory's inode for long (readdirplus hands it out
    // with the listing), so it must not be a snapshot taken now. A link's
    // target never changes: long lifetime (the mount drops the name when
    // the job moves to archive/).
    std::string name = project_.name;
    auto link = [](const backend::JobRecord& j) {
      return std::make_shared<StaticSymlink>("../../../jobs/" + j.id, j.submitted_at, kStaticAttrTtl);
    };
    out.emplace_back(
        "jobs", std::make_shared<GeneratedDir>(
                    [&source, name, link] {
                      std::vector<Child> links;
                      for (const auto& job : source.project_jobs(name)) links.emplace_back(job->record.id, link(job->record));
                      return links;
                    },
                    [&source, name, link](std::string_view id) -> Result<std::shared_ptr<Node>> {
                      for (const auto& job : source.project_jobs(name)) {
                        if (job->record.id == id) return std::shared_ptr<Node>(link(job->record));
                      }
                      return make_error(Errc::kNotFound, "no job " + std::string(id) + " in project " + name);
                    },
                    [at] { return at; }));
    auto jobs = source_.project_jobs(project_.name);
    if (!jobs.empty()) {
      const auto& last = jobs.back()->record;
      out.emplace_back("last", std::make_shared<StaticSymlink>("../../jobs/" + last.id, last.submitted_at));
    }
    return out;
  }
  WallTime mtime() const override { return mounted_at_; }

 private:
  ProjectSource& source_;
  backend::ProjectEntry project_;
  WallTime mounted_at_;
};

class ProjectsDir final : public DirNode {
 public:
  ProjectsDir(ProjectSource& source, WallTime mounted_at) : source_(source), mounted_at_(mounted_at) {}
  std::vector<Child> children() const override {
    std::vector<Child> out;
    for (auto& p : source_.projects()) {
      std::string name = p.name;
      out.emplace_back(name, std::make_shared<ProjectDir>(source_, std::move(p), mounted_at_));
    }
    return out;
  }
  WallTime mtime() const override { return mounted_at_; }
  std::uint32_t mode() const override { return 0755; }

  Status make_symlink(std::string_view name, std::string_view target) override {
    return source_.add_project(std::string(name), std::string(target));
  }
  Status remove_directory(std::string_view name) override { return source_.remove_project(std::string(name)); }
  Status make_directory(std::string_view) override {
    return make_error(Errc::kPermissionDenied,
                      "to add a project, link its repository: ln -s /path/to/repo projects/NAME");
  }

 private:
  ProjectSource& source_;
  WallTime mounted_at_;
};

}  // namespace

std::string render_project_info(const backend::ProjectEntry& project) {
  auto repo = project::inspect_repo(project.path);
  if (!repo.ok()) return fmt::format("path: {}\nerror: {}\n", project.path, repo.error().message);
  return fmt::format(
      "path: {}\nremote: {}\nremote_url: {}\nbranch: {}\nhead: {}\ndirty: {}\nsource: {}\n", repo->path,
      repo->remote_name.empty() ? "(none)" : repo->remote_name, repo->remote_url.empty() ? "(none)" : repo->remote_url,
      repo->branch.empty() ? "(detached)" : repo->branch, repo->head_commit.empty() ? "(no commits)" : repo->head_commit,
      repo->dirty ? "yes" : "no", project.from_config ? "clusters.yaml" : "added with ln -s");
}

std::shared_ptr<DirNode> make_projects_dir(ProjectSource& source, WallTime mounted_at) {
  return std::make_shared<ProjectsDir>(source, mounted_at);
}

}  // namespace mmcfs::fs
