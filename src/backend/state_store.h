// state_store.h — mmcfs's persistent state in SQLite.
//
// One database file, `<state dir>/state.db`, in WAL mode. The schema carries
// a version (PRAGMA user_version) and is brought up to date by an ordered list
// of migrations at open; a database written by a newer mmcfs is refused
// rather than misread. For now it keeps each cluster's last fetched inventory
// so that a restarted mount answers at once from what it knew, the jobs, the
// projects added from the shell and each project's last launch.
//
// Thread rules: safe from any thread (one connection, serialised by mu_).
// Called from background threads only; filesystem threads never wait on disk
// writes here.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "backend/cluster_snapshot.h"
#include "common/result.h"

struct sqlite3;

namespace mmcfs::backend {

class StateStore {
 public:
  // Creates the directory (mode 0700) and database if needed and migrates.
  static Result<std::unique_ptr<StateStore>> open(const std::string& dir);
  ~StateStore();
  StateStore(const StateStore&) = delete;
  StateStore& operator=(const StateStore&) = delete;

  static int latest_schema_version();
  int schema_version() const;

  // Runs f(sqlite3*) holding the connection's lock: for the other stores
  // that keep their tables in this database (job_store.h, project_store.h).
  template <typename F>
  auto with_db(F&& f) const {
    std::lock_guard lock(mu_);
    return f(db_);
  }

  Status save_inventory(const std::string& cluster, const RawInventory& raw);
  Result<std::optional<RawInventory>> load_inventory(const std::string& cluster) const;

 private:
  explicit StateStore(sqlite3* db) : db_(db) {}
  Status migrate();

  mutable std::mutex mu_;
  sqlite3* db_;  // GUARDED_BY(mu_)
};

// "~/.local/state/mmcfs" (XDG_STATE_HOME respected).
std::string default_state_dir();

}  // namespace mmcfs::backend
