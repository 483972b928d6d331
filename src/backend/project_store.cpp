// project_store.cpp — configured and shell-added projects.
#include "backend/project_store.h"

#include <algorithm>

#include "backend/sqlite_util.h"
#include "common/text.h"

namespace mmcfs::backend {

bool ProjectStore::valid_name(const std::string& name) {
  return is_simple_name(name);
}

Result<std::unique_ptr<ProjectStore>> ProjectStore::open(StateStore& db, const Clock& clock,
                                                           std::vector<ProjectEntry> from_config) {
  std::unique_ptr<ProjectStore> store(new ProjectStore(db, clock));
  for (auto& p : from_config) p.from_config = true;
  store->projects_ = std::move(from_config);
  Status loaded = db.with_db([&](sqlite3* conn) -> Status {
    sql::Statement st(conn, "SELECT name, path FROM projects ORDER BY name");
    if (!st.ok()) return st.error("load projects");
    int rc;
    while ((rc = st.step()) == SQLITE_ROW) {
      std::string name = st.text(0);
      bool shadowed = std::any_of(store->projects_.begin(), store->projects_.end(),
                                  [&](const ProjectEntry& p) { return p.name == name; });
      if (!shadowed) store->projects_.push_back(ProjectEntry{name, st.text(1), false});
    }
    return rc == SQLITE_DONE ? Status::Ok() : st.error("load projects");
  });
  if (!loaded.ok()) return loaded.error();
  std::sort(store->projects_.begin(), store->projects_.end(),
            [](const ProjectEntry& a, const ProjectEntry& b) { return a.name < b.name; });
  return store;
}

std::vector<ProjectEntry> ProjectStore::list() const {
  std::lock_guard lock(mu_);
  return projects_;
}

std::optional<ProjectEntry> ProjectStore::get(const std::string& name) const {
  std::lock_guard lock(mu_);
  for (const auto& p : projects_) {
    if (p.name == name) return p;
  }
  return std::nullopt;
}

Status ProjectStore::add(const std::string& name, const std::string& path) {
  if (!valid_name(name)) {
    return make_error(Errc::kInvalidArgument, "'" + name +
                                                  "' is not a valid project name: use letters, digits, '_', '.' and "
                                                  "'-', starting with a letter or digit (at most 64)");
  }
  std::lock_guard lock(mu_);
  for (const auto& p : projects_) {
    if (p.name == name) return make_error(Errc::kExists, "a project named '" + name + "' exists (" + p.path + ")");
  }
  Status saved = db_.with_db([&](sqlite3* conn) -> Status {
    sql::Statement st(conn, "INSERT INTO projects(name, path, added_at_ms) VALUES(?1, ?2, ?3)");
    if (!st.ok()) return st.error("prepare add project");
    st.bind(1, name);
    st.bind(2, path);
    st.bind(3, static_cast<std::int64_t>(
                   std::chrono::duration_cast<std::chrono::milliseconds>(clock_.now().time_since_epoch()).count()));
    if (st.step() != SQLITE_DONE) return st.error("add project " + name);
    return Status::Ok();
  });
  if (!saved.ok()) return saved;
  projects_.push_back(ProjectEntry{name, path, false});
  std::sort(projects_.begin(), projects_.end(),
            [](const ProjectEntry& a, const ProjectEntry& b) { return a.name < b.name; });
  return Status::Ok();
}

Status ProjectStore::remove(const std::string& name) {
  std::lock_guard lock(mu_);
  auto it = std::find_if(projects_.begin(), projects_.end(), [&](const ProjectEntry& p) { return p.name == name; });
  if (it == projects_.end()) return make_error(Errc::kNotFound, "no project '" + name + "'");
  if (it->from_config) {
    return make_error(Errc::kPermissionDenied,
                      "project '" + name + "' is defined in clusters.yaml; remove it there and remount");
  }
  Status deleted = db_.with_db([&](sqlite3* conn) -> Status {
    sql::Statement st(conn, "DELETE FROM projects WHERE name = ?1");
    if (!st.ok()) return st.error("prepare remove project");
    st.bind(1, name);
    if (st.step() != SQLITE_DONE) return st.error("remove project " + name);
    return Status::Ok();
  });
  if (deleted.ok()) projects_.erase(it);
  return deleted;
}

}  // namespace mmcfs::backend
